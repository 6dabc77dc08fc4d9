//! Price sheet files (TOML) → validated [`Sheet`].
//!
//! A price sheet is data, not code: which phases of an instance's life are billed, how billed
//! time is rounded, the bill's lines (items) with their rates, tiers and free allowances, an
//! optional compute-unit (CU) price, an hourly minimum, and where the prices come from. The
//! eight built-in sheets are `scenarios/pricing/*.toml`, compiled in ([`BUILTIN`]); a path to
//! a file of your own works wherever a built-in name does. `coldcost pricing show NAME`
//! prints one readably.
//!
//! The raw layer is the parsed [`toml::Table`] itself (rounding rules are named by the user's
//! own keys, so no fixed serde struct mirrors them); every key is checked here against the
//! lists below, with a did-you-mean, and every error is an [`InputError`] naming the file,
//! the key path (`item[3].rate`, `rounding.ondemand.quantum`,
//! `compute_units.tiers[1].up_to`, `phases.pull`), its line, what was found and what is
//! allowed.
//!
//! # Format
//!
//! ```toml
//! name = "fc3"                 # optional, default: file stem
//! title = "Alibaba Cloud Function Compute 3.0, CPU instances, CNY list prices"   # required
//! currency = "CNY"             # required, 3 upper-case letters (ISO 4217)
//! source = "help.aliyun.com/... pay-as-you-go; shared billing-rules.md §1.3"    # required
//! as_of = "2025-08-27"         # required, YYYY-MM-DD (a TOML date also works)
//!
//! [phases]                     # required, all six keys: "active" | "idle" | "none"
//! pull = "active"              # image layers not in the host cache
//! create = "none"              # container create + start
//! startup = "active"           # runtime init + Initializer until the server answers
//! busy = "active"              # ≥ 1 request in flight
//! idle_keepalive = "idle"      # on-demand instance waiting for keep-alive to expire
//! idle_reserved = "idle"       # reserved instance with no request
//!
//! [rounding.ondemand]          # zero or more named rules, kept in file order
//! period = "interval"          # required: "interval" (each contiguous stretch of a phase: a
//!                              # busy period, a pull, an idle stretch) | "request" (busy time
//!                              # per request, no union) | "instance" (whole life, rounded once)
//! quantum = "1ms"              # round up to a multiple of this; default "1us" (exact), > 0
//! minimum = "0s"               # each period bills at least this; default "0s"
//! init_into_first_request = false   # only with period = "request" (Lambda: INIT is added
//!                                   # to the first request, then rounded)
//!
//! [compute_units]              # optional: item rates are then in CU, and CU are priced by
//!                              # these cumulative monthly tiers
//! tiers = [ { up_to = 200000000, price = 0.00011 }, { up_to = 1000000000, price = 0.00010 }, { price = 0.00009 } ]
//! free = 150000                # free CU per month (used only when free_tier.enabled), default 0
//!
//! [minimum]
//! per_function_hour = 0.01     # in currency, per function and clock hour with activity; 0 or absent = off
//!
//! [free_tier]
//! enabled = false              # default false: every `free` allowance is ignored unless true
//!
//! [[item]]                     # one or more; each is a line on the bill
//! name = "vCPU active (on-demand)"   # required, unique
//! resource = "vcpu"            # required: vcpu | memory | disk | gpu | requests
//! state = "active"             # active | idle | life — required unless resource = "requests"
//!                              # (forbidden then); life = the instance's whole life, billed or not
//! instances = "on_demand"      # all | on_demand | reserved; default all
//! rounding = "ondemand"        # optional: the name of a [rounding.NAME]; not for requests
//! rate = 1.0                   # per unit (per CU-factor when [compute_units]); ≥ 0;
//!                              # either `rate` or `tiers`
//! # tiers = [ { up_to = 6000000000, rate = 0.0000166667 }, { up_to = 15000000000, rate = 0.000015 }, { rate = 0.0000133334 } ]
//! #   cumulative monthly quantity thresholds, strictly increasing; the last tier has no `up_to`
//! free = 0                     # free quantity per month (used only when free_tier.enabled), default 0
//! unit = "vCPU·s"              # optional; default by resource: "vCPU·s", "GB·s", "GB·s",
//!                              # "GPU GB·s", "requests"
//! ```
//!
//! Mapping into the model: [`Tiers`] steps are `(up_to, price)` with the last `up_to` =
//! `f64::INFINITY` (a flat `rate` is one open step); `Item::rounding` is the index of the rule
//! in `Sheet::roundings` (file order); durations are µs ([`crate::units::parse_duration`]); an item
//! with `resource = "requests"` has `state = Active` and no rounding.

use std::collections::HashMap;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::{Table, Value};

use super::model::{Instances, Item, NamedRounding, PhaseBilling, Resource, Sheet, State, Tiers};
use crate::error::InputError;
use crate::input::{choices, describe, join, list, section_name, toml_error, Ctx, LineMap, Origins};
use crate::units::Micros;
use crate::usage::{Period, Phase, Rounding};

/// The built-in sheets, by name, in the order `coldcost pricing list` shows them.
pub const BUILTIN: &[(&str, &str)] = &[
    ("fc3", include_str!("../../scenarios/pricing/fc3.toml")),
    ("fc3-usd", include_str!("../../scenarios/pricing/fc3-usd.toml")),
    ("fc2", include_str!("../../scenarios/pricing/fc2.toml")),
    ("lambda", include_str!("../../scenarios/pricing/lambda.toml")),
    ("lambda-arm", include_str!("../../scenarios/pricing/lambda-arm.toml")),
    ("cloudrun", include_str!("../../scenarios/pricing/cloudrun.toml")),
    ("cloudrun-instance", include_str!("../../scenarios/pricing/cloudrun-instance.toml")),
    ("azure-flex", include_str!("../../scenarios/pricing/azure-flex.toml")),
];

/// The names of the built-in sheets, in [`BUILTIN`]'s order (the scenario validator's
/// [`crate::scenario::BUILTIN_PRICING`] is this list).
pub const BUILTIN_NAMES: [&str; BUILTIN.len()] = {
    let mut names = [""; BUILTIN.len()];
    let mut i = 0;
    while i < BUILTIN.len() {
        names[i] = BUILTIN[i].0;
        i += 1;
    }
    names
};

/// The names of the built-in sheets.
pub fn builtin_names() -> impl Iterator<Item = &'static str> + Clone {
    BUILTIN_NAMES.iter().copied()
}

const TOP: &[&str] = &[
    "name",
    "title",
    "currency",
    "source",
    "as_of",
    "phases",
    "rounding",
    "compute_units",
    "minimum",
    "free_tier",
    "item",
];
const RULE: &[&str] = &["period", "quantum", "minimum", "init_into_first_request"];
const COMPUTE_UNITS: &[&str] = &["tiers", "free"];
const MINIMUM: &[&str] = &["per_function_hour"];
const FREE_TIER: &[&str] = &["enabled"];
const ITEM: &[&str] = &["name", "resource", "state", "instances", "rounding", "rate", "tiers", "free", "unit"];

const PHASE_VALUES: &[(&str, PhaseBilling)] =
    &[("active", PhaseBilling::Active), ("idle", PhaseBilling::Idle), ("none", PhaseBilling::None)];
