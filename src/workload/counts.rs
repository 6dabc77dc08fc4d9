//! Per-bucket request counts as monitoring systems export them: a CSV with a header naming
//! `timestamp` and `count` (in any order, other columns ignored), one row per bucket. A
//! timestamp is decimal seconds or an RFC 3339 date-time ([`super::timestamp`]); rows are in
//! time order; a missing bucket counts zero. Each row's count becomes the Poisson rate of its
//! bucket ([`super::synthetic`]), so a replication's counts vary around the file's as real
//! traffic does.

use std::path::Path;

use super::timestamp::{self, Kind};
use crate::error::InputError;
use crate::units::Micros;

/// The counts of one file, on a regular grid of `step`.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    /// The first row's timestamp, µs (since the Unix epoch for RFC 3339).
    pub first: i64,
    pub kind: Kind,
    pub step: Micros,
    /// Count per bucket from `first`, zero where the file has no row.
    pub counts: Vec<f64>,
}

/// Buckets beyond this many are refused (a year of seconds): a grid that large means the
/// bucket or the timestamps are wrong.
const MAX_BUCKETS: i64 = 32_000_000;

/// Reads `file` (shown as `shown` in messages). `bucket` overrides the step, which is
/// otherwise the smallest gap between consecutive timestamps.
pub fn read(file: &Path, shown: &str, bucket: Option<Micros>) -> Result<Counts, InputError> {
    let err = |line: usize, m: String| InputError::new(shown, "", m).with_line(Some(line));
    let text =
        std::fs::read(file).map_err(|e| InputError::new(shown, "", format!("cannot read the counts file: {e}")))?;
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_slice());
    let header = rdr.byte_headers().map_err(|e| err(1, format!("cannot read the header: {e}")))?.clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let col = |want: &str| names.iter().position(|n| n == want);
    let (Some(tc), Some(cc)) = (col("timestamp"), col("count")) else {
        return Err(err(
            1,
            format!(
                "the header ({}) lacks `timestamp` or `count`; a counts file has a header `timestamp,count` and a row per bucket, e.g. `2024-03-04T10:00:00Z,1830`",
                names.join(",")
            ),
        ));
    };
    let mut rows: Vec<(i64, f64, usize)> = Vec::new();
    let mut kind = None;
    for (i, rec) in rdr.byte_records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| err(line, format!("cannot read the row: {e}")))?;
        if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let field = |c: usize| {
            rec.get(c)
                .ok_or_else(|| err(line, format!("the row has {} fields; the header has {}", rec.len(), names.len())))
        };
        let (t, k) = timestamp::parse(field(tc)?).map_err(|m| err(line, m))?;
        if kind.is_some_and(|k0| k0 != k) {
            return Err(err(line, "the timestamps mix seconds and date-times; use one kind throughout".into()));
        }
        kind = Some(k);
        let raw = String::from_utf8_lossy(field(cc)?).trim().to_string();
        let n: f64 = raw.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0).ok_or_else(|| {
            err(line, format!("count \"{raw}\" is not a number of requests; a count is 0 or more, e.g. 1830"))
        })?;
        if let Some(&(prev, _, pl)) = rows.last() {
            if t <= prev {
                return Err(err(
                    line,
                    format!("timestamp is not after line {pl}'s; rows are one per bucket, in time order"),
                ));
            }
        }
        rows.push((t, n, line));
    }
    let (Some(kind), Some(&(first, ..))) = (kind, rows.first()) else {
        return Err(InputError::new(
            shown,
            "",
            "the counts file has no rows; give one `timestamp,count` row per bucket",
        ));
    };
    let step =
        match bucket {
            Some(b) => b as i64,
            None => match rows.windows(2).map(|w| w[1].0 - w[0].0).min() {
                Some(s) => s,
                None => return Err(InputError::new(
                    shown,
                    "",
                    "the counts file has one row, so its bucket is unknown; say it with `bucket`, e.g. bucket = \"1m\"",
                )),
            },
        };
    let mut counts = Vec::new();
    for &(t, n, line) in &rows {
        let off = t - first;
        if off % step != 0 {
            return Err(err(
                line,
                format!(
                    "timestamp is {} after the first, not a whole number of buckets of {}; rows must sit on one grid (set `bucket` if it is not the smallest gap)",
                    crate::units::format_duration(off as Micros),
                    crate::units::format_duration(step as Micros)
                ),
            ));
        }
        let idx = off / step;
        if idx >= MAX_BUCKETS {
            return Err(err(
                line,
                format!("the file spans more than {MAX_BUCKETS} buckets; check the bucket and the timestamps"),
            ));
        }
        counts.resize(idx as usize, 0.0);
        counts.push(n);
    }
    Ok(Counts { first, kind, step: step as Micros, counts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::MICROS_PER_MINUTE as MIN;

    fn read_text(text: &str, bucket: Option<Micros>) -> Result<Counts, InputError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.csv");
        std::fs::write(&p, text).unwrap();
        read(&p, "c.csv", bucket)
    }

    #[test]
    fn rows_on_a_grid_with_a_gap_give_zero_for_the_missing_bucket() {
        let c = read_text(
            "timestamp,count\n2024-03-04T10:00:00Z,60\n2024-03-04T10:01:00Z,120\n2024-03-04T10:03:00Z,30\n",
            None,
        )
        .unwrap();
        assert_eq!((c.step, c.kind), (MIN, Kind::Rfc3339));
        assert_eq!(c.counts, vec![60.0, 120.0, 0.0, 30.0]);
    }

    #[test]
    fn columns_in_any_order_and_numeric_seconds() {
        let c = read_text("host,count,timestamp\na,5,0\na,7,300\n", None).unwrap();
        assert_eq!((c.first, c.step, c.counts.clone()), (0, 5 * MIN, vec![5.0, 7.0]));
    }

    #[test]
    fn bad_files_say_the_line_and_what_is_allowed() {
        let e = read_text("time,n\n0,1\n", None).unwrap_err();
        assert!(e.message.contains("lacks `timestamp` or `count`"), "{e}");
        let e = read_text("timestamp,count\n0,1\n60,-2\n", None).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("count \"-2\""), "{e}");
        let e = read_text("timestamp,count\n60,1\n0,2\n", None).unwrap_err();
        assert!(e.message.contains("time order"), "{e}");
        let e = read_text("timestamp,count\n0,1\n60,1\n90,1\n", Some(MIN)).unwrap_err();
        assert!(e.message.contains("one grid"), "{e}");
        let e = read_text("timestamp,count\n0,1\n", None).unwrap_err();
        assert!(e.message.contains("bucket"), "{e}");
        assert_eq!(read_text("timestamp,count\n0,1\n", Some(MIN)).unwrap().counts, vec![1.0]);
    }
}
