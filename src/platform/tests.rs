//! Hand-worked runs of the platform model: each checks one rule with numbers that can be
//! computed on paper.

use super::*;
use crate::scenario::{self as sc_model, *};
use crate::units::{MICROS_PER_DAY as DAY, MICROS_PER_SECOND};
use crate::usage::{Meters, Phase};

const S: Micros = MICROS_PER_SECOND;
const MB: u64 = 1 << 20;

/// One 1 GB function on one host; one layer that takes exactly 10 s to extract
/// (1500 MB at 150 MB/s, nothing to download, no overheads); no workloads yet.
pub(crate) fn base() -> Scenario {
    Scenario {
        simulation: Simulation {
            name: "t".into(),
            horizon: 1000 * S,
            seed: 7,
            replications: 1,
            bucket: 60 * S,
            warm_start: true,
            warmup: 0,
            start: None,
        },
        platform: sc_model::Platform {
            provider: crate::provider::load("fc").expect("built-in provider"),
            pricing: "fc3".into(),
            sheet: crate::billing::sheet::load("fc3").unwrap(),
            keep_alive: 60 * S,
            pick: Pick::Mru,
            hosts: 1,
            host_memory_mb: 128 * 1024,
            cache_capacity: 200 << 30,
            cache_ttl: 1800 * S,
            ready_timeout: 120 * S,
            container_create: Dist::Fixed(0),
            pull: Pull {
                host_bandwidth: 625e6,
                registry_bandwidth: 2.5e9,
                layer_overhead: 0,
                manifest: 0,
                extract_rate: (150 * MB) as f64,
                extract_per_file: 0,
                extract_overhead: 0,
                parallel_layers: 3,
                mode: PullMode::Full,
                lazy: Lazy { index_fraction: 0.03, read_fraction: 0.065 },
                profile: None,
                distribution: crate::scenario::Distribution::Registry,
            },
        },
        images: vec![Image {
            name: "img".into(),
            layers: vec![Layer { id: "img#0".into(), compressed: 0, uncompressed: 1500 * MB, files: 0 }],
            accelerated_from: None,
        }],
        functions: vec![Function {
            name: "f".into(),
            image: 0,
            memory_mb: 1024,
            milli_vcpu: 1000,
            disk_mb: 512,
            gpu: None,
            concurrency: 1,
            max_instances: 100,
            reserved: Reserved::Fixed(0),
            queue: 0,
            queue_timeout: 60 * S,
            timeout: 600 * S,
            startup: Dist::Fixed(0),
            exec: Dist::Fixed(S),
            keep_alive: 60 * S,
            cold_service: None,
            cpu: CpuUse::none(1000),
        }],
        workloads: vec![],
        goals: Vec::new(),
    }
}

/// One arrival at `at`.
pub(crate) fn once(at: Micros) -> Workload {
    Workload { function: 0, arrivals: Arrivals::Constant { interval: 1 << 50 }, from: at, until: at + 1 }
}

pub(crate) fn run(sc: &Scenario) -> (FnStats, VecSink) {
    let mut sink = VecSink { keep_requests: true, ..Default::default() };
    let r = simulate(sc, 0, &mut sink, &Meters::default(), |_| {}).unwrap();
    let st = r.functions.into_iter().next().unwrap().1;
    assert_conserved(&st);
    (st, sink)
}

fn assert_conserved(st: &FnStats) {
    assert_eq!(
        st.requests,
        st.completed + st.throttled + st.failed + st.queue_timeouts + st.in_flight,
        "requests = completed + throttled + failed + queue timeouts + in flight"
    );
}

#[test]
fn an_instance_that_pulls_for_10_s_records_exactly_10_gb_s_of_pull() {
    let mut sc = base();
    sc.workloads.push(once(0));
    let (st, sink) = run(&sc);
    assert_eq!(st.pulls, 1);
    assert_eq!(st.pull_us, 10 * S as u128);
    assert_eq!(st.usage().gbs(Phase::Pull), 10.0);
    // the request waited for the pull, then ran 1 s
    assert_eq!(st.completed, 1);
    assert_eq!(st.cold_starts, 1);
    assert_eq!(st.latency_sum_us, 11 * S as u128);
    assert_eq!(sink.requests[0].2, Some(10 * S));
}

#[test]
fn a_cache_hit_pulls_nothing_and_pays_nothing_for_the_pull() {
    let mut sc = base();
    sc.functions[0].keep_alive = 0;
    sc.workloads.push(once(0));
    sc.workloads.push(once(100 * S));
    let (st, _) = run(&sc);
    assert_eq!(st.instances_created, 2);
    assert_eq!((st.pulls, st.cache_hits), (1, 1));
    assert_eq!(st.usage().gbs(Phase::Pull), 10.0, "only the first start pulled");
    assert_eq!(st.latency_sum_us, (11 + 1) * S as u128);
}

