//! The event queue: a 4-ary heap ([`QuadHeap`]) ordered by (time, sequence number). The
//! sequence number makes simultaneous events run in the order they were scheduled, so a seed
//! gives the same bytes every time.

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

/// Entries an event queue keeps room for however few it holds.
const TRIM_FLOOR: usize = 4096;

/// Pending events. Capacity is kept between pushes, so a steady state allocates nothing.
pub struct EventQueue<E> {
    heap: QuadHeap<Entry<E>>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { heap: QuadHeap::with_capacity(1024), seq: 0 }
    }

    /// Schedule `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let key = ((time as u128) << 64) | self.seq as u128;
        self.seq += 1;
        self.heap.push(Entry { key, event });
    }

    /// The earliest event and its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| ((e.key >> 64) as SimTime, e.event))
    }

    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| (e.key >> 64) as SimTime)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Give back what a burst of events left allocated (see [`QuadHeap::trim`]); the run
    /// loop calls it now and then.
    pub fn trim(&mut self) {
        self.heap.trim(TRIM_FLOOR);
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
