//! Latency histograms that give HdrHistogram's answers in a fraction of its memory.
//!
//! An `hdrhistogram::Histogram` with 3 significant digits holds at least 2,048 `u64`
//! counters (16 KB) and about 170 KB once it has seen a 10-minute latency — fine for a few
//! functions, 350 MB for a 500-function trace and gigabytes for 10,000. [`Latency`] uses the
//! same bins (same bucket arithmetic, same `value_at_quantile` rule: the highest value
//! equivalent to the value of rank ⌈q·n⌉), so its answers are HdrHistogram's to the bit, but
//! it stores each value's bin index (16 bits) while that list is no larger than the range of
//! bins it spans (and for the first [`SMALL`] values in any case), and then only the range of
//! bins actually used: a fleet's rarely called functions keep a few hundred bytes each. Functions replayed from a trace use 2 significant digits (bins at most 1% wide),
//! which keeps a busy function's histogram to a few kilobytes; a merge takes the coarser
//! precision of the two. Counts are 8-bit until one would overflow, then 16-, 32-, 64-bit: a
//! fleet of 10,000 ordinary functions keeps 10,000 × 2 histograms, and narrow counters cut
//! that memory and the cache lines a record touches. At the end of a run
//! [`Latency::freeze`] makes a histogram shared, so the copies reports take cost nothing,
//! and [`Latency::sum`] makes the all-requests histogram a view of warm + cold.

use std::sync::Arc;

pub mod log;
pub use log::LatencyLog;

/// Values kept as they are (or as bin indices) before switching to bins, at least.
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
    /// The values as they are (precisions past 3 digits, whose bin indices pass 16 bits).
    Values(Vec<u64>),
    /// The bin index of each value, in record order, while that takes no more room than
    /// the range of bins they span would (see [`indices_fit`]): a function with a thousand
    /// requests spread over ten thousand bins keeps 2 KB, not 10 KB.
    Indices(Vec<u16>),
    /// Counts of bins `first..first + counts.len()`, while every count fits 8 bits: a
    /// fleet function's few thousand requests put a handful in each of its bins.
    Byte {
        first: usize,
        counts: Vec<u8>,
    },
    /// The same while every count fits 16 bits.
    Tiny {
        first: usize,
        counts: Vec<u16>,
    },
    /// The same while every count fits 32 bits.
    Narrow {
        first: usize,
        counts: Vec<u32>,
    },
    Wide {
        first: usize,
        counts: Vec<u64>,
    },
    /// Read-only and shared by clones (after [`Latency::freeze`]); a record copies it first.
    Shared(Arc<Frozen>),
}

#[derive(Debug, PartialEq, Eq)]
enum Frozen {
    One(Store),
    /// The union of two histograms of the same precision.
    Sum(Latency, Latency),
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
    #[inline]
    fn of(digits: u8) -> Layout {
        const TWO: Layout = Layout::make(2);
        const THREE: Layout = Layout::make(3);
        match digits {
            2 => TWO,
            3 => THREE,
            d => Layout::make(d),
        }
    }

    const fn make(digits: u8) -> Layout {
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
        // up to 3 digits every bin index fits 16 bits (3 digits: 54 buckets of 1,024 bins)
        let store = if digits <= 3 { Store::Indices(Vec::new()) } else { Store::Values(Vec::new()) };
        Latency { digits, total: 0, store }
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
        // the common case, kept small enough to inline: a bin already held, with room in its count
        let i = Layout::of(self.digits).index(v);
        let done = match &mut self.store {
            Store::Byte { first, counts } => bump(counts, i.wrapping_sub(*first)),
            Store::Tiny { first, counts } => bump(counts, i.wrapping_sub(*first)),
            Store::Narrow { first, counts } => bump(counts, i.wrapping_sub(*first)),
            Store::Wide { first, counts } => bump(counts, i.wrapping_sub(*first)),
            Store::Indices(ix) if ix.len() < ix.capacity() => {
                ix.push(i as u16);
                true
            }
            _ => false,
        };
        if done {
            self.total += 1;
        } else {
            self.record_n(v, 1);
        }
    }

