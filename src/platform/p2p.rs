//! Peer-to-peer layer distribution (`platform.pull.distribution = "p2p"`), after FaaSNet's
//! function trees (Wang et al., USENIX ATC '21): a host that needs a layer takes it from a
//! host that holds it — one receiving it (with a source of its own), holding it downloaded,
//! extracting it, or caching it — which serves at most `fanout` children per layer at once.
//! The first host with nobody to take it from reads the registry: the root of the layer's
//! tree. Every host that joins becomes a holder with free places, so while one holder exists
//! the registry is not read again: once per tree.
//!
//! The parent is the shallowest holder with a free place, the lowest host first: trees fill
//! level by level, balanced, as FaaSNet's balancing keeps them (taking the holder with the
//! fewest children instead would always pick the newest leaf and grow a chain). Blocks stream
//! down the tree (a host forwards what it has received), so a child cannot have the whole
//! layer before its parent does: its download ends at the later of its own last byte and its
//! parent's end. The time a block takes per hop is not charged: a balanced tree over `n` hosts
//! is `log_fanout(n)` deep, so that is a few blocks' time (FaaSNet streams blocks of a layer).
//!
//! Holders with a free place are indexed per layer by (depth, host), so a choice costs a
//! set's log, not a scan of the hosts. Entries go stale lazily (a layer evicted or expired
//! since) and are dropped when a choice meets them.

use std::collections::{BTreeMap, BTreeSet};

use super::host::{Host, LayerState};
use crate::units::Micros;

const REGISTRY: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub(super) struct P2p {
    pub(super) fanout: u32,
    /// Per layer: (depth, host) of the hosts that may serve it with a free place.
    open: Vec<BTreeSet<(u32, u32)>>,
    /// Depth in its layer's tree of each host that joined one (the root and warm holders 0).
    depth: BTreeMap<(u32, u32), u32>,
    /// Downloads with a source, not complete yet: (host, layer) → parent (`REGISTRY`).
    fed: BTreeMap<(u32, u32), u32>,
    /// Children whose bytes all moved while their parent still receives: (parent, layer) →
    /// children, in the order they got there.
    waiting: BTreeMap<(u32, u32), Vec<u32>>,
}

impl P2p {
    pub(super) fn new(fanout: u32, layers: usize) -> Self {
        P2p {
            fanout,
            open: vec![BTreeSet::new(); layers],
            depth: BTreeMap::new(),
            fed: BTreeMap::new(),
            waiting: BTreeMap::new(),
        }
    }

    /// Whether host `p` holds layer `l` now, so that it may serve it.
    fn holds(&self, hosts: &[Host], p: u32, l: u32, now: Micros, ttl: Micros) -> bool {
        let Some(e) = hosts[p as usize].layers.get(&l) else { return false };
        match e.state {
            LayerState::Queued => false,
            LayerState::Downloading => self.fed.contains_key(&(p, l)),
            LayerState::Downloaded | LayerState::Extracting => true,
            LayerState::Cached => !e.expired(now, ttl),
        }
    }

    /// The source of layer `l` for host `h`, whose bytes start to flow now: a holder with a
    /// free place (taken: it serves one child more), or `None` for the registry. Either way
    /// `h` joins the layer's tree, a level below its parent.
    pub(super) fn choose(&mut self, h: u32, l: u32, hosts: &mut [Host], now: Micros, ttl: Micros) -> Option<u32> {
        let mut from = (0, 0);
        let mut parent = None;
        while let Some(&(d, p)) = self.open[l as usize].range(from..).next() {
            if p == h {
                from = (d, p + 1);
                continue;
            }
            let free = hosts[p as usize].layers.get(&l).is_some_and(|e| e.children < self.fanout);
            if !free || self.depth.get(&(p, l)) != Some(&d) || !self.holds(hosts, p, l, now, ttl) {
                self.open[l as usize].remove(&(d, p));
                continue;
            }
            parent = Some((d, p));
            break;
        }
        let depth = match parent {
            Some((d, p)) => {
                self.serve(hosts, p, l, 1);
                d + 1
            }
            None => 0,
        };
        self.fed.insert((h, l), parent.map_or(REGISTRY, |(_, p)| p));
        self.depth.insert((h, l), depth);
        if hosts[h as usize].layers.get(&l).is_some_and(|e| e.children < self.fanout) {
            self.open[l as usize].insert((depth, h));
        }
        parent.map(|(_, p)| p)
    }

    /// Host `p` serves layer `l` to one child more (`+1`) or one less (`-1`): it has a free
    /// place or not.
    fn serve(&mut self, hosts: &mut [Host], p: u32, l: u32, delta: i32) {
        let Some(e) = hosts[p as usize].layers.get_mut(&l) else { return };
        e.children = e.children.checked_add_signed(delta).expect("children never below 0");
        let Some(&d) = self.depth.get(&(p, l)) else { return };
        if e.children < self.fanout {
            self.open[l as usize].insert((d, p));
        } else {
            self.open[l as usize].remove(&(d, p));
        }
    }

