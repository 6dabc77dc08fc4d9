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
//! idle_reserved = "idle"       # reserved instance with no request (a GPU function's only with
//!                              # its idle mode on, function.gpu.idle_mode: else at the active rates)
//! never_started = "bill"       # optional, default "bill": instances released because they did not
//!                              # start within the start limit (FunctionNotStarted) are billed like
//!                              # any; "free": nothing of their life is billed
//!
//! [phases.gpu]                 # optional: GPU functions' phases where they differ from [phases]
//! idle_keepalive = "none"      # any of the six phase keys (FC: no billed keep-alive tail for GPU)
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
//! applies_to = "cpu"           # "all" (default) | "cpu": GPU functions have no hourly minimum
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
//! # rate = { tesla = 2.1, ada = 1.5 }   # resource = "gpu" only: a flat rate per GPU card (the
//! #   function's function.gpu.kind); a scenario whose card is missing is refused; no `free`.
//! #   The bill line shows the card's rate (one card billed), the mean by quantity (several),
//! #   or the lowest (none)
//! # tiers = [ { up_to = 6000000000, rate = 0.0000166667 }, { up_to = 15000000000, rate = 0.000015 }, { rate = 0.0000133334 } ]
//! #   cumulative monthly quantity thresholds, strictly increasing; the last tier has no `up_to`
//! free = 0                     # free quantity per month (used only when free_tier.enabled), default 0
//! unit = "vCPU·s"              # optional; default by resource: "vCPU·s", "GB·s", "GB·s",
//!                              # "GPU GB·s", "requests"
//! ```
//!
//! Mapping into the model: [`Tiers`] steps are `(up_to, price)` with the last `up_to` =
//! `f64::INFINITY` (a flat `rate` is one open step); each `[rounding.NAME]` becomes a
//! [`crate::usage::Rounding`] (the one rounding type: the run's meters apply it, see
//! [`crate::usage::meters`]) kept with its name in `Sheet::roundings` (file order), and
//! `Item::rounding` is its index; `[minimum] per_function_hour` is summed per function by the
//! meters too (`billing::meters`); durations are µs ([`crate::units::parse_duration`]); an item
//! with `resource = "requests"` has `state = Active` and no rounding.

use std::collections::HashMap;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::{Table, Value};

use super::model::{Instances, Item, NamedRounding, NeverStartedBilling, PhaseBilling, Resource, Sheet, State, Tiers};
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
const MINIMUM: &[&str] = &["per_function_hour", "applies_to"];
const FREE_TIER: &[&str] = &["enabled"];
const ITEM: &[&str] = &["name", "resource", "state", "instances", "rounding", "rate", "tiers", "free", "unit"];

