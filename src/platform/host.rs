//! A host: memory for instances and a layer cache (LRU with a TTL). A layer in use by a live
//! instance on the host is pinned: never evicted, never expired; its TTL clock starts when
//! the last such instance goes away; a layer a host serves to peers (p2p) is kept the same way
//! while it serves. Expiry is checked lazily, when a layer is looked at or
//! space is needed, which gives the same answers as a timer per layer without the events.

use std::collections::{BTreeMap, VecDeque};

use crate::units::Micros;

/// Where a layer stands on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerState {
    /// Waiting for a download slot.
    Queued,
    /// Download in progress (per-layer overhead, then bytes).
    Downloading,
    /// Downloaded, waiting to be extracted in layer order.
    Downloaded,
    Extracting,
    /// Extracted and in the cache.
    Cached,
}

#[derive(Debug, Clone)]
pub struct LayerEntry {
    pub state: LayerState,
    /// Live instances on this host using the layer.
    pub refs: u32,
    pub last_use: Micros,
    /// Bytes it takes in the cache (uncompressed).
    pub size: u64,
    /// Peers this host serves the layer to now (p2p): kept like a pin while it serves.
    pub children: u32,
}

impl LayerEntry {
    /// Whether its TTL ran out: cached, unused by instances and peers for `ttl`.
    pub fn expired(&self, now: Micros, ttl: Micros) -> bool {
        self.state == LayerState::Cached
            && self.refs == 0
            && self.children == 0
            && now.saturating_sub(self.last_use) >= ttl
    }
}

#[derive(Debug, Clone)]
pub struct Host {
    pub mem_free_mb: u64,
    /// BTreeMap, not HashMap: iteration order must not depend on a random hasher.
    pub layers: BTreeMap<u32, LayerEntry>,
    pub cached_bytes: u64,
    pub downloads_active: u32,
    pub download_queue: VecDeque<u32>,
    /// Instance slots pulling on this host.
    pub pulls: Vec<u32>,
}

impl Host {
    pub fn new(mem_mb: u64) -> Self {
        Host {
            mem_free_mb: mem_mb,
            layers: BTreeMap::new(),
            cached_bytes: 0,
            downloads_active: 0,
            download_queue: VecDeque::new(),
            pulls: Vec::new(),
        }
    }

    /// The layer's state, after dropping it if its TTL ran out. `None` = not on the host.
    pub fn state(&mut self, layer: u32, now: Micros, ttl: Micros) -> Option<LayerState> {
        let e = self.layers.get(&layer)?;
        if e.expired(now, ttl) {
            self.cached_bytes -= e.size;
            self.layers.remove(&layer);
            return None;
        }
        Some(e.state)
    }

    /// Mark a layer as wanted (not yet downloading).
    pub fn add_wanted(&mut self, layer: u32, state: LayerState, now: Micros) {
        self.layers.insert(layer, LayerEntry { state, refs: 0, last_use: now, size: 0, children: 0 });
    }

    pub fn set_state(&mut self, layer: u32, state: LayerState) {
        if let Some(e) = self.layers.get_mut(&layer) {
            e.state = state;
        }
    }

    /// An extracted layer enters the cache; evict what is needed to stay within `capacity`.
    /// Returns the number of layers evicted.
    pub fn cache(&mut self, layer: u32, size: u64, now: Micros, capacity: u64, ttl: Micros) -> u32 {
        if let Some(e) = self.layers.get_mut(&layer) {
            e.state = LayerState::Cached;
            e.size = size;
            e.last_use = now;
        } else {
            self.layers
                .insert(layer, LayerEntry { state: LayerState::Cached, refs: 0, last_use: now, size, children: 0 });
        }
        self.cached_bytes += size;
        self.evict(layer, now, capacity, ttl)
    }

    /// Drop expired layers, then least recently used unpinned ones, until the cache fits.
    /// A cache full of pinned layers is allowed to run over: running containers keep them.
    /// `keep` (the layer just extracted) is never the victim: its pull is about to use it.
    fn evict(&mut self, keep: u32, now: Micros, capacity: u64, ttl: Micros) -> u32 {
        let mut evicted = 0;
        while self.cached_bytes > capacity {
            let mut victim: Option<(Micros, u32)> = None;
            for (&id, e) in &self.layers {
                if e.state != LayerState::Cached || e.refs > 0 || e.children > 0 || id == keep {
                    continue;
                }
                // expired first (treated as oldest), then least recently used
                let key = if now.saturating_sub(e.last_use) >= ttl { 0 } else { e.last_use + 1 };
                if victim.is_none_or(|(k, _)| key < k) {
                    victim = Some((key, id));
                }
            }
            let Some((_, id)) = victim else { break };
            let e = self.layers.remove(&id).expect("victim exists");
            self.cached_bytes -= e.size;
            evicted += 1;
        }
        evicted
    }

    pub fn pin(&mut self, layer: u32, now: Micros) {
        if let Some(e) = self.layers.get_mut(&layer) {
            e.refs += 1;
            e.last_use = now;
        }
    }

    pub fn unpin(&mut self, layer: u32, now: Micros) {
        if let Some(e) = self.layers.get_mut(&layer) {
            e.refs = e.refs.saturating_sub(1);
            e.last_use = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Micros = 1_000;

    #[test]
    fn a_layer_unused_for_the_ttl_is_gone() {
        let mut h = Host::new(1024);
        h.cache(1, 10, 0, 100, TTL);
        assert_eq!(h.state(1, 999, TTL), Some(LayerState::Cached));
        assert_eq!(h.state(1, 1_000, TTL), None);
        assert_eq!(h.cached_bytes, 0);
    }

    #[test]
    fn a_pinned_layer_never_expires_and_its_clock_restarts_on_unpin() {
        let mut h = Host::new(1024);
        h.cache(1, 10, 0, 100, TTL);
        h.pin(1, 0);
        assert_eq!(h.state(1, 5_000, TTL), Some(LayerState::Cached));
        h.unpin(1, 5_000);
        assert_eq!(h.state(1, 5_999, TTL), Some(LayerState::Cached));
        assert_eq!(h.state(1, 6_000, TTL), None);
    }

    #[test]
    fn the_least_recently_used_unpinned_layer_is_evicted_first() {
        let mut h = Host::new(1024);
        h.cache(1, 40, 0, 100, 1 << 40);
        h.cache(2, 40, 10, 100, 1 << 40);
        h.pin(1, 20); // layer 1 is now the most recently used, and pinned
        h.unpin(1, 20);
        assert_eq!(h.cache(3, 40, 30, 100, 1 << 40), 1);
        assert_eq!(h.state(2, 30, 1 << 40), None);
        assert_eq!(h.state(1, 30, 1 << 40), Some(LayerState::Cached));
        assert_eq!(h.cached_bytes, 80);
    }

    #[test]
    fn pinned_layers_stay_even_over_capacity() {
        let mut h = Host::new(1024);
        h.cache(1, 80, 0, 100, TTL);
        h.pin(1, 0);
        // the new layer is not evicted under its own pull, and 1 is pinned: run over
        assert_eq!(h.cache(2, 80, 1, 100, TTL), 0);
        assert_eq!(h.state(1, 2, TTL), Some(LayerState::Cached));
        assert_eq!(h.cached_bytes, 160);
    }
}
