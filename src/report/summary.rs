//! Typed results of a run: a [`Summary`] holds, per function and for `ALL`, each
//! replication's value of every [`Metric`]. One column table ([`COLUMNS`]: name, decimals,
//! accessor) drives `summary.csv`, the run headline, the sweep's metrics and the charts, so a
//! header and its values cannot drift apart. `summary.csv` has one row per function and
//! replication, plus `function = ALL` marked `is_total`; `summary_stats.csv` has the mean and
//! the 95% confidence interval (Student t) across replications, one row per metric. Pure functions of the run results.

use super::fmt::{csv_field, float};
use crate::billing::{Bill, FnCost};
use crate::platform::{FnStats, RunResult};
use crate::stats::mean_ci;
use crate::usage::{Phase, Usage};

/// What a column reads its value from: one function's (or ALL's) counters and costs in one
/// replication.
pub struct Sample<'a> {
    pub stats: &'a FnStats,
    pub cost: &'a FnCost,
    /// What a 30-day month of this usage costs, billed as a month (NaN if not billed).
    pub month: f64,
    /// The stretch the statistics cover (horizon − warmup).
    pub horizon_us: u64,
    /// Latency p50, p99, p999, warm p50, p99, cold p50, p99, then latency p90, p95, in ms
    /// (NaN when empty), read once per histogram: each read sorts the histogram's bins.
    pub quantiles: [f64; 9],
    /// `stats.usage()`, summed from its two kinds once for all the columns that read it.
    pub usage: Usage,
}

