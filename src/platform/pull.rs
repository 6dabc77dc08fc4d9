//! Image pulls, in the order the platform runs them: a cache hit or a `manifest` round trip,
//! then each missing layer requested once per host (at most `parallel_layers` downloads per
//! host at a time, the rest queued), its bytes moved under bandwidth sharing, and the layers
//! extracted one after another in image order.
//!
//! Bandwidth sharing among layer downloads is a fluid model, max-min fair over the host links
//! and the registry link (`bandwidth.rs`); only the next finish time needs an event. Under p2p
//! distribution a download's source is a host holding the layer when there is one (`p2p.rs`).

use super::host::{Host, LayerState};
use super::instance::State;
use super::{Event, Platform};
use crate::engine::EventQueue;
use crate::scenario::{Pull, PullMode};
use crate::units::Micros;

pub use super::bandwidth::Transfers;

/// The next move of a pull whose cursor is at a layer in this state on its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Cached: pin it and go on to the next layer.
    Pin,
    /// Downloaded: extract it now (layers extract one after another, in image order).
    Extract,
    /// Queued, downloading or extracting: wait for it.
    Wait,
    /// Not on the host (evicted since the manifest): download it again.
    Fetch,
}

/// The ordered-extraction rule, one layer at a time.
pub(super) fn next_step(state: Option<LayerState>) -> Step {
    match state {
        Some(LayerState::Cached) => Step::Pin,
        Some(LayerState::Downloaded) => Step::Extract,
        Some(_) => Step::Wait,
        None => Step::Fetch,
    }
}

/// How long extracting a layer takes: its uncompressed bytes at `extract_rate`, plus a cost
/// per file and a fixed cost per layer.
/// Saturates: a time beyond any horizon (10⁹ files × a day each) stays beyond it, never wraps.
pub(super) fn extract_time(uncompressed: u64, files: u64, pl: &Pull) -> Micros {
    let secs = uncompressed as f64 / pl.extract_rate;
    // `as` saturates a float too large for u64
    let bytes = (secs * 1e6).ceil() as Micros;
    bytes.saturating_add(files.saturating_mul(pl.extract_per_file)).saturating_add(pl.extract_overhead)
}

/// No layer recorded: the pull is visited.
const NOT_WAITING: u32 = u32::MAX;

/// The layer each pulling instance (by slot) last stopped at, still downloading or being
/// extracted: it can go on only once that layer is whole. Kept apart from the instances,
/// in one small array, so a host's pulls are checked without touching each instance.
#[derive(Debug, Default)]
pub(super) struct PullWaits(Vec<u32>);

impl PullWaits {
    fn set(&mut self, i: u32, layer: u32) {
        let i = i as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, NOT_WAITING);
        }
        self.0[i] = layer;
    }

    /// Whether the pull in slot `i` stopped at a layer still queued, downloading or being
    /// extracted on `host`: then moving it along would stop at the same place and do nothing.
    fn still_waiting(&self, i: u32, host: &Host) -> bool {
        match self.0.get(i as usize) {
            Some(&l) if l != NOT_WAITING => host.layers.get(&l).is_some_and(|e| next_step(Some(e.state)) == Step::Wait),
            _ => false,
        }
    }
}

