//! Contention for an instance's vCPUs. A request's `exec` is its time alone; its CPU share
//! (`cpu_fraction`) is work, served first, and the rest is a fixed wait (I/O, other
//! services) served after it, which contention does not slow. The CPU parts of the requests
//! on one instance share its vCPUs fairly — processor sharing, each capped at `threads`:
//! with `n` of them each runs at `min(threads, vcpu / n)`.
//!
//! A per-instance virtual clock makes every change O(log n): `V` grows at the rate one
//! request gets, a request that starts at `V₀` with work `w` gets the finish tag `V₀ + w`, and
//! the request with the smallest tag ends first, when `V` reaches it. Work is counted in
//! milli-vCPU·µs and time in whole µs: a finish is rounded up to the next µs, and each advance
//! of `V` rounds down (it loses less than one milli-vCPU·µs per event).
//!
//! `timeout` holds under contention too: a request whose CPU part is still running at
//! `start + timeout` is cut there and fails, and one whose wait would end after it fails at it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::engine::EventQueue;
use crate::scenario::CpuUse;
use crate::units::Micros;

use super::{Event, Platform};

/// A function's CPU use, in the units the sharing works in.
#[derive(Debug, Clone, Copy)]
pub(super) struct CpuRt {
    pub(super) fraction: f64,
    /// The instance's vCPU and one request's cap, in thousandths.
    pub(super) vcpu_m: u64,
    pub(super) threads_m: u64,
    /// Rate of one request alone where `exec` was measured: `min(threads, exec_vcpu)`.
    pub(super) alone_m: u64,
}

impl CpuRt {
    /// None when nothing is CPU work: requests then run in `exec` whatever else runs.
    pub(super) fn of(cpu: &CpuUse, milli_vcpu: u64) -> Option<Self> {
        (cpu.fraction > 0.0).then(|| {
            let threads_m = cpu.threads as u64 * 1000;
            CpuRt { fraction: cpu.fraction, vcpu_m: milli_vcpu, threads_m, alone_m: threads_m.min(cpu.exec_milli_vcpu) }
        })
    }

    /// `exec` split into CPU work (milli-vCPU·µs) and the wait after it (µs).
    pub(super) fn split(&self, exec: Micros) -> (u64, Micros) {
        let cpu_us = ((exec as f64 * self.fraction).round() as Micros).min(exec);
        (cpu_us * self.alone_m, exec - cpu_us)
    }
}

/// Processor sharing on one instance: its virtual clock and the finish tags of the requests
/// whose CPU part runs. Entries of requests cut by their timeout stay until they surface
/// (the caller's `live` tells), so removing one costs nothing.
#[derive(Debug, Default)]
pub struct CpuShare {
    vclock: u64,
    last: Micros,
    /// Requests whose CPU part runs.
    n: u32,
    vcpu_m: u64,
    threads_m: u64,
    /// (finish tag, request), smallest first.
    tags: BinaryHeap<Reverse<(u64, u32)>>,
    /// (start, tag, request) in start order: the oldest is the next to reach its timeout.
    started: VecDeque<(Micros, u64, u32)>,
    /// Bumped at every reschedule: a tick of an older epoch is stale. Never reset, so a
    /// reused slot cannot take an old tick for its own.
    pub(super) epoch: u32,
}

impl CpuShare {
    /// Requests whose CPU part runs.
    pub fn running(&self) -> u32 {
        self.n
    }

    /// Start sharing on an idle instance of `vcpu_m` with a cap of `threads_m` a request.
    pub fn reset(&mut self, now: Micros, vcpu_m: u64, threads_m: u64) {
        debug_assert_eq!(self.n, 0);
        self.vclock = 0;
        self.last = now;
        self.vcpu_m = vcpu_m;
        self.threads_m = threads_m;
        self.tags.clear();
        self.started.clear();
    }

    /// Whether the cap binds: `threads ≤ vcpu / n`.
    fn capped(&self) -> bool {
        self.threads_m * self.n as u64 <= self.vcpu_m
    }

    /// Move the virtual clock to `now`.
    pub fn advance(&mut self, now: Micros) {
        let dt = now - self.last;
        if self.n > 0 && dt > 0 {
            self.vclock += if self.capped() {
                self.threads_m * dt
            } else {
                (self.vcpu_m as u128 * dt as u128 / self.n as u128) as u64
            };
        }
        self.last = now;
    }

