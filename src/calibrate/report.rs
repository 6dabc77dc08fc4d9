//! The words of calibration: `calibration.md` (the fit table, the held-out errors, the
//! distributions and what the pull events say phase by phase), and the summary `--image`
//! prints with the lines to paste into a scenario. Pure functions of the measurements and
//! the analysis; the caller writes them.

use std::fmt::Write as _;

use super::analysis::Analysis;
use super::cpu_fit::CpuFit;
use super::estimates::{LogNormal, DOCKER_PARALLEL_DOWNLOADS};
use super::fit::PullParams;
use super::measure::Trial;
use super::meta::{today, Meta};
use super::numbers::{bandwidth, byte_rate, dur, sig4};
use super::registry::Manifest;
use crate::stats::{median, quantile};
use crate::units::format_size;

fn pct(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

/// The markdown report.
pub fn markdown(a: &Analysis, meta: &Meta, profile_path: &str) -> String {
    let p = &a.fit.params;
    let d0 = PullParams::defaults();
    let mut s = String::new();
    let _ = writeln!(s, "# Calibration: {}\n", meta.engine);
    let when = if meta.is_refit() {
        format!("Fitted {}", meta.date)
    } else {
        format!(
            "Measured {} with registry {} on loopback{}",
            meta.date,
            meta.registry,
            meta.shape.as_ref().map(|r| format!(" (replies shaped to {r} with tc)")).unwrap_or_default()
        )
    };
    let _ = writeln!(
        s,
        "{when}: {}, {} trials. Profile: `{profile_path}`; every trial, layer by layer: `measurements.csv`; chart: `fit.png`.\n",
        meta.what,
        meta.trials
    );
    let _ = writeln!(s, "## The pull model, fitted\n");
    let _ = writeln!(
        s,
        "Least squares of ln(predicted / measured) pull time over every trial, where the prediction is the simulator's own pull of the image on an idle host (one request, nothing cached).\n"
    );
    let ph = &a.phases;
    let _ = writeln!(s, "| parameter | fitted | read off the pull events | scenario default |");
    let _ = writeln!(s, "|---|---|---|---|");
    let chosen = format!(
        "{}: held-out error {:.1}%, against {}",
        if a.chosen { "chosen" } else { "given" },
        a.held_out_mean_abs() * 100.0,
        a.other_candidates()
    );
    let docker = DOCKER_PARALLEL_DOWNLOADS;
    // parameter, fitted, read off the pull events, scenario default
    let rows = [
        (
            "manifest",
            dur(p.manifest),
            format!("{} (median time to the first layer event)", dur(ph.manifest)),
            dur(d0.manifest),
        ),
        (
            "layer_overhead",
            dur(p.layer_overhead),
            format!("{} per download round", dur(ph.download_overhead)),
            dur(d0.layer_overhead),
        ),
        (
            "host_bandwidth",
            format!("{} ({})", bandwidth(p.bandwidth), byte_rate(p.bandwidth)),
            byte_rate(ph.download_rate),
            bandwidth(d0.bandwidth),
        ),
        ("extract_rate", byte_rate(p.extract_rate), byte_rate(ph.extract_rate), byte_rate(d0.extract_rate)),
        (
            "extract_overhead",
            dur(p.extract_overhead),
            format!("{} per layer", dur(ph.extract_fixed)),
            dur(d0.extract_overhead),
        ),
        (
            "parallel_layers",
            format!("{} ({chosen})", p.parallel_layers),
            format!("{docker} (Docker downloads {docker} layers at once)"),
            d0.parallel_layers.to_string(),
        ),
    ];
    for (key, fitted, events, default) in rows {
        let _ = writeln!(s, "| `{key}` | {fitted} | {events} | {default} |");
    }
    let _ = writeln!(s);
    let worst = a.held_out_worst();
    let _ = writeln!(
        s,
        "**{}** (fitted vs measured median pull time, {} images; {} with each image's held-out prediction). Typical error of one trial: {:.1}% (rms of the log ratio). **Held-out error** (leave-one-image-out: the image is predicted by a fit on the others): mean {:.1}%, worst {:.1}% ({}).{}\n",
        match a.r2 {
            Some(r) => format!("R² = {r:.3}"),
            None => a.r2_words(),
        },
        a.obs.len(),
        a.r2_held_out.map_or("none".into(), |r| format!("{r:.3}")),
        a.fit.rms_log * 100.0,
        a.held_out_mean_abs() * 100.0,
        worst.map_or(0.0, |w| w.error().abs() * 100.0),
        worst.map_or("-", |w| w.name.as_str()),
        if a.cached_trials > 0 { format!(" {} trials found a layer already on the engine and were left out.", a.cached_trials) } else { String::new() }
    );
    let undetermined = p.undetermined();
    if !undetermined.is_empty() {
        let _ = writeln!(
            s,
            "**Not determined** by these measurements: {} ran to the fit's bound (pull times that do not grow with size cannot give a rate). The profile leaves {} to the scenario.\n",
            undetermined.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
            if undetermined.len() == 1 { "it" } else { "them" }
        );
    }
    let _ = writeln!(
        s,
        "| image | layers | compressed | trials | measured median (s) | fitted (s) | error | held out (s) | error |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for (o, h) in a.obs.iter().zip(&a.held_out) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.3} | {:.3} | {} | {:.3} | {} |",
            o.name,
            o.layers.len(),
            format_size(o.compressed()),
            o.pulls.len(),
            h.measured_median,
            h.fitted,
            pct(h.fitted / h.measured_median - 1.0),
            h.held_out,
            pct(h.error())
        );
    }
    let _ = writeln!(s, "\n![predicted vs measured pull time per image](fit.png)\n");
    let _ = writeln!(s, "## Container create and startup\n");
    let _ = writeln!(s, "| phase | trials | median | p90 | max | fitted lognormal |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    let mut dist_row = |name: &str, xs: &[f64], f: &Option<LogNormal>| {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {} |",
            xs.len(),
            dur(median(xs)),
            dur(quantile(xs, 0.9)),
            dur(xs.iter().copied().fold(0.0, f64::max)),
            f.map_or("-".into(), |f| format!("median {}, p99 {}", dur(f.median()), dur(f.p99())))
        );
    };
    dist_row("`container_create` (engine create + start)", &a.create_samples, &a.container_create);
    dist_row("`startup` (start returned → first 200 from `GET /`)", &a.startup_samples, &a.startup);
    let _ = writeln!(
        s,
        "\nThe probe answers at once, so its `startup` is the engine's and the network's share only; a real function adds its own start (`coldcost calibrate --image` measures it).\n"
    );
    let _ = writeln!(s, "## What the pull events say\n");
    let _ = writeln!(
        s,
        "- Extraction, from each layer's span between being ready to extract (downloaded, previous layer done) and its `Pull complete` ({} layers): **{} + uncompressed / {}**. The fixed part is paid by every layer, one after another: the model's `extract_overhead`.",
        ph.extract_points,
        dur(ph.extract_fixed),
        byte_rate(ph.extract_rate)
    );
    let _ = writeln!(
        s,
        "- Downloads, from the manifest to the last `Download complete` of each trial ({} trials): **{} per round of {} layers + compressed / {}**.",
        ph.download_points,
        dur(ph.download_overhead),
        DOCKER_PARALLEL_DOWNLOADS,
        byte_rate(ph.download_rate)
    );
    let _ = writeln!(s, "- Manifest and config: {} median before the first layer event.", dur(ph.manifest));
    let _ = writeln!(
        s,
        "- The fitted rates are the model's effective rates, not these phases one by one: the engine spends about {} per MB downloading and extracting one after the other; the fitted model spends {} per MB ({} to download, {} to extract behind it).",
        dur(1048576.0 / ph.download_rate + 1048576.0 / ph.extract_rate),
        dur(1048576.0 / p.bandwidth + 1048576.0 / p.extract_rate),
        dur(1048576.0 / p.bandwidth),
        dur(1048576.0 / p.extract_rate)
    );
    s
}

