//! What the charts need from a run, kept small however long the run: the time series
//! downsampled to at most [`MAX_POINTS`] points (adjacent buckets merged pairwise when full),
//! and a bounded sample of (image size, pull time) pairs.

use crate::platform::BucketRow;
use crate::usage::Phase;

pub const MAX_POINTS: usize = 2048;
pub const MAX_PULLS: usize = 5000;

/// One (possibly merged) stretch of the time series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimePoint {
    pub start_us: u64,
    pub end_us: u64,
    pub arrivals: u64,
    pub cold_starts: u64,
    /// Instance·µs starting (pull + create + startup), busy, idle, and on reserved instances.
    pub starting_us: u128,
    pub busy_us: u128,
    pub idle_us: u128,
    pub reserved_us: u128,
    pub cost: f64,
}

impl TimePoint {
    fn from_row(b: &BucketRow, cost: f64) -> Self {
        let u = b.total();
        let at = |p: Phase| u.inst_us[p.index()];
        TimePoint {
            start_us: b.start,
            end_us: b.end,
            arrivals: b.arrivals,
            cold_starts: b.cold_starts,
            starting_us: at(Phase::Pull) + at(Phase::Create) + at(Phase::Startup),
            busy_us: at(Phase::Busy),
            idle_us: at(Phase::IdleKeepalive) + at(Phase::IdleReserved),
            reserved_us: b.usage[1].inst_us.iter().sum(),
            cost,
        }
    }

    fn merge(&mut self, o: &TimePoint) {
        self.end_us = o.end_us;
        self.arrivals += o.arrivals;
        self.cold_starts += o.cold_starts;
        self.starting_us += o.starting_us;
        self.busy_us += o.busy_us;
        self.idle_us += o.idle_us;
        self.reserved_us += o.reserved_us;
        self.cost += o.cost;
    }

    pub fn len_s(&self) -> f64 {
        (self.end_us - self.start_us) as f64 / 1e6
    }

    /// Mid-point in hours (x of a chart).
    pub fn mid_h(&self) -> f64 {
        (self.start_us + self.end_us) as f64 / 2.0 / 3.6e9
    }
}

/// The downsampled series and the pull sample of one replication.
#[derive(Debug, Clone, Default)]
pub struct Trend {
    pub points: Vec<TimePoint>,
    /// Buckets per point now (doubles each time the series is halved).
    per_point: usize,
    pending: Option<(TimePoint, usize)>,
    /// (image compressed MB, pull seconds)
    pub pulls: Vec<(f64, f64)>,
}

impl Trend {
    pub fn new() -> Self {
        Trend { per_point: 1, ..Default::default() }
    }

    pub fn push(&mut self, b: &BucketRow, cost: f64) {
        let p = TimePoint::from_row(b, cost);
        let (mut acc, n) = match self.pending.take() {
            Some((mut acc, n)) => {
                acc.merge(&p);
                (acc, n + 1)
            }
            None => (p, 1),
        };
        if n < self.per_point {
            self.pending = Some((acc, n));
            return;
        }
        self.points.push(std::mem::take(&mut acc));
        if self.points.len() >= MAX_POINTS {
            let old = std::mem::take(&mut self.points);
            for pair in old.chunks(2) {
                let mut a = pair[0].clone();
                if let Some(b) = pair.get(1) {
                    a.merge(b);
                }
                self.points.push(a);
            }
            self.per_point *= 2;
        }
    }

    /// Flush a partly filled last point.
    pub fn finish(&mut self) {
        if let Some((acc, _)) = self.pending.take() {
            self.points.push(acc);
        }
    }

    pub fn pull(&mut self, image_mb: f64, seconds: f64) {
        if self.pulls.len() < MAX_PULLS {
            self.pulls.push((image_mb, seconds));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: u64) -> BucketRow {
        BucketRow { start: i * 10, end: i * 10 + 10, arrivals: i, ..Default::default() }
    }

    #[test]
    fn a_long_series_is_merged_to_a_bounded_number_of_points_that_keep_every_count() {
        let mut t = Trend::new();
        let n = 10_000u64;
        for i in 0..n {
            t.push(&row(i), 1.0);
        }
        t.finish();
        assert!(t.points.len() <= MAX_POINTS);
        assert_eq!(t.points.iter().map(|p| p.arrivals).sum::<u64>(), n * (n - 1) / 2);
        assert_eq!(t.points.first().unwrap().start_us, 0);
        assert_eq!(t.points.last().unwrap().end_us, n * 10);
        assert!((t.points.iter().map(|p| p.cost).sum::<f64>() - n as f64).abs() < 1e-9);
        // contiguous
        for w in t.points.windows(2) {
            assert_eq!(w[0].end_us, w[1].start_us);
        }
    }
}
