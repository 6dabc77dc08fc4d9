//! The platform model: hosts with layer caches, image pulls, container and app start,
//! routing, the request queue, reserved instances and keep-alive — one [`Platform`] that owns
//! all state and reacts to every [`Event`] in its one `handle`. It meters usage exactly and
//! hands rows to a [`Sink`]; it knows nothing of files or money.
//!
//! Where each rule lives, one file each:
//! - `router.rs`: which instance takes a request — the `pick` policies over the warm list,
//!   then a starting instance, a new one, the queue or a throttle; dispatch and completion;
//! - `cpu_share.rs`: contention — the CPU parts of the requests on an instance share its
//!   vCPUs (processor sharing on a virtual clock), their waits follow;
//! - `queue.rs`: the request queue (draining into freed slots and new instances, timeouts);
//! - `keepalive.rs`: idle timers of on-demand instances and their reclaim;
//! - `lifecycle.rs`: placement on a host, create, start, ready, `ready_timeout`, release;
//! - `pull.rs`: the manifest, per-host download slots, ordered extraction (and `host.rs`: the
//!   layer cache; `bandwidth.rs`: max-min fair sharing of the links among downloads;
//!   `p2p.rs`: under p2p distribution, which host serves a layer to which);
//! - `reserved.rs`: reserved targets and their daily schedule steps;
//! - `scaleout.rs`: the provider's scale-out rate (a token bucket per function);
//! - `meters.rs`: the meter and statistics hooks (phase changes, per-request rounding,
//!   buckets, clock hours); `stats.rs`: what a run counts and the rows a sink receives;
//! - `arrivals.rs`: every stream's arrivals merged in time order with their execution
//!   times, made ahead in batches (on a helper thread when a core is spare);
//! - `state.rs`: the struct-of-arrays run-time state and how a platform is built;
//!   `instance.rs`: the instance slab; `output.rs`: rows and the close at the horizon.

mod arrivals;
mod audit;
mod bandwidth;
mod cpu_share;
pub mod host;
pub mod instance;
mod keepalive;
mod lifecycle;
mod meters;
mod output;
mod p2p;
pub mod pull;
mod queue;
mod reserved;
pub mod router;
mod scaleout;
mod state;
pub mod stats;

use crate::engine::rng::Rng;
use crate::engine::{self, EventQueue, Handler, SimTime};
use crate::latency::LatencyLog;
use crate::scenario::Scenario;
use crate::units::Micros;
use crate::usage::{Meters, Phase, Spec};
use crate::workload::dist::Sampler;

pub use arrivals::Maker;
pub use audit::Violation;
use host::Host;
use instance::{Pending, Slab, State};
use pull::Transfers;
use state::{FnRt, LayerInfo, ReqTable};
pub use stats::{
    add_instance_time, BucketRow, FnStats, InstanceRow, NullSink, Outcome, PhaseClock, RequestRow, Series, Sink,
    VecSink,
};

/// From this many functions on, latency records are deferred and applied in batches (see
/// `crate::latency::log`): below it the histograms stay in cache and a record costs less applied at once.
/// The same bound turns on prefetching the next arrival's state (see `next_arrivals`).
const DEFER_LATENCIES_FROM: usize = 256;

/// From this many functions on, each function's latency histograms keep 2 significant digits
/// (bins at most 1% wide) instead of 3 (0.1%), as trace functions do: a histogram spans some
/// 5,000 bins at 3 digits and 500 at 2, so a 10,000-function fleet's percentiles stay within
/// tens of MB however long the run, rather than growing towards hundreds.
const COARSE_LATENCIES_FROM: usize = 256;

/// How many arrivals ahead a large fleet looks: an arrival's stream and function are
/// prefetched when it comes into view, what they point to (its instance, its billed
/// counters) half-way, so each of the two waits for memory overlaps a few handled events.
const LOOKAHEAD: usize = 8;

/// Everything that can happen. Instance events carry the slot's generation: a stale one
/// (the slot was reused) is dropped, which is how timers are cancelled.
/// `repr(C)`: a 4-byte tag and 4-byte-aligned fields, so the event queue moves an event as
/// two aligned words and reading a field back is a plain load (a packed 1-byte tag made the
/// handler's first read of a popped event wait on a store-forwarding stall).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub enum Event {
    /// A request ends on an instance; `req` indexes the run's table of requests in flight.
    Done {
        inst: u32,
        req: u32,
        cold: bool,
        failed: bool,
    },
    /// The next CPU part on instance `inst` ends, or the oldest reaches its timeout (stale
    /// unless `epoch` is the instance's current one).
    CpuTick {
        inst: u32,
        epoch: u32,
    },
    /// Scale-out tokens of function `func` are back: serve its queue.
    ScaleOut {
        func: u32,
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
    /// The warmup is over: statistics and meters start from here.
    Warmup,
    /// A daily reserved-instance step takes effect.
    ReservedStep {
        func: u32,
        step: u32,
    },
    /// The back-off after reserved instances of `func` failed to start is over.
    ReservedRetry {
        func: u32,
    },
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
    /// Statistics and the bill cover `[warmup, horizon)`.
    pub warmup: Micros,
    /// Layer downloads of the whole run by source (warmup included).
    pub downloads: Downloads,
}

