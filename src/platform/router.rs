//! Routing: which instance takes a request. A ready instance with a free slot (reserved
//! first, chosen by the `pick` policy), else a free pending slot on a starting instance, else
//! a new instance, else the queue, else a throttle; then dispatch and completion.
//!
//! The `pick` policies work over a function's list of instances with a free slot. The list is
//! intrusive (links live in the instances) and kept in most-recently-touched order, so the
//! default `mru` is O(1); under `newest` it is kept in creation order instead (newest first),
//! so that pick is O(1) too; the others scan it.

use rand::Rng;

use super::instance::{Instance, Pending, State, NIL};
use super::stats::Outcome;
use super::{Event, Platform};
use crate::engine::EventQueue;
use crate::scenario::Pick;
use crate::units::Micros;
use crate::usage::Phase;

/// Instances of one function (reserved or on-demand) that are ready with a free slot.
#[derive(Debug, Clone)]
pub struct AvailList {
    head: u32,
    len: u32,
}

impl Default for AvailList {
    fn default() -> Self {
        AvailList { head: NIL, len: 0 }
    }
}

impl AvailList {
    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its first instance (what `mru` and `newest` pick).
    #[inline]
    pub fn first(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    /// Put `i` first (it was just used). It must not be in a list.
    pub fn push_front(&mut self, insts: &mut [Instance], i: u32) {
        self.insert_after(insts, i, NIL);
    }

    /// Add `i` where `pick` wants it: first, or under `newest` before the first older
    /// instance (the walk is short: a new instance goes first, and the list is the idle few).
    pub fn push(&mut self, insts: &mut [Instance], i: u32, pick: Pick) {
        let id = insts[i as usize].id;
        let mut before = NIL;
        if pick == Pick::Newest {
            let mut next = self.head;
            while next != NIL && insts[next as usize].id > id {
                before = next;
                next = insts[next as usize].next;
            }
        }
        self.insert_after(insts, i, before);
    }

    /// Link `i` in after `prev` (`NIL`: at the front). It must not be in a list.
    fn insert_after(&mut self, insts: &mut [Instance], i: u32, prev: u32) {
        let next = if prev == NIL { self.head } else { insts[prev as usize].next };
        {
            let it = &mut insts[i as usize];
            debug_assert!(!it.in_avail);
            it.prev = prev;
            it.next = next;
            it.in_avail = true;
        }
        if prev == NIL {
            self.head = i;
        } else {
            insts[prev as usize].next = i;
        }
        if next != NIL {
            insts[next as usize].prev = i;
        }
        self.len += 1;
    }

    pub fn remove(&mut self, insts: &mut [Instance], i: u32) {
        let (p, n) = {
            let it = &mut insts[i as usize];
            debug_assert!(it.in_avail);
            it.in_avail = false;
            (std::mem::replace(&mut it.prev, NIL), std::mem::replace(&mut it.next, NIL))
        };
        if p != NIL {
            insts[p as usize].next = n;
        } else {
            self.head = n;
        }
        if n != NIL {
            insts[n as usize].prev = p;
        }
        self.len -= 1;
    }

    /// Move `i` to the front (most recently touched); under `newest` the order is by creation
    /// and does not change.
    pub fn touch(&mut self, insts: &mut [Instance], i: u32, pick: Pick) {
        if pick != Pick::Newest && self.head != i {
            self.remove(insts, i);
            self.push_front(insts, i);
        }
    }

    /// The instance `pick` chooses, if any.
    pub fn choose<R: Rng + ?Sized>(&self, insts: &[Instance], pick: Pick, rng: &mut R) -> Option<u32> {
        if self.head == NIL {
            return None;
        }
        match pick {
            Pick::Mru => Some(self.head),
            Pick::Newest => Some(self.head),
            // fewest in flight; among equals the most recently touched
            Pick::LeastLoaded => self.scan_best(insts, |it| u64::MAX - it.inflight as u64),
            Pick::Random => {
                let k = rng.random_range(0..self.len);
                let mut cur = self.head;
                for _ in 0..k {
                    cur = insts[cur as usize].next;
                }
                Some(cur)
            }
        }
    }

    /// The first instance (from the front) with the largest key.
    fn scan_best(&self, insts: &[Instance], key: impl Fn(&Instance) -> u64) -> Option<u32> {
        let mut best = self.head;
        let mut best_key = key(&insts[best as usize]);
        let mut cur = insts[best as usize].next;
        while cur != NIL {
            let k = key(&insts[cur as usize]);
            if k > best_key {
                best = cur;
                best_key = k;
            }
            cur = insts[cur as usize].next;
        }
        Some(best)
    }

    /// Members from the front (for tests and checks).
    pub fn iter<'a>(&self, insts: &'a [Instance]) -> impl Iterator<Item = u32> + 'a {
        let mut cur = self.head;
        std::iter::from_fn(move || {
            if cur == NIL {
                return None;
            }
            let here = cur;
            cur = insts[cur as usize].next;
            Some(here)
        })
    }
}

