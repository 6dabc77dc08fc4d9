//! Billing: a pure function from a run's exact usage to money, driven by a price sheet.
//! It never changes the simulation.

pub mod model;
pub mod sheet;
