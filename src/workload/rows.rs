//! Traces with one row per invocation (Azure 2021 and CSV): the row parser both formats
//! share once their header has said where each column is, the ordering rule, the scan, and
//! the stream.
//!
//! **Ordering.** Rows need not be sorted: a row may come after rows with later arrivals as
//! long as it is at most `reorder_window` earlier than the latest arrival read before it. A
//! row further out of order is a bad row (an error with its line, or skipped and counted).
//! The stream keeps the rows of the last `reorder_window` of trace time in a sorted buffer
//! and releases a row once every row still to come is known to be later, so its memory is
//! bounded by the trace's rate times the window, not by its length.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use csv::ByteRecord;

use super::records::{Fields, KeyIndex, Records};
use super::timestamp::{self, Kind};
use super::trace::{row_error, Arrival, BadRows, Format, Layout, PosReader, Scan, TraceData, TraceFile, TraceFn};
use super::{azure2021, csv_trace};
use crate::error::InputError;
use crate::units::format_duration;
use crate::units::Micros;

/// Where each column of a row format is, from its header.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub format: Format,
    /// Fields per row.
    pub fields: usize,
    /// The time column: the arrival (CSV) or the end of the invocation (Azure 2021).
    pub time: usize,
    pub time_is_end: bool,
    pub function: usize,
    /// Azure 2021: the app column; a function is identified by (app, func).
    pub app: Option<usize>,
    pub duration: usize,
    /// µs per unit of the duration column (1e3 for milliseconds, 1e6 for seconds).
    pub duration_us: f64,
    pub memory: Option<usize>,
}

/// Header fields as text (a byte-order mark and surrounding spaces removed).
pub fn header_names(rec: &ByteRecord) -> Vec<String> {
    rec.iter()
        .enumerate()
        .map(|(i, f)| {
            let s = String::from_utf8_lossy(f).trim().to_string();
            if i == 0 {
                s.trim_start_matches('\u{feff}').to_string()
            } else {
                s
            }
        })
        .collect()
}

/// One parsed row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Arrival, trace time µs.
    pub time: i64,
    pub kind: Kind,
    pub exec: Micros,
    pub memory_mb: Option<f64>,
}

impl Columns {
    /// Parse a row; its function key (Azure 2021: `app/func`) goes into `key`.
    #[inline]
    pub fn parse(&self, rec: &impl Fields, key: &mut Vec<u8>) -> Result<Row, String> {
        if rec.count() != self.fields {
            return Err(format!("{} fields where the header has {}", rec.count(), self.fields));
        }
        let field = |i: usize| rec.field(i);
        let name = trim(field(self.function));
        if name.is_empty() {
            return Err("the function is empty".into());
        }
        key.clear();
        if let Some(a) = self.app {
            let app = trim(field(a));
            if app.is_empty() {
                return Err("the app is empty".into());
            }
            key.extend_from_slice(app);
            key.push(b'/');
        }
        key.extend_from_slice(name);
        let time_name = if self.time_is_end { "end_timestamp" } else { "timestamp" };
        let (t, kind) = timestamp::parse(field(self.time)).map_err(|e| format!("{time_name}: {e}"))?;
        let dur_name = if self.duration_us == 1e3 { "duration_ms" } else { "duration" };
        let exec = timestamp::duration(field(self.duration), self.duration_us, dur_name)?;
        let time = if self.time_is_end { t - exec as i64 } else { t };
        let memory_mb = match self.memory.map(|m| trim(field(m))) {
            None | Some(b"") => None,
            Some(m) => {
                let s = std::str::from_utf8(m).unwrap_or("?");
                // MB to 6 decimals through the exact decimal parser, else the float one
                let parsed = timestamp::seconds(m).map(|x| x as f64 / 1e6).or_else(|_| s.parse::<f64>());
                match parsed {
                    Ok(x) if x.is_finite() && x > 0.0 && x <= 32.0 * 1024.0 => Some(x),
                    Ok(x) if x.is_finite() && x > 0.0 => {
                        return Err(format!("memory_mb {s} is above 32768 (32 GB, FC's largest function)"))
                    }
                    _ => return Err(format!("memory_mb \"{s}\" is not a positive number of MB")),
                }
            }
        };
        Ok(Row { time, kind, exec, memory_mb })
    }
}

fn trim(t: &[u8]) -> &[u8] {
    let start = t.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(t.len());
    let end = t.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &t[start..end]
}