const APPLIES_TO: &[(&str, bool)] = &[("all", false), ("cpu", true)];
const NEVER_STARTED: &[(&str, NeverStartedBilling)] =
    &[("bill", NeverStartedBilling::Bill), ("free", NeverStartedBilling::Free)];
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
    let text = crate::limits::read_to_string(path, crate::limits::MAX_TOML_BYTES).map_err(|e| {
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

/// Largest price, rate or allowance a sheet may give: far beyond any real one, and small
/// enough that no bill of a simulated run overflows to `inf`.
const MAX_SHEET_NUMBER: f64 = 1e15;

/// A finite number ≥ 0 (and at most [`MAX_SHEET_NUMBER`]).
fn non_negative(v: Option<&Value>, path: &str, ctx: &Ctx<'_>) -> Result<Option<f64>, InputError> {
    match ctx.number(v, path)? {
        Some(x) if x < 0.0 => Err(ctx.err(path, format!("{} must be 0 or more; found {x}", key_of(path)))),
        Some(x) if x > MAX_SHEET_NUMBER => Err(ctx.err(
            path,
            format!(
                "{} is {x:e}; at most 1e15 is allowed (far beyond any real price, and a bill stays finite)",
                key_of(path)
            ),
        )),
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
    let (phases, gpu_phases, never_started) = phases(t.get("phases"), ctx)?;
    let (rule_names, roundings) = roundings(t.get("rounding"), offsets, ctx)?;
    let (compute_units, free_cu) = compute_units(t.get("compute_units"), ctx)?;
    let minimum = table(t.get("minimum"), "minimum", MINIMUM, ctx)?;
    let minimum_per_function_hour = match minimum {
        Some(m) => non_negative(m.get("per_function_hour"), "minimum.per_function_hour", ctx)?.unwrap_or(0.0),
        None => 0.0,
    };
    let minimum_cpu_only = match minimum.and_then(|m| m.get("applies_to")) {
        Some(v) => choice(v, "minimum.applies_to", APPLIES_TO, ctx)?,
        None => false,
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
        gpu_phases,
        never_started,
        roundings,
        items,
        compute_units,
        minimum_per_function_hour,
        minimum_cpu_only,
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

/// `[phases]`: the six phases, `never_started`, and the optional `[phases.gpu]` overrides.
type Phases = ([PhaseBilling; Phase::COUNT], [PhaseBilling; Phase::COUNT], NeverStartedBilling);

fn phases(v: Option<&Value>, ctx: &Ctx<'_>) -> Result<Phases, InputError> {
    let names: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
    let allowed: Vec<&str> = names.iter().copied().chain(["never_started", "gpu"]).collect();
    let t = table(v, "phases", &allowed, ctx)?.ok_or_else(|| {
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
    let never_started = match t.get("never_started") {
        Some(v) => choice(v, "phases.never_started", NEVER_STARTED, ctx)?,
        None => NeverStartedBilling::Bill,
    };
    let mut gpu = out;
    if let Some(g) = table(t.get("gpu"), "phases.gpu", &names, ctx)? {
        for p in Phase::ALL {
            if let Some(v) = g.get(p.name()) {
                gpu[p.index()] = choice(v, &format!("phases.gpu.{}", p.name()), PHASE_VALUES, ctx)?;
            }
        }
    }
    Ok((out, gpu, never_started))
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
    let mut kind_rates = Vec::new();
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
        (Some(Value::Table(r)), None) => {
            kind_rates = kind_rates_of(r, resource, &p("rate"), ctx)?;
            if t.contains_key("free") {
                return Err(ctx.err(
                    p("free"),
                    "`free` is not used with a rate per GPU kind (no source says how an allowance is shared among cards); remove it or give one `rate`",
                ));
            }
            Tiers::flat(kind_rates.iter().map(|(_, r)| *r).fold(f64::INFINITY, f64::min))
        }
        (Some(r), None) => Tiers::flat(ctx.required(non_negative(Some(r), &p("rate"), ctx)?, &p("rate"), "rate = 0.1")?),
        (None, Some(v)) => tiers(v, &p("tiers"), "rate", ctx)?,
    };
    let free = non_negative(t.get("free"), &p("free"), ctx)?.unwrap_or(0.0);
    let unit = match string(t.get("unit"), &p("unit"), "the unit printed on the bill", ctx)? {
        Some(u) => u.to_string(),
        None => default_unit(resource).to_string(),
    };
    Ok(Item { name, resource, state, instances, rounding, tiers, kind_rates, free, unit })
}

/// `rate = { tesla = 2.1, ada = 1.5 }`: a GPU item's flat rate per card, by kind name (lower
/// case, as provider profiles list GPU kinds).
fn kind_rates_of(r: &Table, resource: Resource, path: &str, ctx: &Ctx<'_>) -> Result<Vec<(String, f64)>, InputError> {
    if resource != Resource::Gpu {
        return Err(ctx.err(
            path,
            format!(
                "a table of rates per GPU kind is only for resource = \"gpu\"; this item has resource = \"{}\", so give one number, e.g. rate = 0.1",
                resource_name(resource)
            ),
        ));
    }
    if r.is_empty() {
        return Err(ctx
            .err(path, "`rate` is an empty table; name each GPU kind's rate, e.g. rate = { tesla = 2.1, ada = 1.5 }"));
    }
    let mut out = Vec::with_capacity(r.len());
    for (kind, v) in r {
        let here = join(path, kind);
        if kind.trim().is_empty() || *kind != kind.to_ascii_lowercase() {
            return Err(ctx.err(
                &here,
                format!(
                    "GPU kind \"{kind}\" must be a non-empty lower-case name, as providers list them (e.g. tesla, ada)"
                ),
            ));
        }
        let x = ctx.required(non_negative(Some(v), &here, ctx)?, &here, "tesla = 2.1")?;
        out.push((kind.clone(), x));
    }
    Ok(out)
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
#[path = "sheet_tests.rs"]
mod tests;
