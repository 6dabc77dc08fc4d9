//! Workloads: arrival processes and execution-time distributions.
pub mod dist;
pub mod synthetic;
