//! Reports: what a run writes. Summaries are pure functions of the run results
//! ([`summary`]); streamed files go through a [`csv::CsvSink`] while the run is going;
//! [`output::OutputDir`] writes every file under a temporary name and renames it only once
//! all are complete, so a failed run never leaves a half-written report.

pub mod charts;
pub mod csv;
pub mod figures;
pub mod fmt;
pub mod goals;
pub mod headline;
pub mod markdown;
pub mod output;
pub mod relay;
pub mod summary;
pub mod trace;
pub mod trend;
