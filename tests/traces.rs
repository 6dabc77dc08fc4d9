//! Real traces, as a user replays them. The Azure 2019 sample (3,037,902 invocations of 500
//! functions) is simulated once and checked against the files themselves: every minute's
//! count exactly, each function's mean execution time and busy GB·s within sampling error of
//! its percentile table. Small Azure 2021 and CSV files with answers worked out by hand,
//! out-of-order and bad rows, `trace stats`, and byte-identical reruns go through the binary.

use std::collections::HashMap;
use std::sync::OnceLock;

use coldcost::platform::{simulate, BucketRow, InstanceRow, Outcome, RequestRow, Sink};
use coldcost::scenario::{self, Dist, Scenario};
use coldcost::usage::{Meters, Phase};

use crate::util::{example, repo, Csv, Dir};

/// Per function: executions (n, Σ µs, requests seen); per minute: arrivals.
#[derive(Default)]
struct Counting {
    exec: HashMap<String, (u64, u128)>,
    outcomes: HashMap<&'static str, u64>,
    arrivals_per_bucket: Vec<u64>,
}

impl Sink for Counting {
    fn bucket(&mut self, row: &BucketRow) {
        self.arrivals_per_bucket.push(row.arrivals);
    }
    fn instance(&mut self, _: &InstanceRow<'_>) {}
    fn request(&mut self, r: &RequestRow<'_>) {
        *self.outcomes.entry(r.outcome.name()).or_default() += 1;
        if r.outcome == Outcome::Ok {
            // concurrency 1: a request runs alone on its instance, from start to end
            let e = self.exec.entry(r.function.to_string()).or_default();
            e.0 += 1;
            e.1 += (r.end.unwrap() - r.start.unwrap()) as u128;
        }
    }
    fn wants_requests(&self) -> bool {
        true
    }
}

/// The sample's files, read here independently of the readers under test.
struct Sample {
    /// Per function: its counts per minute.
    counts: HashMap<String, Vec<u64>>,
    /// Per function: (percentile, ms) points.
    table: HashMap<String, Vec<(f64, f64)>>,
}

fn sample() -> Sample {
    let dir = repo().join("data/azure2019-sample500");
    let inv = Csv::parse(&std::fs::read_to_string(dir.join("invocations.csv")).unwrap());
    let counts = inv.rows.iter().map(|r| (r[2].clone(), r[4..].iter().map(|c| c.parse().unwrap()).collect())).collect();
    let dur = Csv::parse(&std::fs::read_to_string(dir.join("durations.csv")).unwrap());
    let pct = [0.0, 1.0, 25.0, 50.0, 75.0, 99.0, 100.0];
    let table = dur
        .rows
        .iter()
        .map(|r| {
            let pts = pct.iter().map(|&p| (p, dur.num(r, &format!("percentile_Average_{p}")))).collect();
            (r[dur.col("HashFunction")].clone(), pts)
        })
        .collect();
    Sample { counts, table }
}

/// Mean and standard deviation (µs) of the piecewise-linear inverse CDF through `points`
/// (percentile, ms): within a segment X is linear in the uniform draw, so
/// E[X] = Σ w (a + b) / 2 and E[X²] = Σ w (a² + ab + b²) / 3.
fn moments(points: &[(f64, f64)]) -> (f64, f64) {
    let (mut m1, mut m2) = (0.0, 0.0);
    for w in points.windows(2) {
        let (p, a, b) = ((w[1].0 - w[0].0) / 100.0, w[0].1 * 1e3, w[1].1 * 1e3);
        m1 += p * (a + b) / 2.0;
        m2 += p * (a * a + a * b + b * b) / 3.0;
    }
    (m1, (m2 - m1 * m1).max(0.0).sqrt())
}

struct Run {
    sc: Scenario,
    sink: Counting,
    stats: Vec<(String, coldcost::platform::FnStats)>,
}

/// The sample scenario simulated once: 15 minutes past the trace so every request finishes,
/// and a ready timeout long enough for the multi-GB images some functions draw (with FC's
/// 120 s a few hundred requests fail with FunctionNotStarted and never execute).
fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let set = ["simulation.horizon=495m".into(), "platform.ready_timeout=1h".into()];
        let sc = scenario::load(&example("azure2019-sample.toml"), &set).unwrap();
        let mut sink = Counting::default();
        let r = simulate(&sc, 0, &mut sink, &Meters::default(), |_| {}).unwrap();
        Run { sc, sink, stats: r.functions }
    })
}

