//! The profile TOML that `coldcost calibrate` writes and `platform.pull.profile` reads: a
//! `[pull]` table with the measured pull keys and a top-level `container_create`, each with a
//! comment that says what it is and where it came from (the format is checked by
//! `scenario::schema::PROFILE_ROOT`).

use super::analysis::Analysis;
use super::meta::Meta;
use super::numbers::{bandwidth, byte_rate, dur};
use crate::stats::median;

/// The profile's text.
pub fn render(a: &Analysis, meta: &Meta, profile_path: &str) -> String {
    let p = &a.fit.params;
    let d = dur;
    let mut s = String::new();
    s.push_str("# coldcost calibration profile: image pull and container start times measured on a real engine.\n");
    if meta.is_refit() {
        s.push_str(&format!("# Fitted {}: {}, {} trials.\n", meta.date, meta.what, meta.trials));
    } else {
        s.push_str(&format!(
            "# Measured {} with {}, registry {} on loopback{}: {}, {} trials.\n",
            meta.date,
            meta.engine,
            meta.registry,
            meta.shape.as_ref().map(|r| format!(" shaped to {r} with tc")).unwrap_or_default(),
            meta.what,
            meta.trials
        ));
    }
    s.push_str(&format!("# Written by `coldcost calibrate`; the fit report is {}.\n#\n", meta.report_md));
    s.push_str("# A scenario uses it with\n#   [platform.pull]\n");
    s.push_str(&format!("#   profile = \"{profile_path}\"   # relative to the scenario file\n"));
    s.push_str(&format!("# or with `--set platform.pull.profile={profile_path}` (relative to the current folder).\n"));
    s.push_str("# Its values replace the scenario's keys of the same name; `--set` still overrides them.\n#\n");
    let worst = a.held_out_worst();
    s.push_str(&format!(
        "# Fit: {} over {} images (predicted vs measured median pull time). Each image left out\n# of the fit in turn was predicted within {:.1}% on average (worst {:.1}%, {}).\n\n",
        a.r2_words(),
        a.obs.len(),
        a.held_out_mean_abs() * 100.0,
        worst.map_or(0.0, |w| w.error().abs() * 100.0),
        worst.map_or("-", |w| w.name.as_str())
    ));
    if let Some(c) = &a.container_create {
        s.push_str(&format!(
            "# The engine's container create + start (bridge network, port published on 127.0.0.1):\n# lognormal fitted to {} trials (measured median {}, max {}).\ncontainer_create = {}\n\n",
            c.samples,
            d(median(&a.create_samples)),
            d(a.create_samples.iter().copied().fold(0.0, f64::max)),
            c.to_toml()
        ));
    }
    s.push_str("[pull]\n");
    let undetermined = p.undetermined();
    // a key the measurements do not determine is left to the scenario, said in a comment
    let key = |s: &mut String, k: &str, v: String| {
        if undetermined.contains(&k) {
            s.push_str(&format!(
                "# {k}: not determined by these measurements (the fit ran to its bound, {}); the scenario's value stays.\n",
                v.trim_matches('"')
            ));
        } else {
            s.push_str(&format!("{k} = {v}\n"));
        }
    };
    s.push_str("# Manifest and config round trip before the first layer is requested.\n");
    key(&mut s, "manifest", format!("\"{}\"", d(p.manifest)));
    s.push_str("# Paid by each layer download before its bytes flow, up to parallel_layers at a time.\n");
    key(&mut s, "layer_overhead", format!("\"{}\"", d(p.layer_overhead)));
    s.push_str("# The host's download rate, shared by the layers in flight. One host pulling one image cannot\n# tell the host's share from the registry's, so registry_bandwidth is left to the scenario.\n");
    key(&mut s, "host_bandwidth", format!("\"{}\"", bandwidth(p.bandwidth)));
    s.push_str("# Extraction, one layer after another, in uncompressed bytes per second.\n");
    key(&mut s, "extract_rate", format!("\"{}\"", byte_rate(p.extract_rate)));
    s.push_str(&format!(
        "# Paid by each layer's extraction, one layer after another (the pull events show {} a layer).\n",
        d(a.phases.extract_fixed)
    ));
    key(&mut s, "extract_overhead", format!("\"{}\"", d(p.extract_overhead)));
    s.push_str("# Layers downloaded at once per host (Docker's max-concurrent-downloads).\n");
    let others = a.other_candidates();
    if a.chosen {
        s.push_str(&format!(
            "# Chosen by the fit among 1 to 4: it predicted images left out of the fit best\n# ({:.1}% mean error; {others}).\n",
            a.held_out_mean_abs() * 100.0
        ));
    } else {
        s.push_str(&format!(
            "# The engine's own setting, as given (held-out error {:.1}%; {others}).\n",
            a.held_out_mean_abs() * 100.0
        ));
    }
    s.push_str(&format!("parallel_layers = {}\n", p.parallel_layers));
    s
}