    /// A request's CPU part of `work` starts now (the clock advanced to `now`): its tag.
    pub fn add(&mut self, now: Micros, work: u64, req: u32) -> u64 {
        debug_assert_eq!(now, self.last);
        let tag = self.vclock + work;
        self.tags.push(Reverse((tag, req)));
        self.started.push_back((now, tag, req));
        self.n += 1;
        tag
    }

    /// A request left (finished or cut); its entries are dropped when they surface.
    pub fn remove(&mut self) {
        self.n -= 1;
        if self.n == 0 {
            self.tags.clear();
            self.started.clear();
        }
    }

    /// The running request whose CPU part is done by now (the clock advanced to now), if any.
    pub fn pop_finished(&mut self, live: impl Fn(u64, u32) -> bool) -> Option<u32> {
        self.drop_stale(&live);
        match self.tags.peek() {
            Some(&Reverse((tag, req))) if tag <= self.vclock => {
                self.tags.pop();
                Some(req)
            }
            _ => None,
        }
    }

    /// The oldest running request, if it started at or before `by`.
    pub fn pop_started_by(&mut self, by: Micros, live: impl Fn(u64, u32) -> bool) -> Option<u32> {
        while let Some(&(start, tag, req)) = self.started.front() {
            if !live(tag, req) {
                self.started.pop_front();
            } else if start <= by {
                self.started.pop_front();
                return Some(req);
            } else {
                return None;
            }
        }
        None
    }

    /// When the next CPU part ends if nothing else changes (whole µs, rounded up).
    pub fn next_finish(&mut self, live: impl Fn(u64, u32) -> bool) -> Option<Micros> {
        self.drop_stale(&live);
        let &Reverse((tag, _)) = self.tags.peek()?;
        let need = tag.saturating_sub(self.vclock) as u128;
        let dt = if self.capped() {
            need.div_ceil(self.threads_m as u128)
        } else {
            (need * self.n as u128).div_ceil(self.vcpu_m as u128)
        };
        Some(self.last + dt as Micros)
    }

    /// When the oldest running request started.
    pub fn oldest_start(&mut self, live: impl Fn(u64, u32) -> bool) -> Option<Micros> {
        while let Some(&(start, tag, req)) = self.started.front() {
            if live(tag, req) {
                return Some(start);
            }
            self.started.pop_front();
        }
        None
    }

    fn drop_stale(&mut self, live: &impl Fn(u64, u32) -> bool) {
        while let Some(&Reverse((tag, req))) = self.tags.peek() {
            if live(tag, req) {
                return;
            }
            self.tags.pop();
        }
    }
}

/// A request under sharing, by its slot in the table of requests in flight.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CpuJob {
    inst: u32,
    tag: u64,
    wait: Micros,
    cold: bool,
    /// Its CPU part runs (not yet done, not cut).
    running: bool,
}

