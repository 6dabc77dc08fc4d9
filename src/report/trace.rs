//! The printed report of `coldcost trace stats`: what a trace holds, before a scenario replays
//! it — functions, invocations, the rate over time, rare functions, skew, durations and memory.

use crate::stats::{quantile_sorted as quantile, weighted_quantile};
use crate::units::format_duration;
use crate::workload::timestamp::{self, Kind};
use crate::workload::trace_stats::{Durations, TraceStats};

/// The report of one trace, as printed.
pub fn render(st: &TraceStats, top: usize) -> String {
    let mut s = format!("{} ({})\n", st.file, st.format.name());
    let row = |s: &mut String, k: &str, v: String| s.push_str(&format!("  {k:<22} {v}\n"));
    let n = st.functions.len();
    let total = st.invocations();
    let secs = st.span as f64 / 1e6;
    row(&mut s, "functions", n.to_string());
    row(
        &mut s,
        "invocations",
        format!("{total} over {} ({} minutes)", format_duration(st.span.max(0) as u64), st.per_minute.len()),
    );
    if !st.per_minute.is_empty() {
        let pm: Vec<f64> = st.per_minute.iter().map(|&c| c as f64).collect();
        let mean = pm.iter().sum::<f64>() / pm.len() as f64;
        let sd = (pm.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / pm.len() as f64).sqrt();
        let (min, max) = (pm.iter().copied().fold(f64::INFINITY, f64::min), pm.iter().copied().fold(0.0, f64::max));
        row(
            &mut s,
            "rate",
            format!(
                "{:.2}/s on average; per minute min {min:.0}, mean {mean:.1}, max {max:.0}, CV {:.2}",
                total as f64 / secs.max(1e-9),
                if mean > 0.0 { sd / mean } else { 0.0 }
            ),
        );
        s.push_str(&rate_table(st));
    }
    if n > 0 {
        let rare = st.below_one_per_hour();
        row(
            &mut s,
            "below 1 call per hour",
            format!("{:.1}% of functions ({rare} of {n})", 100.0 * rare as f64 / n as f64),
        );
        let (k1, s1) = st.top_share(0.01);
        let (k10, s10) = st.top_share(0.10);
        row(
            &mut s,
            "skew",
            format!(
                "the top 1% of functions ({k1}) make {:.1}% of invocations, the top 10% ({k10}) {:.1}%",
                100.0 * s1,
                100.0 * s10
            ),
        );
        let mut per: Vec<f64> = st.functions.iter().map(|f| f.1 as f64).collect();
        per.sort_by(f64::total_cmp);
        row(&mut s, "invocations/function", quantiles(&per, 1.0, 0));
        let mut busiest: Vec<&(String, u64)> = st.functions.iter().collect();
        busiest.sort_by_key(|b| std::cmp::Reverse(b.1));
        for (k, (id, c)) in busiest.iter().take(top).enumerate() {
            row(&mut s, if k == 0 { "busiest functions" } else { "" }, format!("{c:>10}  {id}"));
        }
    }
    match &st.durations {
        Durations::None => row(&mut s, "durations", "not in this trace".into()),
        Durations::PerInvocation(h) => {
            let q = |p: f64| h.value_at_quantile(p) as f64 / 1e3;
            row(
                &mut s,
                "duration (ms)",
                format!(
                    "per invocation: p25 {}, p50 {}, p75 {}, p90 {}, p99 {}, max {}",
                    num(q(0.25)),
                    num(q(0.5)),
                    num(q(0.75)),
                    num(q(0.9)),
                    num(q(0.99)),
                    num(q(1.0))
                ),
            );
        }
        Durations::PerFunction(d) => {
            let mut means: Vec<f64> = d.iter().map(|x| x.0).collect();
            means.sort_by(f64::total_cmp);
            let mut medians: Vec<f64> = d.iter().map(|x| x.1).collect();
            medians.sort_by(f64::total_cmp);
            row(&mut s, "duration (ms)", format!("per function, mean: {}", quantiles(&means, 1e-3, 1)));
            row(&mut s, "", format!("per function, median: {}", quantiles(&medians, 1e-3, 1)));
            let w: Vec<(f64, u64)> = d.iter().map(|x| (x.0, x.2)).collect();
            row(
                &mut s,
                "",
                format!(
                    "function means weighted by invocations: p50 {}, p90 {}, p99 {}",
                    num(weighted_quantile(&w, 0.5) / 1e3),
                    num(weighted_quantile(&w, 0.9) / 1e3),
                    num(weighted_quantile(&w, 0.99) / 1e3)
                ),
            );
        }
    }
    if st.memory_mb.is_empty() {
        row(&mut s, "memory (MB)", "not in this trace".into());
    } else {
        let mut m = st.memory_mb.clone();
        m.sort_by(f64::total_cmp);
        row(&mut s, "memory (MB)", format!("per function ({} with a value): {}", m.len(), quantiles(&m, 1.0, 1)));
    }
    let bad = match (st.bad.count, &st.bad.first) {
        (0, _) => "none".to_string(),
        (c, first) => format!("{c} skipped (first: {})", first.as_deref().unwrap_or("?")),
    };
    row(&mut s, "bad rows", bad);
    s
}

/// `p25 a, p50 b, p75 c, p90 d, p99 e, max f` of sorted `v` scaled by `scale`.
fn quantiles(v: &[f64], scale: f64, decimals: usize) -> String {
    let q = |p: f64| format!("{:.*}", decimals, quantile(v, p) * scale);
    format!("p25 {}, p50 {}, p75 {}, p90 {}, p99 {}, max {}", q(0.25), q(0.5), q(0.75), q(0.9), q(0.99), q(1.0))
}

/// A number with up to 3 significant decimals, no trailing zeros.
fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Invocations by period: at most 24 rows of a round period (1 min .. 1 week).
fn rate_table(st: &TraceStats) -> String {
    const PERIODS: [u64; 12] = [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 10080];
    let minutes = st.per_minute.len() as u64;
    let per = PERIODS.iter().copied().find(|p| minutes.div_ceil(*p) <= 24).unwrap_or(10080);
    let mut s = format!("  {:<22} {:>10} {:>12} {:>10}\n", "from (trace clock)", "length", "invocations", "per second");
    for (k, chunk) in st.per_minute.chunks(per as usize).enumerate() {
        let start = st.start + (k as u64 * per) as i64 * 60_000_000;
        let count: u64 = chunk.iter().sum();
        let len = chunk.len() as u64 * 60;
        let at = match st.time_kind {
            Kind::Rfc3339 => timestamp::format_rfc3339(start),
            Kind::Seconds => timestamp::format_clock(start),
        };
        s.push_str(&format!(
            "  {at:<22} {:>10} {count:>12} {:>10.3}\n",
            format_duration(len * 1_000_000),
            count as f64 / len as f64
        ));
    }
    s
}
