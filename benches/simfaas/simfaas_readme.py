#!/usr/bin/env python3
"""Run SimFaaS 0.2.2's README example and print one CSV row per replication.

The model is exactly the README's (see SEMANTICS.md):

    from simfaas.ServerlessSimulator import ServerlessSimulator as Sim

    sim = Sim(arrival_rate=0.9, warm_service_rate=1/1.991, cold_service_rate=1/2.244,
                expiration_threshold=600, max_time=1e6)
    sim.generate_trace(debug_print=False, progress=True)
    sim.print_trace_results()

except that `max_time` is `--horizon`, numpy's global RNG (which SimFaaS draws
from) is seeded with `seed + rep` before each replication, the tqdm progress bar
is off unless `--progress`, and the results are printed as CSV instead of text.

Usage: python3 simfaas_readme.py --horizon 1000000 --seed 1 --reps 3
"""
import argparse
import sys
import time

import numpy as np
from simfaas.ServerlessSimulator import ServerlessSimulator as Sim

COLUMNS = [
    "rep", "seed", "horizon_s", "requests", "cold_start_prob", "rejection_prob",
    "avg_server_count", "avg_running_count", "avg_idle_count", "wall_s",
    "requests_per_s",
]


def run_rep(horizon, seed, rep, progress=False):
    """One replication of the README model; returns a dict keyed by COLUMNS."""
    rep_seed = seed + rep
    np.random.seed(rep_seed)
    # README example, verbatim apart from max_time.
    sim = Sim(arrival_rate=0.9, warm_service_rate=1/1.991, cold_service_rate=1/2.244,
              expiration_threshold=600, max_time=horizon)
    t0 = time.perf_counter()
    sim.generate_trace(debug_print=False, progress=progress)
    wall = time.perf_counter() - t0
    # The same quantities print_trace_results() prints (ServerlessSimulator.py:455-476).
    sim.calculate_time_lengths()
    requests = sim.total_req_count
    return {
        "rep": rep,
        "seed": rep_seed,
        "horizon_s": horizon,
        "requests": requests,
        "cold_start_prob": sim.get_cold_start_prob(),
        "rejection_prob": sim.total_reject_count / requests,
        "avg_server_count": float(sim.get_average_server_count()),
        "avg_running_count": float(sim.get_average_server_running_count()),
        "avg_idle_count": float(sim.get_average_server_idle_count()),
        "wall_s": wall,
        "requests_per_s": requests / wall,
    }


def fmt_num(x):
    """1000000.0 -> '1000000'; 0.5 -> '0.5' (no exponent notation)."""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def format_row(r):
    return ",".join([
        str(r["rep"]), str(r["seed"]), fmt_num(r["horizon_s"]), str(r["requests"]),
        f"{r['cold_start_prob']:.8f}", f"{r['rejection_prob']:.8f}",
        f"{r['avg_server_count']:.6f}", f"{r['avg_running_count']:.6f}",
        f"{r['avg_idle_count']:.6f}", f"{r['wall_s']:.3f}", f"{r['requests_per_s']:.1f}",
    ])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--horizon", type=float, default=1e6, help="simulated seconds (max_time), default 1e6")
    p.add_argument("--seed", type=int, default=1, help="base seed; rep r uses seed+r (default 1)")
    p.add_argument("--reps", type=int, default=1, help="replications (default 1)")
    p.add_argument("--no-header", action="store_true", help="omit the CSV header line")
    p.add_argument("--progress", action="store_true", help="show tqdm progress on stderr, as the README does")
    a = p.parse_args(argv)
    if a.horizon <= 0 or a.reps < 1:
        p.error("--horizon must be > 0 and --reps >= 1")
    if not a.no_header:
        print(",".join(COLUMNS), flush=True)
    for rep in range(a.reps):
        print(format_row(run_rep(a.horizon, a.seed, rep, a.progress)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
