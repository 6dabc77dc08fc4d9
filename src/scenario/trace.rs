//! Trace workloads: the keys of `arrivals = { kind = "trace", ... }`, and how one becomes
//! functions. The workload's `function` names a **template**: every function the trace
//! brings is a copy of it (image, vCPU per GB, disk, concurrency, scaling, queue, timeout,
//! startup, keep-alive, ...) named by the trace's function id, with the trace's memory and
//! execution times where it gives them. A template that no other (non-trace) workload uses
//! is not simulated itself. Reading the files is [`crate::workload::trace`]'s business.
//!
//! | key | default | allowed |
//! |---|---|---|
//! | `format` | required | `azure2019`, `azure2021`, `csv` |
//! | `path` | required | azure2019: a folder with `invocations.csv`, `durations.csv`, `memory.csv`, or the invocations file; others: the file |
//! | `durations_path`, `memory_path` | `<path>/durations.csv`, `<path>/memory.csv` | azure2019 only; required when `path` is a file |
//! | `spread` | `"poisson"` | azure2019 only: `poisson`, `uniform`, `start` |
//! | `reorder_window` | `"1m"` (csv), `"1h"` (azure2021) | how far out of time order a row may be |
//! | `origin` | azure2019: its first minute; numeric timestamps: `0`; RFC 3339: `"first"` | trace time that becomes simulated time 0: seconds, `"first"` (the trace's start), or an RFC 3339 date-time |
//! | `functions` | all | keep at most this many functions |
//! | `select` | `"top"` | with `functions`: `top` (most invocations) or `sample` (uniformly at random) |
//! | `seed` | `simulation.seed` | with `select = "sample"` |
//! | `only` | — | a function id or a list of them: keep just these |
//! | `memory` | `"trace"` | `trace` (the trace's, rounded up to 64 MB, at least 128 MB; else the template's) or `template` |
//! | `image` | the template's | the image every trace function uses, unless mapped or drawn |
//! | `image_map` | — | a CSV `function,image` naming an `[[image]]` per function |
//! | `image_sizes` | — | a CSV with `compressed_bytes,layers` columns: each unmapped function gets its own image, drawn from its rows |
//! | `skip_bad_rows` | `false` | skip (and count) bad rows instead of stopping at the first |
//!
//! Paths written in the scenario file are relative to its folder; paths given with `--set`
//! to the current folder ([`Ctx::file`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::Rng as _;
use toml::Value;

use super::model::*;
use super::raw::{RawTrace, Scalar};
use crate::engine::rng::stream;
use crate::error::InputError;
use crate::input::{choices, describe, did_you_mean, join, Ctx};
use crate::units::{format_duration as fd, format_size as fs, Micros, MICROS_PER_SECOND};
use crate::workload::timestamp::{self, Kind};
use crate::workload::trace::{
    self, round_memory_mb, row_error, BadRows, Files, Format, Spread, TraceArrivals, TraceData, TraceFn, TraceSummary,
};

/// The keys of a trace arrivals table (besides `kind`).
pub const KEYS: &[&str] = &[
    "format",
    "path",
    "durations_path",
    "memory_path",
    "spread",
    "functions",
    "select",
    "seed",
    "only",
    "memory",
    "image",
    "image_map",
    "image_sizes",
    "origin",
    "reorder_window",
    "skip_bad_rows",
];

const MB: u64 = 1 << 20;
const GB: u64 = 1 << 30;
/// Uncompressed bytes per compressed byte of a drawn image (as `size` images).
const DRAWN_RATIO: f64 = 2.5;

/// What loading a trace workload may add to and read from.
pub(super) struct Expand<'a> {
    pub functions: &'a mut Vec<Function>,
    pub images: &'a mut Vec<Image>,
    pub sim: &'a Simulation,
    pub platform: &'a Platform,
}

