//! Service-level objectives a sweep point must meet: the goal names of a scenario's
//! `[goals]` ([`crate::scenario::goals::NAMES`]), given as `--slo NAME=TARGET`. A point meets
//! an SLO when its mean over replications is at most the target; without `--slo`, the
//! scenario's `[goals]` are the SLOs.

use super::Point;
use crate::error::InputError;
use crate::report::goals;
use crate::scenario::goals::{target, NAMES};

/// An SLO is a goal: the same names, targets and judgement.
pub use crate::scenario::goals::Goal as Slo;

pub fn parse(flag: &str) -> Result<Slo, InputError> {
    let bad = |msg: String| InputError::new("--slo", flag, msg);
    let (name, value) = flag
        .split_once('=')
        .ok_or_else(|| bad(format!("expected NAME=TARGET, e.g. p99=800ms; names: {}", NAMES.join(", "))))?;
    let (name, value) = (name.trim(), value.trim());
    let target = target(name, value).map_err(bad)?;
    Ok(Slo { name: name.to_string(), target, text: value.to_string() })
}

/// Judging a sweep point by an SLO.
pub trait Judge {
    /// The point's value of this SLO's metric (its mean over replications).
    fn value(&self, p: &Point) -> f64;
    fn holds(&self, p: &Point) -> bool;
}

impl Judge for Slo {
    fn value(&self, p: &Point) -> f64 {
        goals::value(self, |m| p.get(m))
    }

    fn holds(&self, p: &Point) -> bool {
        goals::holds(self, Judge::value(self, p))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::point;
    use super::*;

    #[test]
    fn slos_parse_and_judge_by_the_mean() {
        let s = parse("p99=800ms").unwrap();
        assert_eq!(s.target, 800.0);
        assert!(s.holds(&point(0, 1.0, 800.0, "CNY")));
        assert!(!s.holds(&point(0, 1.0, 800.5, "CNY")));
        assert_eq!(parse("cold_ratio=0.01").unwrap().target, 0.01);
        assert_eq!(parse("p95=1s").unwrap().target, 1000.0);
        assert!(parse("p98=1s").unwrap_err().to_string().contains("did you mean"));
        assert!(parse("cold_ratio=2").is_err());
        assert!(parse("p99=800").unwrap_err().to_string().contains("unit"));
    }
}
