//! The validated layer: [`RawScenario`] → [`Scenario`]. Every unit is resolved, every default
//! applied (the table is in [`super::raw`]), every rule checked, and every cross-reference
//! turned into an index. Each error names the key path as messages spell it
//! (`function.api.memory`, `image.api.layers[1].compressed`, `workload[0].arrivals.rate`),
//! says what was found and what is allowed, and comes from the place the value came from:
//! the scenario file (with its line), a calibration profile, or `--set`. `[[image]]` and
//! `[[function]]` are checked in `validate_images.rs` and `validate_functions.rs`; the price
//! sheet named by `platform.pricing` is parsed here, once ([`crate::billing::sheet::load`]).

use std::collections::HashMap;

use toml::Value;

use super::model::*;
use super::raw::*;
use super::validate_functions::functions;
use super::validate_images::images;
use super::BUILTIN_PRICING;
use crate::error::InputError;
use crate::input::{choices, join, key_of, list, usable_name, Ctx};
use crate::stats::Z99;
use crate::units::{
    format_duration as fd, format_size as fs, Micros, MICROS_PER_DAY as DAY, MICROS_PER_MS, MICROS_PER_SECOND,
};

pub(super) const MB: u64 = 1 << 20;
pub(super) const GB: u64 = 1 << 30;
/// Upper bounds that keep counts sane for the engine (each far above any real setup).
const MAX_HOSTS: i64 = 1_000_000;
/// Files in one layer: far above any real image (a large one holds about 10⁵) and small
/// enough that a count times a duration stays within what the model's arithmetic handles.
pub(super) const MAX_FILES: i64 = 1_000_000_000;
pub(super) const MAX_INSTANCES: i64 = 1_000_000;
pub(super) const MAX_LAYERS: i64 = 1_000;

/// Validates the whole scenario.
pub fn scenario(
    raw: &RawScenario,
    ctx: &Ctx<'_>,
    default_name: &str,
    profile: Option<String>,
) -> Result<Scenario, InputError> {
    let simulation = simulation(&raw.simulation, ctx, default_name)?;
    let platform = platform(&raw.platform, ctx, profile)?;
    let mut images = images(&raw.image, ctx, platform.provider.pull.acceleration)?;
    // functions that trace workloads copy need no `exec` of their own
    let only = match raw.function.as_slice() {
        [f] => f.name.as_ref().and_then(Value::as_str),
        _ => None,
    };
    let templates: Vec<&str> = raw
        .workload
        .iter()
        .filter(|w| matches!(w.arrivals, Some(RawArrivals::Trace(_))))
        .filter_map(|w| w.function.as_ref().and_then(Value::as_str).or(only))
        .collect();
    let mut functions = functions(&raw.function, &images, &platform, ctx, &templates)?;
    let mut x =
        super::trace::Expand { functions: &mut functions, images: &mut images, sim: &simulation, platform: &platform };
    let workloads = workloads(&raw.workload, &mut x, ctx)?;
    if let Some(start) = simulation.start {
        // reserved `at` times are clock times: move them to simulated time of day
        let tod = start.time_of_day();
        for f in &mut functions {
            if let Reserved::Daily(steps) = &mut f.reserved {
                for s in steps.iter_mut() {
                    s.at = (s.at + DAY - tod) % DAY;
                }
                steps.sort_by_key(|s| s.at);
            }
        }
    }
    let goals = super::goals::read(raw.goals.as_ref(), ctx)?;
    Ok(Scenario { simulation, platform, images, functions, workloads, goals })
}

/// Most buckets a run's time series may have (a year in 5-second buckets is 6.3 million).
const MAX_BUCKETS: u64 = 10_000_000;

/// Longest simulation, image or function name: names become folder names and columns.
const MAX_NAME_CHARS: usize = 100;

