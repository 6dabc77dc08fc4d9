//! Reserved (provisioned) instances: the target in force (fixed, or daily schedule steps)
//! and the adjustment of live reserved instances towards it. The rules decide ([`adjust`],
//! [`target_at_midnight`], [`first_turn`]); the platform applies them.

use crate::engine::EventQueue;
use crate::scenario::Reserved;
use crate::units::{Micros, MICROS_PER_DAY as DAY};

use super::instance::State;
use super::state::FnRt;
use super::{Event, Platform};

/// How the live reserved instances of a function move towards their target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Adjust {
    Hold,
    /// Create this many (fewer if the hosts run out of room).
    Add(u32),
    /// Retire this many: idle ones go at once, busy or starting ones when idle.
    Remove(u32),
}

/// The change that brings `live` reserved instances to `target`.
pub(super) fn adjust(live: u32, target: u32) -> Adjust {
    match live.cmp(&target) {
        std::cmp::Ordering::Less => Adjust::Add(target - live),
        std::cmp::Ordering::Greater => Adjust::Remove(live - target),
        std::cmp::Ordering::Equal => Adjust::Hold,
    }
}

/// The target in force at time 0: a fixed count, or the daily step in force at midnight
/// (steps are cyclic: the one at midnight, else the last one of the day).
pub(super) fn target_at_midnight(reserved: &Reserved) -> u32 {
    match reserved {
        Reserved::Fixed(n) => *n,
        Reserved::Daily(steps) => {
            let first = steps.iter().find(|s| s.at == 0);
            first.or(steps.last()).map_or(0, |s| s.count)
        }
    }
}

/// When a daily step at time of day `at` first takes effect: a step at midnight is in force
/// already, so its next turn is tomorrow.
pub(super) fn first_turn(at: Micros) -> Micros {
    if at == 0 {
        DAY
    } else {
        at
    }
}

/// First wait before a reserved instance is made again after one failed to start, and the
/// longest: Kubernetes' CrashLoopBackOff (10 s, doubling, capped at 5 minutes), as a
/// planner keeping a target of instances retries a start that keeps failing.
pub(super) const BACKOFF_FIRST: Micros = 10 * crate::units::MICROS_PER_SECOND;
pub(super) const BACKOFF_MAX: Micros = 300 * crate::units::MICROS_PER_SECOND;

/// The wait after the `failures`-th start failure in a row (1-based).
pub(super) fn backoff(failures: u32) -> Micros {
    let doublings = failures.saturating_sub(1).min(16);
    (BACKOFF_FIRST << doublings).min(BACKOFF_MAX)
}

/// Add the reserved shortfall since the last change of the target or the live count:
/// call before either changes (and at the horizon).
pub(super) fn book_shortfall(fr: &mut FnRt, now: Micros) {
    let short = fr.reserved_target.saturating_sub(fr.reserved_live) as u128;
    fr.stats.reserved_shortfall_us += short * (now - fr.short_since) as u128;
    fr.short_since = now;
}

