//! `report.md`: one page for a capacity-planning review — the scenario's key facts, the
//! headline numbers (means over replications, the same values as `summary.csv`'s `mean`
//! rows), the charts, and the assumptions in force (price sheet, its date, its switches).

use std::fmt::Write as _;

use super::figures::Chart;
use super::summary::{Metric, Summary};
use crate::billing::model::{PhaseBilling, Sheet};
use crate::scenario::{Distribution, Reserved, Scenario};
use crate::units::{format_duration as fd, format_size as fs};
use crate::usage::Phase;

use crate::billing::MONTH_DAYS;

/// A count's mean as a whole number (a mean over replications may have a fraction; the
/// review reads counts).
fn int(v: f64) -> String {
    num(v.round(), 0)
}

/// The traffic in a line per workload: its kind and mean rate.
fn traffic(sc: &Scenario) -> Vec<String> {
    use crate::scenario::{Arrivals, ProfileSource};
    sc.workloads
        .iter()
        .map(|w| {
            let f = &sc.functions[w.function].name;
            let mean = crate::workload::synthetic::ArrivalGen::mean_rate(&w.arrivals);
            let kind = match &w.arrivals {
                Arrivals::Poisson { .. } => "Poisson arrivals".to_string(),
                Arrivals::Diurnal { peak_ratio, period, .. } => {
                    let trough = 2.0 * mean / (1.0 + peak_ratio);
                    let peak = if peak_ratio.is_finite() { trough * peak_ratio } else { 2.0 * mean };
                    format!("a daily curve (period {}) from {:.1}/s to {:.1}/s", fd(*period), trough, peak)
                }
                Arrivals::Profile(p) => match &p.source {
                    ProfileSource::Hourly => "an hourly profile of a day".to_string(),
                    ProfileSource::Weekly => "an hourly profile of a week".to_string(),
                    ProfileSource::Counts(file) => format!("the per-{} counts of `{file}`", fd(p.step)),
                },
                Arrivals::Bursty { .. } => "bursts (on/off)".to_string(),
                Arrivals::Constant { .. } => "a constant interval".to_string(),
                Arrivals::Trace(t) => return format!("- `{f}` and the trace's functions: {}", t.describe()),
            };
            format!("- `{f}`: {kind}, {:.2} requests/s on average", mean)
        })
        .collect()
}

fn num(v: f64, d: usize) -> String {
    if v.is_finite() {
        format!("{v:.d$}")
    } else {
        "–".into()
    }
}

