//! The Azure Functions 2021 invocation trace: `app,func,end_timestamp,duration`, one row
//! per invocation, times in seconds from the start of the trace. The arrival is
//! `end_timestamp − duration`; the file is sorted by end, so arrivals come out of order by up
//! to the longest duration, which the reorder window (default 1 h) absorbs. A function is
//! identified by (app, func); it is named by its `func` hash, or `app/func` when two apps
//! share a `func` hash. The streaming itself is [`super::rows`].

use csv::ByteRecord;

use super::rows::{header_names, Columns};
use super::trace::{Format, TraceFn};
use crate::error::InputError;

pub const HEADER: &str = "app,func,end_timestamp,duration";

/// The columns from the header, which must name exactly `app`, `func`, `end_timestamp` and
/// `duration` (in any order).
pub fn columns(header: &ByteRecord, file: &str) -> Result<Columns, InputError> {
    let names = header_names(header);
    let at = |want: &str| names.iter().position(|n| n == want);
    let err = |m: String| InputError::new(file, "", m).with_line(Some(1));
    for n in &names {
        if !["app", "func", "end_timestamp", "duration"].contains(&n.as_str()) {
            return Err(err(format!(
                "unknown column \"{n}\" in the header{}; an Azure 2021 trace has the columns {HEADER}",
                crate::input::did_you_mean(n, ["app", "func", "end_timestamp", "duration"])
            )));
        }
    }
    let need = |want: &str| at(want).ok_or_else(|| err(format!("the header lacks `{want}`; expected {HEADER}")));
    Ok(Columns {
        format: Format::Azure2021,
        fields: names.len(),
        time: need("end_timestamp")?,
        time_is_end: true,
        function: need("func")?,
        app: Some(need("app")?),
        duration: need("duration")?,
        duration_us: 1e6,
        memory: None,
    })
}

/// Name each function (its id is `app/func`) by its `func` hash alone when no other app has
/// the same `func` hash.
pub fn name_functions(functions: &mut [TraceFn]) {
    let mut count: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let func = |id: &str| id.split_once('/').map_or(id, |(_, f)| f).to_string();
    for f in functions.iter() {
        *count.entry(func(&f.id)).or_default() += 1;
    }
    for f in functions.iter_mut() {
        let short = func(&f.id);
        if count[&short] == 1 {
            f.id = short;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fields: &[&str]) -> ByteRecord {
        ByteRecord::from(fields.to_vec())
    }

    #[test]
    fn the_arrival_is_the_end_minus_the_duration() {
        let c = columns(&rec(&["app", "func", "end_timestamp", "duration"]), "t.csv").unwrap();
        let mut key = Vec::new();
        let row = c.parse(&rec(&["a1", "f1", "57.15786004066467", "57.154"]), &mut key).unwrap();
        assert_eq!(row.time, 57_157_860 - 57_154_000);
        assert_eq!(row.exec, 57_154_000);
        assert_eq!(key, b"a1/f1");
    }

    #[test]
    fn a_wrong_header_names_the_column_and_the_expected_ones() {
        let e = columns(&rec(&["app", "fun", "end_timestamp", "duration"]), "t.csv").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("\"fun\"") && e.message.contains("did you mean `func`?"), "{e}");
    }

    #[test]
    fn functions_are_named_by_func_unless_two_apps_share_it() {
        let f = |id: &str| TraceFn { id: id.into(), invocations: 1, memory_mb: None, exec: None, line: 2 };
        let mut fs = vec![f("a/x"), f("b/x"), f("a/y")];
        name_functions(&mut fs);
        let ids: Vec<&str> = fs.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["a/x", "b/x", "y"]);
    }
}
