//! `coldcost sweep SCENARIO --vary KEY=VALUES ... [--slo NAME=TARGET]...`: simulate every
//! setup of the grid and name the cheapest that meets the goals; `--shard K/N` runs one slice
//! and `coldcost sweep-merge` joins the slices into the files an unsharded run writes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::billing;
use crate::error::InputError;
use crate::report::output::OutputDir;
use crate::scenario::Scenario;
use crate::sweep::grid::{self, Axis};
use crate::sweep::render::{self, Meta};
use crate::sweep::{evaluate, slo, Point};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (TOML). Without one, the built-in quickstart.
    pub scenario: Option<PathBuf>,
    /// A knob and its values: a list (function.api.memory=512MB,1GB,2GB) or an inclusive
    /// integer range (function.api.reserved=0..8, or 0..64:8 in steps of 8). Repeatable: the grid is the product.
    #[arg(long = "vary", value_name = "KEY=VALUES", required = true)]
    pub vary: Vec<String>,
    /// A goal every recommended setup must meet: p50, p99, p999, cold_p99 (durations) or
    /// cold_ratio, error_ratio (fractions), e.g. p99=800ms. Repeatable.
    #[arg(long = "slo", value_name = "NAME=TARGET")]
    pub slo: Vec<String>,
    /// Output folder [default: reports/<scenario name>-sweep/]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a scenario value for every setup (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replications per setup.
    #[arg(long)]
    pub replications: Option<u32>,
    /// Run only slice K of N of the grid (join the slices with `coldcost sweep-merge`).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output folders of the shards.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged sweep.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let axes: Vec<Axis> = a.vary.iter().map(|v| grid::parse_vary(v)).collect::<Result<_, _>>()?;
    let slos = a.slo.iter().map(|s| slo::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let shard = a.shard.as_deref().map(grid::parse_shard).transpose()?;
    let base = super::run::load(a.scenario.as_ref(), &a.set, a.seed, a.replications)?;
    // every setup is validated (scenario and price sheet) before anything runs
    let mut setups: Vec<(usize, Vec<String>, Scenario)> = Vec::new();
    let all = grid::expand(&axes);
    for (i, sets, values) in &all {
        if !grid::in_shard(*i, shard) {
            continue;
        }
        let mut overrides = a.set.clone();
        if let Some(s) = a.seed {
            overrides.push(format!("simulation.seed={s}"));
        }
        if let Some(r) = a.replications {
            overrides.push(format!("simulation.replications={r}"));
        }
        overrides.extend(sets.iter().cloned());
        let sc = super::run::load(a.scenario.as_ref(), &overrides, None, None).map_err(|e| {
            match e.downcast::<InputError>() {
                Ok(ie) => InputError { source: format!("--vary (setup #{i}: {})", sets.join(" ")), ..ie }.into(),
                Err(e) => e,
            }
        })?;
        billing::sheet::load(&sc.platform.pricing)?;
        setups.push((*i, values.clone(), sc));
    }
    let meta = Meta {
        scenario: base.simulation.name.clone(),
        axes,
        slos,
        points: all.len(),
        replications: base.simulation.replications,
        seed: base.simulation.seed,
    };
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-sweep", base.simulation.name)));

    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(setups.len() as u64), ProgressDrawTarget::stderr())
    };
    if let Ok(st) = ProgressStyle::with_template("{spinner} setups {pos}/{len} {wide_bar} eta {eta}") {
        bar.set_style(st);
    }
    let done = AtomicUsize::new(0);
    let mut points: Vec<Point> = setups
        .par_iter()
        .map(|(i, values, sc)| {
            let p = evaluate(*i, values.clone(), sc);
            done.fetch_add(1, Ordering::Relaxed);
            bar.inc(1);
            p
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    points.sort_by_key(|p| p.index);

    let mut dir = OutputDir::create(&out)?;
    let meta_text = render::meta_toml(&meta);
    let points_text = render::points_csv(&meta, &points);
    dir.write_all("sweep.meta.toml", meta_text.as_bytes())?;
    dir.write_all("points.csv", points_text.as_bytes())?;
    if shard.is_none() {
        // render from the written text, exactly as sweep-merge does
        let parsed = render::parse_points(&points_text, &meta, "points.csv")?;
        for (name, bytes) in render::render_all(&meta, &parsed)? {
            dir.write_all(&name, &bytes)?;
        }
    }
    dir.commit()?;
    if !a.quiet {
        print!("{}", headline(&meta, &points, &out, shard));
    }
    Ok(ExitCode::SUCCESS)
}

fn headline(m: &Meta, points: &[Point], out: &Path, shard: Option<(usize, usize)>) -> String {
    if let Some((k, n)) = shard {
        return format!(
            "{}: shard {k}/{n}: {} of {} setups written to {}/ (join with coldcost sweep-merge)\n",
            m.scenario,
            points.len(),
            m.points,
            out.display()
        );
    }
    let mut ok: Vec<&Point> = points.iter().filter(|p| m.slos.iter().all(|s| s.holds(p))).collect();
    ok.sort_by(|a, b| a.get("cost").total_cmp(&b.get("cost")).then(a.index.cmp(&b.index)));
    let best = match ok.first() {
        Some(p) => format!(
            "cheapest within the goals: #{} ({}) at {} {}, p99 {:.1} ms",
            p.index,
            m.axes.iter().zip(&p.values).map(|(a, v)| format!("{}={v}", a.key)).collect::<Vec<_>>().join(" "),
            crate::report::charts::sig(p.get("cost")),
            p.currency,
            p.get("latency_p99_ms")
        ),
        None => "no setup meets every goal".to_string(),
    };
    format!(
        "{}: {} setups; {best}\nwrote {}/ sweep.csv, sweep.md, pareto.png, curves\n",
        m.scenario,
        points.len(),
        out.display()
    )
}

pub fn merge(a: MergeArgs) -> Result<ExitCode> {
    let mut meta: Option<Meta> = None;
    let mut points: Vec<Point> = Vec::new();
    for d in &a.dirs {
        let mp = d.join("sweep.meta.toml");
        let text = std::fs::read_to_string(&mp).map_err(|e| {
            InputError::new(mp.display().to_string(), "", format!("cannot read a shard's sweep.meta.toml: {e}"))
        })?;
        let m = render::parse_meta(&text, &mp.display().to_string())?;
        if let Some(first) = &meta {
            if *first != m {
                return Err(InputError::new(
                    mp.display().to_string(),
                    "",
                    "this shard belongs to another sweep (its grid, goals, seed or scenario differ)",
                )
                .into());
            }
        } else {
            meta = Some(m);
        }
        let pp = d.join("points.csv");
        let text = std::fs::read_to_string(&pp).with_context(|| format!("cannot read {}", pp.display()))?;
        points.extend(render::parse_points(&text, meta.as_ref().expect("set above"), &pp.display().to_string())?);
    }
    let meta = meta.expect("clap requires a folder");
    points.sort_by_key(|p| p.index);
    let indices: Vec<usize> = points.iter().map(|p| p.index).collect();
    if indices != (0..meta.points).collect::<Vec<_>>() {
        let missing: Vec<String> =
            (0..meta.points).filter(|i| !indices.contains(i)).map(|i| format!("#{i}")).take(10).collect();
        if !missing.is_empty() {
            return Err(InputError::new(
                "sweep-merge",
                "",
                format!("setups missing from the shards given: {}", missing.join(", ")),
            )
            .into());
        }
        bail!(InputError::new("sweep-merge", "", "a setup appears in more than one shard"));
    }
    let mut dir = OutputDir::create(&a.out)?;
    let points_text = render::points_csv(&meta, &points);
    dir.write_all("sweep.meta.toml", render::meta_toml(&meta).as_bytes())?;
    dir.write_all("points.csv", points_text.as_bytes())?;
    let parsed = render::parse_points(&points_text, &meta, "points.csv")?;
    for (name, bytes) in render::render_all(&meta, &parsed)? {
        dir.write_all(&name, &bytes)?;
    }
    dir.commit()?;
    println!(
        "{}: merged {} setups from {} shard(s) into {}/",
        meta.scenario,
        meta.points,
        a.dirs.len(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
