//! `coldcost trace stats FILE... --format F`: what a trace holds, before a scenario replays
//! it — functions, invocations, the rate over time, rare functions, skew, durations and
//! memory (the report is rendered by `report::trace`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::app::stdout;
use crate::error::InputError;
use crate::report::trace::render;
use crate::workload::trace::Format;
use crate::workload::trace_stats;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Functions, invocations, rate over time, rare functions, skew, durations and memory.
    Stats(StatsArgs),
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Trace files (azure2019: the invocations file or the folder holding invocations.csv).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// azure2019, azure2021 or csv.
    #[arg(long, value_parser = parse_format)]
    pub format: Format,
    /// azure2019: the durations file [default: durations.csv next to the invocations].
    #[arg(long)]
    pub durations: Option<PathBuf>,
    /// azure2019: the memory file [default: memory.csv next to the invocations].
    #[arg(long)]
    pub memory: Option<PathBuf>,
    /// Skip and count bad rows instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// How many of the busiest functions to name.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("unknown trace format \"{s}\"; allowed: {}", Format::NAMES.join(", ")))
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.command {
        Command::Stats(s) => stats(s),
    }
}

fn stats(a: StatsArgs) -> Result<ExitCode> {
    for (k, f) in a.files.iter().enumerate() {
        if a.format != Format::Azure2019 && (a.durations.is_some() || a.memory.is_some()) {
            return Err(InputError::new("--durations/--memory", "", "apply to --format azure2019 only").into());
        }
        let st = trace_stats::compute(a.format, f, a.durations.as_deref(), a.memory.as_deref(), a.skip_bad_rows)?;
        let sep = if k > 0 { "\n" } else { "" };
        stdout::print(&format!("{sep}{}", render(&st, a.top)))?;
    }
    Ok(ExitCode::SUCCESS)
}