fn simulation(r: &RawSimulation, ctx: &Ctx<'_>, default_name: &str) -> Result<Simulation, InputError> {
    let name = match &r.name {
        None => default_name.to_string(),
        Some(v) => {
            let path = "simulation.name";
            let s = ctx.string(v, path, "it names the report folder")?;
            if s.trim().is_empty() || s.contains(['/', '\\', '\0']) || s == "." || s == ".." {
                return Err(ctx.err(
                    path,
                    format!(
                        "name \"{s}\" cannot name a report folder; use letters, digits, `-` and `_`, e.g. \"api-prod\""
                    ),
                ));
            }
            if s.chars().count() > MAX_NAME_CHARS || s.chars().any(char::is_control) {
                return Err(ctx.err(
                    path,
                    format!(
                        "a name of {} characters{}: it names a report folder, so at most {MAX_NAME_CHARS} characters on one line",
                        s.chars().count(),
                        if s.chars().any(char::is_control) { " with a control character" } else { "" }
                    ),
                ));
            }
            s.to_string()
        }
    };
    let horizon = ctx.positive_duration(r.horizon.as_ref(), "simulation.horizon")?.unwrap_or(DAY);
    let seed = ctx.int(r.seed.as_ref(), "simulation.seed", 0, i64::MAX)?.unwrap_or(1) as u64;
    let replications = ctx.int(r.replications.as_ref(), "simulation.replications", 1, 1000)?.unwrap_or(1) as u32;
    let bucket = ctx.positive_duration(r.bucket.as_ref(), "simulation.bucket")?.unwrap_or(60 * MICROS_PER_SECOND);
    // a bucket longer than the horizon is one bucket: the whole run (e.g. after
    // `--set simulation.horizon=30s` with the default 1m bucket)
    let bucket = bucket.min(horizon);
    // each bucket is a row of timeseries.csv per function: refuse what no one could read
    let rows = horizon.div_ceil(bucket);
    if rows > MAX_BUCKETS {
        return Err(ctx.err(
            "simulation.bucket",
            format!(
                "{} buckets over the horizon ({} rows of timeseries.csv per function and replication); at most {MAX_BUCKETS}: use a longer bucket",
                rows, rows
            ),
        ));
    }
    let warm_start = ctx.boolean(r.warm_start.as_ref(), "simulation.warm_start")?.unwrap_or(true);
    let warmup = ctx.duration(r.warmup.as_ref(), "simulation.warmup")?.unwrap_or(0);
    if warmup >= horizon {
        return Err(ctx.err(
            "simulation.warmup",
            format!(
                "warmup {} is not shorter than the horizon {}; statistics need time after it, e.g. warmup = \"10m\"",
                crate::units::format_duration(warmup),
                crate::units::format_duration(horizon)
            ),
        ));
    }
    let start = start(r.start.as_ref(), ctx)?;
    Ok(Simulation { name, horizon, seed, replications, bucket, warm_start, warmup, start })
}

/// `simulation.start`: an RFC 3339 string or a TOML offset date-time; the offset is required,
/// since clock times in reports and in `peak_at` mean nothing without it.
fn start(v: Option<&Value>, ctx: &Ctx<'_>) -> Result<Option<Start>, InputError> {
    let path = "simulation.start";
    let allowed = "a date-time with its UTC offset, e.g. \"2024-03-04T00:00:00+08:00\" or \"2024-03-04T00:00:00Z\"";
    let text = match v {
        None => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Datetime(d)) if d.date.is_some() && d.time.is_some() && d.offset.is_some() => d.to_string(),
        Some(other) => return Err(ctx.type_err(path, other, allowed)),
    };
    let t = text.trim().as_bytes();
    let epoch_us =
        crate::workload::timestamp::rfc3339(t).map_err(|m| ctx.err(path, format!("{m}; start is {allowed}")))?;
    // the offset is the text after the seconds (and fraction): `Z` or `±HH:MM`
    let offset_s = match t.last() {
        Some(b'Z' | b'z') => 0,
        _ => {
            let o = &t[t.len() - 6..];
            let n = |a: usize| ((o[a] - b'0') * 10 + (o[a + 1] - b'0')) as i32;
            let s = n(1) * 3600 + n(4) * 60;
            if o[0] == b'-' {
                -s
            } else {
                s
            }
        }
    };
    Ok(Some(Start { epoch_us, offset_s }))
}

