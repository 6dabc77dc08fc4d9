//! The scenario's goals judged on results: a goal is met when the mean over replications of
//! its metric is at most its target (as `sweep` judges `--slo`). One reading of a goal's
//! metric ([`value`]) serves `run`'s report, its headline, `summary.csv` and the sweep.

use super::summary::{Metric, Row};
use crate::scenario::goals::Goal;

/// The value of `goal`'s metric, given how to read a metric (a replication's value, a mean).
/// A cold-latency goal with no cold request at all is met (0).
pub fn value(goal: &Goal, get: impl Fn(Metric) -> f64) -> f64 {
    let m = match goal.name.as_str() {
        "p50" => Metric::LatencyP50Ms,
        "p90" => Metric::LatencyP90Ms,
        "p95" => Metric::LatencyP95Ms,
        "p99" => Metric::LatencyP99Ms,
        "p999" => Metric::LatencyP999Ms,
        "cold_p99" => {
            let v = get(Metric::ColdLatencyP99Ms);
            return if v.is_finite() { v } else { 0.0 };
        }
        "cold_ratio" => Metric::ColdStartRatio,
        _ => {
            let bad = get(Metric::Throttled) + get(Metric::Failed) + get(Metric::QueueTimeouts);
            return bad / get(Metric::Requests);
        }
    };
    get(m)
}

/// Whether `v` (a value of `goal`'s metric) meets it; no value (no request) does not.
pub fn holds(goal: &Goal, v: f64) -> bool {
    v.is_finite() && v <= goal.target
}

/// One goal's outcome on a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub goal: Goal,
    /// The mean over replications of its metric.
    pub value: f64,
    pub met: bool,
}

impl Verdict {
    /// The value in the goal's own terms: `904.9 ms` or `0.0012`.
    pub fn shown(&self) -> String {
        if !self.value.is_finite() {
            "no value".into()
        } else if self.goal.is_latency() {
            format!("{:.1} ms", self.value)
        } else {
            format!("{:.6}", self.value).trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }

    /// `p99 ≤ 800ms: 904.9 ms, missed by 104.9 ms (13 %)` and the like.
    pub fn line(&self) -> String {
        let head = format!("{}: {}", self.goal.describe(), self.shown());
        if self.met {
            return format!("{head}, met");
        }
        if !self.value.is_finite() {
            return format!("{head}, missed");
        }
        let over = self.value - self.goal.target;
        let by = if self.goal.is_latency() { format!("{over:.1} ms") } else { format!("{over:.6}") };
        let pct = if self.goal.target > 0.0 {
            format!(" ({:.0} % over)", over / self.goal.target * 100.0)
        } else {
            String::new()
        };
        format!("{head}, missed by {by}{pct}")
    }
}

/// Each goal judged on the means of `row` (the run's `ALL` row).
pub fn judge(goals: &[Goal], row: &Row) -> Vec<Verdict> {
    goals
        .iter()
        .map(|g| {
            let v = value(g, |m| row.mean(m));
            Verdict { goal: g.clone(), value: v, met: holds(g, v) }
        })
        .collect()
}

/// Whether one replication's values meet every goal (`meets_goals` of summary.csv).
pub fn all_met(goals: &[Goal], values: &super::summary::Values) -> bool {
    goals.iter().all(|g| holds(g, value(g, |m| values[m as usize])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::goals::target;

    fn goal(name: &str, text: &str) -> Goal {
        Goal { name: name.into(), target: target(name, text).unwrap(), text: text.into() }
    }

    #[test]
    fn a_goal_is_met_at_its_target_and_missed_above_with_the_gap_said() {
        let mut v = [0.0; super::super::summary::COUNT];
        v[Metric::LatencyP99Ms as usize] = 904.9;
        v[Metric::Requests as usize] = 1000.0;
        v[Metric::Failed as usize] = 2.0;
        let row = Row { name: "ALL".into(), replications: vec![v] };
        let out = judge(&[goal("p99", "800ms"), goal("error_ratio", "0.01"), goal("cold_p99", "1s")], &row);
        assert!(!out[0].met && out[1].met && out[2].met, "{out:?}");
        assert_eq!(out[0].line(), "p99 ≤ 800ms: 904.9 ms, missed by 104.9 ms (13 % over)");
        assert_eq!(out[1].line(), "error_ratio ≤ 0.01: 0.002, met");
        assert!(!all_met(&[goal("p99", "800ms")], &v) && all_met(&[goal("p99", "905ms")], &v));
    }
}
