//! A function's configuration against one provider's limits. Each check returns the message
//! (what was found, the provider's rule, what is allowed); the scenario validator adds the key
//! path and the file.

use super::{OnTimeout, Profile, Sizes, VcpuRule};
use crate::units::{format_duration as fd, format_size as fs, Micros};

const MB: u64 = 1 << 20;

/// "128MB..32GB in 64MB steps" or "512MB, 2GB or 4GB".
pub fn sizes_text(s: &Sizes) -> String {
    match s {
        Sizes::Range { min, max, step } => format!("{}..{} in {} steps", fs(*min), fs(*max), fs(*step)),
        Sizes::Options(o) => {
            let v: Vec<String> = o.iter().map(|&b| fs(b)).collect();
            match v.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("only {} or {last}", rest.join(", ")),
                _ => format!("only {}", v.join("")),
            }
        }
    }
}

fn fits(s: &Sizes, b: u64) -> bool {
    match s {
        Sizes::Range { min, max, step } => (*min..=*max).contains(&b) && b % step == 0,
        Sizes::Options(o) => o.contains(&b),
    }
}

/// Memory in bytes.
pub fn memory(p: &Profile, b: u64) -> Result<(), String> {
    if fits(&p.memory.sizes, b) {
        return Ok(());
    }
    let rule = format!("{} allows {}", p.name, sizes_text(&p.memory.sizes));
    Err(match &p.memory.sizes {
        Sizes::Range { min, .. } if b < *min => format!("memory {} is below the minimum {} ({rule})", fs(b), fs(*min)),
        Sizes::Range { max, .. } if b > *max => format!("memory {} is above the maximum {} ({rule})", fs(b), fs(*max)),
        Sizes::Range { step, .. } => {
            let lo = b / step * step;
            format!(
                "memory {} is not a multiple of {} ({rule}); nearest: {} or {}",
                fs(b),
                fs(*step),
                fs(lo),
                fs(lo + step)
            )
        }
        Sizes::Options(_) => format!("memory {} is not offered ({rule})", fs(b)),
    })
}

/// vCPU in thousandths: the given value checked against the provider's rule, or its default.
pub fn vcpu(p: &Profile, given: Option<f64>, memory_mb: u64, concurrency: u32) -> Result<u64, String> {
    let gb = memory_mb as f64 / 1024.0;
    match &p.vcpu.rule {
        VcpuRule::Memory { mb_per_vcpu } => match given {
            None => Ok((memory_mb * 1000).div_ceil(*mb_per_vcpu).max(1)),
            Some(x) => Err(format!(
                "vcpu {x} cannot be set on {}: vCPU follows memory ({} MB per vCPU); leave vcpu out",
                p.name, mb_per_vcpu
            )),
        },
        VcpuRule::Ratio { min, max, step, gb_per_vcpu } => {
            let Some(x) = given else {
                // memory GB / 2 to the nearest step, within the range
                let steps = ((gb / 2.0) * 1000.0 / *step as f64).round().max(1.0) as u64;
                return Ok((steps * step).clamp(*min, *max));
            };
            let rule = format!("{} allows {}..{} vCPU in {} steps", p.name, k(*min), k(*max), k(*step));
            let m = (x * 1000.0).round();
            if m.is_nan() || m < *min as f64 || m > *max as f64 {
                return Err(format!("vcpu {x} is out of range ({rule})"));
            }
            if (x * 1000.0 - m).abs() > 1e-6 || m as u64 % step != 0 {
                let lo = (m as u64 / step) * step;
                return Err(format!(
                    "vcpu {x} is not a multiple of {} ({rule}); nearest: {} or {}",
                    k(*step),
                    k(lo),
                    k(lo + step)
                ));
            }
            let m = m as u64;
            if let Some((lo, hi)) = gb_per_vcpu {
                let ratio = gb / (m as f64 / 1000.0);
                if ratio < lo - 1e-9 || ratio > hi + 1e-9 {
                    // smallest and largest vCPU in steps that keep the ratio
                    let min_v = ((gb / hi * 1000.0 / *step as f64 - 1e-9).ceil() as u64 * step).max(*min);
                    let max_v = ((gb / lo * 1000.0 / *step as f64 + 1e-9).floor() as u64 * step).min(*max);
                    return Err(format!(
                        "vcpu {x} with memory {} is a vCPU:GB ratio of 1:{ratio:.3}; {} requires between 1:{lo} and 1:{hi}, so for {} vcpu must be {}..{}",
                        fs(memory_mb * MB),
                        p.name,
                        fs(memory_mb * MB),
                        k(min_v),
                        k(max_v)
                    ));
                }
            }
            Ok(m)
        }
        VcpuRule::Pairs { fractional_min, fractional_step, whole, pairs } => {
            let wholes: Vec<String> = whole.iter().map(|&w| k(w)).collect();
            let rule = format!(
                "{} allows {}..1 vCPU in {} steps (concurrency 1 only) or {} vCPU",
                p.name,
                k(*fractional_min),
                k(*fractional_step),
                wholes.join(", ")
            );
            let m = match given {
                // the smallest whole vCPU whose row allows the memory
                None => whole
                    .iter()
                    .copied()
                    .find(|&w| row(pairs, w).is_some_and(|r| (r.min_mb..=r.max_mb).contains(&memory_mb)))
                    .ok_or_else(|| format!("memory {} fits no vCPU of {} ({rule})", fs(memory_mb * MB), p.name))?,
                Some(x) => {
                    let m = (x * 1000.0).round();
                    let exact = (x * 1000.0 - m).abs() < 1e-6;
                    let m = m as u64;
                    let fractional = exact && m >= *fractional_min && m < 1000 && m % fractional_step == 0;
                    if !(exact && (fractional || whole.contains(&m))) {
                        return Err(format!("vcpu {x} is not offered ({rule})"));
                    }
                    if fractional && concurrency > 1 {
                        return Err(format!(
                            "vcpu {x} is below 1 with concurrency {concurrency}; {} allows fractional vCPU only with concurrency 1",
                            p.name
                        ));
                    }
                    m
                }
            };
            let r = row(pairs, m).ok_or_else(|| format!("vcpu {} is above the largest pair ({rule})", k(m)))?;
            if !(r.min_mb..=r.max_mb).contains(&memory_mb) {
                return Err(format!(
                    "memory {} with {} vCPU is not a pair {} offers: with up to {} vCPU memory must be {}..{}",
                    fs(memory_mb * MB),
                    k(m),
                    p.name,
                    k(r.vcpu),
                    fs(r.min_mb * MB),
                    fs(r.max_mb * MB)
                ));
            }
            Ok(m)
        }
    }
}

