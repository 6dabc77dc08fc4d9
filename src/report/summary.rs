//! `summary.csv`: one row per function and replication, plus `function = ALL`, then the
//! mean and the 95% confidence interval (Student t) across replications. A pure function
//! of the run results.

use super::fmt::{csv_field, float};
use crate::billing::{Bill, FnCost};
use crate::platform::{FnStats, RunResult};
use crate::usage::{Phase, Usage};

/// A summary column: its name and the decimals a single replication's value gets
/// (0 = a count).
pub struct Column {
    pub name: &'static str,
    pub decimals: usize,
}

const fn col(name: &'static str, decimals: usize) -> Column {
    Column { name, decimals }
}

pub const COLUMNS: &[Column] = &[
    col("requests", 0),
    col("completed", 0),
    col("cold_starts", 0),
    col("cold_start_ratio", 6),
    col("throttled", 0),
    col("failed", 0),
    col("queue_timeouts", 0),
    col("queued", 0),
    col("in_flight", 0),
    col("latency_mean_ms", 3),
    col("wait_mean_ms", 3),
    col("latency_p50_ms", 3),
    col("latency_p99_ms", 3),
    col("latency_p999_ms", 3),
    col("warm_latency_p50_ms", 3),
    col("warm_latency_p99_ms", 3),
    col("cold_latency_p50_ms", 3),
    col("cold_latency_p99_ms", 3),
    col("instances_created", 0),
    col("instances_not_started", 0),
    col("instances_mean", 4),
    col("pulls", 0),
    col("cache_hits", 0),
    col("pull_seconds", 6),
    col("gbs_pull", 6),
    col("gbs_create", 6),
    col("gbs_startup", 6),
    col("gbs_start", 6),
    col("gbs_busy", 6),
    col("gbs_idle_keepalive", 6),
    col("gbs_idle_reserved", 6),
    col("gbs_idle", 6),
    col("gbs_total", 6),
    col("vcpu_seconds", 6),
    col("vcpu_seconds_idle", 6),
    col("cu", 4),
    col("cost_pull", 8),
    col("cost_create", 8),
    col("cost_startup", 8),
    col("cost_busy", 8),
    col("cost_idle_keepalive", 8),
    col("cost_idle_reserved", 8),
    col("cost_requests", 8),
    col("cost_minimum", 8),
    col("cost", 8),
];

fn q_ms(h: &crate::platform::latency::Latency, q: f64) -> f64 {
    if h.is_empty() {
        f64::NAN
    } else {
        h.value_at_quantile(q) as f64 / 1000.0
    }
}

fn ratio(a: u128, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// The values of [`COLUMNS`] for one function (or ALL) of one replication.
pub fn values(st: &FnStats, cost: &FnCost, horizon_us: u64) -> Vec<f64> {
    let u: &Usage = &st.usage;
    let g = |p: Phase| u.gbs(p);
    let idle_vcpu = u.vcpu_s(Phase::IdleKeepalive) + u.vcpu_s(Phase::IdleReserved);
    vec![
        st.requests as f64,
        st.completed as f64,
        st.cold_starts as f64,
        ratio(st.cold_starts as u128, st.requests),
        st.throttled as f64,
        st.failed as f64,
        st.queue_timeouts as f64,
        st.queued as f64,
        st.in_flight as f64,
        ratio(st.latency_sum_us, st.completed) / 1000.0,
        ratio(st.wait_sum_us, st.started) / 1000.0,
        q_ms(&st.latency, 0.5),
        q_ms(&st.latency, 0.99),
        q_ms(&st.latency, 0.999),
        q_ms(&st.warm_latency, 0.5),
        q_ms(&st.warm_latency, 0.99),
        q_ms(&st.cold_latency, 0.5),
        q_ms(&st.cold_latency, 0.99),
        st.instances_created as f64,
        st.not_started as f64,
        st.live_area as f64 / horizon_us as f64,
        st.pulls as f64,
        st.cache_hits as f64,
        st.pull_us as f64 / 1e6,
        g(Phase::Pull),
        g(Phase::Create),
        g(Phase::Startup),
        g(Phase::Create) + g(Phase::Startup),
        g(Phase::Busy),
        g(Phase::IdleKeepalive),
        g(Phase::IdleReserved),
        g(Phase::IdleKeepalive) + g(Phase::IdleReserved),
        u.gbs_total(),
        u.vcpu_s_total(),
        idle_vcpu,
        cost.cu,
        cost.by_phase[0],
        cost.by_phase[1],
        cost.by_phase[2],
        cost.by_phase[3],
        cost.by_phase[4],
        cost.by_phase[5],
        cost.by_phase[6],
        cost.minimum,
        cost.total,
    ]
}

/// Two-sided 95% Student t quantile for `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        31..=60 => 2.042 - (df - 30) as f64 * (2.042 - 2.000) / 30.0,
        61..=120 => 2.000 - (df - 60) as f64 * (2.000 - 1.980) / 60.0,
        _ => 1.960,
    }
}

