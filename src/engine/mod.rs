//! A small discrete-event core that knows nothing of functions or money: an event queue
//! ordered by (time, sequence number), a clock in integer microseconds, and a run loop that
//! hands each event to one [`Handler`]. The model lives elsewhere (see `platform`).
//!
//! Cancellation is the model's business: a timer carries a generation stamp and the handler
//! drops it when the stamp is stale (O(1), no scan, no lookup table).

pub mod queue;
pub mod rng;

pub use queue::EventQueue;

/// Simulated time in microseconds since the start of the run.
pub type SimTime = u64;

/// The one object that reacts to events; it owns all model state.
pub trait Handler {
    type Event;
    /// React to `event` at `now`; schedule follow-ups on `queue`.
    fn handle(&mut self, now: SimTime, event: Self::Event, queue: &mut EventQueue<Self::Event>);
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
    while let Some(t) = queue.peek_time() {
        if t >= until {
            break;
        }
        let Some((now, event)) = queue.pop() else {
            break;
        };
        handler.handle(now, event, queue);
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
}