const PERIODS: &[(&str, Period)] =
    &[("interval", Period::Interval), ("request", Period::Request), ("instance", Period::Instance)];
const RESOURCES: &[(&str, Resource)] = &[
    ("vcpu", Resource::Vcpu),
    ("memory", Resource::Memory),
    ("disk", Resource::Disk),
    ("gpu", Resource::Gpu),
    ("requests", Resource::Requests),
];
const STATES: &[(&str, State)] = &[("active", State::Active), ("idle", State::Idle), ("life", State::Life)];
const INSTANCES: &[(&str, Instances)] =
    &[("all", Instances::All), ("on_demand", Instances::OnDemand), ("reserved", Instances::Reserved)];

/// Parse and validate sheet text; `source` names it in messages; `default_name` when the file
/// has no `name`.
pub fn parse_str(text: &str, source: &str, default_name: &str) -> Result<Sheet, InputError> {
    let table: Table = text.parse().map_err(|e| toml_error(source, text, &e))?;
    let lines = LineMap::build(text);
    let ctx = Ctx { source, lines: &lines, origins: Origins::default(), base_dir: Path::new("") };
    sheet(&table, &ctx, default_name, &rule_offsets(text))
}

/// A built-in name, or a path (relative paths as given: the scenario validator already
/// resolved them, [`Ctx::file`]).
pub fn load(name_or_path: &str) -> Result<Sheet, InputError> {
    if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        return parse_str(text, &format!("built-in sheet {name}"), name);
    }
    let path = Path::new(name_or_path);
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError::new(
            name_or_path,
            "",
            format!(
                "\"{name_or_path}\" is not a built-in price sheet, and reading it as a file failed: {e}{}",
                choices(name_or_path, builtin_names(), "built-in sheets")
            ),
        )
    })?;
    parse_str(&text, name_or_path, &stem(path))
}

/// The file stem, or `sheet` when there is none worth using.
fn stem(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).filter(|s| !s.trim().is_empty()).unwrap_or("sheet").to_string()
}

/// Byte offset of each `rounding.NAME` key, so rules keep file order (the parsed table is
/// sorted by key).
fn rule_offsets(text: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    let Ok(root) = DeTable::parse(text) else {
        return out;
    };
    let rounding = root.get_ref().iter().find(|(k, _)| k.get_ref() == "rounding");
    if let Some((_, v)) = rounding {
        if let DeValue::Table(t) = v.get_ref() {
            for (k, _) in t.iter() {
                out.insert(k.get_ref().to_string(), k.span().start);
            }
        }
    }
    out
}

// ---------------------------------------------------------------- small checks

/// Unknown keys in `t` (at `path`): the first one, with a did-you-mean and the allowed list.
fn known_keys(t: &Table, path: &str, allowed: &[&str], ctx: &Ctx<'_>) -> Result<(), InputError> {
    for (k, v) in t {
        if !allowed.contains(&k.as_str()) {
            let what = match v {
                Value::Table(_) if path.is_empty() => "section",
                _ => "key",
            };
            return Err(ctx.err(
                join(path, k),
                format!(
                    "unknown {what} `{k}` in {}{}",
                    section_name(path),
                    choices(k, allowed.iter().copied(), "allowed")
                ),
            ));
        }
    }
    Ok(())
}

/// An optional table.
fn table<'v>(v: Option<&'v Value>, path: &str, keys: &[&str], ctx: &Ctx<'_>) -> Result<Option<&'v Table>, InputError> {
    match v {
        None => Ok(None),
        Some(Value::Table(t)) => {
            known_keys(t, path, keys, ctx)?;
            Ok(Some(t))
        }
        Some(other) => Err(ctx.err(
            path,
            format!("found {}; [{path}] is a table (keys: {})", describe(other), list(keys.iter().copied())),
        )),
    }
}

/// An optional string.
fn string<'v>(v: Option<&'v Value>, path: &str, what: &str, ctx: &Ctx<'_>) -> Result<Option<&'v str>, InputError> {
    v.map(|v| ctx.string(v, path, what)).transpose()
}

/// A required non-empty string.
fn text<'v>(t: &'v Table, path: &str, what: &str, example: &str, ctx: &Ctx<'_>) -> Result<&'v str, InputError> {
    let s = ctx.required(string(t.get(key_of(path)), path, what, ctx)?, path, example)?;
    if s.trim().is_empty() {
        return Err(ctx.err(path, format!("`{}` is empty; it must say {what}, e.g. {example}", key_of(path))));
    }
    Ok(s)
}

/// A finite number ≥ 0.
fn non_negative(v: Option<&Value>, path: &str, ctx: &Ctx<'_>) -> Result<Option<f64>, InputError> {
    match ctx.number(v, path)? {
        Some(x) if x < 0.0 => Err(ctx.err(path, format!("{} must be 0 or more; found {x}", key_of(path)))),
        x => Ok(x),
    }
}