/// Mean and 95% half-width of the finite values (NaN where there are none / too few).
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, t95(v.len() - 1) * (var / n).sqrt())
}

/// Per-function stats and costs of a run plus the ALL row.
pub fn with_all(r: &RunResult, bill: &Bill) -> Vec<(String, FnStats, FnCost)> {
    let mut rows: Vec<(String, FnStats, FnCost)> =
        r.functions.iter().zip(&bill.functions).map(|((n, s), c)| (n.clone(), s.clone(), c.clone())).collect();
    let mut all = FnStats::default();
    let mut all_cost = FnCost::default();
    for (_, s, c) in &rows {
        all.merge(s);
        for k in 0..c.by_phase.len() {
            all_cost.by_phase[k] += c.by_phase[k];
        }
        all_cost.minimum += c.minimum;
        all_cost.cu += c.cu;
        all_cost.total += c.total;
    }
    rows.push(("ALL".to_string(), all, all_cost));
    rows
}

/// The whole `summary.csv`.
pub fn render(scenario: &str, runs: &[RunResult], bills: &[Bill]) -> String {
    let currency = bills.first().map_or("", |b| b.currency.as_str());
    let mut out = String::from("scenario,replication,function");
    for c in COLUMNS {
        out.push(',');
        out.push_str(c.name);
    }
    out.push_str(",currency\n");
    // values[function][replication]
    let mut names: Vec<String> = Vec::new();
    let mut table: Vec<Vec<Vec<f64>>> = Vec::new();
    for (r, bill) in runs.iter().zip(bills) {
        let rows = with_all(r, bill);
        if names.is_empty() {
            names = rows.iter().map(|(n, _, _)| n.clone()).collect();
            table = vec![Vec::new(); names.len()];
        }
        for (k, (name, st, cost)) in rows.iter().enumerate() {
            let vals = values(st, cost, r.horizon);
            line(&mut out, scenario, &(r.replication + 1).to_string(), name, &vals, None, currency);
            table[k].push(vals);
        }
    }
    let stats: Vec<Vec<(f64, f64)>> = table
        .iter()
        .map(|reps| (0..COLUMNS.len()).map(|c| mean_ci(&reps.iter().map(|v| v[c]).collect::<Vec<_>>())).collect())
        .collect();
    for (label, pick) in [("mean", 0), ("ci95_lo", -1), ("ci95_hi", 1)] {
        for (k, name) in names.iter().enumerate() {
            let vals: Vec<f64> = stats[k]
                .iter()
                .map(|&(m, h)| match pick {
                    0 => m,
                    -1 => m - h,
                    _ => m + h,
                })
                .collect();
            line(&mut out, scenario, label, name, &vals, Some(6), currency);
        }
    }
    out
}

fn line(
    out: &mut String,
    scenario: &str,
    rep: &str,
    function: &str,
    vals: &[f64],
    decimals: Option<usize>,
    currency: &str,
) {
    out.push_str(&csv_field(scenario));
    out.push(',');
    out.push_str(rep);
    out.push(',');
    out.push_str(&csv_field(function));
    for (c, v) in COLUMNS.iter().zip(vals) {
        out.push(',');
        out.push_str(&float(*v, decimals.unwrap_or(c.decimals).max(c.decimals)));
    }
    out.push(',');
    out.push_str(currency);
    out.push('\n');
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
    fn mean_and_interval_follow_student_t() {
        let (m, h) = mean_ci(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        // s = 1, n = 3: 4.303 / sqrt(3)
        assert!((h - 4.303 / 3f64.sqrt()).abs() < 1e-12);
        let (m, h) = mean_ci(&[5.0]);
        assert_eq!(m, 5.0);
        assert!(h.is_nan());
        assert!(mean_ci(&[f64::NAN]).0.is_nan());
    }

    #[test]
    fn every_column_has_a_value() {
        assert_eq!(values(&FnStats::default(), &FnCost::default(), 1).len(), COLUMNS.len());
    }
}
