//! The audit (`coldcost run --audit`): the model's invariants, checked after every event and
//! at the end of a run, so a rule that breaks one stops the run at the event that broke it —
//! one line naming the invariant, the simulated time and the instance, host or layer — instead
//! of printing wrong numbers. Off by default and free when off: the per-event checks run in a
//! handler that wraps the platform ([`Audited`]), so an unaudited run never reaches them; the
//! few hooks inside the model (rows out, downloads asked for, buckets closed) test one `Option`.
//!
//! After every event: requests are conserved per function (arrived = ended + queued + waiting
//! on a start + running); each live instance's phase times add up to its life so far, it is
//! busy exactly while it serves, within its concurrency; each host's memory is accounted and
//! never over; each layer's pin count is the number of live instances holding it and no pinned
//! layer is gone, a pull's cached prefix is cached, the cache's byte count is its layers',
//! downloads stay within `parallel_layers`; no link carries more than its capacity and the
//! shares are max-min fair (under p2p: as the model gives them, with the trees' own
//! invariants, `check_p2p`); reserved counts match the instances. On each row: an instance's
//! phase times add up to its life and its busy time is the union of its requests' intervals;
//! a download is asked only for a layer missing from its host. At the end: every counter of a
//! function equals what its request and instance rows show, and the time series' totals equal
//! the rows' (usage included, to the MB·µs).

use std::collections::HashMap;

use crate::engine::{EventQueue, Handler, SimTime};
use crate::units::Micros;
use crate::usage::{Phase, Usage};

use super::host::LayerState;
use super::instance::State;
use super::stats::{BucketRow, InstanceRow, Outcome, RequestRow};
use super::{Event, Platform, RunResult};

/// A broken invariant: which, when, and what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    /// Simulated time of the event after which it was found.
    pub at: Micros,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit: {} broken at t = {} µs: {}", self.invariant, self.at, self.detail)
    }
}

impl std::error::Error for Violation {}

/// Requests by how they ended (or not), as the request rows show them.
#[derive(Debug, Clone, Default)]
struct Ledger {
    ok: u64,
    failed: u64,
    throttled: u64,
    queue_timeout: u64,
    in_flight: u64,
    cold: u64,
    started: u64,
}

/// What a function's instance rows add up to (those the statistics count).
#[derive(Debug, Clone, Default)]
struct Instances {
    usage: Usage,
    usage_kind: [Usage; 2],
    created: u64,
    live_us: u128,
    pulls: u64,
    pull_us: u128,
}

/// The audit's own books, kept from what the model shows (rows, events), never from its
/// counters: the checks compare the two.
pub(super) struct Audit {
    violation: Option<Violation>,
    /// When the warmup reset ran (times, meters and statistics restart there).
    reset_at: Option<Micros>,
    /// Per function: arrivals seen, and requests whose row says they ended.
    arrived: Vec<u64>,
    ended: Vec<u64>,
    /// Per function, rows the statistics count (arrival at or after the warmup).
    counted: Vec<Ledger>,
    /// Every row, all functions (what the time series counts).
    all: Ledger,
    all_instances: u64,
    all_usage: Usage,
    /// Usage before the warmup reset (the time series keeps it, the instance rows do not).
    pre_warmup: Usage,
    instances: Vec<Instances>,
    /// Request intervals per instance id, until its row.
    busy: HashMap<u64, Vec<(Micros, Micros)>>,
    buckets: BucketRow,
    /// Scratch: expected pins per (host, layer), and an instance holding it.
    pins: HashMap<(u32, u32), (u32, u64)>,
    /// Each distinct layer's id (as the platform numbers them), for messages.
    layer_ids: Vec<String>,
}

impl Audit {
    pub(super) fn new(sc: &crate::scenario::Scenario) -> Self {
        let functions = sc.functions.len();
        // distinct layers in order of first appearance, as `Platform::new` numbers them
        let mut layer_ids: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for l in sc.images.iter().flat_map(|i| &i.layers) {
            if seen.insert(l.id.as_str()) {
                layer_ids.push(l.id.clone());
            }
        }
        Audit {
            layer_ids,
            violation: None,
            reset_at: None,
            arrived: vec![0; functions],
            ended: vec![0; functions],
            counted: vec![Ledger::default(); functions],
            all: Ledger::default(),
            all_instances: 0,
            all_usage: Usage::default(),
            pre_warmup: Usage::default(),
            instances: vec![Instances::default(); functions],
            busy: HashMap::new(),
            buckets: BucketRow::default(),
            pins: HashMap::new(),
        }
    }

