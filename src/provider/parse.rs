//! Profile text → validated [`Profile`]. Serde checks the shape (unknown keys and wrong types
//! are TOML errors at their line); this file converts units and checks values, each error
//! naming the file, the key path and its line.

use std::path::Path;

use serde::Deserialize;

use super::*;
use crate::billing::sheet::BUILTIN_NAMES;
use crate::input::{toml_error, LineMap};
use crate::units::{format_duration, parse_duration, parse_size};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    title: String,
    pricing: String,
    as_of: String,
    memory: RawSizes,
    vcpu: RawVcpu,
    concurrency: RawConcurrency,
    timeout: Option<RawMax>,
    image: Option<RawImage>,
    disk: Option<RawSizes>,
    gpu: Option<RawGpu>,
    start: RawStart,
    keep_alive: RawKeepAlive,
    scale: Option<RawScale>,
    pull: Option<RawPull>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPull {
    mode: String,
    acceleration: bool,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSizes {
    min: Option<String>,
    max: Option<String>,
    step: Option<String>,
    options: Option<Vec<String>>,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVcpu {
    rule: String,
    min: Option<f64>,
    max: Option<f64>,
    step: Option<f64>,
    gb_per_vcpu: Option<[f64; 2]>,
    mb_per_vcpu: Option<u64>,
    fractional_min: Option<f64>,
    fractional_step: Option<f64>,
    whole: Option<Vec<f64>>,
    pairs: Option<Vec<RawPair>>,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPair {
    vcpu: f64,
    min_memory: String,
    max_memory: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConcurrency {
    max: u32,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMax {
    max: String,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    max_cpu: Option<String>,
    max_gpu: Option<String>,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGpu {
    kinds: Vec<String>,
    memory_step: Option<String>,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStart {
    ready_timeout: String,
    on_timeout: String,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeepAlive {
    idle: String,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScale {
    burst: u32,
    rate: u32,
    per: String,
    source: String,
    as_of: String,
}

/// Error maker for one profile file.
struct Here<'a> {
    source: &'a str,
    lines: LineMap,
}

impl Here<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> InputError {
        InputError::new(self.source, path, message).with_line(self.lines.line(path))
    }
    fn size(&self, s: &str, path: &str) -> Result<u64, InputError> {
        parse_size(s).map_err(|m| self.err(path, m))
    }
    fn duration(&self, s: &str, path: &str) -> Result<Micros, InputError> {
        parse_duration(s).map_err(|m| self.err(path, m))
    }
    fn src(&self, source: &str, as_of: &str, path: &str) -> Result<Source, InputError> {
        if source.trim().is_empty() {
            return Err(self.err(&format!("{path}.source"), "`source` is empty; every value needs its source"));
        }
        if !date(as_of) {
            return Err(self.err(
                &format!("{path}.as_of"),
                format!("as_of \"{as_of}\" is not a date; write YYYY-MM-DD, e.g. \"2026-11-01\""),
            ));
        }
        Ok(Source { source: source.to_string(), as_of: as_of.to_string() })
    }
    fn sizes(&self, r: &RawSizes, path: &str) -> Result<Sizes, InputError> {
        match (&r.options, &r.min, &r.max, &r.step) {
            (Some(opts), None, None, None) if !opts.is_empty() => {
                let v = opts
                    .iter()
                    .enumerate()
                    .map(|(i, o)| self.size(o, &format!("{path}.options[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Sizes::Options(v))
            }
            (None, Some(min), Some(max), Some(step)) => {
                let min = self.size(min, &format!("{path}.min"))?;
                let max = self.size(max, &format!("{path}.max"))?;
                let step = self.size(step, &format!("{path}.step"))?;
                if step == 0 || min > max || min % step != 0 {
                    return Err(
                        self.err(path, "min must be at most max, and both multiples of a step above 0".to_string())
                    );
                }
                Ok(Sizes::Range { min, max, step })
            }
            _ => {
                Err(self.err(path, format!("[{path}] gives either min, max and step, or options = [...] (not empty)")))
            }
        }
    }
}

/// `YYYY-MM-DD` with a plausible month and day.
fn date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && s[..4].bytes().chain(s[5..7].bytes()).chain(s[8..].bytes()).all(|c| c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&s[8..].parse::<u32>().unwrap_or(0))
}

/// Thousandths of a vCPU, exactly.
fn milli(x: f64, path: &str, h: &Here<'_>) -> Result<u64, InputError> {
    let m = (x * 1000.0).round();
    if x.is_nan() || x <= 0.0 || (x * 1000.0 - m).abs() > 1e-6 {
        return Err(h.err(path, format!("{x} is not a positive number of thousandths of a vCPU")));
    }
    Ok(m as u64)
}

/// Parse and validate profile text; `source` names it in messages; `default_name` when the
/// file has no `name`; a `pricing` path is relative to `dir`.
pub fn parse_str(text: &str, source: &str, default_name: &str, dir: &Path) -> Result<Profile, InputError> {
    let raw: Raw = toml::from_str(text).map_err(|e| toml_error(source, text, &e))?;
    let h = Here { source, lines: LineMap::build(text) };
    let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
    if name.trim().is_empty() {
        return Err(h.err("name", "`name` is empty"));
    }
    if !date(&raw.as_of) {
        return Err(h.err("as_of", format!("as_of \"{}\" is not a date; write YYYY-MM-DD", raw.as_of)));
    }
    let pricing = if BUILTIN_NAMES.contains(&raw.pricing.as_str()) {
        raw.pricing.clone()
    } else {
        let file = dir.join(&raw.pricing);
        if raw.pricing.is_empty() || !file.is_file() {
            return Err(h.err(
                "pricing",
                format!(
                    "pricing \"{}\" is neither a built-in price sheet nor an existing file (looked for {}){}",
                    raw.pricing,
                    file.display(),
                    crate::input::choices(&raw.pricing, BUILTIN_NAMES.iter().copied(), "built-in sheets")
                ),
            ));
        }
        file.display().to_string()
    };

    let memory = Memory {
        sizes: h.sizes(&raw.memory, "memory")?,
        source: h.src(&raw.memory.source, &raw.memory.as_of, "memory")?,
    };
    let v = &raw.vcpu;
    let need = |x: Option<f64>, key: &str| -> Result<f64, InputError> {
        x.ok_or_else(|| h.err(&format!("vcpu.{key}"), format!("vcpu rule \"{}\" needs `{key}`", v.rule)))
    };
    let rule = match v.rule.as_str() {
        "ratio" => VcpuRule::Ratio {
            min: milli(need(v.min, "min")?, "vcpu.min", &h)?,
            max: milli(need(v.max, "max")?, "vcpu.max", &h)?,
            step: milli(need(v.step, "step")?, "vcpu.step", &h)?,
            gb_per_vcpu: v.gb_per_vcpu.map(|[lo, hi]| (lo, hi)),
        },
        "memory" => VcpuRule::Memory {
            mb_per_vcpu: v
                .mb_per_vcpu
                .filter(|&m| m > 0)
                .ok_or_else(|| h.err("vcpu.mb_per_vcpu", "vcpu rule \"memory\" needs mb_per_vcpu > 0"))?,
        },
        "pairs" => {
            let whole = v
                .whole
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .map(|(i, &x)| milli(x, &format!("vcpu.whole[{i}]"), &h))
                .collect::<Result<Vec<_>, _>>()?;
            let mut pairs = Vec::new();
            for (i, p) in v.pairs.as_deref().unwrap_or(&[]).iter().enumerate() {
                let here = format!("vcpu.pairs[{i}]");
                pairs.push(Pair {
                    vcpu: milli(p.vcpu, &format!("{here}.vcpu"), &h)?,
                    min_mb: h.size(&p.min_memory, &format!("{here}.min_memory"))? >> 20,
                    max_mb: h.size(&p.max_memory, &format!("{here}.max_memory"))? >> 20,
                });
            }
            if pairs.is_empty() || pairs.windows(2).any(|w| w[0].vcpu >= w[1].vcpu) {
                return Err(h.err("vcpu.pairs", "pairs must be given, in increasing vcpu"));
            }
            VcpuRule::Pairs {
                fractional_min: milli(need(v.fractional_min, "fractional_min")?, "vcpu.fractional_min", &h)?,
                fractional_step: milli(need(v.fractional_step, "fractional_step")?, "vcpu.fractional_step", &h)?,
                whole,
                pairs,
            }
        }
        other => {
            return Err(h.err("vcpu.rule", format!("unknown vcpu rule \"{other}\"; allowed: ratio, memory, pairs")))
        }
    };
    let vcpu = Vcpu { rule, source: h.src(&v.source, &v.as_of, "vcpu")? };
    let c = &raw.concurrency;
    if c.max == 0 {
        return Err(h.err("concurrency.max", "concurrency.max must be at least 1"));
    }
    let concurrency = (c.max, h.src(&c.source, &c.as_of, "concurrency")?);
    let timeout = match &raw.timeout {
        None => None,
        Some(t) => Some((h.duration(&t.max, "timeout.max")?, h.src(&t.source, &t.as_of, "timeout")?)),
    };
    let image = match &raw.image {
        None => None,
        Some(i) => Some((
            i.max_cpu.as_deref().map(|s| h.size(s, "image.max_cpu")).transpose()?,
            i.max_gpu.as_deref().map(|s| h.size(s, "image.max_gpu")).transpose()?,
            h.src(&i.source, &i.as_of, "image")?,
        )),
    };
    let disk = match &raw.disk {
        None => None,
        Some(d) => Some((h.sizes(d, "disk")?, h.src(&d.source, &d.as_of, "disk")?)),
    };
    let gpu = match &raw.gpu {
        None => None,
        Some(g) => Some(Gpu {
            kinds: g.kinds.iter().map(|k| k.to_ascii_lowercase()).collect(),
            memory_step: g.memory_step.as_deref().map(|s| h.size(s, "gpu.memory_step")).transpose()?.unwrap_or(1 << 30),
            source: h.src(&g.source, &g.as_of, "gpu")?,
        }),
    };
    let s = &raw.start;
    let on_timeout = match s.on_timeout.as_str() {
        "fail" => OnTimeout::Fail,
        "retry" => OnTimeout::Retry,
        other => {
            return Err(h.err("start.on_timeout", format!("unknown value \"{other}\"; allowed: \"fail\", \"retry\"")))
        }
    };
    let ready_timeout = h.duration(&s.ready_timeout, "start.ready_timeout")?;
    if ready_timeout == 0 {
        return Err(h.err("start.ready_timeout", "ready_timeout must be more than 0s"));
    }
    let start = Start { ready_timeout, on_timeout, source: h.src(&s.source, &s.as_of, "start")? };
    let k = &raw.keep_alive;
    let keep_alive = (h.duration(&k.idle, "keep_alive.idle")?, h.src(&k.source, &k.as_of, "keep_alive")?);
    let scale = match &raw.scale {
        None => None,
        Some(sc) => {
            let per = h.duration(&sc.per, "scale.per")?;
            if sc.burst == 0 || sc.rate == 0 || per == 0 {
                return Err(h.err(
                    "scale",
                    format!("burst and rate must be at least 1 and per more than 0s (per {})", format_duration(per)),
                ));
            }
            Some(Scale { burst: sc.burst, rate: sc.rate, per, source: h.src(&sc.source, &sc.as_of, "scale")? })
        }
    };
    let pull = match &raw.pull {
        None => Pull {
            mode: PullMode::Full,
            acceleration: false,
            source: Source {
                source: "not given in the profile: full pulls, no acceleration".into(),
                as_of: raw.as_of.clone(),
            },
        },
        Some(p) => Pull {
            mode: match p.mode.as_str() {
                "full" => PullMode::Full,
                "lazy" => PullMode::Lazy,
                other => {
                    return Err(
                        h.err("pull.mode", format!("unknown pull mode \"{other}\"; allowed: \"full\", \"lazy\""))
                    )
                }
            },
            acceleration: p.acceleration,
            source: h.src(&p.source, &p.as_of, "pull")?,
        },
    };
    Ok(Profile {
        name,
        title: raw.title,
        pricing,
        as_of: raw.as_of,
        memory,
        vcpu,
        concurrency,
        timeout,
        image,
        disk,
        gpu,
        start,
        keep_alive,
        scale,
        pull,
    })
}
