//! The request queue: requests wait when the function or the hosts are full, leave it
//! for a freed slot or a new instance, and time out after `queue_timeout`.

use crate::engine::EventQueue;
use crate::units::Micros;

use super::instance::{Pending, State};
use super::stats::Outcome;
use super::{Event, Platform};

/// The queue-timeout rule: a request that has waited `queue_timeout` or more leaves the queue.
pub(super) fn timed_out(p: &Pending, queue_timeout: Micros, now: Micros) -> bool {
    p.arrival + queue_timeout <= now
}

impl Platform<'_> {
    /// Give a freed slot to the oldest queued request that has not timed out.
    #[inline(always)]
    pub(super) fn fill_from_queue(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let it = self.insts.get(i);
        let f = it.func as usize;
        // an instance marked to leave takes no more requests
        if !self.funcs[f].queue.is_empty() && !it.release_when_idle {
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
                Some(p) if timed_out(p, fr.queue_timeout, now) => {
                    let p = *p;
                    fr.queue.pop_front();
                    fr.stats.queue_timeouts += (p.arrival >= self.warmup) as u64;
                    self.series.row.queue_timeouts += 1;
                    self.emit_request(f, p.arrival, None, None, false, None, Outcome::QueueTimeout);
                }
                _ => break,
            }
        }
    }

    pub(super) fn on_queue_timeout(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.funcs[f as usize].queue_timer_armed = false;
        self.expire_queue(f, now);
        let fr = &mut self.funcs[f as usize];
        if let Some(p) = fr.queue.front() {
            fr.queue_timer_armed = true;
            q.push(p.arrival + fr.queue_timeout, Event::QueueTimeout { func: f });
        }
    }

    /// Requests queued because the function (or the hosts) were full get a new instance when
    /// room appears; they wait for its start, so they count as cold starts.
    pub(super) fn serve_queue_with_new_instance(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.expire_queue(f, now);
        while !self.funcs[f as usize].queue.is_empty()
            && self.funcs[f as usize].live < self.funcs[f as usize].max_instances
        {
            if !self.may_scale(f, now) {
                self.arm_scale_timer(f, q);
                return;
            }
            let Some(i) = self.create_instance(f, false, now, q) else {
                return;
            };
            self.scaled(f);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_request_times_out_once_it_has_waited_queue_timeout() {
        let p = Pending { arrival: 100, exec: 5 };
        assert!(!timed_out(&p, 50, 149));
        assert!(timed_out(&p, 50, 150));
        assert!(timed_out(&p, 0, 100));
    }
}
