//! `coldcost providers list` — one line per built-in provider profile; `coldcost providers
//! show NAME|PATH` — a profile readably: every limit, the start rule, keep-alive, scale-out
//! rate and default sheet, each with its source and date. Both render to a `String` first
//! (tested here) and print it.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::error::InputError;
use crate::provider::{self, limits, Profile, Source, VcpuRule};
use crate::units::{format_duration as fd, format_size as fs};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ProvidersCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// List the built-in provider profiles: name, default sheet, date, title.
    List,
    /// Print a provider profile: limits, start rule, keep-alive, scale-out, each with its source.
    Show {
        /// A built-in provider (see `coldcost providers list`) or the path of a profile file.
        provider: String,
    },
}

pub fn run(a: Args) -> Result<ExitCode> {
    let text = match a.command {
        ProvidersCommand::List => list()?,
        ProvidersCommand::Show { provider } => show(&provider::load(&provider)?),
    };
    crate::app::stdout::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// One line per built-in profile, aligned: name, default sheet, as_of, title.
pub fn list() -> Result<String, InputError> {
    let all = provider::BUILTIN.iter().map(|(n, _)| provider::load(n)).collect::<Result<Vec<_>, _>>()?;
    let w = all.iter().map(|p| p.name.chars().count()).max().unwrap_or(0);
    let ws = all.iter().map(|p| p.pricing.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for p in &all {
        let _ = writeln!(out, "{:w$}  sheet {:ws$}  {}  {}", p.name, p.pricing, p.as_of, p.title);
    }
    Ok(out)
}

/// One rule line and its source line.
fn rule(o: &mut String, what: &str, value: String, src: &Source) {
    let _ = writeln!(o, "  {what:12} {value}");
    let _ = writeln!(o, "  {:12} source: {} ({})", "", src.source, src.as_of);
}

/// The profile, readably.
pub fn show(p: &Profile) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} — {}", p.name, p.title);
    let _ = writeln!(o, "sheet     {} (used unless platform.pricing is set)", p.pricing);
    let _ = writeln!(o, "as of     {}", p.as_of);
    let _ = writeln!(o, "\nLimits");
    rule(&mut o, "memory", limits::sizes_text(&p.memory.sizes), &p.memory.source);
    let vcpu = match &p.vcpu.rule {
        VcpuRule::Ratio { min, max, step, gb_per_vcpu } => {
            let mut t = format!("{}..{} in {} steps", k(*min), k(*max), k(*step));
            if let Some((lo, hi)) = gb_per_vcpu {
                let _ = write!(t, ", vCPU:GB between 1:{lo} and 1:{hi}");
            }
            t + "; default memory GB / 2"
        }
        VcpuRule::Memory { mb_per_vcpu } => format!("follows memory: one vCPU per {mb_per_vcpu} MB (not settable)"),
        VcpuRule::Pairs { fractional_min, fractional_step, whole, pairs } => {
            let rows: Vec<String> = pairs
                .iter()
                .map(|r| format!("≤{} vCPU: {}..{}", k(r.vcpu), fs(r.min_mb << 20), fs(r.max_mb << 20)))
                .collect();
            format!(
                "{}..1 in {} steps (concurrency 1 only) or {}; memory by vCPU: {}",
                k(*fractional_min),
                k(*fractional_step),
                whole.iter().map(|&w| k(w)).collect::<Vec<_>>().join(", "),
                rows.join("; ")
            )
        }
    };
    rule(&mut o, "vcpu", vcpu, &p.vcpu.source);
    let c = p.concurrency.0;
    rule(
        &mut o,
        "concurrency",
        if c == 1 { "1 request per instance".into() } else { format!("1..{c}") },
        &p.concurrency.1,
    );
    match &p.timeout {
        Some((t, s)) => rule(&mut o, "timeout", format!("at most {}", fd(*t)), s),
        None => {
            let _ = writeln!(o, "  {:12} no limit of the provider's", "timeout");
        }
    }
    match &p.image {
        Some((cpu, gpu, s)) => {
            let mut t = Vec::new();
            if let Some(c) = cpu {
                t.push(format!("{} uncompressed (CPU)", fs(*c)));
            }
            if let Some(g) = gpu {
                t.push(format!("{} (GPU)", fs(*g)));
            }
            rule(&mut o, "image", format!("at most {}", t.join(", ")), s);
        }
        None => {
            let _ = writeln!(o, "  {:12} no limit of the provider's", "image");
        }
    }
    match &p.disk {
        Some((d, s)) => rule(&mut o, "disk", limits::sizes_text(d), s),
        None => {
            let _ = writeln!(o, "  {:12} no disk setting", "disk");
        }
    }
    match &p.gpu {
        Some(g) if !g.kinds.is_empty() => {
            rule(&mut o, "gpu", format!("{}; memory in {} steps", g.kinds.join(", "), fs(g.memory_step)), &g.source)
        }
        Some(g) => rule(&mut o, "gpu", "none".into(), &g.source),
        None => {
            let _ = writeln!(o, "  {:12} none", "gpu");
        }
    }
    let _ = writeln!(o, "\nStart, keep-alive and scale-out");
    let pull = match p.pull.mode {
        crate::provider::PullMode::Full => "images are downloaded, then extracted (platform.pull.mode = \"full\")",
        crate::provider::PullMode::Lazy => "images are loaded lazily, no extraction (platform.pull.mode = \"lazy\")",
    };
    let accel = if p.pull.acceleration { "; image.acceleration loads an image lazily" } else { "" };
    rule(&mut o, "pull", format!("{pull}{accel}"), &p.pull.source);
    rule(&mut o, "start", limits::start_text(p), &p.start.source);
    rule(&mut o, "keep-alive", format!("idle instances stay {}", fd(p.keep_alive.0)), &p.keep_alive.1);
    match &p.scale {
        Some(s) => rule(
            &mut o,
            "scale-out",
            format!(
                "{} new instances at once, then {} more every {}; requests beyond are treated as at max_instances (queued if function.queue > 0, else throttled)",
                s.burst,
                s.rate,
                fd(s.per)
            ),
            &s.source,
        ),
        None => {
            let _ = writeln!(o, "  {:12} no rate limit (function.max_instances bounds the count)", "scale-out");
        }
    }
    o
}

