//! Metamorphic relations: two runs of one random scenario that differ in one knob, with the
//! same seed (common random numbers), must compare a known way sample path by sample path.
//! Each relation holds only where its doc comment says why; the generator is restricted to
//! exactly that, and both runs are audited.

use proptest::prelude::*;

use super::scenario_gen::scenario;
use super::tests::once;
use super::{simulate_audited, RunResult, VecSink};
use crate::scenario::{Arrivals, Dist, Pick, Reserved, Scenario};
use crate::units::{MICROS_PER_DAY as DAY, MICROS_PER_SECOND as S};
use crate::usage::Meters;

fn run(sc: &Scenario) -> RunResult {
    let mut sink = VecSink::default();
    simulate_audited(sc, 0, &mut sink, &Meters::default(), |_| {}).unwrap_or_else(|e| panic!("{e}\n{sc:#?}"))
}

/// One request of the first function at t = 0 on a platform whose hosts are empty: one pull
/// on one host, nothing else moving bytes.
fn lone_pull(seed: u64) -> Scenario {
    let mut sc = scenario(seed);
    // long enough for the slowest pull the generator makes (GBs over a 1 kB/s link)
    sc.simulation.horizon = 100 * 365 * DAY;
    sc.simulation.bucket = sc.simulation.horizon;
    sc.simulation.warmup = 0;
    sc.functions.truncate(1);
    let f = &mut sc.functions[0];
    (f.reserved, f.cold_service, f.startup) = (Reserved::Fixed(0), None, Dist::Fixed(0));
    sc.platform.host_memory_mb = sc.platform.host_memory_mb.max(f.memory_mb);
    sc.workloads = vec![once(0)];
    sc
}

/// Why more host bandwidth never makes a lone pull slower: on one host with one pull, the
/// layer downloads are one processor-sharing link of capacity min(host, registry), fed in
/// image order through `parallel_layers` slots, each after the same fixed overhead. On a
/// faster link every download has moved at least as many bytes at every instant (by
/// induction over completions: a download that starts no later gets a rate that, integrated
/// from the time the slower run's copy starts, is never behind), so each ends no later, frees
/// its slot no later, and the extraction — one layer after another, in order, each at a fixed
/// cost — starts and ends each layer no later. (A reference fluid model agreed on 2·10⁵
/// random cases while this was written.) Nothing random depends on the pull's length.
fn pull_time(sc: &Scenario) -> u128 {
    let st = &run(sc).functions[0].1;
    assert_eq!(st.pulls + st.cache_hits, 1);
    st.pull_us
}

/// Zero-length pulls on one host (zero-byte layers, no overheads), deterministic create and
/// start, Poisson arrivals, no random pick: two runs then make the same decisions at the same
/// instants whatever their caches hold, so they differ only in what is cached — and a layer
/// cached under the shorter TTL (last used less than that TTL ago, or pinned) is cached under
/// the longer one. Every hit of the shorter run is a hit of the longer: it pulls no more.
/// Why the restriction: when a pull takes time, a hit shortens an instance's life and moves
/// its layers' TTL clock earlier, so a longer TTL can let a layer expire before the shorter
/// TTL does (the shorter run's slow pull kept it in use); and with zero-byte layers the cache
/// never fills, because LRU eviction under capacity would pick other victims once the
/// contents differ. Ties at one instant (constant arrivals) could also be broken differently.
fn ttl_case(seed: u64) -> Scenario {
    let mut sc = scenario(seed);
    let pl = &mut sc.platform;
    pl.hosts = 1;
    pl.pull.layer_overhead = 0;
    pl.pull.manifest = 0;
    pl.pull.extract_overhead = 0;
    pl.container_create = Dist::Fixed(200_000);
    if pl.pick == Pick::Random {
        pl.pick = Pick::Mru;
    }
    for img in &mut sc.images {
        for l in &mut img.layers {
            (l.compressed, l.uncompressed, l.files) = (0, 0, 0);
        }
    }
    for f in &mut sc.functions {
        f.cold_service = None;
        f.startup = Dist::Fixed(S);
    }
    for w in &mut sc.workloads {
        w.arrivals = Arrivals::Poisson { rate: 0.05 };
    }
    sc
}

