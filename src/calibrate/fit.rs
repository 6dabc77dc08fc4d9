//! The fit: the pull model's parameters (`manifest`, `layer_overhead`, `host_bandwidth`,
//! `extract_rate`, `extract_overhead`) by least squares, and lognormal distributions for `container_create` and
//! `startup`.
//!
//! Predictions come from the simulator itself: each image becomes a one-host scenario with
//! one request, and its pull time is what `coldcost run` computes. So a profile means
//! exactly what a scenario that uses it will do, and the fit cannot drift from the model.
//! The pull parameters minimise the sum over trials of `ln(predicted / measured)²`
//! (Levenberg–Marquardt on the logarithms of the parameters, which keeps them positive and
//! weighs a 0.1 s pull and a 10 s pull alike), started from estimates read off the per-layer
//! pull events and from the scenario defaults. Quality: R² of predicted against measured
//! median pull times, and the error on each image when it is left out of the fit
//! (leave-one-image-out cross-validation).

use super::measure::Trial;
use super::model::{predict, pull_time, scenario_for, LayerSize};
use crate::scenario::Scenario;
use crate::stats::median;

/// The pull model's parameters, in seconds and bytes per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PullParams {
    pub manifest: f64,
    pub layer_overhead: f64,
    /// Download rate of one host (`host_bandwidth`), bytes per second.
    pub bandwidth: f64,
    /// Bytes per second.
    pub extract_rate: f64,
    /// Fixed cost of each layer's extraction, paid one layer after another.
    pub extract_overhead: f64,
    pub parallel_layers: u32,
}

/// Number of fitted parameters (all but `parallel_layers`).
const N: usize = 5;

impl PullParams {
    /// The scenario defaults (`README`: 20ms, 75ms, 5Gbps, 150MB/s, 0s, 3).
    pub fn defaults() -> PullParams {
        PullParams {
            manifest: 0.020,
            layer_overhead: 0.075,
            bandwidth: 5e9 / 8.0,
            extract_rate: 150.0 * 1048576.0,
            extract_overhead: 0.0,
            parallel_layers: 3,
        }
    }

    /// Natural logarithms (a zero duration becomes the lower bound, 1 µs).
    fn to_x(self) -> [f64; N] {
        [
            self.manifest.ln(),
            self.layer_overhead.ln(),
            self.bandwidth.ln(),
            self.extract_rate.ln(),
            self.extract_overhead.max(1e-6).ln(),
        ]
    }

    fn from_x(x: &[f64; N], parallel_layers: u32) -> PullParams {
        PullParams {
            manifest: x[0].exp(),
            layer_overhead: x[1].exp(),
            bandwidth: x[2].exp(),
            extract_rate: x[3].exp(),
            extract_overhead: x[4].exp(),
            parallel_layers,
        }
    }
}

/// Bounds (natural log) that keep every parameter physical: 1 µs to 10 s, 100 KB/s to 100 GB/s.
const LO: [f64; N] = [-13.8, -13.8, 11.5, 11.5, -13.8];
const HI: [f64; N] = [2.3, 2.3, 25.3, 25.3, 2.3];

/// The profile keys of the fitted parameters, in the order of [`PullParams::to_x`].
pub const KEYS: [&str; N] = ["manifest", "layer_overhead", "host_bandwidth", "extract_rate", "extract_overhead"];

impl PullParams {
    /// The keys whose fitted value ran into a bound of the fit, where the measurements do not
    /// determine it: a rate at either bound (e.g. pulls that do not grow with size drive the
    /// bandwidth to 100 GB/s), a duration at its upper bound. A duration at its lower bound is
    /// a cost too small to see (about 0), which is a value.
    pub fn undetermined(&self) -> Vec<&'static str> {
        let x = self.to_x();
        let near = |a: f64, b: f64| (a - b).abs() < 1e-3;
        (0..N).filter(|&i| near(x[i], HI[i]) || ((i == 2 || i == 3) && near(x[i], LO[i]))).map(|i| KEYS[i]).collect()
    }
}

/// One image's layers and its measured pull times (trials that pulled every layer).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageObs {
    pub name: String,
    pub layers: Vec<LayerSize>,
    pub pulls: Vec<f64>,
}

impl ImageObs {
    pub fn compressed(&self) -> u64 {
        self.layers.iter().map(|l| l.compressed).sum()
    }
    pub fn median(&self) -> f64 {
        median(&self.pulls)
    }
}

