//! The plain CSV trace: a header, then one row per invocation with `timestamp` (the arrival:
//! seconds, or an RFC 3339 date-time), `function` (any text), `duration_ms` and optionally
//! `memory_mb` (a function's memory is the largest its rows give). Columns may come in any
//! order; no others are allowed. The streaming itself is [`super::rows`].

use csv::ByteRecord;

use super::rows::{header_names, Columns};
use super::trace::Format;
use crate::error::InputError;

pub const HEADER: &str = "timestamp,function,duration_ms[,memory_mb]";
const NAMES: [&str; 4] = ["timestamp", "function", "duration_ms", "memory_mb"];

pub fn columns(header: &ByteRecord, file: &str) -> Result<Columns, InputError> {
    let names = header_names(header);
    let err = |m: String| InputError::new(file, "", m).with_line(Some(1));
    for (i, n) in names.iter().enumerate() {
        if !NAMES.contains(&n.as_str()) {
            return Err(err(format!(
                "unknown column \"{n}\" in the header{}; a CSV trace has the columns {HEADER}",
                crate::input::did_you_mean(n, NAMES)
            )));
        }
        if names[..i].contains(n) {
            return Err(err(format!("column \"{n}\" appears twice in the header")));
        }
    }
    let at = |want: &str| names.iter().position(|n| n == want);
    let need = |want: &str| at(want).ok_or_else(|| err(format!("the header lacks `{want}`; expected {HEADER}")));
    Ok(Columns {
        format: Format::Csv,
        fields: names.len(),
        time: need("timestamp")?,
        time_is_end: false,
        function: need("function")?,
        app: None,
        duration: need("duration_ms")?,
        duration_us: 1e3,
        memory: at("memory_mb"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fields: &[&str]) -> ByteRecord {
        ByteRecord::from(fields.to_vec())
    }

    #[test]
    fn columns_may_come_in_any_order_and_memory_is_optional() {
        let c = columns(&rec(&["function", "duration_ms", "timestamp"]), "t.csv").unwrap();
        let mut key = Vec::new();
        let row = c.parse(&rec(&["f", "1.5", "2021-02-01T00:00:01Z"]), &mut key).unwrap();
        assert_eq!((row.exec, row.memory_mb, key.as_slice()), (1_500, None, b"f".as_slice()));
        let c = columns(&rec(&["timestamp", "function", "duration_ms", "memory_mb"]), "t.csv").unwrap();
        let row = c.parse(&rec(&["3", "f", "10", "300"]), &mut key).unwrap();
        assert_eq!((row.time, row.exec, row.memory_mb), (3_000_000, 10_000, Some(300.0)));
        let row = c.parse(&rec(&["3", "f", "10", ""]), &mut key).unwrap();
        assert_eq!(row.memory_mb, None);
    }

    #[test]
    fn bad_fields_say_what_is_wrong() {
        let c = columns(&rec(&["timestamp", "function", "duration_ms", "memory_mb"]), "t.csv").unwrap();
        let mut key = Vec::new();
        let cases: [(&[&str], &str); 6] = [
            (&["x", "f", "1", ""], "timestamp: "),
            (&["1", "", "1", ""], "function is empty"),
            (&["1", "f", "-2", ""], "negative"),
            (&["1", "f", "2", "0"], "memory_mb"),
            (&["1", "f", "2", "99999"], "32768"),
            (&["1", "f", "2"], "3 fields where the header has 4"),
        ];
        for (fields, want) in cases {
            let e = c.parse(&rec(fields), &mut key).unwrap_err();
            assert!(e.contains(want), "{fields:?}: {e}");
        }
    }

    #[test]
    fn a_header_with_an_unknown_or_repeated_column_is_refused() {
        let e = columns(&rec(&["timestamp", "function", "duration_s"]), "t.csv").unwrap_err();
        assert!(e.message.contains("did you mean `duration_ms`?"), "{e}");
        let e = columns(&rec(&["timestamp", "function", "function", "duration_ms"]), "t.csv").unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        let e = columns(&rec(&["timestamp", "duration_ms"]), "t.csv").unwrap_err();
        assert!(e.message.contains("lacks `function`"), "{e}");
    }
}