impl Platform<'_> {
    /// Function `f`'s reserved instances at time 0 and the first turn of each daily step.
    pub(super) fn start_reserved(&mut self, f: u32, q: &mut EventQueue<Event>) {
        let fu = f as usize;
        book_shortfall(&mut self.funcs[fu], 0);
        self.funcs[fu].reserved_target = target_at_midnight(&self.sc.functions[fu].reserved);
        if self.sc.simulation.warm_start {
            // provisioned before traffic: ready at t = 0 (what finds no room is short)
            while self.funcs[fu].reserved_live < self.funcs[fu].reserved_target {
                if self.create_warm(f, 0).is_none() {
                    break;
                }
            }
        }
        self.adjust_reserved(f, 0, q);
        for k in 0..self.funcs[fu].steps.len() {
            let first = first_turn(self.funcs[fu].steps[k].at);
            if first < self.horizon {
                q.push(first, Event::ReservedStep { func: f, step: k as u32 });
            }
        }
    }

    /// Apply [`adjust`]: create the missing instances; release idle surplus at once and mark
    /// busy or starting surplus to go when idle.
    pub(super) fn adjust_reserved(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        let fu = f as usize;
        if let Ok(k) = self.short.binary_search(&f) {
            self.short.remove(k);
        }
        // one instance at a time, deciding again after each: a release re-enters this
        // function (the room it leaves may go to the reserved target)
        loop {
            match adjust(self.funcs[fu].reserved_live, self.funcs[fu].reserved_target) {
                Adjust::Hold => break,
                // backing off after failed starts: the `ReservedRetry` event comes back
                Adjust::Add(_) if now < self.funcs[fu].backoff_until => return,
                Adjust::Add(_) => {
                    if self.create_instance(f, true, now, q).is_none() {
                        // no host has room: try again when memory frees on any host
                        if let Err(k) = self.short.binary_search(&f) {
                            self.short.insert(k, f);
                        }
                        return;
                    }
                }
                Adjust::Remove(_) => {
                    let idle = self.funcs[fu]
                        .avail_reserved
                        .iter(&self.insts.items)
                        .find(|&i| self.insts.get(i).inflight == 0);
                    let victim = match idle {
                        Some(i) => Some(i),
                        None => self.insts.live().find(|&i| {
                            let it = self.insts.get(i);
                            it.func == f && it.reserved && !it.release_when_idle
                        }),
                    };
                    let Some(i) = victim else { break };
                    book_shortfall(&mut self.funcs[fu], now);
                    self.funcs[fu].reserved_live -= 1;
                    self.insts.get_mut(i).release_when_idle = true;
                    // out of routing at once: it only finishes what it runs (or waits on)
                    self.leave_available(i);
                    self.leave_starting(i);
                    if self.insts.get(i).state == State::Ready && self.insts.get(i).inflight == 0 {
                        self.release(i, now, "scale_down", q);
                    }
                }
            }
        }
    }

    /// A reserved instance of `f` failed to start: no new one before the back-off is over
    /// (else a start limit shorter than any start makes an instance per start attempt,
    /// millions of `instances.csv` rows a simulated minute).
    pub(super) fn back_off(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        let fr = &mut self.funcs[f as usize];
        fr.start_failures = fr.start_failures.saturating_add(1);
        let until = now.saturating_add(backoff(fr.start_failures));
        if until > fr.backoff_until {
            fr.backoff_until = until;
            if until < self.horizon {
                q.push(until, Event::ReservedRetry { func: f });
            }
        }
    }

    /// Memory freed on a host: functions short of their reserved target try again, in
    /// function order.
    pub(super) fn retry_short(&mut self, now: Micros, q: &mut EventQueue<Event>) {
        if self.short.is_empty() {
            return;
        }
        let short = std::mem::take(&mut self.short);
        for &f in &short {
            self.adjust_reserved(f, now, q);
        }
    }

    pub(super) fn on_reserved_step(&mut self, f: u32, step: u32, now: Micros, q: &mut EventQueue<Event>) {
        let s = self.funcs[f as usize].steps[step as usize];
        book_shortfall(&mut self.funcs[f as usize], now);
        self.funcs[f as usize].reserved_target = s.count;
        self.adjust_reserved(f, now, q);
        if now + DAY < self.horizon {
            q.push(now + DAY, Event::ReservedStep { func: f, step });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ReservedStep;

    #[test]
    fn the_backoff_doubles_from_10_s_to_at_most_5_minutes() {
        let s = crate::units::MICROS_PER_SECOND;
        assert_eq!(backoff(1), 10 * s);
        assert_eq!(backoff(2), 20 * s);
        assert_eq!(backoff(5), 160 * s);
        assert_eq!(backoff(6), 300 * s);
        assert_eq!(backoff(u32::MAX), 300 * s);
    }

    #[test]
    fn adjust_adds_the_missing_and_removes_the_surplus() {
        assert_eq!(adjust(0, 3), Adjust::Add(3));
        assert_eq!(adjust(5, 2), Adjust::Remove(3));
        assert_eq!(adjust(4, 4), Adjust::Hold);
    }

    #[test]
    fn the_target_at_midnight_is_the_midnight_step_else_the_last_of_the_day() {
        let h = crate::units::MICROS_PER_HOUR;
        let step = |at, count| ReservedStep { at, count };
        assert_eq!(target_at_midnight(&Reserved::Fixed(2)), 2);
        assert_eq!(target_at_midnight(&Reserved::Daily(vec![step(0, 4), step(8 * h, 9)])), 4);
        assert_eq!(target_at_midnight(&Reserved::Daily(vec![step(8 * h, 9), step(20 * h, 1)])), 1);
        assert_eq!(target_at_midnight(&Reserved::Daily(vec![])), 0);
        assert_eq!(first_turn(0), DAY);
        assert_eq!(first_turn(8 * h), 8 * h);
    }
}