/// A summary column: the metric it holds, its name in the files, the decimals a single
/// replication's value gets (0 = a count) and how it is read from a [`Sample`].
pub struct Column {
    pub metric: Metric,
    pub name: &'static str,
    pub decimals: usize,
    pub get: fn(&Sample<'_>) -> f64,
}

/// The enum of metrics and the column table, declared together so their orders agree.
macro_rules! columns {
    ($($metric:ident $name:literal $decimals:literal $get:expr;)*) => {
        /// A summary metric; `Metric as usize` is its column's index in [`COLUMNS`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Metric { $($metric),* }

        /// Every column of `summary.csv`, in file order.
        pub const COLUMNS: &[Column] =
            &[$(Column { metric: Metric::$metric, name: $name, decimals: $decimals, get: $get }),*];
    };
}

columns! {
    Requests "requests" 0 |s| s.stats.requests as f64;
    Completed "completed" 0 |s| s.stats.completed as f64;
    ColdStarts "cold_starts" 0 |s| s.stats.cold_starts as f64;
    ColdStartRatio "cold_start_ratio" 6 |s| ratio(s.stats.cold_starts as u128, s.stats.requests);
    Throttled "throttled" 0 |s| s.stats.throttled as f64;
    Failed "failed" 0 |s| s.stats.failed as f64;
    QueueTimeouts "queue_timeouts" 0 |s| s.stats.queue_timeouts as f64;
    Queued "queued" 0 |s| s.stats.queued as f64;
    InFlight "in_flight" 0 |s| s.stats.in_flight as f64;
    LatencyMeanMs "latency_mean_ms" 3 |s| ratio(s.stats.latency_sum_us, s.stats.completed) / 1000.0;
    WaitMeanMs "wait_mean_ms" 3 |s| ratio(s.stats.wait_sum_us, s.stats.started) / 1000.0;
    LatencyP50Ms "latency_p50_ms" 3 |s| s.quantiles[0];
    LatencyP90Ms "latency_p90_ms" 3 |s| s.quantiles[7];
    LatencyP95Ms "latency_p95_ms" 3 |s| s.quantiles[8];
    LatencyP99Ms "latency_p99_ms" 3 |s| s.quantiles[1];
    LatencyP999Ms "latency_p999_ms" 3 |s| s.quantiles[2];
    WarmLatencyP50Ms "warm_latency_p50_ms" 3 |s| s.quantiles[3];
    WarmLatencyP99Ms "warm_latency_p99_ms" 3 |s| s.quantiles[4];
    ColdLatencyP50Ms "cold_latency_p50_ms" 3 |s| s.quantiles[5];
    ColdLatencyP99Ms "cold_latency_p99_ms" 3 |s| s.quantiles[6];
    InstancesCreated "instances_created" 0 |s| s.stats.instances_created as f64;
    InstancesNotStarted "instances_not_started" 0 |s| s.stats.not_started as f64;
    InstancesMean "instances_mean" 4 |s| s.stats.live_area as f64 / s.horizon_us as f64;
    ReservedShortfallSeconds "reserved_shortfall_seconds" 6 |s| s.stats.reserved_shortfall_us as f64 / 1e6;
    Pulls "pulls" 0 |s| s.stats.pulls as f64;
    CacheHits "cache_hits" 0 |s| s.stats.cache_hits as f64;
    PullSeconds "pull_seconds" 6 |s| s.stats.pull_us as f64 / 1e6;
    InstanceSecondsPull "instance_seconds_pull" 6 |s| inst_s(s, Phase::Pull);
    InstanceSecondsCreate "instance_seconds_create" 6 |s| inst_s(s, Phase::Create);
    InstanceSecondsStartup "instance_seconds_startup" 6 |s| inst_s(s, Phase::Startup);
    GbsPull "gbs_pull" 6 |s| gbs(s, Phase::Pull);
    GbsCreate "gbs_create" 6 |s| gbs(s, Phase::Create);
    GbsStartup "gbs_startup" 6 |s| gbs(s, Phase::Startup);
    GbsStart "gbs_start" 6 |s| gbs(s, Phase::Create) + gbs(s, Phase::Startup);
    GbsBusy "gbs_busy" 6 |s| gbs(s, Phase::Busy);
    GbsIdleKeepalive "gbs_idle_keepalive" 6 |s| gbs(s, Phase::IdleKeepalive);
    GbsIdleReserved "gbs_idle_reserved" 6 |s| gbs(s, Phase::IdleReserved);
    GbsIdle "gbs_idle" 6 |s| gbs(s, Phase::IdleKeepalive) + gbs(s, Phase::IdleReserved);
    GbsTotal "gbs_total" 6 |s| usage(s).gbs_total();
    VcpuSeconds "vcpu_seconds" 6 |s| usage(s).vcpu_s_total();
    VcpuSecondsIdle "vcpu_seconds_idle" 6
        |s| usage(s).vcpu_s(Phase::IdleKeepalive) + usage(s).vcpu_s(Phase::IdleReserved);
    Cu "cu" 4 |s| s.cost.cu;
    CostPull "cost_pull" 8 |s| s.cost.by_phase[0];
    CostCreate "cost_create" 8 |s| s.cost.by_phase[1];
    CostStartup "cost_startup" 8 |s| s.cost.by_phase[2];
    CostBusy "cost_busy" 8 |s| s.cost.by_phase[3];
    CostIdleKeepalive "cost_idle_keepalive" 8 |s| s.cost.by_phase[4];
    CostIdleReserved "cost_idle_reserved" 8 |s| s.cost.by_phase[5];
    CostRequests "cost_requests" 8 |s| s.cost.by_phase[6];
    CostMinimum "cost_minimum" 8 |s| s.cost.minimum;
    Cost "cost" 8 |s| s.cost.total;
    CostPerMonth "cost_per_month" 8 |s| s.month;
}

/// Number of columns (and metrics).
pub const COUNT: usize = COLUMNS.len();

impl Metric {
    pub fn column(self) -> &'static Column {
        &COLUMNS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.column().name
    }

    /// A money column (its values are in the bill's currency).
    pub fn is_money(self) -> bool {
        self.name().starts_with("cost")
    }
}

fn usage<'s>(s: &'s Sample<'_>) -> &'s Usage {
    &s.usage
}

/// Instance-seconds spent in `p` (summed over instances: a phase's time per start is this over
/// the instances created).
fn inst_s(s: &Sample<'_>, p: Phase) -> f64 {
    s.usage.inst_us[p.index()] as f64 / 1e6
}

fn gbs(s: &Sample<'_>, p: Phase) -> f64 {
    s.usage.gbs(p)
}

/// The values at `qs` in ms (NaN when empty).
fn q_ms<const N: usize>(h: &crate::latency::Latency, qs: [f64; N]) -> [f64; N] {
    if h.is_empty() {
        [f64::NAN; N]
    } else {
        let v = h.values_at_quantiles(&qs);
        std::array::from_fn(|i| v[i] as f64 / 1000.0)
    }
}

