//! Which charts a run gets and from what data: latency CDF (warm vs cold), instances over
//! time, arrivals and cold starts over time, cost by phase, and pull time vs image size when
//! the scenario's images differ. Returns (file name, title, PNG bytes).

use anyhow::Result;

use super::charts::{self, Cdf, Scatter};
use super::summary::{Metric, Summary};
use super::trend::Trend;
use crate::latency::Latency;
use crate::platform::RunResult;
use crate::scenario::Scenario;

/// A chart: file name, title, PNG.
pub type Chart = (String, String, Vec<u8>);

/// The CDF of a histogram in ms: dense in the body, denser in the tail.
pub fn cdf(h: &Latency) -> Cdf {
    if h.is_empty() {
        return Vec::new();
    }
    let mut qs: Vec<f64> = (0..=198).map(|i| i as f64 / 200.0).collect();
    qs.extend([0.991, 0.993, 0.995, 0.997, 0.998, 0.999, 0.9995, 0.9999, 1.0]);
    qs.iter().map(|&q| (h.value_at_quantile(q) as f64 / 1000.0, q)).collect()
}

pub fn run_charts(sc: &Scenario, runs: &[RunResult], summary: &Summary, trend: &Trend) -> Result<Vec<Chart>> {
    let mut out = Vec::new();
    // latency: every replication and function together
    let mut warm = Latency::new(3);
    let mut cold = Latency::new(3);
    for r in runs {
        for (_, st) in &r.functions {
            warm.add(&st.warm_latency);
            cold.add(&st.cold_latency);
        }
    }
    let (wc, cc) = (cdf(&warm), cdf(&cold));
    let title = "Latency: warm vs cold requests";
    // counts per replication, as the report gives them
    let reps = runs.len().max(1) as f64;
    let per_rep = |n: u64| format!("{:.0}", n as f64 / reps);
    let (wn, cn) = (
        format!("warm: {} requests per replication", per_rep(warm.len())),
        format!("cold, waited for a start: {} per replication", per_rep(cold.len())),
    );
    let all = summary.all();
    let mut marks = vec![(
        format!("p99 of all requests: {} ms", charts::sig(all.mean(Metric::LatencyP99Ms))),
        all.mean(Metric::LatencyP99Ms),
        charts::INK,
    )];
    for g in sc.goals.iter().filter(|g| g.is_latency()) {
        marks.push((format!("goal {}", g.describe()), g.target, charts::GOAL));
    }
    out.push(("latency_cdf.png".into(), title.into(), charts::latency_cdf(title, &[(&wn, &wc), (&cn, &cc)], &marks)?));

    // time series of replication 1, on the scenario's clock when it has one
    let clock = sc.simulation.start.map(|st| {
        move |h: f64| {
            // `2024-03-04T10:00:00+08:00` → `03-04 10:00`
            let t = st.format((h * crate::units::MICROS_PER_HOUR as f64).round().max(0.0) as u64);
            t.get(5..16).unwrap_or(&t).replace('T', " ")
        }
    });
    let time = match &clock {
        Some(f) => charts::TimeAxis {
            desc: format!("clock time (from {})", sc.simulation.start.map(|st| st.format(0)).unwrap_or_default()),
            tick: f,
        },
        None => charts::TimeAxis::hours(),
    };
    let pts = &trend.points;
    let per = |f: &dyn Fn(&super::trend::TimePoint) -> f64| -> Vec<(f64, f64)> {
        pts.iter().map(|p| (p.mid_h(), f(p))).collect()
    };
    let avg = |us: u128, p: &super::trend::TimePoint| us as f64 / 1e6 / p.len_s().max(1e-9);
    let title = "Instances over time (replication 1, time averages)";
    out.push((
        "instances.png".into(),
        title.into(),
        charts::over_time(
            title,
            &time,
            "instances",
            &[
                ("busy", per(&|p| avg(p.busy_us, p))),
                ("idle", per(&|p| avg(p.idle_us, p))),
                ("starting (pull + create + start-up)", per(&|p| avg(p.starting_us, p))),
                ("reserved (busy or idle)", per(&|p| avg(p.reserved_us, p))),
            ],
            None,
        )?,
    ));
    let (cold_label, cold_pts) = clip_spikes(per(&|p| p.cold_starts as f64 * 60.0 / p.len_s().max(1e-9)));
    let title = "Arrivals and cold starts over time (replication 1)";
    out.push((
        "arrivals.png".into(),
        title.into(),
        charts::over_time_twin(
            title,
            &time,
            "arrivals per second",
            &[("arrivals", per(&|p| p.arrivals as f64 / p.len_s().max(1e-9)))],
            "cold starts per minute",
            &[(&cold_label, cold_pts)],
        )?,
    ));

    // cost by phase, mean over replications
    let currency = summary.currency.as_str();
    let items: Vec<(String, f64)> = [
        ("image pull", Metric::CostPull),
        ("container create", Metric::CostCreate),
        ("app start-up", Metric::CostStartup),
        ("busy", Metric::CostBusy),
        ("idle keep-alive", Metric::CostIdleKeepalive),
        ("idle reserved", Metric::CostIdleReserved),
        ("requests", Metric::CostRequests),
        ("hourly minimum", Metric::CostMinimum),
    ]
    .iter()
    .map(|(label, c)| (label.to_string(), all.mean(*c).max(0.0)))
    .collect();
    let title =
        format!("Cost by phase over {} (mean of replications)", crate::units::format_duration(sc.simulation.horizon));
    out.push(("cost_by_phase.png".into(), title.clone(), charts::bars(&title, currency, &items)?));

    // pull time vs image size, when the images differ
    let mut sizes: Vec<f64> = trend.pulls.iter().map(|p| p.0).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    if sizes.len() >= 2 {
        let title = "Pull time vs image size (replication 1)";
        out.push((
            "pull_vs_size.png".into(),
            title.into(),
            charts::scatter(&Scatter {
                title,
                x_desc: "image size, compressed (MB)",
                y_desc: "pull time (s)",
                points: trend.pulls.iter().map(|p| (p.0, p.1, false, true)).collect(),
                labels: Vec::new(),
                highlight_name: "",
                pass_name: "pulls",
                fail_name: "",
                x_mark: None,
            })?,
        ));
    }
    Ok(out)
}