impl Platform<'_> {
    /// Whether a pull of image `img` that begins now is lazy: every pull in lazy mode, and
    /// an accelerated image's once its accelerated copy is ready.
    pub(super) fn lazy_now(&self, img: usize, now: Micros) -> bool {
        self.sc.platform.pull.mode == PullMode::Lazy || self.sc.images[img].accelerated_from.is_some_and(|t| now >= t)
    }

    /// The index in `image_layers` of image `img`'s layers, or of its lazy pieces.
    pub(super) fn list(img: usize, lazy: bool) -> usize {
        img * 2 + lazy as usize
    }

    /// The list instance `i` walks.
    pub(super) fn list_of(&self, i: u32) -> usize {
        let it = self.insts.get(i);
        Self::list(self.funcs[it.func as usize].image, it.lazy)
    }

    pub(super) fn begin_pull(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let (h, img) = {
            let it = self.insts.get(i);
            (it.host as usize, self.funcs[it.func as usize].image)
        };
        let lazy = self.lazy_now(img, now);
        let list = Self::list(img, lazy);
        let ttl = self.sc.platform.cache_ttl;
        // a lazy pull fetches the index pieces (the first half) before the container starts
        let n = self.image_layers[list].len() as u32;
        let stage_end = if lazy { n / 2 } else { n };
        // pin the cached prefix; a fully cached stage is a cache hit: no pull at all
        let mut cursor = 0;
        while cursor < stage_end {
            let l = self.image_layers[list][cursor as usize];
            if self.hosts[h].state(l, now, ttl) != Some(LayerState::Cached) {
                break;
            }
            self.hosts[h].pin(l, now);
            cursor += 1;
        }
        let f = self.insts.get(i).func as usize;
        let it = self.insts.get_mut(i);
        it.cursor = cursor;
        it.lazy = lazy;
        it.stage_end = stage_end;
        if cursor == stage_end {
            self.funcs[f].stats.cache_hits += 1;
            self.start_create(i, now, q);
        } else {
            self.funcs[f].stats.pulls += 1;
            let it = self.insts.get_mut(i);
            it.state = State::Pulling;
            it.pull_start = now;
            let gen = it.gen;
            q.push(now.saturating_add(self.sc.platform.pull.manifest), Event::ManifestDone { inst: i, gen });
        }
    }

    pub(super) fn on_manifest(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        self.request_stage(i, now, q);
        self.advance_pull(i, now, q);
    }

    /// Ask for every piece of the instance's stage not on its host, and pin them all: the
    /// stage uses them from now on, so none can expire or be evicted under it.
    fn request_stage(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let list = self.list_of(i);
        let it = self.insts.get(i);
        let (h, cursor, end) = (it.host, it.cursor, it.stage_end);
        let ttl = self.sc.platform.cache_ttl;
        for k in cursor as usize..end as usize {
            let l = self.image_layers[list][k];
            if self.hosts[h as usize].state(l, now, ttl).is_none() {
                self.request_download(h, l, now, q);
            }
            self.hosts[h as usize].pin(l, now);
        }
        self.insts.get_mut(i).holds_image = true;
        self.hosts[h as usize].pulls.push(i);
        self.pull_waits.set(i, NOT_WAITING);
    }

    /// Lazy loading, once the container is created: the app's reads (the read pieces) stall
    /// its start-up until they are on the host; then its own start-up time runs.
    pub(super) fn begin_reading(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let list = self.list_of(i);
        let it = self.insts.get_mut(i);
        it.state = State::Reading;
        it.stage_end = self.image_layers[list].len() as u32;
        self.request_stage(i, now, q);
        self.advance_pull(i, now, q);
    }

    /// One download per layer per host, at most `parallel_layers` at a time per host.
    pub(super) fn request_download(&mut self, h: u32, l: u32, now: Micros, q: &mut EventQueue<Event>) {
        let host = &mut self.hosts[h as usize];
        if let Some(a) = &mut self.audit {
            a.download(h, l, host.layers.get(&l).map(|e| e.state), now);
        }
        if host.downloads_active < self.sc.platform.pull.parallel_layers {
            host.add_wanted(l, LayerState::Downloading, now);
            host.downloads_active += 1;
            q.push(now.saturating_add(self.sc.platform.pull.layer_overhead), Event::OverheadDone { host: h, layer: l });
        } else {
            host.add_wanted(l, LayerState::Queued, now);
            host.download_queue.push_back(l);
        }
    }

    /// Bytes start to flow: from the registry, or under p2p from a host holding the layer.
    pub(super) fn on_overhead_done(&mut self, h: u32, l: u32, now: Micros, q: &mut EventQueue<Event>) {
        let bytes = self.layers[l as usize].compressed as f64;
        let ttl = self.sc.platform.cache_ttl;
        let parent = match &mut self.p2p {
            Some(p2p) => {
                if let Some(a) = &mut self.audit {
                    let holder = p2p.any_holder(&self.hosts, h, l, now, ttl);
                    let parent = p2p.choose(h, l, &mut self.hosts, now, ttl);
                    a.root(h, l, parent, holder, now);
                    parent
                } else {
                    p2p.choose(h, l, &mut self.hosts, now, ttl)
                }
            }
            None => None,
        };
        match parent {
            Some(_) => self.downloads.peers += 1,
            None => self.downloads.registry += 1,
        }
        self.transfers.start_from(now, h, l, bytes, parent);
        self.reschedule_transfers(q);
    }

    fn reschedule_transfers(&mut self, q: &mut EventQueue<Event>) {
        self.transfer_gen = self.transfer_gen.wrapping_add(1);
        if let Some(t) = self.transfers.next_finish() {
            q.push(t, Event::TransferDone { gen: self.transfer_gen });
        }
    }

    pub(super) fn on_transfer_done(&mut self, now: Micros, q: &mut EventQueue<Event>) {
        let mut done = std::mem::take(&mut self.scratch_done);
        let mut whole = std::mem::take(&mut self.scratch_whole);
        done.clear();
        whole.clear();
        self.transfers.finish(now, &mut done);
        for f in &done {
            // a peer's child has the whole layer only once its parent has it (streaming)
            let complete = match (&mut self.p2p, f.parent) {
                (Some(p2p), Some(parent)) => p2p.child_done(f.host, f.layer, parent, &mut self.hosts, now),
                _ => true,
            };
            if complete {
                whole.push((f.host, f.layer));
            }
        }
        let mut k = 0;
        while k < whole.len() {
            let (h, l) = whole[k];
            k += 1;
            if let Some(p2p) = &mut self.p2p {
                // the children that waited for it are whole with it
                p2p.completed(h, l, &mut whole);
            }
            let host = &mut self.hosts[h as usize];
            host.set_state(l, LayerState::Downloaded);
            host.downloads_active -= 1;
            // the next queued layer still wanted takes the slot
            while let Some(next) = host.download_queue.pop_front() {
                if host.layers.get(&next).map(|e| e.state) == Some(LayerState::Queued) {
                    host.set_state(next, LayerState::Downloading);
                    host.downloads_active += 1;
                    q.push(
                        now.saturating_add(self.sc.platform.pull.layer_overhead),
                        Event::OverheadDone { host: h, layer: next },
                    );
                    break;
                }
            }
        }
        for &(h, _) in &whole {
            self.advance_pulls_on(h, now, q);
        }
        self.scratch_done = done;
        self.scratch_whole = whole;
        self.reschedule_transfers(q);
    }

    pub(super) fn on_extract_done(&mut self, h: u32, l: u32, now: Micros, q: &mut EventQueue<Event>) {
        let size = self.layers[l as usize].uncompressed;
        let pl = &self.sc.platform;
        self.hosts[h as usize].cache(l, size, now, pl.cache_capacity, pl.cache_ttl);
        self.advance_pulls_on(h, now, q);
    }

    /// A layer on host `h` is whole (downloaded or extracted): move its pulls along, in order.
    /// A pull still waiting for the layer it stopped at is skipped without a visit (it would
    /// stop there again): in a pull storm thousands of pulls share a host, and each visit
    /// is a miss to memory (see [`PullWaits`]).
    fn advance_pulls_on(&mut self, h: u32, now: Micros, q: &mut EventQueue<Event>) {
        let mut pulls = std::mem::take(&mut self.scratch_pulls);
        pulls.clear();
        pulls.extend_from_slice(&self.hosts[h as usize].pulls);
        for &i in &pulls {
            if self.pull_waits.still_waiting(i, &self.hosts[h as usize]) {
                continue;
            }
            if matches!(self.insts.get(i).state, State::Pulling | State::Reading) {
                self.advance_pull(i, now, q);
            }
        }
        self.scratch_pulls = pulls;
    }

    /// Move an instance's pull along its stage, in order: pin what is cached, extract the
    /// next layer once downloaded (one extraction after another; lazy pieces are not
    /// extracted), fetch what went missing. At the stage's end the container is created
    /// (after a pull) or the app's start-up time begins (after a lazy start's reads).
    fn advance_pull(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let list = self.list_of(i);
        let (h, img, mut cursor, end) = {
            let it = self.insts.get(i);
            (it.host, self.funcs[it.func as usize].image, it.cursor, it.stage_end)
        };
        let ttl = self.sc.platform.cache_ttl;
        while cursor < end {
            let l = self.image_layers[list][cursor as usize];
            match next_step(self.hosts[h as usize].state(l, now, ttl)) {
                // pinned since the manifest
                Step::Pin => cursor += 1,
                Step::Extract => {
                    self.hosts[h as usize].set_state(l, LayerState::Extracting);
                    let info = &self.layers[l as usize];
                    let dur = if info.extract {
                        extract_time(info.uncompressed, info.files, &self.sc.platform.pull)
                    } else {
                        0
                    };
                    q.push(now.saturating_add(dur), Event::ExtractDone { host: h, layer: l });
                    self.pull_waits.set(i, l);
                    break;
                }
                Step::Wait => {
                    self.pull_waits.set(i, l);
                    break;
                }
                Step::Fetch => {
                    // not reached while the pull pins its layers; kept so a pull never waits
                    // on a layer nobody fetches
                    self.request_download(h, l, now, q);
                    self.hosts[h as usize].pin(l, now);
                    self.pull_waits.set(i, l);
                    break;
                }
            }
        }
        self.insts.get_mut(i).cursor = cursor;
        if cursor < end {
            return;
        }
        let host = &mut self.hosts[h as usize];
        if let Some(k) = host.pulls.iter().position(|&x| x == i) {
            host.pulls.swap_remove(k);
        }
        if self.insts.get(i).state == State::Reading {
            self.start_app(i, now, q);
            return;
        }
        if !self.image_holders[img].contains(&h) {
            self.image_holders[img].push(h);
        }
        let it = self.insts.get_mut(i);
        it.pull_end = now;
        let began = super::instance::when(it.pull_start).unwrap_or(now);
        if began >= self.warmup {
            self.funcs[it.func as usize].stats.pull_us += (now - began) as u128;
        }
        self.start_create(i, now, q);
    }
}

