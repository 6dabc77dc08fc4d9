//! A 4-ary min-heap. At fleet scale the event queue holds tens of thousands of entries and a
//! pop walks the heap from root to leaf: with four children per node the walk is half as deep
//! as `std`'s binary heap (log₄ n levels), the four children of a node are adjacent in memory
//! (one or two cache lines), and the cache misses, not the comparisons, are what a pop costs.
//!
//! Pop order is fully determined by `Ord`: callers use keys without ties (time with a
//! sequence number, or with a stream index), so any correct heap yields the same order and a
//! seed gives the same bytes as with any other heap.

/// Children per node.
const D: usize = 4;

/// A min-heap: [`QuadHeap::pop`] returns the least element.
#[derive(Debug, Clone)]
pub struct QuadHeap<T> {
    items: Vec<T>,
}

impl<T: Ord> Default for QuadHeap<T> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<T: Ord> QuadHeap<T> {
    pub fn with_capacity(n: usize) -> Self {
        QuadHeap { items: Vec::with_capacity(n) }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Give back room past twice the length once the heap holds under a quarter of it (and
    /// its room is past `floor`): a start storm's peak need not stay allocated for the run.
    pub fn trim(&mut self, floor: usize) {
        let cap = self.items.capacity();
        if cap > floor && self.items.len() < cap / 4 {
            self.items.shrink_to((2 * self.items.len()).max(floor));
        }
    }

    /// The least element.
    #[inline]
    pub fn peek(&self) -> Option<&T> {
        self.items.first()
    }

    #[inline]
    pub fn push(&mut self, x: T) {
        self.items.push(x);
        self.sift_up(self.items.len() - 1);
    }

    /// Remove and return the least element.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let last = self.items.pop()?;
        if self.items.is_empty() {
            return Some(last);
        }
        Some(self.replace_top(last))
    }

    /// Replace the least element by `x` and return it (one walk instead of a pop and a push).
    /// The heap must not be empty.
    #[inline]
    pub fn replace_top(&mut self, x: T) -> T {
        let top = std::mem::replace(&mut self.items[0], x);
        self.sift_down(0);
        top
    }

    fn sift_up(&mut self, mut i: usize) {
        let v = &mut self.items;
        while i > 0 {
            let parent = (i - 1) / D;
            if v[i] >= v[parent] {
                break;
            }
            v.swap(i, parent);
            i = parent;
        }
    }

    /// Move the element at `i` down while a child is smaller.
    #[inline]
    fn sift_down(&mut self, mut i: usize) {
        let v = &mut self.items;
        let n = v.len();
        loop {
            let first = D * i + 1;
            if first >= n {
                return;
            }
            // the least of up to four children; of four, by a tournament the compiler turns
            // into conditional moves: which child is least is a coin toss a branch would miss
            let best = if first + D <= n {
                let ab = if v[first + 1] < v[first] { first + 1 } else { first };
                let cd = if v[first + 3] < v[first + 2] { first + 3 } else { first + 2 };
                if v[cd] < v[ab] {
                    cd
                } else {
                    ab
                }
            } else {
                let mut best = first;
                for c in first + 1..n {
                    if v[c] < v[best] {
                        best = c;
                    }
                }
                best
            };
            if v[best] >= v[i] {
                return;
            }
            v.swap(i, best);
            i = best;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trimming_after_a_burst_gives_room_back_and_keeps_the_order() {
        let mut h = QuadHeap::default();
        for x in 0..100_000u32 {
            h.push(x.wrapping_mul(2_654_435_761) % 1_000_003);
        }
        let mut popped: Vec<u32> = (0..99_000).map(|_| h.pop().unwrap()).collect();
        h.trim(64);
        assert!(h.items.capacity() >= 1_000 && h.items.capacity() < 4_000, "{}", h.items.capacity());
        h.trim(64); // a second trim with the heap at half its room keeps it
        assert!(h.items.capacity() >= 2_000);
        popped.extend(std::iter::from_fn(|| h.pop()));
        assert!(popped.windows(2).all(|w| w[0] <= w[1]) && popped.len() == 100_000);
        // below the floor nothing is given back
        let mut small = QuadHeap::with_capacity(50);
        small.push(1u32);
        small.trim(64);
        assert_eq!(small.items.capacity(), 50);
    }

    proptest! {
        /// Any sequence of pushes, pops and top replacements gives the order a sorted list does.
        #[test]
        fn agrees_with_a_sorted_list(ops in proptest::collection::vec((0u8..3, 0u32..50), 0..300)) {
            let mut h = QuadHeap::default();
            let mut model: Vec<u32> = Vec::new();
            for (op, x) in ops {
                match op {
                    0 => {
                        h.push(x);
                        model.push(x);
                    }
                    1 => {
                        model.sort_unstable_by(|a, b| b.cmp(a));
                        prop_assert_eq!(h.pop(), model.pop());
                    }
                    _ if !model.is_empty() => {
                        model.sort_unstable_by(|a, b| b.cmp(a));
                        let least = model.pop();
                        model.push(x);
                        prop_assert_eq!(Some(h.replace_top(x)), least);
                    }
                    _ => {}
                }
                prop_assert_eq!(h.len(), model.len());
                prop_assert_eq!(h.peek().copied(), model.iter().min().copied());
            }
        }
    }
}