#[test]
fn three_overlapping_10_s_requests_on_one_instance_record_10_s_of_busy_time() {
    let mut sc = base();
    sc.functions[0].concurrency = 10;
    sc.functions[0].exec = Dist::Fixed(10 * S);
    for _ in 0..3 {
        sc.workloads.push(once(0));
    }
    let (st, _) = run(&sc);
    assert_eq!(st.instances_created, 1);
    assert_eq!(st.cold_starts, 3, "two requests waited on the starting instance");
    assert_eq!(st.usage().inst_us[Phase::Busy.index()], 10 * S as u128);
    assert_eq!(st.usage().gbs(Phase::Busy), 10.0);
}

#[test]
fn an_instance_that_misses_ready_timeout_fails_its_requests_and_serves_none() {
    let mut sc = base();
    sc.functions[0].startup = Dist::Fixed(200 * S);
    sc.workloads.push(once(0));
    let (st, sink) = run(&sc);
    assert_eq!((st.failed, st.not_started, st.completed), (1, 1, 0));
    assert_eq!(sink.instances.len(), 1);
    let (_, _, times, ended, reason, served) = &sink.instances[0];
    // the limit counts from the container's start, after the 10 s pull
    assert_eq!((*ended, *reason, *served), (Some(130 * S), "not_started", 0));
    assert_eq!((times[Phase::Pull.index()], times[Phase::Startup.index()]), (10 * S, 120 * S));
    assert_eq!(sink.requests[0].5, Outcome::Failed);
}

#[test]
fn keep_alive_zero_makes_every_request_cold() {
    let mut sc = base();
    sc.functions[0].keep_alive = 0;
    sc.workloads.push(Workload { function: 0, arrivals: Arrivals::Poisson { rate: 0.05 }, from: 0, until: 1000 * S });
    let (st, _) = run(&sc);
    assert!(st.requests > 20);
    assert_eq!(st.cold_starts, st.requests);
    assert_eq!(st.instances_created, st.requests);
}

#[test]
fn a_warm_instance_serves_the_next_request_within_keep_alive() {
    let mut sc = base();
    sc.workloads.push(once(0));
    sc.workloads.push(once(50 * S)); // idle since 11 s: 39 s < 60 s keep-alive
    sc.workloads.push(once(200 * S)); // idle since 51 s: reclaimed at 111 s
    let (st, sink) = run(&sc);
    assert_eq!(st.instances_created, 2);
    assert_eq!(st.cold_starts, 2);
    assert_eq!(sink.instances[0].3, Some(111 * S));
    // keep-alive idle: 11..50 and 51..111 on the first instance
    assert_eq!(sink.instances[0].2[Phase::IdleKeepalive.index()], 39 * S + 60 * S);
}

#[test]
fn reserved_instances_are_used_first_and_never_reclaimed() {
    let mut sc = base();
    sc.functions[0].reserved = Reserved::Fixed(2);
    sc.workloads.push(once(500 * S));
    let (st, sink) = run(&sc);
    assert_eq!(st.instances_created, 2);
    assert_eq!(st.cold_starts, 0);
    assert_eq!(sink.instances.len(), 2);
    assert!(sink.instances.iter().all(|r| r.4 == "horizon"));
    // warm start: the two reserved instances are ready at t = 0 and idle-reserved for the
    // whole run except the 1 s request; no pull
    let idle: u64 = sink.instances.iter().map(|r| r.2[Phase::IdleReserved.index()]).sum();
    assert_eq!(idle, 2 * 1000 * S - S);
    assert_eq!((st.pulls, st.cache_hits, st.usage().gbs(Phase::Pull)), (0, 0, 0.0));
}

/// Issue 11 item 7: with `warm_start` a request at t = 0 finds a ready reserved instance (no
/// cold start, nothing metered for its start); without it, the reserved instance pulls first
/// and the request waits for it.
#[test]
fn warm_start_makes_reserved_instances_ready_at_time_zero() {
    let mut sc = base();
    sc.functions[0].reserved = Reserved::Fixed(1);
    sc.workloads.push(once(0));
    let (st, sink) = run(&sc);
    assert_eq!((st.cold_starts, st.pulls, st.latency_sum_us), (0, 0, S as u128));
    assert_eq!(sink.instances[0].2[Phase::Startup.index()] + sink.instances[0].2[Phase::Pull.index()], 0);
    // a later on-demand instance on the same host finds the image cached
    sc.workloads.push(once(0));
    let (st, _) = run(&sc);
    assert_eq!((st.instances_created, st.pulls, st.cache_hits), (2, 0, 1));
    sc.simulation.warm_start = false;
    sc.workloads.pop();
    let (st, _) = run(&sc);
    assert_eq!((st.cold_starts, st.pulls, st.latency_sum_us), (1, 1, 11 * S as u128));
}

