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
    let row = |label: &str| csv.rows_where("replication", label).find(|r| r[2] == "ALL").unwrap().clone();
    let m = csv.num(&row("mean"), "instances_mean");
    assert!((m - mean).abs() < 1e-4, "{m} vs {mean}"); // rows carry 4 decimals
    let (lo, hi) = (csv.num(&row("ci95_lo"), "instances_mean"), csv.num(&row("ci95_hi"), "instances_mean"));
    assert!(lo < m && m < hi);
    // half-width = t(3) · s / √4
    let s = (reps.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
    assert!(((hi - lo) / 2.0 - 3.182 * s / 2.0).abs() < 1e-4);
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
    let s = Csv::parse(&d.read("o/summary.csv"));
    let mean = s.rows.iter().find(|r| r[1] == "mean" && r[2] == "ALL").unwrap().clone();
    let v = |c: &str| s.num(&mean, c);
    let near = |a: f64, b: f64, tol: f64, what: &str| assert!((a - b).abs() <= tol, "{what}: report {a}, summary {b}");
    near(md_numbers(&md, "requests")[0], v("requests"), 0.05, "requests");
    let cold = md_numbers(&md, "cold starts");
    near(cold[0], v("cold_starts"), 0.05, "cold starts");
    near(cold[1], v("cold_start_ratio") * 100.0, 0.00005, "cold %");
    let lat = md_numbers(&md, "latency p50 / p99 / p99.9, all");
    near(lat[0], v("latency_p50_ms"), 0.05, "p50");
    near(lat[1], v("latency_p99_ms"), 0.05, "p99");
    near(lat[2], v("latency_p999_ms"), 0.05, "p99.9");
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
