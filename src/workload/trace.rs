//! Real traces as arrival streams: what the three readers ([`super::azure2019`],
//! [`super::azure2021`], [`super::csv_trace`]) share.
//!
//! A trace is read twice. At scenario load time a *scan* reads it whole once, with memory
//! proportional to the number of functions only: it checks every row (bad rows are errors
//! with the file and line, or are counted when skipping is asked for), counts each function's
//! invocations (for top-N selection and the summary), and records what streaming needs (the
//! byte span of each Azure 2019 row; the column layout of row formats). Each replication then
//! *streams* the trace again through a [`TraceStream`], which yields arrivals in time order
//! with their function and, for per-invocation formats, their execution time. Files are
//! opened once and read by position ([`TraceFile`]), so parallel replications share a handle.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use super::model::Dist;
use crate::engine::rng::Rng;
use crate::error::InputError;
use crate::limits::LineLimit;
use crate::units::Micros;

use super::azure2019::{self, Az19Layout, Az19Stream};
use super::rows::{self, RowLayout, RowStream};
use super::timestamp::Kind;

/// The trace formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Azure Functions 2019: per-minute counts per function, duration and memory percentiles.
    Azure2019,
    /// Azure Functions 2021: `app,func,end_timestamp,duration` per invocation.
    Azure2021,
    /// `timestamp,function,duration_ms[,memory_mb]` per invocation.
    Csv,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &["azure2019", "azure2021", "csv"];

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "azure2019" => Some(Format::Azure2019),
            "azure2021" => Some(Format::Azure2021),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Azure2019 => "azure2019",
            Format::Azure2021 => "azure2021",
            Format::Csv => "csv",
        }
    }
}

/// How an Azure 2019 minute's count is spread within the minute. Every choice keeps the
/// count exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// The arrival times of a Poisson process given its count: independent uniform times.
    Poisson,
    /// Evenly spaced, `60 s / count` apart, from a random offset within the first gap.
    Uniform,
    /// All at the first microsecond of the minute.
    Start,
}

impl Spread {
    pub const NAMES: &'static [&'static str] = &["poisson", "uniform", "start"];

    pub fn parse(s: &str) -> Option<Spread> {
        match s {
            "poisson" => Some(Spread::Poisson),
            "uniform" => Some(Spread::Uniform),
            "start" => Some(Spread::Start),
            _ => None,
        }
    }
}

/// One file of a trace, opened once and read by position (`pread`), so several readers
/// (replications running in parallel) share it without sharing a cursor.
pub struct TraceFile {
    /// As given (joined to the scenario's folder), for messages.
    pub path: String,
    file: File,
    /// Length and modification time when opened: a file that differs at the end of a run
    /// was changed while it was read ([`TraceFile::unchanged`]).
    stamp: Option<(u64, SystemTime)>,
    /// A read after the scan failed or found less than the scan did.
    short: AtomicBool,
}

impl std::fmt::Debug for TraceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TraceFile({})", self.path)
    }
}

impl TraceFile {
    /// Open `path`; a failure is bad input naming the file.
    pub fn open(path: &Path) -> Result<Arc<TraceFile>, InputError> {
        let shown = path.display().to_string();
        if path.is_dir() {
            return Err(InputError::new(&shown, "", "is a folder; a trace file is expected here"));
        }
        let file = File::open(path).map_err(|e| InputError::new(&shown, "", format!("cannot read the trace: {e}")))?;
        let stamp = file.metadata().ok().and_then(|m| Some((m.len(), m.modified().ok()?)));
        Ok(Arc::new(TraceFile { path: shown, file, stamp, short: AtomicBool::new(false) }))
    }

    /// A stream found the file shorter than (or unreadable where) the scan read it.
    pub fn mark_short(&self) {
        self.short.store(true, Ordering::Relaxed);
    }

    /// `Ok` when the file still has the length and modification time it had when opened
    /// and no read came up short; otherwise the run read a different file than the scan
    /// counted (truncated, rewritten or appended to underfoot), and its results are not
    /// the trace's.
    pub fn unchanged(&self) -> Result<(), TraceChanged> {
        let now = self.file.metadata().ok().and_then(|m| Some((m.len(), m.modified().ok()?)));
        let what = if self.short.load(Ordering::Relaxed) {
            Some("a read came up short of what the first pass counted".to_string())
        } else if now != self.stamp {
            Some(match (self.stamp, now) {
                (Some((a, _)), Some((b, _))) if a != b => format!("it was {a} bytes when opened and is {b} bytes now"),
                _ => "its modification time changed".to_string(),
            })
        } else {
            None
        };
        match what {
            None => Ok(()),
            Some(what) => Err(TraceChanged { path: self.path.clone(), what }),
        }
    }

