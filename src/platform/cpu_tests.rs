//! Runs of the platform with contention (see `cpu_share`): hand-worked times, the
//! processor-sharing closed forms (M/M/1-PS and its insensitivity), and the metamorphic rule
//! that without CPU work concurrency changes no execution.

use super::tests::{base, once};
use super::*;
use crate::scenario::{Arrivals, CpuUse, Dist, Reserved, Workload};
use crate::units::MICROS_PER_SECOND as S;
use crate::usage::{Meters, Phase};

const MS: Micros = 1000;

fn run(sc: &Scenario, replication: u32) -> (FnStats, VecSink) {
    let mut sink = VecSink { keep_requests: true, ..Default::default() };
    let r = simulate(sc, replication, &mut sink, &Meters::default(), |_| {}).unwrap();
    (r.functions.into_iter().next().unwrap().1, sink)
}

/// One warm instance that takes every request at once (1 vCPU, reserved, no cold starts).
fn one_instance(concurrency: u32, fraction: f64) -> Scenario {
    let mut sc = base();
    let f = &mut sc.functions[0];
    f.concurrency = concurrency;
    f.max_instances = 1;
    f.reserved = Reserved::Fixed(1);
    f.cpu = CpuUse { fraction, ..CpuUse::none(1000) };
    sc
}

/// (arrival, end − start) of each request that ended, by arrival.
fn runs(sink: &VecSink) -> Vec<(Micros, Micros)> {
    let mut v: Vec<_> = sink.requests.iter().filter_map(|r| Some((r.1, r.3? - r.2?))).collect();
    v.sort();
    v
}

#[test]
fn two_requests_share_one_vcpu_and_their_waits_are_not_slowed() {
    // exec 1 s, half CPU: 0.5 s of work, then 0.5 s of wait. A at 0, B at 0.25 s.
    // A alone until 0.25 s (0.25 s of work left), then both at half speed: A's work ends at
    // 0.75 s, its wait at 1.25 s; B did 0.25 s by then, its last 0.25 s alone ends at 1 s,
    // its wait at 1.5 s (run 1.25 s).
    let mut sc = one_instance(2, 0.5);
    sc.workloads = vec![once(0), once(S / 4)];
    let (st, sink) = run(&sc, 0);
    assert_eq!(runs(&sink), vec![(0, 1250 * MS), (S / 4, 1250 * MS)]);
    assert_eq!(st.completed, 2);
    // busy from 0 to 1.5 s: meters follow the stretched executions
    assert_eq!(st.usage().inst_us[Phase::Busy.index()], 1500 * MS as u128);
}

#[test]
fn more_vcpus_speed_up_the_cpu_part_only_up_to_the_threads() {
    // exec 1 s measured on 1 vCPU, all CPU; on 2 vCPU it takes 0.5 s with 2 threads, 1 s with 1
    let mut sc = one_instance(1, 1.0);
    sc.functions[0].milli_vcpu = 2000;
    sc.functions[0].cpu = CpuUse { fraction: 1.0, threads: 2, exec_milli_vcpu: 1000 };
    sc.workloads = vec![once(0)];
    assert_eq!(runs(&run(&sc, 0).1), vec![(0, S / 2)]);
    sc.functions[0].cpu.threads = 1;
    assert_eq!(runs(&run(&sc, 0).1), vec![(0, S)]);
    // measured where it runs (the default): `exec` as given
    sc.functions[0].cpu = CpuUse { fraction: 1.0, threads: 2, exec_milli_vcpu: 2000 };
    assert_eq!(runs(&run(&sc, 0).1), vec![(0, S)]);
}

#[test]
fn the_timeout_cuts_a_request_stretched_past_it() {
    // two 1 s CPU-bound requests at 0 on 1 vCPU would both end at 2 s; the timeout is 1.5 s
    let mut sc = one_instance(2, 1.0);
    sc.functions[0].timeout = 1500 * MS;
    sc.workloads = vec![once(0), once(0)];
    let (st, sink) = run(&sc, 0);
    assert_eq!((st.completed, st.failed), (0, 2));
    assert!(sink.requests.iter().all(|r| r.3 == Some(1500 * MS)));
    // half CPU: the work ends at 1 s, the 0.5 s wait would end at 1.5 s = the timeout: ok
    sc.functions[0].cpu.fraction = 0.5;
    sc.functions[0].exec = Dist::Fixed(1000 * MS);
    let (st, _) = run(&sc, 0);
    assert_eq!((st.completed, st.failed), (2, 0));
    // a 1 ms longer wait fails at the timeout
    sc.functions[0].exec = Dist::Fixed(1001 * MS);
    sc.functions[0].cpu.fraction = 500.0 / 1001.0;
    let (st, sink) = run(&sc, 0);
    assert_eq!((st.completed, st.failed), (0, 2));
    assert!(sink.requests.iter().all(|r| r.3 == Some(1500 * MS)));
}

