//! The crate's module graph is a DAG written down in `src/lib.rs` and the README's layout
//! section. This test reads every `crate::` path (grouped `use crate::{a, b}` too) and every
//! `super::` chain that climbs out of its top-level module, in every file under `src/`, and
//! fails on an edge the allow-list below does not permit. A second rule: no file in `src/cli/`
//! uses another (`cli/mod.rs` holds the clap types and the dispatch only).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level module → the modules it may import (besides `error`, which anyone may).
/// The layering of `src/lib.rs`, bottom first.
const ALLOWED: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("units", &[]),
    ("stats", &[]),
    ("engine", &[]),
    ("limits", &[]),
    ("signals", &[]),
    ("latency", &["units", "stats"]),
    ("input", &["units"]),
    ("workload", &["engine", "units", "stats", "latency", "input", "limits"]),
    ("usage", &["units"]),
    ("billing", &["usage", "units", "input", "stats", "limits"]),
    ("provider", &["billing", "usage", "units", "input", "limits"]),
    (
        "scenario",
        &["workload", "billing", "provider", "usage", "engine", "units", "input", "latency", "stats", "limits"],
    ),
    (
        "platform",
        &["scenario", "provider", "workload", "usage", "billing", "engine", "units", "latency", "stats", "limits"],
    ),
    (
        "report",
        &[
            "platform", "scenario", "provider", "billing", "usage", "workload", "engine", "units", "latency", "stats",
            "limits", "signals",
        ],
    ),
    (
        "sweep",
        &[
            "report", "scenario", "provider", "billing", "usage", "workload", "units", "stats", "input", "latency",
            "limits",
        ],
    ),
    (
        "calibrate",
        &[
            "scenario", "platform", "workload", "usage", "billing", "engine", "units", "stats", "input", "latency",
            "report", "provider", "limits",
        ],
    ),
    ("app", BELOW_APP),
    ("cli", BELOW_CLI),
];

/// Every module below `app`.
const BELOW_APP: &[&str] = &[
    "units",
    "stats",
    "engine",
    "limits",
    "signals",
    "latency",
    "input",
    "workload",
    "usage",
    "billing",
    "provider",
    "scenario",
    "platform",
    "report",
    "sweep",
    "calibrate",
];

/// Every module below `cli`.
const BELOW_CLI: &[&str] = &[
    "units",
    "stats",
    "engine",
    "limits",
    "signals",
    "latency",
    "input",
    "workload",
    "usage",
    "billing",
    "provider",
    "scenario",
    "platform",
    "report",
    "sweep",
    "calibrate",
    "app",
];

/// KNOWN TEMPORARY exceptions (from → to), each to be removed by the change named.
const TEMPORARY: &[(&str, &str)] = &[];

/// KNOWN TEMPORARY `cli/` files using another `cli/` file (file → sibling): none now; an
/// entry here must name the change that removes it.
const TEMPORARY_CLI: &[(&str, &str)] = &[];

/// One import that the allow-list does not permit.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: String,
    from: String,
    to: String,
}

