//! Synthetic arrival processes: a stateful generator of arrival times for one workload's
//! [`Arrivals`] (Poisson, diurnal by thinning, two-state MMPP, constant) within `[from, until)`.

use super::model::Arrivals;
use crate::units::Micros;
use rand::Rng;
use rand_distr::Exp1;

/// Microseconds per second, as a float (rates are given per second).
const US_PER_S: f64 = crate::units::MICROS_PER_SECOND as f64;

/// Stateful generator of arrival times for one workload, in `[from, until)`.
///
/// Random processes keep their running time as `f64` µs (no rounding drift) and return it
/// floored; time in the rate formulas is absolute simulated time, so a diurnal phase does not
/// depend on `from`.
#[derive(Debug, Clone)]
pub struct ArrivalGen {
    until: Micros,
    /// Set once `next` has returned `None`; the process state is kept (for inspection).
    done: bool,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// No arrivals at all.
    Never,
    Poisson {
        /// Running time, µs.
        t: f64,
        /// Mean gap, µs.
        mean_gap: f64,
    },
    /// Lewis–Shedler thinning of a Poisson process at `rate_max`.
    Diurnal {
        t: f64,
        /// Mean gap at the maximum rate, µs.
        mean_gap_max: f64,
        /// Relative amplitude `a` of the cosine.
        a: f64,
        /// `1 + |a|`: the maximum of `1 + a·cos`.
        top: f64,
        period: f64,
        peak: f64,
    },
    Bursty {
        t: f64,
        /// Rates per µs, indexed by state (0 = off, 1 = on).
        rate: [f64; 2],
        /// Mean sojourns, µs, indexed by state.
        sojourn: [f64; 2],
        /// Stationary probability of being on.
        p_on: f64,
        /// Current state; `None` until the first `next` draws it.
        on: Option<bool>,
        /// Absolute time (µs) at which the current state ends.
        switch_at: f64,
    },
    Constant {
        next: Micros,
        interval: Micros,
    },
    /// Piecewise-constant Poisson: exponential gaps at the current step's rate, restarted at
    /// each step boundary (exact, by memorylessness).
    Profile {
        t: f64,
        /// Rates per µs.
        rates: Vec<f64>,
        step: f64,
        origin: f64,
        repeat: bool,
    },
}

impl ArrivalGen {
    /// A generator for `arrivals` in `[from, until)`. Degenerate inputs (zero rates, a zero
    /// interval or period, both sojourn means zero) yield no arrivals or the obvious limit; see
    /// the match arms.
    pub fn new(arrivals: &Arrivals, from: Micros, until: Micros) -> ArrivalGen {
        let start = from as f64;
        let poisson = |rate: f64| {
            if rate > 0.0 {
                Kind::Poisson { t: start, mean_gap: US_PER_S / rate }
            } else {
                Kind::Never
            }
        };
        let kind = if from >= until {
            Kind::Never
        } else {
            match *arrivals {
                Arrivals::Poisson { rate } => poisson(rate),
                Arrivals::Diurnal { mean, peak_ratio, period, peak } => {
                    // an infinite ratio (trough 0) is a = 1: the rate touches zero
                    let a = if peak_ratio.is_finite() { (peak_ratio - 1.0) / (peak_ratio + 1.0) } else { 1.0 };
                    if a == 0.0 || period == 0 {
                        poisson(mean)
                    } else if mean > 0.0 {
                        let top = 1.0 + a.abs();
                        Kind::Diurnal {
                            t: start,
                            mean_gap_max: US_PER_S / (mean * top),
                            a,
                            top,
                            period: period as f64,
                            peak: peak as f64,
                        }
                    } else {
                        Kind::Never
                    }
                }
                Arrivals::Bursty { on_rate, off_rate, mean_on, mean_off } => {
                    if mean_off == 0 {
                        // Never off.
                        poisson(on_rate)
                    } else if mean_on == 0 {
                        poisson(off_rate)
                    } else if on_rate > 0.0 || off_rate > 0.0 {
                        let (on, off) = (mean_on as f64, mean_off as f64);
                        Kind::Bursty {
                            t: start,
                            rate: [off_rate / US_PER_S, on_rate / US_PER_S],
                            sojourn: [off, on],
                            p_on: on / (on + off),
                            on: None,
                            switch_at: start,
                        }
                    } else {
                        Kind::Never
                    }
                }
                Arrivals::Constant { interval } => {
                    if interval > 0 {
                        Kind::Constant { next: from, interval }
                    } else {
                        Kind::Never
                    }
                }
                Arrivals::Profile(ref p) => {
                    if p.step > 0 && p.rates.iter().any(|&r| r > 0.0) {
                        Kind::Profile {
                            t: start,
                            rates: p.rates.iter().map(|r| r / US_PER_S).collect(),
                            step: p.step as f64,
                            origin: p.origin as f64,
                            repeat: p.repeat,
                        }
                    } else {
                        Kind::Never
                    }
                }
                // traces stream through `workload::trace::TraceStream`
                Arrivals::Trace(_) => Kind::Never,
            }
        };
        ArrivalGen { until, done: false, kind }
    }

