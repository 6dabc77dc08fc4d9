//! The engine allocates nothing per request once warm: a run ten times longer makes about
//! as many heap allocations as a short one (counted by a global allocator, this thread only).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;

use coldcost::platform::{simulate, NullSink};
use coldcost::scenario;
use coldcost::usage::Meters;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(example: &str, horizon_s: u64) -> (u64, u64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(example);
    let sc = scenario::load(&path, &[format!("simulation.horizon={horizon_s}s")]).expect("example loads");
    let before = ALLOCS.with(|c| c.get());
    let r = simulate(&sc, 0, &mut NullSink, &Meters::default(), |_| {}).unwrap();
    let after = ALLOCS.with(|c| c.get());
    (after - before, r.functions.iter().map(|(_, s)| s.requests).sum())
}

#[test]
fn a_ten_times_longer_run_makes_no_more_allocations_per_request() {
    for example in ["simfaas-readme.toml", "quickstart.toml"] {
        let (short_allocs, short_reqs) = allocations(example, 20_000);
        let (long_allocs, long_reqs) = allocations(example, 200_000);
        assert!(long_reqs > 9 * short_reqs, "{example}: {long_reqs} vs {short_reqs}");
        // growth of containers to their steady size and new instances may add a few; one
        // allocation per request would add ~long_reqs
        let extra = long_allocs.saturating_sub(short_allocs);
        eprintln!("{example}: {short_allocs} allocs / {short_reqs} requests; {long_allocs} / {long_reqs}");
        assert!(
            extra * 1000 < long_reqs,
            "{example}: {short_allocs} allocations for {short_reqs} requests, {long_allocs} for {long_reqs}"
        );
    }
}

/// Allocations and requests of a run of `sc` with `set` overrides.
fn allocations_of(sc: &Path, set: &[String]) -> (u64, u64) {
    let sc = scenario::load(sc, set).expect("scenario loads");
    let before = ALLOCS.with(|c| c.get());
    let r = simulate(&sc, 0, &mut NullSink, &Meters::default(), |_| {}).unwrap();
    let after = ALLOCS.with(|c| c.get());
    (after - before, r.functions.iter().map(|(_, s)| s.requests).sum())
}

#[test]
fn a_trace_ten_times_longer_makes_no_more_allocations_per_request() {
    // a CSV trace of 20 functions, 20 requests a second, 1000 s and 10,000 s long
    let dir = tempfile::tempdir().unwrap();
    for (name, seconds) in [("short.csv", 1_000u64), ("long.csv", 10_000)] {
        let mut text = String::from("timestamp,function,duration_ms\n");
        for k in 0..seconds * 20 {
            text.push_str(&format!("{}.{:02},f{},{}\n", k / 20, k % 20 * 5, k * 7 % 20, 5 + k % 50));
        }
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let toml = "[simulation]\nhorizon = \"3h\"\n[[image]]\nname = \"i\"\nsize = \"10MB\"\n[[function]]\nname = \"t\"\nstartup = \"1s\"\nimage = \"i\"\nconcurrency = 4\n[[workload]]\narrivals = { kind = \"trace\", format = \"csv\", path = \"short.csv\" }\n";
    std::fs::write(dir.path().join("s.toml"), toml).unwrap();
    let sc = dir.path().join("s.toml");
    let (short_allocs, short_reqs) = allocations_of(&sc, &[]);
    // a --set path is relative to the current folder, so name the long trace in full
    let long = format!("workload.0.arrivals.path={}", dir.path().join("long.csv").display());
    let (long_allocs, long_reqs) = allocations_of(&sc, &[long]);
    // and the Azure 2019 sample's 30 busiest functions over 48 and 480 minutes
    let az = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/azure2019-sample.toml");
    let top = "workload.0.arrivals.functions=30".to_string();
    let (az_short_allocs, az_short_reqs) = allocations_of(&az, &[top.clone(), "simulation.horizon=48m".into()]);
    let (az_long_allocs, az_long_reqs) = allocations_of(&az, &[top, "simulation.horizon=480m".into()]);
    for (what, (sa, sr), (la, lr)) in [
        ("csv", (short_allocs, short_reqs), (long_allocs, long_reqs)),
        ("azure2019", (az_short_allocs, az_short_reqs), (az_long_allocs, az_long_reqs)),
    ] {
        eprintln!("{what}: {sa} allocs / {sr} requests; {la} / {lr}");
        assert!(lr > 9 * sr, "{what}: {lr} vs {sr}");
        assert!(la.saturating_sub(sa) * 1000 < lr, "{what}: {sa} allocations for {sr} requests, {la} for {lr}");
    }
}
