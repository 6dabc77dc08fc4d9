//! Properties of bills over random small runs on every built-in sheet: a longer request never
//! costs less; billed time is never less than busy time; the union rule never bills more than
//! the sum of the requests; one phase switch changes only the lines that count that phase.
//! They simulate runs, so they live with the platform (billing sits below it).

use proptest::prelude::*;

use super::tests::{base, once};
use super::{simulate, NullSink, RunResult};
use crate::billing::model::{self, Sheet};
use crate::billing::{bill, meters, rate_cost, sheet, Bill};
use crate::scenario::{Arrivals, Dist, Scenario, Workload};
use crate::units::MICROS_PER_SECOND as S;
use crate::usage::Phase;

/// A run billed without the hourly minimum (its top-up prices exact usage while the items
/// are rounded, so these properties are about the items).
fn run(sc: &Scenario, sheet: &Sheet) -> (RunResult, Bill) {
    let meters = meters(sheet).without_hourly();
    let r = simulate(sc, 0, &mut NullSink, &meters, |_| {}).unwrap();
    let b = bill(sheet, &r.usage());
    (r, b)
}

fn sheets() -> Vec<Sheet> {
    sheet::BUILTIN.iter().map(|(n, _)| sheet::load(n).expect("built-in sheet")).collect()
}

/// `sheet` with every interval rounding made exact (quantum 1 µs, no minimum).
fn exact_intervals(mut sheet: Sheet) -> Sheet {
    for r in &mut sheet.roundings {
        if r.rule.period == crate::usage::Period::Interval {
            r.rule.quantum = 1;
            r.rule.minimum = 0;
        }
    }
    sheet
}

/// Why the property above makes interval rules exact: on azure-flex (each busy stretch of an
/// instance at least 1 s) two 1 µs requests 0.1 s apart on a warm instance are two stretches,
/// 2 s billed; 0.2 s requests overlap into one stretch of 0.3 s, 1 s billed (plus, either way,
/// the 1 s of the cold request 30 s before, which warmed the instance).
#[test]
fn merged_busy_stretches_bill_one_minimum() {
    let sheet = sheet::load("azure-flex").unwrap();
    let billed = |exec| {
        let (r, _) = run(&scenario(exec, 2, &[0, 30 * S, 100_000]), &sheet);
        let st = &r.functions[0].1;
        let k = sheet.roundings.iter().position(|r| r.name == "execution").unwrap();
        st.billed[k].iter().map(|by_phase| by_phase[Phase::Busy.index()]).sum::<u128>()
    };
    assert_eq!(billed(1), 3 * S as u128);
    assert_eq!(billed(200_000), 2 * S as u128);
}

/// A few requests of `exec` µs with concurrency `conc`, some overlapping, some not.
fn scenario(exec: u64, conc: u32, gaps: &[u64]) -> Scenario {
    let mut sc = base();
    sc.functions[0].exec = Dist::Fixed(exec);
    sc.functions[0].concurrency = conc;
    sc.functions[0].startup = Dist::Fixed(300_000);
    let mut t = 20 * S;
    for g in gaps {
        t += g;
        sc.workloads.push(once(t));
    }
    sc
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Holds for every rule whose periods a longer request cannot merge: per-request and
    /// per-instance rounding, exact intervals. An interval rule with a quantum or minimum is
    /// made exact here: a longer request can join two busy stretches into one and so bill one
    /// minimum instead of two (`merged_busy_stretches_bill_one_minimum` shows it), which is
    /// that rule's meaning, not a fault.
    #[test]
    fn a_longer_request_never_costs_less(
        exec in 1u64..3_000_000, extra in 1u64..2_000_000, conc in 1u32..4,
        gaps in proptest::collection::vec(0u64..4_000_000, 1..6),
    ) {
        for sheet in sheets().into_iter().map(exact_intervals) {
            let (_, short) = run(&scenario(exec, conc, &gaps), &sheet);
            let (_, long) = run(&scenario(exec + extra, conc, &gaps), &sheet);
            prop_assert!(long.total >= short.total - 1e-15, "{}: {} then {}", sheet.name, short.total, long.total);
        }
    }

    #[test]
    fn billed_time_is_never_less_than_busy_time_and_the_union_never_more_than_the_sum(
        exec in 1u64..3_000_000, conc in 1u32..6,
        gaps in proptest::collection::vec(0u64..2_000_000, 1..8),
    ) {
        let sc = scenario(exec, conc, &gaps);
        for sheet in sheets() {
            let (r, _) = run(&sc, &sheet);
            let st = &r.functions[0].1;
            let busy: u128 = st.usage_kind[0].inst_us[Phase::Busy.index()];
            let sum_of_requests = (st.completed + st.failed) as u128 * exec as u128;
            prop_assert!(busy <= sum_of_requests, "union {busy} > sum {sum_of_requests}");
            for (k, rule) in sheet.roundings.iter().enumerate() {
                let billed = st.billed[k][0][Phase::Busy.index()];
                // init added to the first request counts startup time too
                let startup = st.usage_kind[0].inst_us[Phase::Startup.index()];
                prop_assert!(billed + if rule.rule.init_into_first_request { 0 } else { startup } >= busy,
                    "{} rule {}: billed {billed} < busy {busy}", sheet.name, rule.name);
                if rule.rule.period == crate::usage::Period::Interval && rule.rule.quantum == 1 && rule.rule.minimum == 0 {
                    prop_assert!(billed <= sum_of_requests);
                }
            }
        }
    }
}

