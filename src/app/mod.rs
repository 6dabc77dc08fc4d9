//! The application layer: what a command does, between its arguments and what it prints —
//! load a scenario with the command line's overrides, run its replications and write the
//! reports ([`run`]), run a sweep or one shard of it and join shards ([`sweep`]). Each `cli/`
//! file parses its arguments, makes one call here and prints the result.

#[cfg(test)]
mod reader_fuzz;
pub mod room;
pub mod run;
pub mod stdout;
pub mod sweep;

use std::path::PathBuf;

use anyhow::Result;

use crate::scenario::{self, Scenario};

/// Load the scenario `file` names (the built-in quickstart without one), with `--seed` and
/// `--replications` folded into the overrides so they are validated like any other value.
pub fn load(file: Option<&PathBuf>, set: &[String], seed: Option<u64>, reps: Option<u32>) -> Result<Scenario> {
    if let Some(s) = seed.filter(|&s| i64::try_from(s).is_err()) {
        return Err(crate::error::InputError::new(
            "--seed",
            "",
            format!("{s} is too large; a seed is a whole number from 0 to {}", i64::MAX),
        )
        .into());
    }
    let set = overrides(set, seed, reps);
    let sc = match file {
        Some(path) => scenario::load(path, &set)?,
        None => scenario::parse_str(scenario::QUICKSTART, "quickstart (built-in)", &std::env::current_dir()?, &set)?,
    };
    Ok(sc)
}

/// `set`, then `simulation.seed` and `simulation.replications` when given.
fn overrides(set: &[String], seed: Option<u64>, reps: Option<u32>) -> Vec<String> {
    let mut set = set.to_vec();
    if let Some(s) = seed {
        set.push(format!("simulation.seed={s}"));
    }
    if let Some(r) = reps {
        set.push(format!("simulation.replications={r}"));
    }
    set
}
