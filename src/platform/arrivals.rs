//! The arrivals of every workload stream merged into one feed in time order, each with its
//! function and execution time. Nothing the platform does changes them: a stream draws its
//! times and execution times from random streams of its own, which nothing else touches. So
//! they can be made ahead, in batches — on the simulating thread, or, with a core to spare, on
//! a helper thread of their own ([`Maker::Helper`]) — and the run is the same either way. In a
//! large fleet the helper takes the arrival heap (one entry per stream, cold in the caches)
//! and the sampling off the thread that routes requests.

use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use crate::engine::rng::{stream, Rng};
use crate::engine::QuadHeap;
use crate::scenario::{Arrivals, Scenario};
use crate::units::Micros;
use crate::workload::dist::Sampler;
use crate::workload::synthetic::ArrivalGen;
use crate::workload::trace::TraceStream;

/// One arrival, ready to route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Arrival {
    pub(super) time: Micros,
    /// Its execution time: the trace's, or drawn from the function's `exec`.
    pub(super) exec: Micros,
    pub(super) func: u32,
}

/// Where a run's arrivals are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Maker {
    /// On the thread that simulates (the choice when every core already runs a replication).
    #[default]
    Same,
    /// On a helper thread, a few batches ahead of the simulation.
    Helper,
}

/// Arrivals made per batch: enough to make a hand-over rare, few enough to stay in cache.
const BATCH: usize = 1024;

/// Batch buffers in circulation between the simulation and a helper: at most this many
/// made and not yet taken.
const BUFFERS: usize = 8;

/// Emptied buffers go back to the helper this many at a time: the helper waits for empty
/// buffers, not for room to hand one over, so it is woken once per this many batches rather
/// than once per batch (each wake-up is a system call on the simulating thread).
const RETURN_EVERY: usize = BUFFERS / 2;

/// A stream's next arrival as one integer: its time, then the stream (ties), then the
/// arrival's function. Ordered as the tuple would be, compared in two instructions — the
/// arrival heap of a 10,000-stream fleet compares a few dozen of them per arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ArrivalKey(u128);

impl ArrivalKey {
    #[inline]
    pub(super) fn new(time: Micros, stream: u32, func: u32) -> Self {
        ArrivalKey((time as u128) << 64 | (stream as u128) << 32 | func as u128)
    }

    #[inline]
    pub(super) fn time(self) -> Micros {
        (self.0 >> 64) as Micros
    }

    #[inline]
    pub(super) fn stream(self) -> u32 {
        (self.0 >> 32) as u32
    }

    #[inline]
    pub(super) fn func(self) -> u32 {
        self.0 as u32
    }
}

/// One workload's arrivals: a synthetic process for one function, or a trace whose
/// arrivals name their function (and may bring their execution time).
pub(super) struct StreamRt {
    /// Function of the announced (next) arrival.
    pub(super) func: u32,
    /// Its execution time when the trace gives one; else drawn from the function's `exec`.
    pub(super) exec: Option<Micros>,
    pub(super) gen: ArrivalGen,
    pub(super) trace: Option<Box<TraceStream>>,
    pub(super) arrivals_rng: Rng,
    pub(super) exec_rng: Rng,
}

impl StreamRt {
    /// Announce the next arrival: its time (its function and execution time are set).
    #[inline]
    pub(super) fn advance(&mut self) -> Option<Micros> {
        match &mut self.trace {
            None => self.gen.next(&mut self.arrivals_rng),
            Some(t) => t.next(&mut self.arrivals_rng).map(|a| {
                self.func = a.func;
                self.exec = a.exec;
                a.time
            }),
        }
    }
}

/// Every stream's next arrival in a heap, earliest first (ties by stream index): the merge.
pub(super) struct Merge {
    streams: Vec<StreamRt>,
    heap: QuadHeap<ArrivalKey>,
    /// Each function's execution time distribution.
    exec: Vec<Sampler>,
}

