//! `coldcost sweep SCENARIO --vary KEY=VALUES ... [--slo NAME=TARGET]...`: simulate every
//! setup of the grid and name the cheapest that meets the goals; `--shard K/N` runs one slice
//! and `coldcost sweep-merge` joins the slices into the files an unsharded run writes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::app::{stdout, sweep};
use crate::sweep::render;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (TOML). Without one, the built-in quickstart.
    pub scenario: Option<PathBuf>,
    /// A knob and its values: a list (function.api.memory=1GB,2GB,4GB) or an inclusive
    /// integer range (function.api.reserved=0..8, or 0..64:8 in steps of 8). Repeatable: the grid is the product.
    #[arg(long = "vary", value_name = "KEY=VALUES", required = true)]
    pub vary: Vec<String>,
    /// A goal every recommended setup must meet: p50, p99, p999, cold_p99 (durations) or
    /// cold_ratio, error_ratio (fractions), e.g. p99=800ms. Repeatable.
    #[arg(long = "slo", value_name = "NAME=TARGET")]
    pub slo: Vec<String>,
    /// Output folder [default: reports/<scenario name>-sweep/]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a scenario value for every setup (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Seed (overrides simulation.seed); every setup uses the same seed, so setups differ by their knobs only.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replications per setup.
    #[arg(long)]
    pub replications: Option<u32>,
    /// Run only slice K of N of the grid (join the slices with `coldcost sweep-merge`).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// No progress bar, no table: only errors are printed.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output folders of the shards.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged sweep.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let o = sweep::run(&sweep::Request {
        scenario: a.scenario.as_ref(),
        vary: &a.vary,
        slo: &a.slo,
        set: &a.set,
        seed: a.seed,
        replications: a.replications,
        shard: a.shard.as_deref(),
        out: a.out.as_ref(),
        quiet: a.quiet,
    })?;
    if !a.quiet {
        stdout::print(&render::headline(&o.meta, &o.points, &o.out, o.shard))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn merge(a: MergeArgs) -> Result<ExitCode> {
    let meta = sweep::merge(&a.dirs, &a.out)?;
    stdout::print(&render::merged(&meta, a.dirs.len(), &a.out))?;
    Ok(ExitCode::SUCCESS)
}
