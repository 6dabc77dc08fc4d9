//! Duration distributions: fast samplers in whole microseconds for a validated [`Dist`], plus
//! its exact mean and closed-form quantiles (for reports and tests).

use super::model::Dist;
use crate::stats::{inverse_normal_cdf, Z99};
use crate::units::Micros;
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, LogNormal, Pareto, Weibull};

/// Microseconds per second, as a float (LogNormal parameters are in ln-seconds).
const US_PER_S: f64 = crate::units::MICROS_PER_SECOND as f64;

/// Samples saturate here, so a sum of a few of them never overflows a `Micros`.
const SAMPLE_CAP: Micros = u64::MAX / 4;

impl Dist {
    /// Prepare a fast sampler (precomputed `rand_distr` objects). Never fails for a validated
    /// `Dist`; panics only if validation let through parameters `rand_distr` rejects (a bug).
    pub fn sampler(&self) -> Sampler {
        let inner = match self {
            Dist::Fixed(v) => Inner::Fixed(*v),
            Dist::Exp { mean } => Inner::Exp { mean: *mean as f64 },
            Dist::LogNormal { mu, sigma } => Inner::LogNormal(
                LogNormal::new(mu + US_PER_S.ln(), *sigma).expect("validated LogNormal: finite mu, sigma >= 0"),
            ),
            Dist::Gamma { shape, scale } => {
                Inner::Gamma(Gamma::new(*shape, *scale).expect("validated Gamma: shape > 0, scale > 0"))
            }
            Dist::Weibull { shape, scale } => {
                Inner::Weibull(Weibull::new(*scale, *shape).expect("validated Weibull: shape > 0, scale > 0"))
            }
            Dist::Pareto { shape, scale } => {
                Inner::Pareto(Pareto::new(*scale, *shape).expect("validated Pareto: shape > 0, scale > 0"))
            }
            Dist::Empirical { points } => {
                assert!(
                    points.len() >= 2 && points[0].0 == 0.0 && points[points.len() - 1].0 == 100.0,
                    "validated Empirical: percentiles from 0 to 100"
                );
                // one allocation (a trace has thousands of these, sampled in turn)
                let segments: Box<[[f64; 3]]> =
                    points.windows(2).map(|w| [w[0].0, w[0].1, (w[1].1 - w[0].1) / (w[1].0 - w[0].0)]).collect();
                Inner::Empirical { segments }
            }
        };
        Sampler { inner }
    }

    /// Exact mean in µs. Pareto with shape ≤ 1 gives `f64::INFINITY`; Empirical gives the mean
    /// of its piecewise-linear inverse CDF. (Samples are rounded to whole µs, which moves the
    /// sample mean by at most 0.5 µs.)
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Fixed(v) => *v as f64,
            Dist::Exp { mean } => *mean as f64,
            Dist::LogNormal { mu, sigma } => (mu + 0.5 * sigma * sigma).exp() * US_PER_S,
            Dist::Gamma { shape, scale } => shape * scale,
            Dist::Weibull { shape, scale } => scale * gamma_fn(1.0 + 1.0 / shape),
            Dist::Pareto { shape, scale } => {
                if *shape <= 1.0 {
                    f64::INFINITY
                } else {
                    shape * scale / (shape - 1.0)
                }
            }
            Dist::Empirical { points } => {
                points.windows(2).map(|w| (w[1].0 - w[0].0) / 100.0 * 0.5 * (w[0].1 + w[1].1)).sum()
            }
        }
    }

    /// Quantile in µs for `p` in [0, 1] (closed form), before rounding to whole µs.
    /// `None` for Gamma (no closed form) and for `p` outside [0, 1] or NaN.
    /// Unbounded distributions give `f64::INFINITY` at `p = 1`.
    pub fn quantile(&self, p: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&p) {
            return None;
        }
        match self {
            Dist::Fixed(v) => Some(*v as f64),
            Dist::Exp { mean } => Some(-(*mean as f64) * (-p).ln_1p()),
            Dist::LogNormal { mu, sigma } => {
                if p == 0.0 {
                    Some(0.0)
                } else {
                    Some((mu + sigma * inverse_normal_cdf(p)).exp() * US_PER_S)
                }
            }
            Dist::Gamma { .. } => None,
            Dist::Weibull { shape, scale } => Some(scale * (-(-p).ln_1p()).powf(1.0 / shape)),
            Dist::Pareto { shape, scale } => Some(scale * (1.0 - p).powf(-1.0 / shape)),
            Dist::Empirical { points } => {
                let q = p * 100.0;
                let hi = points.partition_point(|pt| pt.0 <= q).clamp(1, points.len() - 1);
                let (p0, v0) = points[hi - 1];
                let (p1, v1) = points[hi];
                Some(v0 + (q - p0) * (v1 - v0) / (p1 - p0))
            }
        }
    }
}

