//! The Azure Functions 2019 trace: three files joined on the function hash.
//!
//! - invocations: `HashOwner,HashApp,HashFunction,Trigger,<m>,<m+1>,…` — one row per
//!   function, one column per minute (the column names are consecutive minute numbers; the
//!   day files have 1..1440, the 500-function sample 480..959), each cell that minute's count;
//! - durations: `HashFunction` and `percentile_Average_{0,1,25,50,75,99,100}` in ms, which
//!   become the function's `empirical` execution-time distribution;
//! - memory: `HashFunction` (or, in the original per-app file, `HashOwner,HashApp`) and
//!   `AverageAllocatedMb`, which becomes the function's memory.
//!
//! **Streaming a wide file.** The invocations file is function-major (a row is a function's
//! whole day) while the simulation needs time-major order (every function's count for
//! minute 1, then minute 2, …). Loading the matrix would take functions × minutes of
//! memory; instead the scan remembers, per function, where its counts start and end in the
//! file, and the stream keeps one *cursor* per function: its file position and a chunk of
//! [`CHUNK`] decoded counts, refilled with one positioned read (`pread`) when used up. A
//! minute costs one step of every cursor; the minute's arrivals of all functions are merged
//! in time order by a heap holding at most one entry per function. Memory is therefore
//! functions × (`CHUNK` counts + a few words), whatever the number of minutes or
//! invocations, and the file is read once per replication, in chunks, with no temporary
//! copy. (An external transpose to a temporary file would also be flat, but costs a second
//! write and read of the whole matrix and a scratch file to clean up.)

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::sync::Arc;

use rand::Rng as _;

use super::model::Dist;
use super::timestamp::Kind;
use super::trace::{row_error, Arrival, BadRows, Files, FxMap, Layout, Scan, Spread, TraceData, TraceFile, TraceFn};
use crate::engine::rng::Rng;
use crate::engine::QuadHeap;
use crate::error::InputError;
use crate::units::Micros;

/// µs in a minute.
pub const MINUTE: i64 = 60_000_000;
/// Counts decoded per cursor refill.
pub const CHUNK: usize = 64;
/// A count cell has at most this many characters (u32::MAX has 10 digits).
const MAX_CELL: usize = 10;
/// Column names of the durations file's percentile table, with their percentiles.
const PERCENTILES: [(&str, f64); 7] = [
    ("percentile_Average_0", 0.0),
    ("percentile_Average_1", 1.0),
    ("percentile_Average_25", 25.0),
    ("percentile_Average_50", 50.0),
    ("percentile_Average_75", 75.0),
    ("percentile_Average_99", 99.0),
    ("percentile_Average_100", 100.0),
];
const INVOCATIONS_HEADER: &str = "HashOwner,HashApp,HashFunction,Trigger,<minute>,<minute+1>,...";

/// What streaming an Azure 2019 trace needs.
#[derive(Debug)]
pub struct Az19Layout {
    pub file: Arc<TraceFile>,
    /// The first minute column's number.
    pub first_minute: i64,
    pub minutes: u32,
    /// Per function: byte offsets of its first count and of the end of its row.
    pub rows: Vec<(u64, u64)>,
}

impl Az19Layout {
    pub fn select(self, keep: &[usize]) -> Az19Layout {
        let rows = keep.iter().map(|&i| self.rows[i]).collect();
        Az19Layout { rows, ..self }
    }
}

/// Reads lines with their byte offsets and line numbers.
struct Lines {
    r: BufReader<super::trace::PosReader>,
    pos: u64,
    line: u64,
    buf: Vec<u8>,
}

