//! Layer downloads sharing the links, as a fluid model: every download crosses its host's
//! link; one from the registry also crosses the registry's link, one from a peer (p2p
//! distribution) the peer's uplink instead. Rates are recomputed when a download starts or
//! ends; only the next finish needs an event.
//!
//! Every host has the same link (`host`), full duplex: its downlink is shared by the `k`
//! downloads it receives (at most `parallel_layers`), its uplink by the `c` downloads it serves
//! to its children (p2p only). A download's rate is set by those counts alone:
//! - from the registry: `min(host / k, λ)`, where `λ` is the registry's water level
//!   (progressive filling: `Σ min(host / k, λ) = registry` over the registry downloads, or
//!   infinity when every such download gets its host share). With the registry only, this is
//!   exactly max-min fair: every download on a host has the same `k`.
//! - from a peer: `host / max(k, c)`, the smaller of its share of its own downlink and of its
//!   parent's uplink.
//!
//! Where p2p departs from exact max-min fairness: a download held back elsewhere (by the
//! registry's level or its parent's uplink) does not hand the rest of its downlink share to its
//! host's other downloads, and a child held back by its own downlink does not hand the rest of
//! its uplink share to its siblings. Each link still carries at most its capacity (each of `k`
//! downloads takes at most `host / k`, each of `c` children at most `host / c`); where every
//! download on a host and every child of a parent is held back by the same link, these are
//! the exact shares. Exact ones would need a progressive filling over the whole network of
//! downlinks and uplinks at each start or end.
//!
//! Downloads with the same rate rule form a *class* (registry downloads by `k`, peer downloads
//! by `max(k, c)`) that moves at one rate, so each class keeps one virtual clock (bytes moved by
//! each of its members since the class began) and its members' finish tags (clock + bytes) in
//! a heap, as fluid processor-sharing simulators do. A download's start or end touches its
//! host's downloads (at most `parallel_layers`), its parent's children (at most `fanout` per
//! layer the parent serves) and the classes, never every download in flight: its cost does not
//! grow with the size of a pull storm beyond a heap's log.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::units::Micros;

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Xfer {
    host: u32,
    layer: u32,
    /// The host serving it (p2p), or `NIL` for the registry.
    parent: u32,
    /// Its class: `k` (registry) or `max(k, c)` (peer).
    class: u32,
    /// The class's virtual clock at which its last byte moves.
    tag: f64,
    /// Bumped on every move and at the end: heap entries with another stamp are stale.
    stamp: u32,
    /// Start order (ties among finishes are reported in it).
    seq: u64,
    /// Next download on the same host.
    next: u32,
}

impl Xfer {
    fn peer(&self) -> bool {
        self.parent != NIL
    }
}

/// (tag bits, start order, slot, stamp): tags are non-negative, so their bits sort as they do.
type Entry = Reverse<(u64, u64, u32, u32)>;

#[derive(Debug, Clone, Default)]
struct Class {
    /// Bytes moved by each member since the class's clock began.
    clock: f64,
    /// Bytes per µs of each member.
    rate: f64,
    members: u64,
    /// Hosts with this many downloads (registry classes only; all their downloads count).
    hosts: u64,
    heap: BinaryHeap<Entry>,
}

/// A download whose bytes have all moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    pub host: u32,
    pub layer: u32,
    /// The peer that served it (`None`: the registry).
    pub parent: Option<u32>,
}

/// One download moving bytes, as the audit reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flow {
    pub host: u32,
    pub layer: u32,
    pub parent: Option<u32>,
    /// Bytes per second.
    pub rate: f64,
}

/// All downloads moving bytes right now, across all hosts.
#[derive(Debug, Clone)]
pub struct Transfers {
    /// Bytes per µs.
    host_bw: f64,
    registry_bw: f64,
    last: Micros,
    slots: Vec<Xfer>,
    free: Vec<u32>,
    seq: u64,
    /// Downloads on each host and the first of them (a list through `Xfer::next`).
    count: Vec<u32>,
    head: Vec<u32>,
    /// Downloads each host serves to its children (p2p; empty lists otherwise).
    served: Vec<Vec<u32>>,
    /// Registry class `k` at index `k`, peer class `max(k, c)` at its index (index 0 unused).
    classes: Vec<Class>,
    peers: Vec<Class>,
    active: u64,
    scratch: Vec<(u64, u32)>,
    touched: Vec<(u32, u32)>,
    parents: Vec<u32>,
}

