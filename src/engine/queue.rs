//! The event queue: 4-ary heaps ([`QuadHeap`]) ordered by (time, sequence number). The
//! sequence number makes simultaneous events run in the order they were scheduled, so a seed
//! gives the same bytes every time.
//!
//! Events due soon (within [`NEAR`] of the last one handled) and later ones are kept in two
//! heaps, and a pop takes the earlier of their two tops: the order is the one heap's. A
//! large fleet keeps a keep-alive timer per function minutes ahead, ten thousand entries,
//! while the events that come and go with each request (its end, 100 ms ahead) are a few
//! hundred: in one heap every pop walks past the timers, in two it walks a small heap that
//! stays in the nearest cache.

use std::cmp::Ordering;

use super::heap::QuadHeap;
use super::SimTime;

struct Entry<E> {
    /// time in the high 64 bits, sequence in the low 64: one integer comparison orders both.
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// Events this close to the last one handled go to the near heap.
const NEAR: SimTime = 1_000_000;

/// Pending events. Capacity is kept between pushes, so a steady state allocates nothing.
pub struct EventQueue<E> {
    near: QuadHeap<Entry<E>>,
    far: QuadHeap<Entry<E>>,
    seq: u64,
    /// The time of the last event popped.
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { near: QuadHeap::with_capacity(1024), far: QuadHeap::with_capacity(1024), seq: 0, now: 0 }
    }

    /// Schedule `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let key = ((time as u128) << 64) | self.seq as u128;
        self.seq += 1;
        if time <= self.now.saturating_add(NEAR) {
            self.near.push(Entry { key, event });
        } else {
            self.far.push(Entry { key, event });
        }
    }

    /// The earliest event and its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let from_far = match (self.near.peek(), self.far.peek()) {
            (Some(n), Some(f)) => f.key < n.key,
            (None, Some(_)) => true,
            _ => false,
        };
        let e = if from_far { self.far.pop() } else { self.near.pop() }?;
        self.now = (e.key >> 64) as SimTime;
        Some((self.now, e.event))
    }

    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        let key = |h: &QuadHeap<Entry<E>>| h.peek().map(|e| e.key);
        let k = match (key(&self.near), key(&self.far)) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some((k >> 64) as SimTime)
    }

    pub fn len(&self) -> usize {
        self.near.len() + self.far.len()
    }

    pub fn is_empty(&self) -> bool {
        self.near.is_empty() && self.far.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simultaneous_events_pop_in_scheduling_order() {
        let mut q = EventQueue::new();
        q.push(7, 'a');
        q.push(3, 'b');
        q.push(7, 'c');
        q.push(3, 'd');
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(3, 'b'), (3, 'd'), (7, 'a'), (7, 'c')]);
    }

    proptest::proptest! {
        /// Near and far events interleave in (time, scheduling) order, as one sorted list.
        #[test]
        fn pops_in_time_then_scheduling_order(ops in proptest::collection::vec((proptest::bool::ANY, 0u64..3_000_000), 0..400)) {
            let mut q = EventQueue::new();
            let mut model: Vec<(u64, usize)> = Vec::new();
            let mut now = 0;
            for (k, (pop, dt)) in ops.into_iter().enumerate() {
                if pop {
                    model.sort_unstable();
                    let want = (!model.is_empty()).then(|| model.remove(0));
                    let got = q.pop();
                    proptest::prop_assert_eq!(got, want.map(|w| (w.0, w.1)));
                    if let Some((t, _)) = got {
                        now = t;
                    }
                } else {
                    q.push(now + dt, k);
                    model.push((now + dt, k));
                }
                proptest::prop_assert_eq!(q.len(), model.len());
                proptest::prop_assert_eq!(q.peek_time(), model.iter().map(|m| m.0).min());
            }
        }
    }

    #[test]
    fn large_times_keep_their_order() {
        let mut q = EventQueue::new();
        q.push(u64::MAX - 1, 1);
        q.push(1 << 63, 2);
        assert_eq!(q.pop(), Some((1 << 63, 2)));
        assert_eq!(q.pop(), Some((u64::MAX - 1, 1)));
        assert!(q.is_empty());
    }
}
