//! Price sheet files (TOML) → validated [`super::model::Sheet`]. (Being written.)
use super::model::Sheet;
use crate::error::InputError;

pub fn load(name_or_path: &str) -> Result<Sheet, InputError> {
    Err(InputError::new(name_or_path, "platform.pricing", "price sheets are not readable yet"))
}
