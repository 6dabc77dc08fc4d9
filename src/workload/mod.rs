//! Workloads: arrival processes and execution-time distributions, and real traces.
pub mod azure2019;
pub mod azure2021;
pub mod counts;
pub mod csv_trace;
pub mod dist;
pub mod model;
pub mod records;
pub mod rows;
pub mod synthetic;
pub mod timestamp;
pub mod trace;
pub mod trace_stats;
#[cfg(test)]
mod trace_tests;