/// Layer downloads by where their bytes came from: the registry, or a peer (p2p).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Downloads {
    pub registry: u64,
    pub peers: u64,
}

/// The model of one replication.
pub struct Platform<'a> {
    sc: &'a Scenario,
    horizon: Micros,
    /// `simulation.warmup`: requests that arrive before it and usage before it are left out.
    warmup: Micros,
    funcs: Vec<FnRt>,
    layers: Vec<LayerInfo>,
    image_layers: Vec<Vec<u32>>,
    /// Hosts that completed a pull of each image (checked lazily: layers may have gone).
    image_holders: Vec<Vec<u32>>,
    hosts: Vec<Host>,
    insts: Slab,
    transfers: Transfers,
    transfer_gen: u32,
    /// Every stream's arrivals merged in time order, made ahead in batches (here or on a
    /// helper thread, see `arrivals.rs`). In large fleets the next [`LOOKAHEAD`] are in view
    /// and their state is prefetched in two steps (see `prefetch_ahead`).
    feed: arrivals::Feed,
    /// Whether to prefetch (large fleets only: a few functions' state stays in cache).
    prefetch: bool,
    rng: Rng,
    create: Sampler,
    series: Series,
    sink: &'a mut dyn Sink,
    wants_requests: bool,
    meters: Meters,
    /// Start and end of the current clock hour (when hourly meters are on).
    hour_start: Micros,
    next_hour: Micros,
    /// Every clock hour is made of whole time-series buckets (the bucket divides the hour,
    /// or the run is an hour at most): each function's hour then sums its buckets'
    /// instance-time as they close ([`PhaseClock::absorb`]) instead of following every
    /// phase change.
    hours_from_buckets: bool,
    /// Arrival and start of each request in flight (slots reused): keeps events small.
    reqs: ReqTable,
    /// Latency records waiting to be applied (large fleets only); histogram key =
    /// function × 2 + cold.
    latlog: Option<LatencyLog>,
    /// Functions whose reserved target found no room, in order: retried when memory frees.
    short: Vec<u32>,
    scratch_pulls: Vec<u32>,
    /// Where each pull stopped (see `advance_pulls_on`).
    pull_waits: pull::PullWaits,
    scratch_done: Vec<bandwidth::Finished>,
    /// Layers whole on a host at a transfer's end (with the children that waited for them).
    scratch_whole: Vec<(u32, u32)>,
    /// Peer-to-peer distribution's trees (`platform.pull.distribution = "p2p"`).
    p2p: Option<p2p::P2p>,
    downloads: Downloads,
    scratch_pending: Vec<Pending>,
    /// The audit's books when the run is audited ([`simulate_audited`]).
    audit: Option<Box<audit::Audit>>,
    /// Processor sharing per instance slot (grown on first use, for functions with CPU work).
    cpu_shares: Vec<cpu_share::CpuShare>,
    /// Requests under sharing, by their slot in `reqs`.
    cpu_jobs: Vec<cpu_share::CpuJob>,
}

/// Simulate one replication of `sc` to its horizon, streaming rows into `sink`.
/// `progress` receives the simulated time now and then. A model loop that never advances the
/// clock stops the run with a [`engine::Stall`] instead of spinning.
pub fn simulate(
    sc: &Scenario,
    replication: u32,
    sink: &mut dyn Sink,
    meters: &Meters,
    progress: impl FnMut(SimTime),
) -> Result<RunResult, engine::Stall> {
    simulate_with(sc, replication, sink, meters, Maker::Same, progress)
}

/// [`simulate`] with its arrivals made where `maker` says: [`Maker::Helper`] takes a second
/// core for them (worth it when no other replication runs beside); the result is the same.
pub fn simulate_with(
    sc: &Scenario,
    replication: u32,
    sink: &mut dyn Sink,
    meters: &Meters,
    maker: Maker,
    progress: impl FnMut(SimTime),
) -> Result<RunResult, engine::Stall> {
    let mut queue = EventQueue::new();
    let mut p = Platform::with_maker(sc, replication, sink, meters, maker);
    p.start(&mut queue);
    let events = engine::run(&mut p, &mut queue, sc.simulation.horizon, engine::SAME_INSTANT_LIMIT, progress)?;
    Ok(p.finish(queue, replication, events))
}

