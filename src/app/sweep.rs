//! Running a sweep: every setup of the grid (or of one shard of it) validated first, then
//! simulated in parallel and reduced to a [`Point`]; the points and the grid written, and —
//! for a whole sweep — every file rendered from what was written, exactly as
//! [`merge`] renders the joined shards.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::run;
use crate::error::InputError;
use crate::report::output::OutputDir;
use crate::report::summary::Summary;
use crate::scenario::{Distribution, PullMode, Scenario};
use crate::sweep::grid::{self, Axis};
use crate::sweep::render::{self, Meta};
use crate::sweep::{slo, Point};

/// A sweep as the command line gives it.
pub struct Request<'a> {
    pub scenario: Option<&'a PathBuf>,
    /// `--vary KEY=VALUES`, as written.
    pub vary: &'a [String],
    /// `--slo NAME=TARGET`, as written.
    pub slo: &'a [String],
    pub set: &'a [String],
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    /// `--shard K/N`, as written.
    pub shard: Option<&'a str>,
    pub out: Option<&'a PathBuf>,
    /// No progress bar.
    pub quiet: bool,
}

/// A finished sweep (or shard): its grid, its points in index order, where they went.
pub struct Outcome {
    pub meta: Meta,
    pub points: Vec<Point>,
    pub out: PathBuf,
    pub shard: Option<(usize, usize)>,
}

