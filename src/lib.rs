//! coldcost simulates serverless cold starts of container-image functions and meters their
//! usage exactly, so a team can see cold-start waits and the bill before they pay for them.
//!
//! The modules form layers; each imports only modules on lower floors (and [`error`], which
//! anyone may), so the graph has no loops. `tests/module_graph.rs` checks every `crate::` path
//! against this list, bottom first:
//!
//! - ground floor, importing nothing of the crate: [`error`], [`units`] (`Micros`, every time
//!   constant, every `parse_*` / `format_*`), [`stats`] (quantile, median, t and z tables),
//!   [`engine`] (a generic discrete-event core that knows nothing of functions or money),
//!   [`limits`] (the bounds on inputs and reads) and [`signals`] (cleanup on SIGINT/SIGTERM);
//!   [`latency`] (the latency histogram; units, stats) and [`input`] (the TOML-reading toolkit
//!   of scenarios, price sheets and profiles; units);
//! - [`workload`] (arrival processes, execution-time distributions, real traces; it knows
//!   neither the scenario nor the platform) and [`usage`] (phases, exact meters, rounding
//!   rules; units only);
//! - [`billing`] (price sheets and usage → bill; usage, units, input, stats);
//! - [`provider`] (each cloud's profile as data: limits, start rules, scale-out; billing and below);
//! - [`scenario`] (the validated input: workload, provider, billing, usage and the ground floor);
//! - [`platform`] (the model of hosts, caches, pulls, instances and routing, with its meter
//!   hooks);
//! - [`report`] (typed results and the files and text they become), [`sweep`] (grids, SLOs,
//!   Pareto front) and [`calibrate`] (real containers, fit, profile);
//! - [`app`] (orchestration: runs, sweeps, shards, merge);
//! - [`cli`] on top (one file per subcommand: arguments, one call into [`app`], printing; no
//!   `cli` file uses another).

pub mod app;
pub mod billing;
pub mod calibrate;
pub mod cli;
pub mod engine;
pub mod error;
pub mod input;
pub mod latency;
pub mod limits;
pub mod platform;
pub mod provider;
pub mod report;
pub mod scenario;
pub mod signals;
pub mod stats;
pub mod sweep;
pub mod units;
pub mod usage;
pub mod workload;
