//! What a run counts: per-function request outcomes, latency histograms and usage; the
//! per-bucket time series (streamed out as each bucket closes); and the row types a
//! [`Sink`] receives, so the model never does file I/O itself.

use hdrhistogram::Histogram;

use crate::scenario::Micros;
use crate::usage::{Phase, PhaseTimes, Usage};

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

/// Per-function counters of one replication.
#[derive(Debug, Clone)]
pub struct FnStats {
    pub requests: u64,
    pub completed: u64,
    /// Requests that waited for an instance to start.
    pub cold_starts: u64,
    pub throttled: u64,
    pub failed: u64,
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
    pub latency_sum_us: u128,
    pub wait_sum_us: u128,
    /// Requests whose execution started (wait is known).
    pub started: u64,
    pub latency: Histogram<u64>,
    pub cold_latency: Histogram<u64>,
    pub warm_latency: Histogram<u64>,
    /// Instance·µs of live instances (for the time-average count).
    pub live_area: u128,
    pub live: u64,
    pub live_since: Micros,
    pub usage: Usage,
}

fn hist() -> Histogram<u64> {
    let mut h = Histogram::new(3).expect("3 significant digits is valid");
    h.auto(true);
    h
}

impl Default for FnStats {
    fn default() -> Self {
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
            latency_sum_us: 0,
            wait_sum_us: 0,
            started: 0,
            latency: hist(),
            cold_latency: hist(),
            warm_latency: hist(),
            live_area: 0,
            live: 0,
            live_since: 0,
            usage: Usage::default(),
        }
    }
}

impl FnStats {
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
        self.latency_sum_us += o.latency_sum_us;
        self.wait_sum_us += o.wait_sum_us;
        self.started += o.started;
        self.latency.add(&o.latency).expect("auto-resizing histograms merge");
        self.cold_latency.add(&o.cold_latency).expect("auto-resizing histograms merge");
        self.warm_latency.add(&o.warm_latency).expect("auto-resizing histograms merge");
        self.live_area += o.live_area;
        self.usage.merge(&o.usage);
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
    /// Instance·µs per phase within the bucket (divide by its length for the mean count).
    pub inst_us: [u128; Phase::COUNT],
    /// MB·µs per phase within the bucket.
    pub mb_us: [u128; Phase::COUNT],
}

/// One instance's life.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRow<'a> {
    pub id: u64,
    pub function: &'a str,
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
    pub memory_mb: u64,
    pub milli_vcpu: u64,
}

/// One request (only when requested: it is one row per request).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow<'a> {
    pub function: &'a str,
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
}

/// The time series being built: the integral of each phase's level over the bucket, kept
/// as a running sum that an instance debits with `mb × t` on entering a phase and credits
/// with `mb × t` on leaving it (t from the bucket start); at the bucket's end the instances
/// still in the phase are credited up to the end. One multiply-add per phase change, exact.
#[derive(Debug, Clone)]
pub struct Series {
    pub bucket: Micros,
    pub horizon: Micros,
    pub row: BucketRow,
    count: [u64; Phase::COUNT],
    mb: [u64; Phase::COUNT],
    /// Σ ±t and Σ ±mb·t of this bucket's phase changes (t relative to the bucket start).
    area_n: [i128; Phase::COUNT],
    area_mb: [i128; Phase::COUNT],
}

impl Series {
    pub fn new(bucket: Micros, horizon: Micros) -> Self {
        let row = BucketRow { start: 0, end: bucket.min(horizon), ..Default::default() };
        Series {
            bucket,
            horizon,
            row,
            count: [0; Phase::COUNT],
            mb: [0; Phase::COUNT],
            area_n: [0; Phase::COUNT],
            area_mb: [0; Phase::COUNT],
        }
    }

    /// Close every bucket that ends at or before `now`.
    #[inline(always)]
    pub fn advance(&mut self, now: Micros, sink: &mut dyn Sink) {
        if now >= self.row.end {
            self.close_buckets(now, sink);
        }
    }

    #[inline(never)]
    fn close_buckets(&mut self, now: Micros, sink: &mut dyn Sink) {
        while now >= self.row.end && self.row.start < self.horizon {
            let len = (self.row.end - self.row.start) as i128;
            for p in 0..Phase::COUNT {
                // what is still in the phase counts to the end of the bucket
                let n = self.area_n[p] + self.count[p] as i128 * len;
                let mb = self.area_mb[p] + self.mb[p] as i128 * len;
                self.row.inst_us[p] = n as u128;
                self.row.mb_us[p] = mb as u128;
                self.area_n[p] = 0;
                self.area_mb[p] = 0;
            }
            sink.bucket(&self.row);
            let start = self.row.end;
            self.row = BucketRow { start, end: (start + self.bucket).min(self.horizon), ..Default::default() };
        }
    }

    /// An instance of `mb` MB moves between phases (`None` = not alive).
    #[inline]
    pub fn shift(&mut self, now: Micros, from: Option<Phase>, to: Option<Phase>, mb: u64) {
        let t = (now - self.row.start) as i128;
        if let Some(p) = from {
            let p = p.index();
            self.area_n[p] += t;
            self.area_mb[p] += mb as i128 * t;
            self.count[p] -= 1;
            self.mb[p] -= mb;
        }
        if let Some(p) = to {
            let p = p.index();
            self.area_n[p] -= t;
            self.area_mb[p] -= mb as i128 * t;
            self.count[p] += 1;
            self.mb[p] += mb;
        }
    }
}
