//! Integration tests: they drive the real `coldcost` binary as a user would, each in a fresh
//! folder. One target (see Cargo.toml, `autotests = false`) so the binary links once.

mod util;

mod audit;
mod billing;
mod calibration;
mod cli;
mod closed_forms;
mod deploy;
mod distribution;
mod hardening;
mod lazy;
mod module_graph;
mod outputs;
mod steady_state;
mod sweep;
mod traces;
mod writes;
