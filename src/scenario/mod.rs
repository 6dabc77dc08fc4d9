//! Scenario files: raw TOML → validated [`model::Scenario`].
pub mod model;
pub use model::*;
// TEMPORARY until the scenario branch lands
pub const QUICKSTART: &str = "";
pub fn parse_str(
    _t: &str,
    _s: &str,
    _b: &std::path::Path,
    _o: &[String],
) -> Result<Scenario, crate::error::InputError> {
    todo!()
}
pub fn load(_p: &std::path::Path, _o: &[String]) -> Result<Scenario, crate::error::InputError> {
    todo!()
}