/// The ordering rule (module docs): the latest arrival read so far, and where it was.
#[derive(Debug, Clone)]
pub struct Order {
    window: i64,
    max: i64,
    max_line: u64,
    any: bool,
}

impl Order {
    pub fn new(window: Micros) -> Order {
        Order { window: window.min(i64::MAX as u64 / 4) as i64, max: i64::MIN / 2, max_line: 0, any: false }
    }

    /// Accept an arrival at `t` (line `line`), or say why it is too far out of order.
    #[inline]
    pub fn check(&mut self, t: i64, line: u64) -> Result<(), String> {
        if t < self.max - self.window {
            return Err(format!(
                "arrival at {} is {} before an arrival already read (line {}, at {}), more than the reorder window of {}; sort the trace by time or raise reorder_window",
                secs(t),
                format_duration((self.max - t) as u64),
                self.max_line,
                secs(self.max),
                format_duration(self.window as u64)
            ));
        }
        if !self.any || t > self.max {
            self.max = t;
            self.max_line = line;
            self.any = true;
        }
        Ok(())
    }

    /// Arrivals before this one can no longer be preceded by a row still to come.
    #[inline]
    fn settled_before(&self) -> i64 {
        self.max - self.window
    }
}

/// Trace time in seconds, for messages.
fn secs(us: i64) -> String {
    format!("{}s", us as f64 / 1e6)
}

/// What a row trace's stream needs.
#[derive(Debug)]
pub struct RowLayout {
    pub file: Arc<TraceFile>,
    pub columns: Columns,
    /// Function key → local function.
    pub keys: KeyIndex,
}

impl RowLayout {
    pub fn select(self, keep: &[usize]) -> RowLayout {
        RowLayout { keys: self.keys.select(keep), ..self }
    }
}

/// The records of a row trace from its start.
pub(crate) fn records(file: &Arc<TraceFile>) -> Records<PosReader> {
    Records::new(file.reader(0))
}

/// Scan a row trace (see [`super::trace`]).
pub fn scan(format: Format, path: &Path, window: Micros, skip: bool) -> Result<Scan, InputError> {
    let file = TraceFile::open(path)?;
    let name = file.path.clone();
    let io = |e: std::io::Error| InputError::new(&name, "", format!("cannot read the trace: {e}"));
    let mut rec = records(&file);
    if !rec.next_record().map_err(io)? {
        let expected = match format {
            Format::Azure2021 => azure2021::HEADER,
            _ => csv_trace::HEADER,
        };
        return Err(InputError::new(&name, "", format!("the file is empty; expected a header: {expected}")));
    }
    let header = rec.to_record();
    let columns = match format {
        Format::Azure2021 => azure2021::columns(&header, &name)?,
        _ => csv_trace::columns(&header, &name)?,
    };
    let mut bad = BadRows::new(skip);
    let mut order = Order::new(window);
    let mut keys = KeyIndex::default();
    let mut functions: Vec<TraceFn> = Vec::new();
    let mut span: Option<(i64, i64)> = None;
    let mut kind: Option<(Kind, u64)> = None;
    let mut key = Vec::new();
    while rec.next_record().map_err(io)? {
        let line = rec.line();
        let row = match columns.parse(&rec, &mut key) {
            Ok(r) => r,
            Err(m) => {
                bad.refuse(row_error(&name, line, m))?;
                continue;
            }
        };
        match kind {
            None => kind = Some((row.kind, line)),
            Some((k, first)) if k != row.kind => {
                let what = |k: Kind| if k == Kind::Rfc3339 { "an RFC 3339 date-time" } else { "a number of seconds" };
                let m = format!(
                    "the timestamp is {} but line {first}'s is {}; a trace uses one kind throughout",
                    what(row.kind),
                    what(k)
                );
                bad.refuse(row_error(&name, line, m))?;
                continue;
            }
            _ => {}
        }
        if let Err(m) = order.check(row.time, line) {
            bad.refuse(row_error(&name, line, m))?;
            continue;
        }
        let (i, new) = keys.insert(&key);
        let i = i as usize;
        if new {
            let id = String::from_utf8_lossy(&key).into_owned();
            functions.push(TraceFn { id, invocations: 0, memory_mb: None, exec: None, line });
        }
        let f = &mut functions[i];
        f.invocations += 1;
        if let Some(m) = row.memory_mb {
            f.memory_mb = Some(f.memory_mb.map_or(m, |x: f64| x.max(m)));
        }
        let end = row.time.saturating_add(row.exec as i64);
        span = Some(span.map_or((row.time, end), |(a, b)| (a.min(row.time), b.max(end))));
    }
    if format == Format::Azure2021 {
        azure2021::name_functions(&mut functions);
    }
    let time_kind = kind.map_or(Kind::Seconds, |k| k.0);
    Ok(Scan {
        functions,
        span,
        time_kind,
        bad,
        notes: Vec::new(),
        layout: Layout::Rows(RowLayout { file, columns, keys }),
    })
}