#[test]
fn two_instances_on_one_host_wait_on_one_download_of_a_layer() {
    let mut sc = base();
    sc.functions[0].reserved = Reserved::Fixed(2);
    sc.simulation.warm_start = false;
    let (st, _) = run(&sc);
    assert_eq!(st.pulls, 2);
    // both pulls end when the single extraction ends
    assert_eq!(st.pull_us, 2 * 10 * S as u128);
}

/// Three layers of 625 MB compressed (1 s each at the host's 625 MB/s) and 150 MiB
/// uncompressed (1 s each to extract), with a 0.5 s fixed cost per extraction.
fn three_layers_with_extract_overhead(parallel_layers: u32) -> Scenario {
    let mut sc = base();
    sc.platform.pull.extract_overhead = S / 2;
    sc.platform.pull.parallel_layers = parallel_layers;
    sc.images[0].layers = (0..3)
        .map(|i| Layer { id: format!("img#{i}"), compressed: 625_000_000, uncompressed: 150 * MB, files: 0 })
        .collect();
    sc.workloads.push(once(0));
    sc
}

#[test]
fn the_extraction_overhead_is_paid_by_each_layer_one_after_another() {
    // three downloads share the host: all done at 3 s; then 3 × (1 s + 0.5 s) of extraction
    let (st, _) = run(&three_layers_with_extract_overhead(3));
    assert_eq!(st.pull_us, 7_500_000);
    // one download at a time: layer i downloaded at i s; extraction 1–2.5, 2.5–4, 4–5.5 s
    let (st, _) = run(&three_layers_with_extract_overhead(1));
    assert_eq!(st.pull_us, 5_500_000);
}

#[test]
fn a_full_function_queues_then_throttles_and_queued_requests_time_out() {
    let mut sc = base();
    sc.functions[0].max_instances = 1;
    sc.functions[0].queue = 1;
    sc.functions[0].queue_timeout = 5 * S;
    for _ in 0..3 {
        sc.workloads.push(once(0));
    }
    let (st, _) = run(&sc);
    // first starts an instance (ready at 10 s); second queues; third is throttled;
    // the queued one times out at 5 s, before the instance is ready
    assert_eq!((st.completed, st.queued, st.throttled, st.queue_timeouts), (1, 1, 1, 1));
}

#[test]
fn a_queued_request_runs_when_a_slot_frees() {
    let mut sc = base();
    sc.functions[0].max_instances = 1;
    sc.functions[0].queue = 10;
    sc.workloads.push(once(0));
    sc.workloads.push(once(S));
    let (st, sink) = run(&sc);
    assert_eq!((st.completed, st.queued), (2, 1));
    // second waits for the first to end at 11 s, then runs to 12 s
    assert_eq!(sink.requests[1].2, Some(11 * S));
    assert_eq!(sink.requests[1].3, Some(12 * S));
}

#[test]
fn the_function_timeout_cuts_a_request_and_fails_it() {
    let mut sc = base();
    sc.functions[0].timeout = S / 2;
    sc.workloads.push(once(0));
    let (st, _) = run(&sc);
    assert_eq!((st.completed, st.failed), (0, 1));
    assert_eq!(st.usage().inst_us[Phase::Busy.index()], (S / 2) as u128);
}

#[test]
fn requests_running_at_the_horizon_are_in_flight() {
    let mut sc = base();
    sc.functions[0].exec = Dist::Fixed(5000 * S);
    sc.functions[0].timeout = 10_000 * S;
    sc.workloads.push(once(0));
    let (st, sink) = run(&sc);
    assert_eq!((st.in_flight, st.completed), (1, 0));
    assert_eq!(sink.requests[0].5, Outcome::InFlight);
    // meters stop at the horizon
    assert_eq!(st.usage().inst_us.iter().sum::<u128>(), 1000 * S as u128);
}

#[test]
fn requests_whose_cpu_part_runs_at_the_horizon_are_in_flight_too() {
    // under CPU sharing a request's Done is queued only when its CPU part ends: two requests
    // of CPU work still sharing the vCPU at the horizon are in flight all the same
    let mut sc = base();
    sc.functions[0].exec = Dist::Fixed(5000 * S);
    sc.functions[0].timeout = 10_000 * S;
    sc.functions[0].concurrency = 2;
    sc.functions[0].cpu = CpuUse { fraction: 1.0, threads: 1, exec_milli_vcpu: 1000 };
    sc.workloads.push(once(0));
    sc.workloads.push(once(0));
    let (st, sink) = run(&sc);
    assert_eq!((st.requests, st.in_flight, st.completed), (2, 2, 0));
    assert!(sink.requests.iter().all(|r| r.5 == Outcome::InFlight));
}

