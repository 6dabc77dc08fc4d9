//! The platform model: hosts with layer caches, image pulls, container and app start,
//! routing, the request queue, reserved instances and keep-alive — one [`Platform`] that owns
//! all state and reacts to every [`Event`]. It meters usage exactly and hands rows to a
//! [`Sink`]; it knows nothing of files or money.
//!
//! Where each rule lives: placement in [`Platform::place`], pulls in [`Platform::advance_pull`]
//! (layer order, one download per layer per host) with bandwidth sharing in [`pull`], the
//! cache in [`host`], routing in [`Platform::arrive`] and [`router`], keep-alive in
//! [`Platform::went_idle`], reserved targets in [`Platform::adjust_reserved`].

pub mod host;
pub mod instance;
pub mod latency;
mod latlog;
pub mod pull;
pub mod router;
pub mod stats;

use std::collections::VecDeque;

use rand::Rng as _;

use crate::engine::rng::{stream, Rng};
use crate::engine::{self, EventQueue, Handler, QuadHeap, SimTime};
use crate::scenario::{Arrivals, Reserved, ReservedStep, Scenario};
use crate::units::{Micros, MICROS_PER_DAY as DAY, MICROS_PER_HOUR as HOUR};
use crate::usage::{Meters, PeriodKind, Phase, Spec};
use crate::workload::dist::Sampler;
use crate::workload::synthetic::ArrivalGen;
use crate::workload::trace::TraceStream;

use host::{Host, LayerState};
use instance::{Pending, Slab, State};
use latlog::LatencyLog;
use pull::Transfers;
use router::AvailList;
pub use stats::{
    add_instance_time, BucketRow, FnStats, InstanceRow, NullSink, Outcome, PhaseClock, RequestRow, Series, Sink,
    VecSink,
};

/// From this many functions on, latency records are deferred and applied in batches (see
/// `latlog`): below it the histograms stay in cache and a record costs less applied at once.
const DEFER_LATENCIES_FROM: usize = 256;

/// Everything that can happen. Instance events carry the slot's generation: a stale one
/// (the slot was reused) is dropped, which is how timers are cancelled.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// A request ends on an instance; `req` indexes the run's table of requests in flight.
    Done {
        inst: u32,
        req: u32,
        cold: bool,
        failed: bool,
    },
    /// The oldest keep-alive deadline of function `func` is due.
    KeepAlive {
        func: u32,
    },
    /// The instance must be ready by now.
    ReadyTimeout {
        inst: u32,
        gen: u32,
    },
    ManifestDone {
        inst: u32,
        gen: u32,
    },
    /// A layer download's fixed overhead is over; its bytes start to flow.
    OverheadDone {
        host: u32,
        layer: u32,
    },
    /// The earliest transfer finishes (stale unless `gen` is current).
    TransferDone {
        gen: u32,
    },
    ExtractDone {
        host: u32,
        layer: u32,
    },
    CreateDone {
        inst: u32,
        gen: u32,
    },
    StartupDone {
        inst: u32,
        gen: u32,
    },
    /// The queue's oldest request may have waited too long.
    QueueTimeout {
        func: u32,
    },
    /// A daily reserved-instance step takes effect.
    ReservedStep {
        func: u32,
        step: u32,
    },
}

/// A distinct layer blob (layers with the same id in several images are one).
#[derive(Debug, Clone)]
struct LayerInfo {
    compressed: u64,
    uncompressed: u64,
    files: u64,
}

/// A function's run-time state. At fleet scale every request touches the state of a
/// different, cold function, so the fields a request reads or writes come first, together,
/// and `repr(C)` keeps that order: the hot part spans a few adjacent cache lines (and
/// `FnStats` puts its per-request counters first) instead of lines scattered over 2.5 KB.
#[repr(C)]
struct FnRt {
    // -- read or written by every request
    concurrency: u32,
    live: u32,
    timeout: Micros,
    keep_alive: Micros,
    avail_reserved: AvailList,
    avail_ondemand: AvailList,
    queue_timer_armed: bool,
    expiry_timer_armed: bool,
    exec: Sampler,
    /// Keep-alive deadlines of idle on-demand instances, oldest first: (deadline, slot, gen).
    expiries: VecDeque<(Micros, u32, u32)>,
    queue: VecDeque<Pending>,
    /// ... and in the current clock hour (only when the meters ask for it).
    hour_clock: Option<Box<PhaseClock>>,
    /// Starting instances with a free pending slot.
    starting: Vec<u32>,
    /// This function's instance-time in the current time-series bucket.
    clock: PhaseClock,
    stats: FnStats,
    // -- cold starts, scaling, reports
    max_instances: u32,
    reserved_live: u32,
    reserved_target: u32,
    queue_cap: usize,
    queue_timeout: Micros,
    cold_service: Option<Sampler>,
    startup: Sampler,
    spec: Spec,
    steps: Vec<ReservedStep>,
    image: usize,
    name: String,
}

/// One workload's arrivals: a synthetic process for one function, or a trace whose
/// arrivals name their function (and may bring their execution time).
struct StreamRt {
    /// Function of the announced (next) arrival.
    func: u32,
    /// Its execution time when the trace gives one; else drawn from the function's `exec`.
    exec: Option<Micros>,
    gen: ArrivalGen,
    trace: Option<Box<TraceStream>>,
    arrivals_rng: Rng,
    exec_rng: Rng,
}

impl StreamRt {
    /// Announce the next arrival: its time (its function and execution time are set).
    #[inline]
    fn advance(&mut self) -> Option<Micros> {
        match &mut self.trace {
            None => self.gen.next(&mut self.arrivals_rng),
            Some(t) => t.next(&mut self.arrivals_rng).map(|a| {
                self.func = a.func;
                self.exec = a.exec;
                a.time
            }),
        }
    }
}

/// Requests in flight: (arrival, start) by slot, slots reused.
#[derive(Default)]
struct ReqTable {
    slots: Vec<(Micros, Micros)>,
    free: Vec<u32>,
}

impl ReqTable {
    #[inline]
    fn open(&mut self, arrival: Micros, start: Micros) -> u32 {
        match self.free.pop() {
            Some(k) => {
                self.slots[k as usize] = (arrival, start);
                k
            }
            None => {
                self.slots.push((arrival, start));
                (self.slots.len() - 1) as u32
            }
        }
    }

    #[inline]
    fn close(&mut self, k: u32) -> (Micros, Micros) {
        self.free.push(k);
        self.slots[k as usize]
    }
}

