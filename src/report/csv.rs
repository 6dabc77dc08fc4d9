//! The streamed files of one replication (`timeseries.csv`, `instances.csv`, and
//! `requests.csv` when asked): rows are written as the run produces them, so memory stays
//! flat however long the horizon. Replications write to their own scratch files, which are
//! joined in replication order afterwards.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use super::fmt::{csv_field, float, push_csv_field, push_millis, push_secs, secs, write_micro_quotient};
use super::trend::Trend;
use crate::billing;
use crate::billing::model::Sheet;
use crate::platform::{BucketRow, InstanceRow, RequestRow, Sink};
use crate::usage::{mb_us_to_gbs, Phase, Spec};

pub const TIMESERIES_HEADER: &str = "replication,bucket_start_s,bucket_end_s,arrivals,cold_starts,completed,throttled,failed,queue_timeouts,instances_created,instances_starting,instances_busy,instances_idle,instances_total,pulls_in_flight,instances_create,instances_startup,instances_idle_keepalive,instances_idle_reserved,gbs_pull,gbs_create,gbs_startup,gbs_busy,gbs_idle_keepalive,gbs_idle_reserved,gbs_total,cost,time\n";

pub const INSTANCES_HEADER: &str = "replication,instance,function,host,reserved,created_s,pull_start_s,pull_end_s,ready_s,ended_s,end_reason,requests_served,seconds_pull,seconds_create,seconds_startup,seconds_busy,seconds_idle_keepalive,seconds_idle_reserved,gbs_pull,gbs_create,gbs_startup,gbs_busy,gbs_idle_keepalive,gbs_idle_reserved,gbs_total,vcpu_seconds,cost\n";

pub const REQUESTS_HEADER: &str =
    "replication,function,arrival_s,start_s,end_s,wait_ms,latency_ms,cold,instance,outcome\n";

/// What the streamed files need to know about the scenario: the sheet, each function's
/// spec and the compressed size of its image (MB, for the pull chart).
pub struct Pricing<'a> {
    pub sheet: &'a Sheet,
    pub specs: Vec<Spec>,
    pub image_mb: Vec<f64>,
}

/// Writes one replication's rows (`replication` is 1-based, as in summary.csv); the first
/// I/O error is kept with the name of its file and reported after the run, and nothing more
/// is written once one failed.
pub struct CsvSink<'a> {
    replication: u32,
    pricing: Option<&'a Pricing<'a>>,
    /// What the charts need (kept for one replication only).
    trend: Option<Trend>,
    timeseries: BufWriter<File>,
    instances: BufWriter<File>,
    requests: Option<BufWriter<File>>,
    error: Option<(&'static str, io::Error)>,
    /// `simulation.start`: each bucket's clock time goes in `time` (empty without it).
    clock: Option<crate::scenario::Start>,
    /// A requests.csv row being put together (reused: no allocation per row).
    line: Vec<u8>,
}

fn opt_secs(t: Option<u64>) -> String {
    t.map(secs).unwrap_or_default()
}

/// The columns `gbs_pull` … `gbs_idle_reserved`, `gbs_total` of a row, from each phase's
/// MB·µs in [`Phase::ALL`] order: timeseries.csv and instances.csv both end with these.
struct GbsColumns([u128; Phase::COUNT]);

impl std::fmt::Display for GbsColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for mb_us in self.0 {
            write_micro_quotient(f, mb_us, 1024, || mb_us_to_gbs(mb_us))?;
            f.write_str(",")?;
        }
        let total = self.0.iter().sum();
        write_micro_quotient(f, total, 1024, || mb_us_to_gbs(total))
    }
}

/// vCPU·s from milli-vCPU·µs, six decimals (see [`write_micro_quotient`]).
struct VcpuSeconds(u128);

impl std::fmt::Display for VcpuSeconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_micro_quotient(f, self.0, 1000, || self.0 as f64 / 1e9)
    }
}

impl<'a> CsvSink<'a> {
    pub fn new(
        replication: u32,
        pricing: Option<&'a Pricing<'a>>,
        timeseries: BufWriter<File>,
        instances: BufWriter<File>,
        requests: Option<BufWriter<File>>,
    ) -> Self {
        CsvSink {
            replication,
            pricing,
            trend: None,
            timeseries,
            instances,
            requests,
            error: None,
            clock: None,
            line: Vec::with_capacity(128),
        }
    }

    /// Give each time-series row its clock time (`simulation.start`).
    pub fn with_clock(mut self, clock: Option<crate::scenario::Start>) -> Self {
        self.clock = clock;
        self
    }

    /// Keep the downsampled series and pull sample of this replication for the charts.
    pub fn with_trend(mut self) -> Self {
        self.trend = Some(Trend::new());
        self
    }

