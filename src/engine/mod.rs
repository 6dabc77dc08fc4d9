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

    /// The handler asks the run to stop after the event it just handled (a checking wrapper
    /// that found its model broken). The default never does, and costs nothing once inlined.
    #[inline(always)]
    fn halted(&self) -> bool {
        false
    }
}

/// More events than this at one simulated instant means the model is stuck in a loop that
/// never advances the clock (no real scenario comes near: it would be a million arrivals at
/// one microsecond, each with sixty follow-ups); the run stops with a [`Stall`].
pub const SAME_INSTANT_LIMIT: u64 = 1 << 26;

/// How many events past the limit are handled (and counted by kind) to say what loops.
const DIAGNOSE: u64 = 4096;

/// A run that stopped because one instant saw more than its limit of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stall {
    /// The simulated time that never advanced.
    pub at: SimTime,
    /// Events handled at that instant before the run stopped.
    pub events: u64,
    /// The kinds of the last events handled there (the `Debug` name of each event,
    /// `external` for the handler's own stream) and how many of each, most frequent first.
    pub kinds: Vec<(String, u64)>,
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<String> = self.kinds.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        write!(
            f,
            "the simulation stopped: {} events at t = {} µs without the clock advancing (a model loop); last events there: {}",
            self.events,
            self.at,
            kinds.join(", ")
        )
    }
}

impl std::error::Error for Stall {}

/// The name of an event's kind: its `Debug` text up to the first space, brace or parenthesis.
fn kind_of<E: std::fmt::Debug>(event: &E) -> String {
    let text = format!("{event:?}");
    let end = text.find([' ', '{', '(']).unwrap_or(text.len());
    text[..end].to_string()
}

/// Run events in (time, sequence) order while their time is before `until`, or until the
/// handler says it has [`Handler::halted`].
/// `progress` is called with the current time every 2^16 events, so a caller can draw a bar
/// without the loop paying for it. Returns the number of events handled, or a [`Stall`] when
/// more than `limit` events happen at one instant (the guard is one compare per event).
pub fn run<H: Handler>(
    handler: &mut H,
    queue: &mut EventQueue<H::Event>,
    until: SimTime,
    limit: u64,
    mut progress: impl FnMut(SimTime),
) -> Result<u64, Stall>
where
    H::Event: std::fmt::Debug,
{
    let mut handled: u64 = 0;
    let mut instant: SimTime = 0;
    let mut same: u64 = 0;
    loop {
        let tq = queue.peek_time().unwrap_or(SimTime::MAX);
        let te = handler.next_external().unwrap_or(SimTime::MAX);
        let now = tq.min(te);
        if now >= until {
            break;
        }
        if now == instant {
            same += 1;
            if same > limit {
                return Err(diagnose(handler, queue, now, same - 1));
            }
        } else {
            instant = now;
            same = 1;
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
        if handler.halted() {
            break;
        }
        if handled & 0xFFFF == 0 {
            progress(now);
            queue.trim();
        }
    }
    Ok(handled)
}

/// Handle up to [`DIAGNOSE`] more events at `at`, counting their kinds, and say what loops.
#[cold]
fn diagnose<H: Handler>(handler: &mut H, queue: &mut EventQueue<H::Event>, at: SimTime, events: u64) -> Stall
where
    H::Event: std::fmt::Debug,
{
    let mut kinds: Vec<(String, u64)> = Vec::new();
    let mut count = |k: String| match kinds.iter_mut().find(|(x, _)| *x == k) {
        Some(e) => e.1 += 1,
        None => kinds.push((k, 1)),
    };
    let mut n = events;
    for _ in 0..DIAGNOSE {
        let tq = queue.peek_time().unwrap_or(SimTime::MAX);
        let te = handler.next_external().unwrap_or(SimTime::MAX);
        if tq.min(te) != at {
            break;
        }
        if tq <= te {
            let Some((now, event)) = queue.pop() else { break };
            count(kind_of(&event));
            handler.handle(now, event, queue);
        } else {
            count("external".to_string());
            handler.handle_external(te, queue);
        }
        n += 1;
    }
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Stall { at, events: n, kinds }
}

/// Ask the processor to bring the first `lines` cache lines of `x` into its caches, without
/// waiting: the state of the next arrival, touched soon, in a fleet otherwise a miss to
/// memory for every line. A hint only (no effect on results; nothing on other targets).
#[inline(always)]
pub fn prefetch<T>(x: &T, lines: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        let p = x as *const T as *const i8;
        for k in 0..lines.min(std::mem::size_of::<T>().div_ceil(64)) {
            // SAFETY: a prefetch never faults or reads into the program; `p + 64k` lies within `x`.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.add(64 * k)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (x, lines);
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
        let n = run(&mut h, &mut q, 25, SAME_INSTANT_LIMIT, |_| {}).unwrap();
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
        run(&mut h, &mut q, 26, SAME_INSTANT_LIMIT, |_| {}).unwrap();
        assert_eq!(h.seen, vec![(5, 1005), (5, 7), (15, 1), (15, 1015), (15, 7), (25, 1025), (25, 7)]);
    }

    /// A handler whose event 9 reschedules itself at the same instant forever.
    #[derive(Debug)]
    enum Loop {
        Spin { at: SimTime },
        Once,
    }

    struct Spinner;

    impl Handler for Spinner {
        type Event = Loop;
        fn handle(&mut self, now: SimTime, event: Loop, queue: &mut EventQueue<Loop>) {
            if let Loop::Spin { at } = event {
                queue.push(at, Loop::Spin { at });
                queue.push(now, Loop::Once);
            }
        }
    }

    #[test]
    fn a_loop_at_one_instant_stops_with_the_time_and_the_kinds_of_its_events() {
        let mut q = EventQueue::new();
        q.push(3, Loop::Once);
        q.push(7, Loop::Spin { at: 7 });
        let stall = run(&mut Spinner, &mut q, 100, 1000, |_| {}).unwrap_err();
        assert_eq!(stall.at, 7);
        assert_eq!(stall.events, 1000 + 4096);
        assert_eq!(stall.kinds, vec![("Once".to_string(), 2048), ("Spin".to_string(), 2048)]);
        let text = stall.to_string();
        assert!(text.contains("t = 7 µs") && text.contains("Spin ×2048"), "{text}");
    }

    /// Stops after its third event.
    struct Halting(u32);

    impl Handler for Halting {
        type Event = u32;
        fn handle(&mut self, now: SimTime, _: u32, queue: &mut EventQueue<u32>) {
            self.0 += 1;
            queue.push(now + 1, 0);
        }
        fn halted(&self) -> bool {
            self.0 >= 3
        }
    }

    #[test]
    fn a_halted_handler_stops_the_run_after_the_event_it_handled() {
        let mut q = EventQueue::new();
        q.push(0, 0u32);
        let mut h = Halting(0);
        assert_eq!(run(&mut h, &mut q, 100, SAME_INSTANT_LIMIT, |_| {}), Ok(3));
        assert_eq!(q.peek_time(), Some(3), "the next event is left in the queue");
    }

    #[test]
    fn many_events_at_one_instant_under_the_limit_run_to_the_end() {
        let mut q = EventQueue::new();
        for _ in 0..1000 {
            q.push(5, 1u32);
        }
        let mut h = Echo { seen: vec![] };
        assert_eq!(run(&mut h, &mut q, 10, 1000, |_| {}), Ok(1000));
    }
}
