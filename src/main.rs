//! Thin entry point: parse the command line, run the subcommand, map errors to exit codes
//! (2 for bad input, 1 for anything else) and print them for the user.

use std::process::ExitCode;

use clap::Parser;
use coldcost::cli::{dispatch, Cli};
use coldcost::error::InputError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(ie) = e.downcast_ref::<InputError>() {
                eprintln!("error: {ie}");
                ExitCode::from(2)
            } else {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        }
    }
}
