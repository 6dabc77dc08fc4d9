//! The trace readers against their contracts: hand-made files with known answers, random
//! traces streamed back exactly (in time order, every invocation, each Azure 2019 minute's
//! count inside that minute), and arbitrary bytes that never make a reader panic.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;

use super::rows::Row;
use super::trace::{scan, Arrival, Files, Format, Spread, TraceArrivals, TraceData, TraceStream, TraceSummary};
use crate::engine::rng::stream;
use crate::error::InputError;

const S: u64 = crate::units::MICROS_PER_SECOND;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Scan a trace, keep every function, and stream `[from, until)`.
fn replay(
    format: Format,
    files: &Files<'_>,
    window: u64,
    skip: bool,
    origin: i64,
    spread: Spread,
    (from, until): (u64, u64),
) -> Result<(Vec<String>, Vec<Arrival>), InputError> {
    let sc = scan(format, files, window, skip)?;
    let keep: Vec<usize> = (0..sc.functions.len()).collect();
    let ids = sc.functions.iter().map(|f| f.id.clone()).collect();
    let data = TraceData { layout: sc.layout.select(&keep), origin, window, spread };
    let t = TraceArrivals {
        format,
        path: "t".into(),
        data: Arc::new(data),
        functions: (0..keep.len() as u32).collect(),
        summary: TraceSummary::default(),
    };
    let mut s = TraceStream::open(&t, from, until);
    let mut rng = stream(1, 0, "arrivals", 0);
    let mut out = Vec::new();
    while let Some(a) = s.next(&mut rng) {
        out.push(a);
    }
    Ok((ids, out))
}

fn csv_replay(text: &str, window: u64) -> Result<(Vec<String>, Vec<Arrival>), InputError> {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "t.csv", text.as_bytes());
    let files = Files { trace: &p, durations: None, memory: None };
    replay(Format::Csv, &files, window, false, 0, Spread::Poisson, (0, u64::MAX / 4))
}

#[test]
fn a_small_csv_trace_streams_in_time_order_with_its_durations() {
    let (ids, got) =
        csv_replay("timestamp,function,duration_ms\n1.5,a,100\n1.25,b,2.5\n3,a,0\n2,c,1000\n2,b,7\n", 60 * S).unwrap();
    assert_eq!(ids, ["a", "b", "c"]);
    let want = [
        (1_250_000, 1, 2_500),
        (1_500_000, 0, 100_000),
        (2_000_000, 2, 1_000_000),
        (2_000_000, 1, 7_000),
        (3_000_000, 0, 0),
    ];
    let got: Vec<(u64, u32, u64)> = got.iter().map(|a| (a.time, a.func, a.exec.unwrap())).collect();
    assert_eq!(got, want);
}

#[test]
fn a_small_azure_2021_trace_arrives_at_end_minus_duration() {
    let d = tempfile::tempdir().unwrap();
    let text = "app,func,end_timestamp,duration\nA,f,10.5,0.5\nA,g,12,4\nB,f,12.25,0.25\nA,f,20,1\n";
    let p = write(d.path(), "t.csv", text.as_bytes());
    let files = Files { trace: &p, durations: None, memory: None };
    let (ids, got) = replay(Format::Azure2021, &files, 3600 * S, false, 0, Spread::Poisson, (0, 100 * S)).unwrap();
    // func f is in two apps: both keep app/func; g is unique
    assert_eq!(ids, ["A/f", "g", "B/f"]);
    let got: Vec<(u64, u32, u64)> = got.iter().map(|a| (a.time, a.func, a.exec.unwrap())).collect();
    assert_eq!(got, [(8 * S, 1, 4 * S), (10 * S, 0, S / 2), (12 * S, 2, S / 4), (19 * S, 0, S)]);
}

#[test]
fn a_row_too_far_out_of_order_is_an_error_with_its_line_and_the_window_says_how_far() {
    let text = "timestamp,function,duration_ms\n100,a,1\n50,a,1\n";
    let e = csv_replay(text, 10 * S).unwrap_err();
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("50s before an arrival already read (line 2, at 100s)"), "{e}");
    assert_eq!(csv_replay(text, 60 * S).unwrap().1.len(), 2);
}

#[test]
fn the_window_cuts_the_stream_and_the_origin_shifts_it() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "t.csv", b"timestamp,function,duration_ms\n100,a,1\n101,a,1\n102,a,1\n103,a,1\n");
    let files = Files { trace: &p, durations: None, memory: None };
    let (_, got) = replay(Format::Csv, &files, S, false, 100 * S as i64, Spread::Poisson, (S, 3 * S)).unwrap();
    assert_eq!(got.iter().map(|a| a.time).collect::<Vec<_>>(), [S, 2 * S]);
}

#[test]
fn an_azure_2019_trace_keeps_every_count_in_its_minute() {
    let d = tempfile::tempdir().unwrap();
    let inv = write(
        d.path(),
        "i.csv",
        b"HashOwner,HashApp,HashFunction,Trigger,1,2,3\no,a,f1,http,2,0,1\no,a,f2,timer,0,3,0\r\n",
    );
    let dur = write(
        d.path(),
        "d.csv",
        b"HashFunction,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\nf1,1,1,1,1,1,1,1\nf2,0,1,2,3,4,5,6\n",
    );
    let files = Files { trace: &inv, durations: Some(&dur), memory: None };
    for spread in [Spread::Poisson, Spread::Uniform, Spread::Start] {
        let (ids, got) = replay(Format::Azure2019, &files, 0, false, 60 * S as i64, spread, (0, u64::MAX / 4)).unwrap();
        assert_eq!(ids, ["f1", "f2"]);
        let minute = |a: &Arrival| a.time / (60 * S);
        let got: Vec<(u64, u32)> = got.iter().map(|a| (minute(a), a.func)).collect();
        assert_eq!(got, [(0, 0), (0, 0), (1, 1), (1, 1), (1, 1), (2, 0)], "{spread:?}");
    }
}

