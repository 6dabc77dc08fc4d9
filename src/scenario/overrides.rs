//! `--set KEY=VALUE`: change a parsed scenario table before validation.
//!
//! `KEY` is a dotted path checked against the known keys ([`super::schema`]), so a key that
//! is valid but absent from the file can be set, and a typo gets a did-you-mean. Elements of
//! `[[function]]` and `[[image]]` are selected by `name` or by 0-based index
//! (`function.api.memory`, `function.0.memory`), `[[workload]]` and other arrays by index
//! (`workload.0.arrivals.rate`); `workload[0]` is accepted too, so paths copied from error
//! messages work. `VALUE` is read as a TOML value when it is one (`3`, `true`, `[1, 2]`,
//! `{ kind = "poisson", rate = "2/s" }`, `"x"`), else taken as a string, so `7d`, `512MB`
//! and `lambda` need no quotes. Errors have source `--set`.

use toml::{Table, Value};

use super::schema::{find_key, unknown_key, Key, Node, Problem, ROOT};
use crate::error::InputError;
use crate::input::{choices, describe, elem_path, join};

const SOURCE: &str = "--set";

fn err(path: impl AsRef<str>, message: impl Into<String>) -> InputError {
    InputError::new(SOURCE, path.as_ref(), message)
}

fn from_problem(p: Problem) -> InputError {
    err(p.path, p.message)
}

/// Applies every override in order; returns the canonical path of each (as messages name
/// them, e.g. `function.api.memory`), so later errors about those values can say they came
/// from `--set`.
pub fn apply(table: &mut Table, overrides: &[String]) -> Result<Vec<String>, InputError> {
    overrides.iter().map(|o| apply_one(table, o)).collect()
}

/// Reads `VALUE` as TOML if it is a single TOML value, else as a string.
pub fn parse_value(raw: &str) -> Value {
    let raw = raw.trim();
    if let Ok(mut t) = format!("v = {raw}").parse::<Table>() {
        if t.len() == 1 {
            if let Some(v) = t.remove("v") {
                return v;
            }
        }
    }
    Value::String(raw.to_string())
}

/// Splits `a.b[0].c` into `["a", "b", "0", "c"]`.
fn segments(key: &str) -> Result<Vec<String>, InputError> {
    let normalized = key.replace('[', ".").replace(']', "");
    let segs: Vec<String> = normalized.split('.').map(|s| s.trim().to_string()).collect();
    if segs.iter().any(String::is_empty) {
        return Err(err(
            key,
            format!("`{key}` is not a key path; write dotted keys such as simulation.horizon or function.api.memory"),
        ));
    }
    Ok(segs)
}

fn apply_one(root: &mut Table, spec: &str) -> Result<String, InputError> {
    let Some((key, raw)) = spec.split_once('=') else {
        return Err(err("", format!("`{spec}` has no `=`; write KEY=VALUE, e.g. --set simulation.horizon=7d")));
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(err("", format!("`{spec}` has no key before `=`; e.g. --set simulation.horizon=7d")));
    }
    let segs = segments(key)?;
    let value = parse_value(raw);
    set_in_table(root, ROOT, "", &segs, value)
}