fn platform(r: &RawPlatform, ctx: &Ctx<'_>, profile: Option<String>) -> Result<Platform, InputError> {
    let provider = match &r.provider {
        None => crate::provider::load("fc")?,
        Some(v) => provider(ctx.string(v, "platform.provider", "a built-in provider or a profile file")?, ctx)?,
    };
    let pricing = match &r.pricing {
        None => provider.pricing.clone(),
        Some(v) => pricing(ctx.string(v, "platform.pricing", "a built-in price sheet or a file")?, ctx)?,
    };
    let keep_alive = ctx.duration(r.keep_alive.as_ref(), "platform.keep_alive")?.unwrap_or(provider.keep_alive.0);
    let pick = match r.pick.unwrap_or(RawPick::Mru) {
        RawPick::Mru => Pick::Mru,
        RawPick::Newest => Pick::Newest,
        RawPick::LeastLoaded => Pick::LeastLoaded,
        RawPick::Random => Pick::Random,
    };
    let hosts = ctx.int(r.hosts.as_ref(), "platform.hosts", 1, MAX_HOSTS)?.unwrap_or(400) as u32;
    let host_memory = ctx.size(r.host_memory.as_ref(), "platform.host_memory")?.unwrap_or(128 * GB);
    if host_memory % MB != 0 || host_memory == 0 {
        return Err(ctx.err(
            "platform.host_memory",
            format!("host_memory {} must be a whole number of MB, at least 1MB", fs(host_memory)),
        ));
    }
    let cache_capacity = ctx.size(r.cache_capacity.as_ref(), "platform.cache_capacity")?.unwrap_or(200 * GB);
    let cache_ttl = ctx.duration(r.cache_ttl.as_ref(), "platform.cache_ttl")?.unwrap_or(30 * 60 * MICROS_PER_SECOND);
    let ready_timeout = ctx
        .positive_duration(r.ready_timeout.as_ref(), "platform.ready_timeout")?
        .unwrap_or(provider.start.ready_timeout);
    let container_create = dist(r.container_create.as_ref(), "platform.container_create", ctx)?
        .unwrap_or(Dist::Fixed(200 * MICROS_PER_MS));
    let pull = pull(&r.pull, ctx, profile, &provider)?;
    // the sheet's own errors name the sheet file, as they always did
    let sheet = crate::billing::sheet::load(&pricing)?;
    Ok(Platform {
        provider,
        pricing,
        sheet,
        keep_alive,
        pick,
        hosts,
        host_memory_mb: host_memory / MB,
        cache_capacity,
        cache_ttl,
        ready_timeout,
        container_create,
        pull,
    })
}

/// A built-in provider by name, or a profile file ([`Ctx::file`]).
fn provider(s: &str, ctx: &Ctx<'_>) -> Result<crate::provider::Profile, InputError> {
    const KEY: &str = "platform.provider";
    if crate::provider::builtin_names().any(|n| n == s) {
        return crate::provider::load(s);
    }
    let file = ctx.file(KEY, s);
    if !s.is_empty() && file.is_file() {
        return crate::provider::load(&file.display().to_string());
    }
    Err(ctx.err(
        KEY,
        format!(
            "provider \"{s}\" is neither a built-in provider nor an existing file ({}){}",
            ctx.looked_for(KEY, &file),
            choices(s, crate::provider::builtin_names(), "built-in providers")
        ),
    ))
}

/// A built-in sheet name as is, or the path of an existing file ([`Ctx::file`]).
fn pricing(s: &str, ctx: &Ctx<'_>) -> Result<String, InputError> {
    const KEY: &str = "platform.pricing";
    if BUILTIN_PRICING.contains(&s) {
        return Ok(s.to_string());
    }
    let file = ctx.file(KEY, s);
    if !s.is_empty() && file.is_file() {
        return Ok(file.display().to_string());
    }
    Err(ctx.err(
        KEY,
        format!(
            "pricing \"{s}\" is neither a built-in price sheet nor an existing file ({}){}",
            ctx.looked_for(KEY, &file),
            choices(s, BUILTIN_PRICING.iter().copied(), "built-in sheets")
        ),
    ))
}