#[test]
fn cold_service_replaces_the_whole_start_and_leaves_the_instance_idle() {
    let mut sc = base();
    sc.functions[0].cold_service = Some(Dist::Fixed(3 * S));
    sc.workloads.push(once(0));
    sc.workloads.push(once(10 * S));
    let (st, sink) = run(&sc);
    assert_eq!((st.instances_created, st.cold_starts, st.pulls), (1, 1, 0));
    assert_eq!(st.latency_sum_us, (3 + 1) * S as u128);
    assert_eq!(sink.requests[0].3, Some(3 * S));
}

#[test]
fn a_reserved_schedule_scales_up_and_down_each_day() {
    let mut sc = base();
    sc.simulation.horizon = 2 * DAY;
    sc.functions[0].reserved = Reserved::Daily(vec![
        ReservedStep { at: 8 * 3600 * S, count: 3 },
        ReservedStep { at: 20 * 3600 * S, count: 1 },
    ]);
    let (st, sink) = run(&sc);
    // 1 at midnight (last step of the day), +2 at 08:00 on day 1 and day 2
    assert_eq!(st.instances_created, 1 + 2 + 2);
    let scaled_down = sink.instances.iter().filter(|r| r.4 == "scale_down").count();
    assert_eq!(scaled_down, 4);
    // time-average: 1 all day, plus 2 for 12 h a day (less the 10 s pulls count as live too)
    let mean = st.live_area as f64 / (2 * DAY) as f64;
    assert!((mean - 2.0).abs() < 1e-9, "{mean}");
}

#[test]
fn time_series_buckets_add_up_to_the_summary() {
    let mut sc = base();
    sc.functions[0].concurrency = 4;
    sc.functions[0].reserved = Reserved::Fixed(1);
    sc.workloads.push(Workload { function: 0, arrivals: Arrivals::Poisson { rate: 0.5 }, from: 0, until: 1000 * S });
    let (st, sink) = run(&sc);
    let arrivals: u64 = sink.buckets.iter().map(|b| b.arrivals).sum();
    assert_eq!(arrivals, st.requests);
    let cold: u64 = sink.buckets.iter().map(|b| b.cold_starts).sum();
    assert_eq!(cold, st.cold_starts);
    for p in Phase::ALL {
        let mb: u128 = sink.buckets.iter().map(|b| b.total().mb_us[p.index()]).sum();
        assert_eq!(mb, st.usage().mb_us[p.index()], "{p:?}");
    }
    assert_eq!(sink.buckets.len(), 17); // 16 full minutes and the last 40 s
    assert_eq!(sink.buckets.last().unwrap().end, 1000 * S);
}

