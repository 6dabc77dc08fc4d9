//! What a command prints goes through [`print`], never `print!`: a closed pipe or a full
//! disk then comes back as a [`WriteError`] for `main` to judge, not as a panic.

use std::io::Write;

use crate::error::WriteError;

/// Write `text` to standard output and flush it.
pub fn print(text: &str) -> Result<(), WriteError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| WriteError::new("stdout", e))
}