/// Load workload `index`'s trace (arrivals at key path `here`), add its functions (copies of
/// function `template`) and drawn images, and return its arrivals.
pub(super) fn load(
    r: &RawTrace,
    here: &str,
    index: usize,
    template: usize,
    window: (Micros, Micros),
    x: &mut Expand<'_>,
    ctx: &Ctx<'_>,
) -> Result<TraceArrivals, InputError> {
    let k = |key: &str| join(here, key);
    let ex = "arrivals = { kind = \"trace\", format = \"azure2019\", path = \"data/azure2019-sample500\" }";
    let format_v = ctx.required(r.format.as_ref(), &k("format"), ex)?;
    let format_s = ctx.string(format_v, &k("format"), "the trace format")?;
    let format = Format::parse(format_s).ok_or_else(|| {
        ctx.err(
            k("format"),
            format!(
                "unknown trace format \"{format_s}\"{}",
                choices(format_s, Format::NAMES.iter().copied(), "allowed")
            ),
        )
    })?;
    let path_v = ctx.required(r.path.as_ref(), &k("path"), ex)?;
    let path_s = ctx.string(path_v, &k("path"), "the trace file or folder")?;
    let path = ctx.file(&k("path"), path_s);

    // options that belong to one kind of format
    let is19 = format == Format::Azure2019;
    for (v, key, ok) in [
        (&r.durations_path, "durations_path", is19),
        (&r.memory_path, "memory_path", is19),
        (&r.spread, "spread", is19),
        (&r.reorder_window, "reorder_window", !is19),
    ] {
        if v.is_some() && !ok {
            let which = if is19 { "row traces (azure2021, csv)" } else { "azure2019 traces" };
            return Err(ctx.err(k(key), format!("`{key}` applies to {which} only, not to format \"{format_s}\"")));
        }
    }
    let memory_from_trace = match r.memory.as_ref() {
        None => true,
        Some(v) => match ctx.string(v, &k("memory"), "\"trace\" or \"template\"")? {
            "trace" => true,
            "template" => false,
            other => {
                return Err(ctx.err(
                    k("memory"),
                    format!("memory \"{other}\" is not a choice{}", choices(other, ["trace", "template"], "allowed")),
                ))
            }
        },
    };
    let skip = ctx.boolean(r.skip_bad_rows.as_ref(), &k("skip_bad_rows"))?.unwrap_or(false);
    let spread = match r.spread.as_ref() {
        None => Spread::Poisson,
        Some(v) => {
            let s = ctx.string(v, &k("spread"), "how a minute's count is spread")?;
            Spread::parse(s).ok_or_else(|| {
                ctx.err(
                    k("spread"),
                    format!("unknown spread \"{s}\"{}", choices(s, Spread::NAMES.iter().copied(), "allowed")),
                )
            })?
        }
    };
    let default_window = if format == Format::Azure2021 { 3_600 } else { 60 } * MICROS_PER_SECOND;
    let reorder = ctx.duration(r.reorder_window.as_ref(), &k("reorder_window"))?.unwrap_or(default_window);

    // the files
    let opt_path = |v: &Scalar, key: &str| -> Result<Option<PathBuf>, InputError> {
        v.as_ref().map(|v| ctx.string(v, &k(key), "a file").map(|s| ctx.file(&k(key), s))).transpose()
    };
    // a file named by a key must be there; the message says where it was looked for
    let exists = |file: &Path, key: &str| -> Result<(), InputError> {
        if file.exists() {
            return Ok(());
        }
        Err(ctx.err(k(key), format!("{} does not exist ({})", file.display(), ctx.looked_for(&k(key), file))))
    };
    let mut durations = opt_path(&r.durations_path, "durations_path")?;
    let mut memory = opt_path(&r.memory_path, "memory_path")?;
    let mut trace_file = path.clone();
    if is19 && path.is_dir() {
        trace_file = path.join("invocations.csv");
        durations.get_or_insert_with(|| path.join("durations.csv"));
        if memory_from_trace {
            memory.get_or_insert_with(|| path.join("memory.csv"));
        }
    } else if is19 {
        if durations.is_none() {
            return Err(ctx.err(k("durations_path"), format!("`path` names a file ({}), so give `durations_path` too (the durations percentiles file), or let `path` name the folder holding invocations.csv, durations.csv and memory.csv", path.display())));
        }
        if memory.is_none() && memory_from_trace {
            return Err(ctx.err(
                k("memory_path"),
                "give `memory_path` (the memory file), or memory = \"template\" to use the template function's memory",
            ));
        }
    }
    if !memory_from_trace {
        memory = None;
    }
    exists(&trace_file, "path")?;
    for (file, key, given) in
        [(&durations, "durations_path", &r.durations_path), (&memory, "memory_path", &r.memory_path)]
    {
        if let (Some(f), Some(_)) = (file, given) {
            exists(f, key)?;
        }
    }
    let files = Files { trace: &trace_file, durations: durations.as_deref(), memory: memory.as_deref() };
    let scan = trace::scan(format, &files, reorder, skip)?;

    // origin: trace time that becomes simulated time 0
    let start = scan.span.map_or(0, |s| s.0);
    let origin = match r.origin.as_ref() {
        None if is19 || scan.time_kind == Kind::Rfc3339 => start,
        None => 0,
        Some(v) => origin(v, &k("origin"), start, scan.time_kind, ctx)?,
    };
    let (from, until) = window;
    if let Some((a, b)) = scan.span {
        let (a, b) = (a - origin, b - origin);
        if b <= from as i64 || a >= until as i64 {
            let show = |t: i64| format!("{}s", t as f64 / 1e6);
            return Err(ctx.err(here, format!(
                "no invocation of the trace falls in the workload's window [{}, {}): after origin, the trace spans [{}, {}); set origin = \"first\" to start the trace at time 0, or move the window",
                fd(from), fd(until), show(a), show(b)
            )));
        }
    }

    // which functions
    let keep = select(r, here, index, &scan.functions, x.sim.seed, ctx)?;
    if keep.is_empty() {
        return Err(ctx.err(k("path"), format!("the trace {} has no functions", trace_file.display())));
    }
    // a trace (or a selection of it) without one invocation would run an empty simulation
    if keep.iter().all(|&i| scan.functions[i].invocations == 0) {
        return Err(ctx.err(
            k("path"),
            format!(
                "the trace {} has no invocations{}; there is nothing to replay",
                trace_file.display(),
                if keep.len() < scan.functions.len() { " in the functions selected" } else { "" }
            ),
        ));
    }

    // the functions themselves
    let tpl = x.functions[template].clone();
    let fc = x.platform.pricing.starts_with("fc");
    let limit = if tpl.gpu.is_some() { 15 * GB } else { 10 * GB };
    let mut bad = scan.bad;
    let default_image = match r.image.as_ref() {
        None => tpl.image,
        Some(v) => {
            let s = ctx.string(v, &k("image"), "the name of an [[image]]")?;
            let i = x.images.iter().position(|im| im.name == s).ok_or_else(|| {
                ctx.err(
                    k("image"),
                    format!(
                        "there is no image named \"{s}\"{}",
                        choices(s, x.images.iter().map(|i| i.name.as_str()), "images")
                    ),
                )
            })?;
            check_image_limit(&x.images[i], limit, &tpl).map_err(|m| ctx.err(k("image"), m))?;
            i
        }
    };
    let mapped = match opt_path(&r.image_map, "image_map")? {
        None => vec![None; scan.functions.len()],
        Some(p) => {
            exists(&p, "image_map")?;
            image_map(&p, &scan.functions, x.images, limit, &tpl, &mut bad)?
        }
    };
    let sizes = match opt_path(&r.image_sizes, "image_sizes")? {
        None => None,
        Some(p) => {
            exists(&p, "image_sizes")?;
            Some(image_sizes(&p, limit, &mut bad)?)
        }
    };
    let mut taken: HashSet<String> = x.functions.iter().map(|f| f.name.clone()).collect();
    let mut draw = stream(x.sim.seed, 0, "trace-images", index as u64);
    let mut locals = Vec::with_capacity(keep.len());
    let mut invocations = 0;
    for &i in &keep {
        let tf = &scan.functions[i];
        if !taken.insert(tf.id.clone()) {
            return Err(row_error(&trace_file.display().to_string(), tf.line, format!(
                "function {} is already a function of the scenario (a [[function]] or another trace workload); names must be unique",
                tf.id
            )));
        }
        let mut f = tpl.clone();
        f.name = tf.id.clone();
        if let (true, Some(mb)) = (memory_from_trace, tf.memory_mb) {
            f.memory_mb = round_memory_mb(mb);
            f.milli_vcpu = scaled_vcpu(&tpl, f.memory_mb, fc);
            if f.memory_mb > x.platform.host_memory_mb {
                return Err(row_error(
                    &trace_file.display().to_string(),
                    tf.line,
                    format!(
                        "function {} needs {} (the trace's {mb} MB rounded up), more than platform.host_memory {}",
                        tf.id,
                        fs(f.memory_mb * MB),
                        fs(x.platform.host_memory_mb * MB)
                    ),
                ));
            }
        }
        if let Some(exec) = &tf.exec {
            f.exec = exec.clone();
        }
        f.image = match (mapped[i], &sizes) {
            (Some(img), _) => img,
            (None, Some(table)) => {
                let (compressed, layers) = table[draw.random_range(0..table.len())];
                x.images.push(drawn_image(&tf.id, compressed, layers));
                x.images.len() - 1
            }
            (None, None) => default_image,
        };
        invocations += tf.invocations;
        locals.push(x.functions.len() as u32);
        x.functions.push(f);
    }
    let summary = TraceSummary {
        functions_in_trace: scan.functions.len(),
        functions: keep.len(),
        invocations_in_trace: scan.functions.iter().map(|f| f.invocations).sum(),
        invocations,
        bad,
        notes: scan.notes,
    };
    let data = TraceData { layout: scan.layout.select(&keep), origin, window: reorder, spread };
    Ok(TraceArrivals {
        format,
        path: trace_file.display().to_string(),
        data: Arc::new(data),
        functions: locals,
        summary,
    })
}