fn ratio(a: u128, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// One replication's value of every column.
pub type Values = [f64; COUNT];

/// The values of every column for one function (or ALL) of one replication.
pub fn values(st: &FnStats, cost: &FnCost, month: f64, horizon_us: u64) -> Values {
    let [a, b, c, p90, p95] = q_ms(&st.latency, [0.5, 0.99, 0.999, 0.90, 0.95]);
    let [d, e] = q_ms(&st.warm_latency, [0.5, 0.99]);
    let [f, g] = q_ms(&st.cold_latency, [0.5, 0.99]);
    let s =
        Sample { stats: st, cost, month, horizon_us, quantiles: [a, b, c, d, e, f, g, p90, p95], usage: st.usage() };
    std::array::from_fn(|c| (COLUMNS[c].get)(&s))
}

/// The ALL row of a run: every function's counters and costs merged (read in place, not
/// copied: a fleet has thousands).
pub fn all_of(r: &RunResult, bill: &Bill) -> (FnStats, FnCost) {
    let mut all = FnStats::default();
    let mut all_cost = FnCost::default();
    for ((_, s), c) in r.functions.iter().zip(&bill.functions) {
        all.merge(s);
        for k in 0..c.by_phase.len() {
            all_cost.by_phase[k] += c.by_phase[k];
        }
        all_cost.minimum += c.minimum;
        all_cost.cu += c.cu;
        all_cost.total += c.total;
    }
    (all, all_cost)
}

/// One function's (or ALL's) values, replication by replication.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    /// In replication order (as [`Summary::replications`]).
    pub replications: Vec<Values>,
}

impl Row {
    /// Every replication's value of `m`.
    pub fn series(&self, m: Metric) -> Vec<f64> {
        self.replications.iter().map(|v| v[m as usize]).collect()
    }

    /// Mean and 95% half-width of `m` over the replications (see [`mean_ci`]).
    pub fn mean_ci(&self, m: Metric) -> (f64, f64) {
        mean_ci(&self.series(m))
    }

    /// Mean of `m` over the replications (NaN when no replication has a value).
    pub fn mean(&self, m: Metric) -> f64 {
        self.mean_ci(m).0
    }
}

/// The typed results of a run: each function in scenario order, then `ALL`.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub rows: Vec<Row>,
    /// 1-based replication numbers, in order.
    pub replications: Vec<u32>,
    pub currency: String,
}

impl Summary {
    /// The summary of `runs`, billed by `bills` (same order).
    pub fn of(runs: &[RunResult], bills: &[Bill]) -> Summary {
        Summary::build(runs, bills, false)
    }

    /// Only the `ALL` row (what a sweep point keeps), without the per-function rows.
    pub fn all_only(runs: &[RunResult], bills: &[Bill]) -> Summary {
        Summary::build(runs, bills, true)
    }

    fn build(runs: &[RunResult], bills: &[Bill], all_only: bool) -> Summary {
        let currency = bills.first().map_or("", |b| b.currency.as_str()).to_string();
        let mut rows: Vec<Row> = Vec::new();
        for (r, bill) in runs.iter().zip(bills) {
            let (all, all_cost) = all_of(r, bill);
            let all_row = ("ALL", &all, &all_cost);
            let fns: Vec<(&str, &FnStats, &FnCost)> = if all_only {
                vec![all_row]
            } else {
                let each = r.functions.iter().zip(&bill.functions).map(|((n, s), c)| (n.as_str(), s, c));
                each.chain([all_row]).collect()
            };
            if rows.is_empty() {
                // sized once: a 416-byte row grown from empty reserves room for four
                let row = |n: &str| Row { name: n.to_string(), replications: Vec::with_capacity(runs.len()) };
                rows = fns.iter().map(|(n, _, _)| row(n)).collect();
            }
            // the month's bill per function, then its total for ALL
            let month: Vec<f64> = match &bill.month {
                Some(m) => m.functions.iter().map(|c| c.total).chain([m.total]).collect(),
                None => vec![f64::NAN; bill.functions.len() + 1],
            };
            let month = &month[month.len() - fns.len()..];
            for (k, (_, st, cost)) in fns.iter().enumerate() {
                rows[k].replications.push(values(st, cost, month[k], r.horizon - r.warmup));
            }
        }
        Summary { rows, replications: runs.iter().map(|r| r.replication + 1).collect(), currency }
    }

