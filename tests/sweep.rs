//! Sweeps as a user runs them: the grid, the goals, the files, bad flags, and shards that
//! merge into exactly what one unsharded run writes.

use crate::util::{example, Csv, Dir};

const SWEEP_FILES: [&str; 9] = [
    "sweep.csv",
    "sweep.md",
    "pareto.png",
    "points.csv",
    "sweep.meta.toml",
    "curve_function_api_reserved_cost.png",
    "curve_function_api_reserved_p99.png",
    "curve_function_api_concurrency_cost.png",
    "curve_function_api_concurrency_p99.png",
];

fn sweep(d: &Dir, out: &str, extra: &[&str]) {
    let q = example("quickstart.toml");
    let mut args = vec![
        "sweep",
        q.to_str().unwrap(),
        "--vary",
        "function.api.reserved=0..2",
        "--vary",
        "function.api.concurrency=1,10",
        "--slo",
        "p99=950ms",
        "--set",
        "simulation.horizon=1h",
        "--replications",
        "2",
        "--out",
        out,
        "--quiet",
    ];
    args.extend(extra);
    d.ok(&args);
}

#[test]
fn a_sweep_runs_the_whole_grid_and_marks_goals_and_the_front() {
    let d = Dir::new();
    sweep(&d, "s", &[]);
    for f in SWEEP_FILES {
        assert!(d.path().join("s").join(f).is_file(), "{f}");
    }
    let csv = Csv::parse(&d.read("s/sweep.csv"));
    assert_eq!(csv.rows.len(), 6, "3 × 2 setups");
    let pairs: Vec<(String, String)> = csv
        .rows
        .iter()
        .map(|r| (r[csv.col("function.api.reserved")].clone(), r[csv.col("function.api.concurrency")].clone()))
        .collect();
    assert_eq!(pairs[0], ("0".into(), "1".into()));
    assert_eq!(pairs[5], ("2".into(), "10".into()));
    // each goal column agrees with the metric; meets_slos is their conjunction
    for r in &csv.rows {
        let p99: f64 = csv.num(r, "latency_p99_ms");
        assert_eq!(r[csv.col("slo_p99")] == "true", p99 <= 950.0);
        assert_eq!(r[csv.col("meets_slos")], r[csv.col("slo_p99")]);
    }
    // the Pareto column matches a brute-force check on the written numbers
    for (i, r) in csv.rows.iter().enumerate() {
        let (c, l) = (csv.num(r, "cost"), csv.num(r, "latency_p99_ms"));
        let dominated = csv.rows.iter().enumerate().any(|(j, o)| {
            let (oc, ol) = (csv.num(o, "cost"), csv.num(o, "latency_p99_ms"));
            j != i && oc <= c && ol <= l && (oc < c || ol < l)
        });
        assert_eq!(r[csv.col("pareto")] == "true", !dominated, "row {i}");
    }
    let md = d.read("s/sweep.md");
    assert!(md.contains("## Recommendation") && md.contains("## What each knob does"), "{md}");
    for png in SWEEP_FILES.iter().filter(|f| f.ends_with(".png")) {
        let (w, h, _) =
            coldcost::report::charts::decode(&std::fs::read(d.path().join("s").join(png)).unwrap()).unwrap();
        assert_eq!((w, h), (1200, 700));
    }
}