#[cfg(test)]
mod tests {
    use super::{extract_time, next_step, PullWaits, Step, NOT_WAITING};
    use crate::platform::host::{Host, LayerState};

    #[test]
    fn a_pull_is_skipped_only_while_the_layer_it_stopped_at_is_not_whole() {
        let mut host = Host::new(1024);
        let mut waits = PullWaits::default();
        assert!(!waits.still_waiting(3, &host), "a slot never seen is visited");
        waits.set(3, 7);
        assert!(!waits.still_waiting(3, &host), "a layer gone from the host is fetched again: visit");
        host.add_wanted(7, LayerState::Queued, 0);
        for (state, skipped) in [
            (LayerState::Queued, true),
            (LayerState::Downloading, true),
            (LayerState::Extracting, true),
            (LayerState::Downloaded, false),
            (LayerState::Cached, false),
        ] {
            host.set_state(7, state);
            assert_eq!(waits.still_waiting(3, &host), skipped, "{state:?}");
            // the rule is the pull's own: skipped exactly when its next step would be to wait
            assert_eq!(skipped, next_step(Some(state)) == Step::Wait);
        }
        host.set_state(7, LayerState::Downloading);
        waits.set(3, NOT_WAITING);
        assert!(!waits.still_waiting(3, &host), "a pull that begins is visited");
        assert!(!waits.still_waiting(2, &host), "other slots are not affected");
    }