/// The stream of a row trace (see the module docs for the buffer).
pub struct RowStream {
    data: Arc<TraceData>,
    /// Local function → scenario function.
    functions: Box<[u32]>,
    rec: Records<PosReader>,
    key: Vec<u8>,
    order: Order,
    /// Rows read but not released, sorted by time: (trace time, local function, exec).
    buf: VecDeque<(i64, u32, Micros)>,
    eof: bool,
    done: bool,
    from: i64,
    until: i64,
}

impl RowStream {
    pub fn new(data: &Arc<TraceData>, functions: Box<[u32]>, from: Micros, until: Micros) -> RowStream {
        let Layout::Rows(l) = &data.layout else { unreachable!("a row stream over a row layout") };
        let mut rec = records(&l.file);
        // the header (checked by the scan)
        let eof = !matches!(rec.next_record(), Ok(true));
        RowStream {
            data: Arc::clone(data),
            functions,
            rec,
            key: Vec::new(),
            order: Order::new(data.window),
            buf: VecDeque::new(),
            eof,
            done: false,
            from: from as i64,
            until: until as i64,
        }
    }

    /// The next arrival in `[from, until)`.
    pub fn next_arrival(&mut self) -> Option<Arrival> {
        if self.done {
            return None;
        }
        loop {
            if let Some(&(t, f, exec)) = self.buf.front() {
                if self.eof || t < self.order.settled_before() {
                    self.buf.pop_front();
                    let sim = t - self.data.origin;
                    if sim < self.from {
                        continue;
                    }
                    if sim >= self.until {
                        // everything still to come is later
                        self.done = true;
                        self.buf = VecDeque::new();
                        return None;
                    }
                    return Some(Arrival { time: sim as Micros, func: self.functions[f as usize], exec: Some(exec) });
                }
            } else if self.eof {
                self.done = true;
                return None;
            }
            self.read_row();
        }
    }

    /// Read one row into the buffer. Rows the scan refused (bad, or too far out of order)
    /// and rows of functions not kept are passed over, exactly as the scan decided; a read
    /// error ends the stream and marks the file changed (the scan read the same bytes
    /// without one), so the run fails instead of ending short.
    fn read_row(&mut self) {
        let Layout::Rows(l) = &self.data.layout else { unreachable!("a row stream over a row layout") };
        match self.rec.next_record() {
            Ok(true) => {}
            Ok(false) => {
                self.eof = true;
                return;
            }
            Err(_) => {
                // the scan read the same bytes without an error: the file changed
                l.file.mark_short();
                self.eof = true;
                return;
            }
        }
        let Ok(row) = l.columns.parse(&self.rec, &mut self.key) else { return };
        let line = self.rec.line();
        if self.order.check(row.time, line).is_err() {
            return;
        }
        let Some(f) = l.keys.get(&self.key) else { return };
        let item = (row.time, f, row.exec);
        match self.buf.back() {
            Some(&(last, _, _)) if row.time < last => {
                // stable: after every row at the same time
                let at = self.buf.partition_point(|&(t, _, _)| t <= row.time);
                self.buf.insert(at, item);
            }
            _ => self.buf.push_back(item),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ordering_rule_accepts_rows_within_the_window_and_names_the_line_of_the_latest() {
        let mut o = Order::new(10_000_000);
        o.check(50_000_000, 2).unwrap();
        o.check(45_000_000, 3).unwrap();
        o.check(40_000_000, 4).unwrap();
        let e = o.check(39_999_999, 5).unwrap_err();
        assert!(e.contains("(line 2, at 50s)") && e.contains("reorder window of 10s"), "{e}");
        o.check(60_000_000, 6).unwrap();
        assert!(o.check(49_000_000, 7).is_err());
    }
}
