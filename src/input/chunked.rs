//! Parsing a large TOML document one array-of-tables element at a time.
//!
//! The toml crate parses a whole document into a spanned tree (and a list of its events)
//! before it builds the [`Table`]: for a 10,000-function fleet (2.3 MB of text) that peaks
//! above 100 MB, forty times the text. Its bulk is the `[[function]]`, `[[workload]]` and
//! `[[image]]` elements, and each of them is a document of its own: parsed one by one, each
//! element's parse is freed before the next, and only the tables remain.
//!
//! The result is the same [`Table`] as parsing the whole text. Whenever that cannot be
//! promised cheaply — few elements, a header this splitter does not read (quoted keys),
//! a top-level key also given outside its `[[...]]` elements, or any syntax error — the
//! whole text is parsed as before, so every error message and line stays the parser's.

use toml::{Table, Value};

/// Below this many top-level array elements the whole text is parsed at once: the split
/// only pays for itself on large documents, and small ones keep the one parse.
const MIN_ELEMENTS: usize = 256;

/// Parse `text` into a table, splitting its top-level `[[key]]` elements into separate
/// parses when there are many (see the module doc). Same result as `text.parse()`.
pub fn parse_table(text: &str) -> Result<Table, toml::de::Error> {
    match split(text) {
        Some(parts) if parts.elements.len() >= MIN_ELEMENTS => {
            assemble(text, &parts).ok_or(()).or_else(|_| text.parse())
        }
        _ => text.parse(),
    }
}

/// The document cut at its headers: the byte ranges of top-level `[[key]]` elements (each
/// with the `[key.…]` sub-tables that follow it), and the ranges of everything else.
#[derive(Debug, Default, PartialEq)]
struct Parts<'a> {
    elements: Vec<(&'a str, std::ops::Range<usize>)>,
    rest: Vec<std::ops::Range<usize>>,
}

/// A header line as the splitter reads it: `[[a.b]]` or `[a.b]` with bare keys.
#[derive(Debug, PartialEq)]
struct Header<'a> {
    array: bool,
    key: &'a str,
}

/// Cut `text` at its header lines, or `None` when a header is not one this reads.
fn split(text: &str) -> Option<Parts<'_>> {
    let mut parts = Parts::default();
    // the element being collected: its key and start; else where the current rest began
    let mut current: Option<(&str, usize)> = None;
    let mut rest_start = 0;
    let mut scan = Scanner::default();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let at_top = scan.at_top();
        scan.line(line);
        if at_top {
            if let Some(h) = header(line)? {
                let top = h.key.split('.').next().unwrap_or(h.key);
                let continues = matches!(current, Some((k, _)) if k == top && h.key != top);
                if !continues {
                    if let Some((k, start)) = current.take() {
                        parts.elements.push((k, start..pos));
                        rest_start = pos;
                    }
                    if h.array && !h.key.contains('.') {
                        parts.rest.push(rest_start..pos);
                        current = Some((h.key, pos));
                    }
                }
            }
        }
        pos += line.len();
    }
    match current {
        Some((k, start)) => parts.elements.push((k, start..pos)),
        None => parts.rest.push(rest_start..pos),
    }
    // a document that ends inside a string or bracket is left to the parser's message
    scan.at_top().then_some(parts)
}

/// The header a line opens, `Ok(None)` when it is no header, `None` when it is a header
/// this splitter does not read (quoted or spaced keys): the caller parses the whole text.
fn header(line: &str) -> Option<Option<Header<'_>>> {
    let t = line.trim_start();
    if !t.starts_with('[') {
        return Some(None);
    }
    let (array, inner) = match t.strip_prefix("[[") {
        Some(r) => (true, r.split_once("]]")?.0),
        None => (false, t[1..].split_once(']')?.0),
    };
    let key = inner.trim();
    let bare = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.';
    if key.is_empty() || !key.chars().all(bare) {
        return None;
    }
    Some(Some(Header { array, key }))
}

/// Parse the rest and each element on its own, and put the elements under their keys.
/// `None` when any part fails or a key is also given outside its elements.
fn assemble(text: &str, parts: &Parts<'_>) -> Option<Table> {
    let mut rest = String::new();
    for r in &parts.rest {
        rest.push_str(&text[r.clone()]);
    }
    let mut table: Table = rest.parse().ok()?;
    let mut arrays: Vec<(&str, Vec<Value>)> = Vec::new();
    for (key, range) in &parts.elements {
        if table.contains_key(*key) {
            return None;
        }
        let mut one: Table = text[range.clone()].parse().ok()?;
        let Some(Value::Array(mut items)) = one.remove(*key) else { return None };
        if !one.is_empty() || items.len() != 1 {
            return None;
        }
        let item = items.pop()?;
        match arrays.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => v.push(item),
            None => arrays.push((key, vec![item])),
        }
    }
    for (key, items) in arrays {
        table.insert(key.to_string(), Value::Array(items));
    }
    Some(table)
}

/// Where a line-by-line scan stands: inside a multi-line string, or inside brackets (a
/// multi-line array or inline table), where a line starting with `[` is not a header.
#[derive(Debug, Default)]
struct Scanner {
    /// The multi-line string delimiter we are inside, if any.
    in_multiline: Option<&'static str>,
    depth: i64,
}

impl Scanner {
    fn at_top(&self) -> bool {
        self.in_multiline.is_none() && self.depth == 0
    }

