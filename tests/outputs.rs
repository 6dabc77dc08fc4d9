//! What a run writes: byte-identical for a seed, conserved counts in every example, and
//! files that agree with one another (time series and instances add up to the summary).

use crate::util::{example, Csv, Dir};

const FILES: [&str; 4] = ["summary.csv", "timeseries.csv", "instances.csv", "requests.csv"];

fn run_example(d: &Dir, name: &str, out: &str, extra: &[&str]) {
    let f = example(name);
    let mut args = vec!["run", f.to_str().unwrap(), "--out", out, "--quiet", "--requests"];
    args.extend(extra);
    d.ok(&args);
}

#[test]
fn two_runs_with_one_seed_give_byte_identical_files_and_another_seed_does_not() {
    let d = Dir::new();
    let short = ["--set", "simulation.horizon=3h", "--replications", "2"];
    run_example(&d, "fc-python-api.toml", "a", &short);
    run_example(&d, "fc-python-api.toml", "b", &short);
    for f in FILES {
        assert_eq!(d.read(&format!("a/{f}")), d.read(&format!("b/{f}")), "{f} differs between runs");
    }
    let mut other = short.to_vec();
    other.extend(["--seed", "99"]);
    run_example(&d, "fc-python-api.toml", "c", &other);
    assert_ne!(d.read("a/requests.csv"), d.read("c/requests.csv"));
}

/// arrivals = completed + throttled + failed + timed out in queue + in flight, every row.
fn assert_conserved(csv: &Csv) {
    for r in csv.rows_where("function", "ALL").filter(|r| r[1].parse::<u32>().is_ok()) {
        let n = |c: &str| csv.num(r, c);
        assert_eq!(
            n("requests"),
            n("completed") + n("throttled") + n("failed") + n("queue_timeouts") + n("in_flight"),
            "conservation in {r:?}"
        );
        assert!(n("requests") > 0.0);
    }
}

#[test]
fn every_example_conserves_requests_and_its_files_agree() {
    for name in ["quickstart.toml", "simfaas-readme.toml", "fc-python-api.toml"] {
        let d = Dir::new();
        run_example(&d, name, "o", &["--set", "simulation.horizon=4h"]);
        let summary = Csv::parse(&d.read("o/summary.csv"));
        assert_conserved(&summary);
        let reps: Vec<&Vec<String>> =
            summary.rows_where("function", "ALL").filter(|r| r[1].parse::<u32>().is_ok()).collect();

        // requests.csv: one row per request, outcomes match the counts
        let req = Csv::parse(&d.read("o/requests.csv"));
        let total: f64 = reps.iter().map(|r| summary.num(r, "requests")).sum();
        assert_eq!(req.rows.len() as f64, total, "{name}: requests.csv rows");
        let ok = req.rows_where("outcome", "ok").count() as f64;
        let completed: f64 = reps.iter().map(|r| summary.num(r, "completed")).sum();
        assert_eq!(ok, completed, "{name}: ok rows");
        let cold = req.rows_where("cold", "true").count() as f64;
        let cold_starts: f64 = reps.iter().map(|r| summary.num(r, "cold_starts")).sum();
        assert_eq!(cold, cold_starts, "{name}: cold rows");

        // time series: arrivals add up; GB·s add up (to the rounding of each row)
        let ts = Csv::parse(&d.read("o/timeseries.csv"));
        let arrivals: f64 = ts.rows.iter().map(|r| ts.num(r, "arrivals")).sum();
        assert_eq!(arrivals, total, "{name}: time-series arrivals");
        let gbs_ts: f64 = ts.rows.iter().map(|r| ts.num(r, "gbs_total")).sum();
        let gbs: f64 = reps.iter().map(|r| summary.num(r, "gbs_total")).sum();
        assert!((gbs_ts - gbs).abs() <= 1e-6 * ts.rows.len() as f64 + 1e-6, "{name}: {gbs_ts} vs {gbs}");

        // instances: their GB·s add up to the summary, and their count to instances_created
        let ins = Csv::parse(&d.read("o/instances.csv"));
        let created: f64 = reps.iter().map(|r| summary.num(r, "instances_created")).sum();
        assert_eq!(ins.rows.len() as f64, created, "{name}: one row per instance");
        let gbs_in: f64 = ins.rows.iter().map(|r| ins.num(r, "gbs_total")).sum();
        assert!((gbs_in - gbs).abs() <= 1e-6 * ins.rows.len() as f64 + 1e-6, "{name}: {gbs_in} vs {gbs}");
    }
}