pub fn report(sc: &Scenario, sheet: &Sheet, summary: &Summary, charts: &[Chart]) -> String {
    let all = summary.all();
    let v = |m: Metric| all.mean(m);
    // ± the 95% half-width where replications give one
    let pm = |m: Metric, d: usize| {
        let (_, h) = all.mean_ci(m);
        if h.is_finite() {
            format!(" ± {}", num(h, d))
        } else {
            String::new()
        }
    };
    let cur = &sheet.currency;
    let month = v(Metric::CostPerMonth);
    let per_million = v(Metric::Cost) / v(Metric::Requests) * 1e6;
    let pull_share = v(Metric::CostPull) / v(Metric::Cost);
    let mut s = String::new();
    let _ = writeln!(s, "# {} — capacity-planning summary\n", sc.simulation.name);
    let _ = writeln!(
        s,
        "{} replication(s) of {} (seed {}), priced with `{}` ({}). Numbers are means over the \
         replications of all functions together; `summary.csv` has each function and each replication, `summary_stats.csv` \
         the means and 95% intervals, `bill.csv` every bill line.\n",
        sc.simulation.replications,
        fd(sc.simulation.horizon),
        sc.simulation.seed,
        sheet.name,
        sheet.title
    );

    s.push_str("Traffic:\n\n");
    for line in traffic(sc) {
        let _ = writeln!(s, "{line}");
    }
    s.push('\n');
    let verdicts = super::goals::judge(&sc.goals, all);
    if !verdicts.is_empty() {
        s.push_str("## Goals\n\n");
        for vd in &verdicts {
            let _ = writeln!(s, "- {} {}", if vd.met { "✅" } else { "❌" }, vd.line());
        }
        let missed = verdicts.iter().filter(|vd| !vd.met).count();
        let _ = writeln!(
            s,
            "\n{}\n",
            if missed == 0 {
                "Every goal is met.".to_string()
            } else {
                format!("{missed} of {} goals missed.", verdicts.len())
            }
        );
        let first = sc.functions.first().map(|f| f.name.as_str()).unwrap_or("api");
        let cpu_shared = sc.functions.iter().any(|f| f.cpu.fraction > 0.0);
        if let Some(advice) = super::goals::next_step(&verdicts, all, first, cpu_shared) {
            let _ = writeln!(s, "**Next step:** {advice}\n");
        }
    }
    let intervals = if summary.replications.len() > 1 { " (± the 95% interval over the replications)" } else { "" };
    let _ = writeln!(s, "## Headline{intervals}\n\n| | |\n|---|---|");
    let _ = writeln!(s, "| requests | {}{} |", int(v(Metric::Requests)), pm(Metric::Requests, 0));
    let _ = writeln!(
        s,
        "| cold starts | {}{} ({} % of requests) |",
        int(v(Metric::ColdStarts)),
        pm(Metric::ColdStarts, 0),
        num(v(Metric::ColdStartRatio) * 100.0, 4)
    );
    let _ = writeln!(
        s,
        "| latency p50 / p90 / p95 / p99 / p99.9, all | {} / {} / {} / {}{} / {} ms |",
        num(v(Metric::LatencyP50Ms), 1),
        num(v(Metric::LatencyP90Ms), 1),
        num(v(Metric::LatencyP95Ms), 1),
        num(v(Metric::LatencyP99Ms), 1),
        pm(Metric::LatencyP99Ms, 1),
        num(v(Metric::LatencyP999Ms), 1)
    );
    let _ = writeln!(
        s,
        "| latency p50 / p99, warm | {} / {} ms |",
        num(v(Metric::WarmLatencyP50Ms), 1),
        num(v(Metric::WarmLatencyP99Ms), 1)
    );
    let _ = writeln!(
        s,
        "| latency p50 / p99, cold | {} / {} ms |",
        num(v(Metric::ColdLatencyP50Ms), 1),
        num(v(Metric::ColdLatencyP99Ms), 1)
    );
    let _ = writeln!(
        s,
        "| throttled / failed / timed out in queue | {} / {} / {} |",
        int(v(Metric::Throttled)),
        int(v(Metric::Failed)),
        int(v(Metric::QueueTimeouts))
    );
    // the wait of one instance start, phase by phase: instance-seconds in each over instances created
    let created = v(Metric::InstancesCreated);
    let per = |m: Metric| if created > 0.0 { num(v(m) / created, 2) } else { "–".into() };
    let _ = writeln!(
        s,
        "| instance start, mean: image pull / container create / app start-up | {} / {} / {} s (over {} instances created) |",
        per(Metric::InstanceSecondsPull),
        per(Metric::InstanceSecondsCreate),
        per(Metric::InstanceSecondsStartup),
        int(created)
    );
    let _ = writeln!(s, "| instances (time average) | {} |", num(v(Metric::InstancesMean), 2));
    let _ = writeln!(s, "| image pulls / cache hits | {} / {} |", int(v(Metric::Pulls)), int(v(Metric::CacheHits)));
    let _ = writeln!(s, "| cost over the horizon | {}{} {cur} |", num(v(Metric::Cost), 4), pm(Metric::Cost, 4));
    let _ = writeln!(
        s,
        "| cost per month ({MONTH_DAYS} days of this usage, billed as a month) | {} {cur} |",
        num(month, 2)
    );
    let _ = writeln!(s, "| cost per million requests | {} {cur} |", num(per_million, 4));
    let _ = writeln!(s, "| share of cost that is image pull | {} % |", num(pull_share * 100.0, 2));
    let _ = writeln!(
        s,
        "| GB·s total / of which pull | {} / {} |",
        num(v(Metric::GbsTotal), 1),
        num(v(Metric::GbsPull), 1)
    );

    s.push_str("\n## Charts\n\n");
    for (file, title, _) in charts {
        let _ = writeln!(s, "![{title}]({file})\n");
    }

    s.push_str("## Scenario\n\n| function | image | memory | vCPU | concurrency | reserved | max | keep-alive |\n|---|---|---|---|---|---|---|---|\n");
    for f in &sc.functions {
        let img = &sc.images[f.image];
        let reserved = match &f.reserved {
            Reserved::Fixed(n) => n.to_string(),
            Reserved::Daily(steps) => steps
                .iter()
                .map(|st| format!("{} from {:02}:{:02}", st.count, st.at / 3_600_000_000, st.at / 60_000_000 % 60))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let _ = writeln!(
            s,
            "| {} | {} ({} compressed, {} layers) | {} | {} | {} | {} | {} | {} |",
            f.name,
            img.name,
            fs(img.compressed_bytes()),
            img.layers.len(),
            fs(f.memory_mb << 20),
            f.milli_vcpu as f64 / 1000.0,
            f.concurrency,
            reserved,
            f.max_instances,
            fd(f.keep_alive)
        );
    }
    let p = &sc.platform;
    let _ = writeln!(
        s,
        "\nPlatform: {} hosts of {}, layer cache {} per host (TTL {}), pulls at {:.0} Mbit/s per host and {:.0} Mbit/s from the registry, {} layers at a time, {} per layer, extraction {}/s{}{}; ready timeout {}.\n",
        p.hosts,
        fs(p.host_memory_mb << 20),
        fs(p.cache_capacity),
        fd(p.cache_ttl),
        p.pull.host_bandwidth * 8.0 / 1e6,
        p.pull.registry_bandwidth * 8.0 / 1e6,
        p.pull.parallel_layers,
        fd(p.pull.layer_overhead),
        fs(p.pull.extract_rate as u64),
        match p.pull.distribution {
            Distribution::Registry => String::new(),
            Distribution::P2p { fanout } =>
                format!(", layers passed between hosts over p2p trees (each host serving a layer to at most {fanout} at once)"),
        },
        p.pull.profile.as_ref().map(|f| format!(" (measured: profile {f})")).unwrap_or_default(),
        fd(p.ready_timeout)
    );

    s.push_str("## Assumptions\n\n");
    let _ =
        writeln!(s, "- Prices: `{}` — {}; as of {}; source: {}.", sheet.name, sheet.title, sheet.as_of, sheet.source);
    let phases: Vec<String> = Phase::ALL
        .iter()
        .map(|ph| {
            let b = match sheet.phases[ph.index()] {
                PhaseBilling::Active => "active rate",
                PhaseBilling::Idle => "idle rate",
                PhaseBilling::None => "not billed",
            };
            format!("{} {b}", ph.name())
        })
        .collect();
    let _ = writeln!(s, "- Phases billed (switches in force): {}.", phases.join(", "));
    for r in &sheet.roundings {
        let _ = writeln!(
            s,
            "- Rounding `{}`: per {:?}, up to {}{}{}.",
            r.name,
            r.rule.period,
            fd(r.rule.quantum),
            if r.rule.minimum > 0 { format!(", at least {}", fd(r.rule.minimum)) } else { String::new() },
            if r.rule.init_into_first_request { ", start-up added to the first request" } else { "" }
        );
    }
    if sheet.minimum_per_function_hour > 0.0 {
        let _ = writeln!(
            s,
            "- Every function-hour with activity costs at least {} {cur}.",
            sheet.minimum_per_function_hour
        );
    }
    let _ = writeln!(
        s,
        "- Free tier {}; the cost over the horizon applies monthly tiers and free grants to the horizon's usage \
         as if it were a billing month; the cost per month is the bill of a {MONTH_DAYS}-day month whose usage is \
         the run's (after any warmup) scaled to {MONTH_DAYS} days, with tiers, free grants and minimums applied \
         to the month.",
        if sheet.free_tier_enabled { "on" } else { "off" }
    );
    let _ = writeln!(
        s,
        "- Reserved instances at t = 0: {}.",
        if sc.simulation.warm_start {
            "ready with their image cached (`simulation.warm_start`: provisioned instances are ready before traffic); their start is not metered or billed"
        } else {
            "pulled and started under traffic (`simulation.warm_start = false`): their start is metered and its cold starts counted"
        }
    );
    let _ = writeln!(
        s,
        "- Warmup: {}.",
        if sc.simulation.warmup > 0 {
            format!(
                "the first {} are left out of the statistics and the bill (requests arriving in it are not counted; meters restart at its end)",
                fd(sc.simulation.warmup)
            )
        } else {
            "none (`simulation.warmup = 0`): statistics and the bill cover the whole horizon".to_string()
        }
    );
    let _ = writeln!(
        s,
        "- Every sheet lists its inferred rules ([INF] in billing-rules.md) with their defaults: `coldcost pricing show {}`.",
        sheet.name
    );
    s
}
