//! Errors written for the user. An [`InputError`] means the user gave us something we cannot
//! use (a scenario, a trace, a flag); `main` turns it into exit code 2. Everything else is
//! exit code 1; a [`WriteError`] names what could not be written.

use std::fmt;
use std::io::Write;

/// Write `line` and a newline to stderr. Unlike `eprintln!`, a stderr that cannot be
/// written (a full disk, a closed pipe) loses the line instead of panicking, so the exit
/// code stays the one the error deserves (2 for bad input, not 101).
pub fn say(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(line.as_bytes()).and_then(|()| e.write_all(b"\n"));
}

/// Bad input: names the file, the key path (and line where known), what was found and what
/// is allowed, so the user can fix it without reading our code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// File (or `--set`, `--vary`, ...) the bad value came from.
    pub source: String,
    /// Dotted key path, e.g. `function.api.memory`; empty when not applicable.
    pub path: String,
    /// 1-based line, when the format gives one.
    pub line: Option<usize>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl InputError {
    pub fn new(source: impl Into<String>, path: impl Into<String>, message: impl Into<String>) -> Self {
        InputError { source: source.into(), path: path.into(), line: None, message: message.into() }
    }

    pub fn with_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", OneLine(&self.source))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", OneLine(&self.path))?;
        }
        write!(f, ": {}", OneLine(&self.message))
    }
}

/// Text shown on one line: a line break or other control character a user's value brought
/// in (a `--set` value, a trace field) is escaped, so a message is always one line.
pub struct OneLine<'a>(pub &'a str);

/// Most characters shown of one quoted value in a message (`"..."`), and of a whole message
/// part: a 500 MB trace field is echoed as its first characters and its length.
const QUOTED_CHARS: usize = 100;
const PART_CHARS: usize = 2000;

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = 0usize;
        for (k, part) in self.0.split('"').enumerate() {
            if k > 0 {
                f.write_str("\"")?;
            }
            let cap = if k % 2 == 1 { QUOTED_CHARS } else { PART_CHARS.saturating_sub(shown) };
            let cut = part.char_indices().nth(cap).map(|(at, _)| at);
            let head = &part[..cut.unwrap_or(part.len())];
            shown += head.len();
            self.write_escaped(f, head)?;
            if cut.is_some() {
                write!(f, "… ({} bytes in all)", part.len())?;
            }
        }
        Ok(())
    }
}

impl OneLine<'_> {
    fn write_escaped(&self, f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str(" ")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// A write that failed: what could not be written (`stdout`, or a file's path) and why.
/// `main` turns a closed pipe into a quiet exit 0 and anything else into exit 1 with this
/// one line.
#[derive(Debug)]
pub struct WriteError {
    /// `stdout`, or the path of the file.
    pub what: String,
    pub error: std::io::Error,
}

impl WriteError {
    pub fn new(what: impl Into<String>, error: std::io::Error) -> Self {
        WriteError { what: what.into(), error }
    }

    /// The reader went away (`coldcost pricing list | head -1`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        self.error.kind() == std::io::ErrorKind::BrokenPipe
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write {}: {}", self.what, self.error)
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_one_line_and_cuts_what_it_echoes() {
        let e = InputError::new("--set", "simulation.name", "found \"a\nb\"; names are one line");
        assert_eq!(e.to_string(), "--set: simulation.name: found \"a\\nb\"; names are one line");
        let long = "x".repeat(500_000);
        let e = InputError::new("t.csv", "", format!("the count is \"{long}\"; counts are whole numbers"));
        let shown = e.to_string();
        assert!(shown.len() < 200 && shown.contains("… (500000 bytes in all)\"; counts"), "{shown}");
        let e = InputError::new("t.csv", "", long.clone());
        assert!(e.to_string().len() < 2100);
    }
}
