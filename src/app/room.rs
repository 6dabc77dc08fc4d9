//! Free space, checked before a run whose output is known to be large: `requests.csv` (a row
//! per expected request) and `timeseries.csv` (a row per bucket) are estimated from the
//! scenario, and a run whose estimate does not fit in the `--out` file system is refused
//! with exit 1 naming the folder and both sizes, before anything is simulated. The estimate
//! is a floor (short rows, synthetic workloads' mean rates; traces and instances.csv are
//! left out), so a run it refuses could not have finished.

use std::path::Path;

use anyhow::{bail, Result};

use crate::scenario::{Arrivals, Scenario};
use crate::units::{format_size, MICROS_PER_SECOND};
use crate::workload::synthetic::ArrivalGen;

/// Fewest bytes of a `requests.csv` row (`1,a,0.000000,…,false,1,ok` is 53; real ones ~65).
const REQUEST_ROW_BYTES: u64 = 50;
/// Fewest bytes of a `timeseries.csv` row (27 columns; real ones ~200).
const BUCKET_ROW_BYTES: u64 = 100;

/// Bytes the streamed files of `sc` will take at least, with `requests.csv` or without, and
/// what they are (for the message). Each is on disk twice at the end of a run: the
/// replications' scratch files and the joined file.
pub fn estimate(sc: &Scenario, requests: bool) -> (u64, String) {
    let reps = sc.simulation.replications as f64;
    let mut parts = Vec::new();
    let mut total = 0f64;
    if requests {
        let expected: f64 = sc
            .workloads
            .iter()
            .filter(|w| !matches!(w.arrivals, Arrivals::Trace(_)))
            .map(|w| {
                let until = w.until.min(sc.simulation.horizon);
                let secs = until.saturating_sub(w.from) as f64 / MICROS_PER_SECOND as f64;
                ArrivalGen::mean_rate(&w.arrivals) * secs
            })
            .sum::<f64>()
            * reps;
        let bytes = expected * REQUEST_ROW_BYTES as f64;
        parts.push(format!("requests.csv: about {expected:.0} rows, {}", format_size(sat(bytes))));
        total += bytes;
    }
    let buckets = sc.simulation.horizon.div_ceil(sc.simulation.bucket.max(1)) as f64 * reps;
    let bytes = buckets * BUCKET_ROW_BYTES as f64;
    parts.push(format!("timeseries.csv: {buckets:.0} rows, {}", format_size(sat(bytes))));
    total += bytes;
    (sat(2.0 * total), parts.join("; "))
}

fn sat(x: f64) -> u64 {
    if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        x as u64
    }
}

/// Refuse (exit 1) a run of `sc` into `out` whose estimate exceeds the free space there.
pub fn check(sc: &Scenario, out: &Path, requests: bool) -> Result<()> {
    let (need, what) = estimate(sc, requests);
    let Some(free) = free_bytes(out) else { return Ok(()) };
    if need > free {
        bail!(
            "{}: not enough free space for this run: it would write at least {} ({what}; written twice while the replications are joined), and the file system has {} free; free some space, choose another --out{}, or shorten simulation.horizon",
            out.display(),
            format_size(need),
            format_size(free),
            if requests { ", leave out --requests" } else { "" }
        );
    }
    Ok(())
}

/// Free bytes (for an unprivileged user) of the file system `path` is on, or would be on:
/// the nearest folder that exists. `None` when it cannot be told.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let abs = std::path::absolute(path).ok()?;
    let existing = abs.ancestors().find(|p| p.is_dir())?;
    statvfs_free(existing)
}

#[cfg(unix)]
fn statvfs_free(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path and `s` is written by statvfs before it is read
    let rc = unsafe { libc::statvfs(c.as_ptr(), s.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `s`
    let s = unsafe { s.assume_init() };
    // the field types differ between platforms (u32 on some 32-bit ones)
    #[allow(clippy::useless_conversion)]
    let (blocks, size) = (u64::from(s.f_bavail), u64::from(s.f_frsize));
    Some(blocks.saturating_mul(size))
}

#[cfg(not(unix))]
fn statvfs_free(_: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_counts_a_row_per_expected_request_and_bucket_twice() {
        let sc = crate::scenario::quickstart(&[
            "simulation.horizon=1h".into(),
            "simulation.bucket=1m".into(),
            "simulation.replications=1".into(),
        ])
        .unwrap();
        let (without, _) = estimate(&sc, false);
        assert_eq!(without, 2 * 60 * BUCKET_ROW_BYTES);
        let (with, what) = estimate(&sc, true);
        assert!(with > without && what.starts_with("requests.csv: about"), "{what}");
    }

    #[test]
    fn free_space_is_found_for_a_folder_not_made_yet() {
        let d = tempfile::tempdir().unwrap();
        assert!(free_bytes(&d.path().join("not/yet")).is_some_and(|b| b > 0));
    }
}