    #[inline]
    pub fn record_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        let layout = Layout::of(self.digits);
        match &mut self.store {
            Store::Values(vs) if vs.len() as u64 + n <= SMALL as u64 => vs.extend(std::iter::repeat_n(v, n as usize)),
            Store::Indices(ix) if indices_fit(ix, layout.index(v), n) => {
                let need = ix.len() + n as usize;
                if need > ix.capacity() {
                    ix.reserve_exact(need.max(2 * ix.len()).max(8) - ix.len());
                }
                ix.extend(std::iter::repeat_n(layout.index(v) as u16, n as usize))
            }
            Store::Byte { .. } | Store::Tiny { .. } | Store::Narrow { .. } | Store::Wide { .. } => {
                self.bin(layout.index(v), n)
            }
            Store::Values(_) | Store::Indices(_) | Store::Shared(_) => {
                self.own();
                self.bin(layout.index(v), n);
            }
        }
    }

    /// Add `n` to bin `i` of an owned, binned store, widening its counters while the count
    /// does not fit them.
    #[inline]
    fn bin(&mut self, i: usize, n: u64) {
        loop {
            let fits = match &mut self.store {
                Store::Byte { first, counts } => add(slot(first, counts, i), n),
                Store::Tiny { first, counts } => add(slot(first, counts, i), n),
                Store::Narrow { first, counts } => add(slot(first, counts, i), n),
                Store::Wide { first, counts } => add(slot(first, counts, i), n),
                _ => unreachable!("bin: an owned, binned store"),
            };
            if fits {
                return;
            }
            self.widen();
        }
    }

    /// Counters one size wider: 8 → 16 → 32 → 64 bits.
    #[cold]
    #[inline(never)]
    fn widen(&mut self) {
        fn wider<A: Copy, B: From<A>>(c: &[A]) -> Vec<B> {
            c.iter().map(|&c| B::from(c)).collect()
        }
        self.store = match &self.store {
            Store::Byte { first, counts } => Store::Tiny { first: *first, counts: wider(counts) },
            Store::Tiny { first, counts } => Store::Narrow { first: *first, counts: wider(counts) },
            Store::Narrow { first, counts } => Store::Wide { first: *first, counts: wider(counts) },
            _ => unreachable!("widen: a binned store narrower than 64 bits"),
        };
    }

    /// Make the store owned and binned: values and shared contents become bins.
    fn own(&mut self) {
        let mut bins: Vec<(usize, u64)> = Vec::new();
        self.each_bin(&mut |i, c| bins.push((i, c)));
        // sized to the range once: bins in record order would grow it from both ends
        let (lo, hi) = bins.iter().fold((usize::MAX, 0), |(lo, hi), &(i, _)| (lo.min(i), hi.max(i)));
        let counts = if bins.is_empty() { Vec::new() } else { vec![0; hi - lo + 1] };
        self.store = Store::Byte { first: lo.min(hi), counts };
        for (i, c) in bins {
            self.bin(i, c);
        }
    }

    /// Every (bin index, count) of this histogram (in this histogram's precision), in no
    /// particular order; several entries may name one bin.
    fn each_bin(&self, f: &mut dyn FnMut(usize, u64)) {
        each_bin(&self.store, Layout::of(self.digits), f);
    }

    /// HdrHistogram's `value_at_quantile`: for `q` > 0, the highest value equivalent to the
    /// value of rank ⌈q·n⌉ (at least 1); for `q` = 0, the lowest equivalent to the smallest.
    /// 0 when empty.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        self.values_at_quantiles(&[q])[0]
    }

    /// [`Latency::value_at_quantile`] of each of `qs`, sorting the bins once.
    pub fn values_at_quantiles(&self, qs: &[f64]) -> Vec<u64> {
        if self.total == 0 {
            return vec![0; qs.len()];
        }
        let layout = Layout::of(self.digits);
        let bins = sorted_bins(&self.store, layout);
        qs.iter()
            .map(|&q| {
                let q = q.min(1.0);
                let rank = ((q * self.total as f64).ceil() as u64).max(1);
                let mut seen = 0;
                let mut at = bins.last().map_or(0, |b| b.0);
                for &(i, c) in &bins {
                    seen += c;
                    if seen >= rank {
                        at = i;
                        break;
                    }
                }
                let v = layout.value_for(at);
                if q == 0.0 {
                    layout.lowest_equivalent(v)
                } else {
                    layout.highest_equivalent(v)
                }
            })
            .collect()
    }

    /// Add `other`'s values; the result has the coarser precision of the two.
    pub fn add(&mut self, other: &Latency) {
        if other.digits < self.digits {
            let mut coarse = Latency::new(other.digits);
            coarse.add(self);
            *self = coarse;
        }
        if let Store::Values(vs) = &other.store {
            for &v in vs {
                self.record(v);
            }
            return;
        }
        if other.digits == self.digits && other.total > 0 {
            // the same bins (an ALL row merges thousands of functions): counts added bin to
            // bin, the range grown once to cover the other's
            let (mut lo, mut hi) = (usize::MAX, 0);
            other.each_bin(&mut |i, _| (lo, hi) = (lo.min(i), hi.max(i)));
            if !matches!(
                self.store,
                Store::Byte { .. } | Store::Tiny { .. } | Store::Narrow { .. } | Store::Wide { .. }
            ) {
                self.own();
            }
            self.bin(lo, 0);
            self.bin(hi, 0);
            self.total += other.total;
            other.each_bin(&mut |i, c| self.bin(i, c));
            return;
        }
        let layout = Layout::of(other.digits);
        other.each_bin(&mut |i, c| self.record_n(layout.value_for(i), c));
    }

    /// Done recording: trim spare capacity and make clones share the contents.
    pub fn freeze(&mut self) {
        match &mut self.store {
            Store::Values(v) => v.shrink_to_fit(),
            Store::Indices(ix) if ix.is_empty() => {}
            Store::Shared(_) => {}
            store => {
                let mut owned = std::mem::replace(store, Store::Values(Vec::new()));
                match &mut owned {
                    Store::Byte { counts, .. } => counts.shrink_to_fit(),
                    Store::Tiny { counts, .. } => counts.shrink_to_fit(),
                    Store::Narrow { counts, .. } => counts.shrink_to_fit(),
                    Store::Wide { counts, .. } => counts.shrink_to_fit(),
                    Store::Indices(ix) => ix.shrink_to_fit(),
                    _ => {}
                }
                *store = Store::Shared(Arc::new(Frozen::One(owned)));
            }
        }
    }

    /// All of `a` and `b` (same precision), sharing their contents once they are frozen.
    pub fn sum(a: &Latency, b: &Latency) -> Latency {
        if a.digits != b.digits {
            let mut s = a.clone();
            s.add(b);
            return s;
        }
        let (mut a, mut b) = (a.clone(), b.clone());
        a.freeze();
        b.freeze();
        Latency { digits: a.digits, total: a.total + b.total, store: Store::Shared(Arc::new(Frozen::Sum(a, b))) }
    }

    /// Bytes this histogram holds on the heap itself (shared contents count as 0).
    pub fn heap_bytes(&self) -> usize {
        match &self.store {
            Store::Values(v) => v.capacity() * 8,
            Store::Indices(ix) => ix.capacity() * 2,
            Store::Byte { counts, .. } => counts.capacity(),
            Store::Tiny { counts, .. } => counts.capacity() * 2,
            Store::Narrow { counts, .. } => counts.capacity() * 4,
            Store::Wide { counts, .. } => counts.capacity() * 8,
            Store::Shared(_) => 0,
        }
    }
}

