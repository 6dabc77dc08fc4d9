//! Latency histograms that give HdrHistogram's answers in a fraction of its memory.
//!
//! An `hdrhistogram::Histogram` with 3 significant digits holds at least 2,048 `u64`
//! counters (16 KB) and about 170 KB once it has seen a 10-minute latency — fine for a few
//! functions, 350 MB for a 500-function trace and gigabytes for 10,000. [`Latency`] uses the
//! same bins (same bucket arithmetic, same `value_at_quantile` rule: the highest value
//! equivalent to the value of rank ⌈q·n⌉), so its answers are HdrHistogram's to the bit, but
//! it stores the first [`SMALL`] values as they are and then only the range of bins actually
//! used. Functions replayed from a trace use 2 significant digits (bins at most 1% wide),
//! which keeps a busy function's histogram to a few kilobytes; a merge takes the coarser
//! precision of the two.

/// Values kept as they are before switching to bins.
pub const SMALL: usize = 64;

/// A histogram of latencies (µs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latency {
    digits: u8,
    total: u64,
    store: Store,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Store {
    Values(Vec<u64>),
    /// Counts of bins `first..first + counts.len()`.
    Bins {
        first: usize,
        counts: Vec<u64>,
    },
}

/// HdrHistogram's bucket layout for a lowest discernible value of 1 and `digits`
/// significant digits.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// `sub_bucket_count - 1`.
    mask: u64,
    /// `sub_bucket_half_count_magnitude`.
    half_mag: u32,
    /// `leading_zero_count_base`.
    base: u32,
}

impl Layout {
    fn of(digits: u8) -> Layout {
        // sub_bucket_count = 2 × 10^digits rounded up to a power of two
        let largest = 2 * 10u64.pow(digits as u32);
        let count_mag = 64 - (largest - 1).leading_zeros();
        let half_mag = count_mag - 1;
        Layout { mask: (1 << count_mag) - 1, half_mag, base: 64 - half_mag - 1 }
    }

    #[inline]
    fn bucket(&self, v: u64) -> u32 {
        self.base - (v | self.mask).leading_zeros()
    }

    #[inline]
    fn index(&self, v: u64) -> usize {
        let b = self.bucket(v);
        let sub = (v >> b) as usize;
        let half = 1usize << self.half_mag;
        (((b as usize) + 1) << self.half_mag) + sub - half
    }

    /// The lowest value of bin `index`.
    fn value_for(&self, index: usize) -> u64 {
        let half = 1usize << self.half_mag;
        let mut bucket = (index >> self.half_mag) as isize - 1;
        let mut sub = (index & (half - 1)) + half;
        if bucket < 0 {
            sub -= half;
            bucket = 0;
        }
        (sub as u64) << bucket
    }

    fn lowest_equivalent(&self, v: u64) -> u64 {
        let b = self.bucket(v);
        (v >> b) << b
    }

    fn highest_equivalent(&self, v: u64) -> u64 {
        v | ((1u64 << self.bucket(v)) - 1)
    }
}

impl Default for Latency {
    fn default() -> Self {
        Latency::new(3)
    }
}

impl Latency {
    /// An empty histogram with `digits` (1..=5) significant digits.
    pub fn new(digits: u8) -> Latency {
        assert!((1..=5).contains(&digits), "1..=5 significant digits");
        Latency { digits, total: 0, store: Store::Values(Vec::new()) }
    }

    pub fn digits(&self) -> u8 {
        self.digits
    }

    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    #[inline]
    pub fn record(&mut self, v: u64) {
        self.record_n(v, 1);
    }