fn pull(
    r: &RawPull,
    ctx: &Ctx<'_>,
    profile: Option<String>,
    provider: &crate::provider::Profile,
) -> Result<Pull, InputError> {
    let p = "platform.pull";
    let bw = |v: &Scalar, key: &str, default: f64| -> Result<f64, InputError> {
        let path = join(p, key);
        match ctx.bandwidth(v.as_ref(), &path)? {
            Some(x) if x <= 0.0 => Err(ctx.err(&path, format!("{key} must be more than 0bps"))),
            x => Ok(x.unwrap_or(default)),
        }
    };
    let host_bandwidth = bw(&r.host_bandwidth, "host_bandwidth", 5e9 / 8.0)?;
    let registry_bandwidth = bw(&r.registry_bandwidth, "registry_bandwidth", 20e9 / 8.0)?;
    // defaults measured by calibration here (README, "Defaults and their sources")
    let layer_overhead =
        ctx.duration(r.layer_overhead.as_ref(), "platform.pull.layer_overhead")?.unwrap_or(21 * MICROS_PER_MS);
    let manifest = ctx.duration(r.manifest.as_ref(), "platform.pull.manifest")?.unwrap_or(20 * MICROS_PER_MS);
    let extract_rate = match ctx.byte_rate(r.extract_rate.as_ref(), "platform.pull.extract_rate")? {
        Some(x) if x <= 0.0 => return Err(ctx.err("platform.pull.extract_rate", "extract_rate must be more than 0B/s")),
        x => x.unwrap_or(150.0 * MB as f64),
    };
    let extract_per_file = ctx.duration(r.extract_per_file.as_ref(), "platform.pull.extract_per_file")?.unwrap_or(250);
    let extract_overhead =
        ctx.duration(r.extract_overhead.as_ref(), "platform.pull.extract_overhead")?.unwrap_or(64 * MICROS_PER_MS);
    let parallel_layers =
        ctx.int(r.parallel_layers.as_ref(), "platform.pull.parallel_layers", 1, 64)?.unwrap_or(3) as u32;
    if r.acceleration.is_some() {
        return Err(ctx.err(
            "platform.pull.acceleration",
            "the platform-wide acceleration switch was replaced: set `acceleration = true` on each [[image]] to accelerate (FC sets it per function), or platform.pull.mode = \"lazy\" to load every image lazily; fetch_fraction is now platform.pull.lazy.index_fraction",
        ));
    }
    let mode = match r.mode {
        None => provider.pull.mode,
        Some(RawPullMode::Full) => PullMode::Full,
        Some(RawPullMode::Lazy) => PullMode::Lazy,
    };
    let raw_lazy = r.lazy.clone().unwrap_or_default();
    let fraction = |v: &Scalar, key: &str, default: f64| -> Result<f64, InputError> {
        let path = join("platform.pull.lazy", key);
        let x = ctx.number(v.as_ref(), &path)?.unwrap_or(default);
        if !(0.0..=1.0).contains(&x) {
            return Err(ctx.err(
                &path,
                format!("{key} {x} is out of range; it is a share of each layer, from 0 to 1 (e.g. {default})"),
            ));
        }
        Ok(x)
    };
    // defaults: README, "Defaults and their sources" (DADI's index copy, Brooker et al.'s reads)
    let lazy = Lazy {
        index_fraction: fraction(&raw_lazy.index_fraction, "index_fraction", 0.03)?,
        read_fraction: fraction(&raw_lazy.read_fraction, "read_fraction", 0.065)?,
    };
    // checked even when unused, so a `--vary` over the distribution meets no late error;
    // FaaSNet's function trees are binary (Wang et al., ATC '21)
    let fanout = ctx.int(r.p2p.as_ref().and_then(|t| t.fanout.as_ref()), "platform.pull.p2p.fanout", 1, 64)?;
    let distribution = match r.distribution.unwrap_or(RawDistribution::Registry) {
        RawDistribution::Registry => Distribution::Registry,
        RawDistribution::P2p => Distribution::P2p { fanout: fanout.unwrap_or(2) as u32 },
    };
    Ok(Pull {
        host_bandwidth,
        registry_bandwidth,
        layer_overhead,
        manifest,
        extract_rate,
        extract_per_file,
        extract_overhead,
        parallel_layers,
        mode,
        lazy,
        profile,
        distribution,
    })
}

/// The `name` of an element of `[[image]]` / `[[function]]`: a string that can stand in a
/// dotted path.
pub(super) fn element_name(v: &Scalar, array: &str, index: usize, ctx: &Ctx<'_>) -> Result<String, InputError> {
    let here = format!("{array}[{index}]");
    let path = join(&here, "name");
    let Some(v) = v else {
        return Err(ctx.err(&path, format!("`name` is missing; every [[{array}]] needs one, e.g. name = \"api\"")));
    };
    let s = ctx.string(v, &path, &format!("the {array}'s name"))?;
    if s.chars().count() > MAX_NAME_CHARS {
        return Err(ctx.err(&path, format!("a name of {} characters; at most {MAX_NAME_CHARS}", s.chars().count())));
    }
    if array == "function" && s == "ALL" {
        return Err(ctx.err(&path, "`ALL` names the every-function row of summary.csv; choose another function name"));
    }
    if !usable_name(s) {
        return Err(ctx.err(
            &path,
            format!("{array} name \"{s}\" is not usable: it must be non-empty, without `.`, `[`, `]`, `=` or spaces, and not all digits (it is used in key paths such as {array}.api.memory)"),
        ));
    }
    Ok(s.to_string())
}

/// A required scalar, as `Some` so it feeds the optional readers.
fn need<'v>(ctx: &Ctx<'_>, v: &'v Scalar, path: &str, example: &str) -> Result<Option<&'v Value>, InputError> {
    ctx.required(v.as_ref(), path, example).map(Some)
}