    /// Read at `pos`; fewer bytes than asked only at the end of the file.
    pub fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(&self.file, buf, pos)
        }
        #[cfg(windows)]
        {
            std::os::windows::fs::FileExt::seek_read(&self.file, buf, pos)
        }
    }

    /// A sequential reader from `pos` (the start of a line) that refuses a line longer
    /// than [`crate::limits::MAX_LINE_BYTES`].
    pub fn reader(self: &Arc<Self>, pos: u64) -> PosReader {
        PosReader(LineLimit::new(RawReader { file: Arc::clone(self), pos }, crate::limits::MAX_LINE_BYTES))
    }
}

/// A trace that changed while a run read it: exit 1 naming the file, never a shorter run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceChanged {
    pub path: String,
    pub what: String,
}

impl std::fmt::Display for TraceChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the trace changed while it was read ({}); the run's results would not be the trace's, so none are written; run again on a file that stays put",
            crate::error::OneLine(&self.path),
            self.what
        )
    }
}

impl std::error::Error for TraceChanged {}

/// A [`Read`] over a [`TraceFile`] that keeps its own position and bounds its lines.
pub struct PosReader(LineLimit<RawReader>);

impl Read for PosReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// The unbounded positional reader under a [`PosReader`].
pub struct RawReader {
    file: Arc<TraceFile>,
    pos: u64,
}

impl Read for RawReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Rows refused by a scan: an error, or, when skipping is asked for, a count and the first
/// message (never a silent drop).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BadRows {
    pub skip: bool,
    pub count: u64,
    pub first: Option<String>,
}

impl BadRows {
    pub fn new(skip: bool) -> Self {
        BadRows { skip, count: 0, first: None }
    }

    /// `Err(e)` unless skipping; then counts it.
    pub fn refuse(&mut self, e: InputError) -> Result<(), InputError> {
        if !self.skip {
            return Err(e);
        }
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(e.to_string());
        }
        Ok(())
    }
}

/// A bad row's error: `file:line: message`.
pub fn row_error(file: &str, line: u64, message: impl Into<String>) -> InputError {
    InputError::new(file, "", message).with_line(Some(line as usize))
}

/// One function found by a scan.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFn {
    /// The name it gets in the scenario and the reports.
    pub id: String,
    pub invocations: u64,
    /// From the trace, unrounded (MB), when it gives one.
    pub memory_mb: Option<f64>,
    /// Execution times from the trace's percentile table (Azure 2019).
    pub exec: Option<Dist>,
    /// Where it first appears.
    pub line: u64,
}

/// What a scan learnt about a trace.
#[derive(Debug)]
pub struct Scan {
    /// Every function, in order of first appearance.
    pub functions: Vec<TraceFn>,
    /// Earliest arrival and the end of the latest (trace time, µs); `None` without arrivals.
    pub span: Option<(i64, i64)>,
    pub time_kind: Kind,
    pub bad: BadRows,
    /// Facts worth printing (e.g. functions without a memory row).
    pub notes: Vec<String>,
    pub layout: Layout,
}

/// What streaming needs, per format.
#[derive(Debug)]
pub enum Layout {
    Azure2019(Az19Layout),
    Rows(RowLayout),
}

impl Layout {
    /// The same layout restricted to the functions in `keep` (scan indices, increasing);
    /// function `keep[k]` becomes local function `k`.
    pub fn select(self, keep: &[usize]) -> Layout {
        match self {
            Layout::Azure2019(l) => Layout::Azure2019(l.select(keep)),
            Layout::Rows(l) => Layout::Rows(l.select(keep)),
        }
    }
}

/// Where a scan reads from: the trace and, for Azure 2019, its durations and memory files.
#[derive(Debug, Clone)]
pub struct Files<'a> {
    pub trace: &'a Path,
    pub durations: Option<&'a Path>,
    pub memory: Option<&'a Path>,
}

/// Scan a trace (see the module docs). `window` is the reorder window of row formats.
pub fn scan(format: Format, files: &Files<'_>, window: Micros, skip_bad_rows: bool) -> Result<Scan, InputError> {
    match format {
        Format::Azure2019 => azure2019::scan(files, skip_bad_rows),
        Format::Azure2021 | Format::Csv => rows::scan(format, files.trace, window, skip_bad_rows),
    }
}

/// A loaded trace, restricted to the functions a scenario keeps: what every replication
/// streams from.
#[derive(Debug)]
pub struct TraceData {
    pub layout: Layout,
    /// Trace time (µs) that becomes simulated time 0.
    pub origin: i64,
    /// Reorder window of row formats (µs).
    pub window: Micros,
    pub spread: Spread,
}

/// A trace workload, loaded: the model's `Arrivals::Trace`.
#[derive(Debug, Clone)]
pub struct TraceArrivals {
    pub format: Format,
    /// The trace's path (joined to the scenario's folder).
    pub path: String,
    pub data: Arc<TraceData>,
    /// Local function (the trace's functions the scenario keeps, in trace order) → scenario
    /// function index.
    pub functions: Vec<u32>,
    pub summary: TraceSummary,
}