    #[test]
    fn a_pull_pins_cached_layers_extracts_downloaded_ones_and_refetches_missing_ones() {
        assert_eq!(next_step(Some(LayerState::Cached)), Step::Pin);
        assert_eq!(next_step(Some(LayerState::Downloaded)), Step::Extract);
        for waiting in [LayerState::Queued, LayerState::Downloading, LayerState::Extracting] {
            assert_eq!(next_step(Some(waiting)), Step::Wait);
        }
        assert_eq!(next_step(None), Step::Fetch);
    }

    #[test]
    fn extraction_takes_bytes_over_rate_plus_per_file_and_per_layer_costs() {
        let mut pl = crate::platform::tests::base().platform.pull;
        pl.extract_rate = 100e6;
        pl.extract_per_file = 10;
        pl.extract_overhead = 85_000;
        // 150 MB at 100 MB/s = 1.5 s; 1000 files × 10 µs; one overhead
        assert_eq!(extract_time(150_000_000, 1000, &pl), 1_500_000 + 10_000 + 85_000);
    }

    #[test]
    fn an_extraction_too_long_to_count_saturates_instead_of_wrapping() {
        let mut pl = crate::platform::tests::base().platform.pull;
        // the largest inputs allowed: 10⁹ files of 100 years each, 1024 TB at 1 B/s
        pl.extract_per_file = 36_500 * crate::units::MICROS_PER_DAY;
        assert_eq!(extract_time(0, 1_000_000_000, &pl), u64::MAX);
        pl.extract_rate = 1.0;
        assert_eq!(extract_time(1 << 50, 0, &pl), u64::MAX);
    }
}
