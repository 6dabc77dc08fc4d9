//! What a run counts: per-function request outcomes, latency histograms and usage; the
//! per-bucket time series (streamed out as each bucket closes); and the row types a
//! [`Sink`] receives, so the model never does file I/O itself.

use crate::latency::Latency;
use crate::units::Micros;
use crate::usage::{Billed, FnUsage, GpuUse, NeverStarted, Phase, PhaseTimes, RunUsage, Spec, Topups, Usage};

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Throttled,
    /// Function timeout, or its instance never started (FunctionNotStarted).
    Failed,
    QueueTimeout,
    /// Still queued, waiting for a start, or running at the horizon.
    InFlight,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Throttled => "throttled",
            Outcome::Failed => "failed",
            Outcome::QueueTimeout => "queue_timeout",
            Outcome::InFlight => "in_flight",
        }
    }
}

/// Per-function counters of one replication. `repr(C)`: the counters every request updates
/// come first, together (see `FnRt`), the rest after.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct FnStats {
    pub requests: u64,
    /// Requests whose execution started (wait is known).
    pub started: u64,
    /// Requests that started executing on on-demand / reserved instances.
    pub started_kind: [u64; 2],
    pub completed: u64,
    pub failed: u64,
    pub latency_sum_us: u128,
    pub wait_sum_us: u128,
    /// Rounded billed time under each meter rule (same order as `Meters::rules`); with the
    /// per-request counters, since a large fleet prefetches what it points to.
    pub billed: Vec<Billed>,
    pub warm_latency: Latency,
    pub cold_latency: Latency,
    /// Requests that waited for an instance to start.
    pub cold_starts: u64,
    pub throttled: u64,
    pub queue_timeouts: u64,
    /// Requests that entered the queue (waited for a busy instance).
    pub queued: u64,
    pub in_flight: u64,
    pub instances_created: u64,
    /// Instances that failed to become ready within `ready_timeout`.
    pub not_started: u64,
    /// Instance starts that pulled at least one layer / found the whole image cached.
    pub pulls: u64,
    pub cache_hits: u64,
    pub pull_us: u128,
    /// Instance·µs the reserved target was not met (no host had room for the missing ones).
    pub reserved_shortfall_us: u128,
    pub latency: Latency,
    /// Instance·µs of live instances (for the time-average count).
    pub live_area: u128,
    pub live: u64,
    pub live_since: Micros,
    /// Usage of on-demand (0) and reserved (1) instances (their sum is [`FnStats::usage`]).
    pub usage_kind: [Usage; 2],
    /// Hourly-minimum top-ups (only when the meters keep clock hours).
    pub topups: Topups,
    /// Usage and billed time of instances that did not start in time (a part of the above).
    pub never_started: NeverStarted,
}

impl Default for FnStats {
    fn default() -> Self {
        FnStats::with_latency_digits(3)
    }
}

impl FnStats {
    /// Empty counters whose latency histograms keep `digits` significant digits.
    pub fn with_latency_digits(digits: u8) -> Self {
        let hist = || Latency::new(digits);
        FnStats {
            requests: 0,
            completed: 0,
            cold_starts: 0,
            throttled: 0,
            failed: 0,
            queue_timeouts: 0,
            queued: 0,
            in_flight: 0,
            instances_created: 0,
            not_started: 0,
            pulls: 0,
            cache_hits: 0,
            pull_us: 0,
            reserved_shortfall_us: 0,
            latency_sum_us: 0,
            wait_sum_us: 0,
            started: 0,
            latency: hist(),
            cold_latency: hist(),
            warm_latency: hist(),
            live_area: 0,
            live: 0,
            live_since: 0,
            usage_kind: Default::default(),
            started_kind: [0; 2],
            billed: Vec::new(),
            topups: Topups::default(),
            never_started: NeverStarted::default(),
        }
    }

    /// Change the live-instance count at `now`, integrating the old count first.
    #[inline]
    pub fn live_change(&mut self, now: Micros, delta: i64) {
        self.live_area += self.live as u128 * (now - self.live_since) as u128;
        self.live_since = now;
        self.live = (self.live as i64 + delta) as u64;
    }

