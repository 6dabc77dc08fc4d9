//! `function.cpu_fraction` from request times under 1, 2, 4, … requests at once.
//!
//! The model (`platform::cpu_share`) serves the CPU part `f·T₁` of a request under processor
//! sharing and its wait `(1 − f)·T₁` after it, untouched. With `k` requests started together
//! on `v` vCPUs (one thread each) every CPU part runs at `min(1, v/k)` of its rate alone
//! (`min(1, v)`), so each request takes `T(k) = T₁·((1 − f) + f·s_k)` with the stretch
//! `s_k = min(1, v) / min(1, v/k)` — `max(1, k/v)` for `v ≥ 1`. That is a line in `s_k`,
//! `T(k) = a + b·s_k` with `a = T₁(1 − f)` and `b = T₁·f`: least squares over the levels'
//! mean times gives `a` and `b`, and `f = b / (a + b)`. A fit outside 0–1 is clamped and `T₁`
//! fitted again for the clamped `f`.

use super::numbers::dur;

/// The requests measured at one level of concurrency.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// Requests sent at once.
    pub k: u32,
    /// Each request's time, seconds (every round).
    pub seconds: Vec<f64>,
}

impl Level {
    pub fn mean(&self) -> f64 {
        self.seconds.iter().sum::<f64>() / self.seconds.len().max(1) as f64
    }
}

/// How much longer the CPU part of a request takes with `k` at once on `vcpu` vCPUs than
/// alone (one thread a request).
pub fn stretch(k: u32, vcpu: f64) -> f64 {
    vcpu.min(1.0) / (vcpu / k as f64).min(1.0)
}

/// The fitted `cpu_fraction` and how well the model then reproduces each level.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuFit {
    /// `cpu_fraction`, 0–1.
    pub fraction: f64,
    /// Whether the unconstrained fit fell outside 0–1 (then `fraction` is the bound).
    pub clamped: bool,
    /// The fitted time of one request alone, seconds.
    pub alone: f64,
    pub vcpu: f64,
    /// (k, requests, measured mean, fitted), seconds.
    pub levels: Vec<(u32, usize, f64, f64)>,
    /// Root mean square of measured mean − fitted over the levels, seconds.
    pub rms: f64,
    /// The same, relative to each level's mean.
    pub rms_rel: f64,
    /// The times of requests alone (level 1), seconds: the function's `exec` where measured.
    pub alone_samples: Vec<f64>,
}

/// Fits `cpu_fraction` to the levels' mean times; None unless the levels hold requests at
/// two different stretches (with none above `vcpu`, contention was not measured).
pub fn fit(levels: &[Level], vcpu: f64) -> Option<CpuFit> {
    let pts: Vec<(f64, f64)> =
        levels.iter().filter(|l| !l.seconds.is_empty()).map(|l| (stretch(l.k, vcpu), l.mean())).collect();
    let n = pts.len() as f64;
    let sm = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let tm = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - sm).powi(2)).sum();
    if pts.len() < 2 || sxx <= 1e-12 {
        return None;
    }
    let b = pts.iter().map(|p| (p.0 - sm) * (p.1 - tm)).sum::<f64>() / sxx;
    let a = tm - b * sm;
    // a time alone of 0 or less (a + b) comes from times that grow steeply: all CPU, if rising
    let raw = if a + b > 0.0 {
        b / (a + b)
    } else if b > 0.0 {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    };
    let fraction = raw.clamp(0.0, 1.0);
    let clamped = fraction != raw;
    let g = |s: f64| (1.0 - fraction) + fraction * s;
    let alone = if clamped {
        pts.iter().map(|p| p.1 * g(p.0)).sum::<f64>() / pts.iter().map(|p| g(p.0).powi(2)).sum::<f64>()
    } else {
        a + b
    };
    let fitted: Vec<(u32, usize, f64, f64)> = levels
        .iter()
        .filter(|l| !l.seconds.is_empty())
        .map(|l| (l.k, l.seconds.len(), l.mean(), alone * g(stretch(l.k, vcpu))))
        .collect();
    let rms = (fitted.iter().map(|l| (l.2 - l.3).powi(2)).sum::<f64>() / n).sqrt();
    let rms_rel = (fitted.iter().map(|l| ((l.2 - l.3) / l.2).powi(2)).sum::<f64>() / n).sqrt();
    let alone_samples = levels.iter().filter(|l| l.k == 1).flat_map(|l| l.seconds.iter().copied()).collect();
    Some(CpuFit { fraction, clamped, alone, vcpu, levels: fitted, rms, rms_rel, alone_samples })
}