    /// Follow one line: strings, comments and brackets.
    fn line(&mut self, line: &str) {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if let Some(delim) = self.in_multiline {
                match line[i..].find(delim) {
                    Some(k) => {
                        i += k;
                        // a basic string's delimiter may be escaped
                        if delim == "\"\"\"" && escaped(b, i) {
                            i += 1;
                            continue;
                        }
                        // up to two more quotes may close the string's content
                        let q = delim.as_bytes()[0];
                        let mut end = i + 3;
                        while end < b.len() && b[end] == q && end < i + 5 {
                            end += 1;
                        }
                        self.in_multiline = None;
                        i = end;
                    }
                    None => return,
                }
                continue;
            }
            match b[i] {
                b'#' => return,
                b'"' | b'\'' => {
                    let q = b[i];
                    if b[i..].starts_with(&[q, q, q]) {
                        self.in_multiline = Some(if q == b'"' { "\"\"\"" } else { "'''" });
                        i += 3;
                        continue;
                    }
                    // a one-line string: to its closing quote (escapes in basic strings)
                    i += 1;
                    while i < b.len() && !(b[i] == q && !(q == b'"' && escaped(b, i))) {
                        i += 1;
                    }
                    i += 1;
                }
                b'[' | b'{' => {
                    self.depth += 1;
                    i += 1;
                }
                b']' | b'}' => {
                    self.depth -= 1;
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }
}

/// Whether the byte at `i` is escaped by an odd run of backslashes before it.
fn escaped(b: &[u8], i: usize) -> bool {
    let mut n = 0;
    while n < i && b[i - 1 - n] == b'\\' {
        n += 1;
    }
    n % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize) -> String {
        let mut s = String::from("# a fleet\n[simulation]\nhorizon = \"1h\"\n\n[platform]\nhosts = 4\n");
        for i in 0..n {
            s.push_str(&format!(
                "[[function]]\nname = \"f{i}\"\nimage = \"img\"\nexec = {{ dist = \"exp\", mean = \"100ms\" }}\n\
                 [function.gpu]\nkind = \"t4\"\n\n[[workload]]\nfunction = \"f{i}\"\n\
                 arrivals = {{ kind = \"poisson\", rate = \"{i}/s\" }}\n"
            ));
        }
        s.push_str("[[image]]\nname = \"img\"\nsize = \"100MB\"\n[report]\ncharts = false\n");
        s
    }

    #[test]
    fn a_large_document_parses_to_the_same_table_as_one_parse() {
        let text = fleet(300);
        let parts = split(&text).expect("readable headers");
        assert_eq!(parts.elements.len(), 601);
        let whole: Table = text.parse().unwrap();
        assert_eq!(assemble(&text, &parts).expect("assembles"), whole);
        assert_eq!(parse_table(&text).unwrap(), whole);
    }

    #[test]
    fn headers_inside_strings_and_arrays_are_not_headers() {
        let text =
            "a = \"\"\"\n[[function]]\n\"\"\"\nb = [\n  [1, 2],\n]\nc = '''\n[x]'''\nd = \"[[e]]\"\n[[f]]\nx = 1\n";
        let parts = split(text).unwrap();
        assert_eq!(parts.elements.len(), 1, "{parts:?}");
        assert_eq!(parts.elements[0].0, "f");
        let whole: Table = text.parse().unwrap();
        assert_eq!(assemble(text, &parts).unwrap(), whole);
    }

    #[test]
    fn an_escaped_quote_does_not_end_a_string() {
        let text = "a = \"x\\\"[[y]]\"\nb = \"\"\"q\\\"\"\"\n[[z]]\"\"\"\n[[f]]\nx = 1\n";
        let parts = split(text).unwrap();
        assert_eq!(parts.elements.iter().map(|e| e.0).collect::<Vec<_>>(), ["f"]);
        let whole: Table = text.parse().unwrap();
        assert_eq!(assemble(text, &parts).unwrap(), whole);
    }

    #[test]
    fn what_the_split_cannot_promise_falls_back_to_one_parse() {
        // a key given both as a table and as array elements: the parser's own error
        let mut text = fleet(300);
        text.push_str("[function]\nx = 1\n");
        let e = parse_table(&text).unwrap_err();
        let whole = text.parse::<Table>().unwrap_err();
        assert_eq!(e.message(), whole.message());
        assert_eq!(e.span(), whole.span());
        // a syntax error in one element: the whole text's error, with its span
        let text = fleet(300).replacen("name = \"f7\"", "name = f7\"", 1);
        assert_eq!(parse_table(&text).unwrap_err().span(), text.parse::<Table>().unwrap_err().span());
        // quoted header keys are not read by the splitter
        assert!(split("[[\"function\"]]\nx = 1\n").is_none());
    }

    #[test]
    fn sub_tables_stay_with_their_element() {
        let text = "[[function]]\nname = \"a\"\n[function.gpu]\nkind = \"t4\"\n[[function.reserved]]\nat = 1\n[other]\nx = 1\n";
        let parts = split(text).unwrap();
        assert_eq!(parts.elements.len(), 1);
        assert_eq!(
            &text[parts.elements[0].1.clone()],
            "[[function]]\nname = \"a\"\n[function.gpu]\nkind = \"t4\"\n[[function.reserved]]\nat = 1\n"
        );
        assert_eq!(assemble(text, &parts).unwrap(), text.parse::<Table>().unwrap());
    }
}