/// Groups trials by image (in order of first appearance), leaving out trials in which the
/// engine already had a layer.
pub fn observations(trials: &[Trial]) -> Vec<ImageObs> {
    let mut out: Vec<ImageObs> = Vec::new();
    for t in trials {
        let i = match out.iter().position(|o| o.name == t.image) {
            Some(i) => i,
            None => {
                let layers = t
                    .layers
                    .iter()
                    .map(|l| LayerSize { compressed: l.compressed, uncompressed: l.uncompressed, files: l.files })
                    .collect();
                out.push(ImageObs { name: t.image.clone(), layers, pulls: vec![] });
                out.len() - 1
            }
        };
        if t.cached_layers() == 0 {
            out[i].pulls.push(t.pull_s);
        }
    }
    out.retain(|o| !o.pulls.is_empty());
    out
}

/// A fitted pull model and how well it fits its own data.
#[derive(Debug, Clone, PartialEq)]
pub struct PullFit {
    pub params: PullParams,
    /// Sum over trials of ln(predicted / measured)².
    pub sse: f64,
    /// Root mean square of ln(predicted / measured): about the typical relative error.
    pub rms_log: f64,
}

/// The images to fit, each with its scenario.
struct Problem<'a> {
    obs: Vec<&'a ImageObs>,
    scenarios: Vec<Scenario>,
}