fn origin(v: &Value, path: &str, start: i64, kind: Kind, ctx: &Ctx<'_>) -> Result<i64, InputError> {
    let allowed = "origin is a number of seconds, \"first\" (the trace's start), or an RFC 3339 date-time such as \"2021-02-01T00:00:00Z\"";
    let text = match v {
        Value::Integer(_) | Value::Float(_) => {
            let s = ctx.number(Some(v), path)?.unwrap_or(0.0);
            return timestamp::seconds(s.to_string().as_bytes()).map_err(|m| ctx.err(path, m));
        }
        Value::String(s) if s == "first" => return Ok(start),
        Value::String(s) => s.clone(),
        Value::Datetime(d) => d.to_string(),
        other => return Err(ctx.err(path, format!("found {}; {allowed}", describe(other)))),
    };
    let us = timestamp::rfc3339(text.as_bytes()).map_err(|m| ctx.err(path, format!("{m}; {allowed}")))?;
    if kind != Kind::Rfc3339 {
        return Err(ctx.err(
            path,
            "origin is a date-time but the trace's timestamps are numbers of seconds; give origin in seconds",
        ));
    }
    Ok(us)
}

/// The scan indices of the functions to keep, increasing.
fn select(
    r: &RawTrace,
    here: &str,
    index: usize,
    fns: &[TraceFn],
    seed: u64,
    ctx: &Ctx<'_>,
) -> Result<Vec<usize>, InputError> {
    let k = |key: &str| join(here, key);
    if let Some(v) = r.only.as_ref() {
        if r.functions.is_some() {
            return Err(
                ctx.err(k("functions"), "give either `only` (these functions) or `functions` (how many), not both")
            );
        }
        let ids: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let mut keep = Vec::new();
        for (j, id) in ids.iter().enumerate() {
            let p = if matches!(v, Value::Array(_)) { format!("{}[{j}]", k("only")) } else { k("only") };
            let id = ctx.string(id, &p, "a function id of the trace")?;
            let Some(i) = fns.iter().position(|f| f.id == id) else {
                return Err(ctx.err(
                    &p,
                    format!(
                        "the trace has no function \"{id}\"{} ({} functions; `coldcost trace stats` lists the busiest)",
                        did_you_mean(id, fns.iter().map(|f| f.id.as_str())),
                        fns.len()
                    ),
                ));
            };
            keep.push(i);
        }
        keep.sort_unstable();
        keep.dedup();
        return Ok(keep);
    }
    let n = match r.functions.as_ref() {
        None => {
            for key in ["select", "seed"] {
                let given = if key == "select" { &r.select } else { &r.seed };
                if given.is_some() {
                    return Err(ctx.err(k(key), format!("`{key}` goes with `functions` (how many to keep)")));
                }
            }
            return Ok((0..fns.len()).collect());
        }
        Some(v) => {
            let n = ctx.number(Some(v), &k("functions"))?.unwrap_or(0.0);
            if n.fract() != 0.0 || n < 1.0 {
                return Err(ctx.err(
                    k("functions"),
                    format!("functions is a whole number of functions to keep, at least 1; found {n}"),
                ));
            }
            (n as usize).min(fns.len())
        }
    };
    let sample = match r.select.as_ref() {
        None => false,
        Some(v) => match ctx.string(v, &k("select"), "\"top\" or \"sample\"")? {
            "top" => false,
            "sample" => true,
            other => {
                return Err(ctx.err(
                    k("select"),
                    format!("unknown select \"{other}\"{}", choices(other, ["top", "sample"], "allowed")),
                ))
            }
        },
    };
    let mut order: Vec<usize> = (0..fns.len()).collect();
    if sample {
        let seed = match r.seed.as_ref() {
            None => seed,
            Some(v) => {
                let s = ctx.number(Some(v), &k("seed"))?.unwrap_or(0.0);
                if s.fract() != 0.0 || s < 0.0 {
                    return Err(ctx.err(k("seed"), format!("seed is a whole number, 0 or more; found {s}")));
                }
                s as u64
            }
        };
        let mut rng = stream(seed, 0, "trace-sample", index as u64);
        for j in 0..n {
            let pick = rng.random_range(j..order.len());
            order.swap(j, pick);
        }
    } else {
        if r.seed.is_some() {
            return Err(ctx.err(k("seed"), "`seed` goes with select = \"sample\""));
        }
        // most invocations first; ties in trace order
        order.sort_by_key(|&i| (std::cmp::Reverse(fns[i].invocations), i));
    }
    let mut keep = order[..n].to_vec();
    keep.sort_unstable();
    Ok(keep)
}

