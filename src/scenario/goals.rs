//! `[goals]`: the latency and cold-start goals a planner holds a setup to, under the names
//! `coldcost sweep --slo` takes (`p99 = "800ms"`, `cold_ratio = 0.001`). `run` reports each
//! goal met or missed; `sweep` uses them when no `--slo` is given. One parser serves both, so
//! a goal means the same in a file and on the command line.

use toml::Value;

use crate::error::InputError;
use crate::input::Ctx;
use crate::units::parse_duration;

/// Every goal name: latency percentiles and the cold p99 (durations), then the cold-start
/// and error ratios (fractions of requests).
pub const NAMES: &[&str] = &["p50", "p90", "p95", "p99", "p999", "cold_p99", "cold_ratio", "error_ratio"];

/// A goal: the metric named `name` must be at most `target`.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    /// As written (`p99`).
    pub name: String,
    /// In the metric's unit: ms for latencies, a fraction for ratios.
    pub target: f64,
    /// As written (`800ms`).
    pub text: String,
}

impl Goal {
    /// A latency goal (its target in ms), not a ratio.
    pub fn is_latency(&self) -> bool {
        !self.name.ends_with("_ratio")
    }

    /// The goal as a reader writes it: `p99 ≤ 800ms`.
    pub fn describe(&self) -> String {
        format!("{} ≤ {}", self.name, self.text)
    }
}

/// The target of goal `name` written as `value`, or what is wrong with it.
pub fn target(name: &str, value: &str) -> Result<f64, String> {
    match name {
        "cold_ratio" | "error_ratio" => {
            let x: f64 = value.trim().parse().map_err(|_| format!("{value:?} is not a fraction like 0.01"))?;
            if !(0.0..=1.0).contains(&x) {
                return Err(format!("{value} is not a fraction between 0 and 1, e.g. 0.001"));
            }
            Ok(x)
        }
        n if NAMES.contains(&n) => {
            parse_duration(value.trim()).map(|us| us as f64 / 1000.0).map_err(|m| format!("{m}; e.g. \"800ms\""))
        }
        other => {
            let hint = NAMES.iter().min_by_key(|n| strsim::levenshtein(n, other)).copied().unwrap_or("p99");
            Err(format!("unknown goal `{other}`; did you mean `{hint}`? (names: {})", NAMES.join(", ")))
        }
    }
}

/// The `[goals]` table, in [`NAMES`] order (unknown keys were refused by the schema).
pub fn read(table: Option<&toml::Table>, ctx: &Ctx<'_>) -> Result<Vec<Goal>, InputError> {
    let Some(t) = table else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for &name in NAMES {
        let Some(v) = t.get(name) else { continue };
        let path = format!("goals.{name}");
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Integer(_) | Value::Float(_) if name.ends_with("_ratio") => v.to_string(),
            other => {
                let allowed = if name.ends_with("_ratio") {
                    "a fraction of requests between 0 and 1, e.g. 0.001"
                } else {
                    "a duration with its unit, e.g. \"800ms\""
                };
                return Err(ctx.type_err(&path, other, allowed));
            }
        };
        let target = target(name, &text).map_err(|m| ctx.err(&path, m))?;
        out.push(Goal { name: name.to_string(), target, text });
    }
    Ok(out)
}