/// One of `options` by name.
fn choice<T: Copy>(v: &Value, path: &str, options: &[(&'static str, T)], ctx: &Ctx<'_>) -> Result<T, InputError> {
    let names = || options.iter().map(|(n, _)| *n);
    match v {
        Value::String(s) => options.iter().find(|(n, _)| n == s).map(|(_, t)| *t).ok_or_else(|| {
            ctx.err(path, format!("unknown value \"{s}\" for `{}`{}", key_of(path), choices(s, names(), "allowed")))
        }),
        other => Err(ctx.err(
            path,
            format!(
                "found {}; `{}` is one of \"{}\"",
                describe(other),
                key_of(path),
                names().collect::<Vec<_>>().join("\", \"")
            ),
        )),
    }
}

/// The last key of a path: `item[3].rate` → `rate`, `compute_units.tiers[1]` → `tiers`.
fn key_of(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

/// `YYYY-MM-DD`, a real calendar date.
fn date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| {
        b[r.clone()].iter().all(u8::is_ascii_digit).then(|| s[r].parse::<u32>().ok()).flatten()
    };
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

// ---------------------------------------------------------------- the sheet

fn sheet(t: &Table, ctx: &Ctx<'_>, default_name: &str, offsets: &HashMap<String, usize>) -> Result<Sheet, InputError> {
    known_keys(t, "", TOP, ctx)?;
    let name = match string(t.get("name"), "name", "the sheet's short name", ctx)? {
        Some(n) if n.trim().is_empty() => {
            return Err(
                ctx.err("name", "`name` is empty; leave it out to use the file name, or write e.g. name = \"mine\"")
            )
        }
        Some(n) => n.to_string(),
        None => default_name.to_string(),
    };
    let title = text(t, "title", "what the sheet prices", "title = \"AWS Lambda x86, us-east-1, USD\"", ctx)?;
    let currency = text(t, "currency", "an ISO 4217 code", "currency = \"USD\"", ctx)?;
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ctx.err(
            "currency",
            format!(
                "currency \"{currency}\" is not an ISO 4217 code; write 3 upper-case letters, e.g. \"USD\" or \"CNY\""
            ),
        ));
    }
    let source = text(t, "source", "where the prices come from", "source = \"aws.amazon.com/lambda/pricing\"", ctx)?;
    let as_of = as_of(t.get("as_of"), ctx)?;
    let phases = phases(t.get("phases"), ctx)?;
    let (rule_names, roundings) = roundings(t.get("rounding"), offsets, ctx)?;
    let (compute_units, free_cu) = compute_units(t.get("compute_units"), ctx)?;
    let minimum = table(t.get("minimum"), "minimum", MINIMUM, ctx)?;
    let minimum_per_function_hour = match minimum {
        Some(m) => non_negative(m.get("per_function_hour"), "minimum.per_function_hour", ctx)?.unwrap_or(0.0),
        None => 0.0,
    };
    let free_tier_enabled = match table(t.get("free_tier"), "free_tier", FREE_TIER, ctx)? {
        Some(f) => ctx.boolean(f.get("enabled"), "free_tier.enabled")?.unwrap_or(false),
        None => false,
    };
    let items = items(t.get("item"), &rule_names, ctx)?;
    Ok(Sheet {
        name,
        title: title.to_string(),
        currency: currency.to_string(),
        source: source.to_string(),
        as_of,
        phases,
        roundings,
        items,
        compute_units,
        minimum_per_function_hour,
        free_tier_enabled,
        free_cu,
    })
}

fn as_of(v: Option<&Value>, ctx: &Ctx<'_>) -> Result<String, InputError> {
    const HOW: &str = "write the date the prices were read as YYYY-MM-DD, e.g. as_of = \"2025-08-27\"";
    match v {
        None => Err(ctx.err("as_of", format!("`as_of` is missing; {HOW}"))),
        Some(Value::String(s)) if date(s) => Ok(s.clone()),
        Some(Value::Datetime(d)) if d.time.is_none() && d.offset.is_none() && date(&d.to_string()) => Ok(d.to_string()),
        Some(other) => Err(ctx.err("as_of", format!("found {}, which is not a date; {HOW}", describe(other)))),
    }
}

fn phases(v: Option<&Value>, ctx: &Ctx<'_>) -> Result<[PhaseBilling; Phase::COUNT], InputError> {
    let names: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
    let t = table(v, "phases", &names, ctx)?.ok_or_else(|| {
        ctx.err(
            "",
            format!(
                "[phases] is missing; it says how each phase is billed: {} = \"active\" | \"idle\" | \"none\"",
                list(names.iter().copied())
            ),
        )
    })?;
    let mut out = [PhaseBilling::None; Phase::COUNT];
    for p in Phase::ALL {
        let path = format!("phases.{}", p.name());
        let v = t.get(p.name()).ok_or_else(|| {
            ctx.err(
                &path,
                format!(
                    "`{}` is missing; every phase needs \"active\", \"idle\" or \"none\" (phases: {})",
                    p.name(),
                    list(names.iter().copied())
                ),
            )
        })?;
        out[p.index()] = choice(v, &path, PHASE_VALUES, ctx)?;
    }
    Ok(out)
}

/// The rounding rules in file order, and their names.
fn roundings(
    v: Option<&Value>,
    offsets: &HashMap<String, usize>,
    ctx: &Ctx<'_>,
) -> Result<(Vec<String>, Vec<NamedRounding>), InputError> {
    let t = match v {
        None => return Ok((Vec::new(), Vec::new())),
        Some(Value::Table(t)) => t,
        Some(other) => {
            return Err(ctx.err(
                "rounding",
                format!(
                "found {}; rounding rules are tables named by you, e.g. [rounding.ondemand] with period = \"interval\"",
                describe(other)
            ),
            ))
        }
    };
    let mut entries: Vec<(&String, &Value)> = t.iter().collect();
    entries.sort_by_key(|(k, _)| offsets.get(k.as_str()).copied().unwrap_or(usize::MAX));
    let mut names = Vec::new();
    let mut rules = Vec::new();
    for (name, v) in entries {
        let here = join("rounding", name);
        let Value::Table(r) = v else {
            return Err(ctx.err(
                &here,
                format!(
                    "found {}; a rounding rule is a table (keys: {}), e.g. [rounding.{name}] period = \"interval\"",
                    describe(v),
                    list(RULE.iter().copied())
                ),
            ));
        };
        known_keys(r, &here, RULE, ctx)?;
        let period_path = join(&here, "period");
        let period = match r.get("period") {
            Some(p) => choice(p, &period_path, PERIODS, ctx)?,
            None => {
                return Err(ctx.err(
                    &period_path,
                    "`period` is missing; it is \"interval\" (each busy period, pull or idle stretch), \"request\" (each request) or \"instance\" (the whole life)",
                ))
            }
        };
        let quantum_path = join(&here, "quantum");
        let quantum: Micros = ctx.duration(r.get("quantum"), &quantum_path)?.unwrap_or(1);
        if quantum == 0 {
            return Err(ctx.err(&quantum_path, "quantum must be at least 1us (\"1us\" means exact); found 0"));
        }
        let minimum = ctx.duration(r.get("minimum"), &join(&here, "minimum"))?.unwrap_or(0);
        let init_path = join(&here, "init_into_first_request");
        let init_into_first_request = ctx.boolean(r.get("init_into_first_request"), &init_path)?.unwrap_or(false);
        if init_into_first_request && period != Period::Request {
            let found = r.get("period").and_then(Value::as_str).unwrap_or_default();
            return Err(ctx.err(
                &init_path,
                format!(
                    "init_into_first_request = true is only allowed with period = \"request\"; this rule has period = \"{found}\""
                ),
            ));
        }
        names.push(name.clone());
        let rule = Rounding { period, quantum, minimum, init_into_first_request };
        rules.push(NamedRounding { name: name.clone(), rule });
    }
    Ok((names, rules))
}

fn compute_units(v: Option<&Value>, ctx: &Ctx<'_>) -> Result<(Option<Tiers>, f64), InputError> {
    let Some(t) = table(v, "compute_units", COMPUTE_UNITS, ctx)? else {
        return Ok((None, 0.0));
    };
    let tiers = match t.get("tiers") {
        Some(v) => tiers(v, "compute_units.tiers", "price", ctx)?,
        None => {
            return Err(ctx.err(
                "compute_units.tiers",
                "`tiers` is missing; CU are priced by tiers such as [{ up_to = 200000000, price = 0.00011 }, { price = 0.00009 }]",
            ))
        }
    };
    let free = non_negative(t.get("free"), "compute_units.free", ctx)?.unwrap_or(0.0);
    Ok((Some(tiers), free))
}

/// `[{ up_to, <price> }, ..., { <price> }]`: thresholds strictly increasing, the last open.
fn tiers(v: &Value, path: &str, price: &str, ctx: &Ctx<'_>) -> Result<Tiers, InputError> {
    let example = format!("[{{ up_to = 1000000, {price} = 0.2 }}, {{ {price} = 0.1 }}]");
    let items = match v {
        Value::Array(a) if !a.is_empty() => a,
        Value::Array(_) => return Err(ctx.err(path, format!("`tiers` is empty; write e.g. tiers = {example}"))),
        other => {
            return Err(
                ctx.err(path, format!("found {}; `tiers` is an array of tables, e.g. {example}", describe(other)))
            )
        }
    };
    let mut steps = Vec::with_capacity(items.len());
    let mut below = 0.0;
    for (i, item) in items.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let Value::Table(t) = item else {
            return Err(ctx.err(&here, format!("found {}; each tier is a table, e.g. {example}", describe(item))));
        };
        known_keys(t, &here, &["up_to", price], ctx)?;
        let price_path = join(&here, price);
        let p = ctx.required(non_negative(t.get(price), &price_path, ctx)?, &price_path, &format!("{price} = 0.1"))?;
        let up_path = join(&here, "up_to");
        let up_to = non_negative(t.get("up_to"), &up_path, ctx)?;
        let last = i + 1 == items.len();
        let up_to = match (up_to, last) {
            (Some(u), false) => u,
            (None, true) => f64::INFINITY,
            (None, false) => {
                return Err(ctx.err(
                    &up_path,
                    format!("only the last tier may leave out `up_to`; tier {i} needs a threshold above {below}"),
                ))
            }
            (Some(u), true) => {
                return Err(ctx.err(
                    &up_path,
                    format!(
                        "the last tier ends at up_to = {u}, so nothing prices the quantity above it; add a final open tier without `up_to`, e.g. {{ {price} = {p} }}"
                    ),
                ))
            }
        };
        if !last && up_to <= below {
            return Err(ctx.err(
                &up_path,
                format!("tier thresholds must be strictly increasing; up_to = {up_to} is not above {below}"),
            ));
        }
        below = up_to;
        steps.push((up_to, p));
    }
    Ok(Tiers { steps })
}

