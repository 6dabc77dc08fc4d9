//! Latency records of a large fleet, deferred and applied in batches grouped by histogram.
//!
//! Recording a completed request's latency adds one to a bin of its function's histogram.
//! With thousands of functions those histograms (tens of kilobytes each) do not fit in the
//! caches, and a bin picked at random is a miss to memory on nearly every request: the
//! largest single cost of a fleet run. A [`LatencyLog`] keeps the records in a buffer and,
//! when it is full, applies them grouped by histogram (a counting sort on the histogram key):
//! a busy function's histogram is then visited once per batch with all its records, and stays
//! in cache while it is. Histograms only count, so the order of records does not change them;
//! they are read only at the end of a run, after [`LatencyLog::flush`].

/// Records per batch: 16 K records of 16 bytes, plus the grouped copy, stay within L2.
const BATCH: usize = 1 << 14;

/// A buffer of (histogram key, latency µs) records.
pub struct LatencyLog {
    buf: Vec<(u32, u64)>,
    grouped: Vec<(u32, u64)>,
    /// Per key: its records in the batch, then where its group starts.
    counts: Vec<u32>,
}

impl LatencyLog {
    /// A log for histogram keys `0..keys`.
    pub fn new(keys: usize) -> Self {
        LatencyLog { buf: Vec::with_capacity(BATCH), grouped: Vec::with_capacity(BATCH), counts: vec![0; keys + 1] }
    }

    /// Log `lat` for histogram `key`; `true` when the batch is full and must be flushed.
    #[inline]
    pub fn push(&mut self, key: u32, lat: u64) -> bool {
        self.buf.push((key, lat));
        self.buf.len() >= BATCH
    }

    /// Hand every logged record to `record`, grouped by key (keys in increasing order), and
    /// empty the log.
    pub fn flush(&mut self, mut record: impl FnMut(u32, u64)) {
        if self.buf.is_empty() {
            return;
        }
        // counting sort: count, prefix sums into start offsets, scatter
        self.counts.fill(0);
        for &(k, _) in &self.buf {
            self.counts[k as usize + 1] += 1;
        }
        for k in 1..self.counts.len() {
            self.counts[k] += self.counts[k - 1];
        }
        self.grouped.clear();
        self.grouped.resize(self.buf.len(), (0, 0));
        for &(k, v) in &self.buf {
            let at = &mut self.counts[k as usize];
            self.grouped[*at as usize] = (k, v);
            *at += 1;
        }
        self.buf.clear();
        for &(k, v) in &self.grouped {
            record(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_hands_every_record_once_grouped_by_key() {
        let mut log = LatencyLog::new(5);
        let input: Vec<(u32, u64)> = (0..BATCH as u64 + 7).map(|i| ((i * 7 % 5) as u32, i)).collect();
        let mut out = Vec::new();
        for &(k, v) in &input {
            if log.push(k, v) {
                log.flush(|k, v| out.push((k, v)));
            }
        }
        assert_eq!(out.len(), BATCH);
        assert!(out.windows(2).all(|w| w[0].0 <= w[1].0), "grouped by key");
        log.flush(|k, v| out.push((k, v)));
        let (mut got, mut want) = (out, input);
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
        // an empty log hands nothing
        log.flush(|_, _| panic!("empty"));
    }
}