/// Sets `segs` (relative to `table` at `path`, whose keys are `keys`) to `value`.
fn set_in_table(
    table: &mut Table,
    keys: &[Key],
    path: &str,
    segs: &[String],
    value: Value,
) -> Result<String, InputError> {
    let (first, rest) = match segs.split_first() {
        Some(x) => x,
        None => return Err(err(path, "nothing to set")),
    };
    let here = join(path, first);
    let key = find_key(keys, first, path).map_err(from_problem)?;
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return Ok(here);
    }
    match &key.node {
        Node::Leaf | Node::Choice(_) => {
            Err(err(&here, format!("`{here}` is a single value; nothing can follow it (found `.{}`)", rest.join("."))))
        }
        Node::Table(sub) => {
            let entry = table.entry(first.clone()).or_insert_with(|| Value::Table(Table::new()));
            let Value::Table(t) = entry else {
                return Err(err(
                    &here,
                    format!("`{here}` is {} in the file, not a table; set it whole instead", describe(entry)),
                ));
            };
            set_in_table(t, sub, &here, rest, value)
        }
        Node::Tables { keys: sub, named } => {
            let Some(Value::Array(items)) = table.get_mut(first.as_str()) else {
                return Err(err(
                    &here,
                    format!("the file has no [[{here}]] tables to change; add one to the file (or set `{here}` whole)"),
                ));
            };
            let (index, elem) = select(items, &rest[0], &here, *named)?;
            let name = if *named { elem_name(elem) } else { None };
            let elem_here = elem_path(&here, index, name.as_deref());
            if rest.len() == 1 {
                *elem = value;
                return Ok(elem_here);
            }
            let Value::Table(t) = elem else {
                return Err(err(&elem_here, format!("`{elem_here}` is not a table in the file")));
            };
            set_in_table(t, sub, &elem_here, &rest[1..], value)
        }
        Node::CountOrSteps(sub) => {
            let Some(Value::Array(items)) = table.get_mut(first.as_str()) else {
                return Err(err(
                    &here,
                    format!("`{here}` is not a list of steps in the file; set it whole, e.g. --set '{here}=[{{ at = \"08:00\", count = 2 }}]'"),
                ));
            };
            let (index, elem) = select(items, &rest[0], &here, false)?;
            let elem_here = format!("{here}[{index}]");
            if rest.len() == 1 {
                *elem = value;
                return Ok(elem_here);
            }
            let Value::Table(t) = elem else {
                return Err(err(&elem_here, format!("`{elem_here}` is not a table in the file")));
            };
            set_in_table(t, sub, &elem_here, &rest[1..], value)
        }
        Node::Tagged { tag, variants, open, example, .. } => {
            let Some(Value::Table(t)) = table.get_mut(first.as_str()) else {
                return Err(err(
                    &here,
                    format!("`{here}` is not a table in the file, so `{}` cannot be set inside it; set it whole, e.g. --set '{here}={example}'", rest.join(".")),
                ));
            };
            let sub = &rest[0];
            let open_variant = t.get(*tag).and_then(Value::as_str).is_some_and(|k| open.contains(&k));
            let mut allowed: Vec<&str> = vec![tag];
            for (_, ks) in variants.iter() {
                for k in ks.iter() {
                    if !allowed.contains(k) {
                        allowed.push(k);
                    }
                }
            }
            if !open_variant && !allowed.contains(&sub.as_str()) {
                return Err(from_problem(unknown_key(&here, sub, allowed.iter().copied())));
            }
            if rest.len() > 1 {
                return Err(err(
                    join(&here, sub),
                    format!("`{}` is a single value; nothing can follow it", join(&here, sub)),
                ));
            }
            t.insert(sub.clone(), value);
            Ok(join(&here, sub))
        }
    }
}

fn elem_name(v: &Value) -> Option<String> {
    v.as_table().and_then(|t| t.get("name")).and_then(Value::as_str).map(str::to_string)
}

