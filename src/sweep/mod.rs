//! Parameter sweeps: a grid of scenario variants (the product of `--vary KEY=VALUES`), each
//! simulated with its replications, judged against latency/cold-start SLOs, and ranked by
//! cost, with the Pareto front of cost vs p99. Big grids split into shards (`--shard K/N`)
//! whose outputs `sweep-merge` joins into exactly the files an unsharded run writes.

pub mod grid;
pub mod render;
pub mod slo;

use anyhow::Result;

use crate::report::summary::{self, mean_ci, with_all, COLUMNS};
use crate::run;
use crate::scenario::Scenario;

/// Metrics kept per point: summary column, and how it is written.
pub const METRICS: &[&str] = &[
    "requests",
    "cold_start_ratio",
    "latency_p50_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "cold_latency_p99_ms",
    "instances_mean",
    "throttled",
    "failed",
    "queue_timeouts",
    "cost",
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
}

impl Point {
    pub fn get(&self, metric: &str) -> f64 {
        let k = METRICS.iter().position(|m| *m == metric).expect("known metric");
        self.metrics[k].0
    }

    pub fn hi(&self, metric: &str) -> f64 {
        let k = METRICS.iter().position(|m| *m == metric).expect("known metric");
        self.metrics[k].2
    }

    /// Throttled, failed and queue-timed-out requests as a share of all requests.
    pub fn error_ratio(&self) -> f64 {
        (self.get("throttled") + self.get("failed") + self.get("queue_timeouts")) / self.get("requests")
    }

    pub fn cost_per_million(&self) -> f64 {
        self.get("cost") / self.get("requests") * 1e6
    }
}

/// Simulate one variant and reduce it to a [`Point`].
pub fn evaluate(index: usize, values: Vec<String>, sc: &Scenario) -> Result<Point> {
    let (runs, bills, sheet) = run::evaluate(sc)?;
    let per_rep: Vec<Vec<f64>> = runs
        .iter()
        .zip(&bills)
        .map(|(r, b)| {
            let all = with_all(r, b).pop().expect("ALL row");
            summary::values(&all.1, &all.2, r.horizon)
        })
        .collect();
    let metrics = METRICS
        .iter()
        .map(|m| {
            let c = COLUMNS.iter().position(|col| col.name == *m).expect("summary column");
            let (mean, half) = mean_ci(&per_rep.iter().map(|v| v[c]).collect::<Vec<_>>());
            let half = if half.is_finite() { half } else { 0.0 };
            (mean, mean - half, mean + half)
        })
        .collect();
    Ok(Point { index, values, metrics, currency: sheet.currency })
}

/// Indices of the points on the Pareto front of (cost, p99), both minimised, among points of
/// the same currency: no other point is at most as expensive and at most as slow and strictly
/// better in one.
pub fn pareto(points: &[Point]) -> Vec<bool> {
    points
        .iter()
        .map(|p| {
            let (c, l) = (p.get("cost"), p.get("latency_p99_ms"));
            if !c.is_finite() || !l.is_finite() {
                return false;
            }
            !points.iter().any(|q| {
                let (qc, ql) = (q.get("cost"), q.get("latency_p99_ms"));
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
                    "cost" => cost,
                    "latency_p99_ms" => p99,
                    "requests" => 1000.0,
                    _ => 0.0,
                };
                (v, v, v)
            })
            .collect();
        Point { index, values: vec![index.to_string()], metrics, currency: cur.into() }
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