/// vCPU for a trace function of `memory_mb`: the template's vCPU per GB, in 0.05 steps,
/// within FC's 1:1..1:4 vCPU:GB when an FC sheet prices the scenario.
fn scaled_vcpu(tpl: &Function, memory_mb: u64, fc: bool) -> u64 {
    let per_mb = tpl.milli_vcpu as f64 / tpl.memory_mb as f64;
    let mut steps = ((per_mb * memory_mb as f64) / 50.0).round().max(1.0) as u64;
    if fc {
        let min = (memory_mb * 1000).div_ceil(4 * 1024 * 50).max(1);
        let max = (memory_mb * 1000 / (1024 * 50)).max(min);
        steps = steps.clamp(min, max);
    }
    steps.min(320) * 50
}

fn check_image_limit(img: &Image, limit: u64, tpl: &Function) -> Result<(), String> {
    let size = img.uncompressed_bytes();
    if size > limit {
        let what = if tpl.gpu.is_some() { "GPU" } else { "CPU" };
        return Err(format!(
            "image {} is {} uncompressed; FC allows at most {} GB for {what} functions",
            img.name,
            fs(size),
            limit / GB
        ));
    }
    Ok(())
}

/// `function,image` rows → the image of each scanned function (by scan index).
fn image_map(
    path: &Path,
    fns: &[TraceFn],
    images: &[Image],
    limit: u64,
    tpl: &Function,
    bad: &mut BadRows,
) -> Result<Vec<Option<usize>>, InputError> {
    let name = path.display().to_string();
    let file = trace::TraceFile::open(path)?;
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(file.reader(0));
    let io = |e: csv::Error| InputError::new(&name, "", format!("cannot read the image map: {e}"));
    let headers = rdr.headers().map_err(io)?.clone();
    let cols: Vec<&str> = headers.iter().map(|h| h.trim().trim_start_matches('\u{feff}')).collect();
    if cols != ["function", "image"] {
        return Err(InputError::new(
            &name,
            "",
            format!("the header is \"{}\"; an image map has the columns function,image", cols.join(",")),
        )
        .with_line(Some(1)));
    }
    let index: trace::FxMap<&str, usize> = fns.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
    let mut out: Vec<Option<usize>> = vec![None; fns.len()];
    let mut lines: Vec<u64> = vec![0; fns.len()];
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(io)? {
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != 2 {
            bad.refuse(row_error(&name, line, format!("{} fields; an image map row is function,image", rec.len())))?;
            continue;
        }
        let (func, img) = (rec[0].trim(), rec[1].trim());
        let Some(&i) = index.get(func) else {
            let m = format!(
                "unknown function \"{func}\": the trace has no such function{}",
                did_you_mean(func, fns.iter().map(|f| f.id.as_str()))
            );
            bad.refuse(row_error(&name, line, m))?;
            continue;
        };
        let Some(j) = images.iter().position(|im| im.name == img) else {
            let m = format!(
                "unknown image \"{img}\"{}",
                choices(img, images.iter().map(|i| i.name.as_str()), "the scenario's images")
            );
            bad.refuse(row_error(&name, line, m))?;
            continue;
        };
        if lines[i] > 0 {
            bad.refuse(row_error(
                &name,
                line,
                format!("function {func} is mapped twice (first at line {})", lines[i]),
            ))?;
            continue;
        }
        if let Err(m) = check_image_limit(&images[j], limit, tpl) {
            bad.refuse(row_error(&name, line, m))?;
            continue;
        }
        lines[i] = line;
        out[i] = Some(j);
    }
    Ok(out)
}

