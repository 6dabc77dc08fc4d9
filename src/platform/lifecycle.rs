//! An instance's life: placement on a host, create, start, ready, the `ready_timeout`,
//! and release (memory, layers and meters freed; the room it leaves used at once). The rules
//! decide ([`start_of`], [`misses_ready`]); the platform applies them.

use rand::Rng as _;

use crate::engine::EventQueue;
use crate::provider::OnTimeout;
use crate::units::Micros;
use crate::usage::Phase;

use super::host::LayerState;
use super::instance::State;
use super::stats::Outcome;
use super::{Event, Platform};

/// How a new instance starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Start {
    /// Pull, create, start up, then serve.
    Pull,
    /// SimFaaS semantics: serve the request that started it in one `cold_service` draw.
    ColdServe,
}

impl Start {
    /// The phase its meters open with.
    pub(super) fn first_phase(self) -> Phase {
        match self {
            Start::Pull => Phase::Pull,
            Start::ColdServe => Phase::Busy,
        }
    }
}

/// A function with a `cold_service` time cold-serves its on-demand instances; reserved
/// instances always go through the full start.
pub(super) fn start_of(has_cold_service: bool, reserved: bool) -> Start {
    if has_cold_service && !reserved {
        Start::ColdServe
    } else {
        Start::Pull
    }
}

/// The `ready_timeout` rule: its clock starts when the container starts (after the pull and
/// the container's creation, as FC's 120 s limit); an instance whose server is still starting
/// when its time is up did not start (FunctionNotStarted).
pub(super) fn misses_ready(state: State) -> bool {
    matches!(state, State::Reading | State::Starting)
}

/// The provider's start rule: a retrying provider runs an init that missed its limit once
/// more (Lambda); otherwise, or the second time, the instance fails.
pub(super) fn retries(rule: OnTimeout, state: State, retried: bool) -> bool {
    rule == OnTimeout::Retry && matches!(state, State::Reading | State::Starting) && !retried
}

