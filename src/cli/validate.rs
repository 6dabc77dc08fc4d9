//! `coldcost validate FILE...`: load and check each file; report every problem, exit 2 if
//! any file is bad.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::app::stdout;
use crate::scenario;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Overrides to check along (as in `run`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut bad = 0;
    for f in &a.files {
        match scenario::load(f, &a.set) {
            Ok(sc) => stdout::print(&format!(
                "ok {}: {} function(s), {} workload(s), horizon {}\n",
                f.display(),
                sc.functions.len(),
                sc.workloads.len(),
                crate::units::format_duration(sc.simulation.horizon)
            ))?,
            Err(e) => {
                crate::error::say(&format!("error: {e}"));
                bad += 1;
            }
        }
    }
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) })
}