fn pulls(sc: &Scenario) -> u64 {
    run(sc).functions.iter().map(|(_, st)| st.pulls).sum()
}

/// One function on one host with room for every instance, concurrency 1, keep-alive 0, no
/// queue, no reserved instances, no scale-out rate, a deterministic start within the start
/// limit, and a cache that keeps the image once pulled. Then every request either gets its own
/// new instance or is throttled, and the instance lives for a time that depends only on when
/// the request came (the image's one pull runs the same in every run: it starts with the
/// first instance, before any run can be full) and on its own execution time (its own random
/// stream): a loss system whose services belong to the requests. Why a larger `max_instances`
/// never throttles more: with M₁ < M₂, the larger run never holds more than M₂ − M₁ instances
/// beyond the smaller run's count, and every request the smaller run takes it takes too. That
/// holds at the start (equal), through ends (a request in both ends at the same time in both),
/// through an arrival both take (both +1), and through one only the larger takes (the smaller
/// is full at M₁, the larger has room, so it ends at most M₁ + (M₂ − M₁)). So when the smaller
/// run has room (fewer than M₁) the larger has fewer than M₂: it takes every request the
/// smaller takes. Why the restriction: with pulls on several hosts an extra instance's pull
/// shares the registry and slows the others' (their instances then stay busy longer); a
/// scale-out rate spends tokens the smaller run keeps; a queue, keep-alive and concurrency make
/// an instance's time depend on the other requests; too little memory caps both runs alike.
fn max_instances_case(seed: u64) -> Scenario {
    let mut sc = scenario(seed);
    sc.simulation.warmup = 0;
    sc.functions.truncate(1);
    sc.workloads.truncate(1);
    sc.platform.provider = crate::provider::load("fc").expect("built-in provider");
    let pl = &mut sc.platform;
    pl.hosts = 1;
    pl.cache_ttl = 100 * 365 * DAY;
    pl.cache_capacity = 200 << 30;
    pl.container_create = Dist::Fixed(200_000);
    let f = &mut sc.functions[0];
    (f.concurrency, f.keep_alive, f.queue, f.reserved, f.cold_service) = (1, 0, 0, Reserved::Fixed(0), None);
    f.startup = Dist::Fixed(S);
    pl.ready_timeout = 120 * S;
    pl.host_memory_mb = 64 * f.memory_mb;
    sc
}

fn throttled(sc: &Scenario) -> u64 {
    run(sc).functions[0].1.throttled
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn more_host_bandwidth_never_makes_a_lone_pull_slower(seed in any::<u64>(), more in 1.0f64..100.0) {
        let slow = lone_pull(seed);
        let mut fast = slow.clone();
        fast.platform.pull.host_bandwidth *= more;
        prop_assert!(pull_time(&fast) <= pull_time(&slow), "seed {}", seed);
    }

    #[test]
    fn a_longer_cache_ttl_never_makes_a_single_host_run_pull_more(seed in any::<u64>(), longer in 1u64..3_600_000_000) {
        let short = ttl_case(seed);
        let mut long = short.clone();
        long.platform.cache_ttl = short.platform.cache_ttl.saturating_add(longer);
        prop_assert!(pulls(&long) <= pulls(&short), "seed {}", seed);
    }

    #[test]
    fn a_larger_max_instances_never_throttles_more(seed in any::<u64>(), more in 1u32..5) {
        let small = max_instances_case(seed);
        let mut large = small.clone();
        large.functions[0].max_instances += more;
        prop_assert!(throttled(&large) <= throttled(&small), "seed {}", seed);
    }
}