fn each_bin(store: &Store, layout: Layout, f: &mut dyn FnMut(usize, u64)) {
    match store {
        Store::Values(vs) => vs.iter().for_each(|&v| f(layout.index(v), 1)),
        Store::Indices(ix) => ix.iter().for_each(|&i| f(i as usize, 1)),
        Store::Byte { first, counts } => each_count(*first, counts, f),
        Store::Tiny { first, counts } => each_count(*first, counts, f),
        Store::Narrow { first, counts } => each_count(*first, counts, f),
        Store::Wide { first, counts } => each_count(*first, counts, f),
        Store::Shared(s) => match &**s {
            Frozen::One(st) => each_bin(st, layout, f),
            Frozen::Sum(a, b) => {
                a.each_bin(f);
                b.each_bin(f);
            }
        },
    }
}

/// Each non-zero count of bins `first..` as (bin index, count).
fn each_count<C: Copy + Into<u64>>(first: usize, counts: &[C], f: &mut dyn FnMut(usize, u64)) {
    for (k, &c) in counts.iter().enumerate() {
        let c: u64 = c.into();
        if c > 0 {
            f(first + k, c);
        }
    }
}

/// (bin index, count) of non-empty bins in increasing index order (a bin may repeat when
/// two summed parts share it).
fn sorted_bins(store: &Store, layout: Layout) -> Vec<(usize, u64)> {
    match store {
        Store::Values(vs) => {
            let mut b: Vec<(usize, u64)> = vs.iter().map(|&v| (layout.index(v), 1)).collect();
            b.sort_unstable();
            b
        }
        Store::Indices(ix) => {
            let mut ix = ix.clone();
            ix.sort_unstable();
            let mut b: Vec<(usize, u64)> = Vec::new();
            for i in ix {
                match b.last_mut() {
                    Some(last) if last.0 == i as usize => last.1 += 1,
                    _ => b.push((i as usize, 1)),
                }
            }
            b
        }
        Store::Shared(s) => match &**s {
            Frozen::One(st) => sorted_bins(st, layout),
            Frozen::Sum(a, b) => {
                let (a, b) = (sorted_bins(&a.store, layout), sorted_bins(&b.store, layout));
                let mut out = Vec::with_capacity(a.len() + b.len());
                let (mut i, mut j) = (0, 0);
                while i < a.len() || j < b.len() {
                    if j == b.len() || (i < a.len() && a[i].0 <= b[j].0) {
                        out.push(a[i]);
                        i += 1;
                    } else {
                        out.push(b[j]);
                        j += 1;
                    }
                }
                out
            }
        },
        binned => {
            let mut out = Vec::new();
            each_bin(binned, layout, &mut |i, c| out.push((i, c)));
            out
        }
    }
}