#[test]
fn the_azure_2019_sample_simulates_every_minutes_count_exactly() {
    let s = sample();
    let r = run();
    let total: u64 = s.counts.values().flatten().sum();
    assert_eq!(total, 3_037_902);
    assert_eq!(r.stats.iter().map(|(_, st)| st.requests).sum::<u64>(), total);
    for (name, st) in &r.stats {
        assert_eq!(st.requests, s.counts[name].iter().sum::<u64>(), "{name}");
    }
    // bucket k is trace minute 480 + k
    for m in 0..480 {
        let want: u64 = s.counts.values().map(|c| c[m]).sum();
        assert_eq!(r.sink.arrivals_per_bucket[m], want, "minute {}", 480 + m);
    }
    assert!(r.sink.arrivals_per_bucket[480..].iter().all(|&a| a == 0));
    assert_eq!(r.sink.outcomes.get("ok").copied(), Some(total), "{:?}", r.sink.outcomes);
}

#[test]
fn each_functions_mean_execution_time_is_its_tables_mean_within_sampling_error() {
    let s = sample();
    let r = run();
    let mut worst: f64 = 0.0;
    for (name, &(n, sum)) in &r.sink.exec {
        let (mu, sigma) = moments(&s.table[name]);
        let mean = sum as f64 / n as f64;
        // 5 standard errors of a mean of n draws, plus the ±0.5 µs of rounding draws to µs
        let tol = 5.0 * sigma / (n as f64).sqrt() + 1.0;
        assert!((mean - mu).abs() <= tol, "{name}: {n} executions, mean {mean} µs, table {mu} ± {tol}");
        if sigma > 0.0 {
            worst = worst.max((mean - mu).abs() / (sigma / (n as f64).sqrt()));
        }
        // and the scenario holds the same table
        let f = r.sc.functions.iter().find(|f| &f.name == name).unwrap();
        assert!((f.exec.mean() - mu).abs() < 1e-6 * mu.max(1.0), "{name}");
        assert!(matches!(f.exec, Dist::Empirical { .. }));
    }
    assert_eq!(r.sink.exec.len(), 500);
    eprintln!("largest deviation: {worst:.2} standard errors");
}

#[test]
fn each_functions_busy_gb_s_is_count_times_mean_times_memory_within_sampling_error() {
    let s = sample();
    let r = run();
    for (name, st) in &r.stats {
        let f = r.sc.functions.iter().find(|f| &f.name == name).unwrap();
        let mb = f.memory_mb as f64;
        let busy_mb_us = st.usage().mb_us[Phase::Busy.index()] as f64;
        let (n, sum) = r.sink.exec[name];
        // concurrency 1: busy time is exactly the sum of executions
        assert_eq!(st.usage().mb_us[Phase::Busy.index()], f.memory_mb as u128 * sum, "{name}");
        let (mu, sigma) = moments(&s.table[name]);
        let want = n as f64 * mu * mb;
        let tol = mb * (5.0 * sigma * (n as f64).sqrt() + n as f64);
        assert!((busy_mb_us - want).abs() <= tol, "{name}: busy {busy_mb_us} MB·µs, expected {want} ± {tol}");
    }
}

fn template(extra: &str, arrivals: &str) -> String {
    format!(
        r#"[simulation]
horizon = "60s"

[[image]]
name = "img"
size = "10MB"

[[function]]
name = "tpl"
image = "img"
memory = "256MB"
reserved = 1
max_instances = 2
startup = "1s"
{extra}
[[workload]]
function = "tpl"
arrivals = {arrivals}
"#
    )
}

/// requests.csv as (function, arrival_s, start_s, end_s, outcome), sorted by arrival.
fn requests(d: &Dir, out: &str) -> Vec<(String, String, String, String, String)> {
    let csv = Csv::parse(&d.read(&format!("{out}/requests.csv")));
    let mut rows: Vec<_> = csv
        .rows
        .iter()
        .map(|r| {
            let c = |n: &str| r[csv.col(n)].clone();
            (c("function"), c("arrival_s"), c("start_s"), c("end_s"), c("outcome"))
        })
        .collect();
    rows.sort_by(|a, b| a.1.parse::<f64>().unwrap().total_cmp(&b.1.parse::<f64>().unwrap()));
    rows
}

