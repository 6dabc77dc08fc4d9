//! Validating `[[function]]`: memory, vCPU (FC's ratio rule), disk, GPU, concurrency, exec
//! and startup distributions, timeouts, reserved instances and their schedule
//! ([`super::validate`] calls [`functions`]).

use std::collections::HashSet;

use toml::Value;

use super::model::*;
use super::raw::*;
use super::validate::{dist, element_name, MAX_INSTANCES, MB};
use crate::error::InputError;
use crate::input::{choices, describe, elem_path, join, Ctx};
use crate::units::{self, format_duration as fd, format_size as fs, Micros, MICROS_PER_DAY as DAY, MICROS_PER_SECOND};

pub(super) fn functions(
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

    // Memory, vCPU, disk, GPU: the provider's limits.
    let prov = &platform.provider;
    let memory_b = ctx.size(r.memory.as_ref(), &p("memory"))?.unwrap_or(512 * MB);
    crate::provider::limits::memory(prov, memory_b).map_err(|m| ctx.err(p("memory"), m))?;
    let memory_mb = memory_b / MB;
    if memory_mb > platform.host_memory_mb {
        return Err(ctx.err(
            p("memory"),
            format!(
                "memory {} is more than platform.host_memory {}: no host could run an instance",
                fs(memory_b),
                fs(platform.host_memory_mb * MB)
            ),
        ));
    }
    let concurrency = ctx.int(r.concurrency.as_ref(), &p("concurrency"), i64::MIN, i64::MAX)?.unwrap_or(1);
    crate::provider::limits::concurrency(prov, concurrency).map_err(|m| ctx.err(p("concurrency"), m))?;
    let concurrency = concurrency as u32;
    let vcpu_given = ctx.number(r.vcpu.as_ref(), &p("vcpu"))?;
    let milli_vcpu =
        crate::provider::limits::vcpu(prov, vcpu_given, memory_mb, concurrency).map_err(|m| ctx.err(p("vcpu"), m))?;
    let disk_given = ctx.size(r.disk.as_ref(), &p("disk"))?;
    let disk_b = crate::provider::limits::disk(prov, disk_given).map_err(|m| ctx.err(p("disk"), m))?;
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
            crate::provider::limits::gpu(prov, kind, mem).map_err(|m| {
                let at = if m.starts_with("gpu memory") { mp.clone() } else { join(&gp, "kind") };
                ctx.err(at, m)
            })?;
            let kind = kind.to_ascii_lowercase();
            gpu_rated(&platform.sheet, &name, &kind).map_err(|m| ctx.err(join(&gp, "kind"), m))?;
            let idle_mode = ctx.boolean(g.idle_mode.as_ref(), &join(&gp, "idle_mode"))?.unwrap_or(false);
            Some(Gpu { kind, memory_mb: mem / MB, idle_mode })
        }
    };
    let image_size = images[image].uncompressed_bytes();
    crate::provider::limits::image(prov, &images[image].name, image_size, gpu.is_some())
        .map_err(|m| ctx.err(p("image"), m))?;

    // Scaling.
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
    crate::provider::limits::timeout(prov, timeout).map_err(|m| ctx.err(p("timeout"), m))?;
    if timeout > DAY {
        return Err(ctx.err(p("timeout"), format!("timeout {} is above the model's maximum of 1d", fd(timeout))));
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
    let cpu = cpu_use(r, milli_vcpu, here, ctx)?;

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
        cpu,
    })
}

/// Most vCPUs one request may use (the largest instances offered have 16–32).
const MAX_THREADS: i64 = 256;

/// `cpu_fraction`, `threads`, `exec_vcpu`: how `exec` splits into CPU work, which contention
/// stretches, and waiting, which it does not (defaults in the README's model section).
fn cpu_use(r: &RawFunction, milli_vcpu: u64, here: &str, ctx: &Ctx<'_>) -> Result<CpuUse, InputError> {
    let p = |k: &str| join(here, k);
    let fraction = ctx.number(r.cpu_fraction.as_ref(), &p("cpu_fraction"))?.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&fraction) {
        return Err(ctx.err(
            p("cpu_fraction"),
            format!("cpu_fraction {fraction} is out of range; allowed: 0..=1, the share of `exec` that is CPU work (e.g. 0.3)"),
        ));
    }
    let threads = ctx.int(r.threads.as_ref(), &p("threads"), 1, MAX_THREADS)?.unwrap_or(1) as u32;
    let exec_milli_vcpu = match ctx.number(r.exec_vcpu.as_ref(), &p("exec_vcpu"))? {
        None => milli_vcpu,
        Some(x) if x > 0.0 && x <= MAX_THREADS as f64 && (x * 1000.0).round() >= 1.0 => (x * 1000.0).round() as u64,
        Some(x) => {
            return Err(ctx.err(
                p("exec_vcpu"),
                format!("exec_vcpu {x} is out of range; allowed: 0.001..={MAX_THREADS}, the vCPU at which `exec` was measured (e.g. 1)"),
            ))
        }
    };
    Ok(CpuUse { fraction, threads, exec_milli_vcpu })
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
pub(super) fn time_of_day(v: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Micros, InputError> {
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

/// A sheet that bills GPU memory per card must rate the function's card.
fn gpu_rated(sheet: &crate::billing::model::Sheet, function: &str, kind: &str) -> Result<(), String> {
    let Some(rated) = sheet.gpu_kinds() else { return Ok(()) };
    if rated.contains(&kind) {
        return Ok(());
    }
    let rated = if rated.is_empty() { "no kind in all of them".to_string() } else { rated.join(", ") };
    Err(format!(
        "price sheet {} bills GPU memory per card but has no rate for kind \"{kind}\" of function {function}; it rates {} (add the kind to its GPU items' `rate` tables, or pick another sheet with platform.pricing)",
        sheet.name, rated
    ))
}
