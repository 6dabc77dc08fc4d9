//! Errors written for the user. An [`InputError`] means the user gave us something we cannot
//! use (a scenario, a trace, a flag); `main` turns it into exit code 2. Everything else is
//! exit code 1; a [`WriteError`] names what could not be written.

use std::fmt;

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
        write!(f, "{}", self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
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
