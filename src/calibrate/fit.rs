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

use std::path::Path;

use super::measure::Trial;
use crate::platform::{simulate, NullSink};
use crate::scenario::Scenario;
use crate::usage::Meters;

/// z such that Φ(z) = 0.99.
const Z99: f64 = 2.326_347_874_040_840_8;

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

/// A layer as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerSize {
    pub compressed: u64,
    pub uncompressed: u64,
    pub files: u64,
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

/// The one-host, one-request scenario whose pull is this image's, as `coldcost run` reads it.
pub fn scenario_text(p: &PullParams, layers: &[LayerSize]) -> String {
    let layers: Vec<String> = layers
        .iter()
        .map(|l| {
            format!(
                "{{ compressed = \"{}B\", uncompressed = \"{}B\", files = {} }}",
                l.compressed, l.uncompressed, l.files
            )
        })
        .collect();
    format!(
        r#"[simulation]
name = "calibration-fit"
horizon = "2h"
bucket = "2h"
[platform]
hosts = 1
ready_timeout = "1h"
container_create = "0s"
[platform.pull]
manifest = "{:.3}us"
layer_overhead = "{:.3}us"
host_bandwidth = "{}bps"
registry_bandwidth = "1000Tbps"
extract_rate = "{}B/s"
extract_overhead = "{:.3}us"
parallel_layers = {}
[[image]]
name = "probe"
layers = [{}]
[[function]]
name = "probe"
memory = "128MB"
startup = "0s"
exec = "1ms"
[[workload]]
arrivals = {{ kind = "constant", interval = "3h" }}
"#,
        p.manifest * 1e6,
        p.layer_overhead * 1e6,
        fmt_num(p.bandwidth * 8.0),
        fmt_num(p.extract_rate),
        p.extract_overhead * 1e6,
        p.parallel_layers,
        layers.join(", ")
    )
}

/// A positive number in plain decimal (the scenario's units take no exponent).
fn fmt_num(v: f64) -> String {
    format!("{v:.3}")
}

/// The one-image scenario, parsed once; [`pull_time`] sets the parameters and runs it.
pub fn scenario_for(layers: &[LayerSize]) -> Scenario {
    let text = scenario_text(&PullParams::defaults(), layers);
    crate::scenario::parse_str(&text, "calibration-fit", Path::new("."), &[])
        .unwrap_or_else(|e| panic!("the fit's own scenario is invalid: {e}\n{text}"))
}

/// The simulator's pull time (seconds) for the scenario's image with these parameters, as
/// the scenario file would give them (durations in whole µs).
pub fn pull_time(sc: &mut Scenario, p: &PullParams) -> f64 {
    let pull = &mut sc.platform.pull;
    pull.manifest = (p.manifest * 1e6).round() as u64;
    pull.layer_overhead = (p.layer_overhead * 1e6).round() as u64;
    pull.host_bandwidth = p.bandwidth;
    pull.extract_rate = p.extract_rate;
    pull.extract_overhead = (p.extract_overhead * 1e6).round() as u64;
    pull.parallel_layers = p.parallel_layers;
    let r = simulate(sc, 1, &mut NullSink, &Meters::default(), |_| {});
    let st = &r.functions[0].1;
    assert_eq!(st.pulls, 1, "the fit's scenario pulls once");
    st.pull_us as f64 / 1e6
}

/// The simulator's pull time (seconds) for one image on an idle host with nothing cached.
pub fn predict(p: &PullParams, layers: &[LayerSize]) -> f64 {
    pull_time(&mut scenario_for(layers), p)
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

/// 1 − SS_res / SS_tot.
pub fn r_squared(predicted: &[f64], measured: &[f64]) -> f64 {
    let mean = measured.iter().sum::<f64>() / measured.len() as f64;
    let ss_tot: f64 = measured.iter().map(|m| (m - mean).powi(2)).sum();
    let ss_res: f64 = predicted.iter().zip(measured).map(|(p, m)| (p - m).powi(2)).sum();
    if ss_tot == 0.0 {
        f64::NAN
    } else {
        1.0 - ss_res / ss_tot
    }
}

// ---- starting points from the per-layer events -----------------------------------------

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

// ---- distributions ------------------------------------------------------------------------

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
    /// duration when the samples did not vary at µs resolution.
    pub fn to_toml(&self) -> String {
        let (m, q) = (micros(self.median()), micros(self.p99()));
        if q <= m {
            format!("\"{}\"", crate::units::format_duration(m.max(1)))
        } else {
            format!("{{ dist = \"lognormal\", median = \"{}\", p99 = \"{}\" }}", dur(self.median()), dur(self.p99()))
        }
    }
}

fn micros(s: f64) -> u64 {
    (s * 1e6).round() as u64
}

/// A duration with 4 significant digits in a readable unit: 0.0123 → "12.3ms".
pub fn dur(s: f64) -> String {
    let (v, unit) = if s >= 1.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else {
        (s * 1e6, "us")
    };
    format!("{}{unit}", sig4(v))
}

