//! What the measurements say directly, before any fit: the pull events read phase by phase
//! (the fit's starting points, shown beside it in the report), lognormal distributions of the
//! container start times. The sample median and quantile are [`crate::stats`]'s.

use super::fit::PullParams;
use super::measure::Trial;
use super::numbers::dur;
use crate::stats::{median, Z99};

/// What the pull events say phase by phase (each an ordinary least-squares line), used as a
/// starting point and reported beside the fit.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseEstimates {
    /// Median time to the first layer event.
    pub manifest: f64,
    /// Extraction of a layer: `fixed + uncompressed / rate`, from the spans between a layer
    /// being ready to extract and its `Pull complete`.
    pub extract_fixed: f64,
    pub extract_rate: f64,
    pub extract_points: usize,
    /// The download phase of a trial (manifest to last `Download complete`):
    /// `overhead × rounds + compressed / rate`, rounds = ⌈layers / 3⌉ (Docker's concurrency).
    pub download_overhead: f64,
    pub download_rate: f64,
    pub download_points: usize,
}

/// Least squares of y = a·x1 + b·x2 (no intercept); None when degenerate.
fn ls2(rows: &[(f64, f64, f64)]) -> Option<(f64, f64)> {
    let (mut s11, mut s12, mut s22, mut s1y, mut s2y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x1, x2, y) in rows {
        s11 += x1 * x1;
        s12 += x1 * x2;
        s22 += x2 * x2;
        s1y += x1 * y;
        s2y += x2 * y;
    }
    let det = s11 * s22 - s12 * s12;
    if det.abs() < 1e-12 * (s11 * s22).max(1e-300) {
        return None;
    }
    Some(((s1y * s22 - s2y * s12) / det, (s2y * s11 - s1y * s12) / det))
}

/// Layers Docker downloads at once (its max-concurrent-downloads default): how the pull events
/// are read, whatever `parallel_layers` the model is fitted with.
pub const DOCKER_PARALLEL_DOWNLOADS: u32 = 3;

pub fn phase_estimates(trials: &[Trial]) -> PhaseEstimates {
    let parallel_layers = DOCKER_PARALLEL_DOWNLOADS;
    let d = PullParams::defaults();
    let manifest = median(&trials.iter().map(|t| t.manifest_s).collect::<Vec<_>>()).max(1e-4);
    let mut ext = Vec::new();
    let mut dl = Vec::new();
    for t in trials.iter().filter(|t| t.cached_layers() == 0) {
        let mut prev = t.manifest_s;
        for l in &t.layers {
            if let (Some(dd), Some(done)) = (l.download_done, l.done) {
                let span = done - dd.max(prev);
                if span > 0.0 {
                    ext.push((1.0, l.uncompressed as f64, span));
                }
                prev = done;
            }
        }
        if let Some(last) = t.layers.iter().filter_map(|l| l.download_done).reduce(f64::max) {
            let rounds = (t.layers.len() as f64 / parallel_layers as f64).ceil();
            dl.push((rounds, t.compressed() as f64, last - t.manifest_s));
        }
    }
    let (extract_fixed, extract_rate) = match ls2(&ext) {
        Some((a, b)) if b > 0.0 => (a.max(0.0), 1.0 / b),
        _ => (0.0, d.extract_rate),
    };
    let (download_overhead, download_rate) = match ls2(&dl) {
        Some((a, b)) if b > 0.0 => (a.max(0.0), 1.0 / b),
        _ => (d.layer_overhead, d.bandwidth),
    };
    PhaseEstimates {
        manifest,
        extract_fixed,
        extract_rate,
        extract_points: ext.len(),
        download_overhead,
        download_rate,
        download_points: dl.len(),
    }
}

impl PhaseEstimates {
    /// Starting points for the fit: the phase estimates as they are (the fixed extraction
    /// cost as `extract_overhead`), and with that cost moved into the per-layer download
    /// overhead instead.
    pub fn starts(&self, parallel_layers: u32) -> Vec<PullParams> {
        let base = PullParams {
            manifest: self.manifest,
            layer_overhead: self.download_overhead.max(1e-4),
            bandwidth: self.download_rate,
            extract_rate: self.extract_rate,
            extract_overhead: self.extract_fixed,
            parallel_layers,
        };
        vec![
            base,
            PullParams {
                layer_overhead: self.download_overhead + self.extract_fixed * parallel_layers as f64,
                extract_overhead: 0.0,
                ..base
            },
        ]
    }
}

/// ln(X / 1 s) ~ Normal(mu, sigma): fitted by least squares on the logarithms (which is also
/// the maximum-likelihood fit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    pub mu: f64,
    pub sigma: f64,
    pub samples: usize,
}

impl LogNormal {
    pub fn fit(samples: &[f64]) -> Option<LogNormal> {
        let logs: Vec<f64> = samples.iter().filter(|s| **s > 0.0).map(|s| s.ln()).collect();
        if logs.is_empty() {
            return None;
        }
        let n = logs.len() as f64;
        let mu = logs.iter().sum::<f64>() / n;
        let var = if logs.len() > 1 { logs.iter().map(|l| (l - mu).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
        Some(LogNormal { mu, sigma: var.sqrt(), samples: logs.len() })
    }
    pub fn median(&self) -> f64 {
        self.mu.exp()
    }
    pub fn quantile(&self, z: f64) -> f64 {
        (self.mu + z * self.sigma).exp()
    }
    pub fn p99(&self) -> f64 {
        self.quantile(Z99)
    }
    /// As a scenario value: `{ dist = "lognormal", median = "…", p99 = "…" }`, or a plain
    /// duration when the samples did not vary at µs resolution or the two figures as written
    /// (four significant digits) are equal — a scenario refuses a p99 that is not above the median.
    pub fn to_toml(&self) -> String {
        let (m, q) = (micros(self.median()), micros(self.p99()));
        let (median, p99) = (dur(self.median()), dur(self.p99()));
        if q <= m || median == p99 {
            format!("\"{}\"", crate::units::format_duration(m.max(1)))
        } else {
            format!("{{ dist = \"lognormal\", median = \"{median}\", p99 = \"{p99}\" }}")
        }
    }
}

fn micros(s: f64) -> u64 {
    (s * 1e6).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lognormal_fit_recovers_median_and_spread() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, LogNormal as LN};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let d = LN::new((0.2f64).ln(), 0.3).unwrap();
        let xs: Vec<f64> = (0..4000).map(|_| d.sample(&mut rng)).collect();
        let f = LogNormal::fit(&xs).unwrap();
        assert!((f.median() / 0.2 - 1.0).abs() < 0.02, "{f:?}");
        assert!((f.sigma - 0.3).abs() < 0.02, "{f:?}");
        let toml = f.to_toml();
        assert!(toml.starts_with("{ dist = \"lognormal\", median = \"") && toml.contains("p99"), "{toml}");
        // samples that vary below the fourth significant digit: a fixed duration too (a
        // median and a p99 both written "101ms" would not validate)
        let f = LogNormal::fit(&[0.10100, 0.10101, 0.10102, 0.10101]).unwrap();
        assert!(micros(f.p99()) > micros(f.median()));
        assert_eq!(f.to_toml(), "\"101.01ms\"");
        // equal samples: a fixed duration
        assert_eq!(LogNormal::fit(&[0.012, 0.012]).unwrap().to_toml(), "\"12ms\"");
    }
}
