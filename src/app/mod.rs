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
    give_back_freed_memory();
    Ok(sc)
}

/// Return the memory the scenario's parse freed to the operating system. A large
/// scenario's TOML tree is tens of MB of small blocks; freed, glibc keeps them resident
/// for reuse, and the run's peak memory would count them again on top of its own.
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Keep large blocks (the instance slab, the event queue, per-function tables: MBs each in
/// a large fleet) in their own mappings, returned to the system when freed. glibc's default
/// raises that bound to the size of the last large block freed, so after a slab's first
/// growth every later large block comes from the shared heap and stays resident after use:
/// a 10,000-function run then peaks 40% higher than what it holds at any one time.
pub fn keep_large_blocks_apart() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's thresholds; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
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