    pub(super) fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// Keep the first violation: later ones are its consequences.
    fn fail(&mut self, invariant: &'static str, at: Micros, detail: String) {
        if self.violation.is_none() {
            self.violation = Some(Violation { invariant, at, detail });
        }
    }

    /// When an instance's metered life began, seen at `t`: its creation, or the warmup reset.
    fn life_start(&self, created: Micros, t: Micros) -> Micros {
        match self.reset_at {
            Some(w) if w <= t => created.max(w),
            _ => created,
        }
    }

    /// A request row of function `f`.
    pub(super) fn request(&mut self, f: u32, row: &RequestRow<'_>, warmup: Micros, horizon: Micros) {
        let f = f as usize;
        if row.outcome != Outcome::InFlight {
            self.ended[f] += 1;
        }
        for (l, on) in [(&mut self.all, true), (&mut self.counted[f], row.arrival >= warmup)] {
            if !on {
                continue;
            }
            match row.outcome {
                Outcome::Ok => l.ok += 1,
                Outcome::Failed => l.failed += 1,
                Outcome::Throttled => l.throttled += 1,
                Outcome::QueueTimeout => l.queue_timeout += 1,
                Outcome::InFlight => l.in_flight += 1,
            }
            l.cold += row.cold as u64;
            l.started += row.start.is_some() as u64;
        }
        if let (Some(id), Some(start)) = (row.instance, row.start) {
            self.busy.entry(id).or_default().push((start, row.end.unwrap_or(horizon)));
        }
    }

    /// An instance row: its phase times add up to its life, its busy time is the union of its
    /// requests' intervals; then it joins the books.
    pub(super) fn instance(&mut self, row: &InstanceRow<'_>, warmup: Micros, horizon: Micros) {
        let end = row.ended.unwrap_or(horizon);
        let start = self.life_start(row.created, end);
        let sum: u64 = row.times.iter().sum();
        let who = || format!("instance {} of {} on host {}", row.id, row.function, row.host);
        if sum != end - start {
            let d =
                format!("{}: phase times add up to {sum} µs, its life [{start}, {end}) is {} µs", who(), end - start);
            self.fail("phase times add up to the life", end, d);
        }
        let busy = row.times[Phase::Busy.index()];
        let mut spans = self.busy.remove(&row.id).unwrap_or_default();
        let union = union_within(&mut spans, start, end);
        if busy > end - start || busy != union {
            let d = format!("{}: busy {busy} µs, life {} µs, its requests cover {union} µs", who(), end - start);
            self.fail("busy time is the union of the requests and within the life", end, d);
        }
        let k = row.reserved as usize;
        self.all_instances += 1;
        self.all_usage.add_times(&row.spec, &row.times);
        let i = &mut self.instances[row.function_index];
        i.created += (row.created >= warmup) as u64;
        // the statistics restart at the warmup: an instance gone before it is not in them
        if end >= warmup {
            i.usage.add_times(&row.spec, &row.times);
            i.usage_kind[k].add_times(&row.spec, &row.times);
            i.live_us += (end - start) as u128;
        }
        if let Some(p) = row.pull_start.filter(|&p| p >= warmup) {
            i.pulls += 1;
            i.pull_us += row.pull_end.map_or(0, |e| (e - p) as u128);
        }
    }

    /// A closed time-series bucket: its counters join the totals.
    pub(super) fn bucket(&mut self, row: &BucketRow) {
        let b = &mut self.buckets;
        b.arrivals += row.arrivals;
        b.cold_starts += row.cold_starts;
        b.completed += row.completed;
        b.throttled += row.throttled;
        b.failed += row.failed;
        b.queue_timeouts += row.queue_timeouts;
        b.instances_created += row.instances_created;
        b.started[0] += row.started[0] + row.started[1];
        b.usage[0].merge(&row.total());
    }