/// A distribution: a plain duration or a `dist` table.
pub(super) fn dist(r: Option<&RawDist>, path: &str, ctx: &Ctx<'_>) -> Result<Option<Dist>, InputError> {
    let Some(r) = r else { return Ok(None) };
    let t = match r {
        RawDist::Plain(v @ Value::String(_)) => return Ok(ctx.duration(Some(v), path)?.map(Dist::Fixed)),
        RawDist::Plain(other) => {
            return Err(ctx.type_err(
                path,
                other,
                "a distribution is a duration string such as \"200ms\" (a fixed value) or a table such as { dist = \"exp\", mean = \"200ms\" }",
            ))
        }
        RawDist::Table(t) => t,
    };
    let k = |key: &str| join(path, key);
    let pos_dur = |v: &Scalar, key: &str, example: &str| -> Result<Micros, InputError> {
        let v = need(ctx, v, &k(key), example)?;
        ctx.required(ctx.positive_duration(v, &k(key))?, &k(key), example)
    };
    let shape = |v: &Scalar, example: &str| -> Result<f64, InputError> {
        let v = need(ctx, v, &k("shape"), example)?;
        ctx.required(ctx.positive(v, &k("shape"))?, &k("shape"), example)
    };
    let d = match t {
        RawDistTable::Fixed { value } => {
            let ex = "{ dist = \"fixed\", value = \"200ms\" }";
            Dist::Fixed(ctx.required(
                ctx.duration(need(ctx, value, &k("value"), ex)?, &k("value"))?,
                &k("value"),
                ex,
            )?)
        }
        RawDistTable::Exp { mean } => Dist::Exp { mean: pos_dur(mean, "mean", "{ dist = \"exp\", mean = \"2s\" }")? },
        RawDistTable::Lognormal { median, p99, mu, sigma } => {
            let ex = "{ dist = \"lognormal\", median = \"800ms\", p99 = \"3s\" } or { dist = \"lognormal\", mu = -0.22, sigma = 0.57 }";
            let by_quantiles = median.is_some() || p99.is_some();
            let by_params = mu.is_some() || sigma.is_some();
            if by_quantiles && by_params {
                return Err(
                    ctx.err(path, format!("give either `median` and `p99`, or `mu` and `sigma`, not both; e.g. {ex}"))
                );
            }
            if by_params {
                let mu = ctx.required(ctx.number(mu.as_ref(), &k("mu"))?, &k("mu"), ex)?;
                let sigma = ctx.required(ctx.number(sigma.as_ref(), &k("sigma"))?, &k("sigma"), ex)?;
                if sigma < 0.0 {
                    return Err(ctx.err(k("sigma"), format!("sigma {sigma} is negative; it must be 0 or more")));
                }
                Dist::LogNormal { mu, sigma }
            } else {
                let m = pos_dur(median, "median", ex)?;
                let q = pos_dur(p99, "p99", ex)?;
                if q <= m {
                    return Err(ctx.err(k("p99"), format!("p99 {} must be more than the median {}", fd(q), fd(m))));
                }
                let secs = |us: Micros| us as f64 / MICROS_PER_SECOND as f64;
                Dist::LogNormal { mu: secs(m).ln(), sigma: (secs(q) / secs(m)).ln() / Z99 }
            }
        }
        RawDistTable::Gamma { shape: sh, mean, scale } => {
            let ex =
                "{ dist = \"gamma\", shape = 2, mean = \"1s\" } or { dist = \"gamma\", shape = 2, scale = \"500ms\" }";
            let shape = shape(sh, ex)?;
            match (mean, scale) {
                (Some(_), Some(_)) => {
                    return Err(ctx.err(path, format!("give either `mean` or `scale`, not both; e.g. {ex}")))
                }
                (Some(_), None) => Dist::Gamma { shape, scale: pos_dur(mean, "mean", ex)? as f64 / shape },
                (None, _) => Dist::Gamma { shape, scale: pos_dur(scale, "scale", ex)? as f64 },
            }
        }
        RawDistTable::Weibull { shape: sh, scale } => {
            let ex = "{ dist = \"weibull\", shape = 1.5, scale = \"1s\" }";
            Dist::Weibull { shape: shape(sh, ex)?, scale: pos_dur(scale, "scale", ex)? as f64 }
        }
        RawDistTable::Pareto { shape: sh, scale } => {
            let ex = "{ dist = \"pareto\", shape = 2.5, scale = \"100ms\" }";
            Dist::Pareto { shape: shape(sh, ex)?, scale: pos_dur(scale, "scale", ex)? as f64 }
        }
        RawDistTable::Empirical { percentiles, values } => empirical(percentiles, values, path, ctx)?,
    };
    Ok(Some(d))
}