impl Platform<'_> {
    /// Start request `req` (slot of the table of requests in flight) on instance `i` now: its
    /// CPU part joins the instance's sharing, or, with none, its wait starts.
    pub(super) fn start_shared(
        &mut self,
        i: u32,
        req: u32,
        exec: Micros,
        cold: bool,
        now: Micros,
        q: &mut EventQueue<Event>,
    ) {
        let f = self.insts.get(i).func as usize;
        let cpu = self.funcs[f].cpu.expect("sharing needs CPU work");
        let (work, wait) = cpu.split(exec);
        let k = req as usize;
        if self.cpu_jobs.len() <= k {
            self.cpu_jobs.resize(k + 1, CpuJob::default());
        }
        self.cpu_jobs[k] = CpuJob { inst: i, tag: 0, wait, cold, running: false };
        if work == 0 {
            self.cpu_done(i, req, now, q);
            return;
        }
        let s = i as usize;
        if self.cpu_shares.len() <= s {
            self.cpu_shares.resize_with(s + 1, CpuShare::default);
        }
        let share = &mut self.cpu_shares[s];
        if share.running() == 0 {
            share.reset(now, cpu.vcpu_m, cpu.threads_m);
        }
        share.advance(now);
        let tag = share.add(now, work, req);
        self.cpu_jobs[k].tag = tag;
        self.cpu_jobs[k].running = true;
        self.reschedule_cpu(i, q);
    }

    /// The instance's sharing changed or a tick is due: end the CPU parts that are done, cut
    /// those past their timeout, and schedule the next tick.
    pub(super) fn on_cpu_tick(&mut self, i: u32, epoch: u32, now: Micros, q: &mut EventQueue<Event>) {
        if self.cpu_shares[i as usize].epoch != epoch {
            return;
        }
        self.cpu_shares[i as usize].advance(now);
        loop {
            let jobs = &self.cpu_jobs;
            let live = |tag: u64, r: u32| is_live(jobs, i, tag, r);
            let Some(req) = self.cpu_shares[i as usize].pop_finished(live) else {
                break;
            };
            self.leave_share(i, req);
            self.cpu_done(i, req, now, q);
        }
        let timeout = self.funcs[self.insts.get(i).func as usize].timeout;
        if let Some(by) = now.checked_sub(timeout) {
            loop {
                let jobs = &self.cpu_jobs;
                let live = |tag: u64, r: u32| is_live(jobs, i, tag, r);
                let Some(req) = self.cpu_shares[i as usize].pop_started_by(by, live) else {
                    break;
                };
                self.leave_share(i, req);
                let cold = self.cpu_jobs[req as usize].cold;
                q.push(now, Event::Done { inst: i, req, cold, failed: true });
            }
        }
        self.reschedule_cpu(i, q);
    }

    /// The requests whose CPU part still runs on instance `i` (at the horizon), each with
    /// whether it started cold; they leave the sharing. They have no `Done` event queued yet.
    pub(super) fn take_running(&mut self, i: u32) -> Vec<(u32, bool)> {
        let mut out = Vec::new();
        loop {
            let jobs = &self.cpu_jobs;
            let live = |tag: u64, r: u32| is_live(jobs, i, tag, r);
            // no sharing anywhere: no table of shares
            let Some(req) = self.cpu_shares.get_mut(i as usize).and_then(|sh| sh.pop_started_by(Micros::MAX, live))
            else {
                break;
            };
            self.leave_share(i, req);
            out.push((req, self.cpu_jobs[req as usize].cold));
        }
        out
    }

    fn leave_share(&mut self, i: u32, req: u32) {
        self.cpu_jobs[req as usize].running = false;
        self.cpu_shares[i as usize].remove();
    }

    /// The CPU part of `req` is over now: its wait follows; it fails at its timeout if the
    /// wait would end after it.
    fn cpu_done(&mut self, i: u32, req: u32, now: Micros, q: &mut EventQueue<Event>) {
        let job = self.cpu_jobs[req as usize];
        let start = self.reqs.slots[req as usize].1;
        let limit = start.saturating_add(self.funcs[self.insts.get(i).func as usize].timeout);
        let end = now.saturating_add(job.wait);
        let failed = end > limit;
        let at = if failed { limit.max(now) } else { end };
        q.push(at, Event::Done { inst: i, req, cold: job.cold, failed });
    }

    /// Schedule the instance's next tick: the next CPU part to end or the oldest running
    /// request's timeout, whichever is first. Older ticks become stale.
    fn reschedule_cpu(&mut self, i: u32, q: &mut EventQueue<Event>) {
        let timeout = self.funcs[self.insts.get(i).func as usize].timeout;
        let jobs = &self.cpu_jobs;
        let live = |tag: u64, r: u32| is_live(jobs, i, tag, r);
        let share = &mut self.cpu_shares[i as usize];
        share.epoch = share.epoch.wrapping_add(1);
        let finish = share.next_finish(live);
        let limit = share.oldest_start(live).map(|s| s.saturating_add(timeout));
        let next = match (finish, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(t) = next {
            q.push(t, Event::CpuTick { inst: i, epoch: share.epoch });
        }
    }
}