/// A prepared sampler for one [`Dist`]; sampling never allocates.
#[derive(Debug, Clone)]
pub struct Sampler {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    Fixed(Micros),
    /// Exponential: `Exp1` times the mean (µs).
    Exp {
        mean: f64,
    },
    /// Already shifted to ln-µs.
    LogNormal(LogNormal<f64>),
    Gamma(Gamma<f64>),
    Weibull(Weibull<f64>),
    Pareto(Pareto<f64>),
    /// Per segment between two points: its first percentile (0..100), the value there
    /// (µs), and the slope up to the next point.
    Empirical {
        segments: Box<[[f64; 3]]>,
    },
}

impl Sampler {
    /// One sample in whole µs: rounded to nearest, never negative, saturating at
    /// `u64::MAX / 4`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Micros {
        let x = match &self.inner {
            Inner::Fixed(v) => return *v,
            Inner::Exp { mean } => {
                let e: f64 = rng.sample(Exp1);
                e * mean
            }
            Inner::LogNormal(d) => d.sample(rng),
            Inner::Gamma(d) => d.sample(rng),
            Inner::Weibull(d) => d.sample(rng),
            Inner::Pareto(d) => d.sample(rng),
            Inner::Empirical { segments } => {
                let u = rng.random::<f64>() * 100.0;
                // the last segment starting at or below u (the first starts at 0 <= u)
                let i = segments.partition_point(|s| s[0] <= u).max(1) - 1;
                let [p, v, slope] = segments[i];
                v + (u - p) * slope
            }
        };
        to_micros(x)
    }
}

/// Round a µs value to a whole `Micros`: nearest, negative → 0, large or NaN → the cap.
#[inline]
fn to_micros(x: f64) -> Micros {
    const CAP: f64 = SAMPLE_CAP as f64;
    if x < CAP {
        // `as` saturates negatives to 0.
        (x + 0.5) as Micros
    } else {
        SAMPLE_CAP
    }
}

/// LogNormal parameters from a median and a p99 (both µs): `mu = ln(median / 1 s)`,
/// `sigma = ln(p99 / median) / z_0.99`. Expects `0 < median <= p99`.
pub fn lognormal_from_median_p99(median: Micros, p99: Micros) -> (f64, f64) {
    let m = median as f64;
    let mu = (m / US_PER_S).ln();
    let sigma = (p99 as f64 / m).ln() / Z99;
    (mu, sigma)
}

/// Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error about 1e-15).
fn gamma_fn(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_fn(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    fn draw(dist: &Dist, n: usize, seed: u64) -> Vec<Micros> {
        let s = dist.sampler();
        let mut r = rng(seed);
        (0..n).map(|_| s.sample(&mut r)).collect()
    }

    /// Sample mean and its standard error (from the sample variance).
    fn mean_and_se(xs: &[Micros]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    }

    /// Checks that `q` is a `p`-quantile of the samples within 4 binomial standard errors:
    /// the fraction strictly below `q` must not exceed `p` by more, and the fraction at or
    /// below `q` must not fall short of `p` by more (this brackets whole-µs rounding).
    fn assert_quantile(xs: &[Micros], p: f64, q: f64, what: &str) {
        let n = xs.len() as f64;
        let below = xs.iter().filter(|&&x| (x as f64) < q).count() as f64 / n;
        let at_or_below = xs.iter().filter(|&&x| (x as f64) <= q).count() as f64 / n;
        let tol = 4.0 * (p * (1.0 - p) / n).sqrt();
        assert!(
            below <= p + tol && at_or_below >= p - tol,
            "{what}: p = {p}, q = {q}: fraction below {below}, at or below {at_or_below}, tol {tol}"
        );
    }

    fn all_dists() -> Vec<Dist> {
        vec![
            Dist::Exp { mean: 5_000 },
            Dist::LogNormal { mu: (0.01f64).ln(), sigma: 0.5 },
            Dist::Gamma { shape: 2.5, scale: 2_000.0 },
            Dist::Gamma { shape: 0.6, scale: 10_000.0 },
            Dist::Weibull { shape: 1.5, scale: 3_000.0 },
            Dist::Weibull { shape: 0.7, scale: 3_000.0 },
            Dist::Pareto { shape: 4.5, scale: 1_000.0 },
            Dist::Empirical {
                points: vec![
                    (0.0, 100.0),
                    (10.0, 200.0),
                    (50.0, 1_000.0),
                    (90.0, 5_000.0),
                    (99.0, 20_000.0),
                    (100.0, 50_000.0),
                ],
            },
        ]
    }

    #[test]
    fn each_distribution_sample_mean_matches_its_exact_mean() {
        for (k, dist) in all_dists().iter().enumerate() {
            let xs = draw(dist, 200_000, 100 + k as u64);
            let (m, se) = mean_and_se(&xs);
            // 4 standard errors, plus the at most 0.5 µs that whole-µs rounding can move a mean.
            let tol = 4.0 * se + 0.5;
            assert!((m - dist.mean()).abs() <= tol, "{dist:?}: sample mean {m}, exact {}, tol {tol}", dist.mean());
        }
    }

    #[test]
    fn closed_form_quantiles_match_sample_quantiles() {
        for (k, dist) in all_dists().iter().enumerate() {
            let xs = draw(dist, 100_000, 200 + k as u64);
            for p in [0.05, 0.25, 0.5, 0.75, 0.95, 0.99] {
                match dist.quantile(p) {
                    Some(q) => assert_quantile(&xs, p, q, &format!("{dist:?}")),
                    None => assert!(matches!(dist, Dist::Gamma { .. })),
                }
            }
        }
    }

    #[test]
    fn lognormal_from_median_and_p99_reproduces_them() {
        let (median, p99) = (20_000, 200_000);
        let (mu, sigma) = lognormal_from_median_p99(median, p99);
        let dist = Dist::LogNormal { mu, sigma };
        let rel = |a: f64, b: f64| (a - b).abs() / b;
        assert!(rel(dist.quantile(0.5).unwrap(), median as f64) < 1e-12);
        assert!(rel(dist.quantile(0.99).unwrap(), p99 as f64) < 1e-12);
        let xs = draw(&dist, 200_000, 7);
        assert_quantile(&xs, 0.5, median as f64, "median");
        assert_quantile(&xs, 0.99, p99 as f64, "p99");
    }

    #[test]
    fn empirical_distribution_reproduces_its_table() {
        let points =
            vec![(0.0, 100.0), (10.0, 200.0), (50.0, 1_000.0), (90.0, 5_000.0), (99.0, 20_000.0), (100.0, 50_000.0)];
        let dist = Dist::Empirical { points: points.clone() };
        for &(pct, v) in &points {
            assert_eq!(dist.quantile(pct / 100.0), Some(v));
        }
        assert_eq!(dist.quantile(0.3), Some(600.0));
        let xs = draw(&dist, 200_000, 11);
        assert!(xs.iter().all(|&x| (100..=50_000).contains(&x)));
        for &(pct, v) in &points[1..points.len() - 1] {
            assert_quantile(&xs, pct / 100.0, v, "table point");
        }
    }

    #[test]
    fn empirical_distribution_with_many_points_and_flat_segments_interpolates() {
        // 41 points (beyond any linear-search size), with a flat run from p20 to p40.
        let points: Vec<(f64, f64)> = (0..=40)
            .map(|i| {
                let p = i as f64 * 2.5;
                let v = if (8..=16).contains(&i) {
                    1_000.0
                } else if i < 8 {
                    125.0 * i as f64
                } else {
                    1_000.0 + 50.0 * (i - 16) as f64 * (i - 16) as f64
                };
                (p, v)
            })
            .collect();
        let dist = Dist::Empirical { points: points.clone() };
        let xs = draw(&dist, 200_000, 12);
        for &(pct, v) in points.iter().step_by(4).skip(1) {
            assert_quantile(&xs, pct / 100.0, v, "table point");
        }
        // The flat segment holds 20 % of the mass at exactly 1000 µs.
        let at = xs.iter().filter(|&&x| x == 1_000).count() as f64 / xs.len() as f64;
        let tol = 4.0 * (0.2f64 * 0.8 / xs.len() as f64).sqrt();
        assert!(at >= 0.2 - tol, "flat mass {at}");
        let (m, se) = mean_and_se(&xs);
        assert!((m - dist.mean()).abs() <= 4.0 * se + 0.5);
    }

    #[test]
    fn fixed_distribution_is_exact() {
        let dist = Dist::Fixed(123_456);
        assert!(draw(&dist, 1_000, 1).iter().all(|&x| x == 123_456));
        assert_eq!(dist.mean(), 123_456.0);
        assert_eq!(dist.quantile(0.0), Some(123_456.0));
        assert_eq!(dist.quantile(1.0), Some(123_456.0));
    }

    #[test]
    fn pareto_with_shape_at_most_one_has_infinite_mean() {
        for shape in [0.5, 1.0] {
            let dist = Dist::Pareto { shape, scale: 10.0 };
            assert_eq!(dist.mean(), f64::INFINITY);
        }
    }

    #[test]
    fn huge_samples_saturate_at_a_quarter_of_u64_max() {
        let dist = Dist::LogNormal { mu: 200.0, sigma: 0.0 };
        assert!(draw(&dist, 10, 3).iter().all(|&x| x == u64::MAX / 4));
        assert_eq!(to_micros(f64::INFINITY), u64::MAX / 4);
        assert_eq!(to_micros(f64::NAN), u64::MAX / 4);
        assert_eq!(to_micros(-3.0), 0);
        assert_eq!(to_micros(2.4999), 2);
        assert_eq!(to_micros(2.5), 3);
    }

    #[test]
    fn quantile_is_none_outside_the_unit_interval_and_for_gamma() {
        let exp = Dist::Exp { mean: 10 };
        assert_eq!(exp.quantile(-0.1), None);
        assert_eq!(exp.quantile(1.1), None);
        assert_eq!(exp.quantile(f64::NAN), None);
        assert_eq!(exp.quantile(0.0), Some(0.0));
        assert_eq!(exp.quantile(1.0), Some(f64::INFINITY));
        let gamma = Dist::Gamma { shape: 2.0, scale: 1.0 };
        assert_eq!(gamma.quantile(0.5), None);
    }

    #[test]
    fn same_seed_gives_the_same_samples() {
        for (k, dist) in all_dists().iter().enumerate() {
            assert_eq!(draw(dist, 100, k as u64), draw(dist, 100, k as u64));
        }
    }

    #[test]
    fn gamma_function_matches_known_values() {
        let pi = std::f64::consts::PI;
        for (x, want) in [
            (0.5, pi.sqrt()),
            (1.0, 1.0),
            (1.5, 0.5 * pi.sqrt()),
            (5.0, 24.0),
            (10.0, 362_880.0),
            (0.25, 3.625_609_908_221_908),
        ] {
            let got = gamma_fn(x);
            assert!((got - want).abs() / want < 1e-13, "Γ({x}) = {got}, want {want}");
        }
    }
}
