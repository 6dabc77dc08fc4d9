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
    let r = simulate(&sc, 0, &mut NullSink, &Meters::default(), |_| {});
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