/// Simulate every setup of the sweep (of its shard) and write its files.
pub fn run(r: &Request<'_>) -> Result<Outcome> {
    let axes: Vec<Axis> = r.vary.iter().map(|v| grid::parse_vary(v)).collect::<Result<_, _>>()?;
    let slos = r.slo.iter().map(|s| slo::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let shard = r.shard.map(grid::parse_shard).transpose()?;
    let base = super::load(r.scenario, r.set, r.seed, r.replications)?;
    // without --slo, the scenario's own [goals] are the goals
    let slos = if r.slo.is_empty() { base.goals.clone() } else { slos };
    // every setup is validated (scenario and price sheet) before anything runs
    let mut setups: Vec<(usize, Vec<String>, Scenario)> = Vec::new();
    let total = grid::size(&axes)?;
    // a shard enumerates its own setups only; the grid is never built
    for i in (0..total).filter(|&i| grid::in_shard(i, shard)) {
        let (sets, values) = grid::setup(&axes, i);
        let i = &i;
        let mut overrides = super::overrides(r.set, r.seed, r.replications);
        overrides.extend(sets.iter().cloned());
        let sc = super::load(r.scenario, &overrides, None, None).map_err(|e| match e.downcast::<InputError>() {
            // a varied price sheet's own error names the sheet file, as `run` does
            Ok(ie) if sets.iter().any(|s| s.strip_prefix("platform.pricing=") == Some(ie.source.as_str())) => ie.into(),
            Ok(ie) => InputError { source: format!("--vary (setup #{}: {})", i + 1, sets.join(" ")), ..ie }.into(),
            Err(e) => e,
        })?;
        setups.push((*i, values.clone(), sc));
    }
    let meta = Meta {
        scenario: base.simulation.name.clone(),
        axes,
        slos,
        points: total,
        replications: base.simulation.replications,
        seed: base.simulation.seed,
    };
    let out =
        r.out.cloned().unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-sweep", base.simulation.name)));
    // locked before the work: a second sweep into the folder is refused now, not at the end
    let mut dir = OutputDir::create(&out)?;

    let bar = if r.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(setups.len() as u64), ProgressDrawTarget::stderr())
    };
    if let Ok(st) = ProgressStyle::with_template("{spinner} setups {pos}/{len} {wide_bar} eta {eta}") {
        bar.set_style(st);
    }
    let mut points: Vec<Point> = setups
        .par_iter()
        .map(|(i, values, sc)| {
            let p = evaluate(*i, values.clone(), sc);
            bar.inc(1);
            p
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    points.sort_by_key(|p| p.index);

    let points_text = render::points_csv(&meta, &points);
    dir.write_all("sweep.meta.toml", render::meta_toml(&meta).as_bytes())?;
    dir.write_all("points.csv", points_text.as_bytes())?;
    if shard.is_none() {
        write_rendered(&mut dir, &meta, &points_text)?;
    }
    dir.commit()?;
    Ok(Outcome { meta, points, out, shard })
}

/// Simulate one setup and reduce it to a [`Point`].
pub fn evaluate(index: usize, values: Vec<String>, sc: &Scenario) -> Result<Point> {
    let (runs, bills, sheet) = run::evaluate(sc)?;
    let summary = Summary::all_only(&runs, &bills);
    let mut p = Point::of(index, values, summary.all(), &sheet.currency);
    p.model = model_of(sc, &sheet.name);
    Ok(p)
}

/// Which model a setup ran, for sweep.md: provider, price sheet and start model.
pub fn model_of(sc: &Scenario, sheet: &str) -> String {
    let pl = &sc.platform.pull;
    let from = match pl.distribution {
        Distribution::Registry => "from the registry".to_string(),
        Distribution::P2p { fanout } => format!("over p2p trees (fanout {fanout})"),
    };
    let lazy = format!(
        "lazy pull ({} % before start, {} % read while starting)",
        pl.lazy.index_fraction * 100.0,
        pl.lazy.read_fraction * 100.0
    );
    let accelerated = sc.images.iter().filter(|i| i.accelerated_from.is_some()).count();
    let start = match pl.mode {
        PullMode::Lazy => format!("{lazy} {from}"),
        PullMode::Full if accelerated == 0 => format!("full pull (download, extract) {from}"),
        PullMode::Full => format!(
            "full pull (download, extract) {from}; {lazy} for {accelerated} of {} images (accelerated)",
            sc.images.len()
        ),
    };
    format!("{} · sheet {sheet} · {start}", sc.platform.provider.name)
}

/// Every rendered file, from the written `points.csv` text (so a whole sweep and merged
/// shards render from the same bytes).
fn write_rendered(dir: &mut OutputDir, meta: &Meta, points_text: &str) -> Result<()> {
    let parsed = render::parse_points(points_text, meta, "points.csv")?;
    for (name, bytes) in render::render_all(meta, &parsed)? {
        dir.write_all(&name, &bytes)?;
    }
    Ok(())
}

/// Join the output folders of a sweep's shards into the files one unsharded run writes;
/// returns the sweep's grid.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Meta> {
    let mut meta: Option<Meta> = None;
    let mut points: Vec<Point> = Vec::new();
    for d in dirs {
        let mp = d.join("sweep.meta.toml");
        let text = crate::limits::read_to_string(&mp, crate::limits::MAX_TOML_BYTES).map_err(|e| {
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
        let text = crate::limits::read_to_string(&pp, crate::limits::MAX_TABLE_BYTES).map_err(|e| {
            InputError::new(pp.display().to_string(), "", format!("cannot read a shard's points.csv: {e}"))
        })?;
        points.extend(render::parse_points(&text, meta.as_ref().expect("set above"), &pp.display().to_string())?);
    }
    let Some(meta) = meta else { bail!(InputError::new("sweep-merge", "", "no shard folder given")) };
    points.sort_by_key(|p| p.index);
    let indices: Vec<usize> = points.iter().map(|p| p.index).collect();
    if indices != (0..meta.points).collect::<Vec<_>>() {
        let missing: Vec<String> =
            (0..meta.points).filter(|i| !indices.contains(i)).map(|i| format!("#{}", i + 1)).take(10).collect();
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
    let mut dir = OutputDir::create(out)?;
    let points_text = render::points_csv(&meta, &points);
    dir.write_all("sweep.meta.toml", render::meta_toml(&meta).as_bytes())?;
    dir.write_all("points.csv", points_text.as_bytes())?;
    write_rendered(&mut dir, &meta, &points_text)?;
    dir.commit()?;
    Ok(meta)
}
