//! GPU functions and instances that never start, billed by hand: FC's per-card CU factors
//! (Tesla 2.1 / 0.5, Ada 1.5 / 0.25 per GPU GB·s), idle mode of reserved GPU instances, no
//! hourly minimum and no billed keep-alive tail for GPU functions, and `never_started`
//! billed or free on every built-in sheet. The runs are `super::tests::base()`: a 1 GB /
//! 1 vCPU / 512 MB-disk function whose image takes exactly 10 s to pull, 1 s requests.

use super::tests::{base, once};
use super::{simulate, NullSink, RunResult};
use crate::billing::model::Sheet;
use crate::billing::{bill, bucket_cost, instance_cost, meters, sheet, Bill};
use crate::scenario::{Dist, Gpu, Reserved, Scenario};
use crate::units::MICROS_PER_SECOND as S;

/// CNY per CU in fc3's first tier.
const CNY_PER_CU: f64 = 0.00011;

fn run(sc: &Scenario, sheet: &Sheet, hourly: bool) -> (RunResult, Bill) {
    let m = meters(sheet);
    let m = if hourly { m } else { m.without_hourly() };
    let r = simulate(sc, 0, &mut NullSink, &m, |_| {}).unwrap();
    let b = bill(sheet, &r.usage());
    (r, b)
}

fn gpu(kind: &str, gb: u64, idle_mode: bool) -> Option<Gpu> {
    Some(Gpu { kind: kind.into(), memory_mb: gb * 1024, idle_mode })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

fn cu(b: &Bill) -> f64 {
    b.cu.expect("a CU sheet")
}

fn line<'a>(b: &'a Bill, item: &str) -> &'a crate::billing::Line {
    b.lines.iter().find(|l| l.item == item).unwrap_or_else(|| panic!("no line {item}"))
}

/// One request at 0 on a 16 GB GPU function: pull 10 s, busy 1 s, 60 s keep-alive (not
/// billed for a GPU function). By hand, CU: vCPU 11 × 1 + memory 11 × 0.15 + disk 11 × 0.5 ×
/// 0.05 + GPU 11 s × 16 GB × factor + 1 invocation × 0.0075 = 12.9325 + 176 × factor.
#[test]
fn a_tesla_and_an_ada_function_with_the_same_usage_are_billed_at_their_own_cu_factors() {
    let fc3 = sheet::load("fc3").unwrap();
    let mut by_kind = Vec::new();
    for (kind, active) in [("tesla", 2.1), ("ada", 1.5)] {
        let mut sc = base();
        sc.functions[0].gpu = gpu(kind, 16, false);
        sc.workloads.push(once(0));
        let (_, b) = run(&sc, &fc3, true);
        let expect = 12.9325 + 176.0 * active;
        assert!(close(cu(&b), expect), "{kind}: {} CU, by hand {expect}", cu(&b));
        assert!(close(b.total, expect * CNY_PER_CU), "{kind}: {}", b.total);
        let l = line(&b, "GPU active (on-demand)");
        assert_eq!((l.quantity, l.rate), (176.0, active), "{kind}");
        assert!(close(l.cu.unwrap(), 176.0 * active));
        assert_eq!(line(&b, "GPU idle (on-demand)").quantity, 0.0, "no billed keep-alive tail");
        assert_eq!(line(&b, "Memory idle (on-demand)").quantity, 0.0, "no billed keep-alive tail");
        by_kind.push(b.total);
    }
    // same usage, different card: the difference is the GPU line alone
    assert!(close(by_kind[0] - by_kind[1], 176.0 * (2.1 - 1.5) * CNY_PER_CU));
}

/// Both cards in one run: each function pays its own card's rate on the shared line, and
/// the line shows the mean rate by quantity.
#[test]
fn a_tesla_and_an_ada_function_in_one_run_share_a_line_by_their_own_rates() {
    let fc3 = sheet::load("fc3").unwrap();
    let mut sc = base();
    sc.functions[0].gpu = gpu("tesla", 16, false);
    let mut ada = sc.functions[0].clone();
    ada.name = "ada".into();
    ada.gpu = gpu("ada", 16, false);
    sc.functions.push(ada);
    sc.platform.hosts = 2;
    sc.workloads.push(once(0));
    let mut w = once(500 * S);
    w.function = 1;
    sc.workloads.push(w);
    let (r, b) = run(&sc, &fc3, false);
    let l = line(&b, "GPU active (on-demand)");
    // the Ada function's start finds the image cached or not; its GPU time is its own pull + 1 s
    let secs = |f: usize| {
        let st = &r.functions[f].1;
        let us = st.usage().inst_us[0] + st.usage().inst_us[3];
        (us as f64 / 1e6).ceil()
    };
    let (t, a) = (secs(0) * 16.0, secs(1) * 16.0);
    assert_eq!(l.quantity, t + a);
    assert!(close(l.cu.unwrap(), t * 2.1 + a * 1.5));
    assert!(close(l.rate, (t * 2.1 + a * 1.5) / (t + a)));
    let gpu_cu = |f: usize| b.functions[f].cu;
    assert!(gpu_cu(0) > gpu_cu(1), "the Tesla function costs more");
}