/// `compressed_bytes` and `layers` of each row whose image fits the size limit once
/// uncompressed ([`DRAWN_RATIO`]); other columns are ignored.
fn image_sizes(path: &Path, limit: u64, bad: &mut BadRows) -> Result<Vec<(u64, u32)>, InputError> {
    let name = path.display().to_string();
    let file = trace::TraceFile::open(path)?;
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(file.reader(0));
    let io = |e: csv::Error| InputError::new(&name, "", format!("cannot read the image sizes: {e}"));
    let headers = rdr.headers().map_err(io)?.clone();
    let col = |want: &str| {
        headers.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == want).ok_or_else(|| {
            InputError::new(
                &name,
                "",
                format!("the header lacks `{want}`; an image-size table has the columns compressed_bytes and layers"),
            )
            .with_line(Some(1))
        })
    };
    let (bytes_col, layers_col) = (col("compressed_bytes")?, col("layers")?);
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(io)? {
        let line = rec.position().map_or(0, |p| p.line());
        let b = rec.get(bytes_col).unwrap_or("").trim();
        let l = rec.get(layers_col).unwrap_or("").trim();
        match (b.parse::<u64>(), l.parse::<u32>()) {
            (Ok(bytes), Ok(layers)) if bytes > 0 && (1..=1000).contains(&layers) => {
                if (bytes as f64 * DRAWN_RATIO) <= limit as f64 {
                    out.push((bytes, layers));
                }
            }
            _ => bad.refuse(row_error(&name, line, format!(
                "compressed_bytes \"{b}\" and layers \"{l}\": a size is a whole number of bytes above 0, layers 1..=1000"
            )))?,
        }
    }
    if out.is_empty() {
        return Err(InputError::new(
            &name,
            "",
            format!(
                "no usable row: an image to draw needs a size whose {DRAWN_RATIO}x uncompressed size is at most {} GB",
                limit / GB
            ),
        ));
    }
    Ok(out)
}

