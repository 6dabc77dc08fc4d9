//! Running a scenario: replications in parallel (rayon), each streaming its rows into its
//! own scratch files (on a writer thread of its own when a core would be idle:
//! `report::relay`), then the files joined in replication order (one replication's are
//! moved into place) and the summary written, all committed together. A progress bar
//! appears on stderr for runs longer than a second when stderr is a terminal.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::billing::model::Sheet;
use crate::billing::{self, Bill};
use crate::error::WriteError;
use crate::platform::{simulate, simulate_audited, simulate_with, Maker, NullSink, RunResult, Sink};
use crate::report::csv::{CsvSink, Pricing, INSTANCES_HEADER, REQUESTS_HEADER, TIMESERIES_HEADER};
use crate::report::output::OutputDir;
use crate::report::relay::relayed;
use crate::report::summary::{self, Summary};
use crate::report::trend::Trend;
use crate::report::{figures, markdown};
use crate::scenario::{Arrivals, Function, Scenario};

/// What to write besides the summary.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// One row per request in `requests.csv`.
    pub requests: bool,
    /// Never draw a progress bar.
    pub quiet: bool,
    /// Check the model's invariants as it runs (`platform::simulate_audited`).
    pub audit: bool,
}

/// The results of a finished run and where its files went.
pub struct Outcome {
    pub runs: Vec<RunResult>,
    /// One bill per replication (same order as `runs`).
    pub bills: Vec<Bill>,
    pub summary: Summary,
    pub sheet: Sheet,
    pub files: Vec<PathBuf>,
    pub wall: Duration,
    pub events: u64,
}

/// Simulate every replication of `sc` and write the reports into `out`.
pub fn run(sc: &Scenario, out: &Path, opts: &Options) -> Result<Outcome> {
    let started = Instant::now();
    // the sheet was parsed and checked with the scenario
    let sheet = &sc.platform.sheet;
    let meters = billing::meters(sheet);
    let pricing = Pricing {
        sheet,
        specs: sc.functions.iter().map(Function::spec).collect(),
        image_mb: sc
            .functions
            .iter()
            .map(|f| sc.images[f.image].compressed_bytes() as f64 / (1 << 20) as f64)
            .collect(),
    };
    super::room::check(sc, out, opts.requests)?;
    let mut dir = OutputDir::create(out)?;
    pause_for_tests();
    let reps = sc.simulation.replications;
    // scratch files per replication, created up front (in order) so names are fixed; the
    // first replication's begin with the header, so one replication's files are the reports
    let mut scratch = Vec::new();
    for r in 0..reps {
        let mut part = |name: &str, header: &str| -> Result<(PathBuf, BufWriter<File>)> {
            let (path, mut w) = dir.scratch(&format!("{name}.{r}"))?;
            if r == 0 {
                let failed = |e| WriteError::new(out.join(format!("{name}.csv")).display().to_string(), e);
                w.write_all(header.as_bytes()).map_err(failed)?;
            }
            Ok((path, w))
        };
        let (ts_path, ts) = part("timeseries", TIMESERIES_HEADER)?;
        let (in_path, ins) = part("instances", INSTANCES_HEADER)?;
        let req = if opts.requests { Some(part("requests", REQUESTS_HEADER)?) } else { None };
        let (rq_path, rq) = match req {
            Some((p, w)) => (Some(p), Some(w)),
            None => (None, None),
        };
        let mut sink = CsvSink::new(r + 1, Some(&pricing), ts, ins, rq).with_clock(sc.simulation.start);
        if r == 0 {
            sink = sink.with_trend();
        }
        scratch.push((ts_path, in_path, rq_path, Mutex::new(Some(sink))));
    }

    let bar = progress_bar(sc, opts.quiet);
    let total_done = AtomicU64::new(0);
    // with a core to spare, each replication's files are written on a thread of their own
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let relay = (reps as usize) < cores;
    // ... and so are its arrivals (see `platform::Maker`)
    let maker = if relay { Maker::Helper } else { Maker::Same };
    let names: Vec<String> = sc.functions.iter().map(|f| f.name.clone()).collect();
    let results: Vec<Result<(RunResult, Option<Trend>)>> = scratch
        .par_iter()
        .enumerate()
        .map(|(r, (_, _, _, sink))| {
            let mut sink = sink.lock().expect("one thread per replication").take().expect("sink used once");
            let mut last = 0u64;
            let progress = |now| {
                let delta = now - last;
                last = now;
                let total = total_done.fetch_add(delta, Ordering::Relaxed) + delta;
                bar.tick_to(total, started);
            };
            let go = |out: &mut dyn Sink| {
                if opts.audit {
                    simulate_audited(sc, r as u32, out, &meters, progress).map_err(anyhow::Error::from)
                } else {
                    simulate_with(sc, r as u32, out, &meters, maker, progress).map_err(anyhow::Error::from)
                }
            };
            let result = if relay {
                let (result, back) = relayed(sink, &names, |out| go(out));
                sink = back;
                result
            } else {
                go(&mut sink)
            };
            let result = result.with_context(|| format!("{}, replication {}", sc.simulation.name, r + 1))?;
            total_done.fetch_add(sc.simulation.horizon - last, Ordering::Relaxed);
            let trend = sink.finish().map_err(|(file, e)| WriteError::new(out.join(file).display().to_string(), e))?;
            Ok((result, trend))
        })
        .collect();
    bar.finish();
    traces_unchanged(sc)?;
    let mut runs = Vec::new();
    let mut bills = Vec::new();
    let mut trend = None;
    for r in results {
        let (run, t) = r?;
        bills.push(billing::with_month(sheet, run.usage(), run.horizon - run.warmup));
        runs.push(run);
        trend = trend.or(t);
    }

    let name = &sc.simulation.name;
    let summary = Summary::of(&runs, &bills);
    dir.write_all("summary.csv", summary.to_csv(name, &sc.goals).as_bytes())?;
    dir.write_with("summary_stats.csv", |w| summary.write_stats_csv(name, w))?;
    dir.write_all("bill.csv", summary::render_bills(&bills).as_bytes())?;
    let charts = figures::run_charts(sc, &runs, &summary, trend.as_ref().unwrap_or(&Trend::new()))?;
    for (file, _, png) in &charts {
        dir.write_all(file, png)?;
    }
    dir.write_all("report.md", markdown::report(sc, sheet, &summary, &charts).as_bytes())?;
    join(&mut dir, "timeseries.csv", scratch.iter().map(|s| Some(&s.0)))?;
    join(&mut dir, "instances.csv", scratch.iter().map(|s| Some(&s.1)))?;
    if opts.requests {
        join(&mut dir, "requests.csv", scratch.iter().map(|s| s.2.as_ref()))?;
    }
    let files = dir.commit()?;
    let events = runs.iter().map(|r| r.events).sum();
    drop(pricing);
    Ok(Outcome { runs, bills, summary, sheet: sheet.clone(), files, wall: started.elapsed(), events })
}

