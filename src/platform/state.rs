//! The run-time state, laid out for the hot path: per-function state with the fields a
//! request touches first, the table of requests in flight; and how a
//! [`Platform`] is built from a scenario and started.

use std::collections::VecDeque;

use crate::engine::rng::stream;
use crate::engine::EventQueue;
use crate::scenario::{Arrivals, Distribution, PullMode, Reserved, ReservedStep, Scenario};
use crate::units::{Micros, MICROS_PER_HOUR as HOUR};
use crate::usage::{Meters, Spec};
use crate::workload::dist::Sampler;

use super::arrivals::{Feed, Maker, Merge};
use super::host::Host;
use super::instance::{Pending, Slab};
use super::p2p::P2p;
use super::pull::Transfers;
use super::router::AvailList;
use super::stats::{BucketTime, FnStats, PhaseClock, Series, Sink};
use super::{Event, Platform, COARSE_LATENCIES_FROM, DEFER_LATENCIES_FROM};
use crate::latency::LatencyLog;

/// A distinct layer blob (layers with the same id in several images are one).
#[derive(Debug, Clone)]
pub(super) struct LayerInfo {
    pub(super) compressed: u64,
    pub(super) uncompressed: u64,
    pub(super) files: u64,
    /// A layer is extracted once downloaded; a lazy piece is not (it is mounted).
    pub(super) extract: bool,
}

/// A function's run-time state. At fleet scale every request touches the state of a
/// different, cold function, so the fields a request reads or writes come first, together,
/// and `repr(C)` keeps that order: the hot part spans a few adjacent cache lines (and
/// `FnStats` puts its per-request counters first) instead of lines scattered over 2.5 KB.
#[repr(C)]
pub(super) struct FnRt {
    // -- read or written by every request
    pub(super) concurrency: u32,
    pub(super) live: u32,
    pub(super) timeout: Micros,
    pub(super) keep_alive: Micros,
    pub(super) avail_reserved: AvailList,
    pub(super) avail_ondemand: AvailList,
    pub(super) queue_timer_armed: bool,
    pub(super) expiry_timer_armed: bool,
    /// Its CPU use under contention; None when `cpu_fraction` is 0.
    pub(super) cpu: Option<super::cpu_share::CpuRt>,
    /// Keep-alive deadlines of idle on-demand instances, oldest first: (deadline, slot, gen).
    pub(super) expiries: super::keepalive::Expiries,
    pub(super) queue: VecDeque<Pending>,
    /// ... and in the current clock hour (only when the meters ask for it).
    pub(super) hour_clock: Option<Box<PhaseClock>>,
    /// Starting instances with a free pending slot.
    pub(super) starting: Vec<u32>,
    /// This function's instance-time in the current time-series bucket.
    pub(super) clock: BucketTime,
    // routing reads these for every request too
    pub(super) max_instances: u32,
    pub(super) scale_timer_armed: bool,
    /// The provider's scale-out rate, if it has one.
    pub(super) scale: Option<super::scaleout::Bucket>,
    pub(super) queue_cap: usize,
    pub(super) stats: FnStats,
    // -- cold starts, scaling, reports
    pub(super) reserved_live: u32,
    pub(super) reserved_target: u32,
    /// Since when `reserved_target - reserved_live` has held (for the shortfall integral).
    pub(super) short_since: Micros,
    /// Reserved instances that failed to start in a row (reset by one that starts), and
    /// until when no new one is made ([`super::reserved::backoff`]).
    pub(super) start_failures: u32,
    pub(super) backoff_until: Micros,
    pub(super) queue_timeout: Micros,
    pub(super) cold_service: Option<Sampler>,
    pub(super) startup: Sampler,
    pub(super) spec: Spec,
    pub(super) steps: Vec<ReservedStep>,
    pub(super) image: usize,
    pub(super) name: String,
    /// Significant digits of its latency histograms.
    pub(super) latency_digits: u8,
}

/// The cache lines of a [`FnRt`] a request reads or writes: up to the end of its statistics'
/// per-request counters (what a large fleet prefetches for an arrival).
pub(super) const FN_HOT_LINES: usize =
    (std::mem::offset_of!(FnRt, stats) + std::mem::offset_of!(FnStats, warm_latency)).div_ceil(64);