impl Merge {
    /// The merge of `sc`'s workloads in `replication`: each draws its arrivals and execution
    /// times from random streams of its own, named by its index.
    pub(super) fn of(sc: &Scenario, replication: u32) -> Merge {
        let seed = sc.simulation.seed;
        let streams = sc
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let until = w.until.min(sc.simulation.horizon);
                StreamRt {
                    func: w.function as u32,
                    exec: None,
                    gen: ArrivalGen::new(&w.arrivals, w.from, until),
                    trace: match &w.arrivals {
                        Arrivals::Trace(t) => Some(Box::new(TraceStream::open(t, w.from, until))),
                        _ => None,
                    },
                    arrivals_rng: stream(seed, replication, "arrivals", i as u64),
                    exec_rng: stream(seed, replication, "exec", i as u64),
                }
            })
            .collect();
        Merge::new(streams, sc.functions.iter().map(|f| f.exec.sampler()).collect())
    }

    /// The merge of `streams`, each announcing its first arrival.
    pub(super) fn new(mut streams: Vec<StreamRt>, exec: Vec<Sampler>) -> Merge {
        let mut heap = QuadHeap::with_capacity(streams.len());
        for (s, st) in streams.iter_mut().enumerate() {
            if let Some(t) = st.advance() {
                heap.push(ArrivalKey::new(t, s as u32, st.func));
            }
        }
        Merge { streams, heap, exec }
    }

    /// The earliest arrival of all streams; its stream announces its following one.
    #[inline]
    fn next(&mut self) -> Option<Arrival> {
        let key = *self.heap.peek()?;
        let st = &mut self.streams[key.stream() as usize];
        let func = key.func();
        let exec = match st.exec {
            Some(e) => e,
            None => self.exec[func as usize].sample(&mut st.exec_rng),
        };
        match st.advance() {
            Some(t) => {
                let next = ArrivalKey::new(t, key.stream(), st.func);
                self.heap.replace_top(next);
            }
            None => {
                self.heap.pop();
            }
        }
        Some(Arrival { time: key.time(), exec, func })
    }

    /// Append up to `n` arrivals to `out`; fewer means the streams have ended.
    fn fill(&mut self, out: &mut impl Extend<Arrival>, n: usize) -> usize {
        let mut made = 0;
        out.extend(std::iter::from_fn(|| self.next()).take(n).inspect(|_| made += 1));
        made
    }
}

/// The arrivals in view, in order, and where the following ones come from.
pub(super) struct Feed {
    view: VecDeque<Arrival>,
    source: Source,
}

enum Source {
    Here(Box<Merge>),
    Helper {
        batches: Receiver<Vec<Arrival>>,
        /// Emptied batches go back to be filled again (no allocation per batch), in groups
        /// of [`RETURN_EVERY`] gathered in `held`.
        spent: SyncSender<Vec<Arrival>>,
        held: Vec<Vec<Arrival>>,
        thread: Option<JoinHandle<()>>,
    },
    Ended,
}

impl Feed {
    /// A feed of `merge`'s arrivals, made where `maker` says; the first batch is ready when
    /// this returns.
    pub(super) fn new(merge: Merge, maker: Maker) -> Feed {
        let source = match maker {
            Maker::Same => Source::Here(Box::new(merge)),
            Maker::Helper => {
                // room for every buffer in both directions: neither side ever waits to send
                let (to_sim, batches) = sync_channel::<Vec<Arrival>>(BUFFERS);
                let (spent, returned) = sync_channel::<Vec<Arrival>>(BUFFERS);
                let thread = std::thread::Builder::new()
                    .name("coldcost-arrivals".into())
                    .spawn(move || make(merge, to_sim, returned))
                    .expect("a thread for arrivals");
                Source::Helper { batches, spent, held: Vec::with_capacity(RETURN_EVERY), thread: Some(thread) }
            }
        };
        let mut feed = Feed { view: VecDeque::with_capacity(2 * BATCH), source };
        feed.refill();
        feed
    }

    /// The next arrival.
    #[inline]
    pub(super) fn peek(&self) -> Option<&Arrival> {
        self.view.front()
    }

    /// The arrival `i` places after the next (0 = the next), if it is in view: at least
    /// `LOOKAHEAD` are while the streams last.
    #[inline]
    pub(super) fn ahead(&self, i: usize) -> Option<&Arrival> {
        self.view.get(i)
    }

    /// Take the next arrival (there must be one).
    #[inline]
    pub(super) fn take(&mut self) -> Arrival {
        let a = self.view.pop_front().expect("an arrival in view");
        if self.view.len() <= super::LOOKAHEAD {
            self.refill();
        }
        a
    }

    /// Bring the next batch into view.
    #[cold]
    fn refill(&mut self) {
        match &mut self.source {
            Source::Here(merge) => {
                if merge.fill(&mut self.view, BATCH) < BATCH {
                    self.source = Source::Ended;
                }
            }
            Source::Helper { batches, spent, held, thread } => match batches.recv() {
                Ok(mut batch) => {
                    let ended = batch.len() < BATCH;
                    self.view.extend(batch.drain(..));
                    held.push(batch);
                    if held.len() == RETURN_EVERY {
                        for b in held.drain(..) {
                            let _ = spent.try_send(b);
                        }
                    }
                    if ended {
                        self.source = Source::Ended;
                    }
                }
                // the helper hung up without a short batch: it panicked; so does the run
                Err(_) => {
                    if let Some(Err(panic)) = thread.take().map(JoinHandle::join) {
                        std::panic::resume_unwind(panic);
                    }
                    unreachable!("the arrival helper ends with a short batch");
                }
            },
            Source::Ended => {}
        }
    }
}