impl Transfers {
    /// Bandwidths in bytes per second.
    pub fn new(hosts: usize, host_bw: f64, registry_bw: f64) -> Self {
        Transfers {
            host_bw: host_bw / 1e6,
            registry_bw: registry_bw / 1e6,
            last: 0,
            slots: Vec::new(),
            free: Vec::new(),
            seq: 0,
            count: vec![0; hosts],
            head: vec![NIL; hosts],
            served: vec![Vec::new(); hosts],
            classes: vec![Class::default()],
            peers: vec![Class::default()],
            active: 0,
            scratch: Vec::new(),
            touched: Vec::new(),
            parents: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.active as usize
    }

    pub fn is_empty(&self) -> bool {
        self.active == 0
    }

    fn rate_of(&self, id: u32) -> f64 {
        let x = &self.slots[id as usize];
        let classes = if x.peer() { &self.peers } else { &self.classes };
        classes[x.class as usize].rate
    }

    fn flow(&self, id: u32) -> Flow {
        let x = &self.slots[id as usize];
        Flow { host: x.host, layer: x.layer, parent: x.peer().then_some(x.parent), rate: self.rate_of(id) * 1e6 }
    }

    /// The downloads `host` receives now (for an audit).
    pub fn flows_to(&self, host: u32) -> impl Iterator<Item = Flow> + '_ {
        let mut id = self.head[host as usize];
        std::iter::from_fn(move || {
            (id != NIL).then(|| {
                let f = self.flow(id);
                id = self.slots[id as usize].next;
                f
            })
        })
    }