fn empirical(percentiles: &Scalar, values: &Scalar, path: &str, ctx: &Ctx<'_>) -> Result<Dist, InputError> {
    let ex = "{ dist = \"empirical\", percentiles = [0, 50, 100], values = [\"10ms\", \"50ms\", \"2s\"] }";
    let pp = join(path, "percentiles");
    let vp = join(path, "values");
    let arr = |v: &Scalar, p: &str| -> Result<Vec<Value>, InputError> {
        match ctx.required(v.as_ref(), p, ex)? {
            Value::Array(a) => Ok(a.clone()),
            other => Err(ctx.type_err(p, other, &format!("`{}` is an array; e.g. {ex}", key_of(p)))),
        }
    };
    let ps = arr(percentiles, &pp)?;
    let vs = arr(values, &vp)?;
    if ps.len() != vs.len() {
        return Err(
            ctx.err(&vp, format!("{} values for {} percentiles; give one value per percentile", vs.len(), ps.len()))
        );
    }
    if ps.len() < 2 {
        return Err(ctx.err(&pp, format!("give at least two points, from 0 to 100; e.g. {ex}")));
    }
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(ps.len());
    for (i, (p, v)) in ps.iter().zip(&vs).enumerate() {
        let pi = format!("{pp}[{i}]");
        let vi = format!("{vp}[{i}]");
        let p = ctx.required(ctx.number(Some(p), &pi)?, &pi, ex)?;
        let v = ctx.required(ctx.duration(Some(v), &vi)?, &vi, ex)? as f64;
        if !(0.0..=100.0).contains(&p) {
            return Err(ctx.err(&pi, format!("percentile {p} is outside 0..100")));
        }
        if let Some(&(lp, lv)) = points.last() {
            if p <= lp {
                return Err(ctx.err(&pi, format!("percentile {p} does not increase (the one before is {lp}); percentiles must be strictly increasing")));
            }
            if v < lv {
                return Err(ctx.err(
                    &vi,
                    format!(
                        "value {} is less than the one before ({}); values must not decrease",
                        fd(v as u64),
                        fd(lv as u64)
                    ),
                ));
            }
        }
        points.push((p, v));
    }
    if points[0].0 != 0.0 {
        return Err(ctx.err(format!("{pp}[0]"), format!("percentiles must start at 0; found {}", points[0].0)));
    }
    if points[points.len() - 1].0 != 100.0 {
        return Err(ctx.err(
            format!("{pp}[{}]", points.len() - 1),
            format!("percentiles must end at 100; found {}", points[points.len() - 1].0),
        ));
    }
    Ok(Dist::Empirical { points })
}

fn workloads(
    raw: &[RawWorkload],
    x: &mut super::trace::Expand<'_>,
    ctx: &Ctx<'_>,
) -> Result<Vec<Workload>, InputError> {
    let sim = x.sim;
    // the file's functions (trace workloads add theirs as they load)
    let file_names: Vec<String> = x.functions.iter().map(|f| f.name.clone()).collect();
    let names: Vec<&str> = file_names.iter().map(String::as_str).collect();
    // a map, not a scan per workload: a fleet has 10,000 functions (first of a name wins)
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        index.entry(n).or_insert(i);
    }
    let mut templates = Vec::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let here = format!("workload[{i}]");
        let p = |k: &str| join(&here, k);
        let function = match &r.function {
            None if names.len() == 1 => 0,
            None => {
                let all = list(names.iter().copied());
                let n = names.len();
                let msg = format!("`function` is missing; the scenario has {n} functions ({all}), so say which one");
                return Err(ctx.err(p("function"), msg));
            }
            Some(v) => {
                let s = ctx.string(v, &p("function"), "the name of a [[function]]")?;
                index.get(s).copied().ok_or_else(|| {
                    ctx.err(
                        p("function"),
                        format!("there is no function named \"{s}\"{}", choices(s, names.iter().copied(), "functions")),
                    )
                })?
            }
        };
        let ap = p("arrivals");
        let Some(a) = &r.arrivals else {
            return Err(ctx.err(
                &ap,
                "`arrivals` is missing; e.g. arrivals = { kind = \"poisson\", rate = \"2/s\" } (kinds: poisson, diurnal, hourly, counts, bursty, constant, trace)",
            ));
        };
        let from = ctx.duration(r.from.as_ref(), &p("from"))?.unwrap_or(0);
        let until_given = ctx.duration(r.until.as_ref(), &p("until"))?;
        // A window that starts at or after the horizon is empty, not an error: a user who
        // shortens the horizon (`--set simulation.horizon=1h`) keeps a valid scenario.
        // Only a window that is empty by its own bounds is a mistake.
        if let Some(u) = until_given {
            if from >= u {
                return Err(ctx.err(
                    p("until"),
                    format!(
                        "until {} is not after from {}; the window [from, until) must be non-empty",
                        fd(u),
                        fd(from)
                    ),
                ));
            }
        }
        let until = until_given.unwrap_or(sim.horizon).min(sim.horizon).max(from.min(sim.horizon));
        let (function, arrivals) = match a {
            RawArrivals::Trace(t) => {
                templates.push(function);
                let t = super::trace::load(t, &ap, i, function, (from, until), x, ctx)?;
                (t.functions[0] as usize, Arrivals::Trace(Box::new(t)))
            }
            _ => (function, arrivals(a, &ap, sim, ctx)?),
        };
        out.push(Workload { function, arrivals, from, until });
    }
    super::trace::drop_templates(x.functions, &mut out, &templates);
    Ok(out)
}