/// Where a new request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// Run it now on this ready instance.
    Warm(u32),
    /// Wait on this starting instance's free pending slot (a cold start).
    Join(u32),
    /// Start a new instance for it (a cold start); if no host has room, [`overflow`] decides.
    Cold,
    /// No instance can take it.
    Full(Overflow),
}

/// Where a request goes that no instance can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Overflow {
    /// Wait in the function's queue.
    Queue,
    /// Turn it away, with this outcome.
    Reject(Outcome),
}

/// What routing looks at for one request of one function.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidates {
    /// The ready instance with a free slot the `pick` policy chose (reserved first).
    pub warm: Option<u32>,
    /// The latest starting instance with a free pending slot.
    pub starting: Option<u32>,
    pub live: u32,
    pub max_instances: u32,
    /// The provider's scale-out rate allows a new instance now.
    pub may_scale: bool,
    pub queued: usize,
    pub queue_cap: usize,
}

/// The routing rule: a warm instance, else a starting one, else a new one (under
/// `max_instances` and the scale-out rate), else the queue, else throttle.
#[inline(always)]
pub(super) fn route(c: &Candidates) -> Route {
    if let Some(i) = c.warm {
        Route::Warm(i)
    } else if let Some(i) = c.starting {
        Route::Join(i)
    } else if c.live < c.max_instances && c.may_scale {
        Route::Cold
    } else {
        Route::Full(overflow(c.queued, c.queue_cap))
    }
}

/// No instance can take the request: the queue while it has room, else throttle.
pub(super) fn overflow(queued: usize, queue_cap: usize) -> Overflow {
    if queued < queue_cap {
        Overflow::Queue
    } else {
        Overflow::Reject(Outcome::Throttled)
    }
}