fn items(v: Option<&Value>, rules: &[String], ctx: &Ctx<'_>) -> Result<Vec<Item>, InputError> {
    let arr = match v {
        Some(Value::Array(a)) if !a.is_empty() => a,
        None | Some(Value::Array(_)) => {
            return Err(ctx.err(
                "item",
                "a sheet needs at least one [[item]] (a line on the bill), e.g. [[item]] name = \"Duration\" resource = \"memory\" state = \"active\" rate = 0.0000166667",
            ))
        }
        Some(Value::Table(_)) => {
            return Err(ctx.err("item", "`item` must be an array of tables: write [[item]] (double brackets), one per line on the bill"))
        }
        Some(other) => {
            return Err(ctx.err("item", format!("found {}; `item` must be an array of tables: write [[item]]", describe(other))))
        }
    };
    let mut out: Vec<Item> = Vec::with_capacity(arr.len());
    for (i, v) in arr.iter().enumerate() {
        let here = format!("item[{i}]");
        let Value::Table(t) = v else {
            return Err(ctx.err(&here, format!("found {}; each item is a table: write [[item]]", describe(v))));
        };
        let item = item(t, &here, rules, ctx)?;
        if let Some(j) = out.iter().position(|o| o.name == item.name) {
            return Err(ctx.err(
                join(&here, "name"),
                format!(
                    "item name \"{}\" is used twice (also item[{j}]); each line on the bill needs its own name",
                    item.name
                ),
            ));
        }
        out.push(item);
    }
    Ok(out)
}

fn item(t: &Table, here: &str, rules: &[String], ctx: &Ctx<'_>) -> Result<Item, InputError> {
    known_keys(t, here, ITEM, ctx)?;
    let p = |k: &str| join(here, k);
    let name = text(t, &p("name"), "the line's name on the bill", "name = \"Duration\"", ctx)?.to_string();
    let resource = match t.get("resource") {
        Some(v) => choice(v, &p("resource"), RESOURCES, ctx)?,
        None => {
            return Err(ctx.err(
                p("resource"),
                "`resource` is missing; it is one of \"vcpu\", \"memory\", \"disk\", \"gpu\", \"requests\"",
            ))
        }
    };
    let requests = resource == Resource::Requests;
    let state = match (t.get("state"), requests) {
        (Some(_), true) => {
            return Err(ctx.err(
                p("state"),
                "`state` is not used with resource = \"requests\" (requests are counted, not timed); remove it",
            ))
        }
        (None, true) => State::Active,
        (Some(v), false) => choice(v, &p("state"), STATES, ctx)?,
        (None, false) => {
            return Err(ctx.err(
                p("state"),
                "`state` is missing; it is \"active\" (phases billed as active), \"idle\" (phases billed as idle) or \"life\" (the instance's whole life)",
            ))
        }
    };
    let instances = match t.get("instances") {
        Some(v) => choice(v, &p("instances"), INSTANCES, ctx)?,
        None => Instances::All,
    };
    let rounding = match string(t.get("rounding"), &p("rounding"), "the name of a [rounding.NAME] rule", ctx)? {
        None => None,
        Some(_) if requests => {
            return Err(ctx.err(
                p("rounding"),
                "`rounding` is not used with resource = \"requests\" (requests are counted, not timed); remove it",
            ))
        }
        Some(r) => match rules.iter().position(|n| n == r) {
            Some(i) => Some(i),
            None if rules.is_empty() => {
                return Err(ctx.err(
                    p("rounding"),
                    format!("unknown rounding rule \"{r}\": this sheet defines none; add a [rounding.{r}] table or remove `rounding`"),
                ))
            }
            None => {
                return Err(ctx.err(
                    p("rounding"),
                    format!(
                        "unknown rounding rule \"{r}\"{}",
                        choices(r, rules.iter().map(String::as_str), "defined rules")
                    ),
                ))
            }
        },
    };
    let tiers = match (t.get("rate"), t.get("tiers")) {
        (Some(_), Some(_)) => {
            return Err(ctx.err(p("tiers"), "give either `rate` (one price) or `tiers` (monthly tiers), not both"))
        }
        (None, None) => {
            return Err(ctx.err(
                p("rate"),
                "`rate` is missing; give `rate = 0.0000166667` (per unit) or `tiers = [{ up_to = 6000000000, rate = 0.0000166667 }, { rate = 0.000015 }]`",
            ))
        }
        (Some(r), None) => Tiers::flat(ctx.required(non_negative(Some(r), &p("rate"), ctx)?, &p("rate"), "rate = 0.1")?),
        (None, Some(v)) => tiers(v, &p("tiers"), "rate", ctx)?,
    };
    let free = non_negative(t.get("free"), &p("free"), ctx)?.unwrap_or(0.0);
    let unit = match string(t.get("unit"), &p("unit"), "the unit printed on the bill", ctx)? {
        Some(u) => u.to_string(),
        None => default_unit(resource).to_string(),
    };
    Ok(Item { name, resource, state, instances, rounding, tiers, free, unit })
}

/// The unit printed on the bill when an item names none.
pub fn default_unit(r: Resource) -> &'static str {
    match r {
        Resource::Vcpu => "vCPU·s",
        Resource::Memory | Resource::Disk => "GB·s",
        Resource::Gpu => "GPU GB·s",
        Resource::Requests => "requests",
    }
}

/// The name a sheet file uses for a value (the reverse of parsing), for `pricing show`.
pub fn phase_billing_name(b: PhaseBilling) -> &'static str {
    name_of(PHASE_VALUES, b)
}
pub fn period_name(p: Period) -> &'static str {
    name_of(PERIODS, p)
}
pub fn resource_name(r: Resource) -> &'static str {
    name_of(RESOURCES, r)
}
pub fn state_name(s: State) -> &'static str {
    name_of(STATES, s)
}
pub fn instances_name(i: Instances) -> &'static str {
    name_of(INSTANCES, i)
}

