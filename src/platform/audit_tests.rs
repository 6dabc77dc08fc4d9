//! The audit over random scenarios (a few dozen in the unit suite, as many as you like with
//! `COLDCOST_AUDIT_CASES=200000 cargo test --release -- --ignored audit`), and each invariant
//! shown to catch a broken state.

use proptest::prelude::*;

use super::*;
use crate::engine::{self, EventQueue};
use crate::platform::scenario_gen::scenario;
use crate::platform::tests::{base, once};
use crate::platform::{simulate, simulate_audited, Failure, NullSink, VecSink};
use crate::scenario::{Dist, Scenario};
use crate::units::MICROS_PER_SECOND as S;
use crate::usage::Meters;

/// Run `sc` audited; on a violation, fail naming it and the seed that makes the scenario.
fn audited(sc: &Scenario, seed: u64) -> RunResult {
    let mut sink = VecSink::default();
    match simulate_audited(sc, 0, &mut sink, &Meters::default(), |_| {}) {
        Ok(r) => r,
        Err(e) => panic!("scenario of seed {seed}: {e}\n{sc:#?}"),
    }
}

/// The audit reads the model, never changes it: the audited run is the unaudited one.
fn same_as_unaudited(sc: &Scenario, r: &RunResult) {
    let plain = simulate(sc, 0, &mut NullSink, &Meters::default(), |_| {}).expect("no stall");
    assert_eq!(plain.events, r.events);
    for ((_, a), (_, b)) in plain.functions.iter().zip(&r.functions) {
        assert_eq!(
            (a.requests, a.completed, a.cold_starts, a.pulls),
            (b.requests, b.completed, b.cold_starts, b.pulls)
        );
        assert_eq!(a.usage(), b.usage());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Random small scenarios break no invariant and reach their horizon (a stall would be
    /// an error too).
    #[test]
    fn audit_random_scenarios_keep_every_invariant(seed in any::<u64>()) {
        let sc = scenario(seed);
        let r = audited(&sc, seed);
        same_as_unaudited(&sc, &r);
    }
}

/// The long mode: `COLDCOST_AUDIT_CASES` scenarios (default 100,000) from
/// `COLDCOST_AUDIT_SEED` on (default: the clock, printed so a failure can be replayed).
#[test]
#[ignore = "long: run with cargo test --release -- --ignored audit"]
fn audit_long_random_scenarios() {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let cases = env("COLDCOST_AUDIT_CASES").unwrap_or(100_000);
    let first = env("COLDCOST_AUDIT_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    eprintln!("audit: {cases} scenarios from seed {first} (COLDCOST_AUDIT_SEED={first} replays them)");
    for k in 0..cases {
        let seed = first.wrapping_add(k);
        audited(&scenario(seed), seed);
    }
}

/// A platform with its audit on, run to `until`: a test can then break its state.
fn run_to(sc: &Scenario, until: Micros, sink: &mut VecSink, test: impl FnOnce(&mut Platform<'_>)) -> Option<Violation> {
    let meters = Meters::default();
    let mut q = EventQueue::new();
    let mut p = Platform::new(sc, 0, sink, &meters);
    p.audit = Some(Box::new(Audit::new(sc)));
    p.wants_requests = true;
    p.start(&mut q);
    engine::run(&mut Audited(&mut p), &mut q, until, engine::SAME_INSTANT_LIMIT, |_| {}).unwrap();
    assert!(p.audit.as_ref().unwrap().violation().is_none(), "a sound run");
    test(&mut p);
    p.sweep(until);
    p.audit.as_ref().unwrap().violation().cloned()
}

/// One pull of a two-layer image in progress at 5 s (a 10 s pull), with two functions.
fn pulling() -> Scenario {
    let mut sc = base();
    sc.images[0].layers.push(crate::scenario::Layer { id: "img#1".into(), compressed: 0, uncompressed: 0, files: 0 });
    sc.functions[0].startup = Dist::Fixed(S);
    sc.workloads.push(once(0));
    sc
}

fn caught(v: Option<Violation>, invariant: &str, names: &str) {
    let v = v.unwrap_or_else(|| panic!("{invariant} not caught"));
    assert_eq!(v.invariant, invariant, "{v}");
    let line = v.to_string();
    assert!(line.contains(names) && line.contains("t = 5000000 µs") && !line.contains('\n'), "{line}");
}

#[test]
fn memory_taken_without_an_instance_is_caught_naming_the_host() {
    let v = run_to(&pulling(), 5 * S, &mut VecSink::default(), |p| p.hosts[0].mem_free_mb -= 1);
    caught(v, "host memory accounted", "host 0");
}

#[test]
fn a_pinned_layer_that_goes_is_caught_naming_layer_host_and_instance() {
    let v = run_to(&pulling(), 5 * S, &mut VecSink::default(), |p| {
        p.hosts[0].layers.remove(&1);
    });
    caught(v, "no layer evicted while pinned", "layer img#1 on host 0 is gone while instance 0");
}

#[test]
fn a_lost_pin_is_caught() {
    let v = run_to(&pulling(), 5 * S, &mut VecSink::default(), |p| p.hosts[0].layers.get_mut(&0).unwrap().refs -= 1);
    caught(v, "pin counts", "layer img#0 on host 0 has 0 pins, 1 live instances hold it");
}

#[test]
fn a_lost_request_is_caught_naming_the_function() {
    let v = run_to(&pulling(), 5 * S, &mut VecSink::default(), |p| p.insts.items[0].pending.clear());
    caught(v, "requests conserved", "function f: arrived 1 ≠ ended 0");
}

#[test]
fn phase_time_that_leaks_is_caught_naming_the_instance() {
    let v = run_to(&pulling(), 5 * S, &mut VecSink::default(), |p| p.insts.items[0].times[0] += 1);
    caught(v, "phase times add up to the life", "instance 0 of f on host 0");
}

#[test]
fn a_download_of_a_layer_already_there_is_caught() {
    let mut sink = VecSink::default();
    let v = run_to(&pulling(), 5 * S, &mut sink, |p| {
        let mut q = EventQueue::new();
        p.request_download(0, 0, 5 * S, &mut q);
    });
    caught(v, "pulls only of missing layers", "layer img#0 on host 0 is downloaded again while Extracting");
}

#[test]
fn a_link_over_its_capacity_is_caught() {
    let mut sc = pulling();
    sc.images[0].layers[0].compressed = 10_000_000_000;
    let v = run_to(&sc, 5 * S, &mut VecSink::default(), |p| {
        let hosts = p.hosts.len();
        let bw = p.sc.platform.pull.host_bandwidth;
        // the same transfers, on a link with half the bandwidth the audit reads
        p.transfers = {
            let mut t = Transfers::new(hosts, 2.0 * bw, p.sc.platform.pull.registry_bandwidth);
            t.start(5 * S, 0, 0, 1e12);
            t
        };
    });
    caught(v, "bandwidth within capacity", "host 0's link carries");
}

#[test]
fn a_whole_audited_run_stops_at_the_first_violation_with_one_line() {
    // the audit's own books disagree with the model from the first arrival on
    let mut sc = base();
    sc.workloads.push(once(S));
    let meters = Meters::default();
    let mut sink = VecSink::default();
    let mut q = EventQueue::new();
    let mut p = Platform::new(&sc, 0, &mut sink, &meters);
    let mut a = Audit::new(&sc);
    a.arrived[0] = 5;
    p.audit = Some(Box::new(a));
    p.start(&mut q);
    let events = engine::run(&mut Audited(&mut p), &mut q, sc.simulation.horizon, engine::SAME_INSTANT_LIMIT, |_| {});
    assert_eq!(events, Ok(1), "stopped after the event that showed it");
    let v = p.audit.as_ref().unwrap().violation().unwrap();
    let e = Failure::Audit(v.clone()).to_string();
    assert_eq!(e, "audit: requests conserved broken at t = 1000000 µs: function f: arrived 6 ≠ ended 0 + queued 0 + waiting on a start 1 + running 0");
}

#[test]
fn a_peer_serving_more_children_than_it_counts_is_caught() {
    // three hosts pulling one large layer under p2p: at 5 s the root still serves its two
    let mut sc = pulling();
    sc.platform.hosts = 3;
    sc.platform.host_memory_mb = 1024;
    sc.platform.pull.distribution = crate::scenario::Distribution::P2p { fanout: 2 };
    sc.images[0].layers[0].compressed = 10_000_000_000;
    sc.workloads = vec![once(0), once(0), once(0)];
    let v = run_to(&sc, 5 * S, &mut VecSink::default(), |p| {
        let root = (0..3).find(|&h| p.hosts[h].layers[&0].children == 2).expect("a root serving two");
        p.hosts[root].layers.get_mut(&0).unwrap().children = 1;
    });
    caught(v, "a peer serves at most fanout children", "children of layer img#0, serves 2, fanout 2");
}

use crate::platform::pull::Transfers;
