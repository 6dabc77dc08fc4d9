//! Parameter sweeps: a grid of scenario variants (the product of `--vary KEY=VALUES`), each
//! simulated with its replications, judged against latency/cold-start SLOs, and ranked by
//! cost, with the Pareto front of cost vs p99. Big grids split into shards (`--shard K/N`)
//! whose outputs `sweep-merge` joins into exactly the files an unsharded run writes.

pub mod grid;
pub mod render;
pub mod slo;

use crate::report::summary::{Metric, Row};

/// The summary metrics a point keeps (`points.csv` names them by their summary column).
pub const METRICS: &[Metric] = &[
    Metric::Requests,
    Metric::ColdStartRatio,
    Metric::LatencyP50Ms,
    Metric::LatencyP90Ms,
    Metric::LatencyP95Ms,
    Metric::LatencyP99Ms,
    Metric::LatencyP999Ms,
    Metric::ColdLatencyP99Ms,
    Metric::InstancesMean,
    Metric::Throttled,
    Metric::Failed,
    Metric::QueueTimeouts,
    Metric::Cost,
];

/// One grid point's results: its index, the varied values (as given), and for each metric the
/// mean and 95% interval over replications.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub index: usize,
    pub values: Vec<String>,
    /// (mean, ci95 low, ci95 high) per entry of [`METRICS`].
    pub metrics: Vec<(f64, f64, f64)>,
    pub currency: String,
    /// Which model the setup ran: provider, price sheet and start model
    /// (`fc · sheet fc3 · full pull from the registry`).
    pub model: String,
}

impl Point {
    /// A point from the `ALL` row of its setup's summary.
    pub fn of(index: usize, values: Vec<String>, all: &Row, currency: &str) -> Point {
        let metrics = METRICS
            .iter()
            .map(|&m| {
                // one replication has no interval: lo and hi stay NaN (empty in sweep.csv, as
                // in summary's statistics)
                let (mean, half) = all.mean_ci(m);
                (mean, mean - half, mean + half)
            })
            .collect();
        Point { index, values, metrics, currency: currency.to_string(), model: String::new() }
    }

    /// (mean, ci95 low, ci95 high) of `metric`, one of [`METRICS`].
    pub fn interval(&self, metric: Metric) -> (f64, f64, f64) {
        let k = METRICS.iter().position(|m| *m == metric).expect("a sweep metric");
        self.metrics[k]
    }

    /// The mean of `metric`, one of [`METRICS`].
    pub fn get(&self, metric: Metric) -> f64 {
        self.interval(metric).0
    }

    /// Throttled, failed and queue-timed-out requests as a share of all requests.
    pub fn error_ratio(&self) -> f64 {
        (self.get(Metric::Throttled) + self.get(Metric::Failed) + self.get(Metric::QueueTimeouts))
            / self.get(Metric::Requests)
    }

    pub fn cost_per_million(&self) -> f64 {
        self.get(Metric::Cost) / self.get(Metric::Requests) * 1e6
    }
}

/// Indices of the points on the Pareto front of (cost, p99), both minimised, among points of
/// the same currency: no other point is at most as expensive and at most as slow and strictly
/// better in one.
pub fn pareto(points: &[Point]) -> Vec<bool> {
    points
        .iter()
        .map(|p| {
            let (c, l) = (p.get(Metric::Cost), p.get(Metric::LatencyP99Ms));
            if !c.is_finite() || !l.is_finite() {
                return false;
            }
            !points.iter().any(|q| {
                let (qc, ql) = (q.get(Metric::Cost), q.get(Metric::LatencyP99Ms));
                q.currency == p.currency && qc <= c && ql <= l && (qc < c || ql < l)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn point(index: usize, cost: f64, p99: f64, cur: &str) -> Point {
        let metrics = METRICS
            .iter()
            .map(|m| {
                let v = match *m {
                    Metric::Cost => cost,
                    Metric::LatencyP99Ms => p99,
                    Metric::Requests => 1000.0,
                    _ => 0.0,
                };
                (v, v, v)
            })
            .collect();
        Point { index, values: vec![index.to_string()], metrics, currency: cur.into(), model: "fc · sheet fc3".into() }
    }

    #[test]
    fn the_pareto_front_keeps_exactly_the_undominated_points() {
        // (cost, p99): a(1,9) b(2,5) c(3,5) d(4,1) e(3,6) f(2,5) (a tie with b)
        let pts = vec![
            point(0, 1.0, 9.0, "CNY"),
            point(1, 2.0, 5.0, "CNY"),
            point(2, 3.0, 5.0, "CNY"),
            point(3, 4.0, 1.0, "CNY"),
            point(4, 3.0, 6.0, "CNY"),
            point(5, 2.0, 5.0, "CNY"),
        ];
        assert_eq!(pareto(&pts), vec![true, true, false, true, false, true]);
    }

    #[test]
    fn points_priced_in_another_currency_do_not_dominate() {
        let pts = vec![point(0, 5.0, 5.0, "CNY"), point(1, 1.0, 1.0, "USD")];
        assert_eq!(pareto(&pts), vec![true, true]);
    }
}