fn row(f: &str, a: &str, s: &str, e: &str) -> (String, String, String, String, String) {
    (f.into(), a.into(), s.into(), e.into(), "ok".into())
}

#[test]
fn a_csv_trace_replays_each_invocation_at_its_time_for_its_duration() {
    let d = Dir::new();
    // out of order within the default 1-minute window; a's memory from its rows
    d.write("t.csv", "timestamp,function,duration_ms,memory_mb\n10.5,a,100,\n10.25,b,250,\n12,a,1000,300\n");
    d.write("s.toml", &template("", r#"{ kind = "trace", format = "csv", path = "t.csv" }"#));
    let o = d.ok(&["run", "s.toml", "--out", "out", "--requests"]);
    // the reserved instances are ready long before 10 s: every request is warm
    assert_eq!(
        requests(&d, "out"),
        [
            row("b", "10.250000", "10.250000", "10.500000"),
            row("a", "10.500000", "10.500000", "10.600000"),
            row("a", "12.000000", "12.000000", "13.000000"),
        ]
    );
    let sum = Csv::parse(&d.read("out/summary.csv"));
    let busy = |f: &str| sum.num(sum.rows_where("function", f).next().unwrap(), "gbs_busy");
    // a: 300 MB → 320 MB, 1.1 s busy; b: the template's 256 MB, 0.25 s
    assert!((busy("a") - 320.0 / 1024.0 * 1.1).abs() < 1e-9 && (busy("b") - 0.25 / 4.0).abs() < 1e-9);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("csv trace t.csv: 2 of 2 functions, 3 of 3 invocations, no bad rows"), "{out}");
}

#[test]
fn an_azure_2021_trace_arrives_at_its_end_minus_its_duration() {
    let d = Dir::new();
    d.write("t.csv", "app,func,end_timestamp,duration\nA,f,10.5,0.5\nA,g,12,4\nA,f,20,1.25\n");
    d.write("s.toml", &template("", r#"{ kind = "trace", format = "azure2021", path = "t.csv" }"#));
    d.ok(&["run", "s.toml", "--out", "out", "--requests"]);
    assert_eq!(
        requests(&d, "out"),
        [
            row("g", "8.000000", "8.000000", "12.000000"),
            row("f", "10.000000", "10.000000", "10.500000"),
            row("f", "18.750000", "18.750000", "20.000000"),
        ]
    );
}

#[test]
fn bad_rows_stop_the_run_with_their_file_and_line_or_are_skipped_and_counted() {
    let d = Dir::new();
    d.write("t.csv", "timestamp,function,duration_ms\n10,a,100\n11,a,-3\n12,a,oops\n13,b,5\n");
    d.write("s.toml", &template("", r#"{ kind = "trace", format = "csv", path = "t.csv" }"#));
    let err = d.bad(&["run", "s.toml", "--out", "out"]);
    assert!(err.contains("t.csv:3: duration_ms \"-3\" is negative"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!d.path().join("out").exists());
    d.write("s.toml", &template("", r#"{ kind = "trace", format = "csv", path = "t.csv", skip_bad_rows = true }"#));
    let o = d.ok(&["run", "s.toml", "--out", "out", "--quiet"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warning: workload[0]: skipped 2 bad row(s) of t.csv"), "{err}");
    assert!(err.contains("t.csv:3:"), "the first is named: {err}");
    let sum = Csv::parse(&d.read("out/summary.csv"));
    assert_eq!(sum.num(sum.rows_where("function", "ALL").next().unwrap(), "requests"), 2.0);
    let o = d.ok(&["run", "s.toml", "--out", "out2"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 bad rows skipped (skip_bad_rows; first: t.csv:3:"));
}

#[test]
fn a_row_far_out_of_order_is_bad_input_with_its_line() {
    let d = Dir::new();
    d.write("t.csv", "timestamp,function,duration_ms\n100,a,1\n30,a,1\n");
    d.write("s.toml", &template("", r#"{ kind = "trace", format = "csv", path = "t.csv", reorder_window = "1m" }"#));
    let err = d.bad(&["run", "s.toml", "--out", "out"]);
    assert!(err.contains("t.csv:3: arrival at 30s is 70s before an arrival already read (line 2, at 100s)"), "{err}");
    assert!(err.contains("raise reorder_window"), "{err}");
    d.write("s.toml", &template("", r#"{ kind = "trace", format = "csv", path = "t.csv", reorder_window = "2m" }"#));
    d.ok(&["run", "s.toml", "--out", "out", "--quiet"]);
}

#[test]
fn an_unknown_function_in_an_image_map_is_bad_input_with_its_line() {
    let d = Dir::new();
    d.write("t.csv", "timestamp,function,duration_ms\n10,a,1\n");
    d.write("map.csv", "function,image\na,img\nb,img\n");
    d.write("s.toml", &template("", r#"{ kind = "trace", format = "csv", path = "t.csv", image_map = "map.csv" }"#));
    let err = d.bad(&["run", "s.toml", "--out", "out"]);
    assert!(err.contains("map.csv:3: unknown function \"b\""), "{err}");
}

#[test]
fn a_trace_scenario_run_twice_writes_the_same_bytes() {
    let d = Dir::new();
    let sc = std::fs::read_to_string(example("azure2019-sample.toml")).unwrap();
    let path = repo().join("data/azure2019-sample500");
    let sc = sc
        .replace("\"../data/azure2019-sample500\"", &format!("{:?}, functions = 60", path.display().to_string()))
        .replace("\"../data/image-sizes/", &format!("\"{}/data/image-sizes/", repo().display()))
        .replace("horizon = \"8h\"", "horizon = \"90m\"");
    d.write("s.toml", &sc);
    d.ok(&["run", "s.toml", "--out", "a", "--quiet", "--requests"]);
    d.ok(&["run", "s.toml", "--out", "b", "--quiet", "--requests"]);
    for f in ["summary.csv", "bill.csv", "timeseries.csv", "instances.csv", "requests.csv"] {
        assert!(d.read(&format!("a/{f}")) == d.read(&format!("b/{f}")), "{f} differs");
    }
    let sum = Csv::parse(&d.read("a/summary.csv"));
    // 60 functions and ALL, one replication
    assert_eq!(sum.rows.len(), 61);
}

#[test]
fn the_example_scenario_runs_from_the_repository_and_prints_the_traces_line() {
    let d = Dir::new();
    let o = d.ok(&["validate", example("azure2019-sample.toml").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("ok "));
}

#[test]
fn trace_stats_gives_the_samples_facts() {
    let d = Dir::new();
    let o =
        d.ok(&["trace", "stats", repo().join("data/azure2019-sample500").to_str().unwrap(), "--format", "azure2019"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "functions              500",
        "3037902 over 8h (480 minutes)",
        "per minute min 3013, mean 6329.0, max 7603, CV 0.10",
        "24.6% of functions (123 of 500)",
        "the top 1% of functions (5) make 83.6% of invocations, the top 10% (50) 98.4%",
        "p25 8, p50 48, p75 178, p90 958, p99 59242, max 1915521",
        "per function, mean: p25 99.8, p50 567.0",
        "p50 57.5",
        "bad rows               none",
    ] {
        assert!(out.contains(want), "lacks {want:?}:\n{out}");
    }
    let f = repo().join("data/azure2021-sample200/Azure2021_200.csv");
    let o = d.ok(&["trace", "stats", f.to_str().unwrap(), "--format", "azure2021"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("functions              31") && out.contains("199 over 21m"), "{out}");
}

#[test]
fn trace_stats_refuses_bad_rows_and_bad_formats_with_exit_2() {
    let d = Dir::new();
    d.write("t.csv", "timestamp,function,duration_ms\n1,a,1\n2,a,x\n");
    let err = d.bad(&["trace", "stats", "t.csv", "--format", "csv"]);
    assert!(err.contains("t.csv:3: duration_ms \"x\" is not a number"), "{err}");
    let o = d.ok(&["trace", "stats", "t.csv", "--format", "csv", "--skip-bad-rows"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 skipped (first: t.csv:3:"));
    let err = d.bad(&["trace", "stats", "t.csv", "--format", "azure2020"]);
    assert!(err.contains("azure2019, azure2021, csv"), "{err}");
}
