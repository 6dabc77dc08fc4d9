//! One container of one function, and the slab that recycles their slots. A slot's `gen`
//! changes on every reuse, so an event aimed at an instance that is gone is recognised and
//! dropped.

use crate::units::Micros;
use crate::usage::{Phase, PhaseTimes};

/// "No instance" in the intrusive lists.
pub const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Fetching the manifest and the layers missing from the host's cache.
    Pulling,
    /// Container create + start.
    Creating,
    /// App start under lazy loading: waiting for the blocks the app reads (the pull's read
    /// pieces), before its own start-up time runs.
    Reading,
    /// App start, until the HTTP server answers.
    Starting,
    /// SimFaaS semantics: serving the request that started it, in the cold service time.
    ColdServing,
    Ready,
    Dead,
}

/// A request waiting for an instance: when it arrived and how long it will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub arrival: Micros,
    pub exec: Micros,
}

/// One instance. `repr(C, align(64))` keeps what routing, list links and keep-alive checks
/// read in the first cache line: moving an instance in its function's list touches its
/// neighbours, and a keep-alive check looks at an instance idle for minutes — each one cache
/// miss instead of two or three. Phase times and the rest follow.
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub struct Instance {
    pub gen: u32,
    pub func: u32,
    pub inflight: u32,
    /// Links of the function's list of instances with a free slot.
    pub prev: u32,
    pub next: u32,
    pub state: State,
    pub phase: Phase,
    pub reserved: bool,
    pub in_avail: bool,
    /// Its first request has been billed (Lambda adds start-up time to it).
    pub first_request_done: bool,
    /// Reserved scale-down: release as soon as it is idle.
    pub release_when_idle: bool,
    pub in_starting: bool,
    /// Past its manifest, the pull holds (pins) every layer of the image, cached or on its
    /// way: a layer a pull waits for is in use, whatever the cache's TTL.
    pub holds_image: bool,
    /// Its place in the slab's list of live slots.
    live_pos: u32,
    pub phase_since: Micros,
    /// When the instance last became idle (keep-alive counts from here).
    pub idle_since: Micros,
    pub served: u64,
    /// Creation number within the run (what reports call the instance id).
    pub id: u64,
    // -- second line on
    pub times: PhaseTimes,
    /// From when its current stretch counts in the time series' current bucket: when the
    /// stretch began, or the bucket if it began before (see `stats::BucketTime`).
    pub clock_since: Micros,
    pub host: u32,
    /// Layers `[0, cursor)` of its list are cached on the host and pinned by this instance
    /// (with `holds_image`, every layer of the stage, `[0, stage_end)`, is pinned).
    pub cursor: u32,
    // -- third line
    pub created: Micros,
    /// Requests waiting for this instance to start (at most `concurrency`).
    pub pending: Vec<Pending>,
    /// When its pull started and ended, when it became ready: [`NEVER`] until then (plain
    /// integers, not options: the slab holds every live instance, 10⁵ in a fleet's start).
    pub pull_start: Micros,
    pub pull_end: Micros,
    pub ready_at: Micros,
    /// Its start was retried once after missing the start limit (Lambda's init retry).
    pub start_retried: bool,
    /// Its image is pulled lazily: it walks the image's lazy pieces, not its layers.
    pub lazy: bool,
    /// The pieces of the current stage are `[0, stage_end)` of its list: the layers, or the
    /// index pieces while pulling lazily, then the read pieces too while reading.
    pub stage_end: u32,
}

/// A time that has not come (yet) for [`Instance`]'s `pull_start`, `pull_end`, `ready_at`.
pub const NEVER: Micros = Micros::MAX;

/// `t`, unless it is [`NEVER`].
#[inline]
pub fn when(t: Micros) -> Option<Micros> {
    (t != NEVER).then_some(t)
}

impl Instance {
    /// How many leading layers (or pieces) of its list it pins on its host.
    pub fn pinned(&self) -> u32 {
        if self.holds_image {
            self.stage_end
        } else {
            self.cursor
        }
    }

