//! Scenario files: raw TOML → validated [`model::Scenario`].
//!
//! The pipeline, each step in its own file:
//! 1. parse the text into a [`toml::Table`] (a syntax error gives its line) and, with spans,
//!    into a [`LineMap`] so later errors can point at a line;
//! 2. apply `--set` overrides to the table ([`overrides`]);
//! 3. check every key and table shape against the known keys ([`schema`]): unknown keys get a
//!    did-you-mean;
//! 4. merge a calibration profile (`platform.pull.profile`) over the pull settings, except
//!    where `--set` said otherwise (precedence: defaults < file < profile < `--set`);
//! 5. deserialize the raw serde structs ([`raw`]) and validate them into a [`Scenario`]
//!    ([`validate`]): units resolved, defaults applied, every rule checked; the price sheet
//!    (`platform.pricing`) is parsed and validated here, once, and the scenario owns it
//!    (`Platform::sheet`), so `validate` refuses a broken sheet exactly as `run` would.
//!
//! Every failure is an [`InputError`] naming its source (the file, the profile, or `--set`),
//! the key path, the line where known, what was found and what is allowed.

pub mod goals;
pub mod model;
pub use model::*;

pub mod overrides;
pub mod raw;
pub(crate) mod schema;
pub(crate) mod trace;
pub(crate) mod validate;
mod validate_functions;
mod validate_images;

use std::path::Path;

use toml::{Table, Value};

use crate::error::InputError;
use crate::input::{self, toml_error, Ctx, LineMap, Origins};
use raw::RawScenario;

/// The quickstart scenario, built into the binary (`coldcost init` writes it out).
pub const QUICKSTART: &str = include_str!("../../scenarios/quickstart.toml");

/// Built-in price sheet names accepted by `platform.pricing`: those of the sheets compiled
/// into [`crate::billing::sheet::BUILTIN`].
pub const BUILTIN_PRICING: &[&str] = &crate::billing::sheet::BUILTIN_NAMES;

/// Parse and validate. `source` names the file in messages (its stem is the default
/// `simulation.name`, `quickstart` for the built-in text); `overrides` are `--set` strings
/// `"key.path=value"`. Relative paths in the text (pricing sheet, pull profile, trace files)
/// are resolved against `base_dir`, the scenario file's folder; those in `overrides`
/// against the current folder ([`Ctx::file`]).
pub fn parse_str(text: &str, source: &str, base_dir: &Path, overrides: &[String]) -> Result<Scenario, InputError> {
    let mut table = input::parse_table(text).map_err(|e| toml_error(source, text, &e))?;
    let lines = LineMap::build(text);
    let set = overrides::apply(&mut table, overrides)?;
    let mut ctx = Ctx { source, lines: &lines, origins: Origins { set, profile: None }, base_dir };
    schema::check(&table, schema::ROOT, "").map_err(|p| ctx.err(&p.path, p.message))?;
    let profile = merge_profile(&mut table, &mut ctx)?;
    let raw: RawScenario =
        Value::Table(table).try_into().map_err(|e: toml::de::Error| ctx.err("", e.message().to_string()))?;
    let name = if text == QUICKSTART { "quickstart".to_string() } else { default_name(source) };
    validate::scenario(&raw, &ctx, &name, profile)
}

/// Read a file and parse it (`simulation.name` defaults to the file stem). I/O errors are
/// [`InputError`]s too.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, InputError> {
    let source = path.display().to_string();
    let text = crate::limits::read_to_string(path, crate::limits::MAX_TOML_BYTES)
        .map_err(|e| InputError::new(&source, "", format!("cannot read the scenario file: {e}")))?;
    let base_dir = path.parent().unwrap_or(Path::new(""));
    parse_str(&text, &source, base_dir, overrides)
}

/// The built-in quickstart scenario, with overrides.
pub fn quickstart(overrides: &[String]) -> Result<Scenario, InputError> {
    parse_str(QUICKSTART, "quickstart.toml", Path::new("."), overrides)
}

/// The file stem of `source`, or `scenario` when it has none worth using.
fn default_name(source: &str) -> String {
    Path::new(source)
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.trim().is_empty() && !s.contains(['<', '>', '/', '\\']) && *s != "..")
        .unwrap_or("scenario")
        .to_string()
}

/// Reads `platform.pull.profile` (a calibration profile: `[pull]` with any of the measured
/// pull keys, and optionally `container_create`), checks it, and copies its values over the
/// scenario's, except those set by `--set`. Returns the profile's resolved path.
fn merge_profile(table: &mut Table, ctx: &mut Ctx<'_>) -> Result<Option<String>, InputError> {
    const KEY: &str = "platform.pull.profile";
    let Some(v) = table.get("platform").and_then(|p| p.get("pull")).and_then(|p| p.get("profile")) else {
        return Ok(None);
    };
    let Value::String(rel) = v else {
        return Err(ctx.err(
            KEY,
            format!(
                "found {}; profile is the path of a calibration profile, e.g. \"profiles/local.toml\"",
                input::describe(v)
            ),
        ));
    };
    let file = ctx.file(KEY, rel);
    let source = file.display().to_string();
    let text = crate::limits::read_to_string(&file, crate::limits::MAX_TOML_BYTES).map_err(|e| {
        ctx.err(
            KEY,
            format!(
                "cannot read the calibration profile \"{rel}\" ({}): {e}; `coldcost calibrate --out {source}` makes one",
                ctx.looked_for(KEY, &file)
            ),
        )
    })?;
    let profile: Table = text.parse().map_err(|e| toml_error(&source, &text, &e))?;
    let lines = LineMap::build(&text);
    schema::check(&profile, schema::PROFILE_ROOT, "")
        .map_err(|p| InputError::new(&source, &p.path, p.message).with_line(lines.line(&p.path)))?;

    let mut supplied = Vec::new();
    let mut take = |key: &str, canon: String, v: &Value, into: &mut Table| {
        if !ctx.origins.set.iter().any(|o| input::covers(o, &canon)) {
            into.insert(key.to_string(), v.clone());
            supplied.push(canon);
        }
    };
    let Some(Value::Table(platform)) = table.get_mut("platform") else {
        return Ok(Some(source));
    };
    if let Some(v) = profile.get("container_create") {
        take("container_create", "platform.container_create".into(), v, platform);
    }
    if let (Some(Value::Table(pull)), Some(Value::Table(into))) = (profile.get("pull"), platform.get_mut("pull")) {
        for (k, v) in pull {
            take(k, format!("platform.pull.{k}"), v, into);
        }
    }
    ctx.origins.profile = Some((source.clone(), lines, supplied));
    Ok(Some(source))
}

#[cfg(test)]
mod tests;
