//! Line numbers for key paths. The TOML is parsed a second time with spans
//! ([`toml::de::DeTable`]) and every key and array element is recorded under the same path
//! names the messages use (`function.api.memory`, `image.api.layers[1].compressed`,
//! `workload[0].arrivals.rate`), so any error can point at a line. The map is built the
//! first time a line is asked for — only when there is an error to report: for a
//! 10,000-function scenario it would hold some 150,000 paths and, while built, the whole
//! spanned parse tree (over 100 MB), on every run.

use std::collections::HashMap;
use std::sync::OnceLock;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::names::{elem_path, join};

/// 1-based line of each key path in one TOML text (the text, and the map once asked).
#[derive(Debug, Clone, Default)]
pub struct LineMap {
    text: String,
    lines: OnceLock<HashMap<String, usize>>,
}

/// Top-level arrays whose elements are named by their `name` key (a scenario's images and
/// functions; other files have none of these keys at the top).
const NAMED_ARRAYS: &[&str] = &["image", "function"];

impl LineMap {
    /// The lines of `text`'s key paths, found when first asked (none when the text does not
    /// parse: the parse error has its own line).
    pub fn build(text: &str) -> LineMap {
        LineMap { text: text.to_string(), lines: OnceLock::new() }
    }

    fn map(&self) -> &HashMap<String, usize> {
        self.lines.get_or_init(|| {
            let mut map = Paths::default();
            if let Ok(root) = DeTable::parse(&self.text) {
                let starts = line_starts(&self.text);
                map.table(root.get_ref(), "", &starts, true);
            }
            map.0
        })
    }

    /// The line of `path`, or of its nearest recorded parent.
    pub fn line(&self, path: &str) -> Option<usize> {
        let lines = self.map();
        let mut p = path;
        loop {
            if let Some(l) = lines.get(p) {
                return Some(*l);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
            if p.is_empty() {
                return None;
            }
        }
    }
}

/// The map under construction.
#[derive(Default)]
struct Paths(HashMap<String, usize>);

impl Paths {
    fn table(&mut self, t: &DeTable<'_>, path: &str, starts: &[usize], root: bool) {
        for (k, v) in t.iter() {
            let key = k.get_ref().as_ref();
            let here = join(path, key);
            self.insert(&here, k.span().start, starts);
            let named = root && NAMED_ARRAYS.contains(&key);
            self.value(v, &here, starts, named);
        }
    }

    fn value(&mut self, v: &Spanned<DeValue<'_>>, here: &str, starts: &[usize], named: bool) {
        match v.get_ref() {
            DeValue::Table(t) => self.table(t, here, starts, false),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let name = match item.get_ref() {
                        DeValue::Table(t) if named => {
                            t.iter().find(|(k, _)| k.get_ref() == "name").and_then(|(_, v)| v.get_ref().as_str())
                        }
                        _ => None,
                    };
                    let elem = elem_path(here, i, name);
                    self.insert(&elem, item.span().start, starts);
                    self.value(item, &elem, starts, false);
                }
            }
            _ => {}
        }
    }

    fn insert(&mut self, path: &str, offset: usize, starts: &[usize]) {
        let line = starts.partition_point(|&s| s <= offset).max(1);
        self.0.entry(path.to_string()).or_insert(line);
    }
}

/// Byte offsets at which each line starts.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    line_starts(text).partition_point(|&s| s <= offset).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[simulation]\nhorizon = \"1d\"\n\n[[image]]\nname = \"api\"\nlayers = [\n  { compressed = \"1MB\", uncompressed = \"2MB\" },\n  { compressed = \"3MB\", uncompressed = \"4MB\" },\n]\n\n[[workload]]\narrivals = { kind = \"poisson\", rate = \"1/s\" }\n";

    #[test]
    fn keys_and_elements_map_to_their_lines() {
        let m = LineMap::build(TEXT);
        assert_eq!(m.line("simulation.horizon"), Some(2));
        assert_eq!(m.line("image.api"), Some(4));
        assert_eq!(m.line("image.api.name"), Some(5));
        assert_eq!(m.line("image.api.layers[1].compressed"), Some(8));
        assert_eq!(m.line("workload[0].arrivals.rate"), Some(12));
    }

    #[test]
    fn an_absent_key_falls_back_to_its_parent() {
        let m = LineMap::build(TEXT);
        assert_eq!(m.line("image.api.size"), Some(4));
        assert_eq!(m.line("workload[0].arrivals.mean"), Some(12));
        assert_eq!(m.line("function.x.memory"), None);
    }

    #[test]
    fn offsets_map_to_lines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