impl Platform<'_> {
    /// A host for a new instance of `f`: one already holding the image with room for it
    /// (image locality), else a random host with room, else none.
    fn place(&mut self, f: u32, now: Micros) -> Option<u32> {
        let fr = &self.funcs[f as usize];
        let (img, mem) = (fr.image, fr.spec.memory_mb);
        let ttl = self.sc.platform.cache_ttl;
        // holding the image: what a pull that begins now would fetch is all cached there
        let list = Self::list(img, self.lazy_now(img, now));
        let mut k = 0;
        while k < self.image_holders[img].len() {
            let h = self.image_holders[img][k];
            let host = &mut self.hosts[h as usize];
            let holds = self.image_layers[list].iter().all(|&l| host.state(l, now, ttl) == Some(LayerState::Cached));
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
    pub(super) fn create_instance(
        &mut self,
        f: u32,
        reserved: bool,
        now: Micros,
        q: &mut EventQueue<Event>,
    ) -> Option<u32> {
        let start = start_of(self.funcs[f as usize].cold_service.is_some(), reserved);
        let i = self.admit(f, reserved, start.first_phase(), now)?;
        if start == Start::ColdServe {
            self.insts.get_mut(i).state = State::ColdServing;
            return Some(i);
        }
        // requests may wait on it while it starts
        self.insts.get_mut(i).in_starting = true;
        self.funcs[f as usize].starting.push(i);
        self.begin_pull(i, now, q);
        Some(i)
    }

    /// `simulation.warm_start`: a reserved instance that exists at t = 0 ready, its image
    /// cached (and pinned) on its host, as provisioned instances are before traffic. Its
    /// earlier start is not metered: it opens idle-reserved. None when no host has room.
    pub(super) fn create_warm(&mut self, f: u32, now: Micros) -> Option<u32> {
        let i = self.admit(f, true, Phase::IdleReserved, now)?;
        let (h, img) = (self.insts.get(i).host, self.funcs[f as usize].image);
        let lazy = self.lazy_now(img, now);
        let list = Self::list(img, lazy);
        let pl = &self.sc.platform;
        let host = &mut self.hosts[h as usize];
        for &l in &self.image_layers[list] {
            if host.state(l, now, pl.cache_ttl) != Some(LayerState::Cached) {
                host.cache(l, self.layers[l as usize].uncompressed, now, pl.cache_capacity, pl.cache_ttl);
            }
            host.pin(l, now);
            if let Some(p2p) = &mut self.p2p {
                p2p.hold(host, h, l);
            }
        }
        if !self.image_holders[img].contains(&h) {
            self.image_holders[img].push(h);
        }
        let it = self.insts.get_mut(i);
        it.cursor = self.image_layers[list].len() as u32;
        it.stage_end = it.cursor;
        it.lazy = lazy;
        it.state = State::Ready;
        it.ready_at = now;
        self.make_available(i);
        Some(i)
    }

    /// Place a new instance of `f` and count it: memory taken, live counts, meters opened
    /// in `first_phase`. None when no host has room.
    fn admit(&mut self, f: u32, reserved: bool, first_phase: Phase, now: Micros) -> Option<u32> {
        let h = self.place(f, now)?;
        let i = self.insts.alloc(f, h, reserved, now, first_phase);
        let fr = &mut self.funcs[f as usize];
        self.hosts[h as usize].mem_free_mb -= fr.spec.memory_mb;
        fr.live += 1;
        if reserved {
            super::reserved::book_shortfall(fr, now);
            fr.reserved_live += 1;
        }
        fr.stats.instances_created += 1;
        fr.stats.live_change(now, 1);
        self.series.row.instances_created += 1;
        let k = reserved as usize;
        if let (false, Some(h)) = (self.hours_from_buckets, &mut fr.hour_clock) {
            h.shift(now - self.hour_start, None, Some(first_phase), k);
        }
        Some(i)
    }

    pub(super) fn start_create(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.set_phase(i, Some(Phase::Create), now);
        let it = self.insts.get_mut(i);
        it.state = State::Creating;
        let gen = it.gen;
        let d = self.create.sample(&mut self.rng);
        q.push(now.saturating_add(d), Event::CreateDone { inst: i, gen });
    }

    pub(super) fn on_create_done(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.set_phase(i, Some(Phase::Startup), now);
        let gen = self.insts.get(i).gen;
        // the start limit times the server's start, after the pull and the container's creation
        // (FC's 120 s rule); a retrying provider (Lambda) limits the init the same way
        q.push(now.saturating_add(self.sc.platform.ready_timeout), Event::ReadyTimeout { inst: i, gen });
        let it = self.insts.get(i);
        if it.lazy && (it.stage_end as usize) < self.image_layers[self.list_of(i)].len() {
            // lazy loading: the app's first reads stall its start
            self.begin_reading(i, now, q);
        } else {
            self.start_app(i, now, q);
        }
    }

    /// The app's own start-up time (the start-up phase is already open).
    pub(super) fn start_app(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let it = self.insts.get_mut(i);
        it.state = State::Starting;
        let gen = it.gen;
        let d = self.funcs[it.func as usize].startup.sample(&mut self.rng);
        q.push(now.saturating_add(d), Event::StartupDone { inst: i, gen });
    }

    pub(super) fn become_ready(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let idle = self.idle_phase(i);
        self.set_phase(i, Some(idle), now);
        let f = {
            let it = self.insts.get_mut(i);
            it.state = State::Ready;
            it.ready_at = now;
            it.idle_since = now;
            it.func
        };
        self.leave_starting(i);
        if self.insts.get(i).reserved {
            self.funcs[f as usize].start_failures = 0;
        }
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

    pub(super) fn leave_starting(&mut self, i: u32) {
        let it = self.insts.get_mut(i);
        if it.in_starting {
            it.in_starting = false;
            let st = &mut self.funcs[it.func as usize].starting;
            if let Some(k) = st.iter().position(|&x| x == i) {
                st.remove(k);
            }
        }
    }

    pub(super) fn on_ready_timeout(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        if !misses_ready(self.insts.get(i).state) {
            return;
        }
        let it = self.insts.get(i);
        if retries(self.sc.platform.provider.start.on_timeout, it.state, it.start_retried) {
            // Lambda: the init is run again during the first invoke, within the function's
            // timeout; the phase (and its meter) stays start-up
            let f = it.func as usize;
            let it = self.insts.get_mut(i);
            it.start_retried = true;
            it.gen = it.gen.wrapping_add(1);
            let gen = it.gen;
            // an init still waiting on its lazy reads goes on reading (what it has read stays
            // on the host); its start-up time then runs once, under the new generation
            if it.state == State::Starting {
                let d = self.funcs[f].startup.sample(&mut self.rng);
                q.push(now.saturating_add(d), Event::StartupDone { inst: i, gen });
            }
            q.push(now.saturating_add(self.funcs[f].timeout), Event::ReadyTimeout { inst: i, gen });
            return;
        }
        // FunctionNotStarted: every request waiting on it fails
        let f = self.insts.get(i).func;
        let mut pending = std::mem::take(&mut self.insts.get_mut(i).pending);
        for p in pending.drain(..) {
            self.funcs[f as usize].stats.failed += (p.arrival >= self.warmup) as u64;
            self.series.row.failed += 1;
            self.emit_request(f, p.arrival, None, None, true, None, Outcome::Failed);
        }
        self.insts.get_mut(i).pending = pending;
        self.funcs[f as usize].stats.not_started += 1;
        self.release(i, now, "not_started", q);
    }

    /// The instance is gone: close its meters, free its memory and layers, report it, and
    /// let queued requests or the reserved target use the room it leaves.
    pub(super) fn release(&mut self, i: u32, now: Micros, reason: &'static str, q: &mut EventQueue<Event>) {
        self.set_phase(i, None, now);
        if reason == "not_started" {
            // kept apart as well: a sheet may leave instances that never started unbilled
            let it = self.insts.get(i);
            let fr = &mut self.funcs[it.func as usize];
            fr.stats.never_started.add(&self.meters, it.reserved as usize, &fr.spec, &it.times);
        }
        self.leave_available(i);
        self.leave_starting(i);
        let list = self.list_of(i);
        let (f, h, cursor, reserved, marked) = {
            let it = self.insts.get(i);
            let pinned = it.pinned();
            (it.func, it.host, pinned, it.reserved, it.release_when_idle)
        };
        let host = &mut self.hosts[h as usize];
        for k in 0..(cursor as usize).min(self.image_layers[list].len()) {
            host.unpin(self.image_layers[list][k], now);
        }
        if let Some(k) = host.pulls.iter().position(|&x| x == i) {
            host.pulls.swap_remove(k);
        }
        let fr = &mut self.funcs[f as usize];
        host.mem_free_mb += fr.spec.memory_mb;
        fr.live -= 1;
        if reserved && !marked {
            super::reserved::book_shortfall(fr, now);
            fr.reserved_live -= 1;
        }
        fr.stats.live_change(now, -1);
        self.emit_instance(i, Some(now), reason);
        self.insts.free(i);
        if reserved {
            if reason == "not_started" {
                self.back_off(f, now, q);
            }
            self.adjust_reserved(f, now, q);
        }
        self.retry_short(now, q);
        self.serve_queue_with_new_instance(f, now, q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_service_replaces_the_start_of_on_demand_instances_only() {
        assert_eq!(start_of(true, false), Start::ColdServe);
        assert_eq!(start_of(true, true), Start::Pull);
        assert_eq!(start_of(false, false), Start::Pull);
        assert_eq!(Start::ColdServe.first_phase(), Phase::Busy);
        assert_eq!(Start::Pull.first_phase(), Phase::Pull);
    }

    #[test]
    fn only_a_retrying_provider_retries_an_init_and_only_once() {
        assert!(retries(OnTimeout::Retry, State::Starting, false));
        assert!(!retries(OnTimeout::Retry, State::Starting, true));
        assert!(!retries(OnTimeout::Fail, State::Starting, false));
    }

    #[test]
    fn only_an_instance_whose_server_is_still_starting_misses_its_ready_timeout() {
        assert!(misses_ready(State::Starting));
        for s in [State::Pulling, State::Creating, State::ColdServing, State::Ready, State::Dead] {
            assert!(!misses_ready(s));
        }
    }
}