/// Adds one to `counts[k]` if it is there and not at its type's maximum.
#[inline]
fn bump<C: Copy + Default + PartialOrd + Bounded>(counts: &mut [C], k: usize) -> bool {
    match counts.get_mut(k) {
        Some(c) if *c < C::MAX => {
            *c = c.plus_one();
            true
        }
        _ => false,
    }
}

/// Adds `n` to `c` if the sum fits its type.
#[inline]
fn add<C: Bounded>(c: &mut C, n: u64) -> bool {
    match c.checked_plus(n) {
        Some(x) => {
            *c = x;
            true
        }
        None => false,
    }
}

/// The counter types of the binned stores.
trait Bounded: Sized + Copy {
    const MAX: Self;
    fn plus_one(self) -> Self;
    fn checked_plus(self, n: u64) -> Option<Self>;
}

macro_rules! bounded {
    ($($t:ty),*) => {$(
        impl Bounded for $t {
            const MAX: Self = <$t>::MAX;
            #[inline]
            fn plus_one(self) -> Self {
                self + 1
            }
            #[inline]
            fn checked_plus(self, n: u64) -> Option<Self> {
                <$t>::try_from(n).ok().and_then(|n| self.checked_add(n))
            }
        }
    )*};
}
bounded!(u8, u16, u32, u64);