    /// Fold another function's (or replication's) counters into this one.
    pub fn merge(&mut self, o: &FnStats) {
        self.requests += o.requests;
        self.completed += o.completed;
        self.cold_starts += o.cold_starts;
        self.throttled += o.throttled;
        self.failed += o.failed;
        self.queue_timeouts += o.queue_timeouts;
        self.queued += o.queued;
        self.in_flight += o.in_flight;
        self.instances_created += o.instances_created;
        self.not_started += o.not_started;
        self.pulls += o.pulls;
        self.cache_hits += o.cache_hits;
        self.pull_us += o.pull_us;
        self.reserved_shortfall_us += o.reserved_shortfall_us;
        self.latency_sum_us += o.latency_sum_us;
        self.wait_sum_us += o.wait_sum_us;
        self.started += o.started;
        self.latency.add(&o.latency);
        self.cold_latency.add(&o.cold_latency);
        self.warm_latency.add(&o.warm_latency);
        self.live_area += o.live_area;
        for k in 0..2 {
            self.usage_kind[k].merge(&o.usage_kind[k]);
            self.started_kind[k] += o.started_kind[k];
        }
        self.topups.merge(&o.topups);
        self.never_started.merge(&o.never_started);
        crate::usage::merge_billed(&mut self.billed, &o.billed);
    }
}

impl FnStats {
    /// Usage of all its instances, on-demand and reserved.
    pub fn usage(&self) -> Usage {
        Usage::of_both(&self.usage_kind)
    }

    /// What the bill needs of these counters, for a function billed as `spec`.
    pub fn billable(&self, spec: Spec) -> FnUsage {
        FnUsage {
            spec,
            started: self.started_kind,
            usage: self.usage_kind.clone(),
            billed: self.billed.clone(),
            topups: self.topups,
            never_started: self.never_started.clone(),
        }
    }
}

impl super::RunResult {
    /// The usage a bill is made from ([`crate::billing::bill`]).
    pub fn usage(&self) -> RunUsage {
        RunUsage {
            functions: self.functions.iter().zip(&self.specs).map(|((_, st), &spec)| st.billable(spec)).collect(),
        }
    }
}

/// One time-series bucket, all functions together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BucketRow {
    pub start: Micros,
    pub end: Micros,
    pub arrivals: u64,
    pub cold_starts: u64,
    pub completed: u64,
    pub throttled: u64,
    pub failed: u64,
    pub queue_timeouts: u64,
    pub instances_created: u64,
    /// Requests that started executing, on on-demand / reserved instances.
    pub started: [u64; 2],
    /// Resource × time within the bucket, on on-demand / reserved instances.
    pub usage: [Usage; 2],
    /// The part of `usage` that GPU functions made, by card and idle mode (sorted): a sheet
    /// may rate GPU memory per card and bill GPU functions' phases on their own.
    pub gpu: Vec<(GpuUse, [Usage; 2])>,
}

impl BucketRow {
    /// Usage of both kinds of instance together.
    pub fn total(&self) -> Usage {
        Usage::of_both(&self.usage)
    }
}

/// One instance's life.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRow<'a> {
    pub id: u64,
    pub function: &'a str,
    /// Index of the function in the scenario.
    pub function_index: usize,
    pub host: u32,
    pub reserved: bool,
    pub created: Micros,
    pub pull_start: Option<Micros>,
    pub pull_end: Option<Micros>,
    pub ready: Option<Micros>,
    /// None while alive at the horizon.
    pub ended: Option<Micros>,
    /// Why it ended: `keep_alive`, `scale_down`, `not_started`, `horizon`.
    pub end_reason: &'static str,
    pub served: u64,
    pub times: PhaseTimes,
    pub spec: Spec,
}

/// One request (only when requested: it is one row per request).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow<'a> {
    pub function: &'a str,
    /// Index of the function in the scenario.
    pub function_index: usize,
    pub arrival: Micros,
    pub start: Option<Micros>,
    pub end: Option<Micros>,
    pub cold: bool,
    pub instance: Option<u64>,
    pub outcome: Outcome,
}