/// The element of `items` that `sel` (an index, or a name when `named`) picks.
fn select<'a>(
    items: &'a mut [Value],
    sel: &str,
    here: &str,
    named: bool,
) -> Result<(usize, &'a mut Value), InputError> {
    let len = items.len();
    if let Ok(i) = sel.parse::<usize>() {
        if i >= len {
            let range = if len == 0 { "it is empty".to_string() } else { format!("valid indexes are 0..={}", len - 1) };
            return Err(err(
                format!("{here}[{i}]"),
                format!(
                    "index {i} is out of range: the file has {len} [[{here}]] table{}; {range}",
                    if len == 1 { "" } else { "s" }
                ),
            ));
        }
        return Ok((i, &mut items[i]));
    }
    if !named {
        return Err(err(
            join(here, sel),
            format!("`{here}` entries are selected by 0-based index, e.g. {here}.0; found `{sel}`"),
        ));
    }
    let names: Vec<String> = items.iter().filter_map(elem_name).collect();
    match items.iter().position(|v| elem_name(v).as_deref() == Some(sel)) {
        Some(i) => Ok((i, &mut items[i])),
        None => Err(err(
            join(here, sel),
            format!(
                "no {here} named `{sel}`{}; or select by index, e.g. {here}.0",
                choices(sel, names.iter().map(String::as_str), "the file has")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
[simulation]
horizon = "1d"

[[image]]
name = "api"
size = "100MB"

[[function]]
name = "api"
exec = { dist = "exp", mean = "100ms" }
reserved = [{ at = "08:00", count = 2 }]

[[function]]
name = "worker"
exec = "1s"

[[workload]]
function = "api"
arrivals = { kind = "poisson", rate = "1/s" }
"#;

    fn table() -> Table {
        TEXT.parse().unwrap()
    }

    fn set(t: &mut Table, o: &str) -> Result<String, InputError> {
        apply(t, &[o.to_string()]).map(|mut v| v.remove(0))
    }

    #[test]
    fn values_are_toml_when_they_parse_and_strings_otherwise() {
        assert_eq!(parse_value("3"), Value::Integer(3));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(parse_value("\"x\""), Value::String("x".into()));
        assert_eq!(parse_value("7d"), Value::String("7d".into()));
        assert_eq!(parse_value("512MB"), Value::String("512MB".into()));
        assert_eq!(parse_value("lambda"), Value::String("lambda".into()));
        assert!(matches!(parse_value("[1,2]"), Value::Array(a) if a.len() == 2));
        assert!(matches!(parse_value("{ kind = \"poisson\", rate = \"2/s\" }"), Value::Table(_)));
        assert_eq!(parse_value("1\nx = 2"), Value::String("1\nx = 2".into()));
    }

    #[test]
    fn an_existing_key_is_replaced() {
        let mut t = table();
        assert_eq!(set(&mut t, "simulation.horizon=7d").unwrap(), "simulation.horizon");
        assert_eq!(t["simulation"]["horizon"].as_str(), Some("7d"));
    }

    #[test]
    fn a_valid_key_absent_from_the_file_is_created_with_its_tables() {
        let mut t = table();
        assert_eq!(set(&mut t, "platform.pull.parallel_layers=6").unwrap(), "platform.pull.parallel_layers");
        assert_eq!(t["platform"]["pull"]["parallel_layers"].as_integer(), Some(6));
        set(&mut t, "platform.pull.acceleration.enabled=true").unwrap();
        assert_eq!(t["platform"]["pull"]["acceleration"]["enabled"].as_bool(), Some(true));
    }

    #[test]
    fn functions_are_selected_by_name_or_by_index() {
        let mut t = table();
        assert_eq!(set(&mut t, "function.worker.memory=1GB").unwrap(), "function.worker.memory");
        assert_eq!(t["function"][1]["memory"].as_str(), Some("1GB"));
        assert_eq!(set(&mut t, "function.0.reserved=3").unwrap(), "function.api.reserved");
        assert_eq!(t["function"][0]["reserved"].as_integer(), Some(3));
    }

    #[test]
    fn workloads_and_steps_are_selected_by_index_in_either_spelling() {
        let mut t = table();
        assert_eq!(set(&mut t, "workload.0.arrivals.rate=5/s").unwrap(), "workload[0].arrivals.rate");
        assert_eq!(t["workload"][0]["arrivals"]["rate"].as_str(), Some("5/s"));
        assert_eq!(set(&mut t, "workload[0].from=1h").unwrap(), "workload[0].from");
        assert_eq!(set(&mut t, "function.api.reserved.0.count=4").unwrap(), "function.api.reserved[0].count");
        assert_eq!(t["function"][0]["reserved"][0]["count"].as_integer(), Some(4));
    }

    #[test]
    fn a_distribution_parameter_can_be_set_inside_its_table() {
        let mut t = table();
        assert_eq!(set(&mut t, "function.api.exec.mean=200ms").unwrap(), "function.api.exec.mean");
        let e = set(&mut t, "function.worker.exec.mean=2s").unwrap_err();
        assert!(e.message.contains("set it whole"), "{e}");
    }

    #[test]
    fn a_missing_equals_sign_is_an_error() {
        let e = set(&mut table(), "simulation.horizon").unwrap_err();
        assert_eq!(e.source, "--set");
        assert!(e.message.contains("has no `=`"), "{e}");
    }

    #[test]
    fn an_unknown_key_gets_a_suggestion() {
        let e = set(&mut table(), "platform.hots=3").unwrap_err();
        assert_eq!(e.path, "platform.hots");
        assert!(e.message.contains("did you mean `hosts`?"), "{e}");
        let e = set(&mut table(), "simulaton.horizon=1d").unwrap_err();
        assert!(e.message.contains("unknown section `simulaton`"), "{e}");
        let e = set(&mut table(), "function.api.memroy=1GB").unwrap_err();
        assert!(e.message.contains("did you mean `memory`?"), "{e}");
    }

    #[test]
    fn an_unknown_function_name_lists_the_names() {
        let e = set(&mut table(), "function.apx.memory=1GB").unwrap_err();
        assert_eq!(e.path, "function.apx");
        assert!(e.message.contains("did you mean `api`?") && e.message.contains("api, worker"), "{e}");
        let e = set(&mut table(), "image.nope.size=1GB").unwrap_err();
        assert!(e.message.contains("no image named `nope`"), "{e}");
    }

    #[test]
    fn an_index_out_of_range_says_the_valid_range() {
        let e = set(&mut table(), "workload.3.from=0s").unwrap_err();
        assert!(e.message.contains("index 3 is out of range") && e.message.contains("0..=0"), "{e}");
        let e = set(&mut table(), "function.2.memory=1GB").unwrap_err();
        assert!(e.message.contains("0..=1"), "{e}");
    }

    #[test]
    fn workloads_are_not_selected_by_name() {
        let e = set(&mut table(), "workload.api.from=0s").unwrap_err();
        assert!(e.message.contains("0-based index"), "{e}");
    }

    #[test]
    fn a_path_that_goes_below_a_value_is_an_error() {
        let e = set(&mut table(), "simulation.horizon.x=1").unwrap_err();
        assert!(e.message.contains("single value"), "{e}");
        let e = set(&mut table(), "simulation..horizon=1").unwrap_err();
        assert!(e.message.contains("not a key path"), "{e}");
        let e = set(&mut table(), "=1").unwrap_err();
        assert!(e.message.contains("no key"), "{e}");
    }

    #[test]
    fn a_section_missing_from_the_file_cannot_be_indexed() {
        let mut t: Table = "".parse().unwrap();
        let e = set(&mut t, "function.api.memory=1GB").unwrap_err();
        assert!(e.message.contains("no [[function]]"), "{e}");
    }
}