    /// The downloads `host` serves to its children now (for an audit).
    pub fn flows_from(&self, host: u32) -> impl Iterator<Item = Flow> + '_ {
        self.served[host as usize].iter().map(|&id| self.flow(id))
    }

    /// Bytes per second a host's downlink carries (for an audit: never over `host_bandwidth`).
    pub fn host_in_use(&self, host: u32) -> f64 {
        self.flows_to(host).map(|f| f.rate).sum()
    }

    /// Bytes per second a host's uplink carries to its children (never over `host_bandwidth`).
    pub fn uplink_in_use(&self, host: u32) -> f64 {
        self.flows_from(host).map(|f| f.rate).sum()
    }

    /// Bytes per second the registry's link carries (never over `registry_bandwidth`).
    pub fn registry_in_use(&self) -> f64 {
        self.classes.iter().map(|c| c.members as f64 * c.rate).sum::<f64>() * 1e6
    }

    /// Downloads moving bytes to `host` now (those past their fixed overhead).
    pub fn on_host(&self, host: u32) -> u32 {
        self.count[host as usize]
    }

    /// Bytes per second of each registry download on `host` now (0 when it has none).
    pub fn rate_on(&self, host: u32) -> f64 {
        let k = self.count[host as usize];
        if k == 0 {
            0.0
        } else {
            self.classes[k as usize].rate * 1e6
        }
    }

    /// Move every class's clock to `now`.
    fn advance(&mut self, now: Micros) {
        let dt = now.saturating_sub(self.last) as f64;
        if dt > 0.0 {
            for c in self.classes.iter_mut().chain(self.peers.iter_mut()) {
                if c.members > 0 {
                    c.clock += c.rate * dt;
                }
            }
        }
        self.last = now;
    }

    fn class_mut(&mut self, peer: bool, k: u32) -> &mut Class {
        let k = k as usize;
        let classes = if peer { &mut self.peers } else { &mut self.classes };
        if classes.len() <= k {
            classes.resize_with(k + 1, Class::default);
        }
        &mut classes[k]
    }

    /// Put slot `id` into its class `k` with `left` bytes to move.
    fn enter(&mut self, id: u32, k: u32, left: f64) {
        let peer = self.slots[id as usize].peer();
        let c = self.class_mut(peer, k);
        if c.members == 0 {
            // an empty class's clock restarts at 0: tags stay small and exact
            c.clock = 0.0;
            c.heap.clear();
        }
        let tag = c.clock + left.max(0.0);
        c.members += 1;
        let x = &mut self.slots[id as usize];
        x.stamp = x.stamp.wrapping_add(1);
        x.class = k;
        x.tag = tag;
        let entry = Reverse((tag.to_bits(), x.seq, id, x.stamp));
        let classes = if peer { &mut self.peers } else { &mut self.classes };
        classes[k as usize].heap.push(entry);
    }

    /// Take slot `id` out of its class; the bytes it has still to move.
    fn leave(&mut self, id: u32) -> f64 {
        let x = &self.slots[id as usize];
        let classes = if x.peer() { &mut self.peers } else { &mut self.classes };
        let c = &mut classes[x.class as usize];
        c.members -= 1;
        x.tag - c.clock
    }

    /// The class slot `id` belongs in now.
    fn class_of(&self, id: u32) -> u32 {
        let x = &self.slots[id as usize];
        let k = self.count[x.host as usize];
        if x.peer() {
            k.max(self.served[x.parent as usize].len() as u32)
        } else {
            k
        }
    }

    /// Move slot `id` to the class it belongs in, if that changed.
    fn reclass(&mut self, id: u32) {
        let to = self.class_of(id);
        if to != self.slots[id as usize].class {
            let left = self.leave(id);
            self.enter(id, to, left);
        }
    }

    /// A host's download count went from `from` to its count now: its registry class's host
    /// count follows, and its downloads move to their classes.
    fn regroup(&mut self, host: u32, from: u32) {
        let to = self.count[host as usize];
        if from > 0 {
            self.classes[from as usize].hosts -= 1;
        }
        if to > 0 {
            self.class_mut(false, to).hosts += 1;
        }
        let mut id = self.head[host as usize];
        while id != NIL {
            self.reclass(id);
            id = self.slots[id as usize].next;
        }
    }

    /// A host's number of children changed: the downloads it serves move to their classes.
    fn regroup_children(&mut self, parent: u32) {
        for k in 0..self.served[parent as usize].len() {
            let id = self.served[parent as usize][k];
            self.reclass(id);
        }
    }

    /// Start moving `bytes` of `layer` to `host` from the registry.
    pub fn start(&mut self, now: Micros, host: u32, layer: u32, bytes: f64) {
        self.start_from(now, host, layer, bytes, None);
    }

    /// Start moving `bytes` of `layer` to `host` from `parent` (a peer) or the registry.
    pub fn start_from(&mut self, now: Micros, host: u32, layer: u32, bytes: f64, parent: Option<u32>) {
        self.advance(now);
        let k = self.count[host as usize];
        let parent = parent.unwrap_or(NIL);
        let x =
            Xfer { host, layer, parent, class: 0, tag: 0.0, stamp: 0, seq: self.seq, next: self.head[host as usize] };
        self.seq += 1;
        // the host's other downloads move to their classes before the new one joins its list
        self.count[host as usize] = k + 1;
        if parent != NIL {
            self.served[parent as usize].push(NIL);
        }
        self.regroup(host, k);
        let id = match self.free.pop() {
            Some(id) => {
                let stamp = self.slots[id as usize].stamp;
                self.slots[id as usize] = Xfer { stamp, ..x };
                id
            }
            None => {
                self.slots.push(x);
                (self.slots.len() - 1) as u32
            }
        };
        self.head[host as usize] = id;
        self.active += 1;
        if parent != NIL {
            *self.served[parent as usize].last_mut().expect("pushed above") = id;
            let to = self.class_of(id);
            self.enter(id, to, bytes);
            self.regroup_children(parent);
        } else {
            self.enter(id, k + 1, bytes);
        }
        self.recompute();
    }

    /// Remove every transfer that is done at `now`, appending them to `done` in the order
    /// they started.
    pub fn finish(&mut self, now: Micros, done: &mut Vec<Finished>) {
        self.advance(now);
        let mut ended = std::mem::take(&mut self.scratch);
        ended.clear();
        for peer in [false, true] {
            let classes = if peer { &mut self.peers } else { &mut self.classes };
            for (k, c) in classes.iter_mut().enumerate().skip(1) {
                // done if what is left would take under half a microsecond
                let (clock, slack) = (c.clock, c.rate * 0.5);
                while let Some(&Reverse((tag, seq, id, stamp))) = c.heap.peek() {
                    let x = &self.slots[id as usize];
                    if x.stamp != stamp || x.class != k as u32 || x.peer() != peer {
                        c.heap.pop();
                        continue;
                    }
                    if f64::from_bits(tag) - clock > slack {
                        break;
                    }
                    c.heap.pop();
                    ended.push((seq, id));
                }
            }
        }
        if ended.is_empty() {
            self.scratch = ended;
            return;
        }
        ended.sort_unstable();
        let mut touched = std::mem::take(&mut self.touched);
        let mut parents = std::mem::take(&mut self.parents);
        touched.clear();
        parents.clear();
        for &(_, id) in &ended {
            let (h, parent) = {
                let x = &self.slots[id as usize];
                (x.host, x.parent)
            };
            if !touched.iter().any(|&(t, _)| t == h) {
                touched.push((h, self.count[h as usize]));
            }
            self.leave(id);
            self.unlink(id);
            if parent != NIL {
                let s = &mut self.served[parent as usize];
                let at = s.iter().position(|&x| x == id).expect("a child is among its parent's");
                s.swap_remove(at);
                if !parents.contains(&parent) {
                    parents.push(parent);
                }
            }
            let x = &mut self.slots[id as usize];
            x.stamp = x.stamp.wrapping_add(1);
            done.push(Finished { host: x.host, layer: x.layer, parent: (parent != NIL).then_some(parent) });
            self.free.push(id);
            self.active -= 1;
        }
        for &(h, from) in &touched {
            self.regroup(h, from);
        }
        for &p in &parents {
            self.regroup_children(p);
        }
        self.touched = touched;
        self.parents = parents;
        self.scratch = ended;
        self.recompute();
    }

    /// Take slot `id` off its host's list.
    fn unlink(&mut self, id: u32) {
        let h = self.slots[id as usize].host as usize;
        let next = self.slots[id as usize].next;
        if self.head[h] == id {
            self.head[h] = next;
        } else {
            let mut p = self.head[h];
            while self.slots[p as usize].next != id {
                p = self.slots[p as usize].next;
            }
            self.slots[p as usize].next = next;
        }
        self.count[h] -= 1;
    }

    /// The rate of each class: `min(host / k, λ)` from the registry, `host / max(k, c)` from a
    /// peer.
    fn recompute(&mut self) {
        let hosts: u64 = self.classes.iter().map(|c| c.hosts).sum();
        let level = water_level(self.host_bw, self.registry_bw, hosts, &self.classes);
        for peer in [false, true] {
            let classes = if peer { &mut self.peers } else { &mut self.classes };
            for (k, c) in classes.iter_mut().enumerate().skip(1) {
                let share = self.host_bw / k as f64;
                c.rate = if peer { share } else { share.min(level) };
                // a heap of mostly stale entries is rebuilt: its size stays within twice its members
                if c.heap.len() > 2 * c.members as usize + 64 {
                    let slots = &self.slots;
                    c.heap.retain(|&Reverse((_, _, id, stamp))| {
                        let x = &slots[id as usize];
                        x.stamp == stamp && x.class == k as u32 && x.peer() == peer
                    });
                }
            }
        }
    }

    /// When the next transfer finishes (rounded up to a whole µs).
    pub fn next_finish(&mut self) -> Option<Micros> {
        let mut best: Option<Micros> = None;
        for peer in [false, true] {
            let classes = if peer { &mut self.peers } else { &mut self.classes };
            for (k, c) in classes.iter_mut().enumerate().skip(1) {
                if c.members == 0 {
                    continue;
                }
                while let Some(&Reverse((tag, _, id, stamp))) = c.heap.peek() {
                    let x = &self.slots[id as usize];
                    if x.stamp != stamp || x.class != k as u32 || x.peer() != peer {
                        c.heap.pop();
                        continue;
                    }
                    let left = ((f64::from_bits(tag) - c.clock).max(0.0) / c.rate).ceil();
                    // a finish beyond any horizon saturates instead of wrapping
                    let t = self.last.saturating_add(if left < u64::MAX as f64 { left as Micros } else { Micros::MAX });
                    best = Some(best.map_or(t, |b| b.min(t)));
                    break;
                }
            }
        }
        best
    }
}

