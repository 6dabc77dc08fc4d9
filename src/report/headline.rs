//! The lines `coldcost run` prints when it is done: what ran, a small table of the numbers a
//! user looks at first (means across replications), the trace workloads, the price sheet and
//! the files written. The table's headers and values come from one list ([`HEADLINE`]), so
//! they cannot drift apart.

use std::path::PathBuf;
use std::time::Duration;

use super::summary::{Metric, Row, Summary};
use crate::billing::model::Sheet;
use crate::scenario::{Arrivals, Scenario};

/// Functions listed by name in the headline before the ALL row.
pub const HEADLINE_FUNCTIONS: usize = 10;

/// A column of the headline table: its header, the summary metric it shows, its width, a
/// scale (100 for a percentage) and its decimals. A money column's header gets the currency.
pub struct Shown {
    pub header: &'static str,
    pub metric: Metric,
    pub width: usize,
    pub scale: f64,
    pub decimals: usize,
}

const fn shown(header: &'static str, metric: Metric, width: usize, scale: f64, decimals: usize) -> Shown {
    Shown { header, metric, width, scale, decimals }
}

/// The headline table's columns after the function name.
pub const HEADLINE: &[Shown] = &[
    shown("requests", Metric::Requests, 12, 1.0, 0),
    shown("cold", Metric::ColdStarts, 10, 1.0, 0),
    shown("cold %", Metric::ColdStartRatio, 8, 100.0, 3),
    shown("p50 ms", Metric::LatencyP50Ms, 10, 1.0, 1),
    shown("p99 ms", Metric::LatencyP99Ms, 10, 1.0, 1),
    shown("cold p99 ms", Metric::ColdLatencyP99Ms, 12, 1.0, 1),
    shown("instances", Metric::InstancesMean, 10, 1.0, 2),
    shown("GB·s pull", Metric::GbsPull, 12, 1.0, 1),
    shown("GB·s total", Metric::GbsTotal, 12, 1.0, 1),
    shown("cost", Metric::Cost, 12, 1.0, 4),
];

/// What the headline says of a finished run besides its summary.
pub struct RunFacts<'a> {
    pub sheet: &'a Sheet,
    pub files: &'a [PathBuf],
    pub wall: Duration,
    pub events: u64,
}

/// The printed headline of a run.
pub fn run(sc: &Scenario, summary: &Summary, facts: &RunFacts<'_>) -> String {
    let requests: f64 = summary.all().series(Metric::Requests).iter().sum();
    let requests = requests as u64;
    let secs = facts.wall.as_secs_f64();
    let mut s = format!(
        "{}: {} replication(s) of {}, {} requests simulated in {:.2} s ({:.1} M requests/s, {} events)\n",
        sc.simulation.name,
        sc.simulation.replications,
        crate::units::format_duration(sc.simulation.horizon),
        requests,
        secs,
        requests as f64 / secs.max(1e-9) / 1e6,
        facts.events,
    );
    s.push_str(&format!("{:<16}", "function"));
    for c in HEADLINE {
        let header = if c.metric.is_money() { format!("{} {}", c.header, summary.currency) } else { c.header.into() };
        s.push_str(&format!(" {header:>w$}", w = c.width));
    }
    s.push('\n');
    // one function: its row says it all; several: each, then ALL; a fleet (a trace): the
    // busiest ones, then ALL
    let rows = &summary.rows;
    let mut fns: Vec<&Row> = if rows.len() == 2 { vec![&rows[0]] } else { rows.iter().collect() };
    let hidden = fns.len().saturating_sub(HEADLINE_FUNCTIONS + 1);
    if hidden > 0 {
        let all = fns.pop().expect("the ALL row");
        let reqs = |r: &Row| r.series(Metric::Requests).iter().sum::<f64>();
        fns.sort_by(|a, b| reqs(b).total_cmp(&reqs(a)));
        fns.truncate(HEADLINE_FUNCTIONS);
        fns.push(all);
    }
    for row in fns {
        let name = short_name(&row.name);
        if name == "ALL" && hidden > 0 {
            s.push_str(&format!("... and {hidden} more functions (summary.csv has every one)\n"));
        }
        s.push_str(&format!("{name:<16}"));
        for c in HEADLINE {
            let x = row.mean(c.metric) * c.scale;
            let v = if x.is_finite() { format!("{x:.d$}", d = c.decimals) } else { "-".into() };
            s.push_str(&format!(" {v:>w$}", w = c.width));
        }
        s.push('\n');
    }
    for vd in super::goals::judge(&sc.goals, summary.all()) {
        s.push_str(&format!("goal {}\n", vd.line()));
    }
    for line in describe(sc) {
        s.push_str(&line);
        s.push('\n');
    }
    let sheet = facts.sheet;
    s.push_str(&format!(
        "priced with `{}` ({}, prices as of {}); bill.csv has every line\n",
        sheet.name, sheet.title, sheet.as_of
    ));
    let names: Vec<String> =
        facts.files.iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    let dir = facts.files.first().and_then(|p| p.parent()).map(|p| p.display().to_string()).unwrap_or_default();
    s.push_str(&format!("wrote {}/ {}\n", dir, names.join(", ")));
    s
}

/// `workload[i]: <trace line>` for each trace workload of `sc`.
pub fn describe(sc: &Scenario) -> Vec<String> {
    sc.workloads
        .iter()
        .enumerate()
        .filter_map(|(i, w)| match &w.arrivals {
            Arrivals::Trace(t) => Some(format!("workload[{i}]: {}", t.describe())),
            _ => None,
        })
        .collect()
}

/// A line for each trace workload that skipped bad rows (said even with `--quiet`: never a
/// silent drop).
pub fn skipped_rows(sc: &Scenario) -> Vec<String> {
    sc.workloads
        .iter()
        .enumerate()
        .filter_map(|(i, w)| match &w.arrivals {
            Arrivals::Trace(t) if t.summary.bad.count > 0 => Some(format!(
                "workload[{i}]: skipped {} bad row(s) of {} (skip_bad_rows = true); the first: {}",
                t.summary.bad.count,
                t.path,
                t.summary.bad.first.as_deref().unwrap_or("?")
            )),
            _ => None,
        })
        .collect()
}

/// A function name that fits the summary table: long trace hashes are cut to 15 characters
/// and an ellipsis.
pub fn short_name(name: &str) -> String {
    if name.chars().count() <= 16 {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(15).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_to_the_column() {
        assert_eq!(short_name("api"), "api");
        assert_eq!(short_name("0123456789abcdef"), "0123456789abcdef");
        assert_eq!(short_name("0123456789abcdefg"), "0123456789abcde…");
    }
}
