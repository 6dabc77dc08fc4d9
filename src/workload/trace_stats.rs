//! The facts a reviewer wants before trusting a trace (`coldcost trace stats`): functions,
//! invocations, the rate over time, how many functions are rare, how skewed the load is,
//! and the durations and memory it gives. One pass over the files; memory is per function
//! and per minute of the trace (8 bytes a minute), never per invocation.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::azure2019::{header_minutes, parse_row, MINUTE};
use super::records::KeyIndex;
use super::rows::{self, Columns};
use super::timestamp::Kind;
use super::trace::{row_error, BadRows, Format, TraceFile};
use super::{azure2021, csv_trace};
use crate::error::InputError;
use crate::latency::Latency;

/// What `trace stats` reports about one trace.
#[derive(Debug, Clone)]
pub struct TraceStats {
    pub file: String,
    pub format: Format,
    /// Per function: id and invocations, in order of first appearance.
    pub functions: Vec<(String, u64)>,
    /// Trace time (µs) of the first minute of `per_minute`.
    pub start: i64,
    /// Invocations per minute from `start` (minutes without any are zeros).
    pub per_minute: Vec<u64>,
    /// Length of the trace (µs): the minutes it covers.
    pub span: i64,
    pub time_kind: Kind,
    /// Durations (µs): per invocation (row formats), or per function (Azure 2019: each
    /// function's mean, once per function and weighted by its invocations).
    pub durations: Durations,
    /// Memory (MB) per function that has one.
    pub memory_mb: Vec<f64>,
    pub bad: BadRows,
}

#[derive(Debug, Clone)]
pub enum Durations {
    None,
    PerInvocation(Latency),
    /// (function mean µs, function median µs, invocations) for each function with a row.
    PerFunction(Vec<(f64, f64, u64)>),
}

/// Read a trace for its statistics. Azure 2019: `path` is the invocations file or its
/// folder; `durations` and `memory` default to `durations.csv` and `memory.csv` next to it
/// and are left out when absent.
pub fn compute(
    format: Format,
    path: &Path,
    durations: Option<&Path>,
    memory: Option<&Path>,
    skip: bool,
) -> Result<TraceStats, InputError> {
    match format {
        Format::Azure2019 => azure2019(path, durations, memory, skip),
        _ => row_trace(format, path, skip),
    }
}

fn row_trace(format: Format, path: &Path, skip: bool) -> Result<TraceStats, InputError> {
    let file = TraceFile::open(path)?;
    let name = file.path.clone();
    let io = |e: std::io::Error| InputError::new(&name, "", format!("cannot read the trace: {e}"));
    let mut rec = rows::records(&file);
    if !rec.next_record().map_err(io)? {
        return Err(InputError::new(&name, "", "the file is empty"));
    }
    let header = rec.to_record();
    let columns: Columns = match format {
        Format::Azure2021 => azure2021::columns(&header, &name)?,
        _ => csv_trace::columns(&header, &name)?,
    };
    let mut bad = BadRows::new(skip);
    let mut index = KeyIndex::default();
    let mut functions: Vec<(String, u64)> = Vec::new();
    let mut memory: Vec<Option<f64>> = Vec::new();
    let mut minutes: HashMap<i64, u64> = HashMap::new();
    let mut hist = Latency::new(3);
    let mut key = Vec::new();
    let mut kind = None;
    while rec.next_record().map_err(io)? {
        let line = rec.line();
        let row = match columns.parse(&rec, &mut key) {
            Ok(r) if kind.is_none_or(|k| k == r.kind) => r,
            Ok(_) => {
                bad.refuse(row_error(
                    &name,
                    line,
                    "the timestamp is not of the kind the first row's is (seconds or RFC 3339)",
                ))?;
                continue;
            }
            Err(m) => {
                bad.refuse(row_error(&name, line, m))?;
                continue;
            }
        };
        kind = Some(row.kind);
        let (i, new) = index.insert(&key);
        let i = i as usize;
        if new {
            functions.push((String::from_utf8_lossy(&key).into_owned(), 0));
            memory.push(None);
        }
        functions[i].1 += 1;
        if let Some(m) = row.memory_mb {
            memory[i] = Some(memory[i].map_or(m, |x: f64| x.max(m)));
        }
        *minutes.entry(row.time.div_euclid(MINUTE)).or_default() += 1;
        hist.record(row.exec);
    }
    if format == Format::Azure2021 {
        let mut fns: Vec<super::trace::TraceFn> = functions
            .iter()
            .map(|(id, n)| super::trace::TraceFn {
                id: id.clone(),
                invocations: *n,
                memory_mb: None,
                exec: None,
                line: 0,
            })
            .collect();
        azure2021::name_functions(&mut fns);
        for (f, named) in functions.iter_mut().zip(fns) {
            f.0 = named.id;
        }
    }
    let (first, last) = (minutes.keys().min().copied().unwrap_or(0), minutes.keys().max().copied().unwrap_or(-1));
    let per_minute: Vec<u64> = (first..=last).map(|m| minutes.get(&m).copied().unwrap_or(0)).collect();
    Ok(TraceStats {
        file: name,
        format,
        functions,
        start: first * MINUTE,
        span: per_minute.len() as i64 * MINUTE,
        per_minute,
        time_kind: kind.unwrap_or(Kind::Seconds),
        durations: if hist.is_empty() { Durations::None } else { Durations::PerInvocation(hist) },
        memory_mb: memory.into_iter().flatten().collect(),
        bad,
    })
}

