#!/usr/bin/env python3
"""Compare coldcost with SimFaaS 0.2.2 on SimFaaS's README example.

Runs SimFaaS R times (numpy seed = --seed + rep, rep = 0..R-1) and coldcost with
R replications on scenarios/simfaas-readme.toml, then for each metric

    cold-start probability   (SimFaaS get_cold_start_prob  vs coldcost cold_start_ratio)
    average instance count   (SimFaaS get_average_server_count vs coldcost instances_mean)

takes mean and standard error (sample sd / sqrt(n)) over the replications of
each side and calls them in agreement if |mean_a - mean_b| <= 3*sqrt(se_a^2 + se_b^2).

Exit status: 0 all metrics agree (or --simfaas-only), 1 some metric disagrees,
2 a run failed or its output was unusable.

coldcost is invoked from the repo root as
    COLDCOST_BIN run scenarios/simfaas-readme.toml --replications R \
        --set simulation.horizon=<H>s --out <tmpdir>
and must write <tmpdir>/summary.csv with columns including
replication,function,requests,cold_starts,cold_start_ratio,instances_mean;
rows with replication 1..R and function ALL are used, the mean/ci95_lo/ci95_hi
rows are skipped.
"""
import argparse
import csv
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# (label, SimFaaS column from simfaas_readme.run_rep, coldcost summary.csv column)
METRICS = [
    ("cold-start probability", "cold_start_prob", "cold_start_ratio"),
    ("average instance count", "avg_server_count", "instances_mean"),
]
# Reported for SimFaaS only (coldcost's summary.csv spec has no such columns).
SIMFAAS_EXTRA = [
    ("average running count", "avg_running_count"),
    ("average idle count", "avg_idle_count"),
    ("rejection probability", "rejection_prob"),
]
SKIP_REPLICATION_LABELS = {"mean", "ci95_lo", "ci95_hi"}


class RunError(Exception):
    pass


def mean_se(values):
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    m = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(n) if n > 1 else math.nan
    return m, se


def fmt_horizon(h):
    h = float(h)
    return str(int(h)) if h.is_integer() else repr(h)


# --------------------------------------------------------------------------- SimFaaS

def _simfaas_one(args):
    import simfaas_readme  # local module, imported lazily so --help works without simfaas
    horizon, seed, rep = args
    return simfaas_readme.run_rep(horizon, seed, rep)