fn name_of<T: PartialEq>(options: &[(&'static str, T)], v: T) -> &'static str {
    options.iter().find(|(_, o)| *o == v).map_or("?", |(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: &str = r#"title = "t"
currency = "USD"
source = "s"
as_of = "2025-01-02"

[phases]
pull = "none"
create = "none"
startup = "active"
busy = "active"
idle_keepalive = "none"
idle_reserved = "idle"

[rounding.ondemand]
period = "interval"
quantum = "1ms"

[rounding.reserved]
period = "instance"
quantum = "10s"

[[item]]
name = "Duration"
resource = "memory"
state = "active"
rounding = "ondemand"
rate = 0.1

[[item]]
name = "Requests"
resource = "requests"
rate = 0.2
"#;

    fn builtin(name: &str) -> Sheet {
        load(name).unwrap_or_else(|e| panic!("{e}"))
    }

    fn item<'s>(s: &'s Sheet, name: &str) -> &'s Item {
        s.items.iter().find(|i| i.name == name).unwrap_or_else(|| panic!("no item {name:?} in {}", s.name))
    }

    /// MIN with `from` replaced by `to` (once; `from` must be there).
    fn edit(from: &str, to: &str) -> String {
        assert!(MIN.contains(from), "MIN has {from:?}");
        MIN.replacen(from, to, 1)
    }

    /// The error for `text`, which must have `path` and a message containing `fragment`.
    fn fails(text: &str, path: &str, fragment: &str) -> InputError {
        let e = match parse_str(text, "mine.toml", "mine") {
            Ok(_) => panic!("expected an error at {path}"),
            Err(e) => e,
        };
        assert_eq!(e.path, path, "{e}");
        assert!(e.message.contains(fragment), "{fragment:?} not in: {e}");
        assert_eq!(e.source, "mine.toml");
        e
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
    }

    // ---------------------------------------------------------------- the built-in sheets

    #[test]
    fn every_built_in_sheet_parses_validates_and_is_named_like_its_file() {
        for (name, text) in BUILTIN {
            let s = parse_str(text, name, "other").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.name, *name);
            assert!(!s.items.is_empty() && !s.title.is_empty() && !s.source.is_empty());
            assert!(!s.free_tier_enabled, "{name}: the free tier is off by default");
            assert!(text.starts_with(&format!("# {name} — ")), "{name} opens with its comment block");
            assert!(text.contains("[INF] switches in this sheet"), "{name} lists its switches");
        }
    }

    #[test]
    fn fc3_has_the_documented_cu_factors_tiers_rounding_and_minimum() {
        let s = builtin("fc3");
        assert_eq!(s.currency, "CNY");
        assert_eq!(item(&s, "vCPU active (on-demand)").tiers, Tiers::flat(1.0));
        assert_eq!(item(&s, "vCPU idle").tiers, Tiers::flat(0.0));
        for name in [
            "Memory active (on-demand)",
            "Memory idle (on-demand)",
            "Memory active (reserved)",
            "Memory idle (reserved)",
        ] {
            assert_eq!(item(&s, name).tiers.first_price(), 0.15, "{name}");
        }
        assert_eq!(item(&s, "Disk idle (reserved)").tiers.first_price(), 0.05);
        assert_eq!(item(&s, "GPU active (on-demand)").tiers.first_price(), 1.5);
        assert_eq!(item(&s, "GPU idle (reserved)").tiers.first_price(), 0.25);
        assert_eq!(item(&s, "Invocations").tiers.first_price(), 0.0075);
        let cu = s.compute_units.as_ref().unwrap();
        assert_eq!(cu.steps, vec![(2e8, 0.00011), (1e9, 0.00010), (f64::INFINITY, 0.00009)]);
        assert_eq!(s.free_cu, 150_000.0);
        assert_eq!(s.minimum_per_function_hour, 0.01);
        let names: Vec<&str> = s.roundings.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["ondemand", "reserved", "gpu_ondemand", "gpu_reserved"], "file order");
        assert_eq!((s.roundings[0].rule.period, s.roundings[0].rule.quantum), (Period::Interval, 1_000));
        assert_eq!((s.roundings[1].rule.period, s.roundings[1].rule.quantum), (Period::Instance, 10_000_000));
        let reserved = item(&s, "Memory idle (reserved)");
        assert_eq!((reserved.instances, reserved.rounding), (Instances::Reserved, Some(1)));
        assert_eq!(s.phases[Phase::Pull.index()], PhaseBilling::Active);
        assert_eq!(s.phases[Phase::Create.index()], PhaseBilling::None);
        assert_eq!(s.phases[Phase::IdleKeepalive.index()], PhaseBilling::Idle);
        // billing-rules §1.6: 10 s pull of 1 vCPU + 1 GB + 0.5 GB disk = 11.75 CU = CNY 0.0012925
        let cu_used = 10.0 * 1.0 + 10.0 * 0.15 + 5.0 * 0.05;
        assert!(close(cu.amount(cu_used), 0.0012925));
    }

    #[test]
    fn fc3_usd_has_the_usd_tiers_and_no_hourly_minimum() {
        let s = builtin("fc3-usd");
        assert_eq!(s.currency, "USD");
        assert_eq!(
            s.compute_units.as_ref().unwrap().steps,
            vec![(1e8, 0.000020), (5e8, 0.000017), (f64::INFINITY, 0.000014)]
        );
        assert_eq!(s.minimum_per_function_hour, 0.0);
        assert_eq!(item(&s, "Memory active (on-demand)").tiers.first_price(), 0.15);
    }

    #[test]
    fn fc2_bills_memory_invocations_and_provisioned_life() {
        let s = builtin("fc2");
        assert!(s.compute_units.is_none());
        assert_eq!(item(&s, "Memory (on-demand)").tiers.first_price(), 0.000110592);
        assert!(close(item(&s, "Invocations").tiers.first_price() * 10_000.0, 0.0133));
        let p = item(&s, "Provisioned instances");
        assert_eq!((p.state, p.instances), (State::Life, Instances::Reserved));
        assert_eq!(s.phases[Phase::Pull.index()], PhaseBilling::Active);
        assert_eq!(s.phases[Phase::IdleKeepalive.index()], PhaseBilling::None);
        assert_eq!((item(&s, "Invocations").free, item(&s, "Memory (on-demand)").free), (1e6, 4e5));
    }

    #[test]
    fn lambda_has_tiered_duration_requests_and_provisioned_concurrency() {
        let s = builtin("lambda");
        let d = item(&s, "Duration");
        assert_eq!(d.tiers.steps, vec![(6e9, 0.0000166667), (15e9, 0.000015), (f64::INFINITY, 0.0000133334)]);
        assert_eq!(d.free, 400_000.0);
        assert_eq!(item(&s, "Requests").tiers.first_price(), 2e-7);
        let pc = item(&s, "Provisioned concurrency");
        assert_eq!((pc.state, pc.instances, pc.tiers.first_price()), (State::Life, Instances::Reserved, 0.0000041667));
        assert_eq!(s.roundings[pc.rounding.unwrap()].rule.quantum, 300_000_000);
        let rule = &s.roundings[d.rounding.unwrap()].rule;
        assert_eq!((rule.period, rule.quantum, rule.init_into_first_request), (Period::Request, 1_000, true));
        assert_eq!(item(&s, "Duration (provisioned)").tiers.first_price(), 0.0000097222);
        assert_eq!(s.phases[Phase::Pull.index()], PhaseBilling::None);
        assert_eq!(s.phases[Phase::Startup.index()], PhaseBilling::Active);
        // billing-rules §2.3: 1024 MB, init 1300 ms + handler 1050 ms → 2.35 GB·s → USD 0.0000392
        assert!((d.tiers.amount(2.35) - 0.0000392).abs() < 1e-7);
    }

    #[test]
    fn lambda_tiers_price_each_part_at_its_own_rate() {
        let s = builtin("lambda");
        let got = item(&s, "Duration").tiers.amount(7e9);
        assert!(close(got, 6e9 * 0.0000166667 + 1e9 * 0.000015), "{got}");
        let got = item(&s, "Duration").tiers.amount(20e9);
        assert!(close(got, 6e9 * 0.0000166667 + 9e9 * 0.000015 + 5e9 * 0.0000133334), "{got}");
    }

    #[test]
    fn lambda_arm_has_the_arm64_prices() {
        let s = builtin("lambda-arm");
        let d = item(&s, "Duration");
        assert_eq!(d.tiers.steps, vec![(7.5e9, 0.0000133334), (18.75e9, 0.0000120001), (f64::INFINITY, 0.0000106667)]);
        assert_eq!(item(&s, "Provisioned concurrency").tiers.first_price(), 0.0000033334);
        assert_eq!(item(&s, "Duration (provisioned)").tiers.first_price(), 0.0000077778);
    }

    #[test]
    fn cloudrun_bills_start_up_and_requests_at_100ms_but_not_the_pull() {
        let s = builtin("cloudrun");
        assert_eq!(item(&s, "Requests").tiers.first_price(), 4e-7);
        assert_eq!(item(&s, "CPU").tiers.first_price(), 0.000024);
        assert_eq!(item(&s, "Memory").unit, "GiB·s");
        assert_eq!(item(&s, "CPU idle (min instances)").tiers.first_price(), 0.0000025);
        assert_eq!(s.roundings[0].rule.quantum, 100_000);
        let ph = |p: Phase| s.phases[p.index()];
        assert_eq!(ph(Phase::Pull), PhaseBilling::None);
        assert_eq!((ph(Phase::Create), ph(Phase::Startup)), (PhaseBilling::Active, PhaseBilling::Active));
        assert_eq!((ph(Phase::IdleKeepalive), ph(Phase::IdleReserved)), (PhaseBilling::None, PhaseBilling::Idle));
        // billing-rules §3.3: 2,000,000 vCPU·s + 1,000,000 GiB·s + 10 M requests = USD 54.50
        let total = item(&s, "CPU").tiers.amount(2e6)
            + item(&s, "Memory").tiers.amount(1e6)
            + item(&s, "Requests").tiers.amount(1e7);
        assert!(close(total, 54.5), "{total}");
    }

    #[test]
    fn cloudrun_instance_bills_every_phase_but_the_pull_and_no_requests() {
        let s = builtin("cloudrun-instance");
        assert!(s.items.iter().all(|i| i.resource != Resource::Requests));
        assert_eq!(item(&s, "CPU").tiers.first_price(), 0.000018);
        assert_eq!(item(&s, "Memory").tiers.first_price(), 0.000002);
        for p in Phase::ALL {
            let want = if p == Phase::Pull { PhaseBilling::None } else { PhaseBilling::Active };
            assert_eq!(s.phases[p.index()], want, "{}", p.name());
        }
    }

    #[test]
    fn azure_flex_rounds_executions_to_100ms_with_a_1s_minimum() {
        let s = builtin("azure-flex");
        let e = item(&s, "On demand execution time");
        let rule = &s.roundings[e.rounding.unwrap()].rule;
        assert_eq!((rule.period, rule.quantum, rule.minimum), (Period::Interval, 100_000, 1_000_000));
        assert_eq!((e.tiers.first_price(), e.free), (0.000026, 100_000.0));
        let b = item(&s, "Always ready baseline");
        assert_eq!((b.state, b.instances, b.tiers.first_price()), (State::Life, Instances::Reserved, 0.000004));
        assert_eq!(item(&s, "Always ready execution time").rounding, e.rounding);
        assert_eq!(item(&s, "On demand executions").free, 250_000.0);
        for p in [Phase::Pull, Phase::Create, Phase::Startup] {
            assert_eq!(s.phases[p.index()], PhaseBilling::None);
        }
    }

    // ---------------------------------------------------------------- the format

    #[test]
    fn the_minimal_sheet_maps_into_the_model() {
        let s = parse_str(MIN, "mine.toml", "mine").unwrap();
        assert_eq!(s.name, "mine", "the default name");
        assert_eq!(s.as_of, "2025-01-02");
        let r = &s.items[1];
        assert_eq!(
            (r.resource, r.state, r.instances, r.rounding),
            (Resource::Requests, State::Active, Instances::All, None)
        );
        assert_eq!((r.unit.as_str(), r.free), ("requests", 0.0));
        assert_eq!(s.items[0].unit, "GB·s");
        assert_eq!(s.items[0].tiers, Tiers { steps: vec![(f64::INFINITY, 0.1)] });
        assert_eq!(
            s.roundings[1],
            NamedRounding {
                name: "reserved".into(),
                rule: Rounding {
                    period: Period::Instance,
                    quantum: 10_000_000,
                    minimum: 0,
                    init_into_first_request: false,
                }
            }
        );
        assert_eq!(
            (s.compute_units, s.minimum_per_function_hour, s.free_tier_enabled, s.free_cu),
            (None, 0.0, false, 0.0)
        );
        let named = parse_str(&format!("name = \"x\"\n{MIN}"), "mine.toml", "mine").unwrap();
        assert_eq!(named.name, "x");
    }

    #[test]
    fn rounding_rules_keep_file_order_and_items_refer_to_them_by_index() {
        let text = edit("[rounding.ondemand]", "[rounding.zeta]\nperiod = \"request\"\n\n[rounding.ondemand]");
        let s = parse_str(&text, "mine.toml", "mine").unwrap();
        let names: Vec<&str> = s.roundings.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["zeta", "ondemand", "reserved"]);
        assert_eq!(s.items[0].rounding, Some(1));
        assert_eq!(s.roundings[0].rule.quantum, 1, "default quantum is exact (1 µs)");
    }

    #[test]
    fn a_toml_date_works_for_as_of() {
        let s = parse_str(&edit("as_of = \"2025-01-02\"", "as_of = 2025-01-02"), "mine.toml", "mine").unwrap();
        assert_eq!(s.as_of, "2025-01-02");
    }

    #[test]
    fn compute_units_and_the_other_sections_are_read() {
        let text = format!(
            "{MIN}\n[compute_units]\ntiers = [{{ up_to = 10, price = 2 }}, {{ price = 1 }}]\nfree = 5\n[minimum]\nper_function_hour = 0.5\n[free_tier]\nenabled = true\n"
        );
        let s = parse_str(&text, "mine.toml", "mine").unwrap();
        assert_eq!(s.compute_units.unwrap().steps, vec![(10.0, 2.0), (f64::INFINITY, 1.0)]);
        assert_eq!((s.free_cu, s.minimum_per_function_hour, s.free_tier_enabled), (5.0, 0.5, true));
    }

    #[test]
    fn a_syntax_error_gives_its_line() {
        let e = parse_str(&edit("rate = 0.1", "rate = = 0.1"), "mine.toml", "mine").unwrap_err();
        assert_eq!(e.line, Some(27), "{e}");
    }

    #[test]
    fn unknown_keys_get_a_did_you_mean_and_their_line() {
        let e = fails(
            &edit("title = \"t\"", "titel = \"t\""),
            "titel",
            "unknown key `titel` in the top level; did you mean `title`?",
        );
        assert_eq!(e.line, Some(1));
        let e = fails(&edit("rate = 0.1", "ratte = 0.1"), "item[0].ratte", "did you mean `rate`?");
        assert_eq!(e.line, Some(27));
        assert!(e.message.contains("(allowed: name, resource, state"), "{e}");
        fails(
            &edit("[phases]", "[phase]"),
            "phase",
            "unknown section `phase` in the top level; did you mean `phases`?",
        );
        fails(&edit("quantum = \"10s\"", "quantm = \"10s\""), "rounding.reserved.quantm", "did you mean `quantum`?");
        fails(&format!("{MIN}\n[free_tier]\nenable = true\n"), "free_tier.enable", "did you mean `enabled`?");
        fails(
            &format!("{MIN}\n[minimum]\nper_function_hours = 1\n"),
            "minimum.per_function_hours",
            "did you mean `per_function_hour`?",
        );
        fails(
            &format!("{MIN}\n[compute_units]\ntiers = [{{ up_to = 1, prize = 2 }}, {{ price = 1 }}]\n"),
            "compute_units.tiers[0].prize",
            "did you mean `price`?",
        );
    }

    #[test]
    fn missing_required_keys_are_named() {
        fails(&edit("title = \"t\"\n", ""), "title", "`title` is missing");
        fails(&edit("title = \"t\"", "title = \" \""), "title", "`title` is empty");
        fails(&edit("currency = \"USD\"\n", ""), "currency", "`currency` is missing");
        fails(&edit("source = \"s\"\n", ""), "source", "`source` is missing");
        fails(&edit("as_of = \"2025-01-02\"\n", ""), "as_of", "`as_of` is missing");
        let cut = MIN.find("[phases]").unwrap()..MIN.find("[rounding.ondemand]").unwrap();
        let mut no_phases = MIN.to_string();
        no_phases.replace_range(cut, "");
        fails(&no_phases, "", "[phases] is missing");
        fails(&MIN[..MIN.find("[[item]]").unwrap()], "item", "at least one [[item]]");
        fails(&edit("name = \"Duration\"\n", ""), "item[0].name", "`name` is missing");
        fails(&edit("resource = \"memory\"\n", ""), "item[0].resource", "`resource` is missing");
        fails(&edit("state = \"active\"\n", ""), "item[0].state", "`state` is missing");
        fails(&edit("period = \"interval\"\n", ""), "rounding.ondemand.period", "`period` is missing");
    }

    #[test]
    fn every_phase_must_be_there_and_known() {
        let e = fails(&edit("create = \"none\"\n", ""), "phases.create", "`create` is missing");
        assert!(e.message.contains("pull, create, startup, busy, idle_keepalive, idle_reserved"), "{e}");
        fails(&edit("pull = \"none\"", "pulll = \"none\""), "phases.pulll", "did you mean `pull`?");
        let e = fails(
            &edit("pull = \"none\"", "pull = \"actve\""),
            "phases.pull",
            "unknown value \"actve\" for `pull`; did you mean `active`?",
        );
        assert!(e.message.contains("(allowed: active, idle, none)"), "{e}");
        assert_eq!(e.line, Some(7));
        fails(&edit("pull = \"none\"", "pull = true"), "phases.pull", "found boolean true");
    }

    #[test]
    fn rates_and_prices_must_be_finite_and_not_negative() {
        let e = fails(&edit("rate = 0.1", "rate = -1"), "item[0].rate", "rate must be 0 or more; found -1");
        assert_eq!(e.line, Some(27));
        fails(&edit("rate = 0.1", "rate = inf"), "item[0].rate", "finite");
        fails(&edit("rate = 0.1", "rate = nan"), "item[0].rate", "finite");
        fails(&edit("rate = 0.1", "rate = \"0.1\""), "item[0].rate", "without quotes");
        fails(&edit("rate = 0.2", "rate = 0.2\nfree = -5"), "item[1].free", "0 or more");
        fails(
            &format!("{MIN}\n[compute_units]\ntiers = [{{ up_to = 10, price = 2 }}, {{ price = -1 }}]\n"),
            "compute_units.tiers[1].price",
            "0 or more",
        );
        fails(
            &format!("{MIN}\n[compute_units]\ntiers = [{{ price = 1 }}]\nfree = -1\n"),
            "compute_units.free",
            "0 or more",
        );
        fails(&format!("{MIN}\n[minimum]\nper_function_hour = -0.01\n"), "minimum.per_function_hour", "0 or more");
        fails(&format!("{MIN}\n[free_tier]\nenabled = 1\n"), "free_tier.enabled", "true or false");
    }

    #[test]
    fn tiers_must_increase_strictly_and_end_open() {
        let tiers = |t: &str| edit("rate = 0.1", &format!("tiers = {t}"));
        let e = fails(
            &tiers("[{ up_to = 10, rate = 2 }, { up_to = 10, rate = 1 }, { rate = 0.5 }]"),
            "item[0].tiers[1].up_to",
            "strictly increasing; up_to = 10 is not above 10",
        );
        assert_eq!(e.line, Some(27));
        fails(
            &tiers("[{ up_to = 10, rate = 2 }, { up_to = 20, rate = 1 }]"),
            "item[0].tiers[1].up_to",
            "add a final open tier",
        );
        fails(
            &tiers("[{ rate = 2 }, { rate = 1 }]"),
            "item[0].tiers[0].up_to",
            "only the last tier may leave out `up_to`",
        );
        fails(&tiers("[]"), "item[0].tiers", "`tiers` is empty");
        fails(&tiers("[{ up_to = 10 }, { rate = 1 }]"), "item[0].tiers[0].rate", "`rate` is missing");
        fails(&tiers("[{ up_to = 10, price = 1 }, { rate = 1 }]"), "item[0].tiers[0].price", "(allowed: up_to, rate)");
        fails(&tiers("0.1"), "item[0].tiers", "array of tables");
        fails(
            &format!("{MIN}\n[compute_units]\ntiers = [{{ up_to = 2e8, price = 2 }}, {{ up_to = 1e8, price = 1 }}, {{ price = 0.5 }}]\n"),
            "compute_units.tiers[1].up_to",
            "strictly increasing",
        );
        fails(&format!("{MIN}\n[compute_units]\nfree = 1\n"), "compute_units.tiers", "`tiers` is missing");
    }

    #[test]
    fn an_item_has_either_rate_or_tiers() {
        fails(
            &edit("rate = 0.1", "rate = 0.1\ntiers = [{ rate = 1 }]"),
            "item[0].tiers",
            "either `rate` (one price) or `tiers`",
        );
        fails(&edit("rate = 0.1\n", ""), "item[0].rate", "`rate` is missing; give `rate = ");
    }

    #[test]
    fn an_unknown_rounding_rule_lists_the_defined_ones() {
        let e = fails(
            &edit("rounding = \"ondemand\"", "rounding = \"ondemnd\""),
            "item[0].rounding",
            "unknown rounding rule \"ondemnd\"; did you mean `ondemand`?",
        );
        assert!(e.message.contains("(defined rules: ondemand, reserved)"), "{e}");
        let no_rules =
            format!("{}{}", &MIN[..MIN.find("[rounding.ondemand]").unwrap()], &MIN[MIN.find("[[item]]").unwrap()..]);
        fails(&no_rules, "item[0].rounding", "this sheet defines none; add a [rounding.ondemand] table");
        fails(&edit("rounding = \"ondemand\"", "rounding = 1"), "item[0].rounding", "found integer 1");
    }

    #[test]
    fn requests_take_no_state_and_no_rounding() {
        fails(
            &edit("resource = \"requests\"", "resource = \"requests\"\nstate = \"active\""),
            "item[1].state",
            "not used with resource = \"requests\"",
        );
        fails(
            &edit("resource = \"requests\"", "resource = \"requests\"\nrounding = \"ondemand\""),
            "item[1].rounding",
            "not used with resource = \"requests\"",
        );
    }

    #[test]
    fn item_choices_are_checked() {
        fails(&edit("resource = \"memory\"", "resource = \"mem\""), "item[0].resource", "did you mean `memory`?");
        fails(&edit("state = \"active\"", "state = \"busy\""), "item[0].state", "(allowed: active, idle, life)");
        fails(
            &edit("state = \"active\"", "state = \"active\"\ninstances = \"ondemand\""),
            "item[0].instances",
            "did you mean `on_demand`?",
        );
        fails(
            &edit("name = \"Requests\"", "name = \"Duration\""),
            "item[1].name",
            "\"Duration\" is used twice (also item[0])",
        );
        fails(&edit("rate = 0.2", "rate = 0.2\nunit = 5"), "item[1].unit", "found integer 5");
        let single = format!("{}[item]\nname = \"x\"\n", &MIN[..MIN.find("[[item]]").unwrap()]);
        fails(&single, "item", "double brackets");
    }

    #[test]
    fn rounding_rules_are_checked() {
        fails(
            &edit("period = \"interval\"", "period = \"per-request\""),
            "rounding.ondemand.period",
            "(allowed: interval, request, instance)",
        );
        fails(&edit("quantum = \"1ms\"", "quantum = \"0s\""), "rounding.ondemand.quantum", "at least 1us");
        fails(
            &edit("quantum = \"1ms\"", "quantum = 1"),
            "rounding.ondemand.quantum",
            "a duration is a string with a unit",
        );
        fails(&edit("quantum = \"1ms\"", "quantum = \"1\""), "rounding.ondemand.quantum", "has no unit");
        fails(
            &edit("quantum = \"1ms\"", "quantum = \"1ms\"\nminimum = \"1 fortnight\""),
            "rounding.ondemand.minimum",
            "unknown duration unit",
        );
        let e = fails(
            &edit("quantum = \"1ms\"", "quantum = \"1ms\"\ninit_into_first_request = true"),
            "rounding.ondemand.init_into_first_request",
            "only allowed with period = \"request\"; this rule has period = \"interval\"",
        );
        assert_eq!(e.line, Some(17));
        fails(
            &edit("[rounding.ondemand]\n", "[rounding]\nondemand = 3\n[rounding.x]\n"),
            "rounding.ondemand",
            "a rounding rule is a table",
        );
    }

    #[test]
    fn currency_and_date_are_checked() {
        fails(&edit("currency = \"USD\"", "currency = \"usd\""), "currency", "3 upper-case letters");
        fails(&edit("currency = \"USD\"", "currency = \"US\""), "currency", "not an ISO 4217 code");
        for bad in
            ["\"2025-13-01\"", "\"2025-02-29\"", "\"2025-1-02\"", "\"yesterday\"", "2025-01-02T10:00:00", "20250102"]
        {
            fails(&edit("as_of = \"2025-01-02\"", &format!("as_of = {bad}")), "as_of", "YYYY-MM-DD");
        }
        parse_str(&edit("as_of = \"2025-01-02\"", "as_of = \"2024-02-29\""), "mine.toml", "mine").unwrap();
    }

    #[test]
    fn load_reads_a_file_named_by_its_stem_and_reports_an_unreadable_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("my-prices.toml");
        std::fs::write(&file, MIN).unwrap();
        let s = load(file.to_str().unwrap()).unwrap();
        assert_eq!(s.name, "my-prices");
        let missing = dir.path().join("nope.toml");
        let e = load(missing.to_str().unwrap()).unwrap_err();
        assert!(e.message.contains("not a built-in price sheet") && e.message.contains("built-in sheets: fc3"), "{e}");
        std::fs::write(&file, edit("rate = 0.1", "rate = -2")).unwrap();
        let e = load(file.to_str().unwrap()).unwrap_err();
        assert_eq!((e.source.as_str(), e.path.as_str(), e.line), (file.to_str().unwrap(), "item[0].rate", Some(27)));
    }

    // ---------------------------------------------------------------- never panics

    /// A random edit of a text: delete a span, insert a snippet, or replace a line.
    fn mutate(text: &str, kind: u8, at: usize, len: usize, snippet: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        let at = at % (chars.len() + 1);
        match kind % 3 {
            0 => {
                let end = (at + len % 40).min(chars.len());
                chars.drain(at..end);
            }
            1 => {
                chars.splice(at..at, snippet.chars());
            }
            _ => {
                let lines: Vec<&str> = text.lines().collect();
                let i = at % lines.len().max(1);
                let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                if let Some(l) = out.get_mut(i) {
                    *l = snippet.to_string();
                }
                return out.join("\n");
            }
        }
        chars.into_iter().collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn parse_str_never_panics_on_arbitrary_text(text in any::<String>()) {
            let _ = parse_str(&text, "x.toml", "x");
        }

        #[test]
        fn parse_str_never_panics_on_random_edits_of_fc3(
            edits in proptest::collection::vec(
                (any::<u8>(), any::<usize>(), any::<usize>(),
                 r#"[a-z_\[\]{}=.,"0-9 \-]{0,12}|up_to = -1|rate = nan|period = "request"|init_into_first_request = true|\[\[item\]\]|\[rounding\.x\]|quantum = "0s"|tiers = \[\]|state = "life"|resource = "requests""#),
                1..4,
            )
        ) {
            let mut text = BUILTIN[0].1.to_string();
            for (kind, at, len, snippet) in &edits {
                text = mutate(&text, *kind, *at, *len, snippet);
            }
            let _ = parse_str(&text, "fc3.toml", "fc3");
        }
    }
}