/// Why an audited run stopped.
#[derive(Debug)]
pub enum Failure {
    /// The model looped at one instant.
    Stall(engine::Stall),
    /// The model broke one of its invariants.
    Audit(Violation),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Stall(s) => s.fmt(f),
            Failure::Audit(v) => v.fmt(f),
        }
    }
}

impl std::error::Error for Failure {}

/// [`simulate`] with the audit on (`coldcost run --audit`): every invariant of the model is
/// checked after every event and at the end (see `audit.rs`); the first one broken stops
/// the run with a [`Failure::Audit`] naming it, the simulated time and what it is about.
/// The result, when there is one, is the same as [`simulate`]'s.
pub fn simulate_audited(
    sc: &Scenario,
    replication: u32,
    sink: &mut dyn Sink,
    meters: &Meters,
    progress: impl FnMut(SimTime),
) -> Result<RunResult, Failure> {
    let mut queue = EventQueue::new();
    let mut p = Platform::new(sc, replication, sink, meters);
    p.audit = Some(Box::new(audit::Audit::new(sc)));
    // the audit reads every request row; the sink still gets them only if it wants them
    p.wants_requests = true;
    p.start(&mut queue);
    p.sweep(0);
    let limit = engine::SAME_INSTANT_LIMIT;
    let events = engine::run(&mut audit::Audited(&mut p), &mut queue, sc.simulation.horizon, limit, progress)
        .map_err(Failure::Stall)?;
    if let Some(v) = p.audit.as_ref().and_then(|a| a.violation()) {
        return Err(Failure::Audit(v.clone()));
    }
    let (result, a) = p.close(queue, replication, events);
    let a = a.expect("the audit is on");
    if let Some(v) = a.violation() {
        return Err(Failure::Audit(v.clone()));
    }
    audit::check_end(&a, &result).map_err(Failure::Audit)?;
    Ok(result)
}

impl Platform<'_> {
    /// Prefetch for the arrivals in view: the function of the one that just came into view;
    /// for the one half-way, the state it points to that the arrival will touch (the
    /// function's billed counters, its newest free instance, its hourly clock).
    #[inline]
    fn prefetch_ahead(&self) {
        if let Some(a) = self.feed.ahead(LOOKAHEAD - 1) {
            engine::prefetch(&self.funcs[a.func as usize], state::FN_HOT_LINES);
        }
        if let Some(a) = self.feed.ahead(LOOKAHEAD / 2) {
            let fr = &self.funcs[a.func as usize];
            // only the lines the arrival's stretch (idle ends) and its end's (busy ends) add
            // to, on an on-demand instance: every line more competes for the same few misses
            // in flight
            let phases = [Phase::IdleKeepalive, Phase::Busy];
            for p in phases {
                for r in self.meters.rounding(p) {
                    if let Some(b) = fr.stats.billed.get(r) {
                        engine::prefetch(&b[0][p.index()], 1);
                    }
                }
            }
            if let Some(h) = &fr.hour_clock {
                if self.hours_from_buckets {
                    h.prefetch_started();
                } else {
                    h.prefetch(0, phases);
                }
            }
            if let Some(i) = fr.avail_ondemand.first() {
                engine::prefetch(self.insts.get(i), 3);
            }
        }
    }
}

impl Handler for Platform<'_> {
    type Event = Event;

    #[inline]
    fn next_external(&self) -> Option<SimTime> {
        self.feed.peek().map(|a| a.time)
    }

    /// The next arrival (its execution time made with it): route it.
    #[inline]
    fn handle_external(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        self.advance_clocks(now);
        let a = self.feed.take();
        if self.prefetch {
            self.prefetch_ahead();
        }
        self.arrive(a.func, a.exec, now, q);
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
            Event::CpuTick { inst, epoch } => self.on_cpu_tick(inst, epoch, now, q),
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
            Event::ScaleOut { func } => self.on_scale_out(func, now, q),
            Event::ReservedStep { func, step } => self.on_reserved_step(func, step, now, q),
            Event::ReservedRetry { func } => self.adjust_reserved(func, now, q),
            Event::Warmup => self.on_warmup(now),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod bill_tests;

#[cfg(test)]
mod scenario_gen;

#[cfg(test)]
mod relations;

#[cfg(test)]
mod cpu_tests;

#[cfg(test)]
mod lazy_tests;

#[cfg(test)]
mod gpu_bill_tests;