    /// Under p2p, host `h`'s download of layer `l` takes its bytes from `parent` (`None`: the
    /// registry) while `holder` holds it: the registry is read only when nobody does.
    pub(super) fn root(&mut self, h: u32, l: u32, parent: Option<u32>, holder: Option<u32>, now: Micros) {
        if let (None, Some(p)) = (parent, holder) {
            let layer = self.layer_ids.get(l as usize).cloned().unwrap_or_default();
            let d = format!("layer {layer} is read from the registry for host {h} while host {p} holds it");
            self.fail("the registry serves a layer once per tree", now, d);
        }
    }

    /// A download is asked for layer `layer` on `host`: it must be missing there.
    pub(super) fn download(&mut self, host: u32, layer: u32, state: Option<LayerState>, now: Micros) {
        if let Some(s) = state {
            let layer = self.layer_ids.get(layer as usize).cloned().unwrap_or_default();
            let d = format!("layer {layer} on host {host} is downloaded again while {s:?}");
            self.fail("pulls only of missing layers", now, d);
        }
    }
}

/// The length of the union of `spans`, each clipped to `[from, to)`.
fn union_within(spans: &mut [(Micros, Micros)], from: Micros, to: Micros) -> u64 {
    spans.sort_unstable();
    let (mut total, mut reach) = (0, from);
    for &(s, e) in spans.iter() {
        let (s, e) = (s.max(reach), e.min(to));
        if e > s {
            total += e - s;
            reach = e;
        }
    }
    total
}

/// The platform with its audit: the engine's handler in an audited run.
pub(super) struct Audited<'p, 'a>(pub(super) &'p mut Platform<'a>);

impl Handler for Audited<'_, '_> {
    type Event = Event;

    fn next_external(&self) -> Option<SimTime> {
        self.0.next_external()
    }

    fn handle_external(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        if let Some(f) = self.0.feed.peek().map(|a| a.func as usize) {
            if let Some(a) = &mut self.0.audit {
                a.arrived[f] += 1;
            }
        }
        self.0.handle_external(now, q);
        self.0.sweep(now);
    }

    fn handle(&mut self, now: SimTime, event: Event, q: &mut EventQueue<Event>) {
        if let Event::Warmup = event {
            self.0.before_warmup(now);
        }
        self.0.handle(now, event, q);
        self.0.sweep(now);
    }

    fn halted(&self) -> bool {
        self.0.audit.as_ref().is_some_and(|a| a.violation.is_some())
    }
}

/// `Err` with a violation unless `ok`.
fn ensure(ok: bool, invariant: &'static str, at: Micros, detail: impl FnOnce() -> String) -> Result<(), Violation> {
    if ok {
        Ok(())
    } else {
        Err(Violation { invariant, at, detail: detail() })
    }
}