/// Cold starts per minute for the chart's right axis, with the axis cut where one spike (a
/// start-up burst at t = 0, say) would flatten the rest: above 3× the 95th percentile of the
/// non-zero buckets, values are cut there and the label gives the cut and the true peak.
fn clip_spikes(pts: Vec<(f64, f64)>) -> (String, Vec<(f64, f64)>) {
    let mut nz: Vec<f64> = pts.iter().map(|p| p.1).filter(|v| *v > 0.0).collect();
    nz.sort_by(f64::total_cmp);
    let peak = nz.last().copied().unwrap_or(0.0);
    if nz.len() < 4 {
        return ("cold starts".into(), pts);
    }
    let cut = nz[(nz.len() - 1) * 95 / 100] * 3.0;
    if peak <= cut {
        return ("cold starts".into(), pts);
    }
    let at = pts.iter().find(|p| p.1 == peak).map(|p| p.0).unwrap_or(0.0);
    let label = format!(
        "cold starts (axis cut at {}/min; peak {}/min at {} h)",
        charts::sig(cut),
        charts::sig(peak),
        charts::sig(at)
    );
    (label, pts.into_iter().map(|(t, v)| (t, v.min(cut))).collect())
}

#[cfg(test)]
mod tests {
    use super::clip_spikes;

    #[test]
    fn one_spike_is_cut_and_named_and_a_steady_series_is_left_alone() {
        let mut pts: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 1.0 + (i % 3) as f64)).collect();
        assert_eq!(clip_spikes(pts.clone()), ("cold starts".to_string(), pts.clone()));
        pts[0].1 = 600.0;
        let (label, cut) = clip_spikes(pts);
        assert_eq!(label, "cold starts (axis cut at 9.000/min; peak 600.0/min at 0 h)");
        assert!(cut.iter().all(|p| p.1 <= 9.0) && cut[1].1 == 2.0);
    }
}
