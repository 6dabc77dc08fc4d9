//! coldcost simulates serverless cold starts of container-image functions and meters their
//! usage exactly, so a team can see cold-start waits and the bill before they pay for them.
//!
//! Layers, from the bottom: [`engine`] (a generic discrete-event core that knows nothing of
//! functions or money), [`scenario`] (the validated input), [`workload`] (arrivals and
//! execution times), [`platform`] (the model of hosts, caches, pulls, instances and routing,
//! with its usage meters), [`report`] (typed results and the files and text they become),
//! [`app`] (orchestration: runs, sweeps, shards, merge) and [`cli`] (one file per subcommand:
//! arguments, one call into [`app`], printing).

pub mod app;
pub mod billing;
pub mod calibrate;
pub mod cli;
pub mod engine;
pub mod error;
pub mod input;
pub mod latency;
pub mod platform;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod sweep;
pub mod units;
pub mod usage;
pub mod workload;