    fn keep(&mut self, file: &'static str, r: io::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert((file, e));
        }
    }

    /// Flush everything; the chart data, or the first error with the name of the file it
    /// hit (`requests.csv`). (The hourly minimum is summed by the run's meters and carried
    /// by the bill, not by any sink.)
    pub fn finish(mut self) -> Result<Option<Trend>, (&'static str, io::Error)> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.timeseries.flush().map_err(|e| ("timeseries.csv", e))?;
        self.instances.flush().map_err(|e| ("instances.csv", e))?;
        if let Some(r) = &mut self.requests {
            r.flush().map_err(|e| ("requests.csv", e))?;
        }
        if let Some(t) = &mut self.trend {
            t.finish();
        }
        Ok(self.trend)
    }
}

impl Sink for CsvSink<'_> {
    fn bucket(&mut self, b: &BucketRow) {
        if self.error.is_some() {
            return;
        }
        let len = (b.end - b.start) as f64;
        let u = b.total();
        let avg = |p: Phase| u.inst_us[p.index()] as f64 / len;
        let starting = avg(Phase::Pull) + avg(Phase::Create) + avg(Phase::Startup);
        let idle = avg(Phase::IdleKeepalive) + avg(Phase::IdleReserved);
        let total: f64 = Phase::ALL.iter().map(|&p| avg(p)).sum();
        let cost_value = self.pricing.map(|p| billing::bucket_cost(p.sheet, &b.usage, &b.gpu, b.started));
        if let Some(t) = &mut self.trend {
            t.push(b, cost_value.unwrap_or(0.0));
        }
        let cost = cost_value.map(|c| float(c, 8)).unwrap_or_default();
        let r = writeln!(
            self.timeseries,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            self.replication,
            secs(b.start),
            secs(b.end),
            b.arrivals,
            b.cold_starts,
            b.completed,
            b.throttled,
            b.failed,
            b.queue_timeouts,
            b.instances_created,
            float(starting, 4),
            float(avg(Phase::Busy), 4),
            float(idle, 4),
            float(total, 4),
            float(avg(Phase::Pull), 4),
            float(avg(Phase::Create), 4),
            float(avg(Phase::Startup), 4),
            float(avg(Phase::IdleKeepalive), 4),
            float(avg(Phase::IdleReserved), 4),
            GbsColumns(u.mb_us),
            cost,
            self.clock.map(|c| c.format(b.start)).unwrap_or_default(),
        );
        self.keep("timeseries.csv", r);
    }

    fn instance(&mut self, r: &InstanceRow<'_>) {
        if self.error.is_some() {
            return;
        }
        if let (Some(t), Some(p), Some(a), Some(b)) = (&mut self.trend, self.pricing, r.pull_start, r.pull_end) {
            let mb = p.image_mb.get(r.function_index).copied().unwrap_or(0.0);
            t.pull(mb, (b - a) as f64 / 1e6);
        }
        let t = &r.times;
        let mb = r.spec.memory_mb as u128;
        let cost = self
            .pricing
            .map(|p| {
                float(billing::instance_cost(p.sheet, &r.spec, r.reserved, r.end_reason == "not_started", &r.times), 8)
            })
            .unwrap_or_default();
        let total_us: u128 = t.iter().map(|&x| x as u128).sum();
        let res = writeln!(
            self.instances,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            self.replication,
            r.id,
            csv_field(r.function),
            r.host,
            r.reserved,
            secs(r.created),
            opt_secs(r.pull_start),
            opt_secs(r.pull_end),
            opt_secs(r.ready),
            opt_secs(r.ended),
            r.end_reason,
            r.served,
            secs(t[0]),
            secs(t[1]),
            secs(t[2]),
            secs(t[3]),
            secs(t[4]),
            secs(t[5]),
            GbsColumns(t.map(|x| mb * x as u128)),
            VcpuSeconds(r.spec.milli_vcpu as u128 * total_us),
            cost,
        );
        self.keep("instances.csv", res);
    }

    fn request(&mut self, r: &RequestRow<'_>) {
        if self.error.is_some() {
            return;
        }
        let Some(w) = &mut self.requests else { return };
        // written field by field into one reused line, as `format!` of each would give
        let l = &mut self.line;
        l.clear();
        l.extend_from_slice(itoa::Buffer::new().format(self.replication).as_bytes());
        l.push(b',');
        push_csv_field(l, r.function);
        l.push(b',');
        push_secs(l, r.arrival);
        l.push(b',');
        if let Some(s) = r.start {
            push_secs(l, s);
        }
        l.push(b',');
        if let Some(e) = r.end {
            push_secs(l, e);
        }
        l.push(b',');
        if let Some(s) = r.start {
            push_millis(l, s - r.arrival);
        }
        l.push(b',');
        if let Some(e) = r.end {
            push_millis(l, e - r.arrival);
        }
        l.push(b',');
        l.extend_from_slice(if r.cold { b"true," } else { b"false," });
        if let Some(i) = r.instance {
            l.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
        }
        l.push(b',');
        l.extend_from_slice(r.outcome.name().as_bytes());
        l.push(b'\n');
        let res = w.write_all(l);
        self.keep("requests.csv", res);
    }

    fn wants_requests(&self) -> bool {
        self.requests.is_some()
    }
}