    #[inline]
    pub fn record_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        match &mut self.store {
            Store::Values(vs) if vs.len() as u64 + n <= SMALL as u64 => {
                vs.extend(std::iter::repeat_n(v, n as usize));
            }
            Store::Values(_) => {
                self.spill();
                self.bin(v, n);
            }
            Store::Bins { .. } => self.bin(v, n),
        }
    }

    fn spill(&mut self) {
        if let Store::Values(vs) = std::mem::replace(&mut self.store, Store::Bins { first: 0, counts: Vec::new() }) {
            for v in vs {
                self.bin(v, 1);
            }
        }
    }

    #[inline]
    fn bin(&mut self, v: u64, n: u64) {
        let i = Layout::of(self.digits).index(v);
        let Store::Bins { first, counts } = &mut self.store else { unreachable!("binned") };
        if counts.is_empty() {
            *first = i;
            counts.push(0);
        } else if i < *first {
            // grow at the front (rare once the smallest values have been seen)
            let grow = *first - i;
            counts.splice(0..0, std::iter::repeat_n(0, grow));
            *first = i;
        } else if i >= *first + counts.len() {
            counts.resize(i - *first + 1, 0);
        }
        counts[i - *first] += n;
    }

    /// HdrHistogram's `value_at_quantile`: for `q` > 0, the highest value equivalent to the
    /// value of rank ⌈q·n⌉ (at least 1); for `q` = 0, the lowest equivalent to the smallest.
    /// 0 when empty.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let q = q.min(1.0);
        let rank = ((q * self.total as f64).ceil() as u64).max(1);
        let layout = Layout::of(self.digits);
        let v = match &self.store {
            Store::Values(vs) => {
                let mut sorted = vs.clone();
                sorted.sort_unstable();
                sorted[(rank as usize).min(sorted.len()) - 1]
            }
            Store::Bins { first, counts } => {
                let mut seen = 0;
                let mut at = first + counts.len() - 1;
                for (k, &c) in counts.iter().enumerate() {
                    seen += c;
                    if seen >= rank {
                        at = first + k;
                        break;
                    }
                }
                layout.value_for(at)
            }
        };
        if q == 0.0 {
            layout.lowest_equivalent(v)
        } else {
            layout.highest_equivalent(v)
        }
    }

    /// Add `other`'s values; the result has the coarser precision of the two.
    pub fn add(&mut self, other: &Latency) {
        if other.digits < self.digits {
            let mut coarse = Latency::new(other.digits);
            coarse.add(self);
            *self = coarse;
        }
        match &other.store {
            Store::Values(vs) => {
                for &v in vs {
                    self.record(v);
                }
            }
            Store::Bins { first, counts } => {
                let layout = Layout::of(other.digits);
                for (k, &c) in counts.iter().enumerate() {
                    self.record_n(layout.value_for(first + k), c);
                }
            }
        }
    }

    /// Bytes held on the heap (for tests of memory use).
    pub fn heap_bytes(&self) -> usize {
        match &self.store {
            Store::Values(v) => v.capacity() * 8,
            Store::Bins { counts, .. } => counts.capacity() * 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;
    use rand::{Rng as _, SeedableRng};

    fn hdr(digits: u8) -> Histogram<u64> {
        let mut h = Histogram::new(digits).unwrap();
        h.auto(true);
        h
    }

    #[test]
    fn quantiles_match_hdrhistogram_to_the_bit() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        for digits in [2u8, 3] {
            for n in [1usize, 5, SMALL, SMALL + 1, 1000, 50_000] {
                let mut ours = Latency::new(digits);
                let mut theirs = hdr(digits);
                for _ in 0..n {
                    // latencies from 1 µs to 20 minutes, log-uniform
                    let v = (rng.random::<f64>() * 21.0).exp() as u64;
                    ours.record(v);
                    theirs.record(v).unwrap();
                }
                for q in [0.0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0] {
                    assert_eq!(ours.value_at_quantile(q), theirs.value_at_quantile(q), "digits {digits}, n {n}, q {q}");
                }
                assert_eq!(ours.len(), theirs.len());
            }
        }
    }

    #[test]
    fn merges_match_hdrhistogram_and_take_the_coarser_precision() {
        let mut a = Latency::new(3);
        let mut b = Latency::new(3);
        let mut h = hdr(3);
        for v in 0..500u64 {
            a.record(v * 997);
            h.record(v * 997).unwrap();
        }
        for v in 0..20u64 {
            b.record(v * 31 + 5);
            h.record(v * 31 + 5).unwrap();
        }
        a.add(&b);
        for q in [0.01, 0.5, 0.99] {
            assert_eq!(a.value_at_quantile(q), h.value_at_quantile(q));
        }
        let mut c = Latency::new(2);
        c.record(123_456);
        a.add(&c);
        assert_eq!(a.digits(), 2);
        assert_eq!(a.len(), 521);
        let mut h2 = hdr(2);
        h2.add(&h).unwrap();
        h2.record(123_456).unwrap();
        assert_eq!(a.value_at_quantile(0.5), h2.value_at_quantile(0.5));
    }

    #[test]
    fn a_busy_histogram_keeps_only_the_bins_it_uses() {
        let mut l = Latency::new(2);
        for k in 0..1_000_000u64 {
            l.record(10_000 + k % 990_000); // 10 ms .. 1 s
        }
        // 2 digits, two decades: about 7 doublings of 128 bins
        assert!(l.heap_bytes() <= 8 * 1024, "{}", l.heap_bytes());
        assert!(Latency::new(3).heap_bytes() == 0);
    }
}