/// What `coldcost calibrate` prints after a fit: the parameters, how well they predict,
/// the engine's container start, and the files written (`files`, in order).
pub fn fit_headline(a: &Analysis, files: &[String]) -> String {
    let p = &a.fit.params;
    let worst = a.held_out_worst();
    let mut s = format!(
        "fit over {} images: manifest {}, layer_overhead {}, host_bandwidth {}, extract_rate {}, extract_overhead {}, parallel_layers {}\n",
        a.obs.len(),
        dur(p.manifest),
        dur(p.layer_overhead),
        bandwidth(p.bandwidth),
        byte_rate(p.extract_rate),
        dur(p.extract_overhead),
        p.parallel_layers
    );
    let _ = writeln!(
        s,
        "{}; held-out pull time error: mean {:.1}%, worst {:.1}% ({})",
        a.r2_words(),
        a.held_out_mean_abs() * 100.0,
        worst.map_or(0.0, |w| w.error().abs() * 100.0),
        worst.map_or("-", |w| w.name.as_str())
    );
    let undetermined = p.undetermined();
    if !undetermined.is_empty() {
        let _ = writeln!(
            s,
            "not determined by these measurements (the fit ran to its bound): {}; the profile leaves them to the scenario",
            undetermined.join(", ")
        );
    }
    if let Some(c) = &a.container_create {
        let _ = writeln!(s, "container_create = {}", c.to_toml());
    }
    let (first, rest) = files.split_first().map_or(("", &[][..]), |(f, r)| (f.as_str(), r));
    let _ = writeln!(s, "wrote {first} and {}", rest.join(", "));
    s
}