#[test]
fn replications_give_a_mean_and_a_95_percent_interval() {
    let d = Dir::new();
    run_example(&d, "simfaas-readme.toml", "o", &["--set", "simulation.horizon=20000s", "--replications", "4"]);
    let csv = Csv::parse(&d.read("o/summary.csv"));
    let reps: Vec<f64> = csv
        .rows_where("function", "ALL")
        .filter(|r| r[1].parse::<u32>().is_ok())
        .map(|r| csv.num(r, "instances_mean"))
        .collect();
    assert_eq!(reps.len(), 4);
    let mean = reps.iter().sum::<f64>() / 4.0;
    let (m, lo, hi) = stat(&d.read("o/summary_stats.csv"), "ALL", "instances_mean");
    assert!((m - mean).abs() < 1e-4, "{m} vs {mean}"); // rows carry 4 decimals
    assert!(lo < m && m < hi);
    // half-width = t(3) · s / √4
    let s = (reps.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
    assert!(((hi - lo) / 2.0 - 3.182 * s / 2.0).abs() < 1e-4);
}

/// (mean, ci95_lo, ci95_hi) of `metric` for `function` in summary_stats.csv (NaN if empty).
fn stat(text: &str, function: &str, metric: &str) -> (f64, f64, f64) {
    let csv = Csv::parse(text);
    let row = csv
        .rows
        .iter()
        .find(|r| r[csv.col("function")] == function && r[csv.col("metric")] == metric)
        .unwrap_or_else(|| panic!("no {function} {metric}"));
    let f = |c: &str| row[csv.col(c)].parse::<f64>().unwrap_or(f64::NAN);
    (f("mean"), f("ci95_lo"), f("ci95_hi"))
}

/// summary.csv's per-replication rows are all numeric (a CSV reader can type them) and its
/// ALL rows are marked, so a sum over the function rows gives the total once;
/// summary_stats.csv holds the statistics, one row per metric, intervals empty with one
/// replication.
#[test]
fn summary_rows_are_numeric_totals_are_marked_and_statistics_have_their_own_file() {
    let d = Dir::new();
    run_example(&d, "fc-python-api.toml", "o", &["--set", "simulation.horizon=2h", "--replications", "2"]);
    let text = d.read("o/summary.csv");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let head = r.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let (mut fn_requests, mut all_requests) = (0.0, 0.0);
    for rec in r.records() {
        let rec = rec.unwrap();
        assert!(rec[col("replication")].parse::<u32>().is_ok(), "{rec:?}");
        let req: f64 = rec[col("requests")].parse().unwrap();
        assert_eq!(req.fract(), 0.0, "a count is whole: {rec:?}");
        match &rec[col("is_total")] {
            "true" => all_requests += req,
            "false" => fn_requests += req,
            other => panic!("is_total {other}"),
        }
        assert_eq!(&rec[col("meets_goals")], "", "no goals, no verdict");
    }
    assert!(all_requests > 0.0 && fn_requests == all_requests);
    let stats = d.read("o/summary_stats.csv");
    assert!(stats.starts_with("scenario,function,is_total,metric,replications,mean,ci95_lo,ci95_hi,currency\n"));
    let (m, lo, hi) = stat(&stats, "ALL", "requests");
    assert!(lo < m && m < hi && (m - all_requests / 2.0).abs() < 1e-6);
    run_example(&d, "fc-python-api.toml", "one", &["--set", "simulation.horizon=1h", "--replications", "1"]);
    let (m, lo, hi) = stat(&d.read("one/summary_stats.csv"), "ALL", "cost");
    assert!(m > 0.0 && lo.is_nan() && hi.is_nan(), "one replication has no interval");
}

/// The number after `label |` in report.md's headline table (the first one on that row).
fn md_numbers(md: &str, label: &str) -> Vec<f64> {
    let row = md.lines().find(|l| l.starts_with(&format!("| {label} |"))).unwrap_or_else(|| panic!("no row {label}"));
    let cell = row.split('|').nth(2).unwrap();
    cell.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter(|t| !t.is_empty() && t.chars().any(|c| c.is_ascii_digit()))
        .map(|t| t.parse().unwrap())
        .collect()
}

#[test]
fn a_run_writes_a_review_page_whose_numbers_are_the_summary_means_and_charts_that_decode() {
    let d = Dir::new();
    // 10 h: the report worker starts at 7 h, so two images are pulled (the reserved api
    // instances too: no warm start)
    run_example(
        &d,
        "fc-python-api.toml",
        "o",
        &["--set", "simulation.horizon=10h", "--set", "simulation.warm_start=false", "--replications", "2"],
    );
    let md = d.read("o/report.md");
    let stats = d.read("o/summary_stats.csv");
    let v = |c: &str| stat(&stats, "ALL", c).0;
    let near = |a: f64, b: f64, tol: f64, what: &str| assert!((a - b).abs() <= tol, "{what}: report {a}, summary {b}");
    // counts are whole numbers, with their interval (two replications)
    let req = md_numbers(&md, "requests");
    near(req[0], v("requests"), 0.5, "requests");
    assert!(!md.contains(".0 ±") && req.len() == 2, "{req:?}");
    let cold = md_numbers(&md, "cold starts");
    near(cold[0], v("cold_starts"), 0.5, "cold starts");
    near(cold[2], v("cold_start_ratio") * 100.0, 0.00005, "cold %");
    let lat = md_numbers(&md, "latency p50 / p90 / p95 / p99 / p99.9, all");
    near(lat[0], v("latency_p50_ms"), 0.05, "p50");
    near(lat[1], v("latency_p90_ms"), 0.05, "p90");
    near(lat[2], v("latency_p95_ms"), 0.05, "p95");
    near(lat[3], v("latency_p99_ms"), 0.05, "p99");
    let (_, lo, hi) = stat(&stats, "ALL", "latency_p99_ms");
    near(lat[4], (hi - lo) / 2.0, 0.06, "p99 interval");
    near(lat[5], v("latency_p999_ms"), 0.05, "p99.9");
    assert!(md.contains("Traffic:\n\n- `api`:"), "the traffic in a line");
    // the cold start broken into its phases, in seconds per instance start
    let starts = md_numbers(&md, "instance start, mean: image pull / container create / app start-up");
    let created = v("instances_created");
    near(starts[0], v("instance_seconds_pull") / created, 0.005, "pull s per start");
    near(starts[1], v("instance_seconds_create") / created, 0.005, "create s per start");
    near(starts[2], v("instance_seconds_startup") / created, 0.005, "start-up s per start");
    near(starts[3], created, 0.5, "instances created (a mean, shown whole)");
    assert!(starts[0] > 0.0 && starts[2] > 0.0, "two images pulled, every instance starts its app: {starts:?}");
    let cold_lat = md_numbers(&md, "latency p50 / p99, cold");
    near(cold_lat[0], v("cold_latency_p50_ms"), 0.05, "cold p50");
    near(cold_lat[1], v("cold_latency_p99_ms"), 0.05, "cold p99");
    near(md_numbers(&md, "cost over the horizon")[0], v("cost"), 0.00005, "cost");
    near(
        md_numbers(&md, "cost per month (30 days of this usage, billed as a month)")[0],
        v("cost_per_month"),
        0.005,
        "monthly",
    );
    near(
        md_numbers(&md, "share of cost that is image pull")[0],
        v("cost_pull") / v("cost") * 100.0,
        0.005,
        "pull share",
    );
    for png in ["latency_cdf.png", "instances.png", "arrivals.png", "cost_by_phase.png", "pull_vs_size.png"] {
        assert!(md.contains(&format!("]({png})")), "report links {png}");
        let bytes = std::fs::read(d.path().join("o").join(png)).unwrap();
        let (w, h, rgb) = coldcost::report::charts::decode(&bytes).unwrap();
        assert_eq!((w, h), (1200, 700), "{png}");
        let dark = rgb.chunks(3).filter(|p| p.iter().map(|&c| c as u32).sum::<u32>() < 600).count();
        assert!(dark > 5000, "{png} is almost blank ({dark} dark pixels)");
    }
}

/// `[goals]` in the scenario: report.md says each goal met or missed (and by how much) with a
/// next step, the headline prints each, summary.csv has `meets_goals`; a bad goal is exit 2
/// naming its key.
#[test]
fn a_runs_goals_are_reported_met_or_missed() {
    let d = Dir::new();
    let q = example("quickstart.toml");
    let text = std::fs::read_to_string(&q).unwrap() + "\n[goals]\np99 = \"1ms\"\ncold_ratio = 0.5\n";
    let f = d.write("g.toml", &text);
    let out =
        d.ok(&["run", f.to_str().unwrap(), "--set", "simulation.horizon=30m", "--replications", "1", "--out", "o"]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("goal p99 ≤ 1ms: ") && stdout.contains("ms, missed by"), "{stdout}");
    assert!(stdout.contains("goal cold_ratio ≤ 0.5: 0, met"), "{stdout}");
    let md = d.read("o/report.md");
    assert!(md.contains("## Goals") && md.contains("❌ p99 ≤ 1ms") && md.contains("✅ cold_ratio ≤ 0.5"), "{md}");
    assert!(md.contains("1 of 2 goals missed") && md.contains("**Next step:**"), "{md}");
    let s = Csv::parse(&d.read("o/summary.csv"));
    assert!(s.rows.iter().all(|r| r[s.col("meets_goals")] == "false"));
    // the latency chart draws the goal (and p99) as vertical lines on both panels
    let png = std::fs::read(d.path().join("o/latency_cdf.png")).unwrap();
    assert!(crate::util::tallest_column_of(&png, crate::util::goal_color()) > 150, "no goal line in latency_cdf.png");
    // without a latency goal there is no goal line
    d.ok(&[
        "run",
        q.to_str().unwrap(),
        "--set",
        "simulation.horizon=10m",
        "--replications",
        "1",
        "--out",
        "n",
        "--quiet",
    ]);
    let png = std::fs::read(d.path().join("n/latency_cdf.png")).unwrap();
    assert!(crate::util::tallest_column_of(&png, crate::util::goal_color()) < 20);
    let err = d.bad(&["run", f.to_str().unwrap(), "--set", "goals.p95=fast"]);
    assert!(err.contains("goals.p95"), "{err}");
    let err = d.bad(&["run", f.to_str().unwrap(), "--set", "goals.cold_ratio=3"]);
    assert!(err.contains("goals.cold_ratio") && err.contains("between 0 and 1"), "{err}");
    let err = d.bad(&["run", f.to_str().unwrap(), "--set", "goals.p98=1s"]);
    assert!(err.contains("p98") && err.contains("p99"), "{err}");
}

/// Traffic as planners give it, on a clock: a daily curve by peak, trough and peak time, and
/// per-minute counts from monitoring; timeseries.csv's `time` is each bucket's clock time.
#[test]
fn planners_traffic_runs_on_the_scenarios_clock() {
    let d = Dir::new();
    let q = example("quickstart.toml");
    let base = std::fs::read_to_string(&q).unwrap();
    let old = "arrivals = { kind = \"diurnal\", mean = \"20/s\", peak_ratio = 4, period = \"1d\" }";
    assert!(base.contains(old));
    let with = |arrivals: &str| base.replace(old, arrivals);
    let f = d.write(
        "t.toml",
        &with("arrivals = { kind = \"diurnal\", peak = \"30/s\", trough = \"2/s\", peak_at = \"10:00\" }"),
    );
    d.ok(&[
        "run",
        f.to_str().unwrap(),
        "--set",
        "simulation.start=\"2024-03-04T06:00:00+08:00\"",
        "--set",
        "simulation.bucket=1h",
        "--replications",
        "1",
        "--quiet",
        "--out",
        "o",
    ]);
    let ts = Csv::parse(&d.read("o/timeseries.csv"));
    assert_eq!(ts.rows[0][ts.col("time")], "2024-03-04T06:00:00+08:00");
    assert_eq!(ts.rows[4][ts.col("time")], "2024-03-04T10:00:00+08:00");
    let arrivals: Vec<f64> = ts.rows.iter().map(|r| ts.num(r, "arrivals")).collect();
    let top = (0..arrivals.len()).max_by(|&a, &b| arrivals[a].total_cmp(&arrivals[b])).unwrap();
    assert!((3..=5).contains(&top), "the 10:00 bucket (row 4) peaks: {arrivals:?}");
    assert!(arrivals[16] < arrivals[4] / 5.0, "22:00 is near the trough: {arrivals:?}");

    // per-minute counts from a monitoring export, lined up with the start
    d.write(
        "counts.csv",
        "timestamp,count\n2024-03-04T10:00:00Z,600\n2024-03-04T10:01:00Z,0\n2024-03-04T10:02:00Z,1200\n",
    );
    let c = d.write("c.toml", &with("arrivals = { kind = \"counts\", path = \"counts.csv\" }"));
    d.ok(&[
        "run",
        c.to_str().unwrap(),
        "--set",
        "simulation.start=\"2024-03-04T10:00:00Z\"",
        "--set",
        "simulation.bucket=1m",
        "--set",
        "simulation.horizon=5m",
        "--replications",
        "1",
        "--quiet",
        "--out",
        "c",
    ]);
    let ts = Csv::parse(&d.read("c/timeseries.csv"));
    let per_min: Vec<f64> = ts.rows.iter().map(|r| ts.num(r, "arrivals")).collect();
    assert!((per_min[0] - 600.0).abs() < 100.0 && per_min[1] == 0.0, "{per_min:?}");
    assert!((per_min[2] - 1200.0).abs() < 150.0 && per_min[3] == 0.0 && per_min[4] == 0.0, "{per_min:?}");
    let md = d.read("c/report.md");
    assert!(md.contains("the per-1m counts of `counts.csv`"), "{md}");
    let err = d.bad(&["run", f.to_str().unwrap(), "--set", "simulation.start=\"2024-03-04T10:00:00\""]);
    assert!(err.contains("simulation.start") && err.contains("offset"), "{err}");
}
