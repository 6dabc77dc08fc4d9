//! The workload's model types, as the validated scenario holds them: an arrival process and a
//! distribution of durations. They live here, below the scenario, so the samplers and trace
//! readers of this module need nothing above them; `crate::scenario` re-exports them.

use crate::units::Micros;

/// An arrival process (rates are per second).
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    Poisson {
        rate: f64,
    },
    /// Non-homogeneous Poisson: rate(t) = mean · (1 + a·cos(2π (t − peak) / period)),
    /// a = (peak_ratio − 1) / (peak_ratio + 1), so max/min = peak_ratio.
    Diurnal {
        mean: f64,
        peak_ratio: f64,
        period: Micros,
        /// Time (from 0) of the first peak.
        peak: Micros,
    },
    /// Two-state Markov-modulated Poisson: exponential sojourns with the given means.
    Bursty {
        on_rate: f64,
        off_rate: f64,
        mean_on: Micros,
        mean_off: Micros,
    },
    /// One arrival every `interval`, the first at the window's start.
    Constant {
        interval: Micros,
    },
    /// Poisson at a rate that is constant within each step of a profile: an hourly profile of
    /// 24 or 168 rates (repeating), or the per-bucket counts of a monitoring export (once).
    Profile(Profile),
    /// Invocations replayed from a real trace; they go to the trace's own functions.
    Trace(Box<super::trace::TraceArrivals>),
}

/// A piecewise-constant rate: `rates[i]` (per second) holds in profile time
/// `[i·step, (i+1)·step)`; simulated time `t` is profile time `t + origin`.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub rates: Vec<f64>,
    pub step: Micros,
    /// Profile time at simulated time 0 (negative when the profile starts after it).
    pub origin: i64,
    /// Whether the profile repeats (hourly profiles) or is silent outside its span (counts).
    pub repeat: bool,
    /// What the profile came from, for reports.
    pub source: ProfileSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProfileSource {
    /// 24 hourly rates of a day.
    Hourly,
    /// 168 hourly rates of a week, Monday 00:00 first.
    Weekly,
    /// A `timestamp,count` file: its name.
    Counts(String),
}

/// A distribution of durations; samples are whole microseconds ≥ 0.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    Fixed(Micros),
    /// Exponential with this mean.
    Exp {
        mean: Micros,
    },
    /// ln(X / 1 s) ~ Normal(mu, sigma), X in seconds.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    /// Gamma with shape k and scale θ (µs).
    Gamma {
        shape: f64,
        scale: f64,
    },
    /// Weibull with shape k and scale λ (µs).
    Weibull {
        shape: f64,
        scale: f64,
    },
    /// Pareto with shape α and scale (minimum) x_m (µs).
    Pareto {
        shape: f64,
        scale: f64,
    },
    /// Piecewise-linear inverse CDF through (percentile in 0..=100, value µs) points,
    /// percentiles strictly increasing from 0 to 100, values non-decreasing.
    Empirical {
        points: Vec<(f64, f64)>,
    },
}