/// The result of one replication.
pub struct RunResult {
    pub replication: u32,
    /// Per function, in scenario order.
    pub functions: Vec<(String, FnStats)>,
    /// The billed spec of each function (same order).
    pub specs: Vec<Spec>,
    pub events: u64,
    pub horizon: Micros,
}

/// The model of one replication.
pub struct Platform<'a> {
    sc: &'a Scenario,
    horizon: Micros,
    funcs: Vec<FnRt>,
    layers: Vec<LayerInfo>,
    image_layers: Vec<Vec<u32>>,
    /// Hosts that completed a pull of each image (checked lazily: layers may have gone).
    image_holders: Vec<Vec<u32>>,
    hosts: Vec<Host>,
    insts: Slab,
    transfers: Transfers,
    transfer_gen: u32,
    streams: Vec<StreamRt>,
    /// The next arrival of each stream, earliest first (ties by stream index).
    next_arrivals: QuadHeap<(Micros, u32)>,
    rng: Rng,
    create: Sampler,
    series: Series,
    sink: &'a mut dyn Sink,
    wants_requests: bool,
    meters: Meters,
    /// Start and end of the current clock hour (when hourly meters are on).
    hour_start: Micros,
    next_hour: Micros,
    /// Arrival and start of each request in flight (slots reused): keeps events small.
    reqs: ReqTable,
    /// Latency records waiting to be applied (large fleets only); histogram key =
    /// function × 2 + cold.
    latlog: Option<LatencyLog>,
    scratch_pulls: Vec<u32>,
    scratch_done: Vec<(u32, u32)>,
    scratch_pending: Vec<Pending>,
}

/// Simulate one replication of `sc` to its horizon, streaming rows into `sink`.
/// `progress` receives the simulated time now and then.
pub fn simulate(
    sc: &Scenario,
    replication: u32,
    sink: &mut dyn Sink,
    meters: &Meters,
    progress: impl FnMut(SimTime),
) -> RunResult {
    let mut queue = EventQueue::new();
    let mut p = Platform::new(sc, replication, sink, meters);
    p.start(&mut queue);
    let events = engine::run(&mut p, &mut queue, sc.simulation.horizon, progress);
    p.finish(queue, replication, events)
}