/// What `--image` prints: the measured times and the scenario lines to paste.
/// With `--concurrency`, `cpu` is the fit and its rounds: its table, and `exec`,
/// `cpu_fraction` and `exec_vcpu` in the lines to paste.
pub fn image_summary(
    reference: &str,
    trials: &[Trial],
    manifest: &Manifest,
    engine: &str,
    cpu: Option<(&CpuFit, u32)>,
) -> String {
    let mut s = String::new();
    let pulls: Vec<f64> = trials.iter().map(|t| t.pull_s).collect();
    let creates: Vec<f64> = trials.iter().map(|t| t.container_create_s()).collect();
    let ready: Vec<f64> = trials.iter().map(|t| t.ready_s).collect();
    let manifests: Vec<f64> = trials.iter().map(|t| t.manifest_s).collect();
    let _ = writeln!(s, "{reference}: {} trials on {engine}", trials.len());
    let _ = writeln!(
        s,
        "  pull             median {:.3} s (min {:.3}, max {:.3}); manifest {}",
        median(&pulls),
        pulls.iter().copied().fold(f64::INFINITY, f64::min),
        pulls.iter().copied().fold(0.0, f64::max),
        dur(median(&manifests))
    );
    let _ = writeln!(s, "  container create median {} (create + start)", dur(median(&creates)));
    let _ = writeln!(s, "  startup          median {} (start returned → first 200 from GET /)", dur(median(&ready)));
    if let Some((c, rounds)) = cpu {
        s.push_str(&c.summary(rounds));
    }
    let cached = trials.iter().map(|t| t.cached_layers()).max().unwrap_or(0);
    if cached > 0 {
        let _ = writeln!(
            s,
            "  note: {cached} layer(s) were already on the engine (shared with another image) and were not pulled"
        );
    }
    let name = reference.rsplit('/').next().unwrap_or("app").split([':', '@']).next().unwrap_or("app");
    let first = &trials[0];
    let _ = writeln!(s, "\n# Paste into a scenario (measured {}):", today());
    if let Some(c) = LogNormal::fit(&creates) {
        let _ = writeln!(s, "[platform]\ncontainer_create = {}\n", c.to_toml());
    }
    let _ = writeln!(s, "[[image]]\nname = \"{name}\"\nlayers = [");
    for (l, m) in first.layers.iter().zip(&manifest.layers) {
        let _ = writeln!(
            s,
            "  {{ compressed = \"{}\", uncompressed = \"{}\" }},   # {}",
            size(l.compressed),
            size(l.uncompressed),
            m.short_id()
        );
    }
    let _ = writeln!(s, "]\n\n[[function]]\nname = \"{name}\"\nimage = \"{name}\"");
    if let Some(st) = LogNormal::fit(&ready) {
        let _ = writeln!(s, "startup = {}", st.to_toml());
    }
    if let Some((c, _)) = cpu {
        if let Some(e) = LogNormal::fit(&c.alone_samples) {
            let _ = writeln!(s, "exec = {}   # GET / alone on {} vCPU", e.to_toml(), sig4(c.vcpu));
        }
        let _ = writeln!(
            s,
            "cpu_fraction = {:.3}   # fitted to {} levels of concurrency, rms residual {:.1}%",
            c.fraction,
            c.levels.len(),
            c.rms_rel * 100.0
        );
        let _ = writeln!(s, "exec_vcpu = {}   # the CPU limit exec was measured at", sig4(c.vcpu));
    }
    s
}

/// A size for a scenario, to 4 significant digits: `615.2KB`, `8MB`.
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    let (v, unit) = if b >= (1u64 << 30) as f64 {
        (b / (1u64 << 30) as f64, "GB")
    } else if b >= 1048576.0 {
        (b / 1048576.0, "MB")
    } else if b >= 1024.0 {
        (b / 1024.0, "KB")
    } else {
        (b, "B")
    };
    format!("{}{unit}", sig4(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_back_as_scenario_sizes() {
        assert_eq!(size(8 * 1048576 + 2048), "8.002MB");
        assert_eq!(size(630_000), "615.2KB");
        assert_eq!(crate::units::parse_size(&size(630_000)).unwrap(), 629_965);
    }
}
