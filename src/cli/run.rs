//! `coldcost run [SCENARIO]`: simulate and write `summary.csv`, `timeseries.csv`,
//! `instances.csv` (and `requests.csv` with `--requests`) into `--out` or
//! `reports/<name>/`, then print the headline numbers.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::app::run::{self, Options};
use crate::app::{self, stdout};
use crate::report::headline::{self, RunFacts};

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
    /// Check the model's invariants after every event and at the end (slower); the first one
    /// broken stops the run with exit 1, naming it, the simulated time and what it is about.
    #[arg(long)]
    pub audit: bool,
    /// No progress bar, no summary table.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let sc = app::load(a.scenario.as_ref(), &a.set, a.seed, a.replications)?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(&sc.simulation.name));
    // rows a trace skipped are said even with --quiet: never a silent drop
    for line in headline::skipped_rows(&sc) {
        crate::error::say(&format!("warning: {line}"));
    }
    let o = run::run(&sc, &out, &Options { requests: a.requests, quiet: a.quiet, audit: a.audit })?;
    if !a.quiet {
        let facts = RunFacts { sheet: &o.sheet, files: &o.files, wall: o.wall, events: o.events };
        stdout::print(&headline::run(&sc, &o.summary, &facts))?;
    }
    Ok(ExitCode::SUCCESS)
}
