//! Meter and statistics hooks: every instance phase change closes a metered stretch
//! ([`Platform::set_phase`]), requests are rounded per billing rule ([`Platform::bill_request`]),
//! and the time-series buckets and clock hours close as time passes. The rounding rules
//! themselves are applied in [`crate::usage::meters`]; this file only calls its hooks.

use crate::units::{Micros, MICROS_PER_HOUR as HOUR};
use crate::usage::Phase;

use super::stats::{add_row_time, BucketRow};
use super::Platform;

/// Which meter an idle instance's time goes to: reserved idle time is billed on its own.
pub(super) fn idle_phase(reserved: bool) -> Phase {
    if reserved {
        Phase::IdleReserved
    } else {
        Phase::IdleKeepalive
    }
}

impl Platform<'_> {
    /// Close the instance's current phase at `now` and enter `to` (`None` = it ends). A phase
    /// that continues (busy → busy) is one stretch, not two: billed periods stay whole.
    pub(super) fn set_phase(&mut self, i: u32, to: Option<Phase>, now: Micros) {
        let it = self.insts.get_mut(i);
        let from = it.phase;
        if to == Some(from) {
            return;
        }
        let dt = now - it.phase_since;
        it.times[from.index()] += dt;
        it.phase_since = now;
        let in_bucket = now - it.clock_since;
        it.clock_since = now;
        if let Some(p) = to {
            it.phase = p;
        }
        let k = it.reserved as usize;
        let f = &mut self.funcs[it.func as usize];
        self.meters.stretch(&mut f.stats.billed, k, from, dt);
        f.clock.credit(k, from, in_bucket);
        if !self.hours_from_buckets {
            if let Some(h) = &mut f.hour_clock {
                h.shift(now - self.hour_start, Some(from), to, k);
            }
        }
        if to.is_none() {
            // usage is added from `times` once, when the instance ends
            f.stats.usage_kind[k].add_times(&f.spec, &it.times);
            self.meters.instance_end(&mut f.stats.billed, k, &it.times, it.first_request_done);
        }
    }

    /// Per-request rounding: a request that ran from `start` to `end` on instance `i`.
    pub(super) fn bill_request(&mut self, i: u32, start: Micros, end: Micros) {
        if !self.meters.rounds_requests() {
            return;
        }
        // only the part after the warmup is billed
        let start = start.max(self.warmup).min(end);
        let it = self.insts.get_mut(i);
        let first = !it.first_request_done;
        it.first_request_done = true;
        let (k, init) = (it.reserved as usize, it.times[Phase::Startup.index()]);
        let f = &mut self.funcs[it.func as usize];
        self.meters.request(&mut f.stats.billed, k, end - start, if first { init } else { 0 });
    }

    /// Close time-series buckets and clock hours that ended by `now`.
    #[inline(always)]
    pub(super) fn advance_clocks(&mut self, now: Micros) {
        if self.series.due(now) {
            self.close_buckets(now);
        }
        if now >= self.next_hour {
            self.close_hours(now);
        }
    }

    /// Close every bucket that ended by `now`: the stretches still open are credited up
    /// to its end, then each function's instance-time, times its spec, makes the bucket's
    /// usage.
    #[inline(never)]
    pub(super) fn close_buckets(&mut self, now: Micros) {
        while self.series.due(now) {
            let end = self.series.row.end;
            let funcs = &mut self.funcs;
            self.insts.for_each_live(|it| {
                funcs[it.func as usize].clock.credit(it.reserved as usize, it.phase, end - it.clock_since);
                it.clock_since = end;
            });
            for f in &mut self.funcs {
                if !f.clock.is_quiet() {
                    let inst = f.clock.take();
                    add_row_time(&mut self.series.row, &inst, &f.spec);
                    if let (true, Some(h)) = (self.hours_from_buckets, &mut f.hour_clock) {
                        h.absorb(&inst);
                    }
                }
            }
            if let Some(a) = &mut self.audit {
                a.bucket(&self.series.row);
            }
            self.sink.bucket(&self.series.row);
            self.series.next();
        }
    }

    /// Hand every function's finished clock hours with activity to the sink.
    #[inline(never)]
    pub(super) fn close_hours(&mut self, now: Micros) {
        while now >= self.next_hour {
            let start = self.hour_start;
            let len = self.next_hour - start;
            for (fi, f) in self.funcs.iter_mut().enumerate() {
                let Some(h) = &mut f.hour_clock else { continue };
                if h.is_quiet() {
                    continue;
                }
                let started = h.started;
                let inst = h.close(len);
                let mut row = BucketRow { start, end: self.next_hour, started, ..Default::default() };
                add_row_time(&mut row, &inst, &f.spec);
                let active = started.iter().any(|&n| n > 0) || inst.iter().flatten().any(|&x| x > 0);
                // hours that ended by the warmup are left out of the bill
                if active && self.next_hour > self.warmup {
                    self.meters.hour(&mut f.stats.topups, &f.spec, &row.usage, row.started);
                    self.sink.function_hour(fi, &row);
                }
            }
            if self.next_hour >= self.horizon {
                self.next_hour = Micros::MAX;
                break;
            }
            self.hour_start = self.next_hour;
            self.next_hour = (self.next_hour + HOUR).min(self.horizon);
        }
    }

    pub(super) fn idle_phase(&self, i: u32) -> Phase {
        idle_phase(self.insts.get(i).reserved)
    }

    /// Count a request that starts executing on an on-demand or reserved instance: in the
    /// time series and clock hours always (they are kept whole), in the statistics when
    /// `counted` (it arrived after the warmup).
    pub(super) fn count_start(&mut self, f: usize, reserved: bool, counted: bool) {
        let k = reserved as usize;
        let fr = &mut self.funcs[f];
        if counted {
            fr.stats.started += 1;
            fr.stats.started_kind[k] += 1;
        }
        self.series.row.started[k] += 1;
        if let Some(h) = &mut fr.hour_clock {
            h.started[k] += 1;
        }
    }

    /// Apply the deferred latency records to the functions' histograms.
    #[inline(never)]
    pub(super) fn flush_latencies(&mut self) {
        let Some(log) = &mut self.latlog else { return };
        let funcs = &mut self.funcs;
        log.flush(|key, lat| {
            let st = &mut funcs[(key >> 1) as usize].stats;
            if key & 1 == 1 {
                st.cold_latency.record(lat);
            } else {
                st.warm_latency.record(lat);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_of_reserved_and_on_demand_instances_goes_to_separate_meters() {
        assert_eq!(idle_phase(true), Phase::IdleReserved);
        assert_eq!(idle_phase(false), Phase::IdleKeepalive);
    }
}