/// A reserved 16 GB Ada instance idle for the whole 1000 s horizon. Idle mode on: memory
/// 1000 × 0.15 + disk 1000 × 0.5 × 0.05 + GPU 16,000 GB·s × 0.25 = 4175 CU. Off (the
/// default): at the active rates, vCPU 1000 × 1 + 150 + 25 + 16,000 × 1.5 = 25,175 CU.
/// Tesla: 8175 and 34,775 CU.
#[test]
fn a_reserved_gpu_instance_idles_at_the_idle_rates_only_with_idle_mode_on() {
    let fc3 = sheet::load("fc3").unwrap();
    for (kind, on, off) in [("ada", 4175.0, 25_175.0), ("tesla", 8175.0, 34_775.0)] {
        for (idle_mode, expect) in [(true, on), (false, off)] {
            let mut sc = base();
            sc.functions[0].gpu = gpu(kind, 16, idle_mode);
            sc.functions[0].reserved = Reserved::Fixed(1);
            let (r, b) = run(&sc, &fc3, true);
            assert_eq!(r.functions[0].1.usage().inst_us[5], 1000 * S as u128, "idle reserved all along");
            assert!(close(cu(&b), expect), "{kind} idle mode {idle_mode}: {} CU, by hand {expect}", cu(&b));
            assert!(close(b.total, expect * CNY_PER_CU));
            let (idle, active) = (line(&b, "GPU idle (reserved)"), line(&b, "GPU active (reserved)"));
            let (i, a) = if idle_mode { (16_000.0, 0.0) } else { (0.0, 16_000.0) };
            assert_eq!((idle.quantity, active.quantity), (i, a));
        }
    }
    // a CPU function's reserved idle time is always at the idle rates: 150 + 25 CU
    let mut sc = base();
    sc.functions[0].reserved = Reserved::Fixed(1);
    let (_, b) = run(&sc, &fc3, true);
    assert!(close(cu(&b), 175.0), "{}", cu(&b));
}

/// A CPU function (request at 0) and a 1 GB Ada function (request at 3700 s, in the next
/// clock hour) in one run. CPU, CU: 11 + 1.65 + 0.275 active, keep-alive tail 60 × 0.15 +
/// 60 × 0.5 × 0.05 = 10.5, invocation 0.0075: 23.4325 CU = CNY 0.002577575, topped up to
/// CNY 0.01. GPU: 12.9325 + 11 × 1.5 = 29.4325 CU = CNY 0.003237575, no tail, no top-up.
#[test]
fn a_gpu_function_has_no_hourly_minimum_and_no_billed_tail_where_a_cpu_function_has_both() {
    let fc3 = sheet::load("fc3").unwrap();
    let mut sc = base();
    sc.simulation.horizon = 7200 * S;
    let mut g = sc.functions[0].clone();
    g.name = "g".into();
    g.gpu = gpu("ada", 1, false);
    g.image = 1;
    sc.functions.push(g);
    let mut img = sc.images[0].clone();
    img.name = "img2".into();
    img.layers[0].id = "img2#0".into();
    sc.images.push(img);
    sc.workloads.push(once(0));
    let mut w = once(3700 * S);
    w.function = 1;
    sc.workloads.push(w);
    let (r, b) = run(&sc, &fc3, true);
    let (cpu, gpu) = (&b.functions[0], &b.functions[1]);
    assert!(close(cpu.cu, 23.4325), "{}", cpu.cu);
    assert!(close(gpu.cu, 29.4325), "{}", gpu.cu);
    assert!(close(cpu.minimum, 0.01 - 23.4325 * CNY_PER_CU), "{}", cpu.minimum);
    assert_eq!(gpu.minimum, 0.0);
    assert_eq!(b.minimum_hours, 1);
    // both instances waited out their 60 s keep-alive; only the CPU one's is billed
    for (f, tail_cu) in [(0, 10.5), (1, 0.0)] {
        let st = &r.functions[f].1;
        assert_eq!(st.usage().inst_us[4], 60 * S as u128);
        let tail = b.functions[f].by_phase[4] / CNY_PER_CU;
        assert!(close(tail, tail_cu) || tail == tail_cu, "function {f}: tail {tail} CU");
    }
    assert!(close(b.total, 0.01 + 29.4325 * CNY_PER_CU), "{}", b.total);
    // the first-tier slices price the GPU function at its card's rate and phases too
    let spec = sc.functions[1].spec();
    let mut times = [0; 6];
    times[0] = 10 * S;
    times[3] = S;
    times[4] = 60 * S;
    assert!(close(instance_cost(&fc3, &spec, false, false, &times), 29.4325 * CNY_PER_CU - 0.0075 * CNY_PER_CU));
    let mut row: super::stats::BucketRow = Default::default();
    super::stats::add_row_time(&mut row, &[times.map(|t| t as u128), [0; 6]], &spec);
    let c = bucket_cost(&fc3, &row.usage, &row.gpu, [0, 0]);
    assert!(close(c, (29.4325 - 0.0075) * CNY_PER_CU), "{c}");
}

