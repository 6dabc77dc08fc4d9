//! Keep-alive: an idle on-demand instance stays warm for `keep_alive`, then is reclaimed.
//! One function shares one keep-alive, so its deadlines form a FIFO with one timer. The rules
//! decide ([`on_idle`], [`on_deadline`]); the platform applies them.

use std::collections::VecDeque;

use crate::engine::EventQueue;
use crate::units::Micros;

use super::instance::{Instance, State};
use super::{Event, Platform};

/// What becomes of an instance that has just run out of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeepAlive {
    /// Release it now, for this reason (`scale_down`: surplus reserved; `keep_alive`: 0 s).
    ReleaseNow(&'static str),
    /// A reserved instance: it stays, with no timer.
    Stay,
    /// Keep it warm until this deadline.
    Until(Micros),
}

/// The keep-alive rule: release an instance marked to go when idle; keep a reserved one;
/// keep an on-demand one for `keep_alive` (0 releases at once).
pub(super) fn on_idle(it: &Instance, keep_alive: Micros, now: Micros) -> KeepAlive {
    if it.release_when_idle {
        KeepAlive::ReleaseNow("scale_down")
    } else if it.reserved {
        KeepAlive::Stay
    } else if keep_alive == 0 {
        KeepAlive::ReleaseNow("keep_alive")
    } else {
        KeepAlive::Until(now.saturating_add(keep_alive))
    }
}

/// What a due keep-alive entry `(deadline, gen)` means for its instance slot at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Deadline {
    /// The instance has been idle since this entry was made, and its time is up.
    Reclaim,
    /// Still in force, but not due yet: time it.
    Wait(Micros),
    /// Stale (the instance was used since, or is gone): drop it without an event.
    Stale,
}

/// An entry is in force while its instance is idle since that very idle transition.
pub(super) fn on_deadline(it: &Instance, gen: u32, deadline: Micros, keep_alive: Micros, now: Micros) -> Deadline {
    let in_force =
        it.gen == gen && it.state == State::Ready && it.inflight == 0 && it.idle_since + keep_alive == deadline;
    if !in_force {
        Deadline::Stale
    } else if deadline > now {
        Deadline::Wait(deadline)
    } else {
        Deadline::Reclaim
    }
}

/// A keep-alive entry: an idle instance's deadline, its slot and generation.
pub(super) type Entry = (Micros, u32, u32);

/// A function's keep-alive entries, oldest first. The newest sits inline, among the
/// function's hot fields; older ones wait in a deque. When an instance goes idle again and
/// the newest entry is its own, that entry is stale (the instance served since) and the new
/// one takes its place: a function whose one instance is reused again and again keeps one
/// entry, inline, and never touches the deque. The entries in force, hence every timer, are
/// the same as with one entry per idle transition: a stale entry only ever ends in being
/// dropped.
#[derive(Debug, Default)]
pub(super) struct Expiries {
    older: VecDeque<Entry>,
    newest: Option<Entry>,
}

impl Expiries {
    #[inline]
    pub(super) fn push(&mut self, e: Entry) {
        match self.newest {
            Some(n) if (n.1, n.2) == (e.1, e.2) => {}
            Some(n) => self.older.push_back(n),
            None => {}
        }
        self.newest = Some(e);
    }

    /// The oldest entry.
    #[inline]
    pub(super) fn front(&self) -> Option<Entry> {
        self.older.front().copied().or(self.newest)
    }

    /// Drop the oldest entry.
    #[inline]
    pub(super) fn pop_front(&mut self) {
        if self.older.pop_front().is_none() {
            self.newest = None;
        }
    }

    #[cfg(test)]
    fn all(&self) -> Vec<Entry> {
        self.older.iter().copied().chain(self.newest).collect()
    }
}