fn arrivals(a: &RawArrivals, path: &str, sim: &Simulation, ctx: &Ctx<'_>) -> Result<Arrivals, InputError> {
    let k = |key: &str| join(path, key);
    let need = |v: &Scalar, key: &str, example: &str| -> Result<(), InputError> {
        ctx.required(v.as_ref(), &k(key), example).map(|_| ())
    };
    Ok(match a {
        RawArrivals::Poisson { rate } => {
            let ex = "arrivals = { kind = \"poisson\", rate = \"2/s\" }";
            need(rate, "rate", ex)?;
            Arrivals::Poisson { rate: ctx.positive_rate(rate.as_ref(), &k("rate"))?.unwrap_or(0.0) }
        }
        RawArrivals::Diurnal { mean, peak_ratio, period, phase, peak, trough, peak_at } => {
            let ex = "arrivals = { kind = \"diurnal\", peak = \"300/s\", trough = \"20/s\", peak_at = \"10:00\" } (or mean = \"160/s\", peak_ratio = 15)";
            let (mean, peak_ratio) = match (peak, trough) {
                (None, None) => {
                    need(mean, "mean", ex)?;
                    let mean = ctx.positive_rate(mean.as_ref(), &k("mean"))?.unwrap_or(0.0);
                    let peak_ratio = ctx.number(peak_ratio.as_ref(), &k("peak_ratio"))?.unwrap_or(4.0);
                    if peak_ratio < 1.0 {
                        return Err(ctx.err(k("peak_ratio"), format!("peak_ratio {peak_ratio} is below 1; it is the peak rate over the trough rate, at least 1 (1 = flat)")));
                    }
                    (mean, peak_ratio)
                }
                (Some(_), Some(_)) => {
                    for (v, key) in [(mean, "mean"), (peak_ratio, "peak_ratio")] {
                        if v.is_some() {
                            return Err(ctx.err(
                                k(key),
                                format!("`{key}` and `peak`/`trough` both describe the curve; give one pair: {ex}"),
                            ));
                        }
                    }
                    let top = ctx.positive_rate(peak.as_ref(), &k("peak"))?.unwrap_or(0.0);
                    let bottom = ctx.rate(trough.as_ref(), &k("trough"))?.unwrap_or(0.0);
                    if bottom > top {
                        return Err(ctx.err(
                            k("trough"),
                            format!(
                                "trough {bottom}/s is above peak {top}/s; the trough is the lowest rate of the day"
                            ),
                        ));
                    }
                    // trough 0 is a ratio of infinity: the cosine touches zero
                    let ratio = if bottom > 0.0 { top / bottom } else { f64::INFINITY };
                    ((top + bottom) / 2.0, ratio)
                }
                (Some(_), None) => {
                    return Err(ctx.err(k("trough"), format!("`peak` needs `trough`, the lowest rate; e.g. {ex}")))
                }
                (None, Some(_)) => {
                    return Err(ctx.err(k("peak"), format!("`trough` needs `peak`, the highest rate; e.g. {ex}")))
                }
            };
            let period = ctx.positive_duration(period.as_ref(), &k("period"))?.unwrap_or(DAY);
            let peak = match (phase, peak_at) {
                (Some(_), Some(_)) => {
                    return Err(ctx.err(
                        k("peak_at"),
                        "`phase` and `peak_at` both place the peak; give one (peak_at = \"10:00\" is a clock time)",
                    ))
                }
                (_, Some(v)) => {
                    let at = super::validate_functions::time_of_day(v, &k("peak_at"), ctx)?;
                    let tod = sim.start.map_or(0, |s| s.time_of_day());
                    (at + DAY - tod) % DAY % period
                }
                (p, None) => ctx.duration(p.as_ref(), &k("phase"))?.unwrap_or(period / 2),
            };
            Arrivals::Diurnal { mean, peak_ratio, period, peak }
        }
        RawArrivals::Hourly { rates } => {
            let ex = "arrivals = { kind = \"hourly\", rates = [\"20/s\", ... 24 rates from 00:00, or 168 from Monday 00:00] }";
            let v = ctx.required(rates.as_ref(), &k("rates"), ex)?;
            let Value::Array(items) = v else {
                return Err(ctx.type_err(&k("rates"), v, "rates is a list of 24 rates (one per hour from 00:00) or 168 (a week from Monday 00:00), e.g. [\"20/s\", \"15/s\", ...]"));
            };
            if items.len() != 24 && items.len() != 168 {
                return Err(ctx.err(
                    k("rates"),
                    format!(
                        "found {} rates; an hourly profile has 24 (a day from 00:00) or 168 (a week from Monday 00:00)",
                        items.len()
                    ),
                ));
            }
            let rates = items
                .iter()
                .enumerate()
                .map(|(i, r)| ctx.rate(Some(r), &format!("{}[{i}]", k("rates"))).map(|x| x.unwrap_or(0.0)))
                .collect::<Result<Vec<f64>, _>>()?;
            if rates.iter().all(|&r| r == 0.0) {
                return Err(ctx.err(k("rates"), "every rate is zero; give at least one hour some traffic"));
            }
            let weekly = rates.len() == 168;
            let origin = match sim.start {
                Some(s) if weekly => s.time_of_week(),
                Some(s) => s.time_of_day(),
                None => 0,
            } as i64;
            let source = if weekly { ProfileSource::Weekly } else { ProfileSource::Hourly };
            Arrivals::Profile(Profile { rates, step: crate::units::MICROS_PER_HOUR, origin, repeat: true, source })
        }
        RawArrivals::Counts { path: file, bucket } => {
            let ex = "arrivals = { kind = \"counts\", path = \"requests.csv\" } (a CSV with a header timestamp,count)";
            let v = ctx.required(file.as_ref(), &k("path"), ex)?;
            let given = ctx.string(v, &k("path"), "the counts CSV")?;
            let bucket = ctx.positive_duration(bucket.as_ref(), &k("bucket"))?;
            let f = ctx.file(&k("path"), given);
            if !f.is_file() {
                return Err(
                    ctx.err(k("path"), format!("there is no file \"{given}\"; {}", ctx.looked_for(&k("path"), &f)))
                );
            }
            let c = crate::workload::counts::read(&f, given, bucket)?;
            let step_s = c.step as f64 / MICROS_PER_SECOND as f64;
            let rates = c.counts.iter().map(|n| n / step_s).collect();
            // a date-time file lines up with simulation.start; otherwise its first row is time 0
            let origin = match (sim.start, c.kind) {
                (Some(s), crate::workload::timestamp::Kind::Rfc3339) => s.epoch_us - c.first,
                _ => 0,
            };
            let source = ProfileSource::Counts(given.to_string());
            Arrivals::Profile(Profile { rates, step: c.step, origin, repeat: false, source })
        }
        RawArrivals::Bursty { on_rate, off_rate, mean_on, mean_off } => {
            let ex = "arrivals = { kind = \"bursty\", on_rate = \"200/s\", off_rate = \"1/s\", mean_on = \"2m\", mean_off = \"20m\" }";
            need(on_rate, "on_rate", ex)?;
            need(off_rate, "off_rate", ex)?;
            need(mean_on, "mean_on", ex)?;
            need(mean_off, "mean_off", ex)?;
            Arrivals::Bursty {
                on_rate: ctx.positive_rate(on_rate.as_ref(), &k("on_rate"))?.unwrap_or(0.0),
                off_rate: ctx.rate(off_rate.as_ref(), &k("off_rate"))?.unwrap_or(0.0),
                mean_on: ctx.positive_duration(mean_on.as_ref(), &k("mean_on"))?.unwrap_or(0),
                mean_off: ctx.positive_duration(mean_off.as_ref(), &k("mean_off"))?.unwrap_or(0),
            }
        }
        RawArrivals::Constant { interval } => {
            need(interval, "interval", "arrivals = { kind = \"constant\", interval = \"10s\" }")?;
            Arrivals::Constant { interval: ctx.positive_duration(interval.as_ref(), &k("interval"))?.unwrap_or(0) }
        }
        RawArrivals::Trace(_) => unreachable!("trace arrivals are loaded by `workloads`"),
    })
}