impl Platform<'_> {
    /// Route a new request: gather the [`Candidates`], let [`route`] decide, apply it.
    pub(super) fn arrive(&mut self, f: u32, exec: Micros, now: Micros, q: &mut EventQueue<Event>) {
        self.funcs[f as usize].stats.requests += 1;
        self.series.row.arrivals += 1;
        let p = Pending { arrival: now, exec };
        let pick = self.sc.platform.pick;
        let may_scale = self.may_scale(f, now);
        let fr = &self.funcs[f as usize];
        let warm = match fr.avail_reserved.choose(&self.insts.items, pick, &mut self.rng) {
            Some(i) => Some(i),
            None => fr.avail_ondemand.choose(&self.insts.items, pick, &mut self.rng),
        };
        let c = Candidates {
            warm,
            starting: fr.starting.last().copied(),
            live: fr.live,
            max_instances: fr.max_instances,
            may_scale,
            queued: fr.queue.len(),
            queue_cap: fr.queue_cap,
        };
        match route(&c) {
            Route::Warm(i) => self.dispatch(i, p, false, now, q),
            Route::Join(i) => self.attach(i, p),
            Route::Cold => match self.create_instance(f, false, now, q) {
                Some(i) if self.insts.get(i).state == State::ColdServing => {
                    self.scaled(f);
                    self.cold_serve(i, p, now, q)
                }
                Some(i) => {
                    self.scaled(f);
                    self.attach(i, p)
                }
                // no host has room: the queue and the hosts are as they were
                None => self.overflow(f, p, overflow(c.queued, c.queue_cap), now, q),
            },
            Route::Full(o) => {
                self.overflow(f, p, o, now, q);
                if !may_scale {
                    self.arm_scale_timer(f, q);
                }
            }
        }
    }

    /// Apply an [`Overflow`] decision.
    fn overflow(&mut self, f: u32, p: Pending, o: Overflow, now: Micros, q: &mut EventQueue<Event>) {
        let fr = &mut self.funcs[f as usize];
        match o {
            Overflow::Queue => {
                fr.queue.push_back(p);
                fr.stats.queued += 1;
                if !fr.queue_timer_armed {
                    fr.queue_timer_armed = true;
                    q.push(now.saturating_add(fr.queue_timeout), Event::QueueTimeout { func: f });
                }
            }
            Overflow::Reject(outcome) => {
                fr.stats.throttled += 1;
                self.series.row.throttled += 1;
                self.emit_request(f, p.arrival, None, None, false, None, outcome);
            }
        }
    }

    /// A request waits for a starting instance: it is a cold start.
    pub(super) fn attach(&mut self, i: u32, p: Pending) {
        let f = self.insts.get(i).func as usize;
        let conc = self.funcs[f].concurrency as usize;
        if p.arrival >= self.warmup {
            self.funcs[f].stats.cold_starts += 1;
        }
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
    pub(super) fn cold_serve(&mut self, i: u32, p: Pending, now: Micros, q: &mut EventQueue<Event>) {
        let f = self.insts.get(i).func as usize;
        let counted = p.arrival >= self.warmup;
        if counted {
            self.funcs[f].stats.cold_starts += 1;
        }
        self.series.row.cold_starts += 1;
        let d = self.funcs[f].cold_service.as_ref().expect("cold-serving needs cold_service").sample(&mut self.rng);
        let it = self.insts.get_mut(i);
        it.inflight = 1;
        // the time series counts every start (a request cold-served before the warmup too)
        self.count_start(f, false, counted);
        let req = self.reqs.open(p.arrival, now);
        q.push(now.saturating_add(d), Event::Done { inst: i, req, cold: true, failed: false });
    }

    /// Start executing `p` on ready instance `i` now.
    pub(super) fn dispatch(&mut self, i: u32, p: Pending, cold: bool, now: Micros, q: &mut EventQueue<Event>) {
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
        // a request that arrived during the warmup is left out of the statistics and the bill
        if p.arrival >= self.warmup {
            fr.stats.started += 1;
            fr.stats.started_kind[k] += 1;
            fr.stats.wait_sum_us += (now - p.arrival) as u128;
        }
        self.series.row.started[k] += 1;
        if let Some(h) = &mut fr.hour_clock {
            h.started[k] += 1;
        }
        let req = self.reqs.open(p.arrival, now);
        let shared = fr.cpu.is_some();
        if !shared {
            q.push(now.saturating_add(run), Event::Done { inst: i, req, cold, failed });
        }
        let full = it.inflight >= fr.concurrency;
        let list = if it.reserved { &mut fr.avail_reserved } else { &mut fr.avail_ondemand };
        if it.in_avail {
            if full {
                list.remove(&mut self.insts.items, i);
            } else {
                list.touch(&mut self.insts.items, i, self.sc.platform.pick);
            }
        }
        if shared {
            self.start_shared(i, req, p.exec, cold, now, q);
        }
    }

    pub(super) fn on_done(
        &mut self,
        i: u32,
        req: u32,
        cold: bool,
        failed: bool,
        now: Micros,
        q: &mut EventQueue<Event>,
    ) {
        let f = self.insts.get(i).func as usize;
        let (arrival, start) = self.reqs.close(req);
        self.bill_request(i, start, now);
        let mut log_full = false;
        let counted = arrival >= self.warmup;
        {
            let fr = &mut self.funcs[f];
            let st = &mut fr.stats;
            let lat = now - arrival;
            if failed {
                st.failed += counted as u64;
                self.series.row.failed += 1;
            } else if !counted {
                self.series.row.completed += 1;
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
            self.insts.get_mut(i).ready_at = now;
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

    /// Put a ready instance with a free slot back in routing; one marked to leave stays out.
    pub(super) fn make_available(&mut self, i: u32) {
        let it = self.insts.get(i);
        if it.release_when_idle {
            return;
        }
        let fr = &mut self.funcs[it.func as usize];
        let list = if it.reserved { &mut fr.avail_reserved } else { &mut fr.avail_ondemand };
        list.push(&mut self.insts.items, i, self.sc.platform.pick);
    }

    pub(super) fn leave_available(&mut self, i: u32) {
        let it = self.insts.get(i);
        if !it.in_avail {
            return;
        }
        let fr = &mut self.funcs[it.func as usize];
        let list = if it.reserved { &mut fr.avail_reserved } else { &mut fr.avail_ondemand };
        list.remove(&mut self.insts.items, i);
    }
}

#[cfg(test)]
mod tests {
    use super::{overflow, route, Candidates, Overflow, Route};
    use crate::platform::stats::Outcome;

    fn none() -> Candidates {
        Candidates { warm: None, starting: None, live: 2, max_instances: 2, may_scale: true, queued: 0, queue_cap: 1 }
    }

    #[test]
    fn routing_prefers_warm_then_starting_then_new_then_queue_then_throttle() {
        let all = Candidates { warm: Some(7), starting: Some(3), live: 0, ..none() };
        assert_eq!(route(&all), Route::Warm(7));
        assert_eq!(route(&Candidates { warm: None, ..all }), Route::Join(3));
        assert_eq!(route(&Candidates { live: 1, ..none() }), Route::Cold);
        assert_eq!(route(&none()), Route::Full(Overflow::Queue));
        assert_eq!(route(&Candidates { queued: 1, ..none() }), Route::Full(Overflow::Reject(Outcome::Throttled)));
        assert_eq!(overflow(0, 0), Overflow::Reject(Outcome::Throttled));
    }

    use super::super::instance::Slab;
    use super::*;
    use crate::engine::rng::stream;
    use crate::usage::Phase;

    fn slab(n: u32) -> Slab {
        let mut s = Slab::default();
        for _ in 0..n {
            s.alloc(0, 0, false, 0, Phase::Busy);
        }
        s
    }

    #[test]
    fn mru_takes_the_most_recently_touched_instance() {
        let mut s = slab(3);
        let mut l = AvailList::default();
        for i in 0..3 {
            l.push_front(&mut s.items, i);
        }
        let mut rng = stream(1, 0, "t", 0);
        assert_eq!(l.choose(&s.items, Pick::Mru, &mut rng), Some(2));
        l.touch(&mut s.items, 0, Pick::Mru);
        assert_eq!(l.iter(&s.items).collect::<Vec<_>>(), vec![0, 2, 1]);
        l.remove(&mut s.items, 2);
        assert_eq!(l.iter(&s.items).collect::<Vec<_>>(), vec![0, 1]);
        l.remove(&mut s.items, 1);
        l.remove(&mut s.items, 0);
        assert!(l.is_empty());
        assert_eq!(l.choose(&s.items, Pick::Mru, &mut rng), None);
    }

    #[test]
    fn newest_takes_the_latest_created_and_least_loaded_the_emptiest() {
        let mut s = slab(3);
        let (mut newest, mut mru) = (AvailList::default(), AvailList::default());
        for i in [1, 2, 0] {
            newest.push(&mut s.items, i, Pick::Newest);
        }
        // kept newest first whatever the order they came in
        assert_eq!(newest.iter(&s.items).collect::<Vec<_>>(), vec![2, 1, 0]);
        let mut rng = stream(1, 0, "t", 0);
        assert_eq!(newest.choose(&s.items, Pick::Newest, &mut rng), Some(2));
        let mut s = slab(3);
        for i in [1, 2, 0] {
            mru.push(&mut s.items, i, Pick::LeastLoaded);
        }
        s.items[0].inflight = 3;
        s.items[1].inflight = 1;
        s.items[2].inflight = 2;
        assert_eq!(mru.choose(&s.items, Pick::LeastLoaded, &mut rng), Some(1));
    }

    #[test]
    fn under_newest_the_head_is_always_the_newest_member() {
        use rand::Rng as _;
        let mut rng = stream(9, 0, "t", 0);
        for _ in 0..200 {
            let n = rng.random_range(1..12u32);
            let mut s = slab(n);
            let mut l = AvailList::default();
            let mut members: Vec<u32> = Vec::new();
            for _ in 0..60 {
                let i = rng.random_range(0..n);
                if members.contains(&i) {
                    if rng.random_bool(0.5) {
                        l.remove(&mut s.items, i);
                        members.retain(|&m| m != i);
                    } else {
                        l.touch(&mut s.items, i, Pick::Newest);
                    }
                } else {
                    l.push(&mut s.items, i, Pick::Newest);
                    members.push(i);
                }
                let newest = members.iter().copied().max_by_key(|&m| s.items[m as usize].id);
                assert_eq!(l.choose(&s.items, Pick::Newest, &mut rng), newest);
                let mut order: Vec<u32> = l.iter(&s.items).collect();
                assert_eq!(order.len() as u32, l.len());
                order.sort_by_key(|&m| std::cmp::Reverse(s.items[m as usize].id));
                assert_eq!(l.iter(&s.items).collect::<Vec<_>>(), order, "newest first");
            }
        }
    }

    #[test]
    fn random_reaches_every_member() {
        let mut s = slab(4);
        let mut l = AvailList::default();
        for i in 0..4 {
            l.push_front(&mut s.items, i);
        }
        let mut rng = stream(1, 0, "t", 0);
        let mut seen = [0; 4];
        for _ in 0..400 {
            seen[l.choose(&s.items, Pick::Random, &mut rng).unwrap() as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }
}