/// Where rows go while a run is in progress (files in the CLI, vectors in tests).
pub trait Sink {
    fn bucket(&mut self, row: &BucketRow);
    fn instance(&mut self, row: &InstanceRow<'_>);
    /// Only called when [`Sink::wants_requests`] is true.
    fn request(&mut self, row: &RequestRow<'_>);
    fn wants_requests(&self) -> bool;
    /// One function's usage in one clock hour with activity (only when `Meters::hourly`).
    fn function_hour(&mut self, _function: usize, _row: &BucketRow) {}
}

/// A sink that keeps nothing (benchmarks, quick checks).
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    fn bucket(&mut self, _: &BucketRow) {}
    fn instance(&mut self, _: &InstanceRow<'_>) {}
    fn request(&mut self, _: &RequestRow<'_>) {}
    fn wants_requests(&self) -> bool {
        false
    }
}

/// An instance row kept by [`VecSink`]: id, function, phase times, end, end reason, served.
pub type KeptInstance = (u64, String, PhaseTimes, Option<Micros>, &'static str, u64);
/// A request row kept by [`VecSink`]: function, arrival, start, end, cold, outcome.
pub type KeptRequest = (String, Micros, Option<Micros>, Option<Micros>, bool, Outcome);

/// A sink that keeps every row, owned (tests).
#[derive(Debug, Default)]
pub struct VecSink {
    pub buckets: Vec<BucketRow>,
    pub instances: Vec<KeptInstance>,
    pub requests: Vec<KeptRequest>,
    pub keep_requests: bool,
    /// Function-hours with activity (only with hourly meters).
    pub hours: Vec<(usize, BucketRow)>,
}

impl Sink for VecSink {
    fn bucket(&mut self, row: &BucketRow) {
        self.buckets.push(row.clone());
    }
    fn instance(&mut self, r: &InstanceRow<'_>) {
        self.instances.push((r.id, r.function.to_string(), r.times, r.ended, r.end_reason, r.served));
    }
    fn request(&mut self, r: &RequestRow<'_>) {
        self.requests.push((r.function.to_string(), r.arrival, r.start, r.end, r.cold, r.outcome));
    }
    fn wants_requests(&self) -> bool {
        self.keep_requests
    }
    fn function_hour(&mut self, function: usize, row: &BucketRow) {
        self.hours.push((function, row.clone()));
    }
}

/// Time-series buckets: where the current one starts and ends, and its counters. The
/// instance-time in it is kept per function by [`BucketTime`]s and added when it closes.
#[derive(Debug, Clone)]
pub struct Series {
    pub bucket: Micros,
    pub horizon: Micros,
    pub row: BucketRow,
}

impl Series {
    pub fn new(bucket: Micros, horizon: Micros) -> Self {
        let row = BucketRow { start: 0, end: bucket.min(horizon), ..Default::default() };
        Series { bucket, horizon, row }
    }

    /// Whether the current bucket has ended by `now` (and is not past the horizon).
    #[inline(always)]
    pub fn due(&self, now: Micros) -> bool {
        now >= self.row.end && self.row.start < self.horizon
    }

    /// Start the next bucket.
    pub fn next(&mut self) {
        let start = self.row.end;
        self.row = BucketRow { start, end: (start + self.bucket).min(self.horizon), ..Default::default() };
    }
}

/// One function's instance-time by kind (on-demand, reserved) and phase in the current
/// time-series bucket. Each instance credits its stretch as it closes, from its
/// `clock_since` (the stretch's start, or the bucket's if later); when the bucket ends the
/// platform credits the stretches still open up to the end (`close_buckets`). Exact, and
/// one addition per phase change; the clock hours keep a [`PhaseClock`], which needs no
/// walk over the instances at its close.
#[derive(Debug, Clone, Default)]
pub struct BucketTime {
    /// 64-bit sums (a plain add per credit: a 128-bit one into memory stalled on its carry);
    /// a sum that would overflow moves into `high` first, so the total stays exact.
    inst: [[u64; Phase::COUNT]; 2],
    high: Option<Box<[[u128; Phase::COUNT]; 2]>>,
}

impl BucketTime {
    /// An instance of kind `k` spent `dt` more in phase `p` within the bucket.
    #[inline(always)]
    pub fn credit(&mut self, k: usize, p: Phase, dt: Micros) {
        let x = &mut self.inst[k][p.index()];
        match x.checked_add(dt) {
            Some(v) => *x = v,
            None => self.spill(k, p.index(), dt),
        }
    }

    /// Move a sum about to overflow, with `dt`, into the 128-bit part.
    #[cold]
    fn spill(&mut self, k: usize, p: usize, dt: Micros) {
        let high = self.high.get_or_insert_with(Default::default);
        high[k][p] += self.inst[k][p] as u128 + dt as u128;
        self.inst[k][p] = 0;
    }

    /// No instance-time in the bucket: it adds nothing.
    pub fn is_quiet(&self) -> bool {
        self.inst.iter().flatten().all(|&x| x == 0) && self.high.is_none()
    }

    /// The bucket's instance-µs by kind and phase; the count restarts at 0.
    pub fn take(&mut self) -> [[u128; Phase::COUNT]; 2] {
        let high = self.high.take().map_or([[0; Phase::COUNT]; 2], |h| *h);
        let inst = std::mem::take(&mut self.inst);
        std::array::from_fn(|k| std::array::from_fn(|p| high[k][p] + inst[k][p] as u128))
    }
}

#[cfg(test)]
#[test]
fn bucket_time_stays_exact_past_64_bits() {
    let mut b = BucketTime::default();
    b.credit(1, Phase::Busy, u64::MAX - 5);
    b.credit(1, Phase::Busy, 10);
    b.credit(1, Phase::Busy, u64::MAX);
    b.credit(0, Phase::Pull, 3);
    assert!(!b.is_quiet());
    let t = b.take();
    assert_eq!(t[1][Phase::Busy.index()], 2 * u64::MAX as u128 + 5);
    assert_eq!(t[0][Phase::Pull.index()], 3);
    assert!(b.is_quiet());
    assert_eq!(b.take(), [[0; Phase::COUNT]; 2]);
}

/// One function's instance-time by kind (on-demand, reserved) and phase over a clock hour (for
/// the hourly minimum): a running sum that an instance debits with `t` on entering a phase and
/// credits with `t` on leaving it (t from the hour's start); at the hour's end the instances
/// still there count to the end. Exact. When the hour is made of whole time-series buckets
/// it is not shifted at all: it absorbs its buckets' [`BucketTime`]s.
#[derive(Debug, Clone, Default)]
pub struct PhaseClock {
    level: [[i64; Phase::COUNT]; 2],
    area: [[i128; Phase::COUNT]; 2],
    /// Requests started in the bucket, on on-demand / reserved instances.
    pub started: [u64; 2],
}

impl PhaseClock {
    /// An instance of kind `k` moves between phases at `t` µs after the bucket start.
    #[inline(always)]
    pub fn shift(&mut self, t: Micros, from: Option<Phase>, to: Option<Phase>, k: usize) {
        let t = t as i128;
        if let Some(p) = from {
            self.area[k][p.index()] += t;
            self.level[k][p.index()] -= 1;
        }
        if let Some(p) = to {
            self.area[k][p.index()] -= t;
            self.level[k][p.index()] += 1;
        }
    }

    /// Add a whole bucket's instance-µs by kind and phase (from [`BucketTime::take`]), for
    /// a clock whose hours are made of whole buckets and which is never shifted.
    pub fn absorb(&mut self, inst: &[[u128; Phase::COUNT]; 2]) {
        for (a, i) in self.area.iter_mut().flatten().zip(inst.iter().flatten()) {
            *a += *i as i128;
        }
    }

    /// Prefetch the line of its started counts (a hint).
    #[inline(always)]
    pub fn prefetch_started(&self) {
        crate::engine::prefetch(&self.started, 1);
    }

    /// Prefetch the lines an instance of kind `k` moving between `phases` touches (a hint).
    #[inline(always)]
    pub fn prefetch(&self, k: usize, phases: [Phase; 2]) {
        for p in phases {
            crate::engine::prefetch(&self.level[k][p.index()], 1);
            crate::engine::prefetch(&self.area[k][p.index()], 1);
        }
    }

    /// Nothing alive and nothing happened: the bucket adds nothing.
    pub fn is_quiet(&self) -> bool {
        self.started == [0, 0]
            && self.level.iter().flatten().all(|&l| l == 0)
            && self.area.iter().flatten().all(|&a| a == 0)
    }

    /// Close a bucket of `len` µs: instance-µs by kind and phase; the clock restarts at 0.
    pub fn close(&mut self, len: Micros) -> [[u128; Phase::COUNT]; 2] {
        let out = std::array::from_fn(|k| {
            std::array::from_fn(|p| (self.area[k][p] + self.level[k][p] as i128 * len as i128) as u128)
        });
        self.area = Default::default();
        self.started = [0, 0];
        out
    }
}

/// Add `inst_us` instance-µs by kind and phase of instances holding `spec` to the row's
/// usage (and to its GPU group's, for a GPU function).
pub fn add_row_time(row: &mut BucketRow, inst_us: &[[u128; Phase::COUNT]; 2], spec: &Spec) {
    add_instance_time(&mut row.usage, inst_us, spec);
    if let Some(g) = spec.gpu {
        let at = match row.gpu.binary_search_by_key(&g, |e| e.0) {
            Ok(at) => at,
            Err(at) => {
                row.gpu.insert(at, (g, Default::default()));
                at
            }
        };
        add_instance_time(&mut row.gpu[at].1, inst_us, spec);
    }
}

/// Add `inst_us` instance-µs by kind and phase of instances holding `spec` to `usage`.
pub fn add_instance_time(usage: &mut [Usage; 2], inst_us: &[[u128; Phase::COUNT]; 2], spec: &Spec) {
    for k in 0..2 {
        for p in Phase::ALL {
            let n = inst_us[k][p.index()];
            if n > 0 {
                let u = &mut usage[k];
                let i = p.index();
                u.inst_us[i] += n;
                u.mb_us[i] += spec.memory_mb as u128 * n;
                u.mvcpu_us[i] += spec.milli_vcpu as u128 * n;
                u.disk_mb_us[i] += spec.disk_mb as u128 * n;
                u.gpu_mb_us[i] += spec.gpu_mb as u128 * n;
            }
        }
    }
}
