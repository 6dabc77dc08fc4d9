//! Thin entry point: parse the command line, run the subcommand, map errors to exit codes
//! (2 for bad input, 1 for anything else) and print them for the user. A closed pipe
//! (`coldcost pricing list | head -1`) ends the command quietly with 0; any other failed
//! write is one line naming what could not be written, and exit 1.

use std::process::ExitCode;

use clap::Parser;
use coldcost::cli::{dispatch, Cli};
use coldcost::error::{InputError, WriteError};

fn main() -> ExitCode {
    coldcost::app::keep_large_blocks_apart();
    let cli = Cli::parse_from(coldcost::cli::help_args(std::env::args_os()));
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(ie) = e.downcast_ref::<InputError>() {
                coldcost::error::say(&format!("error: {ie}"));
                ExitCode::from(2)
            } else if let Some(we) = e.chain().find_map(|c| c.downcast_ref::<WriteError>()) {
                if we.is_broken_pipe() {
                    return ExitCode::SUCCESS;
                }
                coldcost::error::say(&format!("error: {we}"));
                ExitCode::from(1)
            } else {
                coldcost::error::say(&format!("error: {e:#}"));
                ExitCode::from(1)
            }
        }
    }
}