impl Platform<'_> {
    /// The usage before the warmup resets it: the time series keeps it, the rows do not.
    fn before_warmup(&mut self, now: Micros) {
        let Some(mut a) = self.audit.take() else { return };
        for i in self.insts.live() {
            let it = self.insts.get(i);
            let mut times = it.times;
            times[it.phase.index()] += now - it.phase_since;
            a.pre_warmup.add_times(&self.funcs[it.func as usize].spec, &times);
        }
        a.reset_at = Some(now);
        self.audit = Some(a);
    }

    /// Check every invariant of the state after an event at `now`.
    pub(super) fn sweep(&mut self, now: Micros) {
        let Some(mut a) = self.audit.take() else { return };
        if a.violation.is_none() {
            if let Err(v) = self.check_state(&mut a, now) {
                a.violation = Some(v);
            }
        }
        self.audit = Some(a);
    }

    fn check_state(&self, a: &mut Audit, now: Micros) -> Result<(), Violation> {
        self.check_instances(a, now)?;
        self.check_hosts(now)?;
        self.check_layers(a, now)?;
        self.check_links(&a.layer_ids, now)
    }

    /// Requests conserved per function; each instance's times, phase, load; reserved counts.
    fn check_instances(&self, a: &Audit, now: Micros) -> Result<(), Violation> {
        let n = self.funcs.len();
        let (mut waiting, mut running, mut live, mut reserved) = (vec![0u64; n], vec![0u64; n], vec![0; n], vec![0; n]);
        for i in self.insts.live() {
            let it = self.insts.get(i);
            let fr = &self.funcs[it.func as usize];
            let f = it.func as usize;
            waiting[f] += it.pending.len() as u64;
            running[f] += it.inflight as u64;
            live[f] += 1;
            reserved[f] += (it.reserved && !it.release_when_idle) as u32;
            let who = || format!("instance {} of {} on host {}", it.id, fr.name, it.host);
            let start = a.life_start(it.created, now);
            let sum: u64 = it.times.iter().sum::<u64>() + now.saturating_sub(it.phase_since);
            ensure(it.phase_since <= now && sum == now - start, "phase times add up to the life", now, || {
                format!("{}: phase times add up to {sum} µs, its life [{start}, {now}) is {} µs", who(), now - start)
            })?;
            let serving = it.inflight > 0;
            ensure(serving == (it.phase == Phase::Busy), "busy exactly while serving", now, || {
                format!("{}: {} requests running in phase {}", who(), it.inflight, it.phase.name())
            })?;
            let c = fr.concurrency as usize;
            ensure(it.inflight as usize <= c && it.pending.len() <= c, "concurrency", now, || {
                format!("{}: {} running and {} waiting, concurrency {c}", who(), it.inflight, it.pending.len())
            })?;
            ensure(
                it.pending.is_empty() || it.state != State::Ready,
                "a ready instance has no waiting requests",
                now,
                || format!("{}: {} requests wait on it", who(), it.pending.len()),
            )?;
        }
        let open = (self.reqs.slots.len() - self.reqs.free.len()) as u64;
        ensure(open == running.iter().sum::<u64>(), "requests running are the instances' load", now, || {
            format!("{open} requests open, instances run {}", running.iter().sum::<u64>())
        })?;
        for (f, fr) in self.funcs.iter().enumerate() {
            let (queued, ended) = (fr.queue.len() as u64, a.ended[f]);
            let inside = ended + queued + waiting[f] + running[f];
            ensure(a.arrived[f] == inside, "requests conserved", now, || {
                format!(
                    "function {}: arrived {} ≠ ended {ended} + queued {queued} + waiting on a start {} + running {}",
                    fr.name, a.arrived[f], waiting[f], running[f]
                )
            })?;
            ensure(fr.live == live[f] && fr.reserved_live == reserved[f], "live counts", now, || {
                format!(
                    "function {}: counts {} live ({} reserved), instances show {} ({})",
                    fr.name, fr.live, fr.reserved_live, live[f], reserved[f]
                )
            })?;
        }
        Ok(())
    }

    /// Each host's memory: what its live instances hold plus what is free is all of it.
    fn check_hosts(&self, now: Micros) -> Result<(), Violation> {
        let total = self.sc.platform.host_memory_mb;
        let mut used = vec![0u64; self.hosts.len()];
        for i in self.insts.live() {
            let it = self.insts.get(i);
            used[it.host as usize] += self.funcs[it.func as usize].spec.memory_mb;
        }
        for (h, host) in self.hosts.iter().enumerate() {
            ensure(used[h] <= total, "no host over memory", now, || {
                format!("host {h}: live instances hold {} MB of {total} MB", used[h])
            })?;
            ensure(used[h] + host.mem_free_mb == total, "host memory accounted", now, || {
                format!("host {h}: {} MB held + {} MB free ≠ {total} MB", used[h], host.mem_free_mb)
            })?;
        }
        Ok(())
    }

    /// Pins, presence, the cached prefix, the cache's bytes and the download slots.
    fn check_layers(&self, a: &mut Audit, now: Micros) -> Result<(), Violation> {
        let (pins, names) = (&mut a.pins, &a.layer_ids);
        let name = |l: u32| names.get(l as usize).cloned().unwrap_or_else(|| format!("#{l}"));
        pins.clear();
        for i in self.insts.live() {
            let it = self.insts.get(i);
            let img = &self.image_layers[self.list_of(i)];
            let pinned = it.pinned();
            let n = (pinned as usize).min(img.len());
            for (k, &l) in img.iter().enumerate().take(n) {
                pins.entry((it.host, l)).or_insert((0, it.id)).0 += 1;
                let e = self.hosts[it.host as usize].layers.get(&l);
                let layer = || name(l);
                ensure(e.is_some(), "no layer evicted while pinned", now, || {
                    format!("layer {} on host {} is gone while instance {} holds it", layer(), it.host, it.id)
                })?;
                let cached = e.is_some_and(|e| e.state == LayerState::Cached);
                ensure(k >= it.cursor as usize || cached, "a pull's pinned prefix is cached", now, || {
                    format!(
                        "layer {} on host {} is {:?} below instance {}'s cursor",
                        layer(),
                        it.host,
                        e.map(|e| e.state),
                        it.id
                    )
                })?;
            }
        }
        let par = self.sc.platform.pull.parallel_layers;
        for (h, host) in self.hosts.iter().enumerate() {
            let (mut bytes, mut downloading) = (0, 0);
            for (&l, e) in &host.layers {
                let (want, by) = pins.get(&(h as u32, l)).copied().unwrap_or((0, 0));
                ensure(e.refs == want, "pin counts", now, || {
                    let by = if want > 0 { format!(" (instance {by} among them)") } else { String::new() };
                    format!("layer {} on host {h} has {} pins, {want} live instances hold it{by}", name(l), e.refs)
                })?;
                match e.state {
                    LayerState::Cached => bytes += e.size,
                    LayerState::Downloading => downloading += 1,
                    LayerState::Queued => {
                        ensure(host.download_queue.contains(&l), "queued layers are queued", now, || {
                            format!("layer {} on host {h} is queued but not in the host's download queue", name(l))
                        })?
                    }
                    _ => {}
                }
            }
            ensure(bytes == host.cached_bytes, "cache bytes accounted", now, || {
                format!("host {h} counts {} cached bytes, its cached layers hold {bytes}", host.cached_bytes)
            })?;
            ensure(downloading == host.downloads_active && downloading <= par, "download slots", now, || {
                format!(
                    "host {h}: {downloading} layers downloading, {} counted, parallel_layers {par}",
                    host.downloads_active
                )
            })?;
        }
        Ok(())
    }

    /// No link over its capacity, and the shares max-min fair: every download is held back by
    /// a full link on which it has the largest share.
    fn check_links(&self, names: &[String], now: Micros) -> Result<(), Violation> {
        if let Some(p2p) = &self.p2p {
            let name = |l: u32| names.get(l as usize).cloned().unwrap_or_else(|| format!("#{l}"));
            return self.check_p2p(p2p, &name, now);
        }
        let pl = &self.sc.platform.pull;
        let tr = &self.transfers;
        let over = |used: f64, cap: f64| used > cap * (1.0 + 1e-9);
        let full = |used: f64, cap: f64| used >= cap * (1.0 - 1e-9);
        let registry = tr.registry_in_use();
        ensure(!over(registry, pl.registry_bandwidth), "bandwidth within capacity", now, || {
            format!("the registry link carries {registry} B/s of {} B/s", pl.registry_bandwidth)
        })?;
        let top = (0..self.hosts.len() as u32).map(|h| tr.rate_on(h)).fold(0.0, f64::max);
        for (h, host) in self.hosts.iter().enumerate() {
            let h32 = h as u32;
            let used = tr.host_in_use(h32);
            ensure(!over(used, pl.host_bandwidth), "bandwidth within capacity", now, || {
                format!("host {h}'s link carries {used} B/s of {} B/s", pl.host_bandwidth)
            })?;
            let flows = tr.on_host(h32);
            ensure(flows <= host.downloads_active, "download slots", now, || {
                format!("host {h}: {flows} downloads moving bytes, {} slots taken", host.downloads_active)
            })?;
            let fair = flows == 0
                || full(used, pl.host_bandwidth)
                || (full(registry, pl.registry_bandwidth) && tr.rate_on(h32) >= top * (1.0 - 1e-9));
            ensure(fair, "bandwidth shared max-min fairly", now, || {
                format!(
                    "host {h}: {flows} downloads at {} B/s each, link {used} of {} B/s, registry {registry} of {} B/s",
                    tr.rate_on(h32),
                    pl.host_bandwidth,
                    pl.registry_bandwidth
                )
            })?;
        }
        Ok(())
    }
}

