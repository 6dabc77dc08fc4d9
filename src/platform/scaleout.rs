//! The provider's scale-out rate (`[scale]` of its profile): at most `burst` new on-demand
//! instances at once, refilled by `rate` every `per` — a token bucket per function, in whole
//! tokens and whole periods so runs stay exact and deterministic. A request that would need a
//! new instance beyond it is treated as at `max_instances`: queued if the function has a
//! queue (served when tokens come back), else throttled (Lambda's and FC's 429).

use crate::engine::EventQueue;
use crate::provider::Scale;
use crate::units::Micros;

use super::{Event, Platform};

/// One function's bucket.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    tokens: u32,
    burst: u32,
    rate: u32,
    per: Micros,
    /// Start of the current refill period.
    since: Micros,
}

impl Bucket {
    pub(super) fn new(s: &Scale) -> Bucket {
        Bucket { tokens: s.burst, burst: s.burst, rate: s.rate, per: s.per, since: 0 }
    }

    /// Add the tokens of the periods completed by `now`; the tokens there are.
    pub(super) fn refill(&mut self, now: Micros) -> u32 {
        if now >= self.since + self.per {
            let periods = (now - self.since) / self.per;
            let add = (periods.min(u32::MAX as u64) as u32).saturating_mul(self.rate);
            self.tokens = self.tokens.saturating_add(add).min(self.burst);
            self.since += periods * self.per;
        }
        self.tokens
    }

    /// Take one token (the caller has seen one with [`Bucket::refill`]).
    pub(super) fn take(&mut self) {
        debug_assert!(self.tokens > 0);
        self.tokens -= 1;
    }

    /// When the next tokens arrive.
    pub(super) fn next_refill(&self) -> Micros {
        self.since + self.per
    }
}

impl Platform<'_> {
    /// May `f` add an on-demand instance now under its provider's scale-out rate?
    #[inline]
    pub(super) fn may_scale(&mut self, f: u32, now: Micros) -> bool {
        match &mut self.funcs[f as usize].scale {
            None => true,
            Some(b) => b.refill(now) > 0,
        }
    }

    /// An on-demand instance was added: it used a token.
    #[inline]
    pub(super) fn scaled(&mut self, f: u32) {
        if let Some(b) = &mut self.funcs[f as usize].scale {
            b.take();
        }
    }

    /// Requests wait in the queue for tokens: wake the queue when they come back.
    pub(super) fn arm_scale_timer(&mut self, f: u32, q: &mut EventQueue<Event>) {
        let fr = &mut self.funcs[f as usize];
        if let Some(b) = &fr.scale {
            if !fr.scale_timer_armed && !fr.queue.is_empty() {
                fr.scale_timer_armed = true;
                q.push(b.next_refill(), Event::ScaleOut { func: f });
            }
        }
    }

    pub(super) fn on_scale_out(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.funcs[f as usize].scale_timer_armed = false;
        self.serve_queue_with_new_instance(f, now, q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Source;

    fn bucket(burst: u32, rate: u32, per: Micros) -> Bucket {
        Bucket::new(&Scale { burst, rate, per, source: Source { source: "t".into(), as_of: "2026-01-01".into() } })
    }

    #[test]
    fn a_burst_is_spent_then_refilled_by_rate_each_whole_period_up_to_the_burst() {
        let mut b = bucket(3, 2, 10);
        for _ in 0..3 {
            assert!(b.refill(0) > 0);
            b.take();
        }
        assert_eq!(b.refill(9), 0);
        assert_eq!(b.next_refill(), 10);
        assert_eq!(b.refill(10), 2);
        assert_eq!(b.refill(19), 2);
        assert_eq!(b.refill(1000), 3, "never more than the burst");
    }
}