impl Drop for Feed {
    /// A run that stops early (at its horizon, or halted) hangs up; the helper then stops at
    /// its next hand-over, and is waited for.
    fn drop(&mut self) {
        if let Source::Helper { batches, spent, thread, .. } = std::mem::replace(&mut self.source, Source::Ended) {
            drop((batches, spent));
            if let Some(t) = thread {
                let _ = t.join();
            }
        }
    }
}

/// The helper's loop: fill [`BUFFERS`] new batches, then those handed back (waiting for
/// them), until the streams end (the last batch is short, maybe empty) or the simulation
/// hangs up.
fn make(mut merge: Merge, to_sim: SyncSender<Vec<Arrival>>, returned: Receiver<Vec<Arrival>>) {
    let mut new = BUFFERS;
    loop {
        let mut batch = if new > 0 {
            new -= 1;
            Vec::with_capacity(BATCH)
        } else {
            match returned.recv() {
                Ok(b) => b,
                Err(_) => return,
            }
        };
        let ended = merge.fill(&mut batch, BATCH) < BATCH;
        if to_sim.send(batch).is_err() || ended {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::model::Dist;

    /// `n` Poisson streams of `rate` per second over `until` µs, one function each.
    fn merge(n: usize, rate: f64, until: Micros) -> Merge {
        merge_of(n, &Arrivals::Poisson { rate }, until)
    }

    fn merge_of(n: usize, arrivals: &Arrivals, until: Micros) -> Merge {
        let streams = (0..n)
            .map(|i| StreamRt {
                func: i as u32,
                exec: None,
                gen: ArrivalGen::new(arrivals, 0, until),
                trace: None,
                arrivals_rng: stream(7, 0, "arrivals", i as u64),
                exec_rng: stream(7, 0, "exec", i as u64),
            })
            .collect();
        let exec = (0..n).map(|k| Dist::Exp { mean: 1000 + 10 * k as u64 }.sampler()).collect();
        Merge::new(streams, exec)
    }

    fn drain(mut feed: Feed) -> Vec<Arrival> {
        let mut out = Vec::new();
        while feed.peek().is_some() {
            out.push(feed.take());
        }
        out
    }

    #[test]
    fn a_helper_makes_the_same_arrivals_in_the_same_order() {
        // several batches, a short last one
        for (n, rate) in [(1, 2000.0), (3, 400.0), (50, 40.0)] {
            let here = drain(Feed::new(merge(n, rate, 5_000_000), Maker::Same));
            let helper = drain(Feed::new(merge(n, rate, 5_000_000), Maker::Helper));
            assert!(here.len() > 3 * BATCH, "{n} streams: {} arrivals", here.len());
            assert_eq!(here, helper, "{n} streams");
            assert!(here.windows(2).all(|w| w[0].time <= w[1].time));
        }
        // streams that all arrive at the same instants: ties go by stream, on either thread
        let every_ms = Arrivals::Constant { interval: 1000 };
        let here = drain(Feed::new(merge_of(7, &every_ms, 1_000_000), Maker::Same));
        let helper = drain(Feed::new(merge_of(7, &every_ms, 1_000_000), Maker::Helper));
        assert_eq!(here.len(), 7000);
        assert_eq!(here, helper);
        assert!(here
            .chunks(7)
            .enumerate()
            .all(|(k, c)| c.iter().enumerate().all(|(i, a)| a.func == i as u32 && a.time == 1000 * k as u64)));
    }

    #[test]
    fn streams_that_end_on_a_batch_boundary_or_never_start_end_the_feed() {
        for maker in [Maker::Same, Maker::Helper] {
            let feed = Feed::new(merge(4, 0.0, 1_000_000), maker);
            assert!(feed.peek().is_none());
            let all = drain(Feed::new(merge(2, 1000.0, 2_000_000), maker));
            // exactly k batches: the helper then hands over an empty one
            let k = all.len() / BATCH;
            let mut m = merge(2, 1000.0, 2_000_000);
            let mut first = Vec::new();
            m.fill(&mut first, k * BATCH);
            assert_eq!(first, all[..k * BATCH]);
        }
    }

    #[test]
    fn a_run_that_stops_early_lets_its_helper_go() {
        let mut feed = Feed::new(merge(10, 1000.0, 100_000_000), Maker::Helper);
        for _ in 0..10 {
            feed.take();
        }
        drop(feed); // joins the helper: a hang here would hang the test
    }

    #[test]
    fn the_lookahead_stays_in_view_across_batches() {
        let mut feed = Feed::new(merge(5, 500.0, 10_000_000), Maker::Helper);
        for _ in 0..3 * BATCH {
            let next: Vec<Arrival> = (0..=super::super::LOOKAHEAD).map(|i| *feed.ahead(i).unwrap()).collect();
            assert_eq!(feed.take(), next[0]);
            assert_eq!(feed.peek(), Some(&next[1]));
        }
    }
}