/// Whether `n` more records of bin `i` may stay indices: the vector has room, or its next
/// size (double, or what `n` needs) is at most [`SMALL`] or takes no more bytes (2 per
/// index) than the binned store would (1 per bin of the range the indices and `i` span).
/// Scanned only when the vector must grow (the caller then grows it to that size), so once
/// per doubling.
#[allow(clippy::ptr_arg)] // its capacity counts
fn indices_fit(ix: &Vec<u16>, i: usize, n: u64) -> bool {
    let need = ix.len() as u64 + n;
    if need <= ix.capacity() as u64 {
        return true;
    }
    let (lo, hi) = ix.iter().fold((i, i), |(lo, hi), &x| (lo.min(x as usize), hi.max(x as usize)));
    let size = need.max(2 * ix.len() as u64).max(8);
    size <= SMALL as u64 || 2 * size <= (hi - lo + 1) as u64
}

/// The counter of bin `i`, growing the range `first..first + counts.len()` to hold it (by a
/// quarter more at the back, so a rising maximum does not copy on every new bin).
#[inline]
fn slot<'a, C: Copy + Default>(first: &mut usize, counts: &'a mut Vec<C>, i: usize) -> &'a mut C {
    if counts.is_empty() {
        *first = i;
        counts.push(C::default());
    } else if i < *first {
        let grow = *first - i;
        counts.reserve_exact(grow);
        counts.splice(0..0, std::iter::repeat_n(C::default(), grow));
        *first = i;
    } else if i >= *first + counts.len() {
        let need = i - *first + 1;
        if need > counts.capacity() {
            counts.reserve_exact((need - counts.len()).max(counts.len() / 4));
        }
        counts.resize(need, C::default());
    }
    &mut counts[i - *first]
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
    fn frozen_histograms_share_their_bins_and_a_sum_answers_like_a_merge() {
        let mut warm = Latency::new(2);
        let mut cold = Latency::new(2);
        for v in 0..10_000u64 {
            warm.record(1_000 + v * 37);
        }
        for v in 0..300u64 {
            cold.record(2_000_000 + v * 9_001);
        }
        let mut merged = warm.clone();
        merged.add(&cold);
        warm.freeze();
        cold.freeze();
        let sum = Latency::sum(&warm, &cold);
        assert_eq!(sum.len(), 10_300);
        for q in [0.0, 0.1, 0.5, 0.97, 0.99, 0.999, 1.0] {
            assert_eq!(sum.value_at_quantile(q), merged.value_at_quantile(q), "q {q}");
        }
        assert_eq!((warm.clone().heap_bytes(), sum.heap_bytes()), (0, 0));
        // recording into a frozen histogram copies it first; the other copies keep theirs
        let before = warm.value_at_quantile(1.0);
        let mut thawed = warm.clone();
        thawed.record(u64::MAX / 8);
        assert!(thawed.value_at_quantile(1.0) > before);
        assert_eq!(warm.value_at_quantile(1.0), before);
        assert_eq!(sum.value_at_quantile(1.0), merged.value_at_quantile(1.0));
    }

    #[test]
    fn a_bin_past_16_bits_widens_one_record_at_a_time() {
        let mut l = Latency::new(3);
        let mut h = hdr(3);
        for k in 0..80_000u64 {
            let v = if k % 7 == 0 { 12_345 } else { 500 };
            l.record(v);
            h.record(v).unwrap();
        }
        // 68,571 in one bin: past u16::MAX
        assert!(matches!(l.store, Store::Narrow { .. }));
        for q in [0.0, 0.5, 0.85, 0.9, 1.0] {
            assert_eq!(l.value_at_quantile(q), h.value_at_quantile(q), "q {q}");
        }
    }

    #[test]
    fn a_bin_past_32_bits_widens_and_keeps_counting() {
        let mut l = Latency::new(3);
        let big = u32::MAX as u64;
        l.record_n(500, SMALL as u64 + 1);
        l.record_n(500, big);
        l.record_n(900, 3);
        l.record_n(500, big);
        assert_eq!(l.len(), SMALL as u64 + 1 + 2 * big + 3);
        assert_eq!(l.value_at_quantile(0.5), 500);
        assert_eq!(l.value_at_quantile(1.0), 900);
    }

    #[test]
    fn a_sparse_histogram_keeps_indices_not_a_range_of_bins() {
        // 1,000 exponential-like latencies over 1 ms .. 1 s: some 10,000 bins at 3 digits
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut l = Latency::new(3);
        let mut h = hdr(3);
        for _ in 0..1_000 {
            let v = 1_000 + (-(rng.random::<f64>().ln()) * 100_000.0) as u64;
            l.record(v);
            h.record(v).unwrap();
        }
        assert!(matches!(l.store, Store::Indices(_)));
        assert!(l.heap_bytes() <= 2 * 2 * 1_000, "{}", l.heap_bytes());
        for q in [0.0, 0.5, 0.99, 1.0] {
            assert_eq!(l.value_at_quantile(q), h.value_at_quantile(q), "q {q}");
        }
        // and once the indices would outgrow the range, the bins take over
        for _ in 0..100_000 {
            l.record(1_000 + (-(rng.random::<f64>().ln()) * 100_000.0) as u64);
        }
        assert!(matches!(l.store, Store::Byte { .. }));
    }

    proptest::proptest! {
        /// Merging histograms of any stores (indices, bins of any width, frozen, frozen
        /// sums) answers like one histogram that recorded every value.
        #[test]
        fn a_merge_answers_like_recording_everything(
            digits in 2u8..=3,
            parts in proptest::collection::vec(
                (proptest::collection::vec(1u64..5_000_000, 0..400), 0u64..600, 0u8..3), 1..6),
        ) {
            let mut all = Latency::new(digits);
            let mut one = Latency::new(digits);
            for (values, repeat, how) in parts {
                let mut h = Latency::new(digits);
                for &v in &values {
                    h.record(v);
                    one.record(v);
                }
                // a bin past 8 bits, so wider stores take part
                if let Some(&v) = values.first() {
                    h.record_n(v, repeat);
                    one.record_n(v, repeat);
                }
                match how {
                    0 => {}
                    1 => h.freeze(),
                    _ => h = Latency::sum(&h, &Latency::new(digits)),
                }
                all.add(&h);
            }
            proptest::prop_assert_eq!(all.len(), one.len());
            for q in [0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0] {
                proptest::prop_assert_eq!(all.value_at_quantile(q), one.value_at_quantile(q), "q {}", q);
            }
        }
    }

    #[test]
    fn a_fleet_function_keeps_a_byte_per_bin_and_widens_at_256() {
        // a rarely called fleet function: 3,000 exponential 100 ms latencies at 2 digits
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let mut l = Latency::new(2);
        let mut h = hdr(2);
        for _ in 0..3_000 {
            let v = 1 + (-(rng.random::<f64>().ln()) * 100_000.0) as u64;
            l.record(v);
            h.record(v).unwrap();
        }
        assert!(matches!(l.store, Store::Byte { .. }));
        let Store::Byte { counts, .. } = &l.store else { unreachable!() };
        assert!(l.heap_bytes() <= counts.len() * 5 / 4 + 1, "{} for {} bins", l.heap_bytes(), counts.len());
        // one bin past 255 widens to 16 bits, the other bins' counts kept
        for _ in 0..300 {
            l.record(70_000);
            h.record(70_000).unwrap();
        }
        assert!(matches!(l.store, Store::Tiny { .. }));
        for q in [0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(l.value_at_quantile(q), h.value_at_quantile(q), "q {q}");
        }
    }

    #[test]
    fn a_busy_histogram_keeps_only_the_bins_it_uses() {
        let mut l = Latency::new(2);
        for k in 0..1_000_000u64 {
            l.record(10_000 + k % 990_000); // 10 ms .. 1 s
        }
        // 2 digits, two decades: about 7 doublings of 128 bins, 4 bytes each
        assert!(l.heap_bytes() <= 4 * 1024, "{}", l.heap_bytes());
        assert!(Latency::new(3).heap_bytes() == 0);
    }
}
