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

/// The quantile a latency goal names (`p99` → 0.99), if it names one of all requests.
fn quantile(name: &str) -> Option<f64> {
    match name {
        "p50" => Some(0.5),
        "p90" => Some(0.9),
        "p95" => Some(0.95),
        "p99" => Some(0.99),
        "p999" => Some(0.999),
        _ => None,
    }
}

/// One line of advice for the first missed goal: the knob that moves it, read from where the
/// run's misses come from. A latency quantile is reached by cold requests only when more than
/// its tail share of requests are cold (p99: over 1 %); otherwise the warm request time itself
/// misses it, and only resources move that, and only when requests share CPU (`cpu_fraction`).
/// `function` names the knob in a ready-to-run sweep line; `cpu_shared` says whether any
/// function has CPU work that contention stretches.
pub fn next_step(verdicts: &[Verdict], row: &Row, function: &str, cpu_shared: bool) -> Option<String> {
    let missed = verdicts.iter().find(|v| !v.met)?;
    let g = &missed.goal;
    let sweep = |key: &str, values: &str| {
        format!("`coldcost sweep SCENARIO --vary function.{function}.{key}={values}` names the cheapest setup that meets every goal")
    };
    let reserved = sweep("reserved", "0..8");
    let line = match g.name.as_str() {
        "cold_ratio" => format!(
            "cold starts are the miss: reserved instances (or a longer keep-alive) remove them; {reserved}."
        ),
        "cold_p99" => format!(
            "the cold start itself is too long (image pull, container create, app start-up: see the headline); a smaller image or image acceleration shortens it, reserved instances hide it; {reserved}."
        ),
        "error_ratio" => format!(
            "requests are throttled, fail or time out in the queue: raise `max_instances` or the queue limits; {}.",
            sweep("max_instances", "100,200,400")
        ),
        name => {
            let q = quantile(name).unwrap_or(0.99);
            let cold = row.mean(Metric::ColdStartRatio);
            if cold > 1.0 - q {
                format!(
                    "{:.2} % of requests are cold, more than the {:.1} % above {name}, so cold starts set it: reserved instances or a longer keep-alive move it most; {reserved}.",
                    cold * 100.0,
                    (1.0 - q) * 100.0
                )
            } else if cpu_shared {
                format!(
                    "fewer than {:.1} % of requests are cold, so the warm request time sets {name}: fewer requests per instance or more vCPU shorten it (requests share CPU); {}.",
                    (1.0 - q) * 100.0,
                    sweep("concurrency", "1,2,5,10")
                )
            } else {
                format!(
                    "fewer than {:.1} % of requests are cold, so the request time itself (`exec`) sets {name}, and no platform knob moves it: with `cpu_fraction = 0` concurrency, memory and vCPU leave request time alone. Shorten the request, or set `function.{function}.cpu_fraction` if requests share CPU and sweep concurrency and vCPU.",
                    (1.0 - q) * 100.0
                )
            }
        }
    };
    Some(format!("{}: {line}", g.describe()))
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

    #[test]
    fn the_next_step_names_the_knob_that_moves_the_missed_goal() {
        let row_with = |cold_ratio: f64| {
            let mut v = [0.0; super::super::summary::COUNT];
            v[Metric::LatencyP99Ms as usize] = 904.9;
            v[Metric::LatencyP90Ms as usize] = 300.0;
            v[Metric::ColdStartRatio as usize] = cold_ratio;
            Row { name: "ALL".into(), replications: vec![v] }
        };
        let advise = |cold: f64, cpu: bool, goals: &[Goal]| {
            let row = row_with(cold);
            next_step(&judge(goals, &row), &row, "api", cpu)
        };
        let p99 = [goal("p99", "800ms")];
        // 2 % cold requests reach into the top 1 %: cold starts set p99
        let a = advise(0.02, false, &p99).unwrap();
        assert!(
            a.starts_with("p99 ≤ 800ms: 2.00 % of requests are cold") && a.contains("function.api.reserved"),
            "{a}"
        );
        // few cold requests and no CPU sharing: nothing on the platform moves it
        let a = advise(0.001, false, &p99).unwrap();
        assert!(a.contains("no platform knob moves it") && !a.contains("--vary"), "{a}");
        // with CPU sharing, concurrency and vCPU move the warm request time
        let a = advise(0.001, true, &p99).unwrap();
        assert!(a.contains("function.api.concurrency"), "{a}");
        // p90: cold starts set it only above 10 %
        let a = advise(0.02, false, &[goal("p90", "1ms")]).unwrap();
        assert!(a.contains("no platform knob"), "{a}");
        let a = advise(0.2, false, &[goal("cold_ratio", "0.1")]).unwrap();
        assert!(a.starts_with("cold_ratio ≤ 0.1: cold starts are the miss"), "{a}");
        // every goal met: no advice
        assert_eq!(advise(0.0, false, &[goal("p99", "1s")]), None);
    }
}