#[test]
fn turning_one_phase_switch_changes_only_the_lines_that_count_that_phase() {
    let mut sc = scenario(500_000, 2, &[0, 100_000, 5 * S]);
    sc.platform.container_create = Dist::Fixed(200_000);
    let fc3 = sheet::load("fc3").unwrap();
    let text = sheet::BUILTIN.iter().find(|(n, _)| *n == "fc3").unwrap().1;
    let flipped_text = text.replacen("\ncreate = \"none\"", "\ncreate = \"active\"", 1);
    assert_ne!(text, flipped_text, "fc3 has the create switch");
    let flipped = sheet::parse_str(&flipped_text, "fc3-flipped", "fc3-flipped").unwrap();
    let (_, a) = run(&sc, &fc3);
    let (_, b) = run(&sc, &flipped);
    let mut grew = 0;
    for (la, lb) in a.lines.iter().zip(&b.lines) {
        let governed = flipped.items.iter().find(|i| i.name == la.item).is_some_and(|i| {
            i.state == model::State::Active
                && i.resource != model::Resource::Requests
                && i.instances != model::Instances::Reserved
        });
        if governed {
            // lines of a resource the function has (vCPU, memory, disk; not GPU) grow
            assert!(lb.quantity >= la.quantity, "{}", la.item);
            grew += (lb.quantity > la.quantity) as u32;
        } else if la.item != "compute units" {
            assert_eq!(la.quantity, lb.quantity, "{} must not change", la.item);
        }
    }
    assert_eq!(grew, 3, "vCPU, memory and disk active lines grow by the create time");
}

#[test]
fn poisson_traffic_on_fc3_bills_the_pull_once_per_cold_host() {
    // a sanity check of the phase shares: pull cost is memory·vCPU·disk CU of pull time only
    let mut sc = base();
    sc.workloads.push(Workload { function: 0, arrivals: Arrivals::Poisson { rate: 0.02 }, from: 0, until: 1000 * S });
    let sheet = sheet::load("fc3").unwrap();
    let (r, b) = run(&sc, &sheet);
    let st = &r.functions[0].1;
    let pull_s = st.usage().inst_us[Phase::Pull.index()] as f64 / 1e6;
    let per_s = 1.0 + 0.15 * 1.0 + 0.05 * 0.5; // 1 vCPU, 1 GB, 512 MB disk
    let expect = pull_s * per_s * 0.00011;
    assert!((b.functions[0].by_phase[Phase::Pull.index()] - expect).abs() < 1e-12, "{expect}");
}

#[test]
fn the_hourly_minimum_is_summed_by_the_meters_and_carried_by_the_bill() {
    // one request in a 1000 s horizon: one function-hour with activity, far below CNY 0.01
    let sc = scenario(500_000, 1, &[0]);
    let fc3 = sheet::load("fc3").unwrap();
    let r = simulate(&sc, 0, &mut NullSink, &meters(&fc3), |_| {}).unwrap();
    let b = bill(&fc3, &r.usage());
    assert_eq!(b.minimum_hours, 1);
    // the hour is the whole run: its top-up is the minimum less its first-tier cost
    let st = &r.functions[0].1;
    let expect = 0.01 - rate_cost(&fc3, None, &st.usage_kind, st.started_kind);
    assert!(expect > 0.0 && (b.minimum - expect).abs() < 1e-12, "{} vs {expect}", b.minimum);
    assert_eq!(b.functions[0].minimum, b.minimum);
    let line = b.lines.iter().find(|l| l.item.starts_with("minimum charge")).expect("the top-up line");
    assert_eq!((line.quantity, line.amount), (1.0, b.minimum));
    // no minimum on the sheet: no top-up
    let usd = sheet::load("fc3-usd").unwrap();
    let r = simulate(&sc, 0, &mut NullSink, &meters(&usd), |_| {}).unwrap();
    assert_eq!((bill(&usd, &r.usage()).minimum, bill(&usd, &r.usage()).minimum_hours), (0.0, 0));
}