impl Platform<'_> {
    /// An instance has no request left: apply [`on_idle`].
    pub(super) fn went_idle(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let it = self.insts.get(i);
        let (f, gen) = (it.func, it.gen);
        match on_idle(it, self.funcs[f as usize].keep_alive, now) {
            KeepAlive::ReleaseNow(reason) => self.release(i, now, reason, q),
            KeepAlive::Stay => {}
            KeepAlive::Until(deadline) => {
                // one function shares one keep-alive, so deadlines arrive in order: a FIFO, and
                // one timer per function for its oldest entry, keep the event queue small
                let fr = &mut self.funcs[f as usize];
                fr.expiries.push((deadline, i, gen));
                if !fr.expiry_timer_armed {
                    fr.expiry_timer_armed = true;
                    q.push(deadline, Event::KeepAlive { func: f });
                }
            }
        }
    }

    /// Release every instance whose keep-alive ran out by `now`, then time the oldest entry
    /// still in force; stale entries are dropped here without an event of their own.
    pub(super) fn on_keepalive(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        let fu = f as usize;
        self.funcs[fu].expiry_timer_armed = false;
        let ka = self.funcs[fu].keep_alive;
        while let Some((deadline, i, gen)) = self.funcs[fu].expiries.front() {
            match on_deadline(self.insts.get(i), gen, deadline, ka, now) {
                Deadline::Wait(t) => {
                    self.funcs[fu].expiry_timer_armed = true;
                    q.push(t, Event::KeepAlive { func: f });
                    return;
                }
                Deadline::Reclaim => {
                    self.funcs[fu].expiries.pop_front();
                    self.release(i, now, "keep_alive", q);
                }
                Deadline::Stale => {
                    self.funcs[fu].expiries.pop_front();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::instance::Slab;
    use crate::usage::Phase;

    fn idle_instance(reserved: bool, at: Micros) -> (Slab, u32) {
        let mut slab = Slab::default();
        let i = slab.alloc(0, 0, reserved, at, Phase::IdleKeepalive);
        slab.get_mut(i).state = State::Ready;
        (slab, i)
    }

    #[test]
    fn an_idle_on_demand_instance_stays_for_keep_alive_and_zero_releases_it() {
        let (slab, i) = idle_instance(false, 5);
        assert_eq!(on_idle(slab.get(i), 600, 5), KeepAlive::Until(605));
        assert_eq!(on_idle(slab.get(i), 0, 5), KeepAlive::ReleaseNow("keep_alive"));
    }

    #[test]
    fn reserved_instances_stay_unless_marked_to_go() {
        let (mut slab, i) = idle_instance(true, 0);
        assert_eq!(on_idle(slab.get(i), 600, 9), KeepAlive::Stay);
        slab.get_mut(i).release_when_idle = true;
        assert_eq!(on_idle(slab.get(i), 600, 9), KeepAlive::ReleaseNow("scale_down"));
    }

    #[test]
    fn an_instance_idle_again_replaces_its_own_newest_entry_only() {
        let mut fifo = Expiries::default();
        for t in [10, 20, 30] {
            fifo.push((t + 600, 4, 1));
        }
        assert_eq!(fifo.all(), [(630, 4, 1)]);
        assert!(fifo.older.capacity() == 0, "one instance reused never touches the deque");
        // another instance between: the older entry stays (it is dropped when due)
        fifo.push((640, 5, 1));
        fifo.push((650, 4, 1));
        assert_eq!(fifo.all(), [(630, 4, 1), (640, 5, 1), (650, 4, 1)]);
        // the same slot, a new instance in it (another generation): a new entry
        fifo.push((660, 4, 2));
        assert_eq!(fifo.all().len(), 4);
        // oldest first, down to empty; then the next entry whoever was newest
        let mut seen = Vec::new();
        while let Some(e) = fifo.front() {
            seen.push(e.0);
            fifo.pop_front();
        }
        assert_eq!(seen, [630, 640, 650, 660]);
        fifo.push((700, 4, 2));
        assert_eq!(fifo.all(), [(700, 4, 2)]);
    }

    #[test]
    fn a_deadline_reclaims_only_an_instance_idle_since_its_entry() {
        let (mut slab, i) = idle_instance(false, 100);
        let gen = slab.get(i).gen;
        assert_eq!(on_deadline(slab.get(i), gen, 700, 600, 700), Deadline::Reclaim);
        assert_eq!(on_deadline(slab.get(i), gen, 700, 600, 650), Deadline::Wait(700));
        // used since: idle from a later time, so this entry is stale
        slab.get_mut(i).idle_since = 200;
        assert_eq!(on_deadline(slab.get(i), gen, 700, 600, 700), Deadline::Stale);
        // the slot went to another instance
        assert_eq!(on_deadline(slab.get(i), gen.wrapping_add(1), 800, 600, 800), Deadline::Stale);
    }
}
