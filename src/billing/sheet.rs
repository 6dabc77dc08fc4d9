//! Price sheet files (TOML) → validated [`super::model::Sheet`]. (Being written.)