    /// A host already holding layer `l` (a warm start): it may serve it, as a root.
    pub(super) fn hold(&mut self, host: &Host, h: u32, l: u32) {
        if host.layers.get(&l).is_some_and(|e| e.children < self.fanout) {
            self.depth.insert((h, l), 0);
            self.open[l as usize].insert((0, h));
        }
    }

    /// All of layer `l`'s bytes reached `child` from `parent`: the parent serves one child
    /// less (and has used the layer now). True when the child has the whole layer now; false
    /// when its parent still receives it (the child waits for it).
    pub(super) fn child_done(&mut self, child: u32, l: u32, parent: u32, hosts: &mut [Host], now: Micros) -> bool {
        self.serve(hosts, parent, l, -1);
        let Some(e) = hosts[parent as usize].layers.get_mut(&l) else { return true };
        e.last_use = e.last_use.max(now);
        if e.state == LayerState::Downloading {
            self.waiting.entry((parent, l)).or_default().push(child);
            false
        } else {
            true
        }
    }

    /// Layer `l` is whole on host `h`: the children waiting for it are whole too (appended to
    /// `out`).
    pub(super) fn completed(&mut self, h: u32, l: u32, out: &mut Vec<(u32, u32)>) {
        self.fed.remove(&(h, l));
        if let Some(children) = self.waiting.remove(&(h, l)) {
            out.extend(children.into_iter().map(|c| (c, l)));
        }
    }

    /// A host other than `h` that holds layer `l` now (found by looking at every host, for
    /// the audit: the registry must not be read while one exists).
    pub(super) fn any_holder(&self, hosts: &[Host], h: u32, l: u32, now: Micros, ttl: Micros) -> Option<u32> {
        (0..hosts.len() as u32).filter(|&p| p != h).find(|&p| self.holds(hosts, p, l, now, ttl))
    }

    /// Downloads waiting for their parent, for the audit: (parent, layer, children).
    pub(super) fn waiting(&self) -> impl Iterator<Item = (u32, u32, &[u32])> + '_ {
        self.waiting.iter().map(|(&(p, l), c)| (p, l, c.as_slice()))
    }

    /// The source of a download in progress on `h` (`Some(None)`: the registry).
    pub(super) fn source(&self, h: u32, l: u32) -> Option<Option<u32>> {
        self.fed.get(&(h, l)).map(|&p| (p != REGISTRY).then_some(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(n: usize) -> Vec<Host> {
        (0..n).map(|_| Host::new(1024)).collect()
    }

    /// Host `h` asks for layer 0: wanted, then its source.
    fn join(p: &mut P2p, hs: &mut [Host], h: u32) -> Option<u32> {
        hs[h as usize].add_wanted(0, LayerState::Downloading, 0);
        p.choose(h, 0, hs, 0, 1000)
    }

    #[test]
    fn the_first_host_reads_the_registry_and_the_others_form_a_balanced_tree() {
        let (mut p, mut hs) = (P2p::new(2, 1), hosts(7));
        let parents: Vec<Option<u32>> = (0..7).map(|h| join(&mut p, &mut hs, h)).collect();
        // level by level: 0 is the root; 1, 2 its children; 3, 4 under 1; 5, 6 under 2 —
        // each time the shallowest holder with a free place, the lowest host first
        assert_eq!(parents, vec![None, Some(0), Some(0), Some(1), Some(1), Some(2), Some(2)]);
        assert_eq!(hs[0].layers[&0].children, 2);
        assert_eq!(hs[3].layers[&0].children, 0);
    }

    #[test]
    fn a_child_waits_for_a_parent_still_receiving_and_completes_with_it() {
        let (mut p, mut hs) = (P2p::new(2, 1), hosts(3));
        join(&mut p, &mut hs, 0);
        assert_eq!(join(&mut p, &mut hs, 1), Some(0));
        assert_eq!(join(&mut p, &mut hs, 2), Some(0));
        // 1's bytes all moved while 0 still receives: 1 waits, and 0 has a free place again
        assert!(!p.child_done(1, 0, 0, &mut hs, 5));
        assert_eq!(hs[0].layers[&0].children, 1);
        let mut out = vec![];
        p.completed(0, 0, &mut out);
        assert_eq!(out, vec![(1, 0)]);
        // once 0 has the layer, 2's end is its own
        hs[0].set_state(0, LayerState::Downloaded);
        assert!(p.child_done(2, 0, 0, &mut hs, 6));
    }

    #[test]
    fn a_holder_that_lost_the_layer_or_has_no_source_yet_is_not_a_parent() {
        let (mut p, mut hs) = (P2p::new(2, 1), hosts(3));
        hs[0].cache(0, 10, 0, 100, 50);
        p.hold(&hs[0], 0, 0);
        // 0's copy expired (TTL 1000 µs, unused since 0): the registry it is
        hs[1].add_wanted(0, LayerState::Downloading, 0);
        assert_eq!(p.choose(1, 0, &mut hs, 2000, 1000), None);
        // 2 is downloading in its overhead (no source yet): not a holder for anyone
        hs[2].add_wanted(0, LayerState::Downloading, 0);
        assert_eq!(p.any_holder(&hs, 0, 0, 2000, 1000), Some(1));
        assert_eq!(p.source(1, 0), Some(None));
        assert_eq!(p.source(2, 0), None);
    }
}