impl<'a> Platform<'a> {
    pub fn new(sc: &'a Scenario, replication: u32, sink: &'a mut dyn Sink, meters: &Meters) -> Self {
        let seed = sc.simulation.seed;
        // distinct layers by id, in order of first appearance (a trace may bring an image
        // per function: find ids by hash)
        let mut ids: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut layers = Vec::new();
        let mut image_layers = Vec::new();
        for img in &sc.images {
            let mut idx = Vec::new();
            for l in &img.layers {
                let i = *ids.entry(&l.id).or_insert_with(|| {
                    layers.push(LayerInfo { compressed: l.compressed, uncompressed: l.uncompressed, files: l.files });
                    (layers.len() - 1) as u32
                });
                idx.push(i);
            }
            image_layers.push(idx);
        }
        // functions replayed from a trace keep coarser latency histograms (see `latency`)
        let mut from_trace = vec![false; sc.functions.len()];
        for w in &sc.workloads {
            if let Arrivals::Trace(t) = &w.arrivals {
                for &f in &t.functions {
                    from_trace[f as usize] = true;
                }
            }
        }
        let funcs = sc
            .functions
            .iter()
            .zip(from_trace)
            .map(|(f, from_trace)| {
                let steps = match &f.reserved {
                    Reserved::Fixed(_) => Vec::new(),
                    Reserved::Daily(s) => s.clone(),
                };
                FnRt {
                    name: f.name.clone(),
                    image: f.image,
                    spec: Spec::of(f),
                    concurrency: f.concurrency,
                    max_instances: f.max_instances,
                    queue_cap: f.queue as usize,
                    queue_timeout: f.queue_timeout,
                    timeout: f.timeout,
                    keep_alive: f.keep_alive,
                    startup: f.startup.sampler(),
                    exec: f.exec.sampler(),
                    cold_service: f.cold_service.as_ref().map(|d| d.sampler()),
                    steps,
                    avail_reserved: AvailList::default(),
                    avail_ondemand: AvailList::default(),
                    starting: Vec::new(),
                    queue: VecDeque::with_capacity((f.queue as usize).min(1 << 16)),
                    queue_timer_armed: false,
                    expiries: VecDeque::new(),
                    expiry_timer_armed: false,
                    live: 0,
                    reserved_live: 0,
                    reserved_target: 0,
                    stats: FnStats {
                        billed: vec![Default::default(); meters.rules.len()],
                        ..FnStats::with_latency_digits(if from_trace { 2 } else { 3 })
                    },
                    clock: PhaseClock::default(),
                    hour_clock: meters.hourly.then(Box::default),
                }
            })
            .collect();
        let streams = sc
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let until = w.until.min(sc.simulation.horizon);
                StreamRt {
                    func: w.function as u32,
                    exec: None,
                    gen: ArrivalGen::new(&w.arrivals, w.from, until),
                    trace: match &w.arrivals {
                        Arrivals::Trace(t) => Some(Box::new(TraceStream::open(t, w.from, until))),
                        _ => None,
                    },
                    arrivals_rng: stream(seed, replication, "arrivals", i as u64),
                    exec_rng: stream(seed, replication, "exec", i as u64),
                }
            })
            .collect();
        let pl = &sc.platform;
        let wants_requests = sink.wants_requests();
        Platform {
            sc,
            horizon: sc.simulation.horizon,
            funcs,
            layers,
            image_holders: vec![Vec::new(); image_layers.len()],
            image_layers,
            hosts: (0..pl.hosts).map(|_| Host::new(pl.host_memory_mb)).collect(),
            insts: Slab::default(),
            transfers: Transfers::new(pl.hosts as usize, pl.pull.host_bandwidth, pl.pull.registry_bandwidth),
            transfer_gen: 0,
            streams,
            next_arrivals: QuadHeap::default(),
            rng: stream(seed, replication, "platform", 0),
            create: pl.container_create.sampler(),
            series: Series::new(sc.simulation.bucket, sc.simulation.horizon),
            sink,
            wants_requests,
            hour_start: 0,
            next_hour: if meters.hourly { HOUR.min(sc.simulation.horizon) } else { Micros::MAX },
            meters: meters.clone(),
            reqs: ReqTable::default(),
            latlog: (sc.functions.len() >= DEFER_LATENCIES_FROM).then(|| LatencyLog::new(2 * sc.functions.len())),
            scratch_pulls: Vec::new(),
            scratch_done: Vec::new(),
            scratch_pending: Vec::new(),
        }
    }

    /// First arrivals, reserved instances, schedule steps.
    pub fn start(&mut self, q: &mut EventQueue<Event>) {
        for s in 0..self.streams.len() {
            if let Some(t) = self.streams[s].advance() {
                self.next_arrivals.push((t, s as u32));
            }
        }
        for f in 0..self.funcs.len() {
            let target = match &self.sc.functions[f].reserved {
                Reserved::Fixed(n) => *n,
                Reserved::Daily(steps) => {
                    // the step in force at midnight: the last one of the day (steps are cyclic)
                    let first = steps.iter().find(|s| s.at == 0);
                    first.or(steps.last()).map_or(0, |s| s.count)
                }
            };
            self.funcs[f].reserved_target = target;
            self.adjust_reserved(f as u32, 0, q);
            for (k, s) in self.funcs[f].steps.clone().iter().enumerate() {
                // a step at midnight is in force already; its next turn is tomorrow
                let first = if s.at == 0 { DAY } else { s.at };
                if first < self.horizon {
                    q.push(first, Event::ReservedStep { func: f as u32, step: k as u32 });
                }
            }
        }
    }

    // ---- phases and meters -------------------------------------------------------------

    /// Close the instance's current phase at `now` and enter `to` (`None` = it ends). A phase
    /// that continues (busy → busy) is one stretch, not two: billed periods stay whole.
    fn set_phase(&mut self, i: u32, to: Option<Phase>, now: Micros) {
        let it = self.insts.get_mut(i);
        let from = it.phase;
        if to == Some(from) {
            return;
        }
        let dt = now - it.phase_since;
        it.times[from.index()] += dt;
        it.phase_since = now;
        if let Some(p) = to {
            it.phase = p;
        }
        let (reserved, k) = (it.reserved, it.reserved as usize);
        let f = &mut self.funcs[it.func as usize];
        for (r, rule) in self.meters.rules.iter().enumerate() {
            if dt > 0 && rule.rounds_intervals_of(from) {
                f.stats.billed[r][k][from.index()] += rule.round(dt) as u128;
            }
        }
        f.clock.shift(now - self.series.row.start, Some(from), to, k);
        if let Some(h) = &mut f.hour_clock {
            h.shift(now - self.hour_start, Some(from), to, k);
        }
        if to.is_none() {
            // usage is added from `times` once, when the instance ends
            f.stats.usage.add_times(&f.spec, &it.times);
            f.stats.usage_kind[k].add_times(&f.spec, &it.times);
            for (r, rule) in self.meters.rules.iter().enumerate() {
                let b = &mut f.stats.billed[r][k];
                match rule.period {
                    PeriodKind::Instance => {
                        // the whole life rounded once; the remainder is idle time
                        let total: u64 = it.times.iter().sum();
                        for p in Phase::ALL {
                            b[p.index()] += it.times[p.index()] as u128;
                        }
                        let idle = if reserved { Phase::IdleReserved } else { Phase::IdleKeepalive };
                        b[idle.index()] += (rule.round(total) - total) as u128;
                    }
                    PeriodKind::Request if rule.init_into_first_request && !it.first_request_done => {
                        // never served: its start-up is billed on its own
                        b[Phase::Startup.index()] += rule.round(it.times[Phase::Startup.index()]) as u128;
                    }
                    _ => {}
                }
            }
        }
    }

    /// Per-request rounding: a request that ran from `start` to `end` on instance `i`.
    fn bill_request(&mut self, i: u32, start: Micros, end: Micros) {
        if self.meters.rules.is_empty() {
            return;
        }
        let it = self.insts.get_mut(i);
        let first = !it.first_request_done;
        it.first_request_done = true;
        let (k, init) = (it.reserved as usize, it.times[Phase::Startup.index()]);
        let f = &mut self.funcs[it.func as usize];
        for (r, rule) in self.meters.rules.iter().enumerate() {
            if rule.period == PeriodKind::Request {
                let extra = if rule.init_into_first_request && first { init } else { 0 };
                f.stats.billed[r][k][Phase::Busy.index()] += rule.round(end - start + extra) as u128;
            }
        }
    }

    /// Close time-series buckets and clock hours that ended by `now`.
    #[inline(always)]
    fn advance_clocks(&mut self, now: Micros) {
        if self.series.due(now) {
            self.close_buckets(now);
        }
        if now >= self.next_hour {
            self.close_hours(now);
        }
    }

    /// Close every bucket that ended by `now`: each function's instance-time, times its
    /// spec, makes the bucket's usage.
    #[inline(never)]
    fn close_buckets(&mut self, now: Micros) {
        while self.series.due(now) {
            let len = self.series.row.end - self.series.row.start;
            for f in &mut self.funcs {
                if !f.clock.is_quiet() {
                    let inst = f.clock.close(len);
                    add_instance_time(&mut self.series.row.usage, &inst, &f.spec);
                }
            }
            self.sink.bucket(&self.series.row);
            self.series.next();
        }
    }

    /// Hand every function's finished clock hours with activity to the sink.
    #[inline(never)]
    fn close_hours(&mut self, now: Micros) {
        while now >= self.next_hour {
            let start = self.hour_start;
            let len = self.next_hour - start;
            for (fi, f) in self.funcs.iter_mut().enumerate() {
                let Some(h) = &mut f.hour_clock else { continue };
                if h.is_quiet() {
                    continue;
                }
                let started = h.started;
                let inst = h.close(len);
                let mut row = BucketRow { start, end: self.next_hour, started, ..Default::default() };
                add_instance_time(&mut row.usage, &inst, &f.spec);
                let active = started.iter().any(|&n| n > 0) || inst.iter().flatten().any(|&x| x > 0);
                if active {
                    self.sink.function_hour(fi, &row);
                }
            }
            if self.next_hour >= self.horizon {
                self.next_hour = Micros::MAX;
                break;
            }
            self.hour_start = self.next_hour;
            self.next_hour = (self.next_hour + HOUR).min(self.horizon);
        }
    }

    fn idle_phase(&self, i: u32) -> Phase {
        if self.insts.get(i).reserved {
            Phase::IdleReserved
        } else {
            Phase::IdleKeepalive
        }
    }

    // ---- placement and instance creation ------------------------------------------------

    /// A host for a new instance of `f`: one already holding the image with room for it
    /// (image locality), else a random host with room, else none.
    fn place(&mut self, f: u32, now: Micros) -> Option<u32> {
        let fr = &self.funcs[f as usize];
        let (img, mem) = (fr.image, fr.spec.memory_mb);
        let ttl = self.sc.platform.cache_ttl;
        let mut k = 0;
        while k < self.image_holders[img].len() {
            let h = self.image_holders[img][k];
            let host = &mut self.hosts[h as usize];
            let holds = self.image_layers[img].iter().all(|&l| host.state(l, now, ttl) == Some(LayerState::Cached));
            if !holds {
                self.image_holders[img].remove(k);
                continue;
            }
            if host.mem_free_mb >= mem {
                return Some(h);
            }
            k += 1;
        }
        let n = self.hosts.len() as u32;
        for _ in 0..8 {
            let h = self.rng.random_range(0..n);
            if self.hosts[h as usize].mem_free_mb >= mem {
                return Some(h);
            }
        }
        let start = self.rng.random_range(0..n);
        (0..n).map(|d| (start + d) % n).find(|&h| self.hosts[h as usize].mem_free_mb >= mem)
    }

    /// Start a new instance of `f` (on-demand or reserved). None when no host has room.
    fn create_instance(&mut self, f: u32, reserved: bool, now: Micros, q: &mut EventQueue<Event>) -> Option<u32> {
        let h = self.place(f, now)?;
        let cold_service = self.funcs[f as usize].cold_service.is_some() && !reserved;
        let first_phase = if cold_service { Phase::Busy } else { Phase::Pull };
        let i = self.insts.alloc(f, h, reserved, now, first_phase);
        let fr = &mut self.funcs[f as usize];
        self.hosts[h as usize].mem_free_mb -= fr.spec.memory_mb;
        fr.live += 1;
        if reserved {
            fr.reserved_live += 1;
        }
        fr.stats.instances_created += 1;
        fr.stats.live_change(now, 1);
        self.series.row.instances_created += 1;
        let k = reserved as usize;
        fr.clock.shift(now - self.series.row.start, None, Some(first_phase), k);
        if let Some(h) = &mut fr.hour_clock {
            h.shift(now - self.hour_start, None, Some(first_phase), k);
        }
        if cold_service {
            self.insts.get_mut(i).state = State::ColdServing;
            return Some(i);
        }
        // requests may wait on it while it starts
        self.insts.get_mut(i).in_starting = true;
        self.funcs[f as usize].starting.push(i);
        let gen = self.insts.get(i).gen;
        q.push(now + self.sc.platform.ready_timeout, Event::ReadyTimeout { inst: i, gen });
        self.begin_pull(i, now, q);
        Some(i)
    }

    // ---- pulls ---------------------------------------------------------------------------

    fn begin_pull(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let (h, img) = {
            let it = self.insts.get(i);
            (it.host as usize, self.funcs[it.func as usize].image)
        };
        let ttl = self.sc.platform.cache_ttl;
        // pin the cached prefix; a fully cached image is a cache hit: no pull at all
        let n = self.image_layers[img].len() as u32;
        let mut cursor = 0;
        while cursor < n {
            let l = self.image_layers[img][cursor as usize];
            if self.hosts[h].state(l, now, ttl) != Some(LayerState::Cached) {
                break;
            }
            self.hosts[h].pin(l, now);
            cursor += 1;
        }
        let f = self.insts.get(i).func as usize;
        self.insts.get_mut(i).cursor = cursor;
        if cursor == n {
            self.funcs[f].stats.cache_hits += 1;
            self.start_create(i, now, q);
        } else {
            self.funcs[f].stats.pulls += 1;
            let it = self.insts.get_mut(i);
            it.state = State::Pulling;
            it.pull_start = Some(now);
            let gen = it.gen;
            q.push(now + self.sc.platform.pull.manifest, Event::ManifestDone { inst: i, gen });
        }
    }

    fn on_manifest(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let (h, img, cursor) = {
            let it = self.insts.get(i);
            (it.host, self.funcs[it.func as usize].image, it.cursor)
        };
        let ttl = self.sc.platform.cache_ttl;
        for k in cursor as usize..self.image_layers[img].len() {
            let l = self.image_layers[img][k];
            if self.hosts[h as usize].state(l, now, ttl).is_none() {
                self.request_download(h, l, now, q);
            }
        }
        self.hosts[h as usize].pulls.push(i);
        self.advance_pull(i, now, q);
    }

    /// One download per layer per host, at most `parallel_layers` at a time per host.
    fn request_download(&mut self, h: u32, l: u32, now: Micros, q: &mut EventQueue<Event>) {
        let host = &mut self.hosts[h as usize];
        if host.downloads_active < self.sc.platform.pull.parallel_layers {
            host.add_wanted(l, LayerState::Downloading, now);
            host.downloads_active += 1;
            q.push(now + self.sc.platform.pull.layer_overhead, Event::OverheadDone { host: h, layer: l });
        } else {
            host.add_wanted(l, LayerState::Queued, now);
            host.download_queue.push_back(l);
        }
    }

    fn fetch_fraction(&self) -> f64 {
        self.sc.platform.pull.fetch_fraction.unwrap_or(1.0)
    }

    fn on_overhead_done(&mut self, h: u32, l: u32, now: Micros, q: &mut EventQueue<Event>) {
        let bytes = self.layers[l as usize].compressed as f64 * self.fetch_fraction();
        self.transfers.start(now, h, l, bytes);
        self.reschedule_transfers(q);
    }

    fn reschedule_transfers(&mut self, q: &mut EventQueue<Event>) {
        self.transfer_gen = self.transfer_gen.wrapping_add(1);
        if let Some(t) = self.transfers.next_finish() {
            q.push(t, Event::TransferDone { gen: self.transfer_gen });
        }
    }

    fn on_transfer_done(&mut self, now: Micros, q: &mut EventQueue<Event>) {
        let mut done = std::mem::take(&mut self.scratch_done);
        done.clear();
        self.transfers.finish(now, &mut done);
        for &(h, l) in &done {
            let host = &mut self.hosts[h as usize];
            host.set_state(l, LayerState::Downloaded);
            host.downloads_active -= 1;
            // the next queued layer still wanted takes the slot
            while let Some(next) = host.download_queue.pop_front() {
                if host.layers.get(&next).map(|e| e.state) == Some(LayerState::Queued) {
                    host.set_state(next, LayerState::Downloading);
                    host.downloads_active += 1;
                    q.push(now + self.sc.platform.pull.layer_overhead, Event::OverheadDone { host: h, layer: next });
                    break;
                }
            }
        }
        for &(h, _) in &done {
            self.advance_pulls_on(h, now, q);
        }
        self.scratch_done = done;
        self.reschedule_transfers(q);
    }

    fn on_extract_done(&mut self, h: u32, l: u32, now: Micros, q: &mut EventQueue<Event>) {
        let size = self.layers[l as usize].uncompressed;
        let pl = &self.sc.platform;
        self.hosts[h as usize].cache(l, size, now, pl.cache_capacity, pl.cache_ttl);
        self.advance_pulls_on(h, now, q);
    }

    fn advance_pulls_on(&mut self, h: u32, now: Micros, q: &mut EventQueue<Event>) {
        let mut pulls = std::mem::take(&mut self.scratch_pulls);
        pulls.clear();
        pulls.extend_from_slice(&self.hosts[h as usize].pulls);
        for &i in &pulls {
            if self.insts.get(i).state == State::Pulling {
                self.advance_pull(i, now, q);
            }
        }
        self.scratch_pulls = pulls;
    }

    /// Move an instance's pull along its layers, in order: pin what is cached, extract the
    /// next layer once downloaded (one extraction after another), fetch what went missing.
    fn advance_pull(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let (h, img, mut cursor) = {
            let it = self.insts.get(i);
            (it.host, self.funcs[it.func as usize].image, it.cursor)
        };
        let ttl = self.sc.platform.cache_ttl;
        let n = self.image_layers[img].len() as u32;
        while cursor < n {
            let l = self.image_layers[img][cursor as usize];
            match self.hosts[h as usize].state(l, now, ttl) {
                Some(LayerState::Cached) => {
                    self.hosts[h as usize].pin(l, now);
                    cursor += 1;
                }
                Some(LayerState::Downloaded) => {
                    self.hosts[h as usize].set_state(l, LayerState::Extracting);
                    let info = &self.layers[l as usize];
                    let pl = &self.sc.platform.pull;
                    let frac = self.fetch_fraction();
                    let secs = info.uncompressed as f64 * frac / pl.extract_rate;
                    let files = (info.files as f64 * frac).round() as u64;
                    let dur = (secs * 1e6).ceil() as Micros + files * pl.extract_per_file + pl.extract_overhead;
                    q.push(now + dur, Event::ExtractDone { host: h, layer: l });
                    break;
                }
                Some(_) => break,
                None => {
                    self.request_download(h, l, now, q);
                    break;
                }
            }
        }
        self.insts.get_mut(i).cursor = cursor;
        if cursor == n {
            let host = &mut self.hosts[h as usize];
            if let Some(k) = host.pulls.iter().position(|&x| x == i) {
                host.pulls.swap_remove(k);
            }
            if !self.image_holders[img].contains(&h) {
                self.image_holders[img].push(h);
            }
            let it = self.insts.get_mut(i);
            it.pull_end = Some(now);
            let took = now - it.pull_start.unwrap_or(now);
            self.funcs[it.func as usize].stats.pull_us += took as u128;
            self.start_create(i, now, q);
        }
    }

    // ---- start -------------------------------------------------------------------------

    fn start_create(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.set_phase(i, Some(Phase::Create), now);
        let it = self.insts.get_mut(i);
        it.state = State::Creating;
        let gen = it.gen;
        let d = self.create.sample(&mut self.rng);
        q.push(now + d, Event::CreateDone { inst: i, gen });
    }

    fn on_create_done(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.set_phase(i, Some(Phase::Startup), now);
        let it = self.insts.get_mut(i);
        it.state = State::Starting;
        let gen = it.gen;
        let d = self.funcs[it.func as usize].startup.sample(&mut self.rng);
        q.push(now + d, Event::StartupDone { inst: i, gen });
    }

    fn become_ready(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let idle = self.idle_phase(i);
        self.set_phase(i, Some(idle), now);
        let f = {
            let it = self.insts.get_mut(i);
            it.state = State::Ready;
            it.ready_at = Some(now);
            it.idle_since = now;
            it.func
        };
        self.leave_starting(i);
        let mut pending = std::mem::take(&mut self.scratch_pending);
        pending.clear();
        std::mem::swap(&mut pending, &mut self.insts.get_mut(i).pending);
        for p in pending.drain(..) {
            self.dispatch(i, p, true, now, q);
        }
        self.scratch_pending = pending;
        self.fill_from_queue(i, now, q);
        let it = self.insts.get(i);
        if it.inflight < self.funcs[f as usize].concurrency && !it.in_avail {
            self.make_available(i);
        }
        if self.insts.get(i).inflight == 0 {
            self.went_idle(i, now, q);
        }
    }

    fn leave_starting(&mut self, i: u32) {
        let it = self.insts.get_mut(i);
        if it.in_starting {
            it.in_starting = false;
            let st = &mut self.funcs[it.func as usize].starting;
            if let Some(k) = st.iter().position(|&x| x == i) {
                st.remove(k);
            }
        }
    }

    fn make_available(&mut self, i: u32) {
        let it = self.insts.get(i);
        let fr = &mut self.funcs[it.func as usize];
        let list = if it.reserved { &mut fr.avail_reserved } else { &mut fr.avail_ondemand };
        list.push(&mut self.insts.items, i, self.sc.platform.pick);
    }

    fn leave_available(&mut self, i: u32) {
        let it = self.insts.get(i);
        if !it.in_avail {
            return;
        }
        let fr = &mut self.funcs[it.func as usize];
        let list = if it.reserved { &mut fr.avail_reserved } else { &mut fr.avail_ondemand };
        list.remove(&mut self.insts.items, i);
    }

    // ---- requests ----------------------------------------------------------------------

    /// Route a new request: a ready instance with a free slot (reserved first, chosen by
    /// `pick`), else a free pending slot on a starting instance, else a new instance (under
    /// `max_instances`), else the queue, else throttle.
    fn arrive(&mut self, f: u32, exec: Micros, now: Micros, q: &mut EventQueue<Event>) {
        self.funcs[f as usize].stats.requests += 1;
        self.series.row.arrivals += 1;
        let p = Pending { arrival: now, exec };
        let pick = self.sc.platform.pick;
        let fr = &self.funcs[f as usize];
        let chosen = match fr.avail_reserved.choose(&self.insts.items, pick, &mut self.rng) {
            Some(i) => Some(i),
            None => fr.avail_ondemand.choose(&self.insts.items, pick, &mut self.rng),
        };
        if let Some(i) = chosen {
            self.dispatch(i, p, false, now, q);
            return;
        }
        if let Some(&i) = self.funcs[f as usize].starting.last() {
            self.attach(i, p);
            return;
        }
        if self.funcs[f as usize].live < self.funcs[f as usize].max_instances {
            if let Some(i) = self.create_instance(f, false, now, q) {
                if self.insts.get(i).state == State::ColdServing {
                    self.cold_serve(i, p, now, q);
                } else {
                    self.attach(i, p);
                }
                return;
            }
        }
        let fr = &mut self.funcs[f as usize];
        if fr.queue.len() < fr.queue_cap {
            fr.queue.push_back(p);
            fr.stats.queued += 1;
            if !fr.queue_timer_armed {
                fr.queue_timer_armed = true;
                q.push(now + fr.queue_timeout, Event::QueueTimeout { func: f });
            }
            return;
        }
        fr.stats.throttled += 1;
        self.series.row.throttled += 1;
        self.emit_request(f, p.arrival, None, None, false, None, Outcome::Throttled);
    }

    /// A request waits for a starting instance: it is a cold start.
    fn attach(&mut self, i: u32, p: Pending) {
        let f = self.insts.get(i).func as usize;
        let conc = self.funcs[f].concurrency as usize;
        self.funcs[f].stats.cold_starts += 1;
        self.series.row.cold_starts += 1;
        let it = self.insts.get_mut(i);
        it.pending.push(p);
        let free = it.pending.len() < conc;
        if free && !it.in_starting {
            it.in_starting = true;
            self.funcs[f].starting.push(i);
        } else if !free && it.in_starting {
            self.leave_starting(i);
        }
    }

    /// SimFaaS semantics: the request that started the instance is served in the cold
    /// service time, then the instance is idle.
    fn cold_serve(&mut self, i: u32, p: Pending, now: Micros, q: &mut EventQueue<Event>) {
        let f = self.insts.get(i).func as usize;
        self.funcs[f].stats.cold_starts += 1;
        self.series.row.cold_starts += 1;
        let d = self.funcs[f].cold_service.as_ref().expect("cold-serving needs cold_service").sample(&mut self.rng);
        let it = self.insts.get_mut(i);
        it.inflight = 1;
        self.count_start(f, false);
        let req = self.reqs.open(p.arrival, now);
        q.push(now + d, Event::Done { inst: i, req, cold: true, failed: false });
    }

    /// Count a request that starts executing on an on-demand or reserved instance.
    fn count_start(&mut self, f: usize, reserved: bool) {
        let k = reserved as usize;
        let fr = &mut self.funcs[f];
        fr.stats.started += 1;
        fr.stats.started_kind[k] += 1;
        self.series.row.started[k] += 1;
        if let Some(h) = &mut fr.hour_clock {
            h.started[k] += 1;
        }
    }

    /// Start executing `p` on ready instance `i` now.
    fn dispatch(&mut self, i: u32, p: Pending, cold: bool, now: Micros, q: &mut EventQueue<Event>) {
        let f = self.insts.get(i).func as usize;
        if self.insts.get(i).inflight == 0 {
            self.set_phase(i, Some(Phase::Busy), now);
        }
        let fr = &mut self.funcs[f];
        let it = self.insts.get_mut(i);
        it.inflight += 1;
        let failed = p.exec > fr.timeout;
        let run = p.exec.min(fr.timeout);
        let k = it.reserved as usize;
        fr.stats.started += 1;
        fr.stats.started_kind[k] += 1;
        self.series.row.started[k] += 1;
        if let Some(h) = &mut fr.hour_clock {
            h.started[k] += 1;
        }
        fr.stats.wait_sum_us += (now - p.arrival) as u128;
        let req = self.reqs.open(p.arrival, now);
        q.push(now + run, Event::Done { inst: i, req, cold, failed });
        let full = it.inflight >= fr.concurrency;
        let list = if it.reserved { &mut fr.avail_reserved } else { &mut fr.avail_ondemand };
        if it.in_avail {
            if full {
                list.remove(&mut self.insts.items, i);
            } else {
                list.touch(&mut self.insts.items, i, self.sc.platform.pick);
            }
        }
    }

    /// Give a freed slot to the oldest queued request that has not timed out.
    #[inline(always)]
    fn fill_from_queue(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let f = self.insts.get(i).func as usize;
        if !self.funcs[f].queue.is_empty() {
            self.drain_queue_into(i, now, q);
        }
    }

    #[inline(never)]
    fn drain_queue_into(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let f = self.insts.get(i).func as usize;
        while self.insts.get(i).inflight < self.funcs[f].concurrency {
            self.expire_queue(f as u32, now);
            let Some(p) = self.funcs[f].queue.pop_front() else {
                break;
            };
            self.dispatch(i, p, false, now, q);
        }
    }

    /// Drop queued requests that have waited `queue_timeout` or more.
    fn expire_queue(&mut self, f: u32, now: Micros) {
        loop {
            let fr = &mut self.funcs[f as usize];
            match fr.queue.front() {
                Some(p) if p.arrival + fr.queue_timeout <= now => {
                    let p = *p;
                    fr.queue.pop_front();
                    fr.stats.queue_timeouts += 1;
                    self.series.row.queue_timeouts += 1;
                    self.emit_request(f, p.arrival, None, None, false, None, Outcome::QueueTimeout);
                }
                _ => break,
            }
        }
    }

    fn on_queue_timeout(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.funcs[f as usize].queue_timer_armed = false;
        self.expire_queue(f, now);
        let fr = &mut self.funcs[f as usize];
        if let Some(p) = fr.queue.front() {
            fr.queue_timer_armed = true;
            q.push(p.arrival + fr.queue_timeout, Event::QueueTimeout { func: f });
        }
    }

    fn on_done(&mut self, i: u32, req: u32, cold: bool, failed: bool, now: Micros, q: &mut EventQueue<Event>) {
        let f = self.insts.get(i).func as usize;
        let (arrival, start) = self.reqs.close(req);
        self.bill_request(i, start, now);
        let mut log_full = false;
        {
            let fr = &mut self.funcs[f];
            let st = &mut fr.stats;
            let lat = now - arrival;
            if failed {
                st.failed += 1;
                self.series.row.failed += 1;
            } else {
                st.completed += 1;
                self.series.row.completed += 1;
                st.latency_sum_us += lat as u128;
                // the all-requests histogram is the merge of these two, made once at the end
                match &mut self.latlog {
                    Some(log) => log_full = log.push((f as u32) << 1 | cold as u32, lat),
                    None if cold => st.cold_latency.record(lat),
                    None => st.warm_latency.record(lat),
                }
            }
            let it = self.insts.get_mut(i);
            it.inflight -= 1;
            it.served += 1;
        }
        if log_full {
            self.flush_latencies();
        }
        if self.wants_requests {
            let id = self.insts.get(i).id;
            let outcome = if failed { Outcome::Failed } else { Outcome::Ok };
            self.emit_request(f as u32, arrival, Some(start), Some(now), cold, Some(id), outcome);
        }
        if self.insts.get(i).state == State::ColdServing {
            // the cold-served request is over: the instance is ready and idle
            self.insts.get_mut(i).state = State::Ready;
            self.insts.get_mut(i).ready_at = Some(now);
        }
        self.fill_from_queue(i, now, q);
        let it = self.insts.get(i);
        if it.inflight == 0 {
            let idle = self.idle_phase(i);
            self.set_phase(i, Some(idle), now);
            self.insts.get_mut(i).idle_since = now;
        }
        let it = self.insts.get(i);
        if it.in_avail {
            let fr = &mut self.funcs[f];
            let list = if it.reserved { &mut fr.avail_reserved } else { &mut fr.avail_ondemand };
            list.touch(&mut self.insts.items, i, self.sc.platform.pick);
        } else if it.inflight < self.funcs[f].concurrency {
            self.make_available(i);
        }
        if self.insts.get(i).inflight == 0 {
            self.went_idle(i, now, q);
        }
    }

    /// Apply the deferred latency records to the functions' histograms.
    #[inline(never)]
    fn flush_latencies(&mut self) {
        let Some(log) = &mut self.latlog else { return };
        let funcs = &mut self.funcs;
        log.flush(|key, lat| {
            let st = &mut funcs[(key >> 1) as usize].stats;
            if key & 1 == 1 {
                st.cold_latency.record(lat);
            } else {
                st.warm_latency.record(lat);
            }
        });
    }

    /// An instance has no request left: release it if asked to; otherwise start (or keep)
    /// its keep-alive clock if it is on-demand. Keep-alive 0 releases at once.
    fn went_idle(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let it = self.insts.get(i);
        if it.release_when_idle {
            self.release(i, now, "scale_down", q);
            return;
        }
        if it.reserved {
            return;
        }
        let (f, gen) = (it.func, it.gen);
        let fr = &mut self.funcs[f as usize];
        let ka = fr.keep_alive;
        if ka == 0 {
            self.release(i, now, "keep_alive", q);
            return;
        }
        // one function shares one keep-alive, so deadlines arrive in order: a FIFO, and one
        // timer per function for its oldest entry, keep the event queue small
        fr.expiries.push_back((now + ka, i, gen));
        if !fr.expiry_timer_armed {
            fr.expiry_timer_armed = true;
            q.push(now + ka, Event::KeepAlive { func: f });
        }
    }

    /// Release every instance whose keep-alive ran out by `now`, then time the oldest entry
    /// still in force. An entry is in force while its instance is idle since that very idle
    /// transition; others (used since, or gone) are dropped here without an event of their own.
    fn on_keepalive(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        let fu = f as usize;
        self.funcs[fu].expiry_timer_armed = false;
        let ka = self.funcs[fu].keep_alive;
        while let Some(&(deadline, i, gen)) = self.funcs[fu].expiries.front() {
            let it = self.insts.get(i);
            let in_force =
                it.gen == gen && it.state == State::Ready && it.inflight == 0 && it.idle_since + ka == deadline;
            if in_force && deadline > now {
                self.funcs[fu].expiry_timer_armed = true;
                q.push(deadline, Event::KeepAlive { func: f });
                return;
            }
            self.funcs[fu].expiries.pop_front();
            if in_force {
                self.release(i, now, "keep_alive", q);
            }
        }
    }

    fn on_ready_timeout(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        if !matches!(self.insts.get(i).state, State::Pulling | State::Creating | State::Starting) {
            return;
        }
        // FunctionNotStarted: every request waiting on it fails
        let f = self.insts.get(i).func;
        let mut pending = std::mem::take(&mut self.insts.get_mut(i).pending);
        for p in pending.drain(..) {
            self.funcs[f as usize].stats.failed += 1;
            self.series.row.failed += 1;
            self.emit_request(f, p.arrival, None, None, true, None, Outcome::Failed);
        }
        self.insts.get_mut(i).pending = pending;
        self.funcs[f as usize].stats.not_started += 1;
        self.release(i, now, "not_started", q);
    }

    /// The instance is gone: close its meters, free its memory and layers, report it, and
    /// let queued requests or the reserved target use the room it leaves.
    fn release(&mut self, i: u32, now: Micros, reason: &'static str, q: &mut EventQueue<Event>) {
        self.set_phase(i, None, now);
        self.leave_available(i);
        self.leave_starting(i);
        let (f, h, cursor, reserved, marked) = {
            let it = self.insts.get(i);
            (it.func, it.host, it.cursor, it.reserved, it.release_when_idle)
        };
        let img = self.funcs[f as usize].image;
        let host = &mut self.hosts[h as usize];
        for k in 0..cursor as usize {
            host.unpin(self.image_layers[img][k], now);
        }
        if let Some(k) = host.pulls.iter().position(|&x| x == i) {
            host.pulls.swap_remove(k);
        }
        let fr = &mut self.funcs[f as usize];
        host.mem_free_mb += fr.spec.memory_mb;
        fr.live -= 1;
        if reserved && !marked {
            fr.reserved_live -= 1;
        }
        fr.stats.live_change(now, -1);
        self.emit_instance(i, Some(now), reason);
        self.insts.free(i);
        if reserved {
            self.adjust_reserved(f, now, q);
        }
        self.serve_queue_with_new_instance(f, now, q);
    }

    /// Requests queued because the function (or the hosts) were full get a new instance when
    /// room appears; they wait for its start, so they count as cold starts.
    fn serve_queue_with_new_instance(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.expire_queue(f, now);
        while !self.funcs[f as usize].queue.is_empty()
            && self.funcs[f as usize].live < self.funcs[f as usize].max_instances
        {
            let Some(i) = self.create_instance(f, false, now, q) else {
                return;
            };
            if self.insts.get(i).state == State::ColdServing {
                let p = self.funcs[f as usize].queue.pop_front().expect("queue not empty");
                self.cold_serve(i, p, now, q);
                continue;
            }
            let conc = self.funcs[f as usize].concurrency as usize;
            while self.insts.get(i).pending.len() < conc {
                let Some(p) = self.funcs[f as usize].queue.pop_front() else {
                    break;
                };
                self.attach(i, p);
            }
        }
    }

    /// Bring the live reserved instances to the target: create the missing ones; release
    /// idle surplus at once and mark busy or starting surplus to go when idle.
    fn adjust_reserved(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        let fu = f as usize;
        while self.funcs[fu].reserved_live < self.funcs[fu].reserved_target {
            if self.create_instance(f, true, now, q).is_none() {
                break;
            }
        }
        while self.funcs[fu].reserved_live > self.funcs[fu].reserved_target {
            let idle = self.funcs[fu].avail_reserved.iter(&self.insts.items).find(|&i| self.insts.get(i).inflight == 0);
            let victim = match idle {
                Some(i) => Some(i),
                None => self.insts.live().find(|&i| {
                    let it = self.insts.get(i);
                    it.func == f && it.reserved && !it.release_when_idle
                }),
            };
            let Some(i) = victim else { break };
            self.funcs[fu].reserved_live -= 1;
            self.insts.get_mut(i).release_when_idle = true;
            if self.insts.get(i).state == State::Ready && self.insts.get(i).inflight == 0 {
                self.release(i, now, "scale_down", q);
            }
        }
    }

    fn on_reserved_step(&mut self, f: u32, step: u32, now: Micros, q: &mut EventQueue<Event>) {
        let s = self.funcs[f as usize].steps[step as usize];
        self.funcs[f as usize].reserved_target = s.count;
        self.adjust_reserved(f, now, q);
        if now + DAY < self.horizon {
            q.push(now + DAY, Event::ReservedStep { func: f, step });
        }
    }

    // ---- output ------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn emit_request(
        &mut self,
        f: u32,
        arrival: Micros,
        start: Option<Micros>,
        end: Option<Micros>,
        cold: bool,
        instance: Option<u64>,
        outcome: Outcome,
    ) {
        if self.wants_requests {
            let row =
                RequestRow { function: &self.funcs[f as usize].name, arrival, start, end, cold, instance, outcome };
            self.sink.request(&row);
        }
    }

    fn emit_instance(&mut self, i: u32, ended: Option<Micros>, reason: &'static str) {
        let it = self.insts.get(i);
        let fr = &self.funcs[it.func as usize];
        let row = InstanceRow {
            id: it.id,
            function: &fr.name,
            function_index: it.func as usize,
            host: it.host,
            reserved: it.reserved,
            created: it.created,
            pull_start: it.pull_start,
            pull_end: it.pull_end,
            ready: it.ready_at,
            ended,
            end_reason: reason,
            served: it.served,
            times: it.times,
            spec: fr.spec,
        };
        self.sink.instance(&row);
    }

    /// Close the run at the horizon: meter live instances to the horizon, count what is
    /// still in flight, flush the last buckets.
    pub fn finish(mut self, mut q: EventQueue<Event>, replication: u32, events: u64) -> RunResult {
        let end = self.horizon;
        self.flush_latencies();
        // close every bucket first: what follows happens at the horizon and adds no time
        self.close_buckets(end);
        self.close_hours(end);
        // requests running at the horizon are the Done events still queued
        while let Some((_, ev)) = q.pop() {
            if let Event::Done { inst, req, cold, .. } = ev {
                let (arrival, start) = self.reqs.close(req);
                // the part run by the horizon is billed like a request cut there
                self.bill_request(inst, start, end);
                let it = self.insts.get(inst);
                let (f, id) = (it.func, it.id);
                self.funcs[f as usize].stats.in_flight += 1;
                self.emit_request(f, arrival, Some(start), None, cold, Some(id), Outcome::InFlight);
            }
        }
        let live: Vec<u32> = self.insts.live().collect();
        for &i in &live {
            let f = self.insts.get(i).func;
            let pending = std::mem::take(&mut self.insts.get_mut(i).pending);
            for p in &pending {
                self.funcs[f as usize].stats.in_flight += 1;
                self.emit_request(f, p.arrival, None, None, true, None, Outcome::InFlight);
            }
            self.set_phase(i, None, end);
            self.emit_instance(i, None, "horizon");
        }
        for f in 0..self.funcs.len() {
            let queued: Vec<Pending> = self.funcs[f].queue.drain(..).collect();
            for p in queued {
                self.funcs[f].stats.in_flight += 1;
                self.emit_request(f as u32, p.arrival, None, None, false, None, Outcome::InFlight);
            }
            let st = &mut self.funcs[f].stats;
            st.live_change(end, 0);
            // frozen: the reports' copies share the bins, and all = warm + cold is a view
            st.warm_latency.freeze();
            st.cold_latency.freeze();
            st.latency = latency::Latency::sum(&st.warm_latency, &st.cold_latency);
        }
        let specs = self.funcs.iter().map(|f| f.spec).collect();
        RunResult {
            replication,
            specs,
            functions: self.funcs.into_iter().map(|f| (f.name, f.stats)).collect(),
            events,
            horizon: end,
        }
    }
}