    /// The next arrival time (non-decreasing; equal times allowed), or `None` once it would
    /// be `>= until`. After `None`, keeps returning `None`.
    pub fn next<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<Micros> {
        if self.done {
            return None;
        }
        let until = self.until;
        let at = match &mut self.kind {
            Kind::Never => until,
            Kind::Poisson { t, mean_gap } => {
                *t += rng.sample::<f64, _>(Exp1) * *mean_gap;
                *t as Micros
            }
            Kind::Diurnal { t, mean_gap_max, a, top, period, peak } => loop {
                *t += rng.sample::<f64, _>(Exp1) * *mean_gap_max;
                let at = *t as Micros;
                if at >= until {
                    break at;
                }
                let phase = (*t - *peak).rem_euclid(*period) / *period;
                let level = 1.0 + *a * (std::f64::consts::TAU * phase).cos();
                if rng.random::<f64>() * *top < level {
                    break at;
                }
            },
            Kind::Bursty { t, rate, sojourn, p_on, on, switch_at } => {
                let mut state = match *on {
                    Some(s) => s,
                    None => {
                        // Stationary start; by memorylessness the residual sojourn is
                        // exponential with the state's full mean.
                        let s = rng.random::<f64>() < *p_on;
                        *switch_at = *t + rng.sample::<f64, _>(Exp1) * sojourn[s as usize];
                        s
                    }
                };
                let at = loop {
                    let r = rate[state as usize];
                    let candidate = if r > 0.0 { *t + rng.sample::<f64, _>(Exp1) / r } else { f64::INFINITY };
                    if candidate < *switch_at {
                        *t = candidate;
                        break *t as Micros;
                    }
                    // The state ends first: switch and redraw from there.
                    *t = *switch_at;
                    if *t as Micros >= until {
                        break until;
                    }
                    state = !state;
                    *switch_at = *t + rng.sample::<f64, _>(Exp1) * sojourn[state as usize];
                };
                *on = Some(state);
                at
            }
            Kind::Constant { next, interval } => {
                let at = *next;
                *next = next.saturating_add(*interval);
                at
            }
            Kind::Profile { t, rates, step, origin, repeat } => loop {
                let pos = *t + *origin;
                let seg = (pos / *step).floor();
                let end = (seg + 1.0) * *step - *origin;
                let n = rates.len() as f64;
                let rate = if *repeat {
                    rates[seg.rem_euclid(n) as usize]
                } else if seg >= 0.0 && seg < n {
                    rates[seg as usize]
                } else if seg >= n {
                    break until; // the profile has ended
                } else {
                    0.0
                };
                if rate > 0.0 {
                    let cand = *t + rng.sample::<f64, _>(Exp1) / rate;
                    if cand < end {
                        *t = cand;
                        break *t as Micros;
                    }
                }
                // the step ends first: restart at its end (guard against no progress in f64)
                *t = if end > *t { end } else { *t + 1.0 };
                if *t as Micros >= until {
                    break until;
                }
            },
        };
        if at >= until {
            self.done = true;
            None
        } else {
            Some(at)
        }
    }

