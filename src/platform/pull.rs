//! Bandwidth sharing among layer downloads (a fluid model). Every transfer in flight gets
//! `min(host_bandwidth / transfers on its host, registry_bandwidth / all transfers)`; when a
//! transfer starts or ends, the bytes moved so far are booked and every rate recomputed, so
//! finish times follow the share. Only the next finish time needs an event.

use crate::units::Micros;

#[derive(Debug, Clone)]
struct Transfer {
    host: u32,
    layer: u32,
    /// Bytes still to move.
    remaining: f64,
    /// Bytes per µs.
    rate: f64,
}

/// All downloads moving bytes right now, across all hosts.
#[derive(Debug, Clone)]
pub struct Transfers {
    items: Vec<Transfer>,
    per_host: Vec<u32>,
    /// Bytes per µs.
    host_bw: f64,
    registry_bw: f64,
    last: Micros,
}

impl Transfers {
    /// Bandwidths in bytes per second.
    pub fn new(hosts: usize, host_bw: f64, registry_bw: f64) -> Self {
        Transfers {
            items: Vec::new(),
            per_host: vec![0; hosts],
            host_bw: host_bw / 1e6,
            registry_bw: registry_bw / 1e6,
            last: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Book the bytes moved since the last change.
    fn advance(&mut self, now: Micros) {
        let dt = now.saturating_sub(self.last) as f64;
        if dt > 0.0 {
            for t in &mut self.items {
                t.remaining -= t.rate * dt;
            }
        }
        self.last = now;
    }

    fn recompute(&mut self) {
        let n = self.items.len() as f64;
        for t in &mut self.items {
            let host_share = self.host_bw / self.per_host[t.host as usize] as f64;
            let reg_share = self.registry_bw / n;
            t.rate = host_share.min(reg_share);
        }
    }

    /// Start moving `bytes` of `layer` to `host`.
    pub fn start(&mut self, now: Micros, host: u32, layer: u32, bytes: f64) {
        self.advance(now);
        self.per_host[host as usize] += 1;
        self.items.push(Transfer { host, layer, remaining: bytes, rate: 0.0 });
        self.recompute();
    }

    /// Remove every transfer that is done at `now`, appending (host, layer) to `done`.
    pub fn finish(&mut self, now: Micros, done: &mut Vec<(u32, u32)>) {
        self.advance(now);
        let mut i = 0;
        let mut changed = false;
        while i < self.items.len() {
            let t = &self.items[i];
            // done if what is left would take under half a microsecond
            if t.remaining <= t.rate * 0.5 {
                done.push((t.host, t.layer));
                self.per_host[t.host as usize] -= 1;
                // keep the order of the others (determinism does not need it, reading does)
                self.items.remove(i);
                changed = true;
            } else {
                i += 1;
            }
        }
        if changed {
            self.recompute();
        }
    }

    /// When the next transfer finishes (rounded up to a whole µs).
    pub fn next_finish(&self) -> Option<Micros> {
        self.items
            .iter()
            .map(|t| {
                let left = (t.remaining.max(0.0) / t.rate).ceil();
                self.last + left as Micros
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(tr: &mut Transfers) -> Vec<(Micros, u32)> {
        let mut out = vec![];
        while let Some(t) = tr.next_finish() {
            let mut done = vec![];
            tr.finish(t, &mut done);
            for (_, l) in done {
                out.push((t, l));
            }
        }
        out
    }

    #[test]
    fn one_download_takes_bytes_over_bandwidth() {
        // 100 MB/s host, faster registry: 50 MB take 0.5 s
        let mut tr = Transfers::new(1, 100e6, 1e12);
        tr.start(0, 0, 7, 50e6);
        assert_eq!(drain(&mut tr), vec![(500_000, 7)]);
    }

    #[test]
    fn two_downloads_on_one_host_share_its_bandwidth_and_the_survivor_speeds_up() {
        // 100 MB/s; A = 10 MB, B = 30 MB, both at t=0.
        // Shared: 50 MB/s each; A done at 0.2 s (B has 20 MB left), then B alone at 100 MB/s: +0.2 s.
        let mut tr = Transfers::new(1, 100e6, 1e12);
        tr.start(0, 0, 1, 10e6);
        tr.start(0, 0, 2, 30e6);
        assert_eq!(drain(&mut tr), vec![(200_000, 1), (400_000, 2)]);
    }

    #[test]
    fn the_registry_caps_downloads_across_hosts() {
        // two hosts at 100 MB/s each, registry 100 MB/s total: 50 MB/s each.
        let mut tr = Transfers::new(2, 100e6, 100e6);
        tr.start(0, 0, 1, 10e6);
        tr.start(0, 1, 2, 10e6);
        assert_eq!(drain(&mut tr), vec![(200_000, 1), (200_000, 2)]);
    }

    #[test]
    fn a_download_that_starts_later_slows_the_first_from_then_on() {
        // 100 MB/s; A = 20 MB at t=0; B = 5 MB at t=0.1 s (A has 10 MB left).
        // From 0.1 s both at 50 MB/s: B done at 0.2 s (A has 5 MB left), A alone: +0.05 s.
        let mut tr = Transfers::new(1, 100e6, 1e12);
        tr.start(0, 0, 1, 20e6);
        tr.start(100_000, 0, 2, 5e6);
        assert_eq!(drain(&mut tr), vec![(200_000, 2), (250_000, 1)]);
    }
}
