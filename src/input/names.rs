//! Words for messages about input keys and values: key paths (`function.api.memory`,
//! `workload[0]`), did-you-mean suggestions, lists of what is allowed, short descriptions of
//! what was found. Scenarios, price sheets and calibration profiles all speak with these.

use toml::Value;

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn suggest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_lowercase().replace('-', "_");
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&lower, &c.to_lowercase().replace('-', "_"));
        if score >= 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// ` Did you mean `x`?` or nothing.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match suggest(word, candidates) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

/// `; did you mean `x`? (label: a, b, c)`, or ` (label: a, b, c)` when nothing is close.
pub fn choices<'a, I>(word: &str, candidates: I, label: &str) -> String
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    format!("{} ({label}: {})", did_you_mean(word, candidates.clone()), list(candidates))
}

/// `a, b, c`.
pub fn list<'a, I: IntoIterator<Item = &'a str>>(items: I) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

/// Path of an element of an array of tables: `function.api` when it has a usable name,
/// else `workload[0]`.
pub fn elem_path(array_path: &str, index: usize, name: Option<&str>) -> String {
    match name {
        Some(n) if usable_name(n) => format!("{array_path}.{n}"),
        _ => format!("{array_path}[{index}]"),
    }
}

/// A name that can stand in a dotted path: non-empty, no `.`, `[`, `]`, `=` or whitespace,
/// and not all digits (that would read as an index).
pub fn usable_name(n: &str) -> bool {
    !n.is_empty()
        && !n.chars().any(|c| c == '.' || c == '[' || c == ']' || c == '=' || c.is_whitespace())
        && !n.chars().all(|c| c.is_ascii_digit())
}

/// `path.key`, or `key` at the top.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// How a section is named in messages: `[platform]`, `[function.api]`, `the top level`.
pub fn section_name(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        format!("[{path}]")
    }
}

/// A short description of a value for messages: `integer 60`, `string "x"`, `a table`.
pub fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string \"{s}\""),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("number {f}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("date-time {d}"),
        Value::Array(_) => "an array".to_string(),
        Value::Table(_) => "a table".to_string(),
    }
}