/// A random row trace, (arrival ms, function, duration ms) in any order, and the smallest
/// reorder window (ms) that order needs: how far a row comes after a later arrival.
fn rows_strategy() -> impl Strategy<Value = (Vec<(u64, u8, u32)>, u64)> {
    prop::collection::vec((0u64..100_000, 0u8..5, 0u32..10_000), 0..60).prop_shuffle().prop_map(|rows| {
        let mut max = 0;
        let mut window = 0;
        for r in &rows {
            window = window.max(max.max(r.0) - r.0);
            max = max.max(r.0);
        }
        (rows, window)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn a_csv_trace_within_its_window_streams_back_sorted_and_complete((rows, window) in rows_strategy()) {
        let mut text = String::from("timestamp,function,duration_ms\n");
        for (t, f, d) in &rows {
            text.push_str(&format!("{}.{:03},fn{f},{d}\n", t / 1000, t % 1000));
        }
        let (ids, got) = csv_replay(&text, window * 1000).unwrap();
        let mut want: Vec<(u64, String, u64)> =
            rows.iter().map(|(t, f, d)| (t * 1000, format!("fn{f}"), *d as u64 * 1000)).collect();
        // stable: rows at the same time keep their file order
        want.sort_by_key(|w| w.0);
        let got: Vec<(u64, String, u64)> =
            got.iter().map(|a| (a.time, ids[a.func as usize].clone(), a.exec.unwrap())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn an_azure_2019_matrix_streams_back_every_count_in_its_minute(
        counts in prop::collection::vec(prop::collection::vec(0u32..40, 1..6), 1..8),
        spread in prop::sample::select(vec![Spread::Poisson, Spread::Uniform, Spread::Start]),
    ) {
        let minutes = counts.iter().map(Vec::len).min().unwrap();
        let d = tempfile::tempdir().unwrap();
        let mut inv = String::from("HashOwner,HashApp,HashFunction,Trigger");
        for m in 0..minutes {
            inv.push_str(&format!(",{}", m + 7));
        }
        inv.push('\n');
        let mut dur = String::from("HashFunction,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n");
        for (k, row) in counts.iter().enumerate() {
            inv.push_str(&format!("o,a,f{k},http"));
            for c in &row[..minutes] {
                inv.push_str(&format!(",{c}"));
            }
            inv.push('\n');
            dur.push_str(&format!("f{k},1,2,3,4,5,6,7\n"));
        }
        let ip = write(d.path(), "i.csv", inv.as_bytes());
        let dp = write(d.path(), "d.csv", dur.as_bytes());
        let files = Files { trace: &ip, durations: Some(&dp), memory: None };
        let (_, got) = replay(Format::Azure2019, &files, 0, false, 7 * 60 * S as i64, spread, (0, u64::MAX / 4)).unwrap();
        let mut per = vec![vec![0u32; minutes]; counts.len()];
        for w in got.windows(2) {
            prop_assert!(w[0].time <= w[1].time);
        }
        for a in &got {
            let m = (a.time / (60 * S)) as usize;
            prop_assert!(m < minutes);
            per[a.func as usize][m] += 1;
        }
        let want: Vec<Vec<u32>> = counts.iter().map(|r| r[..minutes].to_vec()).collect();
        prop_assert_eq!(per, want);
    }

    #[test]
    fn no_bytes_make_a_row_reader_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), header in 0usize..3, skip: bool) {
        let headers = ["timestamp,function,duration_ms,memory_mb\n", "app,func,end_timestamp,duration\n", ""];
        let format = if header == 1 { Format::Azure2021 } else { Format::Csv };
        let mut text = headers[header].as_bytes().to_vec();
        text.extend(&bytes);
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "t.csv", &text);
        let files = Files { trace: &p, durations: None, memory: None };
        if let Ok((_, got)) = replay(format, &files, 10 * S, skip, 0, Spread::Poisson, (0, u64::MAX / 4)) {
            for w in got.windows(2) {
                prop_assert!(w[0].time <= w[1].time);
            }
        }
    }

    #[test]
    fn no_bytes_make_the_azure_2019_reader_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), which in 0usize..3, skip: bool) {
        let mut inv = b"HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1,2\n".to_vec();
        let mut dur = b"HashFunction,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\nf,1,1,1,1,1,1,1\n".to_vec();
        let mut mem = b"HashFunction,AverageAllocatedMb\nf,100\n".to_vec();
        [&mut inv, &mut dur, &mut mem][which].extend(&bytes);
        let d = tempfile::tempdir().unwrap();
        let (ip, dp, mp) = (write(d.path(), "i.csv", &inv), write(d.path(), "d.csv", &dur), write(d.path(), "m.csv", &mem));
        let files = Files { trace: &ip, durations: Some(&dp), memory: Some(&mp) };
        let _ = replay(Format::Azure2019, &files, 0, skip, 60 * S as i64, Spread::Poisson, (0, u64::MAX / 4));
    }

    #[test]
    fn no_row_text_makes_the_field_parsers_panic(fields in prop::collection::vec(".{0,12}", 0..6)) {
        let cols = super::csv_trace::columns(&csv::ByteRecord::from(vec!["timestamp", "function", "duration_ms", "memory_mb"]), "t").unwrap();
        let rec = csv::ByteRecord::from(fields.clone());
        let mut key = Vec::new();
        let _: Result<Row, String> = cols.parse(&rec, &mut key);
        for f in &fields {
            let _ = super::timestamp::parse(f.as_bytes());
            let _ = super::azure2019::parse_row(f.as_bytes(), 5);
        }
    }
}