    fn blank() -> Self {
        Instance {
            gen: 0,
            id: 0,
            func: 0,
            host: 0,
            reserved: false,
            state: State::Dead,
            created: 0,
            pull_start: NEVER,
            pull_end: NEVER,
            ready_at: NEVER,
            inflight: 0,
            pending: Vec::new(),
            phase: Phase::Pull,
            live_pos: 0,
            phase_since: 0,
            clock_since: 0,
            times: [0; Phase::COUNT],
            served: 0,
            idle_since: 0,
            release_when_idle: false,
            cursor: 0,
            in_starting: false,
            holds_image: false,
            prev: NIL,
            next: NIL,
            in_avail: false,
            first_request_done: false,
            start_retried: false,
            lazy: false,
            stage_end: 0,
        }
    }
}

/// Instance slots, reused so a long run allocates nothing once warm.
#[derive(Debug, Default)]
pub struct Slab {
    pub items: Vec<Instance>,
    free: Vec<u32>,
    next_id: u64,
    /// The live slots, in no particular order: what is walked every bucket, without
    /// visiting the free slots a start storm leaves behind (10⁵ in a fleet).
    live: Vec<u32>,
}

impl Slab {
    /// A fresh instance in a reused or new slot; keeps the old `pending` buffer's capacity.
    pub fn alloc(&mut self, func: u32, host: u32, reserved: bool, now: Micros, phase: Phase) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.items.push(Instance::blank());
                (self.items.len() - 1) as u32
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        let it = &mut self.items[slot as usize];
        let gen = it.gen.wrapping_add(1);
        let mut pending = std::mem::take(&mut it.pending);
        pending.clear();
        *it = Instance::blank();
        it.pending = pending;
        it.gen = gen;
        it.id = id;
        it.func = func;
        it.host = host;
        it.reserved = reserved;
        it.created = now;
        it.phase = phase;
        it.phase_since = now;
        it.clock_since = now;
        it.idle_since = now;
        it.live_pos = self.live.len() as u32;
        self.live.push(slot);
        slot
    }

    pub fn free(&mut self, slot: u32) {
        let it = &mut self.items[slot as usize];
        it.state = State::Dead;
        let pos = it.live_pos as usize;
        self.live.swap_remove(pos);
        if let Some(&moved) = self.live.get(pos) {
            self.items[moved as usize].live_pos = pos as u32;
        }
        self.free.push(slot);
    }

    /// Apply `f` to every live instance, in no particular order.
    pub fn for_each_live(&mut self, mut f: impl FnMut(&mut Instance)) {
        for &s in &self.live {
            f(&mut self.items[s as usize]);
        }
    }

    /// Slots of live instances, in slot order.
    pub fn live(&self) -> impl Iterator<Item = u32> + '_ {
        self.items.iter().enumerate().filter(|(_, i)| i.state != State::Dead).map(|(s, _)| s as u32)
    }

    #[inline]
    pub fn get(&self, slot: u32) -> &Instance {
        &self.items[slot as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Instance {
        &mut self.items[slot as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields a request reads on neighbours and idle instances share the first line.
    #[test]
    fn hot_fields_fit_the_first_cache_line() {
        let it = Instance::blank();
        let base = &it as *const Instance as usize;
        assert_eq!(base % 64, 0);
        assert!(std::ptr::addr_of!(it.id) as usize + 8 - base <= 64);
        assert!(std::ptr::addr_of!(it.idle_since) as usize - base < 64);
    }

    #[test]
    fn the_live_list_follows_allocations_and_frees() {
        let mut slab = Slab::default();
        let a: Vec<u32> = (0..5).map(|f| slab.alloc(f, 0, false, 0, Phase::Pull)).collect();
        slab.free(a[1]);
        slab.free(a[4]);
        let b = slab.alloc(9, 0, false, 0, Phase::Pull);
        let mut seen = Vec::new();
        slab.for_each_live(|it| seen.push(it.func));
        seen.sort_unstable();
        assert_eq!(seen, [0, 2, 3, 9]);
        for s in [a[0], a[2], a[3], b] {
            slab.free(s);
        }
        slab.for_each_live(|_| panic!("nothing is live"));
    }

    /// Three cache lines: the slab holds every live instance (10⁵ at a fleet's start).
    #[test]
    fn an_instance_takes_three_cache_lines() {
        assert_eq!(std::mem::size_of::<Instance>(), 192);
    }
}