#[test]
fn shards_merged_equal_the_unsharded_sweep_byte_for_byte() {
    let d = Dir::new();
    sweep(&d, "whole", &[]);
    sweep(&d, "a", &["--shard", "1/2"]);
    sweep(&d, "b", &["--shard", "2/2"]);
    assert!(!d.path().join("a/sweep.csv").exists(), "a shard writes only its points");
    d.ok(&["sweep-merge", "a", "b", "--out", "merged"]);
    for f in SWEEP_FILES {
        let (x, y) = (
            std::fs::read(d.path().join("whole").join(f)).unwrap(),
            std::fs::read(d.path().join("merged").join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs between the unsharded and the merged sweep");
    }
    // a missing shard is refused
    let err = d.bad(&["sweep-merge", "a", "--out", "half"]);
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn bad_sweep_flags_exit_2_before_anything_runs() {
    let d = Dir::new();
    let q = example("quickstart.toml");
    let q = q.to_str().unwrap();
    for (args, fragment) in [
        (vec!["--vary", "function.api.resrved=0..2"], "did you mean `reserved`"),
        (vec!["--vary", "function.api.reserved=2..0"], "below the start"),
        (vec!["--vary", "function.api.memory=100MB,1GB"], "128MB"),
        (vec!["--vary", "function.api.reserved=0..1", "--slo", "p98=1s"], "unknown goal `p98`"),
        (vec!["--vary", "function.api.reserved=0..1", "--shard", "3/2"], "K/N"),
    ] {
        let mut full = vec!["sweep", q, "--out", "o"];
        full.extend(args);
        let err = d.bad(&full);
        assert!(err.contains(fragment), "{full:?}: {err}");
        assert!(!d.path().join("o").exists());
    }
}

#[test]
fn platforms_compare_on_one_workload() {
    let d = Dir::new();
    let q = example("worked-bill.toml");
    d.ok(&[
        "sweep",
        q.to_str().unwrap(),
        "--vary",
        "platform.pricing=fc3-usd,lambda,cloudrun",
        "--out",
        "p",
        "--quiet",
    ]);
    let csv = Csv::parse(&d.read("p/sweep.csv"));
    let costs: Vec<f64> = csv.rows.iter().map(|r| csv.num(r, "cost")).collect();
    // the bills of tests/billing.rs: fc3-usd 27.8525 CU × 0.000020; lambda; cloud run
    assert!((costs[0] - 0.00055705).abs() < 1e-8, "{costs:?}");
    assert!((costs[1] - 0.0000337334).abs() < 1e-8, "{costs:?}");
    assert!((costs[2] - 0.0000538).abs() < 1e-8, "{costs:?}");
    assert!(
        d.read("p/sweep.md").contains("setup that meets every goal: #2"),
        "lambda (setup 2, numbered from 1) is the cheapest here"
    );
}

/// Without --slo the scenario's [goals] judge the setups; when none meets one, the headline
/// and sweep.md say which goal and how close the best setup came. Setups are numbered from
/// 1, the Pareto table runs from the cheapest, and one replication leaves intervals empty.
#[test]
fn a_sweep_uses_the_scenarios_goals_and_says_which_one_no_setup_meets() {
    let d = Dir::new();
    let q = example("quickstart.toml");
    let out = d.ok(&[
        "sweep",
        q.to_str().unwrap(),
        "--vary",
        "function.api.reserved=1,2",
        "--set",
        "simulation.horizon=30m",
        "--set",
        "goals.p99=1ms",
        "--set",
        "goals.cold_ratio=1",
        "--replications",
        "1",
        "--out",
        "g",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("no setup meets p99 ≤ 1ms; the closest, #"), "{stdout}");
    assert!(!stdout.contains("cold_ratio ≤"), "a goal some setup meets is not listed: {stdout}");
    let md = d.read("g/sweep.md");
    assert!(md.contains("- no setup meets p99 ≤ 1ms; the closest"), "{md}");
    assert!(md.contains("Goals: p99 ≤ 1ms, cold_ratio ≤ 1."), "{md}");
    let csv = Csv::parse(&d.read("g/sweep.csv"));
    let points: Vec<String> = csv.rows.iter().map(|r| r[csv.col("point")].clone()).collect();
    assert_eq!(points, ["1", "2"], "setups numbered from 1");
    for r in &csv.rows {
        assert_eq!((r[csv.col("cost_lo")].as_str(), r[csv.col("cost_hi")].as_str()), ("", ""), "one replication");
        assert_eq!(r[csv.col("meets_slos")], "false");
    }
    // the Pareto table lists its setups cheapest first
    let table = md.split("## Pareto front").nth(1).unwrap();
    let costs: Vec<f64> = table
        .lines()
        .filter(|l| l.starts_with("| #"))
        .map(|l| l.split('|').nth(3).unwrap().split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(!costs.is_empty() && costs.windows(2).all(|w| w[0] <= w[1]), "{costs:?}");
    // the next step names the knob that moves the missed goal most, or that none does
    assert!(
        md.contains("**Next step:** `function.api.reserved` moves p99")
            || md.contains("**Next step:** no varied knob moves p99"),
        "{md}"
    );
    // pareto.png draws the p99 goal as a vertical line
    let png = std::fs::read(d.path().join("g/pareto.png")).unwrap();
    assert!(crate::util::tallest_column_of(&png, crate::util::goal_color()) > 150, "no goal line in pareto.png");
}