/// Thousandths as a vCPU number.
fn k(m: u64) -> String {
    let s = format!("{}.{:03}", m / 1000, m % 1000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_has_one_line_per_built_in_provider_with_its_sheet() {
        let text = list().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), provider::BUILTIN.len());
        assert!(lines[0].starts_with("fc          sheet fc3"), "{text}");
        assert!(lines[1].starts_with("lambda      sheet lambda"), "{text}");
        assert!(lines.iter().any(|l| l.starts_with("azure-flex  sheet azure-flex")), "{text}");
    }

    #[test]
    fn show_prints_every_rule_with_its_source() {
        let text = show(&provider::load("lambda").unwrap());
        for want in [
            "lambda — AWS Lambda",
            "memory       128MB..10GB in 1MB steps",
            "concurrency  1 request per instance",
            "ready within 10s, else the start is retried once during the first invoke",
            "1000 new instances at once, then 1000 more every 10s",
            "source: [DOC] Lambda quotas",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        let text = show(&provider::load("cloudrun").unwrap());
        assert!(text.contains("≤4 vCPU: 2GB..16GB"), "{text}");
        assert!(text.contains("no rate limit"), "{text}");
    }

    #[test]
    fn an_unknown_provider_lists_the_built_ins() {
        let e = provider::load("lamdba").unwrap_err();
        assert!(e.message.contains("fc, lambda, cloudrun, azure-flex"), "{e}");
    }
}