/// One request whose instance starts up for 200 s: it misses the 120 s limit after a 10 s
/// pull and is released as not started. On fc3 it is billed 130 s of pull and start-up
/// (130 + 19.5 + 3.25 = 152.75 CU) under "bill", nothing under "free"; on every built-in
/// sheet, "free" bills no quantity at all for it and "bill" bills what the sheet's phases say.
#[test]
fn instances_that_never_start_are_billed_or_free_as_the_sheet_says_on_every_sheet() {
    let mut sc = base();
    sc.functions[0].startup = Dist::Fixed(200 * S);
    sc.workloads.push(once(0));
    for (name, text) in sheet::BUILTIN {
        let billed = sheet::load(name).unwrap();
        assert_eq!(billed.never_started, crate::billing::model::NeverStartedBilling::Bill, "{name}");
        let flipped = text.replacen("\nnever_started = \"bill\"", "\nnever_started = \"free\"", 1);
        assert_ne!(*text, flipped, "{name} states never_started");
        let free = sheet::parse_str(&flipped, name, name).unwrap();
        let (r, b) = run(&sc, &billed, false);
        assert_eq!(r.functions[0].1.not_started, 1);
        let (_, f) = run(&sc, &free, false);
        assert!(f.lines.iter().all(|l| l.quantity == 0.0 && l.amount == 0.0), "{name}: {:?}", f.lines);
        assert_eq!(f.total, 0.0, "{name}");
        let times = {
            let mut t = [0; 6];
            t[0] = 10 * S;
            t[2] = 120 * S;
            t
        };
        let spec = sc.functions[0].spec();
        assert_eq!(instance_cost(&free, &spec, false, true, &times), 0.0, "{name}");
        assert_eq!(
            instance_cost(&free, &spec, false, false, &times),
            instance_cost(&billed, &spec, false, true, &times)
        );
        if *name == "fc3" {
            assert!(close(cu(&b), 152.75), "{}", cu(&b));
            assert!(close(b.total, 152.75 * CNY_PER_CU));
        }
        if *name == "fc2" {
            // 130 GB·s at CNY 0.000110592
            assert!(close(b.total, 130.0 * 0.000110592), "{}", b.total);
        }
    }
}

/// Free never-started instances leave the rest of the bill as it was: a failed start next to
/// a served request bills exactly the served instance.
#[test]
fn a_free_never_started_instance_leaves_the_other_instances_bill_alone() {
    let fc3 = sheet::load("fc3").unwrap();
    let text = sheet::BUILTIN.iter().find(|(n, _)| *n == "fc3").unwrap().1;
    let free =
        sheet::parse_str(&text.replacen("\nnever_started = \"bill\"", "\nnever_started = \"free\"", 1), "f", "f")
            .unwrap();
    // the served run alone
    let mut ok = base();
    ok.workloads.push(once(0));
    let (_, alone) = run(&ok, &fc3, false);
    // the same, then a function whose start fails on a second host
    let mut both = ok.clone();
    let mut bad = both.functions[0].clone();
    bad.name = "bad".into();
    bad.startup = Dist::Fixed(200 * S);
    both.functions.push(bad);
    let mut w = once(0);
    w.function = 1;
    both.workloads.push(w);
    let (_, b) = run(&both, &free, false);
    assert!(close(cu(&b), cu(&alone)), "{} vs {}", cu(&b), cu(&alone));
    assert_eq!(b.functions[1].total, 0.0);
}
