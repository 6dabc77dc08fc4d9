//! Rows to the sink (requests, instances) and the close of a run at its horizon.

use crate::engine::EventQueue;
use crate::units::Micros;

use super::audit::Audit;
use super::instance::Pending;
use super::stats::{FnStats, InstanceRow, Outcome, RequestRow};
use super::{Event, Platform, RunResult};
use crate::latency;

impl Platform<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn emit_request(
        &mut self,
        f: u32,
        arrival: Micros,
        start: Option<Micros>,
        end: Option<Micros>,
        cold: bool,
        instance: Option<u64>,
        outcome: Outcome,
    ) {
        if self.wants_requests {
            let row = RequestRow {
                function: &self.funcs[f as usize].name,
                function_index: f as usize,
                arrival,
                start,
                end,
                cold,
                instance,
                outcome,
            };
            if let Some(a) = &mut self.audit {
                a.request(f, &row, self.warmup, self.horizon);
                if !self.sink.wants_requests() {
                    return;
                }
            }
            self.sink.request(&row);
        }
    }

    pub(super) fn emit_instance(&mut self, i: u32, ended: Option<Micros>, reason: &'static str) {
        let it = self.insts.get(i);
        let fr = &self.funcs[it.func as usize];
        let row = InstanceRow {
            id: it.id,
            function: &fr.name,
            function_index: it.func as usize,
            host: it.host,
            reserved: it.reserved,
            created: it.created,
            pull_start: super::instance::when(it.pull_start),
            pull_end: super::instance::when(it.pull_end),
            ready: super::instance::when(it.ready_at),
            ended,
            end_reason: reason,
            served: it.served,
            times: it.times,
            spec: fr.spec,
        };
        if let Some(a) = &mut self.audit {
            a.instance(&row, self.warmup, self.horizon);
        }
        self.sink.instance(&row);
    }

    /// Close the run at the horizon: meter live instances to the horizon, count what is
    /// still in flight, flush the last buckets.
    pub fn finish(self, q: EventQueue<Event>, replication: u32, events: u64) -> RunResult {
        self.close(q, replication, events).0
    }

    /// Request `req`, running on `inst` at the horizon `end`: in flight, and the part run by
    /// then billed like a request cut there.
    fn cut_at_horizon(&mut self, inst: u32, req: u32, cold: bool, end: Micros) {
        let (arrival, start) = self.reqs.close(req);
        self.bill_request(inst, start, end);
        let it = self.insts.get(inst);
        let (f, id) = (it.func, it.id);
        self.funcs[f as usize].stats.in_flight += (arrival >= self.warmup) as u64;
        self.emit_request(f, arrival, Some(start), None, cold, Some(id), Outcome::InFlight);
    }

    /// [`Platform::finish`], handing back the audit (if on) with its books complete.
    pub(super) fn close(
        mut self,
        mut q: EventQueue<Event>,
        replication: u32,
        events: u64,
    ) -> (RunResult, Option<Box<Audit>>) {
        let end = self.horizon;
        self.flush_latencies();
        // close every bucket first: what follows happens at the horizon and adds no time
        self.close_buckets(end);
        self.close_hours(end);
        // requests running at the horizon: the Done events still queued, and the requests
        // whose CPU part still runs under sharing (their Done is not queued yet)
        while let Some((_, ev)) = q.pop() {
            if let Event::Done { inst, req, cold, .. } = ev {
                self.cut_at_horizon(inst, req, cold, end);
            }
        }
        let live: Vec<u32> = self.insts.live().collect();
        for &i in &live {
            for (req, cold) in self.take_running(i) {
                self.cut_at_horizon(i, req, cold, end);
            }
        }
        for &i in &live {
            let f = self.insts.get(i).func;
            let pending = std::mem::take(&mut self.insts.get_mut(i).pending);
            for p in &pending {
                self.funcs[f as usize].stats.in_flight += (p.arrival >= self.warmup) as u64;
                self.emit_request(f, p.arrival, None, None, true, None, Outcome::InFlight);
            }
            self.set_phase(i, None, end);
            self.emit_instance(i, None, "horizon");
        }
        for f in 0..self.funcs.len() {
            super::reserved::book_shortfall(&mut self.funcs[f], end);
            let queued: Vec<Pending> = self.funcs[f].queue.drain(..).collect();
            for p in queued {
                self.funcs[f].stats.in_flight += (p.arrival >= self.warmup) as u64;
                self.emit_request(f as u32, p.arrival, None, None, false, None, Outcome::InFlight);
            }
            let st = &mut self.funcs[f].stats;
            st.live_change(end, 0);
            // frozen: the reports' copies share the bins, and all = warm + cold is a view
            st.warm_latency.freeze();
            st.cold_latency.freeze();
            st.latency = latency::Latency::sum(&st.warm_latency, &st.cold_latency);
        }
        let specs = self.funcs.iter().map(|f| f.spec).collect();
        // collected in place into the run-time state's (larger) block: give back the rest
        let mut functions: Vec<(String, FnStats)> = self.funcs.into_iter().map(|f| (f.name, f.stats)).collect();
        functions.shrink_to_fit();
        let result = RunResult {
            replication,
            specs,
            functions,
            events,
            horizon: end,
            warmup: self.warmup,
            downloads: self.downloads,
        };
        (result, self.audit)
    }
}