/// What the registry downloads of class `k` (`members` of them) take when their hosts' links
/// hold them back: `members × host / k`, computed as `hosts × host` when it divides (always
/// with the registry only), so those runs keep their arithmetic bit for bit.
fn held_back(host: f64, k: u64, members: u64) -> f64 {
    if members % k == 0 {
        (members / k) as f64 * host
    } else {
        members as f64 * (host / k as f64)
    }
}

/// Progressive filling of the registry link: the level `λ` such that
/// `Σ_registry downloads min(host / k, λ) = registry`, or infinity when every one gets its
/// host share first. Downloads on hosts with more downloads reach their share at a lower level
/// (`host / k`), so they are taken out from the largest `k` down until the level no longer
/// reaches theirs. `hosts` (hosts with downloads) gives a quick exit: if all of them could
/// fill their links, no registry download is held back by the registry.
fn water_level(host: f64, registry: f64, hosts: u64, classes: &[Class]) -> f64 {
    if hosts as f64 * host <= registry {
        return f64::INFINITY;
    }
    let mut left = registry;
    // registry downloads not yet held back by their host
    let mut weight: f64 = classes.iter().map(|c| c.members as f64).sum();
    for k in (1..classes.len()).rev() {
        let c = &classes[k];
        if c.members == 0 {
            continue;
        }
        let level = left / weight;
        if level <= host / k as f64 {
            return level;
        }
        // these downloads reach their host share below the level: they take it
        left -= held_back(host, k as u64, c.members);
        weight -= c.members as f64;
    }
    f64::INFINITY
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(tr: &mut Transfers) -> Vec<(Micros, u32)> {
        let mut out = vec![];
        while let Some(t) = tr.next_finish() {
            let mut done = vec![];
            tr.finish(t, &mut done);
            for f in done {
                out.push((t, f.layer));
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

    #[test]
    fn a_download_held_back_by_its_host_hands_its_registry_share_to_the_others() {
        // Hosts of 40 MB/s, registry 90 MB/s. Host 0 downloads four layers of 100 MB, hosts 1
        // and 2 one layer of 50 MB each. Progressive filling: at 10 MB/s host 0's link is full
        // (4 × 10 = 40); the other two rise until the registry is full: (90 − 40) / 2 = 25 MB/s
        // each, under their hosts' 40. They finish at 50 / 25 = 2 s; then host 0's four stay at
        // 10 MB/s (its link), done at 100 / 10 = 10 s. (The old rule, min(host / 4, 90 / 6 = 15)
        // = 10 and min(40, 15) = 15, left 20 MB/s of the registry idle: 3.33 s for hosts 1, 2.)
        let mut tr = Transfers::new(3, 40e6, 90e6);
        for l in 0..4 {
            tr.start(0, 0, l, 100e6);
        }
        tr.start(0, 1, 10, 50e6);
        tr.start(0, 2, 20, 50e6);
        assert_eq!(tr.rate_on(0), 10e6);
        assert_eq!((tr.rate_on(1), tr.rate_on(2)), (25e6, 25e6));
        assert_eq!(tr.registry_in_use(), 90e6);
        assert_eq!(tr.host_in_use(0), 40e6);
        assert_eq!(
            drain(&mut tr),
            vec![(2_000_000, 10), (2_000_000, 20), (10_000_000, 0), (10_000_000, 1), (10_000_000, 2), (10_000_000, 3)]
        );
    }

    #[test]
    fn the_registry_level_rises_as_host_bound_downloads_end() {
        // Hosts of 60 MB/s, registry 100 MB/s. Host 0: three layers (20 MB/s each at most);
        // hosts 1, 2: one each. Level λ: 3 × min(λ, 20) + 2 × min(λ, 60) = 100 → λ = 20 would
        // give 60 + 40 = 100: every download at 20 MB/s. Host 1's 20 MB end at 1 s; then
        // 3 × min(λ, 20) + min(λ, 60) = 100 → λ = 40 for host 2 (and 20 on host 0).
        // Host 2 had 100 − 20 = 80 MB left: 2 s more, done at 3 s.
        let mut tr = Transfers::new(3, 60e6, 100e6);
        for l in 0..3 {
            tr.start(0, 0, l, 200e6);
        }
        tr.start(0, 1, 10, 20e6);
        tr.start(0, 2, 20, 100e6);
        let mut done = vec![];
        assert_eq!(tr.next_finish(), Some(1_000_000));
        tr.finish(1_000_000, &mut done);
        assert_eq!(done, vec![Finished { host: 1, layer: 10, parent: None }]);
        assert_eq!((tr.rate_on(0), tr.rate_on(2)), (20e6, 40e6));
        assert_eq!(tr.next_finish(), Some(3_000_000));
    }

    #[test]
    fn links_never_carry_more_than_their_capacity_and_every_download_ends() {
        let mut tr = Transfers::new(5, 30e6, 70e6);
        let (mut t, mut ended) = (0, 0);
        for i in 0..40u32 {
            tr.start(t, i % 5, i, (1 + i % 7) as f64 * 1e6);
            assert!(tr.registry_in_use() <= 70e6 * (1.0 + 1e-12));
            for h in 0..5 {
                assert!(tr.host_in_use(h) <= 30e6 * (1.0 + 1e-12));
            }
            t += 20_000;
            while let Some(f) = tr.next_finish().filter(|&f| f <= t) {
                let mut done = vec![];
                tr.finish(f, &mut done);
                ended += done.len();
            }
        }
        ended += drain(&mut tr).len();
        assert_eq!((ended, tr.len()), (40, 0));
    }

    #[test]
    fn a_peer_download_takes_the_smaller_of_its_downlink_and_its_parents_uplink_share() {
        // 100 MB/s links, a registry of 1 MB/s (peers do not cross it). Host 0 serves layer 1
        // to hosts 1 and 2: its uplink is split in two, 50 MB/s each; host 2 also receives
        // layer 2 from host 3: two downloads there, 50 MB/s each (host / max(k = 2, c)).
        let mut tr = Transfers::new(4, 100e6, 1e6);
        tr.start_from(0, 1, 1, 10e6, Some(0));
        assert_eq!(tr.flows_to(1).next().map(|f| f.rate), Some(100e6));
        tr.start_from(0, 2, 1, 10e6, Some(0));
        tr.start_from(0, 2, 2, 30e6, Some(3));
        let rates: Vec<f64> = (1..3).flat_map(|h| tr.flows_to(h).map(|f| f.rate).collect::<Vec<_>>()).collect();
        assert_eq!(rates, vec![50e6, 50e6, 50e6]);
        assert_eq!((tr.uplink_in_use(0), tr.uplink_in_use(3), tr.registry_in_use()), (100e6, 50e6, 0.0));
        // all three at 50 MB/s: layer 1 (10 MB) ends at 0.2 s on hosts 1 and 2; then host 2's
        // layer 2 (20 MB left) is alone on its link and its parent's: 100 MB/s, +0.2 s
        let mut done = vec![];
        assert_eq!(tr.next_finish(), Some(200_000));
        tr.finish(200_000, &mut done);
        assert_eq!(
            done,
            vec![Finished { host: 1, layer: 1, parent: Some(0) }, Finished { host: 2, layer: 1, parent: Some(0) }]
        );
        assert_eq!(tr.flows_from(0).count(), 0);
        assert_eq!(drain(&mut tr), vec![(400_000, 2)]);
    }

    #[test]
    fn registry_downloads_share_the_registry_while_peer_downloads_on_their_hosts_hold_their_share() {
        // 100 MB/s links, registry 60 MB/s. Hosts 0 and 1 each read a layer from the registry;
        // host 1 also receives one from host 2. Host 1's registry download may take at most
        // host / 2 = 50; host 0's at most 100: the level λ with min(50, λ) + min(100, λ) = 60
        // is 30 for both. The peer download on host 1 takes host / 2 = 50 (its parent serves
        // only it): host 1's link carries 80, under its 100.
        let mut tr = Transfers::new(3, 100e6, 60e6);
        tr.start(0, 0, 1, 1e9);
        tr.start(0, 1, 1, 1e9);
        tr.start_from(0, 1, 2, 1e9, Some(2));
        let on = |tr: &Transfers, h| tr.flows_to(h).map(|f| (f.parent, f.rate)).collect::<Vec<_>>();
        assert_eq!(on(&tr, 0), vec![(None, 30e6)]);
        assert_eq!(on(&tr, 1), vec![(Some(2), 50e6), (None, 30e6)]);
        assert_eq!(tr.registry_in_use(), 60e6);
        assert_eq!(tr.host_in_use(1), 80e6);
    }

    #[test]
    fn links_and_uplinks_stay_within_capacity_under_random_peer_downloads() {
        let mut rng = 7u64;
        let mut next = |n: u64| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) % n
        };
        let mut tr = Transfers::new(6, 30e6, 70e6);
        let (mut t, mut ended) = (0, 0);
        for i in 0..60u32 {
            let h = next(6) as u32;
            let parent = match next(3) {
                0 => None,
                _ => Some(((h as u64 + 1 + next(5)) % 6) as u32),
            };
            tr.start_from(t, h, i, (1 + next(7)) as f64 * 1e6, parent);
            assert!(tr.registry_in_use() <= 70e6 * (1.0 + 1e-12));
            for h in 0..6 {
                assert!(tr.host_in_use(h) <= 30e6 * (1.0 + 1e-12));
                assert!(tr.uplink_in_use(h) <= 30e6 * (1.0 + 1e-12));
            }
            t += 20_000;
            while let Some(f) = tr.next_finish().filter(|&f| f <= t) {
                let mut done = vec![];
                tr.finish(f, &mut done);
                ended += done.len();
            }
        }
        ended += drain(&mut tr).len();
        assert_eq!((ended, tr.len()), (60, 0));
    }
}