impl PartialEq for TraceArrivals {
    fn eq(&self, o: &Self) -> bool {
        let d = (&self.data, &o.data);
        self.format == o.format
            && self.path == o.path
            && self.functions == o.functions
            && self.summary == o.summary
            && (d.0.origin, d.0.window, d.0.spread) == (d.1.origin, d.1.window, d.1.spread)
    }
}

/// What loading a trace found, for the run's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceSummary {
    pub functions_in_trace: usize,
    pub functions: usize,
    pub invocations_in_trace: u64,
    /// Invocations of the kept functions in the whole trace (the window may cut some).
    pub invocations: u64,
    pub bad: BadRows,
    pub notes: Vec<String>,
}

impl TraceData {
    /// The streamed file: `Ok` when it is as the scan found it ([`TraceFile::unchanged`]).
    pub fn unchanged(&self) -> Result<(), TraceChanged> {
        match &self.layout {
            Layout::Azure2019(l) => l.file.unchanged(),
            Layout::Rows(l) => l.file.unchanged(),
        }
    }
}

impl TraceArrivals {
    /// One line for the run's summary, e.g. `azure2019 trace data/x: 500 of 500 functions,
    /// 3037902 of 3037902 invocations, no bad rows`.
    pub fn describe(&self) -> String {
        let s = &self.summary;
        let bad = match (s.bad.skip, s.bad.count) {
            (_, 0) => "no bad rows".to_string(),
            (_, n) => format!(
                "{n} bad row{} skipped (skip_bad_rows; first: {})",
                if n == 1 { "" } else { "s" },
                s.bad.first.as_deref().unwrap_or("?")
            ),
        };
        let mut line = format!(
            "{} trace {}: {} of {} functions, {} of {} invocations, {bad}",
            self.format.name(),
            self.path,
            s.functions,
            s.functions_in_trace,
            s.invocations,
            s.invocations_in_trace
        );
        for n in &s.notes {
            line.push_str("; ");
            line.push_str(n);
        }
        line
    }
}

/// One invocation in simulated time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    pub time: Micros,
    /// Scenario function index.
    pub func: u32,
    /// The execution time the trace gives, if it gives one per invocation.
    pub exec: Option<Micros>,
}

/// The arrivals of one trace workload within `[from, until)`, in time order (ties in the
/// order the trace gives them). Memory is bounded by the number of functions (Azure 2019)
/// or by the rows within the reorder window (row formats), never by the trace's length.
pub enum TraceStream {
    Azure2019(Box<Az19Stream>),
    Rows(Box<RowStream>),
}

impl TraceStream {
    pub fn open(t: &TraceArrivals, from: Micros, until: Micros) -> TraceStream {
        let functions = t.functions.clone().into_boxed_slice();
        match &t.data.layout {
            Layout::Azure2019(_) => TraceStream::Azure2019(Box::new(Az19Stream::new(&t.data, functions, from, until))),
            Layout::Rows(_) => TraceStream::Rows(Box::new(RowStream::new(&t.data, functions, from, until))),
        }
    }

    #[inline]
    pub fn next(&mut self, rng: &mut Rng) -> Option<Arrival> {
        match self {
            TraceStream::Azure2019(s) => s.next(rng),
            TraceStream::Rows(s) => s.next_arrival(),
        }
    }
}

/// FxHash (rustc's hasher): function ids are looked up once per row, and SipHash's DoS
/// resistance buys nothing on a local file.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(FX_SEED);
        }
        for &b in chunks.remainder() {
            self.hash = (self.hash.rotate_left(5) ^ b as u64).wrapping_mul(FX_SEED);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.hash = (self.hash.rotate_left(5) ^ i as u64).wrapping_mul(FX_SEED);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.hash = (self.hash.rotate_left(5) ^ i as u64).wrapping_mul(FX_SEED);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A map keyed by function ids.
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Memory a trace gives, as a function size: rounded up to the 64 MB step, at least 128 MB.
pub fn round_memory_mb(mb: f64) -> u64 {
    let steps = (mb / 64.0).ceil().max(2.0);
    steps as u64 * 64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_memory_rounds_up_to_the_64_mb_step_with_a_128_mb_floor() {
        assert_eq!(round_memory_mb(1.6), 128);
        assert_eq!(round_memory_mb(57.5), 128);
        assert_eq!(round_memory_mb(128.0), 128);
        assert_eq!(round_memory_mb(128.1), 192);
        assert_eq!(round_memory_mb(405.0), 448);
    }

    #[test]
    fn bad_rows_are_errors_unless_skipped_and_then_counted() {
        let mut b = BadRows::new(false);
        assert!(b.refuse(row_error("t.csv", 3, "x")).is_err());
        let mut b = BadRows::new(true);
        b.refuse(row_error("t.csv", 3, "first")).unwrap();
        b.refuse(row_error("t.csv", 9, "second")).unwrap();
        assert_eq!(b.count, 2);
        assert_eq!(b.first.as_deref(), Some("t.csv:3: first"));
    }
}
