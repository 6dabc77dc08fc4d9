//! Random small scenarios for the audit's property tests and the metamorphic relations:
//! several hosts, images sharing layers, caches from none to ample, TTLs including 0, fixed
//! and daily reserved targets, concurrency, queues, zero-byte layers, a scale-out rate, CPU
//! sharing, p2p layer distribution, and extreme but valid values (a 1 kB/s link, a 1 µs TTL, a start that misses
//! its limit). A
//! scenario is a function of one `u64`, so a failing case is reproduced from its seed.

use rand::seq::IndexedRandom;
use rand::Rng as _;

use super::tests::base;
use crate::engine::rng::{stream, Rng};
use crate::scenario::{
    Arrivals, Dist, Function, Image, Layer, Lazy, PullMode, Reserved, ReservedStep, Scenario, Workload,
};
use crate::units::{Micros, MICROS_PER_DAY as DAY, MICROS_PER_SECOND as S};

const MB: u64 = 1 << 20;

fn pick<T: Copy>(r: &mut Rng, xs: &[T]) -> T {
    *xs.choose(r).expect("a choice")
}

/// A duration distribution around one of `means`: fixed or exponential.
fn dist(r: &mut Rng, means: &[Micros]) -> Dist {
    let mean = pick(r, means);
    if r.random_bool(0.5) {
        Dist::Fixed(mean)
    } else {
        Dist::Exp { mean: mean.max(1) }
    }
}

/// The scenario of `seed`: at most a few hundred requests, so a case runs in milliseconds.
pub(crate) fn scenario(seed: u64) -> Scenario {
    let r = &mut stream(seed, 0, "scenario-gen", 0);
    let mut sc = base();
    sc.simulation.seed = r.random_range(0..1 << 40);
    sc.simulation.horizon = pick(r, &[10 * S, 600 * S, 3600 * S, DAY + 7200 * S]);
    sc.simulation.warm_start = r.random_bool(0.5);
    sc.simulation.warmup = if r.random_bool(0.3) { r.random_range(0..sc.simulation.horizon / 2) } else { 0 };
    sc.simulation.bucket = pick(r, &[S, 60 * S, 3600 * S]);
    if r.random_bool(0.3) {
        sc.platform.provider = crate::provider::load("lambda").expect("built-in provider");
    }
    let pl = &mut sc.platform;
    pl.pick = pick(
        r,
        &[
            crate::scenario::Pick::Mru,
            crate::scenario::Pick::Newest,
            crate::scenario::Pick::LeastLoaded,
            crate::scenario::Pick::Random,
        ],
    );
    pl.hosts = r.random_range(1..=4);
    pl.host_memory_mb = pick(r, &[512, 2048, 8192, 128 * 1024]);
    pl.cache_capacity = pick(r, &[0, MB, 100 * MB, 200 << 30]);
    pl.cache_ttl = pick(r, &[0, 1, S, 30 * S, 1800 * S, 100 * 365 * DAY]);
    pl.ready_timeout = pick(r, &[S, 120 * S]);
    pl.container_create = dist(r, &[0, 1, 200_000]);
    pl.pull.host_bandwidth = pick(r, &[1e3, 1e6, 625e6, 1e12]);
    pl.pull.registry_bandwidth = pick(r, &[1e3, 1e6, 2.5e9, 1e12]);
    pl.pull.layer_overhead = pick(r, &[0, 1, 21_000]);
    pl.pull.manifest = pick(r, &[0, 20_000]);
    pl.pull.extract_rate = pick(r, &[1e6, 150e6, 1e12]);
    pl.pull.extract_per_file = pick(r, &[0, 250]);
    pl.pull.extract_overhead = pick(r, &[0, 64_000]);
    pl.pull.parallel_layers = r.random_range(1..=4);
    pl.pull.mode = if r.random_bool(0.2) { PullMode::Lazy } else { PullMode::Full };
    pl.pull.lazy = Lazy { index_fraction: pick(r, &[0.0, 0.03, 1.0]), read_fraction: pick(r, &[0.0, 0.065, 0.5]) };
    // p2p distribution in a third of the cases, over more hosts so the trees branch: chains
    // (fanout 1) to wide trees, children waiting on parents, parents serving from the cache
    if r.random_bool(1.0 / 3.0) {
        pl.pull.distribution = crate::scenario::Distribution::P2p { fanout: r.random_range(1..=3) };
        pl.hosts = r.random_range(2..=8);
    }
    // a pool of layers the images draw from, so images share some
    let pool: Vec<Layer> = (0..5)
        .map(|k| {
            let compressed = pick(r, &[0, 1000, 10 * MB, 300 * MB]);
            Layer {
                id: format!("l{k}"),
                compressed,
                uncompressed: compressed * r.random_range(1..=3),
                files: pick(r, &[0, 100, 10_000]),
            }
        })
        .collect();
    sc.images = (0..r.random_range(1..=3))
        .map(|i| {
            let n = r.random_range(1..=4);
            let mut layers: Vec<Layer> = Vec::new();
            for _ in 0..n {
                let l = pool[r.random_range(0..pool.len())].clone();
                if !layers.iter().any(|x| x.id == l.id) {
                    layers.push(l);
                }
            }
            // some images accelerated (FC), some of them only from a later time (a deploy)
            let accelerated_from = r.random_bool(0.25).then(|| pick(r, &[0, 30 * S]));
            Image { name: format!("img{i}"), layers, accelerated_from }
        })
        .collect();
    let horizon = sc.simulation.horizon;
    let nf = r.random_range(1..=3);
    sc.functions = (0..nf).map(|i| function(r, i, sc.images.len())).collect();
    sc.workloads = (0..nf)
        .map(|f| {
            // at most ~300 arrivals per function
            let mean_gap = (horizon / pick(r, &[3, 30, 300])).max(1);
            let from = if r.random_bool(0.3) { r.random_range(0..horizon / 2) } else { 0 };
            let arrivals = match r.random_range(0..3) {
                0 => Arrivals::Poisson { rate: S as f64 / mean_gap as f64 },
                1 => Arrivals::Constant { interval: mean_gap },
                _ => Arrivals::Bursty {
                    on_rate: 10.0 * S as f64 / mean_gap as f64,
                    off_rate: 0.1 * S as f64 / mean_gap as f64,
                    mean_on: (horizon / 20).max(1),
                    mean_off: (horizon / 5).max(1),
                },
            };
            Workload { function: f, arrivals, from, until: horizon }
        })
        .collect();
    sc
}