impl<'a> Problem<'a> {
    fn new(obs: impl IntoIterator<Item = &'a ImageObs>) -> Problem<'a> {
        let obs: Vec<&ImageObs> = obs.into_iter().collect();
        let scenarios = obs.iter().map(|o| scenario_for(&o.layers)).collect();
        Problem { obs, scenarios }
    }

    fn residuals(&mut self, p: &PullParams) -> Vec<f64> {
        let mut r = Vec::new();
        for (o, sc) in self.obs.iter().zip(&mut self.scenarios) {
            let pred = pull_time(sc, p).max(1e-6);
            for m in &o.pulls {
                r.push((pred / m.max(1e-6)).ln());
            }
        }
        r
    }
}

fn sse(r: &[f64]) -> f64 {
    r.iter().map(|x| x * x).sum()
}

/// Levenberg–Marquardt from `start` on the log-parameters.
fn levenberg_marquardt(pb: &mut Problem<'_>, start: PullParams) -> PullFit {
    let pl = start.parallel_layers;
    let clamp = |x: [f64; N]| {
        let mut y = x;
        for i in 0..N {
            y[i] = y[i].clamp(LO[i], HI[i]);
        }
        y
    };
    let mut x = clamp(start.to_x());
    let mut r = pb.residuals(&PullParams::from_x(&x, pl));
    let mut cost = sse(&r);
    let mut lambda = 1e-2;
    const H: f64 = 5e-3;
    for _ in 0..200 {
        // forward-difference Jacobian
        let mut jac = vec![[0.0; N]; r.len()];
        for j in 0..N {
            let mut xh = x;
            xh[j] += H;
            let rh = pb.residuals(&PullParams::from_x(&xh, pl));
            for (i, row) in jac.iter_mut().enumerate() {
                row[j] = (rh[i] - r[i]) / H;
            }
        }
        let mut a = [[0.0; N]; N];
        let mut g = [0.0; N];
        for (i, row) in jac.iter().enumerate() {
            for p in 0..N {
                g[p] += row[p] * r[i];
                for q in 0..N {
                    a[p][q] += row[p] * row[q];
                }
            }
        }
        let mut improved = false;
        while lambda < 1e10 {
            let mut m = a;
            for (p, row) in m.iter_mut().enumerate() {
                row[p] += lambda * (a[p][p] + 1e-9);
            }
            let Some(step) = solve(m, g.map(|v| -v)) else {
                lambda *= 10.0;
                continue;
            };
            let mut xn = x;
            for p in 0..N {
                xn[p] += step[p];
            }
            let xn = clamp(xn);
            let rn = pb.residuals(&PullParams::from_x(&xn, pl));
            let cn = sse(&rn);
            if cn < cost {
                let gain = cost - cn;
                x = xn;
                r = rn;
                cost = cn;
                lambda = (lambda / 3.0).max(1e-9);
                improved = gain > 1e-12 * (1.0 + cost);
                break;
            }
            lambda *= 4.0;
        }
        if !improved {
            break;
        }
    }
    PullFit { params: PullParams::from_x(&x, pl), sse: cost, rms_log: (cost / r.len().max(1) as f64).sqrt() }
}

/// Gaussian elimination with partial pivoting on an N×N system.
#[allow(clippy::needless_range_loop)]
fn solve(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for c in 0..N {
        let p = (c..N).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-300 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..N {
            let f = a[r][c] / a[c][c];
            for k in c..N {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0; N];
    for c in (0..N).rev() {
        let s: f64 = (c + 1..N).map(|k| a[c][k] * x[k]).sum();
        x[c] = (b[c] - s) / a[c][c];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Fits the pull parameters with `parallel_layers` fixed, from each of `starts` (and the
/// defaults), keeping the best.
pub fn fit_pull(obs: &[ImageObs], parallel_layers: u32, starts: &[PullParams]) -> PullFit {
    fit_problem(&mut Problem::new(obs), parallel_layers, starts)
}

/// The whole fit: a coarse grid (each parameter ÷4 … ×4 around the first start; the
/// extraction overhead 0 to 300 ms, as the per-layer events may not have shown it) finds the basin, Levenberg–Marquardt from its best points and from `starts` finds the bottom. The
/// pull time is piecewise in the parameters (which layer waits for which), so a descent
/// from one start can stop in a local minimum.
pub fn fit_pull_global(obs: &[ImageObs], parallel_layers: u32, starts: &[PullParams]) -> PullFit {
    let mut pb = Problem::new(obs);
    let center = PullParams { parallel_layers, ..starts.first().copied().unwrap_or_else(PullParams::defaults) };
    let factors = [0.25, 0.5, 1.0, 2.0, 4.0];
    let mut grid: Vec<(f64, PullParams)> = Vec::new();
    for a in factors {
        for b in factors {
            for c in factors {
                for d in factors {
                    for e in [0.0, 0.01, 0.03, 0.1, 0.3] {
                        let p = PullParams {
                            manifest: center.manifest * a,
                            layer_overhead: center.layer_overhead * b,
                            bandwidth: center.bandwidth * c,
                            extract_rate: center.extract_rate * d,
                            extract_overhead: e,
                            parallel_layers,
                        };
                        grid.push((sse(&pb.residuals(&p)), p));
                    }
                }
            }
        }
    }
    grid.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut all: Vec<PullParams> = grid.iter().take(3).map(|g| g.1).collect();
    all.extend_from_slice(starts);
    fit_problem(&mut pb, parallel_layers, &all)
}

fn fit_problem(pb: &mut Problem<'_>, parallel_layers: u32, starts: &[PullParams]) -> PullFit {
    let mut all: Vec<PullParams> = starts.to_vec();
    all.push(PullParams::defaults());
    all.iter()
        .map(|s| levenberg_marquardt(pb, PullParams { parallel_layers, ..*s }))
        .min_by(|a, b| a.sse.total_cmp(&b.sse))
        .expect("at least one start")
}

/// One image's prediction when it was left out of the fit.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldOut {
    pub name: String,
    pub measured_median: f64,
    /// The full fit's prediction.
    pub fitted: f64,
    /// The prediction of a fit on every other image.
    pub held_out: f64,
}

impl HeldOut {
    pub fn error(&self) -> f64 {
        self.held_out / self.measured_median - 1.0
    }
}

/// Leave-one-image-out cross-validation of the whole fit.
pub fn cross_validate(obs: &[ImageObs], full: &PullFit, starts: &[PullParams]) -> Vec<HeldOut> {
    obs.iter()
        .enumerate()
        .map(|(i, o)| {
            let mut rest = Problem::new(obs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| o));
            let mut s = starts.to_vec();
            s.push(full.params);
            let f = fit_problem(&mut rest, full.params.parallel_layers, &s);
            HeldOut {
                name: o.name.clone(),
                measured_median: o.median(),
                fitted: predict(&full.params, &o.layers),
                held_out: predict(&f.params, &o.layers),
            }
        })
        .collect()
}

/// 1 − SS_res / SS_tot; None when it is undefined: the measured values are all equal (no
/// variance to explain), or there are none. A profile then states that rather than a NaN.
pub fn r_squared(predicted: &[f64], measured: &[f64]) -> Option<f64> {
    if measured.is_empty() {
        return None;
    }
    let mean = measured.iter().sum::<f64>() / measured.len() as f64;
    let ss_tot: f64 = measured.iter().map(|m| (m - mean).powi(2)).sum();
    let ss_res: f64 = predicted.iter().zip(measured).map(|(p, m)| (p - m).powi(2)).sum();
    let r2 = 1.0 - ss_res / ss_tot;
    (ss_tot > 0.0 && r2.is_finite()).then_some(r2)
}

/// Whether the images can separate the per-byte cost from the fixed ones: they must differ
/// in compressed size. Images all of one size leave `host_bandwidth` (the slope of pull time
/// against size) undefined; the error says what was found.
pub fn sizes_vary(obs: &[ImageObs]) -> Result<(), String> {
    let first = obs.first().map_or(0, ImageObs::compressed);
    if obs.iter().all(|o| o.compressed() == first) {
        return Err(format!(
            "every image with complete pulls has the same compressed size ({first} bytes, {} images), so the pull time's growth with size (host_bandwidth) is undefined; allowed: images of at least two different sizes",
            obs.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::analysis::analyse;
    use super::*;

    const MIB: u64 = 1 << 20;

    fn image(name: &str, layers: &[u64]) -> Vec<LayerSize> {
        let _ = name;
        let mut l = vec![LayerSize { compressed: 600_000, uncompressed: 1_300_000, files: 1 }];
        l.extend(layers.iter().map(|&b| LayerSize { compressed: b + 300, uncompressed: b + 2048, files: 1 }));
        l
    }

    fn suite() -> Vec<(&'static str, Vec<LayerSize>)> {
        vec![
            ("probe", image("probe", &[])),
            ("1x8m", image("1x8m", &[8 * MIB])),
            ("1x96m", image("1x96m", &[96 * MIB])),
            ("4x8m", image("4x8m", &[8 * MIB; 4])),
            ("2x40m", image("2x40m", &[40 * MIB; 2])),
            ("8x64k", image("8x64k", &[64 << 10; 8])),
            ("16x2m", image("16x2m", &[2 * MIB; 16])),
        ]
    }

    #[test]
    fn a_single_layer_pull_is_manifest_overhead_download_and_extraction() {
        let p = PullParams {
            manifest: 0.02,
            layer_overhead: 0.05,
            bandwidth: 100e6,
            extract_rate: 50e6,
            extract_overhead: 0.0,
            parallel_layers: 3,
        };
        let l = [LayerSize { compressed: 10_000_000, uncompressed: 20_000_000, files: 0 }];
        // 0.02 + 0.05 + 0.1 + 0.4
        assert!((predict(&p, &l) - 0.57).abs() < 2e-6, "{}", predict(&p, &l));
    }

    #[test]
    fn the_fit_recovers_known_parameters_from_synthetic_pulls() {
        let truth = PullParams {
            manifest: 0.015,
            layer_overhead: 0.09,
            bandwidth: 240e6,
            extract_rate: 200e6,
            extract_overhead: 0.0,
            parallel_layers: 3,
        };
        // three noisy trials per image: ×0.97, ×1.0, ×1.03
        let obs: Vec<ImageObs> = suite()
            .into_iter()
            .map(|(n, layers)| {
                let t = predict(&truth, &layers);
                ImageObs { name: n.into(), layers, pulls: vec![t * 0.97, t, t * 1.03] }
            })
            .collect();
        let fit = fit_pull(&obs, 3, &[]);
        let p = fit.params;
        let close = |a: f64, b: f64, tol: f64| (a / b - 1.0).abs() < tol;
        assert!(close(p.layer_overhead, truth.layer_overhead, 0.05), "{p:?}");
        assert!(close(p.bandwidth, truth.bandwidth, 0.05), "{p:?}");
        assert!(close(p.extract_rate, truth.extract_rate, 0.05), "{p:?}");
        assert!(close(p.manifest, truth.manifest, 0.5), "{p:?}");
        // held-out predictions of exact data are exact
        let cv = cross_validate(&obs, &fit, &[]);
        assert!(cv.iter().all(|h| h.error().abs() < 0.03), "{cv:?}");
        let pred: Vec<f64> = cv.iter().map(|h| h.fitted).collect();
        let meas: Vec<f64> = cv.iter().map(|h| h.measured_median).collect();
        assert!(r_squared(&pred, &meas).unwrap() > 0.999);
    }

    #[test]
    fn the_analysis_picks_the_parallel_layers_that_made_the_pulls() {
        use crate::calibrate::measure::{LayerTiming, Trial};
        let truth = PullParams {
            manifest: 0.02,
            layer_overhead: 0.08,
            bandwidth: 150e6,
            extract_rate: 700e6,
            extract_overhead: 0.0,
            parallel_layers: 1,
        };
        let mut trials = vec![];
        for (name, layers) in suite() {
            let t = predict(&truth, &layers);
            for (n, f) in [(1, 0.98), (2, 1.0), (3, 1.02)] {
                trials.push(Trial {
                    image: name.into(),
                    reference: name.into(),
                    trial: n,
                    manifest_s: 0.02,
                    pull_s: t * f,
                    create_s: 0.01 * f,
                    start_s: 0.2 * f,
                    ready_s: 0.001 * f,
                    layers: layers
                        .iter()
                        .map(|l| LayerTiming {
                            digest: String::new(),
                            compressed: l.compressed,
                            uncompressed: l.uncompressed,
                            files: l.files,
                            download_start: None,
                            download_done: None,
                            extract_start: None,
                            done: None,
                            cached: false,
                        })
                        .collect(),
                });
            }
        }
        let a = analyse(&trials, None).unwrap();
        assert_eq!(a.fit.params.parallel_layers, 1, "{:?}", a.candidates);
        assert_eq!(a.candidates.len(), 4);
        assert!(a.held_out_mean_abs() < 0.03 && a.r2.unwrap() > 0.99, "{:?}", a.held_out);
        assert!((a.fit.params.layer_overhead / 0.08 - 1.0).abs() < 0.1, "{:?}", a.fit.params);
        let c = a.container_create.unwrap();
        assert!((c.median() / 0.21 - 1.0).abs() < 0.01, "{c:?}");
    }

    #[test]
    fn the_fit_recovers_a_per_layer_extraction_overhead_paid_one_layer_after_another() {
        // what calibration measured on Docker: downloads three at a time with no fixed cost,
        // then about 85 ms per layer of extraction, one layer after another
        let truth = PullParams {
            manifest: 0.012,
            layer_overhead: 0.0005,
            bandwidth: 280e6,
            extract_rate: 240e6,
            extract_overhead: 0.085,
            parallel_layers: 3,
        };
        let obs: Vec<ImageObs> = suite()
            .into_iter()
            .map(|(n, layers)| {
                let t = predict(&truth, &layers);
                ImageObs { name: n.into(), layers, pulls: vec![t * 0.98, t, t * 1.02] }
            })
            .collect();
        let fit = fit_pull_global(&obs, 3, &[]);
        let p = fit.params;
        assert!((p.extract_overhead / truth.extract_overhead - 1.0).abs() < 0.05, "{p:?}");
        assert!((p.bandwidth / truth.bandwidth - 1.0).abs() < 0.05, "{p:?}");
        assert!((p.extract_rate / truth.extract_rate - 1.0).abs() < 0.05, "{p:?}");
        // the 16-layer image's pull is mostly the per-layer extraction cost
        let many = &obs.iter().find(|o| o.name == "16x2m").unwrap().layers;
        assert!((predict(&p, many) / predict(&truth, many) - 1.0).abs() < 0.01);
    }

    #[test]
    fn the_fit_does_not_recover_what_the_data_cannot_show() {
        // a fit of pulls that do not grow with size finds a huge bandwidth and extract rate
        let obs: Vec<ImageObs> =
            suite().into_iter().map(|(n, layers)| ImageObs { name: n.into(), pulls: vec![0.5; 3], layers }).collect();
        let fit = fit_pull(&obs, 3, &[]);
        assert!(fit.params.bandwidth > 2e9 || fit.params.extract_rate > 2e9, "{:?}", fit.params);
        // and says which of them ran into the fit's bounds
        let u = fit.params.undetermined();
        assert!(u.contains(&"host_bandwidth") || u.contains(&"extract_rate"), "{u:?} {:?}", fit.params);
        assert!(PullParams::defaults().undetermined().is_empty());
    }

    #[test]
    fn r_squared_is_one_for_a_perfect_prediction_and_zero_for_the_mean() {
        assert_eq!(r_squared(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), Some(1.0));
        assert_eq!(r_squared(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0]), Some(0.0));
    }

    #[test]
    fn r_squared_is_undefined_without_variance_to_explain() {
        assert_eq!(r_squared(&[1.0, 1.1], &[1.0, 1.0]), None);
        assert_eq!(r_squared(&[], &[]), None);
    }

    #[test]
    fn images_all_of_one_size_cannot_give_a_bandwidth() {
        let one = |n: &str, pulls: Vec<f64>| ImageObs { name: n.into(), layers: image(n, &[8 * MIB]), pulls };
        let e = sizes_vary(&[one("a", vec![0.5]), one("b", vec![0.7])]).unwrap_err();
        assert!(e.contains("same compressed size") && e.contains("allowed: images of at least two"), "{e}");
        let other = ImageObs { name: "c".into(), layers: image("c", &[MIB]), pulls: vec![0.2] };
        assert!(sizes_vary(&[one("a", vec![0.5]), other]).is_ok());
    }
}
