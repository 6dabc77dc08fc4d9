//! Typed readers of TOML values with key paths: [`Ctx`] turns a (path, message) into an
//! [`InputError`] from the right source (the file with its line, a calibration profile, or
//! `--set`) and reads durations, sizes, rates, numbers, booleans and strings with one message
//! per kind of mistake.

use std::path::{Path, PathBuf};

use toml::Value;

use super::lines::LineMap;
use super::names::describe;
use crate::error::InputError;
use crate::units::{self, Micros};

/// Where values that replaced the scenario file's came from.
#[derive(Debug, Default)]
pub struct Origins {
    /// Canonical paths set by `--set`.
    pub set: Vec<String>,
    /// A calibration profile: its file name, its lines, and the canonical paths it supplied
    /// (`platform.pull.host_bandwidth`, which the profile spells `pull.host_bandwidth`).
    pub profile: Option<(String, LineMap, Vec<String>)>,
}

/// Turns (path, message) into an [`InputError`] from the right source, and a path value into
/// the file it names ([`Ctx::file`]).
#[derive(Debug)]
pub struct Ctx<'a> {
    pub source: &'a str,
    pub lines: &'a LineMap,
    pub origins: Origins,
    /// The scenario file's folder: paths written in the file are relative to it.
    pub base_dir: &'a Path,
}

/// Whether a value at `origin` is (part of) the value at `path`, or the reverse.
pub fn covers(origin: &str, path: &str) -> bool {
    let under =
        |a: &str, b: &str| a == b || (a.starts_with(b) && matches!(a.as_bytes().get(b.len()), Some(b'.') | Some(b'[')));
    under(path, origin) || under(origin, path)
}