    /// Long-run mean rate in arrivals per second (for reports and tests); for a counts
    /// profile, the mean over the file's span.
    pub fn mean_rate(arrivals: &Arrivals) -> f64 {
        match *arrivals {
            Arrivals::Poisson { rate } => rate,
            Arrivals::Diurnal { mean, .. } => mean,
            Arrivals::Bursty { on_rate, off_rate, mean_on, mean_off } => {
                if mean_off == 0 {
                    on_rate
                } else if mean_on == 0 {
                    off_rate
                } else {
                    let (on, off) = (mean_on as f64, mean_off as f64);
                    (on_rate * on + off_rate * off) / (on + off)
                }
            }
            Arrivals::Constant { interval } => {
                if interval > 0 {
                    US_PER_S / interval as f64
                } else {
                    0.0
                }
            }
            Arrivals::Profile(ref p) => {
                if p.rates.is_empty() {
                    0.0
                } else {
                    p.rates.iter().sum::<f64>() / p.rates.len() as f64
                }
            }
            // a trace's rate depends on its window; its stream is not an ArrivalGen
            Arrivals::Trace(_) => f64::NAN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{MICROS_PER_DAY as DAY, MICROS_PER_HOUR as HOUR, MICROS_PER_SECOND as S};
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::f64::consts::TAU;

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    /// Every arrival of `arrivals` in `[from, until)`, and checks that `next` stays `None`.
    fn collect(arrivals: &Arrivals, from: Micros, until: Micros, seed: u64) -> Vec<Micros> {
        let mut r = rng(seed);
        let mut g = ArrivalGen::new(arrivals, from, until);
        let mut out = Vec::new();
        while let Some(t) = g.next(&mut r) {
            out.push(t);
        }
        for _ in 0..3 {
            assert_eq!(g.next(&mut r), None);
        }
        out
    }

    /// `|observed − expected| ≤ 4·sqrt(expected)`: a Poisson count within 4 standard deviations.
    fn assert_poisson_count(observed: usize, expected: f64, what: &str) {
        let tol = 4.0 * expected.sqrt();
        assert!((observed as f64 - expected).abs() <= tol, "{what}: {observed} arrivals, expected {expected} ± {tol}");
    }

    fn diurnal() -> Arrivals {
        Arrivals::Diurnal { mean: 2.0, peak_ratio: 4.0, period: DAY, peak: 14 * HOUR }
    }

    fn bursty() -> Arrivals {
        Arrivals::Bursty { on_rate: 100.0, off_rate: 5.0, mean_on: 2 * S, mean_off: 8 * S }
    }

    fn all_kinds() -> Vec<Arrivals> {
        vec![Arrivals::Poisson { rate: 50.0 }, diurnal(), bursty(), Arrivals::Constant { interval: 7_777 }]
    }

    /// Expected diurnal arrivals in `[t1, t2)`: the integral of the rate.
    fn diurnal_integral(arrivals: &Arrivals, t1: Micros, t2: Micros) -> f64 {
        let Arrivals::Diurnal { mean, peak_ratio, period, peak } = *arrivals else { unreachable!() };
        let a = (peak_ratio - 1.0) / (peak_ratio + 1.0);
        let w = TAU / period as f64;
        let s = |t: Micros| (w * (t as f64 - peak as f64)).sin();
        let secs = (t2 - t1) as f64 / S as f64;
        let osc = a * (s(t2) - s(t1)) / w / S as f64;
        mean * (secs + osc)
    }

    #[test]
    fn poisson_count_over_a_long_window_matches_the_rate() {
        let arrivals = Arrivals::Poisson { rate: 1_000.0 };
        let times = collect(&arrivals, 0, 1_000 * S, 1);
        assert_poisson_count(times.len(), 1_000.0 * 1_000.0, "poisson");
    }

    #[test]
    fn poisson_far_from_time_zero_keeps_its_rate() {
        let from = 100_000_000_000_000; // 1e14 µs ≈ 3 years
        let arrivals = Arrivals::Poisson { rate: 1_000.0 };
        let times = collect(&arrivals, from, from + 100 * S, 2);
        assert_poisson_count(times.len(), 100_000.0, "poisson at 1e14 µs");
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn poisson_with_rate_zero_never_arrives() {
        assert!(collect(&Arrivals::Poisson { rate: 0.0 }, 0, DAY, 3).is_empty());
    }

    #[test]
    fn diurnal_counts_in_peak_and_trough_hours_match_the_integrated_rate() {
        let arrivals = diurnal();
        let times = collect(&arrivals, 0, 2 * DAY, 4);
        for day in 0..2 {
            let peak = day * DAY + 14 * HOUR;
            let trough = peak - DAY / 2;
            for (centre, what) in [(peak, "peak hour"), (trough, "trough hour")] {
                let (t1, t2) = (centre - HOUR / 2, centre + HOUR / 2);
                let n = times.iter().filter(|&&t| t1 <= t && t < t2).count();
                assert_poisson_count(n, diurnal_integral(&arrivals, t1, t2), what);
            }
        }
        assert_poisson_count(times.len(), 2.0 * 2.0 * 86_400.0, "two days");
    }

    #[test]
    fn diurnal_phase_does_not_depend_on_the_window_start() {
        let arrivals = diurnal();
        let (t1, t2) = (14 * HOUR - HOUR / 2, 14 * HOUR + HOUR / 2);
        let expected = diurnal_integral(&arrivals, t1, t2);
        let n: usize = (0..4).map(|k| collect(&arrivals, t1, t2, 40 + k).len()).sum();
        assert_poisson_count(n, 4.0 * expected, "peak hour windows");
        // Peak is 4x trough, so a mistaken phase (peak at `from`) would be far off too.
        let (u1, u2) = (t1 + DAY / 2, t2 + DAY / 2);
        let m: usize = (0..4).map(|k| collect(&arrivals, u1, u2, 50 + k).len()).sum();
        assert_poisson_count(m, 4.0 * diurnal_integral(&arrivals, u1, u2), "trough hours");
    }

    #[test]
    fn diurnal_with_peak_ratio_one_is_plain_poisson() {
        let arrivals = Arrivals::Diurnal { mean: 100.0, peak_ratio: 1.0, period: HOUR, peak: 0 };
        let times = collect(&arrivals, 0, 1_000 * S, 5);
        assert_poisson_count(times.len(), 100_000.0, "flat diurnal");
    }

    #[test]
    fn bursty_long_run_rate_matches_the_stationary_mix() {
        let arrivals = bursty();
        let expected = ArrivalGen::mean_rate(&arrivals);
        assert_eq!(expected, 24.0);
        // Batch means: 40 independent windows of 1000 s (100 on/off cycles each), one
        // stream; each generator starts from the stationary state, so windows are independent.
        let window = 1_000 * S;
        let batches = 40;
        let mut r = rng(6);
        let rates: Vec<f64> = (0..batches)
            .map(|_| {
                let mut g = ArrivalGen::new(&arrivals, 0, window);
                let mut n = 0usize;
                while g.next(&mut r).is_some() {
                    n += 1;
                }
                n as f64 / (window / S) as f64
            })
            .collect();
        let k = batches as f64;
        let mean = rates.iter().sum::<f64>() / k;
        let var = rates.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0);
        let se = (var / k).sqrt();
        assert!((mean - expected).abs() <= 4.0 * se, "bursty rate {mean}, expected {expected} ± {}", 4.0 * se);
        // The counts are overdispersed compared with a Poisson count of the same mean.
        let poisson_var = expected / (window / S) as f64;
        assert!(var > poisson_var, "batch variance {var} vs Poisson {poisson_var}");
    }

    #[test]
    fn bursty_initial_state_follows_the_stationary_distribution() {
        let arrivals = bursty();
        let n = 20_000;
        let mut r = rng(7);
        let on = (0..n)
            .filter(|_| {
                // A 1 µs window: the first call draws the state and then ends the window
                // (a state switch inside that microsecond has probability about 1e-6).
                let mut g = ArrivalGen::new(&arrivals, 0, 1);
                g.next(&mut r);
                match g.kind {
                    Kind::Bursty { on, .. } => on == Some(true),
                    _ => unreachable!(),
                }
            })
            .count();
        let p = 0.2;
        let tol = 4.0 * (p * (1.0 - p) / n as f64).sqrt();
        let frac = on as f64 / n as f64;
        assert!((frac - p).abs() <= tol, "on fraction {frac}, expected {p} ± {tol}");
    }

    #[test]
    fn bursty_with_a_silent_off_state_still_arrives_at_the_mixed_rate() {
        let arrivals = Arrivals::Bursty { on_rate: 1_000.0, off_rate: 0.0, mean_on: S / 10, mean_off: S / 10 };
        let expected = ArrivalGen::mean_rate(&arrivals);
        assert_eq!(expected, 500.0);
        let window = 100 * S;
        let batches = 20;
        let rates: Vec<f64> =
            (0..batches).map(|k| collect(&arrivals, 0, window, 80 + k).len() as f64 / 100.0).collect();
        let b = batches as f64;
        let mean = rates.iter().sum::<f64>() / b;
        let var = rates.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (b - 1.0);
        assert!((mean - expected).abs() <= 4.0 * (var / b).sqrt(), "rate {mean}");
    }

    #[test]
    fn constant_arrivals_are_exact() {
        let arrivals = Arrivals::Constant { interval: 1_000 };
        let times = collect(&arrivals, 1_234, 10_234, 8);
        let want: Vec<Micros> = (0..9).map(|k| 1_234 + k * 1_000).collect();
        assert_eq!(times, want);
        assert_eq!(ArrivalGen::mean_rate(&arrivals), 1_000.0);
    }

    #[test]
    fn arrivals_stay_inside_the_window_and_never_decrease() {
        let (from, until) = (5 * S + 123, 300 * S + 7);
        for (k, arrivals) in all_kinds().iter().enumerate() {
            let times = collect(arrivals, from, until, 9 + k as u64);
            assert!(!times.is_empty(), "{arrivals:?}");
            assert!(times.iter().all(|&t| from <= t && t < until), "{arrivals:?}");
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "{arrivals:?}");
        }
    }

    #[test]
    fn empty_window_gives_no_arrivals() {
        for arrivals in all_kinds() {
            assert!(collect(&arrivals, 10 * S, 10 * S, 10).is_empty());
            assert!(collect(&arrivals, 10 * S, 5 * S, 10).is_empty());
        }
    }

    #[test]
    fn same_seed_gives_the_same_sequence() {
        for (k, arrivals) in all_kinds().iter().enumerate() {
            let a = collect(arrivals, 0, 100 * S, 20 + k as u64);
            let b = collect(arrivals, 0, 100 * S, 20 + k as u64);
            assert_eq!(a, b, "{arrivals:?}");
        }
    }

    #[test]
    fn mean_rate_is_the_long_run_average() {
        assert_eq!(ArrivalGen::mean_rate(&Arrivals::Poisson { rate: 3.5 }), 3.5);
        assert_eq!(ArrivalGen::mean_rate(&diurnal()), 2.0);
        assert_eq!(ArrivalGen::mean_rate(&bursty()), 24.0);
        assert_eq!(ArrivalGen::mean_rate(&Arrivals::Constant { interval: 250_000 }), 4.0);
    }
}

#[cfg(test)]
mod profile_tests {
    use super::*;
    use crate::units::{MICROS_PER_HOUR as HOUR, MICROS_PER_SECOND as S};
    use crate::workload::model::{Profile, ProfileSource};
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn all(arrivals: &Arrivals, from: Micros, until: Micros) -> Vec<Micros> {
        let mut r = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut g = ArrivalGen::new(arrivals, from, until);
        std::iter::from_fn(|| g.next(&mut r)).collect()
    }

