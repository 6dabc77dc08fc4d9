//! Scenario files: raw TOML → validated [`model::Scenario`].
pub mod model;
pub use model::*;