/// Entry (`tag`, `req`) of instance `i` is a CPU part that still runs.
fn is_live(jobs: &[CpuJob], i: u32, tag: u64, req: u32) -> bool {
    jobs.get(req as usize).is_some_and(|j| j.running && j.inst == i && j.tag == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Micros = 1000;

    /// Drive one share by hand: `(at, work)` arrivals, all live; the finish time of each.
    fn finishes(vcpu_m: u64, threads_m: u64, arrivals: &[(Micros, u64)]) -> Vec<(u32, Micros)> {
        let mut s = CpuShare::default();
        s.reset(0, vcpu_m, threads_m);
        let mut done = Vec::new();
        let mut gone = vec![false; arrivals.len()];
        let mut next = 0;
        loop {
            let live = |_: u64, r: u32| !gone[r as usize];
            let fin = s.next_finish(live);
            let arr = arrivals.get(next).map(|a| a.0);
            let now = match (fin, arr) {
                (Some(f), Some(a)) => f.min(a),
                (f, a) => match f.or(a) {
                    Some(t) => t,
                    None => return done,
                },
            };
            s.advance(now);
            while let Some(r) = s.pop_finished(|_, r| !gone[r as usize]) {
                gone[r as usize] = true;
                s.remove();
                done.push((r, now));
            }
            if arr == Some(now) {
                s.add(now, arrivals[next].1, next as u32);
                next += 1;
            }
        }
    }

    #[test]
    fn two_requests_on_one_vcpu_share_it_from_when_the_second_arrives() {
        // 1 vCPU; A: 100 ms of work at 0, B: 100 ms at 50 ms. Alone A does 50 ms by 50 ms;
        // then each runs at half speed: A's last 50 ms take 100 ms (ends at 150 ms), B has
        // done 50 ms by then and finishes its last 50 ms alone (ends at 200 ms).
        let f = finishes(1000, 1000, &[(0, 100 * MS * 1000), (50 * MS, 100 * MS * 1000)]);
        assert_eq!(f, vec![(0, 150 * MS), (1, 200 * MS)]);
    }

    #[test]
    fn the_threads_cap_holds_a_request_to_its_threads_on_a_bigger_instance() {
        // 4 vCPU, 1 thread each, three requests of 100 ms of 1-vCPU work at 0: each gets one
        // vCPU (4/3 is above the cap) and all end at 100 ms.
        let w = 100 * MS * 1000;
        assert_eq!(finishes(4000, 1000, &[(0, w), (0, w), (0, w)]), vec![(0, 100 * MS), (1, 100 * MS), (2, 100 * MS)]);
        // eight of them: 0.5 vCPU each, all end at 200 ms
        let eight: Vec<(Micros, u64)> = (0..8).map(|_| (0, w)).collect();
        assert!(finishes(4000, 1000, &eight).iter().all(|&(_, t)| t == 200 * MS));
        // 2 threads: one request alone uses 2 of the 4 vCPUs (50 ms); two still 2 each;
        // three share 4/3 each: 100 ms of work takes 75 ms
        assert_eq!(finishes(4000, 2000, &[(0, w)]), vec![(0, 50 * MS)]);
        assert!(finishes(4000, 2000, &[(0, w), (0, w), (0, w)]).iter().all(|&(_, t)| t == 75 * MS));
    }

    #[test]
    fn finishes_round_up_to_the_next_microsecond() {
        // 1 vCPU, three requests of 1 µs·vCPU at 0: each gets 1/3, all done at 3 µs; one of
        // 1 milli-vCPU·µs alone ends after 1 µs, not at 0
        assert!(finishes(1000, 1000, &[(0, 1000), (0, 1000), (0, 1000)]).iter().all(|&(_, t)| t == 3));
        assert_eq!(finishes(1000, 1000, &[(0, 1)]), vec![(0, 1)]);
        // 3 vCPU shared by 7 at 1 thread: 3000/7 milli-vCPU each; 1000 units take ⌈7/3⌉ = 3 µs
        let seven: Vec<(Micros, u64)> = (0..7).map(|_| (0, 1000)).collect();
        assert!(finishes(3000, 1000, &seven).iter().all(|&(_, t)| t == 3));
    }

    #[test]
    fn the_oldest_running_request_is_the_first_to_reach_its_timeout() {
        let mut s = CpuShare::default();
        s.reset(0, 1000, 1000);
        s.add(0, 10, 0);
        s.advance(5);
        s.add(5, 10, 1);
        let gone = [true, false];
        // request 0 left: the oldest live one started at 5
        assert_eq!(s.oldest_start(|_, r| !gone[r as usize]), Some(5));
        assert_eq!(s.pop_started_by(4, |_, r| !gone[r as usize]), None);
        assert_eq!(s.pop_started_by(5, |_, r| !gone[r as usize]), Some(1));
    }

    #[test]
    fn split_gives_the_cpu_share_as_work_at_the_measured_rate() {
        let cpu = CpuUse { fraction: 0.25, threads: 2, exec_milli_vcpu: 4000 };
        let rt = CpuRt::of(&cpu, 1000).unwrap();
        // measured on 4 vCPU with 2 threads: alone it ran at 2 vCPU
        assert_eq!(rt.split(100 * MS), (25 * MS * 2000, 75 * MS));
        assert!(CpuRt::of(&CpuUse::none(1000), 1000).is_none());
    }
}
