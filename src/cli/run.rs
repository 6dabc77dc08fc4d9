//! `coldcost run [SCENARIO]`: simulate and write `summary.csv`, `timeseries.csv`,
//! `instances.csv` (and `requests.csv` with `--requests`) into `--out` or
//! `reports/<name>/`, then print the headline numbers.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::report::summary::{mean_ci, values, with_all, COLUMNS};
use crate::run::{self, Options};
use crate::scenario::{self, Scenario};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (TOML). Without one, the built-in quickstart runs.
    pub scenario: Option<PathBuf>,
    /// Output folder [default: reports/<scenario name>/]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed (overrides simulation.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Independent replications (overrides simulation.replications).
    #[arg(long)]
    pub replications: Option<u32>,
    /// Override a scenario value by its dotted path, e.g. function.api.reserved=3 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Also write requests.csv, one row per request.
    #[arg(long)]
    pub requests: bool,
    /// No progress bar, no summary table.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Load the scenario the arguments name, with `--seed`/`--replications` folded into the
/// overrides so they are validated like any other value.
pub fn load(file: Option<&PathBuf>, set: &[String], seed: Option<u64>, reps: Option<u32>) -> Result<Scenario> {
    let mut set = set.to_vec();
    if let Some(s) = seed {
        set.push(format!("simulation.seed={s}"));
    }
    if let Some(r) = reps {
        set.push(format!("simulation.replications={r}"));
    }
    let sc = match file {
        Some(path) => scenario::load(path, &set)?,
        None => scenario::parse_str(scenario::QUICKSTART, "quickstart (built-in)", &std::env::current_dir()?, &set)?,
    };
    Ok(sc)
}

pub fn run(a: Args) -> Result<ExitCode> {
    let sc = load(a.scenario.as_ref(), &a.set, a.seed, a.replications)?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(&sc.simulation.name));
    // rows a trace skipped are said even with --quiet: never a silent drop
    for line in crate::cli::trace::skipped_rows(&sc) {
        eprintln!("warning: {line}");
    }
    let outcome = run::run(&sc, &out, &Options { requests: a.requests, quiet: a.quiet })?;
    if !a.quiet {
        print!("{}", headline(&sc, &outcome));
    }
    Ok(ExitCode::SUCCESS)
}

/// The few numbers a user looks at first (means across replications).
fn headline(sc: &Scenario, o: &run::Outcome) -> String {
    let idx = |name: &str| COLUMNS.iter().position(|c| c.name == name).expect("known column");
    let per_fn: Vec<(String, Vec<Vec<f64>>)> = {
        let mut acc: Vec<(String, Vec<Vec<f64>>)> = Vec::new();
        for (r, bill) in o.runs.iter().zip(&o.bills) {
            for (k, (name, st, cost)) in with_all(r, bill).iter().enumerate() {
                if acc.len() <= k {
                    acc.push((name.clone(), Vec::new()));
                }
                acc[k].1.push(values(st, cost, r.horizon));
            }
        }
        acc
    };
    let requests: u64 = o.runs.iter().flat_map(|r| &r.functions).map(|(_, s)| s.requests).sum();
    let secs = o.wall.as_secs_f64();
    let mut s = format!(
        "{}: {} replication(s) of {}, {} requests simulated in {:.2} s ({:.1} M requests/s, {} events)\n",
        sc.simulation.name,
        sc.simulation.replications,
        crate::units::format_duration(sc.simulation.horizon),
        requests,
        secs,
        requests as f64 / secs.max(1e-9) / 1e6,
        o.events,
    );
    s.push_str(&format!(
        "{:<16} {:>12} {:>10} {:>8} {:>10} {:>10} {:>12} {:>10} {:>12} {:>12}\n",
        "function",
        "requests",
        "cold",
        "cold %",
        "p50 ms",
        "p99 ms",
        "cold p99 ms",
        "instances",
        "GB·s pull",
        "GB·s total"
    ));
    // one function: its row says it all; several: each, then ALL; a fleet (a trace): the
    // busiest ones, then ALL
    let mut fns: Vec<&(String, Vec<Vec<f64>>)> =
        if per_fn.len() == 2 { vec![&per_fn[0]] } else { per_fn.iter().collect() };
    let shown = crate::cli::trace::HEADLINE_FUNCTIONS;
    let hidden = fns.len().saturating_sub(shown + 1);
    if hidden > 0 {
        let all = fns.pop().expect("the ALL row");
        let reqs = |r: &Vec<Vec<f64>>| r.iter().map(|v| v[idx("requests")]).sum::<f64>();
        fns.sort_by(|a, b| reqs(&b.1).total_cmp(&reqs(&a.1)));
        fns.truncate(shown);
        fns.push(all);
    }
    for (name, reps) in fns {
        let name = crate::cli::trace::short_name(name);
        let m = |c: &str| mean_ci(&reps.iter().map(|v| v[idx(c)]).collect::<Vec<_>>()).0;
        let show = |x: f64, d: usize| {
            if x.is_finite() {
                format!("{x:.d$}")
            } else {
                "-".into()
            }
        };
        if name == "ALL" && hidden > 0 {
            s.push_str(&format!("... and {hidden} more functions (summary.csv has every one)\n"));
        }
        s.push_str(&format!(
            "{:<16} {:>12} {:>10} {:>8} {:>10} {:>10} {:>12} {:>10} {:>12} {:>12} {:>12}\n",
            name,
            show(m("requests"), 0),
            show(m("cold_starts"), 0),
            show(m("cold_start_ratio") * 100.0, 3),
            show(m("latency_p50_ms"), 1),
            show(m("latency_p99_ms"), 1),
            show(m("cold_latency_p99_ms"), 1),
            show(m("instances_mean"), 2),
            show(m("gbs_pull"), 1),
            show(m("gbs_total"), 1),
            show(m("cost"), 4),
        ));
    }
    for line in crate::cli::trace::describe(sc) {
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str(&format!(
        "priced with `{}` ({}, prices as of {}); bill.csv has every line\n",
        o.sheet.name, o.sheet.title, o.sheet.as_of
    ));
    let names: Vec<String> =
        o.files.iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    let dir = o.files.first().and_then(|p| p.parent()).map(|p| p.display().to_string()).unwrap_or_default();
    s.push_str(&format!("wrote {}/ {}\n", dir, names.join(", ")));
    s
}