impl CpuFit {
    /// The table and the fit, as `--image --concurrency` prints them.
    pub fn summary(&self, rounds: u32) -> String {
        let mut s = format!(
            "  concurrency      {rounds} rounds of k requests at once on {} vCPU (mean request time):\n",
            super::numbers::sig4(self.vcpu)
        );
        s.push_str("                     k  requests      mean    fitted\n");
        for (k, n, m, f) in &self.levels {
            s.push_str(&format!("                  {k:>4}  {n:>8}  {:>8}  {:>8}\n", dur(*m), dur(*f)));
        }
        s.push_str(&format!(
            "  cpu_fraction     {:.3}{} (least squares of T(k) = T1·((1 − f) + f·max(1, k/v)), T1 {}; rms residual {}, {:.1}%)\n",
            self.fraction,
            if self.clamped { ", clamped to 0–1" } else { "" },
            dur(self.alone),
            dur(self.rms),
            self.rms_rel * 100.0
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(vcpu: f64, f: f64, alone: f64, ks: &[u32]) -> Vec<Level> {
        ks.iter()
            .map(|&k| {
                let t = alone * ((1.0 - f) + f * stretch(k, vcpu));
                Level { k, seconds: vec![t * 0.99, t * 1.01] }
            })
            .collect()
    }

    #[test]
    fn the_stretch_is_max_1_k_over_v_from_one_vcpu_on() {
        assert_eq!(stretch(1, 1.0), 1.0);
        assert_eq!(stretch(8, 1.0), 8.0);
        assert_eq!(stretch(2, 2.0), 1.0);
        assert_eq!(stretch(8, 2.0), 4.0);
        // below one vCPU a request alone already runs on a share: k at once take k times as long
        assert!((stretch(3, 0.5) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_fit_recovers_the_fraction_that_made_the_times() {
        for (vcpu, f) in [(1.0, 0.5), (1.0, 0.2), (2.0, 0.8), (0.5, 0.3), (1.0, 1.0), (1.0, 0.0)] {
            let c = fit(&levels(vcpu, f, 0.1, &[1, 2, 4, 8]), vcpu).unwrap();
            assert!((c.fraction - f).abs() < 1e-9, "{vcpu} {f}: {c:?}");
            assert!((c.alone - 0.1).abs() < 1e-9 && c.rms < 1e-9, "{c:?}");
        }
    }

    #[test]
    fn a_fit_outside_0_to_1_is_clamped_and_the_time_alone_refitted() {
        // times that fall with concurrency: no CPU share explains them
        let l = vec![Level { k: 1, seconds: vec![0.10] }, Level { k: 4, seconds: vec![0.09] }];
        let c = fit(&l, 1.0).unwrap();
        assert_eq!((c.fraction, c.clamped), (0.0, true));
        assert!((c.alone - 0.095).abs() < 1e-12, "{c:?}");
        // times that grow faster than all-CPU work would
        let l = vec![Level { k: 1, seconds: vec![0.10] }, Level { k: 4, seconds: vec![0.50] }];
        let c = fit(&l, 1.0).unwrap();
        assert_eq!((c.fraction, c.clamped), (1.0, true));
        assert!(c.rms > 0.0);
    }

    #[test]
    fn levels_that_never_exceed_the_vcpus_give_no_fit() {
        assert!(fit(&levels(2.0, 0.5, 0.1, &[1, 2]), 2.0).is_none());
        assert!(fit(&levels(1.0, 0.5, 0.1, &[1]), 1.0).is_none());
    }

    #[test]
    fn the_summary_names_the_fraction_and_its_residual() {
        let c = fit(&levels(1.0, 0.5, 0.1, &[1, 2, 4]), 1.0).unwrap();
        let s = c.summary(3);
        assert!(s.contains("cpu_fraction     0.500 (least squares") && s.contains("rms residual"), "{s}");
        assert!(s.contains("   4         2     250ms     250ms"), "{s}");
    }
}