/// Replaces comments, string and char literals by spaces (keeping line breaks), so only code
/// is searched: a message that says `crate::x` is not an import.
fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let prev_ident = i > 0 && ident(c[i - 1]);
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                    out.push_str("  ");
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    out.push_str("  ");
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if !prev_ident && (c[i] == 'r' || (c[i] == 'b' && c.get(i + 1) == Some(&'r'))) && {
            let mut j = i + if c[i] == 'b' { 2 } else { 1 };
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            c.get(j) == Some(&'"')
        } {
            // raw string: r"..." / r#"..."# / br"..."
            let mut j = i + if c[i] == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while c[j] == '#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            while j < c.len() {
                if c[j] == '"' && (0..hashes).all(|h| c.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &ch in &c[i..j.min(c.len())] {
                blank(&mut out, ch);
            }
            i = j;
        } else if c[i] == '"' {
            blank(&mut out, c[i]);
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            if i < c.len() {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '\'' && (c.get(i + 1) == Some(&'\\') || c.get(i + 2) == Some(&'\'')) {
            // a char literal ('x', '\n', '\u{1F600}'); a lifetime ('a) has no closing quote
            blank(&mut out, c[i]);
            i += 1;
            if c.get(i) == Some(&'\\') {
                // the backslash and the escaped character, which may be a quote
                for _ in 0..2 {
                    if i < c.len() {
                        blank(&mut out, c[i]);
                        i += 1;
                    }
                }
            }
            while i < c.len() && c[i] != '\'' {
                blank(&mut out, c[i]);
                i += 1;
            }
            if i < c.len() {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// The identifiers of a path group `{a, b::c, self, d::{e, f}}` starting at `open` (the
/// `{`): the first segment of each item.
fn group_heads(code: &[char], open: usize) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    let mut i = open;
    while i < code.len() {
        let ch = code[i];
        match ch {
            '{' => {
                depth += 1;
                if depth == 1 {
                    item_start = true;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => item_start = true,
            c if depth == 1 && item_start && (c.is_alphanumeric() || c == '_' || c == '*') => {
                let mut j = i;
                while j < code.len() && (code[j].is_alphanumeric() || code[j] == '_' || code[j] == '*') {
                    j += 1;
                }
                heads.push(code[i..j].iter().collect());
                item_start = false;
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    heads
}

/// The word (identifier) starting at `i` after optional whitespace, or the group it opens.
fn targets_at(code: &[char], mut i: usize) -> Vec<String> {
    while i < code.len() && code[i].is_whitespace() {
        i += 1;
    }
    if code.get(i) == Some(&'{') {
        return group_heads(code, i);
    }
    let start = i;
    while i < code.len() && (code[i].is_alphanumeric() || code[i] == '_' || code[i] == '*') {
        i += 1;
    }
    if i > start {
        vec![code[start..i].iter().collect()]
    } else {
        Vec::new()
    }
}

/// Whether `word` stands at `i` as a whole word followed by `::`; returns the index after `::`.
fn path_word(code: &[char], i: usize, word: &str) -> Option<usize> {
    let w: Vec<char> = word.chars().collect();
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_' || ch == '$';
    if i > 0 && ident(code[i - 1]) {
        return None;
    }
    if code.len() < i + w.len() || code[i..i + w.len()] != w[..] {
        return None;
    }
    let mut j = i + w.len();
    while j < code.len() && code[j].is_whitespace() {
        j += 1;
    }
    (code.get(j) == Some(&':') && code.get(j + 1) == Some(&':')).then_some(j + 2)
}

/// The top-level modules that the code of one file names. `depth` is the file's module depth
/// below the crate root (1 for `src/x.rs` and `src/x/mod.rs`, 2 for `src/x/y.rs`); a
/// `super::` chain as long as the depth (plus any inline `mod m { }` it sits in) reaches the
/// crate root and names a top-level module.
fn imports(src: &str, depth: usize) -> BTreeSet<String> {
    let code: Vec<char> = code_only(src).chars().collect();
    let mut found = BTreeSet::new();
    // inline modules open at each brace depth
    let mut braces = 0usize;
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < code.len() {
        match code[i] {
            '{' => braces += 1,
            '}' => {
                braces = braces.saturating_sub(1);
                while inline_mods.last().is_some_and(|&d| d > braces) {
                    inline_mods.pop();
                }
            }
            _ => {}
        }
        if let Some(after) = path_word(&code, i, "crate") {
            found.extend(targets_at(&code, after));
            i = after;
            continue;
        }
        if let Some(mut after) = path_word(&code, i, "super") {
            let mut n = 1;
            loop {
                let mut j = after;
                while j < code.len() && code[j].is_whitespace() {
                    j += 1;
                }
                match path_word(&code, j, "super") {
                    Some(a) => {
                        n += 1;
                        after = a;
                    }
                    None => break,
                }
            }
            if n >= depth + inline_mods.len() {
                found.extend(targets_at(&code, after));
            }
            i = after;
            continue;
        }
        // `mod name {` opens an inline module
        if path_is_mod(&code, i) {
            let mut j = i + 3;
            while j < code.len() && code[j] != '{' && code[j] != ';' {
                j += 1;
            }
            if code.get(j) == Some(&'{') {
                inline_mods.push(braces + 1);
            }
        }
        i += 1;
    }
    found.remove("self");
    found
}

fn path_is_mod(code: &[char], i: usize) -> bool {
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    code.get(i..i + 4).is_some_and(|w| w == ['m', 'o', 'd', ' ']) && (i == 0 || !ident(code[i - 1]))
}

/// The top-level module of a file under `src/` and its module depth; `None` for the crate
/// roots (`lib.rs`, `main.rs`).
fn module_of(rel: &Path) -> Option<(String, usize)> {
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.len() == 1 {
        let stem = parts[0].strip_suffix(".rs")?;
        return (stem != "lib" && stem != "main").then(|| (stem.to_string(), 1));
    }
    let last = parts.last()?;
    let depth = if last == "mod.rs" { parts.len() - 1 } else { parts.len() };
    Some((parts[0].clone(), depth))
}

/// The violations of one file's text against the allow-list.
fn check_file(file: &str, top: &str, depth: usize, src: &str) -> Vec<Violation> {
    let allowed = ALLOWED.iter().find(|(m, _)| *m == top).map(|(_, a)| *a);
    let mut out = Vec::new();
    for to in imports(src, depth) {
        let ok = to == top
            || to == "error"
            || allowed.is_some_and(|a| a.contains(&to.as_str()))
            || TEMPORARY.contains(&(top, to.as_str()));
        if !ok {
            out.push(Violation { file: file.to_string(), from: top.to_string(), to });
        }
    }
    out
}

/// `cli/` files (other than `mod.rs`) that use a sibling: `super::x` or `crate::cli::x` where
/// `src/cli/x.rs` (or `src/cli/x/`) exists.
fn cli_siblings(file_stem: &str, src: &str, siblings: &[String]) -> Vec<String> {
    let code: Vec<char> = code_only(src).chars().collect();
    let mut used = BTreeSet::new();
    for i in 0..code.len() {
        let after = path_word(&code, i, "super").or_else(|| {
            path_word(&code, i, "crate").and_then(|a| {
                let mut j = a;
                while j < code.len() && code[j].is_whitespace() {
                    j += 1;
                }
                path_word(&code, j, "cli")
            })
        });
        if let Some(a) = after {
            for t in targets_at(&code, a) {
                if t != file_stem && siblings.contains(&t) {
                    used.insert(t);
                }
            }
        }
    }
    used.into_iter().collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src/") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_import_of_the_crate_follows_the_layering() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut unknown = BTreeSet::new();
    let mut used_temporary = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let Some((top, depth)) = module_of(rel) else { continue };
        if !ALLOWED.iter().any(|(m, _)| *m == top) {
            unknown.insert(top.clone());
        }
        let text = std::fs::read_to_string(f).unwrap();
        for to in imports(&text, depth) {
            if TEMPORARY.contains(&(top.as_str(), to.as_str())) {
                used_temporary.insert((top.clone(), to));
            }
        }
        violations.extend(check_file(&rel.display().to_string(), &top, depth, &text));
    }
    assert!(unknown.is_empty(), "top-level modules missing from the allow-list: {unknown:?}");
    assert!(violations.is_empty(), "imports that break the layering:\n{violations:#?}");
    let stale: Vec<_> =
        TEMPORARY.iter().filter(|(a, b)| !used_temporary.contains(&(a.to_string(), b.to_string()))).collect();
    assert!(stale.is_empty(), "temporary exceptions no longer needed, remove them: {stale:?}");
}

#[test]
fn no_cli_file_uses_another() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files = Vec::new();
    rust_files(&cli, &mut files);
    let siblings: Vec<String> = files
        .iter()
        .filter(|f| f.parent() == Some(cli.as_path()))
        .filter_map(|f| f.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|s| s != "mod")
        .collect();
    let mut found = Vec::new();
    let mut used_temporary = BTreeSet::new();
    for f in files.iter().filter(|f| f.parent() == Some(cli.as_path()) && !f.ends_with("mod.rs")) {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        for s in cli_siblings(&stem, &std::fs::read_to_string(f).unwrap(), &siblings) {
            if TEMPORARY_CLI.contains(&(stem.as_str(), s.as_str())) {
                used_temporary.insert((stem.clone(), s));
            } else {
                found.push(format!("cli/{stem}.rs uses cli/{s}.rs"));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
    let stale: Vec<_> =
        TEMPORARY_CLI.iter().filter(|(a, b)| !used_temporary.contains(&(a.to_string(), b.to_string()))).collect();
    assert!(stale.is_empty(), "temporary exceptions no longer needed, remove them: {stale:?}");
}

#[test]
fn the_checker_finds_every_form_of_import() {
    let f = |src: &str, depth: usize| imports(src, depth).into_iter().collect::<Vec<_>>();
    assert_eq!(f("use crate::units::Micros;", 1), ["units"]);
    assert_eq!(f("use crate::{units::{self, Micros}, stats, error::InputError};", 1), ["error", "stats", "units"]);
    assert_eq!(f("fn x() { let y = crate :: platform::simulate(); }", 2), ["platform"]);
    assert_eq!(f("pub(crate) fn x() {}", 1), Vec::<String>::new());
    // super chains: out of src/x/y.rs two supers reach the root; one stays inside x
    assert_eq!(f("use super::super::scenario::Dist;", 2), ["scenario"]);
    assert_eq!(f("use super::model::Dist;", 2), Vec::<String>::new());
    assert_eq!(f("use super::{latency, usage};", 1), ["latency", "usage"]);
    // inside an inline test module, one more super is needed to climb out
    assert_eq!(f("mod tests { use super::*; use super::super::platform::X; }", 1), ["platform"]);
    assert_eq!(f("mod tests { use super::super::platform::X; }", 2), Vec::<String>::new());
    assert_eq!(f("mod tests { use super::super::super::platform::X; }", 2), ["platform"]);
    // comments and strings are not code
    assert_eq!(f("// use crate::platform;\n/* crate::report */ let s = \"crate::sweep\";", 1), Vec::<String>::new());
    assert_eq!(f("let s = r#\"crate::sweep \"quoted\" \"#; let c = '\"'; use crate::stats;", 1), ["stats"]);
    assert_eq!(f("fn f<'a>(x: &'a str) -> &'a str { crate::input::join(x, x); x }", 1), ["input"]);
    assert_eq!(f("let q = '\\''; let b = b'{'; use crate::latency;", 1), ["latency"]);
}

#[test]
fn the_checker_fails_on_an_import_that_breaks_the_layering() {
    // a fake violating import: units may import nothing, workload not the scenario
    let v = check_file("units.rs", "units", 1, "use crate::scenario::model::Micros;\n");
    assert_eq!(v, [Violation { file: "units.rs".into(), from: "units".into(), to: "scenario".into() }]);
    let v = check_file("workload/dist.rs", "workload", 2, "use crate::{engine::rng::Rng, platform::latency::Latency};");
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].to, "platform");
    let v = check_file("workload/dist.rs", "workload", 2, "use super::super::scenario::Dist;");
    assert_eq!(v.len(), 1, "{v:?}");
    // allowed edges and `error` pass
    assert!(check_file("billing/sheet.rs", "billing", 2, "use crate::{error::InputError, input::Ctx, usage::Phase};")
        .is_empty());
    // a cli file naming a sibling is found, one naming cli/mod.rs's types is not
    let sib = ["run".to_string(), "trace".to_string()];
    assert_eq!(cli_siblings("run", "use super::trace::stats; use super::Cli;", &sib), ["trace"]);
    assert_eq!(cli_siblings("run", "use crate::cli::{trace, Cli};", &sib), ["trace"]);
    assert!(cli_siblings("trace", "use super::Cli;", &sib).is_empty());
}