impl Lines {
    /// The next line without its end-of-line, with its start offset; `None` at the end.
    fn next(&mut self) -> std::io::Result<Option<(u64, &[u8])>> {
        self.buf.clear();
        let n = self.r.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        let start = self.pos;
        self.pos += n as u64;
        self.line += 1;
        let mut end = self.buf.len();
        while end > 0 && matches!(self.buf[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        Ok(Some((start, &self.buf[..end])))
    }
}

/// One function's row of the invocations file.
struct Row {
    owner: String,
    app: String,
}

/// Scan the three files (see [`super::trace`]).
pub fn scan(files: &Files<'_>, skip: bool) -> Result<Scan, InputError> {
    let file = TraceFile::open(files.trace)?;
    let name = file.path.clone();
    let io = |e: std::io::Error| InputError::new(&name, "", format!("cannot read the trace: {e}"));
    let mut lines = Lines { r: BufReader::with_capacity(1 << 16, file.reader(0)), pos: 0, line: 0, buf: Vec::new() };
    let Some((_, header)) = lines.next().map_err(io)? else {
        return Err(InputError::new(&name, "", format!("the file is empty; expected a header: {INVOCATIONS_HEADER}")));
    };
    let (first_minute, minutes) = header_minutes(header).map_err(|m| row_error(&name, 1, m))?;
    let fields = 4 + minutes as usize;
    let mut bad = BadRows::new(skip);
    let mut functions: Vec<TraceFn> = Vec::new();
    let mut rows: Vec<(u64, u64)> = Vec::new();
    let mut owners: Vec<Row> = Vec::new();
    let mut index: FxMap<String, usize> = FxMap::default();
    loop {
        let line_no = lines.line + 1;
        let Some((start, text)) = lines.next().map_err(io)? else { break };
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_row(text, fields) {
            Err(m) => bad.refuse(row_error(&name, line_no, m))?,
            Ok((ids, counts_at, total)) => {
                let [owner, app, func] = ids;
                if let Some(&first) = index.get(&func) {
                    let m = format!("function {func} appears again (first at line {})", functions[first].line);
                    bad.refuse(row_error(&name, line_no, m))?;
                    continue;
                }
                index.insert(func.clone(), functions.len());
                functions.push(TraceFn { id: func, invocations: total, memory_mb: None, exec: None, line: line_no });
                rows.push((start + counts_at as u64, start + text.len() as u64));
                owners.push(Row { owner, app });
            }
        }
    }
    let mut notes = Vec::new();
    let durations =
        files.durations.ok_or_else(|| InputError::new(&name, "", "an Azure 2019 trace needs its durations file"))?;
    read_durations(durations, &index, &mut functions, &mut bad)?;
    if let Some(memory) = files.memory {
        read_memory(memory, &index, &owners, &mut functions, &mut bad)?;
        let without = functions.iter().filter(|f| f.memory_mb.is_none()).count();
        if without > 0 {
            notes.push(format!(
                "{without} of {} functions have no row in {}; they take the template function's memory",
                functions.len(),
                memory.display()
            ));
        }
    }
    // every function needs its execution times
    let mut keep = Vec::with_capacity(functions.len());
    for (i, f) in functions.iter().enumerate() {
        if f.exec.is_some() {
            keep.push(i);
        } else {
            let m = format!("function {} has no row in {}; its execution times are unknown", f.id, durations.display());
            bad.refuse(row_error(&name, f.line, m))?;
        }
    }
    if keep.len() < functions.len() {
        functions = keep.iter().map(|&i| functions[i].clone()).collect();
        rows = keep.iter().map(|&i| rows[i]).collect();
    }
    let span = Some((first_minute * MINUTE, (first_minute + minutes as i64) * MINUTE));
    let layout = Layout::Azure2019(Az19Layout { file, first_minute, minutes, rows });
    Ok(Scan { functions, span, time_kind: Kind::Seconds, bad, notes, layout })
}

/// The minute columns of the header: (first minute, number of minutes).
pub(crate) fn header_minutes(header: &[u8]) -> Result<(i64, u32), String> {
    let text = String::from_utf8_lossy(header);
    let names: Vec<&str> = text.trim_start_matches('\u{feff}').split(',').map(str::trim).collect();
    let ids = ["HashOwner", "HashApp", "HashFunction", "Trigger"];
    if names.len() < 5 || names[..4] != ids {
        return Err(format!(
            "the header starts with \"{}\"; an Azure 2019 invocations file starts with {INVOCATIONS_HEADER}",
            names.iter().take(5).copied().collect::<Vec<_>>().join(",")
        ));
    }
    let first: i64 = names[4].parse().map_err(|_| {
        format!("column 5 of the header is \"{}\"; minute columns are numbered, e.g. 1,2,3 or 480,481", names[4])
    })?;
    for (k, n) in names[4..].iter().enumerate() {
        if n.parse::<i64>().ok() != Some(first + k as i64) {
            return Err(format!(
                "column {} of the header is \"{n}\" where minute {} was expected; minute columns must be consecutive",
                k + 5,
                first + k as i64
            ));
        }
    }
    Ok((first, (names.len() - 4) as u32))
}

/// A data row: the three ids, the offset of its first count, and its total count.
pub(crate) fn parse_row(text: &[u8], fields: usize) -> Result<([String; 3], usize, u64), String> {
    let mut it = text.split(|&b| b == b',');
    let mut id = |what: &str| -> Result<String, String> {
        let f = it.next().ok_or_else(|| format!("the row ends before {what}"))?;
        if f.contains(&b'"') {
            return Err(format!("{what} is quoted; the Azure 2019 format has no quoted fields"));
        }
        let s = String::from_utf8_lossy(f).trim().to_string();
        if s.is_empty() && what == "HashFunction" {
            return Err("HashFunction is empty".into());
        }
        Ok(s)
    };
    let owner = id("HashOwner")?;
    let app = id("HashApp")?;
    let func = id("HashFunction")?;
    id("Trigger")?;
    let counts_at = nth_comma(text, 4).map(|p| p + 1).ok_or("the row ends before the minute counts")?;
    let mut total: u64 = 0;
    let mut n = 4;
    for (k, cell) in text[counts_at.min(text.len())..].split(|&b| b == b',').enumerate() {
        n += 1;
        if n > fields {
            continue;
        }
        if cell.is_empty() || cell.len() > MAX_CELL || !cell.iter().all(u8::is_ascii_digit) {
            let shown = String::from_utf8_lossy(cell);
            return Err(format!(
                "the count for minute column {} is \"{shown}\"; counts are whole numbers from 0 to 4294967295",
                k + 1
            ));
        }
        let c: u64 = cell.iter().fold(0u64, |a, d| a * 10 + (d - b'0') as u64);
        if c > u32::MAX as u64 {
            return Err(format!("the count for minute column {} is {c}; at most 4294967295 per minute", k + 1));
        }
        total += c;
    }
    if n != fields || counts_at >= text.len() {
        return Err(format!("{n} fields where the header has {fields}"));
    }
    Ok(([owner, app, func], counts_at, total))
}

fn nth_comma(text: &[u8], n: usize) -> Option<usize> {
    text.iter().enumerate().filter(|(_, &b)| b == b',').nth(n - 1).map(|(i, _)| i)
}

fn csv_reader(path: &std::path::Path) -> Result<(String, csv::Reader<super::trace::PosReader>), InputError> {
    let f = TraceFile::open(path)?;
    let rdr = csv::ReaderBuilder::new().flexible(true).from_reader(f.reader(0));
    Ok((f.path.clone(), rdr))
}

fn column(headers: &csv::StringRecord, want: &str, file: &str, expected: &str) -> Result<usize, InputError> {
    headers.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == want).ok_or_else(|| {
        InputError::new(file, "", format!("the header lacks `{want}`; expected {expected}")).with_line(Some(1))
    })
}

fn read_durations(
    path: &std::path::Path,
    index: &FxMap<String, usize>,
    functions: &mut [TraceFn],
    bad: &mut BadRows,
) -> Result<(), InputError> {
    let (name, mut rdr) = csv_reader(path)?;
    let expected = "HashFunction and percentile_Average_0,1,25,50,75,99,100 (ms)";
    let io = |e: csv::Error| InputError::new(&name, "", format!("cannot read: {e}"));
    let headers = rdr.headers().map_err(io)?.clone();
    let func_col = column(&headers, "HashFunction", &name, expected)?;
    let mut cols = [0usize; 7];
    for (c, (p, _)) in cols.iter_mut().zip(PERCENTILES) {
        *c = column(&headers, p, &name, expected)?;
    }
    let mut seen: HashMap<usize, u64> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(io)? {
        let line = rec.position().map_or(0, |p| p.line());
        let Some(&i) = rec.get(func_col).map(str::trim).and_then(|f| index.get(f)) else {
            // a function the invocations file does not have: not used
            continue;
        };
        if let Some(first) = seen.get(&i) {
            let m = format!("function {} has a second durations row (first at line {first})", functions[i].id);
            bad.refuse(row_error(&name, line, m))?;
            continue;
        }
        match percentile_table(&rec, &cols) {
            Ok(points) => {
                seen.insert(i, line);
                functions[i].exec = Some(Dist::Empirical { points });
            }
            Err(m) => bad.refuse(row_error(&name, line, m))?,
        }
    }
    Ok(())
}

/// The percentile columns (ms) → empirical points (percentile, µs).
fn percentile_table(rec: &csv::StringRecord, cols: &[usize; 7]) -> Result<Vec<(f64, f64)>, String> {
    let mut points = Vec::with_capacity(7);
    for (&c, (col, p)) in cols.iter().zip(PERCENTILES) {
        let text = rec.get(c).unwrap_or("").trim();
        let ms: f64 = text.parse().map_err(|_| format!("{col} is \"{text}\"; a duration in ms is a number"))?;
        if !ms.is_finite() || ms < 0.0 {
            return Err(format!("{col} is {text}; a duration in ms is 0 or more"));
        }
        if ms > 86_400_000.0 {
            return Err(format!("{col} is {text} ms, more than a day"));
        }
        if let Some(&(lp, lv)) = points.last() {
            if ms * 1e3 < lv {
                return Err(format!(
                    "{col} ({text} ms) is less than percentile_Average_{lp} ({} ms); percentiles must not decrease",
                    lv / 1e3
                ));
            }
        }
        points.push((p, (ms * 1e3).round()));
    }
    Ok(points)
}

fn read_memory(
    path: &std::path::Path,
    index: &FxMap<String, usize>,
    owners: &[Row],
    functions: &mut [TraceFn],
    bad: &mut BadRows,
) -> Result<(), InputError> {
    let (name, mut rdr) = csv_reader(path)?;
    let expected = "HashFunction (or HashOwner,HashApp) and AverageAllocatedMb";
    let io = |e: csv::Error| InputError::new(&name, "", format!("cannot read: {e}"));
    let headers = rdr.headers().map_err(io)?.clone();
    let mb_col = column(&headers, "AverageAllocatedMb", &name, expected)?;
    let per_function = headers.iter().any(|h| h.trim() == "HashFunction");
    // per-app files: every function of the app gets the app's memory
    let mut apps: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    let (key_col, owner_col) = if per_function {
        (column(&headers, "HashFunction", &name, expected)?, None)
    } else {
        for (i, o) in owners.iter().enumerate() {
            apps.entry((o.owner.as_str(), o.app.as_str())).or_default().push(i);
        }
        (column(&headers, "HashApp", &name, expected)?, Some(column(&headers, "HashOwner", &name, expected)?))
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(io)? {
        let line = rec.position().map_or(0, |p| p.line());
        let key = rec.get(key_col).unwrap_or("").trim().to_string();
        let targets: Vec<usize> = match owner_col {
            None => index.get(&key).map(|&i| vec![i]).unwrap_or_default(),
            Some(oc) => {
                let owner = rec.get(oc).unwrap_or("").trim();
                apps.get(&(owner, key.as_str())).cloned().unwrap_or_default()
            }
        };
        if targets.is_empty() {
            continue;
        }
        if let Some(first) = seen.get(&key) {
            bad.refuse(row_error(&name, line, format!("{key} has a second memory row (first at line {first})")))?;
            continue;
        }
        let text = rec.get(mb_col).unwrap_or("").trim();
        match text.parse::<f64>() {
            Ok(mb) if mb.is_finite() && mb > 0.0 && mb <= 32_768.0 => {
                seen.insert(key, line);
                for i in targets {
                    functions[i].memory_mb = Some(mb);
                }
            }
            _ => bad.refuse(row_error(
                &name,
                line,
                format!("AverageAllocatedMb is \"{text}\"; memory is a number of MB, more than 0 and at most 32768"),
            ))?,
        }
    }
    Ok(())
}

/// One function's position in the invocations file and its next counts.
struct Cursor {
    pos: u64,
    end: u64,
    counts: [u32; CHUNK],
    n: u8,
    at: u8,
}

impl Cursor {
    /// The count of the next minute (0 past the end of the row, or after a read error).
    #[inline]
    fn next(&mut self, file: &TraceFile, scratch: &mut Vec<u8>) -> u32 {
        if self.at == self.n {
            self.refill(file, scratch);
            if self.n == 0 {
                return 0;
            }
        }
        let c = self.counts[self.at as usize];
        self.at += 1;
        c
    }

    /// Decode up to [`CHUNK`] counts from the file at `pos`.
    fn refill(&mut self, file: &TraceFile, scratch: &mut Vec<u8>) {
        self.n = 0;
        self.at = 0;
        if self.pos >= self.end {
            return;
        }
        let want = ((self.end - self.pos) as usize).min(CHUNK * (MAX_CELL + 1));
        scratch.resize(want, 0);
        let mut got = 0;
        while got < want {
            match file.read_at(&mut scratch[got..], self.pos + got as u64) {
                Ok(0) | Err(_) => break,
                Ok(k) => got += k,
            }
        }
        if got < want {
            // the file changed since the scan: the rest of this row counts as zeros and the
            // run fails at its end (`TraceFile::unchanged`)
            file.mark_short();
            self.pos = self.end;
            return;
        }
        let row_ends_here = self.pos + want as u64 == self.end;
        let (mut value, mut field_start, mut n) = (0u32, 0usize, 0usize);
        for (k, &b) in scratch[..want].iter().enumerate() {
            if b == b',' {
                self.counts[n] = value;
                n += 1;
                value = 0;
                field_start = k + 1;
                if n == CHUNK {
                    break;
                }
            } else {
                value = value.wrapping_mul(10).wrapping_add(b.wrapping_sub(b'0') as u32);
            }
        }
        if n < CHUNK && row_ends_here && field_start < want {
            self.counts[n] = value;
            n += 1;
            field_start = want;
        }
        self.pos += field_start as u64;
        self.n = n as u8;
    }
}

/// A function's arrivals within the current minute.
#[derive(Clone, Copy, Default)]
struct Emit {
    /// The minute's start, simulated µs (may be negative: before the origin).
    start: i64,
    count: u32,
    /// Arrivals already placed.
    k: u32,
    /// Poisson: position of the last arrival within the minute, in [0, 1).
    x: f64,
    /// Uniform: offset of the first arrival, in gaps.
    phase: f64,
}

impl Emit {
    /// The time of arrival `self.k` (drawing what it needs).
    #[inline]
    fn time(&mut self, spread: Spread, rng: &mut Rng) -> i64 {
        let offset = match spread {
            Spread::Start => 0,
            Spread::Uniform => ((self.k as f64 + self.phase) * MINUTE as f64 / self.count as f64) as i64,
            Spread::Poisson => {
                // the next of the remaining r uniform order statistics on (x, 1)
                let r = (self.count - self.k) as f64;
                let u: f64 = 1.0 - rng.random::<f64>();
                self.x += (1.0 - self.x) * -(u.ln() / r).exp_m1();
                (self.x * MINUTE as f64) as i64
            }
        };
        self.start + offset.clamp(0, MINUTE - 1)
    }
}

/// The stream of an Azure 2019 trace (module docs).
pub struct Az19Stream {
    data: Arc<TraceData>,
    /// Local function → scenario function.
    functions: Box<[u32]>,
    file: Arc<TraceFile>,
    first_minute: i64,
    minutes: u32,
    cursors: Vec<Cursor>,
    emits: Vec<Emit>,
    /// The current minute's next arrival of each function with arrivals left: (time, local).
    heap: QuadHeap<(i64, u32)>,
    /// The next minute column to load.
    minute: u32,
    from: i64,
    until: i64,
    done: bool,
    scratch: Vec<u8>,
}

impl Az19Stream {
    pub fn new(data: &Arc<TraceData>, functions: Box<[u32]>, from: Micros, until: Micros) -> Az19Stream {
        let Layout::Azure2019(l) = &data.layout else { unreachable!("an Azure 2019 stream over its layout") };
        let cursors =
            l.rows.iter().map(|&(pos, end)| Cursor { pos, end, counts: [0; CHUNK], n: 0, at: 0 }).collect::<Vec<_>>();
        Az19Stream {
            emits: vec![Emit::default(); cursors.len()],
            heap: QuadHeap::with_capacity(cursors.len()),
            cursors,
            functions,
            data: Arc::clone(data),
            file: Arc::clone(&l.file),
            first_minute: l.first_minute,
            minutes: l.minutes,
            minute: 0,
            from: from as i64,
            until: until as i64,
            done: false,
            scratch: Vec::with_capacity(CHUNK * (MAX_CELL + 1)),
        }
    }

    /// The next arrival in `[from, until)`.
    #[inline]
    pub fn next(&mut self, rng: &mut Rng) -> Option<Arrival> {
        if self.done {
            return None;
        }
        let spread = self.data.spread;
        loop {
            if let Some(&(t, i)) = self.heap.peek() {
                let e = &mut self.emits[i as usize];
                e.k += 1;
                if e.k < e.count {
                    self.heap.replace_top((e.time(spread, rng), i));
                } else {
                    self.heap.pop();
                }
                if t < self.from {
                    continue;
                }
                if t >= self.until {
                    self.done = true;
                    return None;
                }
                return Some(Arrival { time: t as Micros, func: self.functions[i as usize], exec: None });
            }
            if !self.load_minute(rng) {
                self.done = true;
                return None;
            }
        }
    }

    /// Step every cursor to the next minute and queue that minute's first arrivals.
    /// `false` when no minute is left in the trace or the window.
    fn load_minute(&mut self, rng: &mut Rng) -> bool {
        if self.minute >= self.minutes {
            return false;
        }
        let start = (self.first_minute + self.minute as i64) * MINUTE - self.data.origin;
        if start >= self.until {
            return false;
        }
        self.minute += 1;
        let wanted = start + MINUTE > self.from;
        let spread = self.data.spread;
        for (i, c) in self.cursors.iter_mut().enumerate() {
            let count = c.next(&self.file, &mut self.scratch);
            if count == 0 || !wanted {
                continue;
            }
            let e = &mut self.emits[i];
            *e = Emit { start, count, k: 0, x: 0.0, phase: 0.0 };
            if spread == Spread::Uniform {
                e.phase = rng.random::<f64>();
            }
            let t = e.time(spread, rng);
            self.heap.push((t, i as u32));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_gives_consecutive_minutes() {
        assert_eq!(header_minutes(b"HashOwner,HashApp,HashFunction,Trigger,480,481,482").unwrap(), (480, 3));
        let e = header_minutes(b"HashOwner,HashApp,HashFunction,Trigger,1,2,4").unwrap_err();
        assert!(e.contains("column 7") && e.contains("minute 3"), "{e}");
        let e = header_minutes(b"Owner,HashApp,HashFunction,Trigger,1").unwrap_err();
        assert!(e.contains("HashOwner,HashApp"), "{e}");
    }

    #[test]
    fn rows_give_their_ids_count_offset_and_total() {
        let (ids, at, total) = parse_row(b"o,a,f,http,1,0,22", 7).unwrap();
        assert_eq!(ids, ["o".to_string(), "a".into(), "f".into()]);
        assert_eq!((at, total), (11, 23));
        for (row, want) in [
            (&b"o,a,f,http,1,x,2"[..], "\"x\""),
            (b"o,a,f,http,1,,2", "\"\""),
            (b"o,a,f,http,1,-1,2", "\"-1\""),
            (b"o,a,f,http,1,2", "6 fields where the header has 7"),
            (b"o,a,f,http,1,2,3,4", "8 fields"),
            (b"o,a,,http,1,2,3", "HashFunction is empty"),
            (b"o,a,f,http,1,2,99999999999", "0 to 4294967295"),
            (b"o,a,f,http,1,2,4294967296", "at most 4294967295"),
        ] {
            let e = parse_row(row, 7).unwrap_err();
            assert!(e.contains(want), "{}: {e}", String::from_utf8_lossy(row));
        }
    }

    #[test]
    fn poisson_spread_places_every_arrival_inside_its_minute_in_order() {
        let mut rng = crate::engine::rng::stream(1, 0, "t", 0);
        for count in [1u32, 2, 7, 1000] {
            let mut e = Emit { start: 5 * MINUTE, count, ..Emit::default() };
            let mut last = 5 * MINUTE;
            for k in 0..count {
                e.k = k;
                let t = e.time(Spread::Poisson, &mut rng);
                assert!(t >= last && t < 6 * MINUTE, "{count}: {t}");
                last = t;
            }
        }
    }

    #[test]
    fn uniform_spread_is_evenly_spaced() {
        let mut e = Emit { start: 0, count: 4, phase: 0.5, ..Emit::default() };
        let ts: Vec<i64> = (0..4)
            .map(|k| {
                e.k = k;
                e.time(Spread::Uniform, &mut crate::engine::rng::stream(1, 0, "t", 0))
            })
            .collect();
        assert_eq!(ts, [7_500_000, 22_500_000, 37_500_000, 52_500_000]);
    }
}