impl Platform<'_> {
    /// Under p2p: no downlink, uplink or the registry link over its capacity; each download at
    /// the share the model gives it (`bandwidth.rs`: from the registry `min(host / k, λ)`,
    /// held back by its host or by a full registry at the top level; from a peer
    /// `host / max(k, c)`); no peer serving more than `fanout` children of a layer at once, its
    /// count of children the downloads it serves; a parent holding what it serves; at most one
    /// registry download of a layer at a time (once per tree); a child waiting only on a
    /// parent still receiving.
    fn check_p2p(&self, p2p: &super::p2p::P2p, name: &dyn Fn(u32) -> String, now: Micros) -> Result<(), Violation> {
        let pl = &self.sc.platform.pull;
        let (host_bw, reg_bw) = (pl.host_bandwidth, pl.registry_bandwidth);
        let tr = &self.transfers;
        let over = |used: f64, cap: f64| used > cap * (1.0 + 1e-9);
        let near = |a: f64, b: f64| (a - b).abs() <= b * 1e-9;
        let registry = tr.registry_in_use();
        ensure(!over(registry, reg_bw), "bandwidth within capacity", now, || {
            format!("the registry link carries {registry} B/s of {reg_bw} B/s")
        })?;
        let hosts = self.hosts.len() as u32;
        let top =
            (0..hosts).flat_map(|h| tr.flows_to(h)).filter(|f| f.parent.is_none()).map(|f| f.rate).fold(0.0, f64::max);
        let mut roots: HashMap<u32, u32> = HashMap::new();
        let mut served: Vec<(u32, u32)> = Vec::new();
        for h in 0..hosts {
            let host = &self.hosts[h as usize];
            let (down, up) = (tr.host_in_use(h), tr.uplink_in_use(h));
            ensure(!over(down, host_bw) && !over(up, host_bw), "bandwidth within capacity", now, || {
                format!("host {h}'s link carries {down} B/s down and {up} B/s up, of {host_bw} B/s each")
            })?;
            let k = tr.on_host(h);
            ensure(k <= host.downloads_active, "download slots", now, || {
                format!("host {h}: {k} downloads moving bytes, {} slots taken", host.downloads_active)
            })?;
            for f in tr.flows_to(h) {
                let layer = || name(f.layer);
                ensure(p2p.source(h, f.layer) == Some(f.parent), "a download has one source", now, || {
                    format!(
                        "host {h}: layer {} moves from {:?}, its tree says {:?}",
                        layer(),
                        f.parent,
                        p2p.source(h, f.layer)
                    )
                })?;
                match f.parent {
                    None => {
                        let n = roots.entry(f.layer).or_default();
                        *n += 1;
                        ensure(*n == 1, "the registry serves a layer once per tree", now, || {
                            format!("layer {} comes from the registry to {} hosts at once", layer(), *n)
                        })?;
                        let share = host_bw / k as f64;
                        let fair = !over(f.rate, share)
                            && (near(f.rate, share)
                                || (registry >= reg_bw * (1.0 - 1e-9) && f.rate >= top * (1.0 - 1e-9)));
                        ensure(fair, "bandwidth shared as the model says", now, || {
                            format!(
                                "host {h}: layer {} from the registry at {} B/s, its host share {share}, registry {registry} of {reg_bw} B/s",
                                layer(),
                                f.rate
                            )
                        })?;
                    }
                    Some(p) => {
                        let c = tr.flows_from(p).count() as u32;
                        let share = host_bw / k.max(c) as f64;
                        ensure(near(f.rate, share), "bandwidth shared as the model says", now, || {
                            format!(
                                "host {h}: layer {} from host {p} at {} B/s, {k} downloads here and {c} children there give {share}",
                                layer(),
                                f.rate
                            )
                        })?;
                        let holds =
                            self.hosts[p as usize].layers.get(&f.layer).is_some_and(|e| e.state != LayerState::Queued);
                        ensure(holds, "a peer serves what it holds", now, || {
                            format!("host {p} serves layer {} to host {h} but does not hold it", layer())
                        })?;
                    }
                }
            }
            served.clear();
            for f in tr.flows_from(h) {
                match served.iter_mut().find(|(l, _)| *l == f.layer) {
                    Some((_, n)) => *n += 1,
                    None => served.push((f.layer, 1)),
                }
            }
            for (&l, e) in &host.layers {
                let moving = served.iter().find(|(x, _)| *x == l).map_or(0, |&(_, n)| n);
                ensure(
                    e.children == moving && e.children <= p2p.fanout,
                    "a peer serves at most fanout children",
                    now,
                    || {
                        format!(
                            "host {h} counts {} children of layer {}, serves {moving}, fanout {}",
                            e.children,
                            name(l),
                            p2p.fanout
                        )
                    },
                )?;
            }
            ensure(
                served.iter().all(|(l, _)| host.layers.contains_key(l)),
                "a peer serves what it holds",
                now,
                || format!("host {h} serves a layer it does not hold"),
            )?;
        }
        for (p, l, children) in p2p.waiting() {
            let e = self.hosts[p as usize].layers.get(&l);
            let receiving = e.is_some_and(|e| e.state == LayerState::Downloading);
            ensure(receiving, "a child waits only on a parent still receiving", now, || {
                format!("hosts {children:?} wait for layer {} on host {p}, which is {:?}", name(l), e.map(|e| e.state))
            })?;
        }
        Ok(())
    }
}