fn azure2019(
    path: &Path,
    durations: Option<&Path>,
    memory: Option<&Path>,
    skip: bool,
) -> Result<TraceStats, InputError> {
    let (dir, invocations) = if path.is_dir() {
        (path.to_path_buf(), path.join("invocations.csv"))
    } else {
        (path.parent().unwrap_or(Path::new(".")).to_path_buf(), path.to_path_buf())
    };
    let next_to = |given: Option<&Path>, default: &str| -> Option<std::path::PathBuf> {
        match given {
            Some(p) => Some(p.to_path_buf()),
            None => Some(dir.join(default)).filter(|p| p.is_file()),
        }
    };
    let file = TraceFile::open(&invocations)?;
    let name = file.path.clone();
    let io = |e: std::io::Error| InputError::new(&name, "", format!("cannot read the trace: {e}"));
    let mut r = BufReader::with_capacity(1 << 16, file.reader(0));
    let mut buf = Vec::new();
    if r.read_until(b'\n', &mut buf).map_err(io)? == 0 {
        return Err(InputError::new(&name, "", "the file is empty"));
    }
    let (first_minute, minutes) = header_minutes(trim_eol(&buf)).map_err(|m| row_error(&name, 1, m))?;
    let mut per_minute = vec![0u64; minutes as usize];
    let mut functions = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut bad = BadRows::new(skip);
    let mut line = 1;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf).map_err(io)? == 0 {
            break;
        }
        line += 1;
        let text = trim_eol(&buf);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_row(text, 4 + minutes as usize) {
            Err(m) => bad.refuse(row_error(&name, line, m))?,
            Ok(([_, _, func], at, total)) => {
                if index.contains_key(&func) {
                    bad.refuse(row_error(&name, line, format!("function {func} appears again")))?;
                    continue;
                }
                for (m, cell) in text[at..].split(|&b| b == b',').enumerate() {
                    per_minute[m] += cell.iter().fold(0u64, |a, d| a * 10 + (d - b'0') as u64);
                }
                index.insert(func.clone(), functions.len());
                functions.push((func, total));
            }
        }
    }
    let mut durs = Vec::new();
    if let Some(p) = next_to(durations, "durations.csv") {
        let rows = read_columns(&p, "HashFunction", &["Average", "percentile_Average_50"], &mut bad)?;
        for (func, v) in rows {
            if let Some(&i) = index.get(&func) {
                durs.push((v[0] * 1e3, v[1] * 1e3, functions[i].1));
            }
        }
    }
    let mut mem = Vec::new();
    if let Some(p) = next_to(memory, "memory.csv") {
        for (func, v) in read_columns(&p, "HashFunction", &["AverageAllocatedMb"], &mut bad)? {
            if index.contains_key(&func) {
                mem.push(v[0]);
            }
        }
    }
    Ok(TraceStats {
        file: name,
        format: Format::Azure2019,
        functions,
        start: first_minute * MINUTE,
        span: minutes as i64 * MINUTE,
        per_minute,
        time_kind: Kind::Seconds,
        durations: if durs.is_empty() { Durations::None } else { Durations::PerFunction(durs) },
        memory_mb: mem,
        bad,
    })
}

fn trim_eol(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &b[..end]
}

/// (key, numbers) of each row of a CSV with a header naming `key` and `numbers`.
fn read_columns(
    path: &Path,
    key: &str,
    numbers: &[&str],
    bad: &mut BadRows,
) -> Result<Vec<(String, Vec<f64>)>, InputError> {
    let file = TraceFile::open(path)?;
    let name = file.path.clone();
    let io = |e: csv::Error| InputError::new(&name, "", format!("cannot read: {e}"));
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(file.reader(0));
    let headers = rdr.headers().map_err(io)?.clone();
    let col = |want: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == want)
            .ok_or_else(|| InputError::new(&name, "", format!("the header lacks `{want}`")).with_line(Some(1)))
    };
    let k = col(key)?;
    let cols: Vec<usize> = numbers.iter().map(|n| col(n)).collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(io)? {
        let line = rec.position().map_or(0, |p| p.line());
        let vals: Result<Vec<f64>, String> = cols
            .iter()
            .zip(numbers)
            .map(|(&c, n)| {
                let t = rec.get(c).unwrap_or("").trim();
                t.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or(format!("{n} is \"{t}\", not a number ≥ 0"))
            })
            .collect();
        match vals {
            Ok(v) => out.push((rec.get(k).unwrap_or("").trim().to_string(), v)),
            Err(m) => bad.refuse(row_error(&name, line, m))?,
        }
    }
    Ok(out)
}

impl TraceStats {
    pub fn invocations(&self) -> u64 {
        self.functions.iter().map(|f| f.1).sum()
    }

    /// Functions whose mean rate over the trace is below one invocation per hour.
    pub fn below_one_per_hour(&self) -> usize {
        let hours = self.span as f64 / 3.6e9;
        self.functions.iter().filter(|f| (f.1 as f64) < hours).count()
    }

    /// Share of invocations made by the busiest `share` of functions (at least one).
    pub fn top_share(&self, share: f64) -> (usize, f64) {
        let mut counts: Vec<u64> = self.functions.iter().map(|f| f.1).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let k = ((counts.len() as f64 * share).round() as usize).clamp(1, counts.len().max(1));
        let top: u64 = counts.iter().take(k).sum();
        (k, top as f64 / self.invocations().max(1) as f64)
    }
}