impl Handler for Platform<'_> {
    type Event = Event;

    #[inline]
    fn next_external(&self) -> Option<SimTime> {
        self.next_arrivals.peek().map(|r| r.0)
    }

    /// The next arrival: take its execution time from the trace or draw it, schedule the
    /// stream's following arrival, route it.
    #[inline]
    fn handle_external(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        self.advance_clocks(now);
        let Some(&(_, stream)) = self.next_arrivals.peek() else {
            return;
        };
        let st = &mut self.streams[stream as usize];
        let f = st.func;
        let exec = match st.exec {
            Some(e) => e,
            None => self.funcs[f as usize].exec.sample(&mut st.exec_rng),
        };
        match st.advance() {
            Some(t) => {
                self.next_arrivals.replace_top((t, stream));
            }
            None => {
                self.next_arrivals.pop();
            }
        }
        self.arrive(f, exec, now, q);
    }

    #[inline]
    fn handle(&mut self, now: SimTime, event: Event, q: &mut EventQueue<Event>) {
        self.advance_clocks(now);
        let live = |s: &Self, inst: u32, gen: u32| {
            let it = s.insts.get(inst);
            it.gen == gen && it.state != State::Dead
        };
        match event {
            Event::Done { inst, req, cold, failed } => self.on_done(inst, req, cold, failed, now, q),
            Event::KeepAlive { func } => self.on_keepalive(func, now, q),
            Event::ReadyTimeout { inst, gen } => {
                if live(self, inst, gen) {
                    self.on_ready_timeout(inst, now, q);
                }
            }
            Event::ManifestDone { inst, gen } => {
                if live(self, inst, gen) {
                    self.on_manifest(inst, now, q);
                }
            }
            Event::OverheadDone { host, layer } => self.on_overhead_done(host, layer, now, q),
            Event::TransferDone { gen } => {
                if gen == self.transfer_gen {
                    self.on_transfer_done(now, q);
                }
            }
            Event::ExtractDone { host, layer } => self.on_extract_done(host, layer, now, q),
            Event::CreateDone { inst, gen } => {
                if live(self, inst, gen) {
                    self.on_create_done(inst, now, q);
                }
            }
            Event::StartupDone { inst, gen } => {
                if live(self, inst, gen) {
                    self.become_ready(inst, now, q);
                }
            }
            Event::QueueTimeout { func } => self.on_queue_timeout(func, now, q),
            Event::ReservedStep { func, step } => self.on_reserved_step(func, step, now, q),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