    /// The `ALL` row.
    pub fn all(&self) -> &Row {
        self.rows.last().expect("a summary has its ALL row")
    }

    /// The whole `summary.csv`: one row per replication and function, then per replication
    /// the `ALL` row (`is_total = true`: the sum of the function rows above it, so a naive sum
    /// over rows must filter it out), `meets_goals` judged on that row's values (empty without
    /// goals). Every value column is numeric; the statistics are in [`Summary::write_stats_csv`].
    pub fn to_csv(&self, scenario: &str, goals: &[crate::scenario::goals::Goal]) -> String {
        let currency = self.currency.as_str();
        let mut out = String::from("scenario,replication,function");
        for c in COLUMNS {
            out.push(',');
            out.push_str(c.name);
        }
        out.push_str(",currency,is_total,meets_goals\n");
        let last = self.rows.len().saturating_sub(1);
        for (i, rep) in self.replications.iter().enumerate() {
            for (k, row) in self.rows.iter().enumerate() {
                let vals = &row.replications[i];
                out.push_str(&csv_field(scenario));
                out.push(',');
                out.push_str(&rep.to_string());
                out.push(',');
                out.push_str(&csv_field(&row.name));
                for (c, v) in COLUMNS.iter().zip(vals) {
                    out.push(',');
                    out.push_str(&float(*v, c.decimals));
                }
                let meets =
                    if goals.is_empty() { String::new() } else { super::goals::all_met(goals, vals).to_string() };
                out.push_str(&format!(",{currency},{},{meets}\n", k == last));
            }
        }
        out
    }

    /// `summary_stats.csv`: for each function (and `ALL`) and each metric, the number of
    /// replications with a value, the mean and the 95% interval (Student t); the interval is
    /// empty with one replication. One row per (function, metric), every value numeric.
    /// Written row by row: for a 10,000-function fleet it is 40 MB of text.
    pub fn write_stats_csv(&self, scenario: &str, w: &mut impl std::io::Write) -> std::io::Result<()> {
        w.write_all(b"scenario,function,is_total,metric,replications,mean,ci95_lo,ci95_hi,currency\n")?;
        let last = self.rows.len().saturating_sub(1);
        let scenario = csv_field(scenario);
        for (k, row) in self.rows.iter().enumerate() {
            let name = csv_field(&row.name);
            for c in COLUMNS {
                let n = row.series(c.metric).iter().filter(|x| x.is_finite()).count();
                let (m, h) = row.mean_ci(c.metric);
                let d = c.decimals.max(6);
                writeln!(
                    w,
                    "{scenario},{name},{},{},{n},{},{},{},{}",
                    k == last,
                    c.name,
                    float(m, d),
                    float(m - h, d),
                    float(m + h, d),
                    if c.metric.is_money() { self.currency.as_str() } else { "" }
                )?;
            }
        }
        Ok(())
    }
}

/// `bill.csv`: each replication's bill, line by line, then its total.
pub fn render_bills(bills: &[Bill]) -> String {
    let mut out = String::from("replication,item,quantity,unit,rate,rate_unit,cu,amount,currency\n");
    for (r, b) in bills.iter().enumerate() {
        for l in &b.lines {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                r + 1,
                csv_field(&l.item),
                float(l.quantity, 6),
                csv_field(&l.unit),
                l.rate,
                csv_field(&l.rate_unit),
                l.cu.map(|c| float(c, 6)).unwrap_or_default(),
                float(l.amount, 8),
                b.currency
            ));
        }
        out.push_str(&format!(
            "{},total,,,,,{},{},{}\n",
            r + 1,
            b.cu.map(|c| float(c, 6)).unwrap_or_default(),
            float(b.total, 8),
            b.currency
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_a_value() {
        assert_eq!(values(&FnStats::default(), &FnCost::default(), 0.0, 1).len(), COLUMNS.len());
    }

    #[test]
    fn each_metric_indexes_its_own_column_and_names_are_distinct() {
        for (i, c) in COLUMNS.iter().enumerate() {
            assert_eq!(c.metric as usize, i, "{}", c.name);
            assert_eq!(c.metric.name(), c.name);
            assert_eq!(COLUMNS.iter().filter(|d| d.name == c.name).count(), 1, "{}", c.name);
        }
        assert!(Metric::CostMinimum.is_money() && !Metric::GbsTotal.is_money());
    }
}