def run_simfaas(reps, horizon, seed, jobs, verbose):
    try:
        import simfaas  # noqa: F401
    except ImportError as e:
        raise RunError(f"SimFaaS is not importable ({e}); pip install -r {HERE}/requirements.txt")
    tasks = [(horizon, seed, rep) for rep in range(reps)]
    t0 = time.perf_counter()
    if jobs > 1:
        import multiprocessing as mp
        with mp.Pool(min(jobs, reps)) as pool:
            rows = pool.map(_simfaas_one, tasks)
    else:
        rows = []
        for t in tasks:
            rows.append(_simfaas_one(t))
            if verbose:
                r = rows[-1]
                print(f"  simfaas rep {r['rep']} seed {r['seed']}: cold={r['cold_start_prob']:.6f} "
                      f"servers={r['avg_server_count']:.4f} ({r['wall_s']:.1f} s)", file=sys.stderr)
    if verbose:
        print(f"SimFaaS: {reps} reps in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return rows


# --------------------------------------------------------------------------- coldcost

def resolve_coldcost(cli_path, repo):
    path = cli_path or os.environ.get("COLDCOST_BIN") or "target/release/coldcost"
    if not os.path.isabs(path) and os.sep in path:
        path = os.path.join(repo, path)  # relative paths are relative to the repo root
    elif os.sep not in path:
        found = shutil.which(path)
        path = found or os.path.join(repo, path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RunError(f"coldcost binary not found or not executable: {path} "
                       "(cargo build --release, or pass --coldcost PATH / set COLDCOST_BIN)")
    return path


def parse_summary(path, reps):
    """Per-replication values of the ALL rows of coldcost's summary.csv."""
    if not os.path.isfile(path):
        raise RunError(f"coldcost wrote no {path}")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        needed = ["replication", "function"] + [m[2] for m in METRICS]
        missing = [c for c in needed if c not in header]
        if missing:
            raise RunError(f"{path}: missing column(s) {missing}; header is {header}")
        by_rep = {}
        for raw in reader:
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
            rep_label = row["replication"]
            if rep_label in SKIP_REPLICATION_LABELS:
                continue
            if row["function"] != "ALL":
                continue
            try:
                rep = int(rep_label)
            except ValueError:
                raise RunError(f"{path}: unexpected replication value {rep_label!r}")
            if rep in by_rep:
                raise RunError(f"{path}: two ALL rows for replication {rep}")
            vals = {}
            for _, _, col in METRICS:
                try:
                    vals[col] = float(row[col])
                except ValueError:
                    raise RunError(f"{path}: replication {rep}: {col}={row[col]!r} is not a number")
            by_rep[rep] = vals
    if sorted(by_rep) != list(range(1, reps + 1)):
        raise RunError(f"{path}: expected ALL rows for replications 1..{reps}, got {sorted(by_rep)}")
    return [by_rep[r] for r in range(1, reps + 1)]


def run_coldcost(binary, repo, scenario, reps, horizon, keep_out, verbose):
    out = tempfile.mkdtemp(prefix="coldcost-simfaas-")
    cmd = [binary, "run", scenario, "--replications", str(reps),
           "--set", f"simulation.horizon={fmt_horizon(horizon)}s", "--out", out]
    if verbose:
        print("coldcost: (cd %s && %s)" % (repo, " ".join(cmd)), file=sys.stderr)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=repo, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RunError(f"coldcost exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
                           f"\n--- stderr\n{proc.stderr[-4000:]}")
        rows = parse_summary(os.path.join(out, "summary.csv"), reps)
    finally:
        if keep_out:
            print(f"coldcost output kept in {out}", file=sys.stderr)
        else:
            shutil.rmtree(out, ignore_errors=True)
    if verbose:
        print(f"coldcost: {reps} replications in {wall:.1f} s", file=sys.stderr)
    return rows, wall


# --------------------------------------------------------------------------- report

def fmt_ms(m, se):
    return f"{m:.6g} ± {se:.2g}"


def print_simfaas_table(rows):
    print(f"SimFaaS 0.2.2, {len(rows)} reps, horizon {fmt_horizon(rows[0]['horizon_s'])} s")
    print(f"{'metric':<26} {'mean ± se':>24}")
    for label, col in [(m[0], m[1]) for m in METRICS] + SIMFAAS_EXTRA:
        m, se = mean_se([r[col] for r in rows])
        print(f"{label:<26} {fmt_ms(m, se):>24}")
    rps = statistics.median(r["requests_per_s"] for r in rows)
    print(f"{'requests/s (median)':<26} {rps:>24.0f}")


def compare(sim_rows, cc_rows):
    print(f"{'metric':<24} {'SimFaaS mean ± se':>24} {'coldcost mean ± se':>24} "
          f"{'|diff|':>10} {'3*se':>10}  verdict")
    ok = True
    for label, scol, ccol in METRICS:
        ma, sa = mean_se([r[scol] for r in sim_rows])
        mb, sb = mean_se([r[ccol] for r in cc_rows])
        d = abs(ma - mb)
        tol = 3.0 * math.sqrt(sa * sa + sb * sb)
        agree = d <= tol  # False when anything is NaN
        ok &= agree
        print(f"{label:<24} {fmt_ms(ma, sa):>24} {fmt_ms(mb, sb):>24} "
              f"{d:>10.3g} {tol:>10.3g}  {'agree' if agree else 'DISAGREE'}")
    return ok


def main(argv=None):
    p = argparse.ArgumentParser(description="Compare coldcost with SimFaaS on SimFaaS's README example.")
    p.add_argument("--reps", type=int, default=10, help="replications on each side (default 10)")
    p.add_argument("--horizon", type=float, default=1e6, help="simulated seconds (default 1e6)")
    p.add_argument("--seed", type=int, default=1, help="SimFaaS base seed; rep r uses seed+r (default 1)")
    p.add_argument("--repo", default=os.path.normpath(os.path.join(HERE, "..", "..")),
                   help="coldcost repo root, coldcost runs from here (default: two levels up)")
    p.add_argument("--coldcost", default=None,
                   help="coldcost binary (default $COLDCOST_BIN, else target/release/coldcost)")
    p.add_argument("--scenario", default="scenarios/simfaas-readme.toml",
                   help="scenario path, relative to --repo (default scenarios/simfaas-readme.toml)")
    p.add_argument("--simfaas-only", action="store_true", help="run only SimFaaS and print its figures")
    p.add_argument("--jobs", type=int, default=1, help="SimFaaS reps run in parallel (default 1)")
    p.add_argument("--keep-out", action="store_true", help="keep coldcost's --out directory")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    a = p.parse_args(argv)
    if a.reps < 2:
        p.error("--reps must be >= 2 (the standard error needs two replications)")
    if a.horizon <= 0:
        p.error("--horizon must be > 0")
    verbose = not a.quiet
    repo = os.path.abspath(a.repo)

    try:
        binary = None
        if not a.simfaas_only:
            binary = resolve_coldcost(a.coldcost, repo)  # fail fast, before the slow SimFaaS runs
            if not os.path.isfile(os.path.join(repo, a.scenario)):
                raise RunError(f"scenario not found: {os.path.join(repo, a.scenario)}")
        sim_rows = run_simfaas(a.reps, a.horizon, a.seed, a.jobs, verbose)
        print_simfaas_table(sim_rows)
        if a.simfaas_only:
            return 0
        cc_rows, _ = run_coldcost(binary, repo, a.scenario, a.reps, a.horizon, a.keep_out, verbose)
    except RunError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print()
    print(f"SimFaaS vs coldcost, {a.reps} replications each, horizon {fmt_horizon(a.horizon)} s, "
          "agree if |diff| <= 3*sqrt(se_a^2 + se_b^2)")
    ok = compare(sim_rows, cc_rows)
    print("RESULT:", "agree" if ok else "DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