    fn within(n: usize, expected: f64) -> bool {
        (n as f64 - expected).abs() <= 4.0 * expected.sqrt()
    }

    #[test]
    fn an_hourly_profile_counts_each_hour_at_its_rate_and_repeats() {
        let rates: Vec<f64> = (0..24).map(|h| if h == 10 { 5.0 } else { 0.5 }).collect();
        let p = Profile { rates, step: HOUR, origin: 2 * HOUR as i64, repeat: true, source: ProfileSource::Hourly };
        let times = all(&Arrivals::Profile(p), 0, 48 * HOUR);
        // origin 2h: profile hour 10 is simulated hours 8 and 32
        for day in 0..2 {
            let h = |k: u64| times.iter().filter(|&&t| t / HOUR == day * 24 + k).count();
            assert!(within(h(8), 5.0 * 3600.0), "day {day} peak hour {}", h(8));
            assert!(within(h(9), 0.5 * 3600.0), "day {day} next hour {}", h(9));
        }
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn a_counts_profile_is_silent_outside_its_span() {
        let p = Profile {
            rates: vec![10.0, 0.0, 20.0],
            step: 60 * S,
            origin: -(60 * S as i64),
            repeat: false,
            source: ProfileSource::Counts("c.csv".into()),
        };
        let times = all(&Arrivals::Profile(p), 0, 3600 * S);
        let m = |k: u64| times.iter().filter(|&&t| t / (60 * S) == k).count();
        assert_eq!(m(0), 0, "before the file starts");
        assert!(within(m(1), 600.0) && m(2) == 0 && within(m(3), 1200.0), "{} {} {}", m(1), m(2), m(3));
        assert_eq!(times.len(), m(1) + m(3), "nothing after the file ends");
    }

    #[test]
    fn a_diurnal_trough_of_zero_still_averages_the_mean() {
        let d = Arrivals::Diurnal { mean: 10.0, peak_ratio: f64::INFINITY, period: HOUR, peak: 0 };
        let times = all(&d, 0, 10 * HOUR);
        assert!(within(times.len(), 10.0 * 36_000.0), "{}", times.len());
        // the trough quarter-hour around 30 min has far fewer arrivals than the peak's
        let q = |c: u64| times.iter().filter(|&&t| (t % HOUR).abs_diff(c) < HOUR / 16).count();
        assert!(q(HOUR / 2) * 20 < q(0).max(1) + q(HOUR).max(1), "trough {} peak {}", q(HOUR / 2), q(0));
    }
}