/// Not a test of numbers: a quick speed probe, run by hand in release mode
/// (`cargo test --release --lib speed_probe -- --ignored --nocapture`).
#[test]
#[ignore]
fn speed_probe_simfaas_model() {
    let mut sc = base();
    let secs: u64 = std::env::var("PROBE_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    sc.simulation.horizon = secs * S;
    sc.simulation.bucket = 3600 * S;
    sc.platform.pick = Pick::Newest;
    sc.platform.hosts = 1000;
    sc.functions[0].keep_alive = 600 * S;
    sc.functions[0].max_instances = 1000;
    sc.functions[0].exec = Dist::Exp { mean: 1_991_000 };
    sc.functions[0].cold_service = Some(Dist::Exp { mean: 2_244_000 });
    sc.workloads.push(Workload {
        function: 0,
        arrivals: Arrivals::Poisson { rate: 0.9 },
        from: 0,
        until: sc.simulation.horizon,
    });
    let t = std::time::Instant::now();
    let r = simulate(&sc, 0, &mut NullSink, &Meters::default(), |_| {}).unwrap();
    let el = t.elapsed().as_secs_f64();
    let st = &r.functions[0].1;
    println!(
        "{} requests, {} events in {:.3} s: {:.2} M req/s; cold {:.5}, instances {:.4}",
        st.requests,
        r.events,
        el,
        st.requests as f64 / el / 1e6,
        st.cold_starts as f64 / st.requests as f64,
        st.live_area as f64 / sc.simulation.horizon as f64
    );
}

#[test]
fn events_stay_small() {
    // the queue moves events around on every push and pop: with its 16-byte key an entry is
    // 32 bytes, two to a cache line; the fields are 4-byte aligned words (see `Event`)
    assert!(std::mem::size_of::<Event>() <= 16, "{}", std::mem::size_of::<Event>());
    assert_eq!(std::mem::align_of::<Event>(), 4);
}

#[test]
fn clock_hours_with_activity_are_reported_with_their_usage() {
    let mut sc = base();
    sc.simulation.horizon = 5 * 3600 * S + 1800 * S; // 5.5 h
    sc.platform.cache_ttl = 10 * 3600 * S;
    sc.functions[0].keep_alive = 0;
    sc.functions[0].exec = Dist::Fixed(2 * S);
    // one request at 0:30 and one at 3:59:59 (its 2 s cross into hour 4)
    sc.workloads.push(once(1800 * S));
    sc.workloads.push(once(4 * 3600 * S - S));
    let meters = Meters::new(vec![], Some(std::sync::Arc::new(|_: &[crate::usage::Usage; 2], _: [u64; 2]| 0.0)));
    // the hours are summed from whole 1-minute buckets; with 7-minute buckets, which do not
    // tile an hour, each hour follows every phase change itself: the same hours either way
    for bucket in [60 * S, 7 * 60 * S] {
        sc.simulation.bucket = bucket;
        let mut sink = VecSink::default();
        let r = simulate(&sc, 0, &mut sink, &meters, |_| {}).unwrap();
        let hours: Vec<(u64, u64, u64)> = sink
            .hours
            .iter()
            .map(|(_, h)| (h.start / S, h.started[0], h.total().inst_us[Phase::Busy.index()] as u64))
            .collect();
        // hour 0: a 10 s pull then 2 s busy; hour 3: cache hit, 1 s busy; hour 4: the other 1 s
        assert_eq!(hours, vec![(0, 1, 2 * S), (3 * 3600, 1, S), (4 * 3600, 0, S)], "bucket {bucket}");
        let pull: u128 = sink.hours.iter().map(|(_, h)| h.total().inst_us[Phase::Pull.index()]).sum();
        assert_eq!(pull, r.functions[0].1.usage().inst_us[Phase::Pull.index()]);
    }
}

/// A stretch that spans buckets is split at their edges: an idle reserved instance counts the
/// whole of each bucket, and one that served a request between 90 s and 150 s counts its busy
/// minute half in the second bucket and half in the third.
#[test]
fn a_stretch_across_bucket_edges_counts_in_each_bucket_its_part() {
    let mut sc = base();
    sc.functions[0].reserved = Reserved::Fixed(1);
    sc.functions[0].exec = Dist::Fixed(60 * S);
    sc.workloads.push(once(90 * S));
    let (_, sink) = run(&sc);
    let mb = sc.functions[0].memory_mb as u128;
    let inst = |b: &BucketRow, p: Phase| b.usage[1].mb_us[p.index()] / mb;
    let (busy, idle) = (Phase::Busy, Phase::IdleReserved);
    let b = &sink.buckets;
    assert_eq!((inst(&b[0], busy), inst(&b[0], idle)), (0, 60 * S as u128));
    assert_eq!((inst(&b[1], busy), inst(&b[1], idle)), (30 * S as u128, 30 * S as u128));
    assert_eq!((inst(&b[2], busy), inst(&b[2], idle)), (30 * S as u128, 30 * S as u128));
    assert_eq!((inst(&b[3], busy), inst(&b[3], idle)), (0, 60 * S as u128));
    assert_eq!(inst(b.last().unwrap(), idle), 40 * S as u128, "the last bucket ends at the horizon");
}

#[test]
fn buckets_split_usage_by_instance_kind() {
    let mut sc = base();
    sc.functions[0].reserved = Reserved::Fixed(1);
    sc.functions[0].concurrency = 1;
    sc.workloads.push(once(100 * S));
    sc.workloads.push(once(100 * S));
    let (st, sink) = run(&sc);
    let kinds: [u64; 2] = [0, 1].map(|k| sink.buckets.iter().map(|b| b.started[k]).sum());
    assert_eq!(kinds, [1, 1], "one request on the reserved instance, one on a new on-demand one");
    for k in 0..2 {
        let mb: u128 = sink.buckets.iter().map(|b| b.usage[k].mb_us.iter().sum::<u128>()).sum();
        assert_eq!(mb, st.usage_kind[k].mb_us.iter().sum::<u128>());
    }
    assert_eq!(st.started_kind, [1, 1]);
}

/// `base()` on a provider whose scale-out rate is `burst` at once, then `rate` every `per`.
fn with_scale(burst: u32, rate: u32, per: Micros) -> Scenario {
    let mut sc = base();
    let src = crate::provider::Source { source: "test".into(), as_of: "2026-01-01".into() };
    sc.platform.provider.scale = Some(crate::provider::Scale { burst, rate, per, source: src });
    sc
}

#[test]
fn requests_beyond_the_providers_scale_out_rate_are_throttled_without_a_queue() {
    let mut sc = with_scale(2, 1, 10 * S);
    for _ in 0..5 {
        sc.workloads.push(once(0));
    }
    let (st, _) = run(&sc);
    assert_eq!((st.instances_created, st.completed, st.throttled), (2, 2, 3));
    // without the rate all five start
    sc.platform.provider.scale = None;
    let (st, _) = run(&sc);
    assert_eq!((st.instances_created, st.completed, st.throttled), (5, 5, 0));
}

#[test]
fn queued_requests_get_new_instances_as_the_scale_out_rate_refills() {
    let mut sc = with_scale(1, 1, 2 * S);
    sc.functions[0].queue = 10;
    sc.functions[0].queue_timeout = 100 * S;
    for _ in 0..3 {
        sc.workloads.push(once(0));
    }
    let (st, sink) = run(&sc);
    assert_eq!((st.throttled, st.completed, st.queue_timeouts), (0, 3, 0));
    // one instance at 0 s, one at 2 s when a token came back, one at 4 s
    assert_eq!((st.instances_created, sink.instances.len()), (3, 3));
    assert_eq!(st.cold_starts, 3);
}

#[test]
fn a_retrying_provider_runs_a_late_init_again_within_the_function_timeout() {
    let mut sc = base();
    sc.platform.provider = crate::provider::load("lambda").unwrap();
    sc.platform.ready_timeout = 10 * S;
    sc.functions[0].startup = Dist::Fixed(15 * S);
    sc.workloads.push(once(0));
    let (st, sink) = run(&sc);
    // pull 10 s, init from 10 s misses its 10 s limit at 20 s, runs again for 15 s: ready at
    // 35 s, the request ends at 36 s; the start-up meter holds both inits (25 s)
    assert_eq!((st.completed, st.failed, st.not_started), (1, 0, 0));
    assert_eq!(st.latency_sum_us, 36 * S as u128);
    assert_eq!(st.usage().gbs(Phase::Startup), 25.0);
    assert_eq!(sink.requests[0].5, Outcome::Ok);
    // an init longer than the function's timeout fails on the retry too
    sc.functions[0].startup = Dist::Fixed(700 * S);
    let (st, _) = run(&sc);
    assert_eq!((st.completed, st.failed, st.not_started), (0, 1, 1));
    // FC's rule: no retry, the instance fails at its 10 s limit
    sc.platform.provider = crate::provider::load("fc").unwrap();
    sc.functions[0].startup = Dist::Fixed(15 * S);
    let (st, _) = run(&sc);
    assert_eq!((st.completed, st.not_started), (0, 1));
}

/// Run `sc` with a small same-instant guard, so a model loop shows as an error, not a hang.
fn run_guarded(sc: &Scenario) -> Result<FnStats, engine::Stall> {
    let mut sink = VecSink::default();
    let mut queue = EventQueue::new();
    let mut p = super::Platform::new(sc, 0, &mut sink, &Meters::default());
    p.start(&mut queue);
    let events = engine::run(&mut p, &mut queue, sc.simulation.horizon, 100_000, |_| {})?;
    let r = p.finish(queue, 0, events);
    Ok(r.functions.into_iter().next().unwrap().1)
}

#[test]
fn a_zero_cache_ttl_lets_every_pull_complete() {
    // the layer just extracted is in use by the pull that waits for it: it stays until the
    // instance goes, then leaves at once
    let mut sc = base();
    sc.platform.cache_ttl = 0;
    sc.functions[0].keep_alive = 0;
    sc.workloads.push(once(0));
    sc.workloads.push(once(100 * S));
    let (st, _) = run(&sc);
    assert_eq!((st.completed, st.not_started, st.failed), (2, 0, 0));
    assert_eq!((st.pulls, st.cache_hits), (2, 0), "the layer left when its only user went");
    assert_eq!(st.pull_us, 2 * 10 * S as u128);
}

#[test]
fn zero_byte_layers_with_no_overheads_and_a_zero_ttl_pull_at_once() {
    let mut sc = base();
    sc.platform.cache_ttl = 0;
    sc.images[0].layers =
        (0..3).map(|i| Layer { id: format!("img#{i}"), compressed: 0, uncompressed: 0, files: 0 }).collect();
    sc.workloads.push(once(0));
    let st = run_guarded(&sc).expect("no loop at one instant");
    assert_eq!((st.completed, st.pulls, st.pull_us), (1, 1, 0));
}

#[test]
fn the_start_limit_times_the_start_after_pull_and_create() {
    // pull 10 s + create 5 s + startup 115 s = 130 s: over 120 s counted from creation, but the
    // server starts 115 s after the container does, within FC's 120 s
    let mut sc = base();
    sc.platform.container_create = Dist::Fixed(5 * S);
    sc.functions[0].startup = Dist::Fixed(115 * S);
    sc.workloads.push(once(0));
    let (st, _) = run(&sc);
    assert_eq!((st.completed, st.not_started), (1, 0));
    assert_eq!(st.latency_sum_us, 131 * S as u128);
}

/// Issue 11 item 3: a reserved instance marked to leave while busy must not take new
/// requests, and goes as soon as the ones it runs end — even under steady load.
#[test]
fn a_reserved_scale_down_drains_under_load() {
    let mut sc = base();
    sc.functions[0].concurrency = 4;
    // about 6.7 requests in flight: both reserved instances stay busy all the time
    sc.workloads.push(Workload {
        function: 0,
        arrivals: Arrivals::Constant { interval: 150_000 },
        from: 0,
        until: 1000 * S,
    });
    sc.functions[0].reserved =
        Reserved::Daily(vec![ReservedStep { at: 0, count: 2 }, ReservedStep { at: 100 * S, count: 1 }]);
    let (_, sink) = run(&sc);
    let gone: Vec<_> = sink.instances.iter().filter(|r| r.4 == "scale_down").collect();
    assert_eq!(gone.len(), 1, "one reserved instance leaves at the 100 s step");
    // its requests in flight at 100 s end by 101 s (1 s each); it takes no new one
    assert!(gone[0].3.is_some_and(|t| (100 * S..=101 * S).contains(&t)), "ended at {:?}", gone[0].3);
}

/// Issue 11 item 2: a reserved step that finds no room is retried when memory frees on a
/// host (here: another function's instance reclaimed), and the instance·seconds it was
/// short are counted.
#[test]
fn a_reserved_step_without_room_is_met_when_memory_frees() {
    let mut sc = base();
    sc.platform.host_memory_mb = 2048;
    let mut b = sc.functions[0].clone();
    b.name = "b".into();
    sc.functions.push(b);
    // b's instance: created at 0, pulls 10 s, runs 1 s, kept 60 s → released at 71 s
    sc.workloads.push(Workload { function: 1, ..once(0) });
    // a wants 2 reserved from 5 s; only one fits until b's instance goes
    sc.functions[0].reserved =
        Reserved::Daily(vec![ReservedStep { at: 0, count: 0 }, ReservedStep { at: 5 * S, count: 2 }]);
    let mut sink = VecSink::default();
    let r = simulate(&sc, 0, &mut sink, &Meters::default(), |_| {}).unwrap();
    let a = &r.functions[0].1;
    assert_eq!(a.instances_created, 2);
    assert_eq!(a.reserved_shortfall_us, 66 * S as u128);
}

/// Issue 11 item 7: `simulation.warmup` leaves the first stretch out of the statistics and
/// the meters: the cold request at 0 s is not counted, the instance's time is metered from
/// the warmup on, and a request that arrives after it is counted in full.
#[test]
fn the_warmup_is_left_out_of_statistics_and_meters() {
    let mut sc = base();
    sc.functions[0].keep_alive = 600 * S;
    sc.simulation.warmup = 50 * S;
    sc.workloads.push(once(0));
    sc.workloads.push(once(100 * S));
    let (st, _) = run(&sc);
    assert_eq!((st.requests, st.completed, st.cold_starts), (1, 1, 0));
    assert_eq!((st.pulls, st.pull_us, st.instances_created), (0, 0, 0));
    assert_eq!(st.latency_sum_us, S as u128);
    // live from 50 s until its keep-alive ends at 701 s: 1 s busy, 650 s idle, no pull
    assert_eq!(st.usage().inst_us[Phase::Busy.index()], S as u128);
    assert_eq!(st.usage().inst_us[Phase::IdleKeepalive.index()], 650 * S as u128);
    assert_eq!(st.usage().inst_us[Phase::Pull.index()], 0);
    assert_eq!(st.live_area, 651 * S as u128);
}

/// Found by the audit: the time series is kept whole across the warmup, yet a request
/// cold-served before it was left out of its `started` (dispatched ones were counted).
#[test]
fn the_time_series_counts_a_start_cold_served_before_the_warmup() {
    let mut sc = base();
    sc.simulation.warmup = 50 * S;
    sc.functions[0].cold_service = Some(Dist::Fixed(2 * S));
    sc.workloads.push(once(10 * S));
    sc.workloads.push(once(100 * S));
    let (st, sink) = run(&sc);
    let started: u64 = sink.buckets.iter().map(|b| b.started[0] + b.started[1]).sum();
    assert_eq!(started, 2, "both starts are in the time series");
    assert_eq!(st.started, 1, "only the one after the warmup is in the statistics");
}

#[test]
fn a_reserved_instance_that_cannot_start_in_time_is_retried_with_a_backoff_not_at_once() {
    let mut sc = base();
    sc.simulation.warm_start = false;
    sc.simulation.horizon = 3600 * S;
    sc.platform.ready_timeout = 1;
    sc.functions[0].startup = Dist::Fixed(S);
    sc.functions[0].reserved = Reserved::Fixed(1);
    let (st, sink) = run(&sc);
    // the first start (after the 10 s pull) fails at 10 s; waits of 10, 20, 40, 80, 160 s,
    // then 300 s each: failures at about 10, 20, 40, 80, 160, 320, 620, 920, …, 3320 s
    assert_eq!((st.instances_created, st.not_started), (16, 16));
    assert_eq!(sink.instances.len(), 16);
    // one that starts resets the count: with a limit it meets, one instance all along
    sc.platform.ready_timeout = 120 * S;
    let (st, _) = run(&sc);
    assert_eq!((st.instances_created, st.not_started), (1, 0));
}

/// Three hosts (one instance each) pull one 1 GB layer at t = 0, no overheads, nothing to
/// extract: the pull times, sorted, and the downloads by source.
fn three_pulls(distribution: Distribution, registry_bandwidth: f64) -> (Vec<u64>, Downloads) {
    let mut sc = base();
    sc.simulation.warm_start = false;
    sc.platform.hosts = 3;
    sc.platform.host_memory_mb = 1024;
    sc.platform.pull.distribution = distribution;
    sc.platform.pull.registry_bandwidth = registry_bandwidth;
    sc.images[0].layers[0] = Layer { id: "img#0".into(), compressed: 1_000_000_000, uncompressed: 0, files: 0 };
    sc.workloads = vec![once(0), once(0), once(0)];
    let mut sink = VecSink::default();
    let r = simulate(&sc, 0, &mut sink, &Meters::default(), |_| {}).unwrap();
    let mut pulls: Vec<u64> = sink.instances.iter().map(|i| i.2[Phase::Pull.index()]).collect();
    pulls.sort_unstable();
    (pulls, r.downloads)
}

#[test]
fn p2p_reads_the_registry_once_and_children_share_their_parents_uplink() {
    let p2p = Distribution::P2p { fanout: 2 };
    // 5 Gbps hosts (625 MB/s). The root reads the registry at its link's 625 MB/s: 1.6 s; its
    // two children share its uplink, 312.5 MB/s each: 3.2 s (their bytes never wait on it:
    // the root is ahead all along).
    let (pulls, downloads) = three_pulls(p2p, 625e6);
    assert_eq!(pulls, vec![1_600_000, 3_200_000, 3_200_000]);
    assert_eq!(downloads, Downloads { registry: 1, peers: 2 });
    // the same three from a 5 Gbps registry: 208 MB/s each, 4.8 s
    let (pulls, downloads) = three_pulls(Distribution::Registry, 625e6);
    assert_eq!(pulls, vec![4_800_000; 3]);
    assert_eq!(downloads, Downloads { registry: 3, peers: 0 });
    // an ample registry gives every host its whole link: there p2p is the slower (the
    // children's halved uplink share) — p2p pays where the registry is the bottleneck
    assert_eq!(three_pulls(Distribution::Registry, 1e12).0, vec![1_600_000; 3]);
    assert_eq!(three_pulls(p2p, 1e12).0, vec![1_600_000, 3_200_000, 3_200_000]);
}

#[test]
fn a_chain_streams_each_child_ends_with_its_parent() {
    // fanout 1: 0 → 1 → 2, each at the whole 625 MB/s of its link; the root reads a registry
    // of 100 MB/s (10 s), its descendants' bytes all move sooner (1.6 s) but they cannot have
    // the whole layer before it: all three end at 10 s
    let (pulls, downloads) = three_pulls(Distribution::P2p { fanout: 1 }, 100e6);
    assert_eq!(pulls, vec![10_000_000; 3]);
    assert_eq!(downloads, Downloads { registry: 1, peers: 2 });
}

#[test]
fn a_fleet_of_256_functions_keeps_2_digit_latency_histograms_and_a_smaller_one_3() {
    for (n, digits) in [(255, 3), (256, 2)] {
        let mut sc = base();
        let f = sc.functions[0].clone();
        sc.functions = (0..n).map(|k| Function { name: format!("f{k}"), ..f.clone() }).collect();
        sc.workloads = (0..n).map(|k| Workload { function: k, ..once(S * (1 + k as u64)) }).collect();
        let r = simulate(&sc, 0, &mut NullSink, &Meters::default(), |_| {}).unwrap();
        assert_eq!(r.functions.len(), n);
        for (_, st) in &r.functions {
            assert_eq!((st.requests, st.completed), (1, 1));
            assert_eq!(st.latency.digits(), digits, "{n} functions");
        }
    }
}

#[test]
fn arrivals_made_on_a_helper_thread_give_the_same_run() {
    // synthetic streams of several functions, and a trace whose one stream names 500
    for (file, horizon) in
        [("quickstart.toml", "6h"), ("providers-compare.toml", "2h"), ("azure2019-sample.toml", "20min")]
    {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
        let sc = crate::scenario::load(&path, &[format!("simulation.horizon={horizon}")]).unwrap();
        let meters = crate::billing::meters(&sc.platform.sheet);
        let go = |maker| {
            let mut sink = VecSink { keep_requests: true, ..Default::default() };
            let r = simulate_with(&sc, 0, &mut sink, &meters, maker, |_| {}).unwrap();
            (r.events, format!("{:?}{:?}", r.functions, r.downloads), sink)
        };
        let (same, helper) = (go(Maker::Same), go(Maker::Helper));
        assert!(same.2.requests.len() > 2000, "{file}: {} requests", same.2.requests.len());
        assert_eq!(same.0, helper.0, "{file}: events");
        assert!(same.1 == helper.1, "{file}: statistics differ");
        assert!(format!("{:?}", same.2) == format!("{:?}", helper.2), "{file}: rows differ");
    }
}
