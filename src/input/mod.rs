//! The TOML-reading toolkit that scenarios, price sheets and calibration profiles share:
//! line numbers for key paths ([`LineMap`]), the words of messages (key paths, did-you-mean,
//! allowed lists, [`describe`]), typed readers that turn a bad value into one clear
//! [`InputError`] from the right source ([`Ctx`]), and the one form of a TOML syntax error
//! ([`toml_error`]). It knows units ([`crate::units`]) and nothing else of the crate.

mod chunked;
mod ctx;
mod lines;
mod names;

pub use chunked::parse_table;
pub use ctx::{covers, key_of, Ctx, Origins};
pub use lines::{line_of, LineMap};
pub use names::{choices, describe, did_you_mean, elem_path, join, list, section_name, suggest, usable_name};

use crate::error::InputError;

/// A TOML syntax error: the parser's first message line, at its line.
pub fn toml_error(source: &str, text: &str, e: &toml::de::Error) -> InputError {
    let mut message = e.message().lines().next().unwrap_or("invalid TOML").trim().to_string();
    // the parser says "duplicate key" without the key: name it from the span
    if message == "duplicate key" {
        if let Some(key) = e.span().and_then(|s| text.get(s)).map(str::trim).filter(|k| !k.is_empty()) {
            message = format!("duplicate key `{key}`: a key may be given once per table");
        }
    }
    InputError::new(source, "", message).with_line(e.span().map(|s| line_of(text, s.start)))
}