/// Poisson arrivals at `rate` for `horizon` on `sc`'s one instance.
fn poisson(sc: &mut Scenario, rate: f64, horizon: Micros) {
    sc.simulation.horizon = horizon;
    sc.simulation.warmup = 100 * S;
    sc.workloads = vec![Workload { function: 0, arrivals: Arrivals::Poisson { rate }, from: 0, until: horizon }];
}

/// Mean latency over `reps` replications and its 95% half-width (t over replications).
fn mean_latency(sc: &Scenario, reps: u32) -> (f64, f64) {
    let means: Vec<f64> = (0..reps)
        .map(|r| {
            let mut sink = NullSink;
            let st = simulate(sc, r, &mut sink, &Meters::default(), |_| {}).unwrap().functions.remove(0).1;
            assert_eq!(st.failed + st.throttled + st.queue_timeouts, 0);
            st.latency_sum_us as f64 / st.completed as f64
        })
        .collect();
    let n = reps as f64;
    let m = means.iter().sum::<f64>() / n;
    let var = means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    // t(0.975, 7) = 2.365
    (m, 2.365 * (var / n).sqrt())
}

/// M/G/1-PS: one instance, unbounded concurrency, fully CPU-bound work on 1 vCPU. Mean
/// latency is E[S]/(1−ρ) whatever the service distribution (insensitivity).
fn assert_ps_mean(exec: Dist) {
    let mean_s = exec.mean();
    let rate = 5.0; // per second; ρ = 5 × 0.1 s = 0.5
    let rho = rate * mean_s / 1e6;
    let mut sc = one_instance(100_000, 1.0);
    sc.functions[0].exec = exec.clone();
    poisson(&mut sc, rate, 40_000 * S);
    let (m, hw) = mean_latency(&sc, 8);
    let want = mean_s / (1.0 - rho);
    assert!((m - want).abs() <= hw.max(1.0), "{exec:?}: mean latency {m:.0} µs ± {hw:.0}, M/G/1-PS gives {want:.0}");
    // and it is far from the unshared mean E[S]
    assert!((m - mean_s).abs() > 10.0 * hw, "{m} vs {mean_s}");
}

#[test]
fn exponential_cpu_work_on_one_vcpu_is_m_m_1_ps() {
    assert_ps_mean(Dist::Exp { mean: 100 * MS });
}

#[test]
fn processor_sharing_is_insensitive_to_the_service_distribution() {
    assert_ps_mean(Dist::Fixed(100 * MS));
    // lognormal with mean 100 ms (σ = 1)
    assert_ps_mean(Dist::LogNormal { mu: (0.1f64).ln() - 0.5, sigma: 1.0 });
}

#[test]
fn without_cpu_work_concurrency_changes_no_execution() {
    let setup = |concurrency: u32, fraction: f64| {
        let mut sc = one_instance(concurrency, fraction);
        sc.functions[0].reserved = Reserved::Fixed(0);
        sc.functions[0].max_instances = 100;
        sc.functions[0].exec = Dist::Exp { mean: 200 * MS };
        // no pull: cold starts are instant, so no request is turned away
        sc.images[0].layers[0].uncompressed = 0;
        poisson(&mut sc, 20.0, 2000 * S);
        sc.simulation.warmup = 0;
        runs(&run(&sc, 0).1)
    };
    let alone = setup(1, 0.0);
    assert!(alone.len() > 30_000);
    assert_eq!(setup(50, 0.0), alone);
    // with CPU work, sharing stretches them
    let shared = setup(50, 1.0);
    // (a few hundred are still in flight at the horizon)
    assert!(shared.len() + 1000 > alone.len(), "{} vs {}", shared.len(), alone.len());
    let total = |v: &[(Micros, Micros)]| v.iter().map(|r| r.1 as u128).sum::<u128>();
    assert!(total(&shared) > total(&alone) * 5 / 4, "{} vs {}", total(&shared), total(&alone));
}