/// Requests in flight: (arrival, start) by slot, slots reused.
#[derive(Default)]
pub(super) struct ReqTable {
    pub(super) slots: Vec<(Micros, Micros)>,
    pub(super) free: Vec<u32>,
}

impl ReqTable {
    #[inline]
    pub(super) fn open(&mut self, arrival: Micros, start: Micros) -> u32 {
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
    pub(super) fn close(&mut self, k: u32) -> (Micros, Micros) {
        self.free.push(k);
        self.slots[k as usize]
    }
}

impl<'a> Platform<'a> {
    pub fn new(sc: &'a Scenario, replication: u32, sink: &'a mut dyn Sink, meters: &Meters) -> Self {
        Platform::with_maker(sc, replication, sink, meters, Maker::Same)
    }

    /// A platform whose arrivals are made where `maker` says (the run is the same).
    pub fn with_maker(
        sc: &'a Scenario,
        replication: u32,
        sink: &'a mut dyn Sink,
        meters: &Meters,
        maker: Maker,
    ) -> Self {
        let seed = sc.simulation.seed;
        // distinct layers by id, in order of first appearance (a trace may bring an image
        // per function: find ids by hash)
        let mut ids: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut layers = Vec::new();
        let mut plain = Vec::new();
        for img in &sc.images {
            let mut idx = Vec::new();
            for l in &img.layers {
                let i = *ids.entry(&l.id).or_insert_with(|| {
                    let (compressed, uncompressed, files) = (l.compressed, l.uncompressed, l.files);
                    layers.push(LayerInfo { compressed, uncompressed, files, extract: true });
                    (layers.len() - 1) as u32
                });
                idx.push(i);
            }
            plain.push(idx);
        }
        let image_layers = piece_lists(sc, plain, &mut layers);
        // functions replayed from a trace, and every function of a large fleet, keep coarser
        // latency histograms (see `latency` and `COARSE_LATENCIES_FROM`)
        let fleet = sc.functions.len() >= COARSE_LATENCIES_FROM;
        let mut from_trace = vec![fleet; sc.functions.len()];
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
                    latency_digits: if from_trace { 2 } else { 3 },
                    image: f.image,
                    spec: f.spec(),
                    concurrency: f.concurrency,
                    max_instances: f.max_instances,
                    scale: sc.platform.provider.scale.as_ref().map(super::scaleout::Bucket::new),
                    scale_timer_armed: false,
                    queue_cap: f.queue as usize,
                    queue_timeout: f.queue_timeout,
                    timeout: f.timeout,
                    keep_alive: f.keep_alive,
                    startup: f.startup.sampler(),
                    cpu: super::cpu_share::CpuRt::of(&f.cpu, f.milli_vcpu),
                    cold_service: f.cold_service.as_ref().map(|d| d.sampler()),
                    steps,
                    avail_reserved: AvailList::default(),
                    avail_ondemand: AvailList::default(),
                    starting: Vec::new(),
                    queue: VecDeque::with_capacity((f.queue as usize).min(1 << 16)),
                    queue_timer_armed: false,
                    expiries: Default::default(),
                    expiry_timer_armed: false,
                    live: 0,
                    reserved_live: 0,
                    reserved_target: 0,
                    short_since: 0,
                    start_failures: 0,
                    backoff_until: 0,
                    stats: FnStats {
                        billed: vec![Default::default(); meters.rules().len()],
                        ..FnStats::with_latency_digits(if from_trace { 2 } else { 3 })
                    },
                    clock: BucketTime::default(),
                    hour_clock: meters.keeps_hours().then(Box::default),
                }
            })
            .collect();
        let pl = &sc.platform;
        let wants_requests = sink.wants_requests();
        let layers_len = layers.len();
        Platform {
            sc,
            horizon: sc.simulation.horizon,
            warmup: sc.simulation.warmup,
            funcs,
            layers,
            image_holders: vec![Vec::new(); sc.images.len()],
            image_layers,
            hosts: (0..pl.hosts).map(|_| Host::new(pl.host_memory_mb)).collect(),
            insts: Slab::default(),
            transfers: Transfers::new(pl.hosts as usize, pl.pull.host_bandwidth, pl.pull.registry_bandwidth),
            transfer_gen: 0,
            feed: Feed::new(Merge::of(sc, replication), maker),
            prefetch: sc.functions.len() >= DEFER_LATENCIES_FROM,
            rng: stream(seed, replication, "platform", 0),
            create: pl.container_create.sampler(),
            series: Series::new(sc.simulation.bucket, sc.simulation.horizon),
            sink,
            wants_requests,
            hour_start: 0,
            next_hour: if meters.keeps_hours() { HOUR.min(sc.simulation.horizon) } else { Micros::MAX },
            hours_from_buckets: sc.simulation.horizon <= HOUR || HOUR % sc.simulation.bucket == 0,
            meters: meters.clone(),
            reqs: ReqTable::default(),
            latlog: (sc.functions.len() >= DEFER_LATENCIES_FROM).then(|| LatencyLog::new(2 * sc.functions.len())),
            short: Vec::new(),
            scratch_pulls: Vec::new(),
            pull_waits: Default::default(),
            scratch_done: Vec::new(),
            scratch_whole: Vec::new(),
            downloads: super::Downloads::default(),
            p2p: match pl.pull.distribution {
                Distribution::Registry => None,
                Distribution::P2p { fanout } => Some(P2p::new(fanout, layers_len)),
            },
            scratch_pending: Vec::new(),
            audit: None,
            cpu_shares: Vec::new(),
            cpu_jobs: Vec::new(),
        }
    }

    /// First arrivals, reserved instances, schedule steps.
    pub fn start(&mut self, q: &mut EventQueue<Event>) {
        // queued first, so the reset is the first thing at its instant: whatever happens at
        // `warmup` (an arrival, a start, a release) counts after it, as `arrival >= warmup` says
        if self.warmup > 0 {
            q.push(self.warmup, Event::Warmup);
        }
        for f in 0..self.funcs.len() {
            self.start_reserved(f as u32, q);
        }
    }

    /// The warmup is over: every function's statistics start afresh (live instances kept),
    /// and each live instance's meters restart here — what it did before is not billed.
    /// The time series stays whole. Requests that arrived before are left out as they end.
    pub(super) fn on_warmup(&mut self, now: Micros) {
        self.flush_latencies();
        for f in &mut self.funcs {
            let (live, billed) = (f.stats.live, f.stats.billed.len());
            f.stats = FnStats {
                billed: vec![Default::default(); billed],
                live,
                live_since: now,
                ..FnStats::with_latency_digits(f.latency_digits)
            };
            f.short_since = now;
        }
        let live: Vec<u32> = self.insts.live().collect();
        for i in live {
            let it = self.insts.get_mut(i);
            it.times = [0; crate::usage::Phase::COUNT];
            it.phase_since = now;
        }
    }
}

