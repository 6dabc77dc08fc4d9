//! `coldcost pricing list` — one line per built-in price sheet; `coldcost pricing show
//! NAME|PATH` — a sheet, readably: provenance, phases, rounding rules, every item, CU tiers,
//! minimum and free tier. Both render to a `String` first (tested here) and print it.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::app::stdout;
use crate::billing::model::{Sheet, Tiers};
use crate::billing::sheet::{self, BUILTIN};
use crate::error::InputError;
use crate::units::format_duration;
use crate::usage::Phase;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PricingCommand,
}

#[derive(Debug, Subcommand)]
pub enum PricingCommand {
    /// List the built-in price sheets: name, currency, date of the prices, title.
    List,
    /// Print a price sheet: phases, rounding, items, tiers, minimum, free tier.
    Show {
        /// A built-in sheet name (see `coldcost pricing list`) or the path of a sheet file.
        sheet: String,
    },
}

pub fn run(a: Args) -> Result<ExitCode> {
    let text = match a.command {
        PricingCommand::List => list()?,
        PricingCommand::Show { sheet } => show(&sheet::load(&sheet)?),
    };
    stdout::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// One line per built-in sheet, aligned: name, currency, as_of, title.
pub fn list() -> Result<String, InputError> {
    let sheets = BUILTIN.iter().map(|(n, _)| sheet::load(n)).collect::<Result<Vec<_>, _>>()?;
    let width = sheets.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for s in &sheets {
        let _ = writeln!(out, "{:width$}  {}  {}  {}", s.name, s.currency, s.as_of, s.title);
    }
    Ok(out)
}

/// The sheet, readably.
pub fn show(s: &Sheet) -> String {
    let mut o = String::new();
    let cu = s.compute_units.is_some();
    let _ = writeln!(o, "{} — {}", s.name, s.title);
    let _ = writeln!(o, "currency  {}", s.currency);
    let _ = writeln!(o, "source    {}", s.source);
    let _ = writeln!(o, "as of     {}", s.as_of);

    let _ = writeln!(o, "\nPhases (billed at the active rates, the idle rates, or not at all)");
    for p in Phase::ALL {
        let _ = write!(o, "  {:15} {}", p.name(), sheet::phase_billing_name(s.phases[p.index()]));
        let gpu = s.gpu_phases[p.index()];
        if gpu != s.phases[p.index()] {
            let _ = write!(o, " (GPU functions: {})", sheet::phase_billing_name(gpu));
        }
        if p == Phase::IdleReserved && gpu == crate::billing::model::PhaseBilling::Idle {
            let _ = write!(o, " (GPU functions: active unless function.gpu.idle_mode)");
        }
        o.push('\n');
    }
    let _ = writeln!(
        o,
        "  {:15} {}",
        "never started",
        match s.never_started {
            crate::billing::model::NeverStartedBilling::Bill => "billed like any instance (missed the start limit)",
            crate::billing::model::NeverStartedBilling::Free => "free (missed the start limit)",
        }
    );

    let _ = writeln!(o, "\nRounding");
    if s.roundings.is_empty() {
        let _ = writeln!(o, "  (none: every item is billed to the microsecond)");
    }
    let width = s.roundings.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
    for r in &s.roundings {
        let what = match r.rule.period {
            crate::usage::Period::Interval => "each stretch of a phase",
            crate::usage::Period::Request => "each request",
            crate::usage::Period::Instance => "each instance's whole life",
        };
        let _ = write!(
            o,
            "  {:width$}  {} ({what}), up to a multiple of {}",
            r.name,
            sheet::period_name(r.rule.period),
            format_duration(r.rule.quantum)
        );
        if r.rule.minimum > 0 {
            let _ = write!(o, ", at least {}", format_duration(r.rule.minimum));
        }
        if r.rule.init_into_first_request {
            let _ = write!(o, ", start-up added to the first request");
        }
        o.push('\n');
    }

    let money = if cu { "CU".to_string() } else { s.currency.clone() };
    let _ = writeln!(o, "\nItems (rates in {money} per unit)");
    for it in &s.items {
        let _ = writeln!(o, "  {}", it.name);
        let mut what = format!("    {}", sheet::resource_name(it.resource));
        if it.resource != crate::billing::model::Resource::Requests {
            let _ = write!(what, ", state {}", sheet::state_name(it.state));
        }
        let _ = write!(what, ", instances {}", sheet::instances_name(it.instances));
        if let Some(r) = it.rounding.and_then(|i| s.roundings.get(i)) {
            let _ = write!(what, ", rounding {}", r.name);
        }
        let _ = writeln!(o, "{what}");
        if it.kind_rates.is_empty() {
            let _ = writeln!(o, "    {}", tiers_text(&it.tiers, &money, &it.unit));
        } else {
            let rates: Vec<String> =
                it.kind_rates.iter().map(|(k, r)| format!("{r} {money} per {} ({k})", it.unit)).collect();
            let _ = writeln!(o, "    {}", rates.join(", "));
        }
        if it.free > 0.0 {
            let _ = writeln!(o, "    free {} {} a month", it.free, it.unit);
        }
    }

    if let Some(t) = &s.compute_units {
        let _ = writeln!(o, "\nCompute units (CU), monthly tiers");
        let _ = writeln!(o, "  {}", tiers_text(t, &s.currency, "CU"));
        if s.free_cu > 0.0 {
            let _ = writeln!(o, "  free {} CU a month", s.free_cu);
        }
    }

    let _ = writeln!(o);
    if s.minimum_per_function_hour > 0.0 {
        let _ = writeln!(
            o,
            "Minimum   {} {} per {}function and clock hour with activity",
            s.minimum_per_function_hour,
            s.currency,
            if s.minimum_cpu_only { "CPU " } else { "" }
        );
    } else {
        let _ = writeln!(o, "Minimum   none");
    }
    let _ = writeln!(
        o,
        "Free tier {}",
        if s.free_tier_enabled {
            "on: the free allowances above are subtracted each month"
        } else {
            "off: the free allowances above are ignored ([free_tier] enabled = true to use them)"
        }
    );
    o
}

/// `0.1 USD per GB·s` or `0.2 USD per GB·s up to 1000, then 0.1 USD per GB·s`.
fn tiers_text(t: &Tiers, money: &str, unit: &str) -> String {
    let parts: Vec<String> = t
        .steps
        .iter()
        .map(|&(up_to, price)| {
            if up_to.is_finite() {
                format!("{price} {money} per {} up to {up_to}", per(unit))
            } else {
                format!("{price} {money} per {}", per(unit))
            }
        })
        .collect();
    match parts.len() {
        1 => parts[0].clone(),
        _ => {
            let (last, first) = parts.split_last().expect("at least two tiers");
            format!("{}, then {last}", first.join(", "))
        }
    }
}

/// `requests` → `request`; other units as they are.
fn per(unit: &str) -> &str {
    if unit == "requests" {
        "request"
    } else {
        unit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_has_one_line_per_built_in_sheet_with_its_currency_and_date() {
        let text = list().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), BUILTIN.len());
        assert!(lines[0].starts_with("fc3 "), "{text}");
        assert!(lines[0].contains("  CNY  2026-11-01  Alibaba Cloud Function Compute 3.0"), "{text}");
        assert!(lines.iter().any(|l| l.starts_with("azure-flex") && l.contains("USD")), "{text}");
    }

    #[test]
    fn show_prints_phases_rounding_items_tiers_minimum_and_free_tier() {
        let text = show(&sheet::load("fc3").unwrap());
        for want in [
            "fc3 — Alibaba Cloud Function Compute 3.0",
            "currency  CNY",
            "  pull            active",
            "  create          none",
            "reserved      instance (each instance's whole life), up to a multiple of 10s",
            "Items (rates in CU per unit)",
            "  Memory idle (on-demand)\n    memory, state idle, instances on_demand, rounding ondemand\n    0.15 CU per GB·s",
            "0.00011 CNY per CU up to 200000000, 0.0001 CNY per CU up to 1000000000, then 0.00009 CNY per CU",
            "free 150000 CU a month",
            "Minimum   0.01 CNY per CPU function and clock hour",
            "  idle_keepalive  idle (GPU functions: none)",
            "  idle_reserved   idle (GPU functions: active unless function.gpu.idle_mode)",
            "  never started   billed like any instance",
            "    1.5 CU per GPU GB·s (ada), 2.1 CU per GPU GB·s (tesla)",
            "Free tier off",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }

    #[test]
    fn show_prints_item_tiers_free_allowances_and_the_request_rule() {
        let text = show(&sheet::load("lambda").unwrap());
        assert!(text.contains("0.0000166667 USD per GB·s up to 6000000000, 0.000015 USD per GB·s up to 15000000000, then 0.0000133334 USD per GB·s"), "{text}");
        assert!(text.contains("free 1000000 requests a month"), "{text}");
        assert!(text.contains("0.0000002 USD per request"), "{text}");
        assert!(text.contains("start-up added to the first request"), "{text}");
        assert!(text.contains("Minimum   none"), "{text}");
        let text = show(&sheet::load("azure-flex").unwrap());
        assert!(text.contains("up to a multiple of 100ms, at least 1s"), "{text}");
    }

    #[test]
    fn an_unknown_sheet_name_lists_the_built_ins() {
        let e = sheet::load("lamda").unwrap_err();
        assert!(e.message.contains("did you mean `lambda`?"), "{e}");
        assert!(
            e.message.contains("fc3, fc3-usd, fc2, lambda, lambda-arm, cloudrun, cloudrun-instance, azure-flex"),
            "{e}"
        );
    }
}