/// Each replication's scratch file, in order (the first begins with the header): one is
/// moved into place, several are copied one after another.
fn join<'a>(dir: &mut OutputDir, name: &str, parts: impl Iterator<Item = Option<&'a PathBuf>>) -> Result<()> {
    let parts: Vec<&PathBuf> = parts.flatten().collect();
    if let [one] = parts[..] {
        return dir.adopt(name, one);
    }
    let mut w = dir.file(name)?;
    let failed = |e| WriteError::new(dir.dir().join(name).display().to_string(), e);
    for p in parts {
        let mut r = BufReader::new(File::open(p).with_context(|| format!("cannot read {}", p.display()))?);
        io::copy(&mut r, &mut w).map_err(failed)?;
    }
    w.flush().map_err(failed)?;
    Ok(())
}

/// A bar over simulated time (all replications), hidden unless stderr is a terminal and
/// the run has lasted a second.
struct Bar {
    bar: ProgressBar,
    shown: std::sync::atomic::AtomicBool,
    enabled: bool,
}

impl Bar {
    fn tick_to(&self, done_us: u64, started: Instant) {
        if !self.enabled {
            return;
        }
        if !self.shown.load(Ordering::Relaxed) && started.elapsed() >= Duration::from_secs(1) {
            self.shown.store(true, Ordering::Relaxed);
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        self.bar.set_position(done_us / 1_000_000);
    }

    fn finish(&self) {
        if self.enabled {
            self.bar.finish_and_clear();
        }
    }
}

fn progress_bar(sc: &Scenario, quiet: bool) -> Bar {
    let total_s = sc.simulation.horizon / 1_000_000 * sc.simulation.replications as u64;
    let bar = ProgressBar::with_draw_target(Some(total_s), ProgressDrawTarget::hidden());
    if let Ok(style) = ProgressStyle::with_template("{spinner} simulated {pos}/{len} s {wide_bar} {percent}% eta {eta}")
    {
        bar.set_style(style);
    }
    Bar { bar, shown: Default::default(), enabled: !quiet && io::stderr().is_terminal() }
}

/// Simulate every replication of `sc` (in parallel) and bill each, writing no files.
pub fn evaluate(sc: &Scenario) -> Result<(Vec<RunResult>, Vec<Bill>, Sheet)> {
    let sheet = &sc.platform.sheet;
    let meters = billing::meters(sheet);
    let out: Vec<(RunResult, Bill)> = (0..sc.simulation.replications)
        .into_par_iter()
        .map(|r| {
            let run = simulate(sc, r, &mut NullSink, &meters, |_| {})
                .with_context(|| format!("{}, replication {}", sc.simulation.name, r + 1))?;
            let bill = billing::with_month(sheet, run.usage(), run.horizon - run.warmup);
            Ok((run, bill))
        })
        .collect::<Result<Vec<_>>>()?;
    traces_unchanged(sc)?;
    let (runs, bills) = out.into_iter().unzip();
    Ok((runs, bills, sheet.clone()))
}

/// Every trace the runs streamed is still the file its scan counted: one truncated or
/// rewritten underfoot fails the run (exit 1, naming it) rather than giving a shorter one.
fn traces_unchanged(sc: &Scenario) -> Result<()> {
    for w in &sc.workloads {
        if let Arrivals::Trace(t) = &w.arrivals {
            t.data.unchanged()?;
        }
    }
    Ok(())
}

/// For tests only: with `COLDCOST_TEST_PAUSE=FILE`, create FILE once the scenario is loaded
/// (its traces scanned) and wait (at most a minute) until it is removed, so a test can change
/// a trace between the scan and the simulation without racing.
fn pause_for_tests() {
    let Some(flag) = std::env::var_os("COLDCOST_TEST_PAUSE") else { return };
    let flag = PathBuf::from(flag);
    if std::fs::write(&flag, b"").is_err() {
        return;
    }
    let until = Instant::now() + Duration::from_secs(60);
    while flag.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
}
