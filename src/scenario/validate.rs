//! The validated layer: [`RawScenario`] → [`Scenario`]. Every unit is resolved, every default
//! applied (the table is in [`super::raw`]), every rule checked, and every cross-reference
//! turned into an index. Each error names the key path as messages spell it
//! (`function.api.memory`, `image.api.layers[1].compressed`, `workload[0].arrivals.rate`),
//! says what was found and what is allowed, and comes from the place the value came from:
//! the scenario file (with its line), a calibration profile, or `--set`.

use std::collections::{HashMap, HashSet};

use toml::Value;

use super::model::*;
use super::raw::*;
use super::BUILTIN_PRICING;
use crate::error::InputError;
use crate::input::{choices, describe, elem_path, join, key_of, list, usable_name, Ctx};
use crate::stats::Z99;
use crate::units::{
    self, format_duration as fd, format_size as fs, Micros, MICROS_PER_DAY as DAY, MICROS_PER_MS, MICROS_PER_SECOND,
};

const MB: u64 = 1 << 20;
const GB: u64 = 1 << 30;
/// Upper bounds that keep counts sane for the engine (each far above any real setup).
const MAX_HOSTS: i64 = 1_000_000;
const MAX_INSTANCES: i64 = 1_000_000;
const MAX_LAYERS: i64 = 1_000;

/// Validates the whole scenario.
pub fn scenario(
    raw: &RawScenario,
    ctx: &Ctx<'_>,
    default_name: &str,
    profile: Option<String>,
) -> Result<Scenario, InputError> {
    let simulation = simulation(&raw.simulation, ctx, default_name)?;
    let platform = platform(&raw.platform, ctx, profile)?;
    let mut images = images(&raw.image, ctx)?;
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
    Ok(Scenario { simulation, platform, images, functions, workloads })
}

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
    Ok(Simulation { name, horizon, seed, replications, bucket })
}

