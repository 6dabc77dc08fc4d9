//! The whole analysis of a set of trials: the fit for each candidate `parallel_layers`, its
//! cross-validation, the one kept, its R², and the start-time distributions — everything the
//! profile, the report and the chart show.

use super::estimates::{phase_estimates, LogNormal, PhaseEstimates};
use super::fit::{cross_validate, fit_pull_global, observations, r_squared, HeldOut, ImageObs, PullFit};
use super::measure::Trial;

/// Everything the outputs show: the observations, the phase estimates, the fit, its
/// cross-validation and the two distributions.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub obs: Vec<ImageObs>,
    pub phases: PhaseEstimates,
    pub fit: PullFit,
    pub held_out: Vec<HeldOut>,
    /// R² of the fitted predictions against the measured medians; None when every image's
    /// median is the same (nothing to explain: R² is undefined, and no number is written).
    pub r2: Option<f64>,
    /// R² of the held-out predictions against the measured medians (None as `r2`).
    pub r2_held_out: Option<f64>,
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
    /// "R² 0.987", or why there is none: "no R² (every image's median pull time is 1.000 s,
    /// so there is no variance to explain)".
    pub fn r2_words(&self) -> String {
        match self.r2 {
            Some(r) => format!("R² {r:.3}"),
            None => format!(
                "no R² (every image's median pull time is {:.3} s, so there is no variance to explain)",
                self.obs.first().map_or(0.0, |o| o.median())
            ),
        }
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
/// default is [`DOCKER_PARALLEL_DOWNLOADS`](super::estimates::DOCKER_PARALLEL_DOWNLOADS)), or `None` to choose among 1..=4 the one whose
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
