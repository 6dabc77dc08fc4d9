//! A min-heap whose next few elements are kept in order in front of it, so a caller can see
//! not only the least element but the ones after it. The platform uses it for arrivals: in
//! a 10,000-function fleet each arrival touches the state of a function cold in the caches,
//! and knowing the next eight lets it ask for their state early enough that the memory has
//! answered by the time they are handled.
//!
//! The order is the heap's: elements leave in `Ord` order whatever the depth (the front holds
//! the least `depth` elements, sorted; everything in the heap is greater or equal).

use std::collections::VecDeque;

use super::QuadHeap;

#[derive(Debug, Clone)]
pub struct Lookahead<T> {
    heap: QuadHeap<T>,
    /// The least elements in order, at most `depth` of them (none with depth 0).
    front: VecDeque<T>,
    depth: usize,
}

impl<T: Ord + Copy> Lookahead<T> {
    /// With `depth` 0 it is a plain heap; with `depth` n the next n elements can be seen.
    pub fn new(depth: usize) -> Self {
        Lookahead { heap: QuadHeap::default(), front: VecDeque::with_capacity(depth + 1), depth }
    }

    pub fn push(&mut self, x: T) {
        self.insert(x);
        self.fill();
    }

    /// The least element.
    #[inline]
    pub fn peek(&self) -> Option<&T> {
        if self.depth == 0 {
            self.heap.peek()
        } else {
            self.front.front()
        }
    }

    /// The element `i` places after the least (0 = the least), if it is among the next `depth`.
    #[inline]
    pub fn ahead(&self, i: usize) -> Option<&T> {
        self.front.get(i)
    }

    /// Remove the least element and, in the same step, add `next` (the way a stream hands
    /// over its following arrival). The structure must not be empty.
    #[inline]
    pub fn advance(&mut self, next: Option<T>) {
        if self.depth == 0 {
            match next {
                Some(x) => {
                    self.heap.replace_top(x);
                }
                None => {
                    self.heap.pop();
                }
            }
            return;
        }
        self.front.pop_front();
        if let Some(x) = next {
            self.insert(x);
        }
        self.fill();
    }

    /// Put `x` in the front if it comes before the front's last element (keeping the front
    /// at most `depth` long), else in the heap.
    #[inline]
    fn insert(&mut self, x: T) {
        match self.front.back() {
            Some(&last) if x < last => {
                let at = self.front.partition_point(|y| *y <= x);
                self.front.insert(at, x);
                if self.front.len() > self.depth {
                    let back = self.front.pop_back().expect("longer than depth");
                    self.heap.push(back);
                }
            }
            _ => self.heap.push(x),
        }
    }

    /// Move the heap's least elements to the front until it holds `depth`.
    #[inline]
    fn fill(&mut self) {
        while self.front.len() < self.depth {
            match self.heap.pop() {
                Some(x) => self.front.push_back(x),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the depth, elements leave in the order a sorted list gives, and `ahead`
        /// shows the next ones in order.
        #[test]
        fn agrees_with_a_sorted_list(depth in 0usize..6, ops in proptest::collection::vec((any::<bool>(), 0u32..40), 0..300)) {
            let mut l = Lookahead::new(depth);
            let mut model: Vec<u32> = Vec::new();
            for (replace, x) in ops {
                if model.is_empty() || !replace {
                    l.push(x);
                    model.push(x);
                } else {
                    model.sort_unstable();
                    prop_assert_eq!(l.peek().copied(), Some(model[0]));
                    model.remove(0);
                    let next = (x % 3 != 0).then_some(x);
                    model.extend(next);
                    l.advance(next);
                }
                model.sort_unstable();
                prop_assert_eq!(l.peek().copied(), model.first().copied());
                for i in 0..depth {
                    prop_assert_eq!(l.ahead(i).copied(), model.get(i).copied());
                }
            }
        }
    }
}
