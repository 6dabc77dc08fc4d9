//! A small discrete-event core that knows nothing of functions or money: an event queue
//! ordered by (time, sequence number), a clock in integer microseconds, and a run loop that
//! hands each event to one [`Handler`]. The model lives elsewhere (see `platform`).
//!
//! Cancellation is the model's business: a timer carries a generation stamp and the handler
//! drops it when the stamp is stale (O(1), no scan, no lookup table).

pub mod heap;
pub mod queue;
pub mod rng;

pub use heap::QuadHeap;
pub use queue::EventQueue;

/// Simulated time in microseconds since the start of the run.
pub type SimTime = u64;

/// The one object that reacts to events; it owns all model state.
///
/// Besides the queue, a handler may own a stream of *external* events that it generates
/// itself in time order (arrivals, typically): they never enter the queue, which halves the
/// queue traffic of an arrival-driven model. At equal times queued events run first.
pub trait Handler {
    type Event;
    /// React to `event` at `now`; schedule follow-ups on `queue`.
    fn handle(&mut self, now: SimTime, event: Self::Event, queue: &mut EventQueue<Self::Event>);

    /// Time of the next external event, if any.
    fn next_external(&self) -> Option<SimTime> {
        None
    }

    /// Handle the external event due at `now` (the one `next_external` announced).
    fn handle_external(&mut self, _now: SimTime, _queue: &mut EventQueue<Self::Event>) {}
}

/// Run events in (time, sequence) order while their time is before `until`.
/// `progress` is called with the current time every 2^16 events, so a caller can draw a bar
/// without the loop paying for it. Returns the number of events handled.
pub fn run<H: Handler>(
    handler: &mut H,
    queue: &mut EventQueue<H::Event>,
    until: SimTime,
    mut progress: impl FnMut(SimTime),
) -> u64 {
    let mut handled: u64 = 0;
    loop {
        let tq = queue.peek_time().unwrap_or(SimTime::MAX);
        let te = handler.next_external().unwrap_or(SimTime::MAX);
        let now = tq.min(te);
        if now >= until {
            break;
        }
        if tq <= te {
            let Some((now, event)) = queue.pop() else {
                break;
            };
            handler.handle(now, event, queue);
        } else {
            handler.handle_external(te, queue);
        }
        handled += 1;
        if handled & 0xFFFF == 0 {
            progress(now);
        }
    }
    handled
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo {
        seen: Vec<(SimTime, u32)>,
    }

    impl Handler for Echo {
        type Event = u32;
        fn handle(&mut self, now: SimTime, event: u32, queue: &mut EventQueue<u32>) {
            self.seen.push((now, event));
            if event < 3 {
                queue.push(now + 10, event + 1);
            }
        }
    }

    #[test]
    fn events_run_in_time_order_and_stop_before_the_horizon() {
        let mut q = EventQueue::new();
        q.push(5, 100);
        q.push(0, 0);
        let mut h = Echo { seen: vec![] };
        let n = run(&mut h, &mut q, 25, |_| {});
        assert_eq!(h.seen, vec![(0, 0), (5, 100), (10, 1), (20, 2)]);
        assert_eq!(n, 4);
        // the event at 30 is left in the queue, not run
        assert_eq!(q.peek_time(), Some(30));
    }

    /// External events every 10 µs from 5, tagged 1000 + k.
    struct Ticks {
        next: SimTime,
        seen: Vec<(SimTime, u32)>,
    }

    impl Handler for Ticks {
        type Event = u32;
        fn handle(&mut self, now: SimTime, event: u32, _: &mut EventQueue<u32>) {
            self.seen.push((now, event));
        }
        fn next_external(&self) -> Option<SimTime> {
            Some(self.next)
        }
        fn handle_external(&mut self, now: SimTime, q: &mut EventQueue<u32>) {
            self.seen.push((now, 1000 + now as u32));
            q.push(now, 7); // same time: runs before the next external one
            self.next += 10;
        }
    }

    #[test]
    fn external_events_merge_in_time_order_and_queued_ones_win_ties() {
        let mut q = EventQueue::new();
        q.push(15, 1);
        let mut h = Ticks { next: 5, seen: vec![] };
        run(&mut h, &mut q, 26, |_| {});
        assert_eq!(h.seen, vec![(5, 1005), (5, 7), (15, 1), (15, 1015), (15, 7), (25, 1025), (25, 7)]);
    }
}