impl Ctx<'_> {
    pub fn err(&self, path: impl AsRef<str>, message: impl Into<String>) -> InputError {
        let path = path.as_ref();
        let message = message.into();
        if self.origins.set.iter().any(|o| covers(o, path)) {
            return InputError::new("--set", path, message);
        }
        if let Some((source, lines, paths)) = &self.origins.profile {
            if paths.iter().any(|o| covers(o, path)) {
                let local = path.strip_prefix("platform.").unwrap_or(path);
                return InputError::new(source.clone(), local, message).with_line(lines.line(local));
            }
        }
        InputError::new(self.source, path, message).with_line(self.lines.line(path))
    }

    pub fn is_set(&self, path: &str) -> bool {
        self.origins.set.iter().any(|o| covers(o, path))
    }

    /// The file that the path value `given` at key `path` names. One rule for every path
    /// key (pricing, pull profile, trace files): a path written in the scenario file is
    /// relative to the file's folder; one given on the command line (`--set`, `--vary`) is
    /// relative to the current folder, like any other command-line argument.
    pub fn file(&self, path: &str, given: &str) -> PathBuf {
        if self.is_set(path) {
            PathBuf::from(given)
        } else {
            self.base_dir.join(given)
        }
    }

    /// For a message about `file` (from [`Ctx::file`] at key `path`): where it was looked for,
    /// as an absolute path, and by which rule.
    pub fn looked_for(&self, path: &str, file: &Path) -> String {
        // the folder made absolute (`..` resolved) when it exists, else the path as the OS would take it
        let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let shown = match (dir.canonicalize(), file.file_name()) {
            (Ok(d), Some(name)) => d.join(name),
            _ => std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf()),
        };
        let rule = if self.is_set(path) {
            "a path given on the command line (--set, --vary) is relative to the current folder"
        } else {
            "a path in the scenario file is relative to the file's folder"
        };
        format!("looked for {}: {rule}", shown.display())
    }

    /// "found X; expected Y".
    pub fn type_err(&self, path: &str, found: &Value, expected: &str) -> InputError {
        self.err(path, format!("found {}; {expected}", describe(found)))
    }

    /// A plain string; when `--set` gave a number or boolean, says how to quote it.
    pub fn string<'v>(&self, v: &'v Value, path: &str, what: &str) -> Result<&'v str, InputError> {
        match v {
            Value::String(s) => Ok(s),
            other => {
                let mut expected = format!("`{}` is a string ({what})", key_of(path));
                if self.is_set(path) {
                    expected.push_str(&format!("; quote it on the command line: --set '{path}=\"...\"'"));
                }
                Err(self.type_err(path, other, &expected))
            }
        }
    }

    /// A string with a unit, parsed by `parse`.
    pub fn unit<T>(
        &self,
        v: Option<&Value>,
        path: &str,
        kind: &str,
        suffix: &str,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, InputError> {
        match v {
            None => Ok(None),
            Some(Value::String(s)) => parse(s).map(Some).map_err(|m| self.err(path, m)),
            Some(n @ (Value::Integer(_) | Value::Float(_))) => {
                let num = match n {
                    Value::Integer(i) => i.unsigned_abs().to_string(),
                    Value::Float(f) if f.is_finite() => f.abs().to_string(),
                    _ => "1".to_string(),
                };
                Err(self.type_err(path, n, &format!("a {kind} is a string with a unit, e.g. \"{num}{suffix}\"")))
            }
            Some(other) => {
                Err(self.type_err(path, other, &format!("a {kind} is a string with a unit, e.g. \"1{suffix}\"")))
            }
        }
    }

    pub fn duration(&self, v: Option<&Value>, path: &str) -> Result<Option<Micros>, InputError> {
        self.unit(v, path, "duration", "s", units::parse_duration)
    }
    pub fn size(&self, v: Option<&Value>, path: &str) -> Result<Option<u64>, InputError> {
        self.unit(v, path, "size", "MB", units::parse_size)
    }
    pub fn bandwidth(&self, v: Option<&Value>, path: &str) -> Result<Option<f64>, InputError> {
        self.unit(v, path, "network bandwidth", "Gbps", units::parse_bandwidth)
    }
    pub fn byte_rate(&self, v: Option<&Value>, path: &str) -> Result<Option<f64>, InputError> {
        self.unit(v, path, "byte rate", "MB/s", units::parse_byte_rate)
    }
    pub fn rate(&self, v: Option<&Value>, path: &str) -> Result<Option<f64>, InputError> {
        self.unit(v, path, "request rate", "/s", units::parse_rate)
    }

    /// A duration that must be > 0.
    pub fn positive_duration(&self, v: Option<&Value>, path: &str) -> Result<Option<Micros>, InputError> {
        match self.duration(v, path)? {
            Some(0) => Err(self.err(path, format!("{} must be more than 0s", key_of(path)))),
            d => Ok(d),
        }
    }

    /// A required value: `Err` naming the key when it is absent.
    pub fn required<T>(&self, v: Option<T>, path: &str, example: &str) -> Result<T, InputError> {
        v.ok_or_else(|| self.err(path, format!("`{}` is missing; e.g. {example}", key_of(path))))
    }

    /// A whole number in `min..=max`.
    pub fn int(&self, v: Option<&Value>, path: &str, min: i64, max: i64) -> Result<Option<i64>, InputError> {
        let key = key_of(path);
        let n = match v {
            None => return Ok(None),
            Some(Value::Integer(i)) => *i,
            Some(Value::Float(f)) if f.fract() == 0.0 && f.is_finite() => {
                return Err(
                    self.err(path, format!("{key} is a whole number; found {f}, write it without a decimal point"))
                )
            }
            Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
                return Err(self.err(
                    path,
                    format!("{key} is a number; found string \"{s}\", write it without quotes: {key} = {}", s.trim()),
                ))
            }
            Some(other) => return Err(self.type_err(path, other, &format!("{key} is a whole number"))),
        };
        if n < min || n > max {
            let allowed = if max == i64::MAX { format!("at least {min}") } else { format!("{min}..={max}") };
            return Err(self.err(path, format!("{key} {n} is out of range; allowed: {allowed}")));
        }
        Ok(Some(n))
    }

    /// A finite number (integer or float).
    pub fn number(&self, v: Option<&Value>, path: &str) -> Result<Option<f64>, InputError> {
        let key = key_of(path);
        match v {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(*i as f64)),
            Some(Value::Float(f)) if f.is_finite() => Ok(Some(*f)),
            Some(Value::Float(f)) => Err(self.err(path, format!("{key} must be a finite number; found {f}"))),
            Some(Value::String(s)) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => Err(self.err(
                path,
                format!("{key} is a number; found string \"{s}\", write it without quotes: {key} = {}", s.trim()),
            )),
            Some(other) => Err(self.type_err(path, other, &format!("{key} is a number"))),
        }
    }

    /// A number > 0.
    pub fn positive(&self, v: Option<&Value>, path: &str) -> Result<Option<f64>, InputError> {
        match self.number(v, path)? {
            Some(x) if x <= 0.0 => Err(self.err(path, format!("{} must be more than 0; found {x}", key_of(path)))),
            x => Ok(x),
        }
    }

    pub fn boolean(&self, v: Option<&Value>, path: &str) -> Result<Option<bool>, InputError> {
        match v {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.type_err(path, other, &format!("{} is true or false", key_of(path)))),
        }
    }

    /// A rate that must be > 0.
    pub fn positive_rate(&self, v: Option<&Value>, path: &str) -> Result<Option<f64>, InputError> {
        match self.rate(v, path)? {
            Some(r) if r <= 0.0 => Err(self.err(path, format!("{} must be more than 0/s", key_of(path)))),
            r => Ok(r),
        }
    }
}

/// The last key of a path: `function.api.memory` → `memory`, `layers[1]` → `layers`.
pub fn key_of(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}