fn function(r: &mut Rng, i: usize, images: usize) -> Function {
    let max_instances = r.random_range(1..=6);
    let reserved = match r.random_range(0..3) {
        0 => Reserved::Fixed(0),
        1 => Reserved::Fixed(r.random_range(0..=max_instances.min(2))),
        _ => {
            let mut at: Vec<Micros> = (0..r.random_range(1..=3)).map(|_| r.random_range(0..24) * 3600 * S).collect();
            at.sort_unstable();
            at.dedup();
            Reserved::Daily(
                at.into_iter().map(|at| ReservedStep { at, count: r.random_range(0..=max_instances) }).collect(),
            )
        }
    };
    Function {
        name: format!("f{i}"),
        image: r.random_range(0..images),
        memory_mb: pick(r, &[128, 1024, 4096]),
        milli_vcpu: 1000,
        disk_mb: 512,
        gpu: None,
        concurrency: r.random_range(1..=4),
        max_instances,
        reserved,
        queue: pick(r, &[0, 1, 5]),
        queue_timeout: pick(r, &[1, S, 60 * S]),
        timeout: pick(r, &[S, 600 * S]),
        startup: dist(r, &[0, S, 150 * S]),
        exec: dist(r, &[1, 100_000, 2 * S]),
        keep_alive: pick(r, &[0, S, 60 * S]),
        cold_service: if r.random_bool(0.15) { Some(dist(r, &[2 * S])) } else { None },
        // CPU sharing in a third of the functions: stretched executions, requests whose CPU
        // part still runs at the horizon, timeouts cut under contention
        cpu: if r.random_bool(1.0 / 3.0) {
            crate::scenario::model::CpuUse {
                fraction: pick(r, &[0.3, 1.0]),
                threads: r.random_range(1..=2),
                exec_milli_vcpu: pick(r, &[500, 1000]),
            }
        } else {
            crate::scenario::model::CpuUse::none(1000)
        },
    }
}