/// A function's own image of `compressed` bytes in `layers` even layers (uncompressed
/// [`DRAWN_RATIO`] times more), as an `[[image]]` with `size` and `layer_count` would be.
fn drawn_image(function: &str, compressed: u64, layers: u32) -> Image {
    let n = layers as u64;
    let uncompressed = (compressed as f64 * DRAWN_RATIO).round() as u64;
    let part = |total: u64, j: u64| total / n + if j == 0 { total % n } else { 0 };
    let name = format!("{function}#image");
    let layers = (0..n)
        .map(|j| Layer {
            id: format!("{name}#{j}"),
            compressed: part(compressed, j),
            uncompressed: part(uncompressed, j),
            files: 0,
        })
        .collect();
    Image { name, layers, accelerated_from: None }
}

/// Drop template functions that no non-trace workload uses, renumbering the others.
pub(super) fn drop_templates(functions: &mut Vec<Function>, workloads: &mut [Workload], templates: &[usize]) {
    let used: HashSet<usize> =
        workloads.iter().filter(|w| !matches!(w.arrivals, Arrivals::Trace(_))).map(|w| w.function).collect();
    let gone: HashSet<usize> = templates.iter().copied().filter(|t| !used.contains(t)).collect();
    if gone.is_empty() {
        return;
    }
    let mut new_index = vec![usize::MAX; functions.len()];
    let mut next = 0;
    for (i, slot) in new_index.iter_mut().enumerate() {
        if !gone.contains(&i) {
            *slot = next;
            next += 1;
        }
    }
    let mut i = 0;
    functions.retain(|_| {
        i += 1;
        !gone.contains(&(i - 1))
    });
    for w in workloads.iter_mut() {
        if let Arrivals::Trace(t) = &mut w.arrivals {
            for f in &mut t.functions {
                *f = new_index[*f as usize] as u32;
            }
            w.function = t.functions[0] as usize;
        } else {
            w.function = new_index[w.function];
        }
    }
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
