//! The command line: one file per subcommand (its arguments and its `run`), and one exit
//! path in `main`: bad input exits 2, anything else that fails exits 1.

pub mod calibrate;
pub mod init;
pub mod pricing;
pub mod providers;
pub mod run;
pub mod sweep;
pub mod trace;
pub mod validate;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Simulate serverless cold starts of container-image functions and their bill.
#[derive(Debug, Parser)]
#[command(name = "coldcost", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario (the built-in quickstart if none is given) and write its reports.
    Run(run::Args),
    /// Check scenario files without running them.
    Validate(validate::Args),
    /// Write the commented quickstart scenario as a starting point for your own.
    Init(init::Args),
    /// List the built-in price sheets, or show one (or a sheet file) readably.
    Pricing(pricing::Args),
    /// List the built-in provider profiles (limits, start, keep-alive, scale-out), or show one.
    Providers(providers::Args),
    /// Simulate a grid of setups (--vary) and name the cheapest that meets the goals (--slo).
    Sweep(sweep::Args),
    /// Join the outputs of sweep shards (--shard K/N) into one sweep.
    SweepMerge(sweep::MergeArgs),
    /// Measure image pulls and container starts on a Docker engine, fit the pull model, write a profile.
    Calibrate(calibrate::Args),
    /// Statistics of a real trace (Azure 2019, Azure 2021, CSV) before a scenario replays it.
    Trace(trace::Args),
}

/// The command line with `help --help` (or `-h`) read as `help help`: asking for help about
/// help is not a usage error (clap's built-in `help` takes no flags).
pub fn help_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut v: Vec<std::ffi::OsString> = args.into_iter().collect();
    if v.get(1).is_some_and(|a| a == "help") {
        for a in v.iter_mut().skip(2) {
            if a == "--help" || a == "-h" {
                *a = "help".into();
            }
        }
    }
    v
}

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Init(a) => init::run(a),
        Command::Pricing(a) => pricing::run(a),
        Command::Providers(a) => providers::run(a),
        Command::Sweep(a) => sweep::run(a),
        Command::SweepMerge(a) => sweep::merge(a),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Trace(a) => trace::run(a),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every flag and argument of every subcommand (at any depth) says what it does in `--help`.
    #[test]
    fn every_flag_of_every_subcommand_has_a_description() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "coldcost", &mut missing);
        assert!(missing.is_empty(), "flags without a description: {missing:?}");
    }
}
