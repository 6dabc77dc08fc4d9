//! Which ready instance gets a request: the `pick` policies over a function's list of
//! instances with a free slot. The list is intrusive (links live in the instances) and kept
//! in most-recently-touched order, so the default `mru` is O(1); the others scan it.

use rand::Rng;

use super::instance::{Instance, NIL};
use crate::scenario::Pick;

/// Instances of one function (reserved or on-demand) that are ready with a free slot.
#[derive(Debug, Clone)]
pub struct AvailList {
    head: u32,
    tail: u32,
    len: u32,
}

impl Default for AvailList {
    fn default() -> Self {
        AvailList { head: NIL, tail: NIL, len: 0 }
    }
}

impl AvailList {
    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Put `i` first (it was just used). It must not be in a list.
    pub fn push_front(&mut self, insts: &mut [Instance], i: u32) {
        debug_assert!(!insts[i as usize].in_avail);
        let old = self.head;
        {
            let it = &mut insts[i as usize];
            it.prev = NIL;
            it.next = old;
            it.in_avail = true;
        }
        if old != NIL {
            insts[old as usize].prev = i;
        } else {
            self.tail = i;
        }
        self.head = i;
        self.len += 1;
    }

    pub fn remove(&mut self, insts: &mut [Instance], i: u32) {
        let (p, n) = {
            let it = &mut insts[i as usize];
            debug_assert!(it.in_avail);
            it.in_avail = false;
            (std::mem::replace(&mut it.prev, NIL), std::mem::replace(&mut it.next, NIL))
        };
        if p != NIL {
            insts[p as usize].next = n;
        } else {
            self.head = n;
        }
        if n != NIL {
            insts[n as usize].prev = p;
        } else {
            self.tail = p;
        }
        self.len -= 1;
    }

    /// Move `i` to the front (most recently touched).
    pub fn touch(&mut self, insts: &mut [Instance], i: u32) {
        if self.head != i {
            self.remove(insts, i);
            self.push_front(insts, i);
        }
    }

    /// The instance `pick` chooses, if any.
    pub fn choose<R: Rng + ?Sized>(&self, insts: &[Instance], pick: Pick, rng: &mut R) -> Option<u32> {
        if self.head == NIL {
            return None;
        }
        match pick {
            Pick::Mru => Some(self.head),
            Pick::Newest => self.scan_best(insts, |it| it.id),
            // fewest in flight; among equals the most recently touched
            Pick::LeastLoaded => self.scan_best(insts, |it| u64::MAX - it.inflight as u64),
            Pick::Random => {
                let k = rng.random_range(0..self.len);
                let mut cur = self.head;
                for _ in 0..k {
                    cur = insts[cur as usize].next;
                }
                Some(cur)
            }
        }
    }

    /// The first instance (from the front) with the largest key.
    fn scan_best(&self, insts: &[Instance], key: impl Fn(&Instance) -> u64) -> Option<u32> {
        let mut best = self.head;
        let mut best_key = key(&insts[best as usize]);
        let mut cur = insts[best as usize].next;
        while cur != NIL {
            let k = key(&insts[cur as usize]);
            if k > best_key {
                best = cur;
                best_key = k;
            }
            cur = insts[cur as usize].next;
        }
        Some(best)
    }

    /// Members from the front (for tests and checks).
    pub fn iter<'a>(&self, insts: &'a [Instance]) -> impl Iterator<Item = u32> + 'a {
        let mut cur = self.head;
        std::iter::from_fn(move || {
            if cur == NIL {
                return None;
            }
            let here = cur;
            cur = insts[cur as usize].next;
            Some(here)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::instance::Slab;
    use super::*;
    use crate::engine::rng::stream;
    use crate::usage::Phase;

    fn slab(n: u32) -> Slab {
        let mut s = Slab::default();
        for _ in 0..n {
            s.alloc(0, 0, false, 0, Phase::Busy);
        }
        s
    }

    #[test]
    fn mru_takes_the_most_recently_touched_instance() {
        let mut s = slab(3);
        let mut l = AvailList::default();
        for i in 0..3 {
            l.push_front(&mut s.items, i);
        }
        let mut rng = stream(1, 0, "t", 0);
        assert_eq!(l.choose(&s.items, Pick::Mru, &mut rng), Some(2));
        l.touch(&mut s.items, 0);
        assert_eq!(l.iter(&s.items).collect::<Vec<_>>(), vec![0, 2, 1]);
        l.remove(&mut s.items, 2);
        assert_eq!(l.iter(&s.items).collect::<Vec<_>>(), vec![0, 1]);
        l.remove(&mut s.items, 1);
        l.remove(&mut s.items, 0);
        assert!(l.is_empty());
        assert_eq!(l.choose(&s.items, Pick::Mru, &mut rng), None);
    }

    #[test]
    fn newest_takes_the_latest_created_and_least_loaded_the_emptiest() {
        let mut s = slab(3);
        let mut l = AvailList::default();
        for i in [1, 2, 0] {
            l.push_front(&mut s.items, i);
        }
        s.items[0].inflight = 3;
        s.items[1].inflight = 1;
        s.items[2].inflight = 2;
        let mut rng = stream(1, 0, "t", 0);
        assert_eq!(l.choose(&s.items, Pick::Newest, &mut rng), Some(2));
        assert_eq!(l.choose(&s.items, Pick::LeastLoaded, &mut rng), Some(1));
    }

    #[test]
    fn random_reaches_every_member() {
        let mut s = slab(4);
        let mut l = AvailList::default();
        for i in 0..4 {
            l.push_front(&mut s.items, i);
        }
        let mut rng = stream(1, 0, "t", 0);
        let mut seen = [0; 4];
        for _ in 0..400 {
            seen[l.choose(&s.items, Pick::Random, &mut rng).unwrap() as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }
}
