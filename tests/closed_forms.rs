//! Queueing theory checks: with reserved instances only, Poisson arrivals and exponential
//! service, coldcost is an M/M/c system. Its throttled fraction must match Erlang B (no
//! queue) and its waiting probability and mean wait Erlang C (unbounded queue), within a
//! tolerance computed from the replications (99.9% Student t interval), never hand-widened.

use crate::util::{Csv, Dir};

/// Erlang B: blocking probability of M/M/c/c with offered load `a`.
fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// Erlang C: probability that an arrival waits in M/M/c.
fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    c as f64 * b / (c as f64 - a * (1.0 - b))
}

/// Two-sided 99.9% Student t quantile for 9 degrees of freedom (10 replications).
const T999_DF9: f64 = 4.781;

/// Waits at 80% load are strongly correlated, so the queue test runs 5x longer.
/// c reserved instances and nothing else; service exp(1 s); arrivals Poisson(rate).
fn mmc(c: u32, rate: f64, queue: u32, horizon_s: u64) -> String {
    format!(
        r#"
[simulation]
name = "mmc"
horizon = "{horizon_s}s"
replications = 10
seed = 11
bucket = "1h"

[platform]
container_create = "0s"

[[image]]
name = "q"
layers = [{{ compressed = "1KB", uncompressed = "1KB" }}]

[[function]]
name = "q"
reserved = {c}
max_instances = {c}
queue = {queue}
queue_timeout = "1d"
timeout = "1d"
startup = "0s"
exec = {{ dist = "exp", mean = "1s" }}

[[workload]]
arrivals = {{ kind = "poisson", rate = "{rate}/s" }}
"#
    )
}

/// Per-replication values of `f(row)` from summary.csv (function ALL).
fn per_rep(csv: &Csv, f: impl Fn(&Vec<String>) -> f64) -> Vec<f64> {
    csv.rows_where("function", "ALL").filter(|r| r[csv.col("replication")].parse::<u32>().is_ok()).map(f).collect()
}

fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

fn assert_close(what: &str, xs: &[f64], exact: f64) {
    assert_eq!(xs.len(), 10);
    let (m, se) = mean_se(xs);
    let tol = T999_DF9 * se;
    assert!((m - exact).abs() <= tol, "{what}: simulated {m:.5} ± {tol:.5} (99.9%), exact {exact:.5}");
    // the check has teeth: the interval is narrow against the value tested
    assert!(tol < 0.05 * exact, "{what}: interval {tol} too wide to test {exact}");
}

#[test]
fn throttled_fraction_with_reserved_instances_only_matches_erlang_b() {
    let d = Dir::new();
    let f = d.write("mmc.toml", &mmc(5, 4.0, 0, 20_000));
    d.ok(&["run", f.to_str().unwrap(), "--out", "out", "--quiet"]);
    let csv = Csv::parse(&d.read("out/summary.csv"));
    let frac = per_rep(&csv, |r| csv.num(r, "throttled") / csv.num(r, "requests"));
    assert_close("throttled fraction", &frac, erlang_b(5, 4.0));
}

#[test]
fn waiting_probability_and_mean_wait_with_a_queue_match_erlang_c() {
    let d = Dir::new();
    let f = d.write("mmc.toml", &mmc(5, 4.0, 1_000_000, 100_000));
    d.ok(&["run", f.to_str().unwrap(), "--out", "out", "--quiet"]);
    let csv = Csv::parse(&d.read("out/summary.csv"));
    let c = erlang_c(5, 4.0);
    let waited = per_rep(&csv, |r| csv.num(r, "queued") / csv.num(r, "requests"));
    assert_close("waiting probability", &waited, c);
    // mean wait of M/M/c: C / (c·μ − λ), μ = 1/s
    let wait_s = per_rep(&csv, |r| csv.num(r, "wait_mean_ms") / 1000.0);
    assert_close("mean wait (s)", &wait_s, c / (5.0 - 4.0));
    // nobody is throttled or times out with an unbounded queue
    for r in csv.rows_where("function", "ALL") {
        if r[csv.col("replication")].parse::<u32>().is_ok() {
            assert_eq!(csv.num(r, "throttled") + csv.num(r, "queue_timeouts"), 0.0);
        }
    }
}

#[test]
fn the_erlang_formulas_here_are_right() {
    // textbook values: B(5, 4) = 0.1991, C(5, 4) = 0.5541
    assert!((erlang_b(5, 4.0) - 0.199_067).abs() < 1e-6);
    assert!((erlang_c(5, 4.0) - 0.554_113).abs() < 1e-6);
}
