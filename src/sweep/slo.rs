//! Service-level objectives a sweep point must meet: `p50=`, `p99=`, `p999=`, `cold_p99=`
//! (durations), `cold_ratio=` and `error_ratio=` (fractions). A point meets an SLO when its
//! mean over replications is at most the target.

use super::Point;
use crate::error::InputError;
use crate::report::summary::Metric;
use crate::units::parse_duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// As written (`p99`), for column names and the report.
    pub name: String,
    /// Target in the metric's unit (ms for latencies, a fraction for ratios).
    pub target: f64,
    /// As written (`800ms`).
    pub text: String,
}

const NAMES: &[&str] = &["p50", "p99", "p999", "cold_p99", "cold_ratio", "error_ratio"];

pub fn parse(flag: &str) -> Result<Slo, InputError> {
    let bad = |msg: String| InputError::new("--slo", flag, msg);
    let (name, value) = flag
        .split_once('=')
        .ok_or_else(|| bad(format!("expected NAME=TARGET, e.g. p99=800ms; names: {}", NAMES.join(", "))))?;
    let name = name.trim();
    let value = value.trim();
    let target = match name {
        "p50" | "p99" | "p999" | "cold_p99" => parse_duration(value).map_err(bad)? as f64 / 1000.0,
        "cold_ratio" | "error_ratio" => {
            let x: f64 = value.parse().map_err(|_| bad(format!("{value:?} is not a fraction like 0.01")))?;
            if !(0.0..=1.0).contains(&x) {
                return Err(bad(format!("{value} is not a fraction between 0 and 1")));
            }
            x
        }
        other => {
            let hint = NAMES.iter().min_by_key(|n| strsim::levenshtein(n, other)).copied().unwrap_or("p99");
            return Err(bad(format!("unknown SLO `{other}`; did you mean `{hint}`? (names: {})", NAMES.join(", "))));
        }
    };
    Ok(Slo { name: name.to_string(), target, text: value.to_string() })
}

impl Slo {
    /// The point's value of this SLO's metric.
    pub fn value(&self, p: &Point) -> f64 {
        match self.name.as_str() {
            "p50" => p.get(Metric::LatencyP50Ms),
            "p99" => p.get(Metric::LatencyP99Ms),
            "p999" => p.get(Metric::LatencyP999Ms),
            "cold_p99" => {
                let v = p.get(Metric::ColdLatencyP99Ms);
                // no cold request at all meets any cold-latency goal
                if v.is_finite() {
                    v
                } else {
                    0.0
                }
            }
            "cold_ratio" => p.get(Metric::ColdStartRatio),
            _ => p.error_ratio(),
        }
    }

    pub fn holds(&self, p: &Point) -> bool {
        let v = self.value(p);
        v.is_finite() && v <= self.target
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
        assert!(parse("p98=1s").unwrap_err().to_string().contains("did you mean `p99`"));
        assert!(parse("cold_ratio=2").is_err());
        assert!(parse("p99=800").unwrap_err().to_string().contains("unit"));
    }
}