/// The layer lists pulls walk, two per image (see [`Platform::list`]): its layers, and its
/// lazy pieces — an index piece per layer (fetched before the container starts), then a read
/// piece per layer (read while the app starts). Pieces are blobs of their own in the host
/// cache, `fraction` of their layer's bytes, shared where the layer is shared, never
/// extracted. Only built when some image can be pulled lazily.
fn piece_lists(sc: &Scenario, plain: Vec<Vec<u32>>, layers: &mut Vec<LayerInfo>) -> Vec<Vec<u32>> {
    let pl = &sc.platform.pull;
    let any_lazy = pl.mode == PullMode::Lazy || sc.images.iter().any(|i| i.accelerated_from.is_some());
    let n = layers.len();
    let mut pieces = [vec![u32::MAX; n], vec![u32::MAX; n]];
    let mut out = Vec::with_capacity(plain.len() * 2);
    for idx in plain {
        let mut lazy = Vec::new();
        if any_lazy {
            for (kind, fraction) in [pl.lazy.index_fraction, pl.lazy.read_fraction].into_iter().enumerate() {
                for &l in &idx {
                    if pieces[kind][l as usize] == u32::MAX {
                        let base = &layers[l as usize];
                        let part = |b: u64| (b as f64 * fraction).round() as u64;
                        let piece = LayerInfo {
                            compressed: part(base.compressed),
                            uncompressed: part(base.uncompressed),
                            files: 0,
                            extract: false,
                        };
                        layers.push(piece);
                        pieces[kind][l as usize] = (layers.len() - 1) as u32;
                    }
                    lazy.push(pieces[kind][l as usize]);
                }
            }
        }
        out.push(idx);
        out.push(lazy);
    }
    out
}