/// Four significant digits, trailing zeros trimmed.
pub fn sig4(v: f64) -> String {
    let decimals = if v >= 1000.0 {
        0
    } else if v >= 100.0 {
        1
    } else if v >= 10.0 {
        2
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

pub fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// Linear-interpolated quantile of the samples (q in 0..=1).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

// ---- the whole analysis ---------------------------------------------------------------

/// Everything the outputs show: the observations, the phase estimates, the fit, its
/// cross-validation and the two distributions.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub obs: Vec<ImageObs>,
    pub phases: PhaseEstimates,
    pub fit: PullFit,
    pub held_out: Vec<HeldOut>,
    /// R² of the fitted predictions against the measured medians.
    pub r2: f64,
    /// R² of the held-out predictions against the measured medians.
    pub r2_held_out: f64,
    /// Trials left out because the engine already had a layer.
    pub cached_trials: usize,
    /// create + start (the model's `container_create`), seconds, every trial.
    pub create_samples: Vec<f64>,
    /// start returned → first 200 (the model's `startup`), seconds, every trial.
    pub startup_samples: Vec<f64>,
    pub container_create: Option<LogNormal>,
    pub startup: Option<LogNormal>,
    /// Each `parallel_layers` of 1..=4 (and the one used): its fit's mean |held-out error|.
    pub candidates: Vec<(u32, f64)>,
    /// Whether `parallel_layers` was chosen by the held-out error rather than given.
    pub chosen: bool,
}

impl Analysis {
    /// Mean of |held-out error| over the images.
    pub fn held_out_mean_abs(&self) -> f64 {
        mean_abs(&self.held_out)
    }
    /// The other candidates' held-out errors: "9.4% with 1, 9.2% with 2, …".
    pub fn other_candidates(&self) -> String {
        let p = self.fit.params.parallel_layers;
        let v: Vec<String> = self
            .candidates
            .iter()
            .filter(|(pl, _)| *pl != p)
            .map(|(pl, e)| format!("{:.1}% with {pl}", e * 100.0))
            .collect();
        v.join(", ")
    }
    /// The image with the largest |held-out error|.
    pub fn held_out_worst(&self) -> Option<&HeldOut> {
        self.held_out.iter().max_by(|a, b| a.error().abs().total_cmp(&b.error().abs()))
    }
}

fn mean_abs(h: &[HeldOut]) -> f64 {
    h.iter().map(|h| h.error().abs()).sum::<f64>() / h.len().max(1) as f64
}

/// Fits everything. `parallel_layers`: the engine's download concurrency when known (Docker's
/// default is [`DOCKER_PARALLEL_DOWNLOADS`]), or `None` to choose among 1..=4 the one whose
/// fit predicts left-out images best. Either way every candidate is fitted and its held-out
/// error reported, so the report shows whether the data can tell them apart. Needs at least
/// two images with complete pulls.
pub fn analyse(trials: &[Trial], parallel_layers: Option<u32>) -> Option<Analysis> {
    let obs = observations(trials);
    if obs.len() < 2 {
        return None;
    }
    let mut candidates = Vec::new();
    let mut fits: Vec<(PullFit, Vec<HeldOut>)> = Vec::new();
    let mut choices: Vec<u32> = (1..=4).collect();
    if let Some(p) = parallel_layers.filter(|p| !choices.contains(p)) {
        choices.push(p);
    }
    let phases = phase_estimates(trials);
    for pl in choices {
        let starts = phases.starts(pl);
        let fit = fit_pull_global(&obs, pl, &starts);
        let held_out = cross_validate(&obs, &fit, &starts);
        candidates.push((pl, mean_abs(&held_out)));
        fits.push((fit, held_out));
    }
    let pick = match parallel_layers {
        Some(p) => fits.iter().position(|f| f.0.params.parallel_layers == p)?,
        None => (0..fits.len()).min_by(|&a, &b| candidates[a].1.total_cmp(&candidates[b].1))?,
    };
    let (fit, held_out) = fits.swap_remove(pick);
    let meas: Vec<f64> = held_out.iter().map(|h| h.measured_median).collect();
    let r2 = r_squared(&held_out.iter().map(|h| h.fitted).collect::<Vec<_>>(), &meas);
    let r2_held_out = r_squared(&held_out.iter().map(|h| h.held_out).collect::<Vec<_>>(), &meas);
    let create_samples: Vec<f64> = trials.iter().map(|t| t.container_create_s()).collect();
    let startup_samples: Vec<f64> = trials.iter().map(|t| t.ready_s).collect();
    Some(Analysis {
        cached_trials: trials.iter().filter(|t| t.cached_layers() > 0).count(),
        container_create: LogNormal::fit(&create_samples),
        startup: LogNormal::fit(&startup_samples),
        create_samples,
        startup_samples,
        obs,
        phases,
        fit,
        held_out,
        r2,
        r2_held_out,
        candidates,
        chosen: parallel_layers.is_none(),
    })
}

#[cfg(test)]
mod tests {
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
        assert!(r_squared(&pred, &meas) > 0.999);
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
        assert!(a.held_out_mean_abs() < 0.03 && a.r2 > 0.99, "{:?}", a.held_out);
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
    }

    #[test]
    fn r_squared_is_one_for_a_perfect_prediction_and_zero_for_the_mean() {
        assert_eq!(r_squared(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 1.0);
        assert_eq!(r_squared(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0]), 0.0);
    }

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
        // equal samples: a fixed duration
        assert_eq!(LogNormal::fit(&[0.012, 0.012]).unwrap().to_toml(), "\"12ms\"");
    }

    #[test]
    fn durations_print_with_four_significant_digits() {
        assert_eq!(dur(0.0123456), "12.35ms");
        assert_eq!(dur(1.5), "1.5s");
        assert_eq!(dur(0.000_25), "250us");
        assert_eq!(sig4(212.44), "212.4");
    }
}
