//! `coldcost init [FILE]`: write the built-in quickstart scenario, comments and all, as a
//! starting point. Never overwrites a file unless `--force`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::app::stdout;
use crate::error::InputError;
use crate::scenario::QUICKSTART;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write it.
    #[arg(default_value = "scenario.toml")]
    pub file: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    if a.file.exists() && !a.force {
        return Err(InputError::new(
            a.file.display().to_string(),
            "",
            "file exists; pass --force to replace it or name another file",
        )
        .into());
    }
    std::fs::write(&a.file, QUICKSTART).with_context(|| format!("cannot write {}", a.file.display()))?;
    stdout::print(&format!("wrote {} (edit it, then: coldcost run {})\n", a.file.display(), a.file.display()))?;
    Ok(ExitCode::SUCCESS)
}