fn platform(r: &RawPlatform, ctx: &Ctx<'_>, profile: Option<String>) -> Result<Platform, InputError> {
    let pricing = match &r.pricing {
        None => "fc3".to_string(),
        Some(v) => pricing(ctx.string(v, "platform.pricing", "a built-in price sheet or a file")?, ctx)?,
    };
    let keep_alive = ctx.duration(r.keep_alive.as_ref(), "platform.keep_alive")?.unwrap_or(60 * MICROS_PER_SECOND);
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
    let ready_timeout =
        ctx.positive_duration(r.ready_timeout.as_ref(), "platform.ready_timeout")?.unwrap_or(120 * MICROS_PER_SECOND);
    let container_create = dist(r.container_create.as_ref(), "platform.container_create", ctx)?
        .unwrap_or(Dist::Fixed(200 * MICROS_PER_MS));
    let pull = pull(&r.pull, ctx, profile)?;
    Ok(Platform {
        pricing,
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

fn pull(r: &RawPull, ctx: &Ctx<'_>, profile: Option<String>) -> Result<Pull, InputError> {
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
    let layer_overhead =
        ctx.duration(r.layer_overhead.as_ref(), "platform.pull.layer_overhead")?.unwrap_or(75 * MICROS_PER_MS);
    let manifest = ctx.duration(r.manifest.as_ref(), "platform.pull.manifest")?.unwrap_or(20 * MICROS_PER_MS);
    let extract_rate = match ctx.byte_rate(r.extract_rate.as_ref(), "platform.pull.extract_rate")? {
        Some(x) if x <= 0.0 => return Err(ctx.err("platform.pull.extract_rate", "extract_rate must be more than 0B/s")),
        x => x.unwrap_or(150.0 * MB as f64),
    };
    let extract_per_file = ctx.duration(r.extract_per_file.as_ref(), "platform.pull.extract_per_file")?.unwrap_or(250);
    let extract_overhead = ctx.duration(r.extract_overhead.as_ref(), "platform.pull.extract_overhead")?.unwrap_or(0);
    let parallel_layers =
        ctx.int(r.parallel_layers.as_ref(), "platform.pull.parallel_layers", 1, 64)?.unwrap_or(3) as u32;
    let acc = r.acceleration.clone().unwrap_or_default();
    let ap = "platform.pull.acceleration";
    let enabled = ctx.boolean(acc.enabled.as_ref(), &join(ap, "enabled"))?.unwrap_or(false);
    let fp = join(ap, "fetch_fraction");
    let fraction = ctx.number(acc.fetch_fraction.as_ref(), &fp)?.unwrap_or(0.065);
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(ctx.err(
            &fp,
            format!("fetch_fraction {fraction} is out of range; it is the share of each layer fetched before start, more than 0 and at most 1 (e.g. 0.065)"),
        ));
    }
    Ok(Pull {
        host_bandwidth,
        registry_bandwidth,
        layer_overhead,
        manifest,
        extract_rate,
        extract_per_file,
        extract_overhead,
        parallel_layers,
        fetch_fraction: enabled.then_some(fraction),
        profile,
    })
}

/// The `name` of an element of `[[image]]` / `[[function]]`: a string that can stand in a
/// dotted path.
fn element_name(v: &Scalar, array: &str, index: usize, ctx: &Ctx<'_>) -> Result<String, InputError> {
    let here = format!("{array}[{index}]");
    let path = join(&here, "name");
    let Some(v) = v else {
        return Err(ctx.err(&path, format!("`name` is missing; every [[{array}]] needs one, e.g. name = \"api\"")));
    };
    let s = ctx.string(v, &path, &format!("the {array}'s name"))?;
    if !usable_name(s) {
        return Err(ctx.err(
            &path,
            format!("{array} name \"{s}\" is not usable: it must be non-empty, without `.`, `[`, `]`, `=` or spaces, and not all digits (it is used in key paths such as {array}.api.memory)"),
        ));
    }
    Ok(s.to_string())
}

fn images(raw: &[RawImage], ctx: &Ctx<'_>) -> Result<Vec<Image>, InputError> {
    let mut out: Vec<Image> = Vec::with_capacity(raw.len());
    // Layer id → (image name, layer) of its first appearance, to check shared blobs.
    let mut seen: HashMap<String, (String, Layer)> = HashMap::new();
    for (i, r) in raw.iter().enumerate() {
        let name = element_name(&r.name, "image", i, ctx)?;
        let here = elem_path("image", i, Some(&name));
        if out.iter().any(|img| img.name == name) {
            return Err(
                ctx.err(join(&here, "name"), format!("image name \"{name}\" is used twice; names must be unique"))
            );
        }
        let layers = match (&r.layers, &r.size) {
            (Some(_), Some(_)) => {
                return Err(ctx.err(
                    join(&here, "size"),
                    "give either `layers = [...]` or `size` (with `layer_count`), not both",
                ))
            }
            (None, None) => {
                return Err(ctx.err(
                    &here,
                    format!("image {name} needs `layers = [{{ compressed = \"30MB\", uncompressed = \"80MB\" }}, ...]` or `size = \"430MB\"` (compressed total)"),
                ))
            }
            (Some(layers), None) => {
                for key in ["layer_count", "uncompressed_ratio"] {
                    let given = if key == "layer_count" { &r.layer_count } else { &r.uncompressed_ratio };
                    if given.is_some() {
                        return Err(ctx.err(join(&here, key), format!("`{key}` goes with `size`; with `layers` each layer gives its own sizes")));
                    }
                }
                explicit_layers(layers, &name, &here, ctx)?
            }
            (None, Some(size)) => split_layers(r, size, &name, &here, ctx)?,
        };
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for (j, l) in layers.iter().enumerate() {
            let lp = format!("{here}.layers[{j}].id");
            if let Some(k) = ids.insert(&l.id, j) {
                return Err(ctx.err(
                    &lp,
                    format!(
                        "layer id \"{}\" is used by layers {k} and {j} of this image; ids must differ within an image",
                        l.id
                    ),
                ));
            }
            if let Some((other, first)) = seen.get(&l.id) {
                if (first.compressed, first.uncompressed, first.files) != (l.compressed, l.uncompressed, l.files) {
                    return Err(ctx.err(
                        &lp,
                        format!(
                            "layer id \"{}\" is shared with image {other}, where it has compressed {}, uncompressed {}, files {}; here compressed {}, uncompressed {}, files {}. A shared layer is one blob: give it the same sizes, or a different id",
                            l.id, fs(first.compressed), fs(first.uncompressed), first.files, fs(l.compressed), fs(l.uncompressed), l.files
                        ),
                    ));
                }
            } else {
                seen.insert(l.id.clone(), (name.clone(), l.clone()));
            }
        }
        let total = |f: fn(&Layer) -> u64| layers.iter().try_fold(0u64, |acc, l| acc.checked_add(f(l)));
        if total(|l| l.compressed).is_none() || total(|l| l.uncompressed).is_none() {
            return Err(ctx.err(&here, format!("image {name} is too large to add up")));
        }
        out.push(Image { name, layers });
    }
    Ok(out)
}

fn explicit_layers(raw: &[RawLayer], name: &str, here: &str, ctx: &Ctx<'_>) -> Result<Vec<Layer>, InputError> {
    if raw.is_empty() {
        return Err(ctx.err(join(here, "layers"), "an image needs at least one layer"));
    }
    if raw.len() as i64 > MAX_LAYERS {
        return Err(
            ctx.err(join(here, "layers"), format!("{} layers is more than the {MAX_LAYERS} allowed", raw.len()))
        );
    }
    let mut layers = Vec::with_capacity(raw.len());
    for (j, l) in raw.iter().enumerate() {
        let lp = format!("{here}.layers[{j}]");
        let example = "{ compressed = \"30MB\", uncompressed = \"80MB\" }";
        let compressed = ctx.required(
            ctx.size(l.compressed.as_ref(), &join(&lp, "compressed"))?,
            &join(&lp, "compressed"),
            example,
        )?;
        let uncompressed = ctx.required(
            ctx.size(l.uncompressed.as_ref(), &join(&lp, "uncompressed"))?,
            &join(&lp, "uncompressed"),
            example,
        )?;
        let files = ctx.int(l.files.as_ref(), &join(&lp, "files"), 0, i64::MAX)?.unwrap_or(0) as u64;
        let id = match &l.id {
            None => format!("{name}#{j}"),
            Some(v) => {
                let s = ctx.string(v, &join(&lp, "id"), "layers with the same id are one shared blob")?;
                if s.is_empty() {
                    return Err(ctx.err(join(&lp, "id"), "a layer id cannot be empty"));
                }
                s.to_string()
            }
        };
        layers.push(Layer { id, compressed, uncompressed, files });
    }
    Ok(layers)
}

fn split_layers(r: &RawImage, size: &Value, name: &str, here: &str, ctx: &Ctx<'_>) -> Result<Vec<Layer>, InputError> {
    let compressed = ctx.size(Some(size), &join(here, "size"))?.unwrap_or(0);
    let n = ctx.int(r.layer_count.as_ref(), &join(here, "layer_count"), 1, MAX_LAYERS)?.unwrap_or(1) as u64;
    let rp = join(here, "uncompressed_ratio");
    let ratio = ctx.positive(r.uncompressed_ratio.as_ref(), &rp)?.unwrap_or(2.5);
    let uncompressed = (compressed as f64 * ratio).round();
    if uncompressed > units::MAX_SIZE as f64 {
        return Err(ctx.err(&rp, format!("{} × {ratio} is too large an image", fs(compressed))));
    }
    let uncompressed = uncompressed as u64;
    let part = |total: u64, j: u64| total / n + if j == 0 { total % n } else { 0 };
    Ok((0..n)
        .map(|j| Layer {
            id: format!("{name}#{j}"),
            compressed: part(compressed, j),
            uncompressed: part(uncompressed, j),
            files: 0,
        })
        .collect())
}

fn functions(
    raw: &[RawFunction],
    images: &[Image],
    platform: &Platform,
    ctx: &Ctx<'_>,
    templates: &[&str],
) -> Result<Vec<Function>, InputError> {
    if raw.is_empty() {
        return Err(ctx.err(
            "function",
            "the scenario has no [[function]]; add one, e.g. [[function]] with name = \"api\", exec = \"100ms\", startup = \"1s\"",
        ));
    }
    let mut out: Vec<Function> = Vec::with_capacity(raw.len());
    // a set, not a scan of `out`: a generated fleet has 10,000 functions
    let mut seen: HashSet<String> = HashSet::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let name = element_name(&r.name, "function", i, ctx)?;
        let here = elem_path("function", i, Some(&name));
        if !seen.insert(name.clone()) {
            return Err(
                ctx.err(join(&here, "name"), format!("function name \"{name}\" is used twice; names must be unique"))
            );
        }
        let template = templates.contains(&name.as_str());
        let f = function(r, name, &here, images, platform, ctx, template)?;
        out.push(f);
    }
    Ok(out)
}

fn function(
    r: &RawFunction,
    name: String,
    here: &str,
    images: &[Image],
    platform: &Platform,
    ctx: &Ctx<'_>,
    template: bool,
) -> Result<Function, InputError> {
    let p = |k: &str| join(here, k);
    // Image.
    let image_name = match &r.image {
        None => name.clone(),
        Some(v) => ctx.string(v, &p("image"), "the name of an [[image]]")?.to_string(),
    };
    let Some(image) = images.iter().position(|img| img.name == image_name) else {
        let names: Vec<&str> = images.iter().map(|i| i.name.as_str()).collect();
        let how = if r.image.is_none() {
            format!("`image` is not set, so it defaults to the function's name \"{name}\", but there is no such image")
        } else {
            format!("there is no image named \"{image_name}\"")
        };
        let have = if names.is_empty() {
            "; the scenario has no [[image]], add one".to_string()
        } else {
            choices(&image_name, names.iter().copied(), "images")
        };
        return Err(ctx.err(p("image"), format!("{how}{have}")));
    };

    // Memory, vCPU, disk, GPU.
    let memory_b = ctx.size(r.memory.as_ref(), &p("memory"))?.unwrap_or(512 * MB);
    let fc_mem = "FC allows 128MB..32GB in 64MB steps";
    let mem_text = fs(memory_b);
    if memory_b < 128 * MB {
        return Err(ctx.err(p("memory"), format!("memory {mem_text} is below the minimum 128MB ({fc_mem})")));
    }
    if memory_b > 32 * GB {
        return Err(ctx.err(p("memory"), format!("memory {mem_text} is above the maximum 32GB ({fc_mem})")));
    }
    if memory_b % (64 * MB) != 0 {
        let lo = memory_b / (64 * MB) * 64;
        return Err(ctx.err(
            p("memory"),
            format!("memory {mem_text} is not a multiple of 64MB ({fc_mem}); nearest: {}MB or {}MB", lo, lo + 64),
        ));
    }
    let memory_mb = memory_b / MB;
    if memory_mb > platform.host_memory_mb {
        return Err(ctx.err(
            p("memory"),
            format!(
                "memory {mem_text} is more than platform.host_memory {}: no host could run an instance",
                fs(platform.host_memory_mb * MB)
            ),
        ));
    }
    // the vCPU:GB ratio is FC 3.0's rule: checked when an FC sheet prices the scenario
    let fc_ratio = platform.pricing.starts_with("fc");
    let milli_vcpu = vcpu(r.vcpu.as_ref(), &p("vcpu"), memory_mb, fc_ratio, ctx)?;
    let disk_b = ctx.size(r.disk.as_ref(), &p("disk"))?.unwrap_or(512 * MB);
    if disk_b != 512 * MB && disk_b != 10 * GB {
        return Err(ctx.err(p("disk"), format!("disk {} is not offered; FC's disk is 512MB or 10GB", fs(disk_b))));
    }
    let gpu = match &r.gpu {
        None => None,
        Some(g) => {
            let gp = p("gpu");
            let kind = ctx.string(
                ctx.required(g.kind.as_ref(), &join(&gp, "kind"), "gpu = { kind = \"ada\", memory = \"16GB\" }")?,
                &join(&gp, "kind"),
                "the GPU type, e.g. \"ada\"",
            )?;
            if kind.trim().is_empty() {
                return Err(ctx.err(join(&gp, "kind"), "gpu kind cannot be empty; e.g. \"ada\""));
            }
            let mp = join(&gp, "memory");
            let mem =
                ctx.required(ctx.size(g.memory.as_ref(), &mp)?, &mp, "gpu = { kind = \"ada\", memory = \"16GB\" }")?;
            if mem == 0 || mem % GB != 0 {
                return Err(ctx.err(
                    &mp,
                    format!(
                        "gpu memory {} must be a whole number of GB, at least 1GB (FC sets GPU memory in 1GB steps)",
                        fs(mem)
                    ),
                ));
            }
            Some(Gpu { kind: kind.to_string(), memory_mb: mem / MB })
        }
    };
    let image_size = images[image].uncompressed_bytes();
    let (limit, what) = if gpu.is_some() { (15 * GB, "GPU") } else { (10 * GB, "CPU") };
    if image_size > limit {
        return Err(ctx.err(
            p("image"),
            format!(
                "image {} is {} uncompressed; FC allows at most {} GB uncompressed for {what} functions{}",
                images[image].name,
                fs(image_size),
                limit / GB,
                if gpu.is_none() { " (15 GB with a GPU)" } else { "" }
            ),
        ));
    }

    // Scaling.
    let concurrency = ctx.int(r.concurrency.as_ref(), &p("concurrency"), 1, 200)?.unwrap_or(1) as u32;
    let max_instances = ctx.int(r.max_instances.as_ref(), &p("max_instances"), 1, MAX_INSTANCES)?.unwrap_or(100) as u32;
    let reserved = reserved(r.reserved.as_ref(), &p("reserved"), ctx)?;
    if reserved.max() > max_instances {
        return Err(ctx.err(
            p("reserved"),
            format!(
                "reserved {} is more than max_instances {max_instances}; reserved instances count toward max_instances, so raise max_instances or lower reserved",
                reserved.max()
            ),
        ));
    }
    let queue = ctx.int(r.queue.as_ref(), &p("queue"), 0, u32::MAX as i64)?.unwrap_or(0) as u32;
    let queue_timeout = ctx.duration(r.queue_timeout.as_ref(), &p("queue_timeout"))?.unwrap_or(60 * MICROS_PER_SECOND);
    let timeout = ctx.positive_duration(r.timeout.as_ref(), &p("timeout"))?.unwrap_or(60 * MICROS_PER_SECOND);
    if timeout > DAY {
        return Err(ctx.err(
            p("timeout"),
            format!("timeout {} is above FC's maximum execution time of 1d (86400s)", fd(timeout)),
        ));
    }

    // Times.
    let cold_service = dist(r.cold_service.as_ref(), &p("cold_service"), ctx)?;
    let startup = match dist(r.startup.as_ref(), &p("startup"), ctx)? {
        Some(d) => d,
        None if cold_service.is_some() => Dist::Fixed(0),
        None => {
            return Err(ctx.err(
                p("startup"),
                "`startup` is missing: the time from container start until the function's HTTP server answers, e.g. startup = \"800ms\" or startup = { dist = \"lognormal\", median = \"800ms\", p99 = \"3s\" }",
            ))
        }
    };
    let exec = match dist(r.exec.as_ref(), &p("exec"), ctx)? {
        Some(d) => d,
        // a trace template: its copies take their execution times from the trace
        None if template => Dist::Fixed(0),
        None => ctx.required(
            None,
            &p("exec"),
            "exec = \"120ms\" or exec = { dist = \"lognormal\", median = \"120ms\", p99 = \"900ms\" }",
        )?,
    };
    let keep_alive = ctx.duration(r.keep_alive.as_ref(), &p("keep_alive"))?.unwrap_or(platform.keep_alive);

    Ok(Function {
        name,
        image,
        memory_mb,
        milli_vcpu,
        disk_mb: disk_b / MB,
        gpu,
        concurrency,
        max_instances,
        reserved,
        queue,
        queue_timeout,
        timeout,
        startup,
        exec,
        keep_alive,
        cold_service,
    })
}

/// vCPU in thousandths: the default is memory GB / 2 to the nearest 0.05 (at least 0.05);
/// a given value must be 0.05..=16 in 0.05 steps, and with `fc_ratio` (FC sheets) vCPU:GB
/// between 1:1 and 1:4.
fn vcpu(v: Option<&Value>, path: &str, memory_mb: u64, fc_ratio: bool, ctx: &Ctx<'_>) -> Result<u64, InputError> {
    let gb = memory_mb as f64 / 1024.0;
    let Some(x) = ctx.number(v, path)? else {
        let steps = ((gb / 2.0) / 0.05).round().max(1.0) as u64;
        return Ok(steps * 50);
    };
    let rule = "FC allows 0.05..16 vCPU in 0.05 steps";
    if !(0.05 - 1e-9..=16.0 + 1e-9).contains(&x) {
        return Err(ctx.err(path, format!("vcpu {x} is out of range ({rule})")));
    }
    let milli = (x * 1000.0).round();
    if (x * 1000.0 - milli).abs() > 1e-6 || milli as u64 % 50 != 0 {
        let lo = (x / 0.05).floor() * 0.05;
        return Err(ctx.err(
            path,
            format!("vcpu {x} is not a multiple of 0.05 ({rule}); nearest: {:.2} or {:.2}", lo, lo + 0.05),
        ));
    }
    let milli = milli as u64;
    // vCPU ≤ GB ≤ 4 vCPU, in integers: milli·1024 ≤ MB·1000 ≤ 4·milli·1024.
    if fc_ratio && (milli * 1024 > memory_mb * 1000 || memory_mb * 1000 > 4 * milli * 1024) {
        let min_steps = (memory_mb * 1000).div_ceil(4 * 1024 * 50); // ceil(GB/4 / 0.05)
        let max_steps = memory_mb * 1000 / (1024 * 50); // floor(GB / 0.05)
        return Err(ctx.err(
            path,
            format!(
                "vcpu {x} with memory {} is a vCPU:GB ratio of 1:{:.3}; FC 3.0 requires between 1:1 and 1:4, so for {} vcpu must be {:.2}..{:.2}",
                fs(memory_mb * MB),
                gb / x,
                fs(memory_mb * MB),
                (min_steps.max(1) * 50) as f64 / 1000.0,
                (max_steps.min(320) * 50) as f64 / 1000.0
            ),
        ));
    }
    Ok(milli)
}

fn reserved(r: Option<&RawReserved>, path: &str, ctx: &Ctx<'_>) -> Result<Reserved, InputError> {
    let count = |v: Option<&Value>, p: &str| ctx.int(v, p, 0, MAX_INSTANCES);
    match r {
        None => Ok(Reserved::Fixed(0)),
        Some(RawReserved::Count(v)) => {
            if let Value::String(_) = v {
                if ctx.int(Some(v), path, 0, MAX_INSTANCES).is_err() {
                    return Err(ctx.type_err(
                        path,
                        v,
                        "reserved is a count (e.g. reserved = 2) or a daily schedule, e.g. reserved = [{ at = \"08:00\", count = 6 }, { at = \"20:00\", count = 1 }]",
                    ));
                }
            }
            Ok(Reserved::Fixed(count(Some(v), path)?.unwrap_or(0) as u32))
        }
        Some(RawReserved::Steps(steps)) => {
            if steps.is_empty() {
                return Err(ctx.err(path, "the reserved schedule is empty; give at least one step, e.g. [{ at = \"08:00\", count = 2 }], or reserved = 0"));
            }
            let mut out: Vec<(ReservedStep, usize)> = Vec::with_capacity(steps.len());
            for (i, s) in steps.iter().enumerate() {
                let sp = format!("{path}[{i}]");
                let example = "{ at = \"08:00\", count = 2 }";
                let at_v = ctx.required(s.at.as_ref(), &join(&sp, "at"), example)?;
                let at = time_of_day(at_v, &join(&sp, "at"), ctx)?;
                let n = ctx.required(count(s.count.as_ref(), &join(&sp, "count"))?, &join(&sp, "count"), example)?;
                if let Some((_, j)) = out.iter().find(|(o, _)| o.at == at) {
                    return Err(ctx.err(
                        join(&sp, "at"),
                        format!("steps {j} and {i} are both at {}; each time of day may appear once", clock(at)),
                    ));
                }
                out.push((ReservedStep { at, count: n as u32 }, i));
            }
            let mut steps: Vec<ReservedStep> = out.into_iter().map(|(s, _)| s).collect();
            steps.sort_by_key(|s| s.at);
            Ok(Reserved::Daily(steps))
        }
    }
}

fn clock(us: Micros) -> String {
    let s = us / MICROS_PER_SECOND;
    if s % 60 == 0 {
        format!("{:02}:{:02}", s / 3600, s / 60 % 60)
    } else {
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// `"08:00"` or a TOML local time (`at = 08:00`).
fn time_of_day(v: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Micros, InputError> {
    match v {
        Value::String(s) => units::parse_time_of_day(s).map_err(|m| ctx.err(path, m)),
        Value::Datetime(d) if d.date.is_none() && d.offset.is_none() => match d.time {
            Some(t) if t.nanosecond.unwrap_or(0) == 0 => {
                units::parse_time_of_day(&format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second.unwrap_or(0)))
                    .map_err(|m| ctx.err(path, m))
            }
            _ => Err(ctx.err(
                path,
                format!("found {}; a time of day is \"HH:MM\" or \"HH:MM:SS\", e.g. \"08:00\"", describe(v)),
            )),
        },
        other => Err(ctx.type_err(path, other, "a time of day is a string \"HH:MM\", e.g. \"08:00\"")),
    }
}

/// A required scalar, as `Some` so it feeds the optional readers.
fn need<'v>(ctx: &Ctx<'_>, v: &'v Scalar, path: &str, example: &str) -> Result<Option<&'v Value>, InputError> {
    ctx.required(v.as_ref(), path, example).map(Some)
}

/// A distribution: a plain duration or a `dist` table.
fn dist(r: Option<&RawDist>, path: &str, ctx: &Ctx<'_>) -> Result<Option<Dist>, InputError> {
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
                "`arrivals` is missing; e.g. arrivals = { kind = \"poisson\", rate = \"2/s\" } (kinds: poisson, diurnal, bursty, constant)",
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
            _ => (function, arrivals(a, &ap, ctx)?),
        };
        out.push(Workload { function, arrivals, from, until });
    }
    super::trace::drop_templates(x.functions, &mut out, &templates);
    Ok(out)
}

fn arrivals(a: &RawArrivals, path: &str, ctx: &Ctx<'_>) -> Result<Arrivals, InputError> {
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
        RawArrivals::Diurnal { mean, peak_ratio, period, phase } => {
            let ex = "arrivals = { kind = \"diurnal\", mean = \"40/s\", peak_ratio = 4, period = \"1d\" }";
            need(mean, "mean", ex)?;
            let mean = ctx.positive_rate(mean.as_ref(), &k("mean"))?.unwrap_or(0.0);
            let peak_ratio = ctx.number(peak_ratio.as_ref(), &k("peak_ratio"))?.unwrap_or(4.0);
            if peak_ratio < 1.0 {
                return Err(ctx.err(k("peak_ratio"), format!("peak_ratio {peak_ratio} is below 1; it is the peak rate over the trough rate, at least 1 (1 = flat)")));
            }
            let period = ctx.positive_duration(period.as_ref(), &k("period"))?.unwrap_or(DAY);
            let peak = ctx.duration(phase.as_ref(), &k("phase"))?.unwrap_or(period / 2);
            Arrivals::Diurnal { mean, peak_ratio, period, peak }
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