/// At the end: each function's counters equal what its rows show, and the time series'
/// totals equal the rows'.
pub(super) fn check_end(a: &Audit, r: &RunResult) -> Result<(), Violation> {
    let at = r.horizon;
    for (f, (name, st)) in r.functions.iter().enumerate() {
        let (l, i) = (&a.counted[f], &a.instances[f]);
        let ended = st.completed + st.failed + st.throttled + st.queue_timeouts + st.in_flight;
        ensure(st.requests == ended, "requests conserved", at, || {
            format!(
                "function {name}: {} requests, {ended} completed, failed, throttled, timed out or in flight",
                st.requests
            )
        })?;
        let pairs = [
            ("completed", st.completed, l.ok),
            ("failed", st.failed, l.failed),
            ("throttled", st.throttled, l.throttled),
            ("queue_timeouts", st.queue_timeouts, l.queue_timeout),
            ("in_flight", st.in_flight, l.in_flight),
            ("cold_starts", st.cold_starts, l.cold),
            ("started", st.started, l.started),
            ("instances_created", st.instances_created, i.created),
            ("pulls", st.pulls, i.pulls),
        ];
        for (what, counted, shown) in pairs {
            ensure(counted == shown, "counters equal the rows", at, || {
                format!("function {name}: {what} {counted}, its rows show {shown}")
            })?;
        }
        let meters = [("pull µs", st.pull_us, i.pull_us), ("live instance·µs", st.live_area, i.live_us)];
        for (what, counted, shown) in meters {
            ensure(counted == shown, "meters equal the rows", at, || {
                format!("function {name}: {what} {counted}, its instance rows show {shown}")
            })?;
        }
        let usage_ok = st.usage() == i.usage && st.usage_kind == i.usage_kind;
        ensure(usage_ok, "meters equal the rows", at, || {
            let (m, s) = (st.usage().inst_us, i.usage.inst_us);
            format!("function {name}: usage instance·µs by phase {m:?}, its instance rows show {s:?}")
        })?;
    }
    let b = &a.buckets;
    let all = &a.all;
    let arrived: u64 = a.arrived.iter().sum();
    let pairs = [
        ("arrivals", b.arrivals, arrived),
        ("completed", b.completed, all.ok),
        ("failed", b.failed, all.failed),
        ("throttled", b.throttled, all.throttled),
        ("queue_timeouts", b.queue_timeouts, all.queue_timeout),
        ("cold_starts", b.cold_starts, all.cold),
        ("started", b.started[0], all.started),
        ("instances_created", b.instances_created, a.all_instances),
    ];
    for (what, series, shown) in pairs {
        ensure(series == shown, "the time series equals the rows", at, || {
            format!("{what}: the time series says {series}, the rows {shown}")
        })?;
    }
    let mut usage = a.all_usage.clone();
    usage.merge(&a.pre_warmup);
    ensure(b.usage[0] == usage, "the time series equals the rows", at, || {
        format!(
            "usage instance·µs by phase: the time series says {:?}, the rows {:?}",
            b.usage[0].inst_us, usage.inst_us
        )
    })
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
