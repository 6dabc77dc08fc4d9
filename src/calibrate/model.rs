//! The fit's model of one image: a one-host scenario with one request whose pull is the
//! image's, built as a value (never as text through the user-facing validator, whose limits —
//! a layer of at most 10 GB — are for scenarios people write, not for measured images), and
//! the simulator's pull time for a set of pull parameters.

use super::fit::PullParams;
use crate::platform::{simulate, NullSink};
use crate::scenario::{
    Arrivals, CpuUse, Dist, Function, Image, Layer, Lazy, Pick, Platform, Pull, PullMode, Reserved, Scenario,
    Simulation, Workload,
};
use crate::units::{MICROS_PER_HOUR as HOUR, MICROS_PER_MS, MICROS_PER_SECOND as SECOND};
use crate::usage::Meters;

/// A layer as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerSize {
    pub compressed: u64,
    pub uncompressed: u64,
    pub files: u64,
}

/// The one-image scenario (the pull parameters are the defaults until [`pull_time`] sets
/// them): one host with room for everything, a registry that is never the bottleneck,
/// nothing but the pull between the request and its start, one request in a two-hour run.
pub fn scenario_for(layers: &[LayerSize]) -> Scenario {
    let d = PullParams::defaults();
    Scenario {
        simulation: Simulation {
            name: "calibration-fit".into(),
            horizon: 2 * HOUR,
            seed: 1,
            replications: 1,
            bucket: 2 * HOUR,
            warm_start: true,
            warmup: 0,
            start: None,
        },
        platform: Platform {
            provider: crate::provider::load("fc").expect("built-in provider"),
            pricing: "fc3".into(),
            // built-in data, parsed by every test run (billing::sheet's tests)
            sheet: crate::billing::sheet::load("fc3").expect("the built-in fc3 sheet parses"),
            keep_alive: 60 * SECOND,
            pick: Pick::Mru,
            hosts: 1,
            host_memory_mb: 128 << 10,
            cache_capacity: 200 << 30,
            cache_ttl: 30 * 60 * SECOND,
            ready_timeout: HOUR,
            container_create: Dist::Fixed(0),
            pull: Pull {
                host_bandwidth: d.bandwidth,
                registry_bandwidth: 1e15 / 8.0,
                layer_overhead: (d.layer_overhead * 1e6).round() as u64,
                manifest: (d.manifest * 1e6).round() as u64,
                extract_rate: d.extract_rate,
                extract_per_file: 250,
                extract_overhead: (d.extract_overhead * 1e6).round() as u64,
                parallel_layers: d.parallel_layers,
                mode: PullMode::Full,
                lazy: Lazy { index_fraction: 0.03, read_fraction: 0.065 },
                profile: None,
                distribution: crate::scenario::Distribution::Registry,
            },
        },
        images: vec![Image {
            name: "probe".into(),
            layers: layers
                .iter()
                .enumerate()
                .map(|(i, l)| Layer {
                    id: format!("probe#{i}"),
                    compressed: l.compressed,
                    uncompressed: l.uncompressed,
                    files: l.files,
                })
                .collect(),
            accelerated_from: None,
        }],
        functions: vec![Function {
            name: "probe".into(),
            image: 0,
            memory_mb: 128,
            milli_vcpu: 50,
            disk_mb: 512,
            gpu: None,
            concurrency: 1,
            max_instances: 100,
            reserved: Reserved::Fixed(0),
            queue: 0,
            queue_timeout: 60 * SECOND,
            timeout: 60 * SECOND,
            startup: Dist::Fixed(0),
            exec: Dist::Fixed(MICROS_PER_MS),
            keep_alive: 60 * SECOND,
            cold_service: None,
            cpu: CpuUse::none(50),
        }],
        workloads: vec![Workload {
            function: 0,
            arrivals: Arrivals::Constant { interval: 3 * HOUR },
            from: 0,
            until: 2 * HOUR,
        }],
        goals: Vec::new(),
    }
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
    // a one-host pull of a validated image completes (every pull does); a stall is a bug
    let r = simulate(sc, 1, &mut NullSink, &Meters::default(), |_| {}).expect("a single pull never stalls");
    let st = &r.functions[0].1;
    assert_eq!(st.pulls, 1, "the fit's scenario pulls once");
    st.pull_us as f64 / 1e6
}

/// The simulator's pull time (seconds) for one image on an idle host with nothing cached.
pub fn predict(p: &PullParams, layers: &[LayerSize]) -> f64 {
    pull_time(&mut scenario_for(layers), p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-host, one-request scenario whose pull is this image's, as `coldcost run` reads it.
    fn scenario_text(p: &PullParams, layers: &[LayerSize]) -> String {
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

    #[test]
    fn the_scenario_built_as_a_value_is_the_one_its_text_describes() {
        let layers = [
            LayerSize { compressed: 600_000, uncompressed: 1_300_000, files: 3 },
            LayerSize { compressed: 30 << 20, uncompressed: 80 << 20, files: 0 },
        ];
        let text = scenario_text(&PullParams::defaults(), &layers);
        let parsed = crate::scenario::parse_str(&text, "calibration-fit", std::path::Path::new("."), &[]).unwrap();
        assert_eq!(scenario_for(&layers), parsed);
    }

    #[test]
    fn a_layer_over_the_scenario_files_10_gb_limit_is_predicted() {
        // a measured image may hold a layer no scenario file may declare (at most 10 GB)
        let big = [LayerSize { compressed: 12 << 30, uncompressed: 15 << 30, files: 1 }];
        let p = PullParams::defaults();
        let t = predict(&p, &big);
        // at least the download alone: 12 GiB at 5 Gbps
        assert!(t > (12u64 << 30) as f64 / p.bandwidth, "{t}");
    }
}