/// The first pair row whose vcpu is at least `m`.
fn row(pairs: &[super::Pair], m: u64) -> Option<&super::Pair> {
    pairs.iter().find(|r| r.vcpu >= m)
}

/// Thousandths as a vCPU number: 50 → "0.05", 1000 → "1".
fn k(m: u64) -> String {
    let s = format!("{}.{:03}", m / 1000, m % 1000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Disk in bytes: the given size checked, or 512MB.
pub fn disk(p: &Profile, given: Option<u64>) -> Result<u64, String> {
    match (given, &p.disk) {
        (None, _) => Ok(512 * MB),
        (Some(b), None) => {
            Err(format!("disk {} cannot be set on {}: it has no disk setting; leave disk out", fs(b), p.name))
        }
        (Some(b), Some((s, _))) if fits(s, b) => Ok(b),
        (Some(b), Some((s, _))) => Err(format!("disk {} is not offered ({} allows {})", fs(b), p.name, sizes_text(s))),
    }
}

/// Per-instance concurrency.
pub fn concurrency(p: &Profile, n: i64) -> Result<(), String> {
    let max = p.concurrency.0;
    if n < 1 || n > max as i64 {
        let what = if max == 1 { "one request per instance".to_string() } else { format!("1..{max}") };
        return Err(format!("concurrency {n} is out of range ({} allows {what})", p.name));
    }
    Ok(())
}

/// Function timeout.
pub fn timeout(p: &Profile, t: Micros) -> Result<(), String> {
    match &p.timeout {
        Some((max, _)) if t > *max => {
            Err(format!("timeout {} is above {}'s maximum execution time of {}", fd(t), p.name, fd(*max)))
        }
        _ => Ok(()),
    }
}

/// A GPU of `kind` with `memory` bytes.
pub fn gpu(p: &Profile, kind: &str, memory: u64) -> Result<(), String> {
    let kinds = p.gpu.as_ref().map(|g| g.kinds.as_slice()).unwrap_or(&[]);
    if kinds.is_empty() {
        return Err(format!("{} offers no GPU functions", p.name));
    }
    if !kinds.iter().any(|k| k.eq_ignore_ascii_case(kind)) {
        return Err(format!("gpu kind \"{kind}\" is not offered ({} offers {})", p.name, kinds.join(", ")));
    }
    let step = p.gpu.as_ref().map_or(1 << 30, |g| g.memory_step);
    if memory == 0 || memory % step != 0 {
        return Err(format!(
            "gpu memory {} must be a multiple of {}, at least {} ({} sets GPU memory in {} steps)",
            fs(memory),
            fs(step),
            fs(step),
            p.name,
            fs(step)
        ));
    }
    Ok(())
}

/// Uncompressed image size.
pub fn image(p: &Profile, name: &str, bytes: u64, with_gpu: bool) -> Result<(), String> {
    let Some((cpu, gpu, _)) = &p.image else { return Ok(()) };
    let limit = if with_gpu { gpu.or(*cpu) } else { *cpu };
    match limit {
        Some(l) if bytes > l => Err(format!(
            "image {name} is {} uncompressed; {} allows at most {} uncompressed for {} functions{}",
            fs(bytes),
            p.name,
            fs(l),
            if with_gpu { "GPU" } else { "CPU" },
            match (with_gpu, gpu) {
                (false, Some(g)) => format!(" ({} with a GPU)", fs(*g)),
                _ => String::new(),
            }
        )),
        _ => Ok(()),
    }
}

/// The start rule in words, for `providers show`.
pub fn start_text(p: &Profile) -> String {
    match p.start.on_timeout {
        OnTimeout::Fail => format!("ready within {}, else the instance fails", fd(p.start.ready_timeout)),
        OnTimeout::Retry => format!(
            "ready within {}, else the start is retried once during the first invoke, within the function's timeout",
            fd(p.start.ready_timeout)
        ),
    }
}
