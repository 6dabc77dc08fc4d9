//! Every reader a user can point at a file, fed random bytes, random text and lines of
//! unbounded length (past [`MAX_LINE_BYTES`], past a TOML file's size limit): none panics,
//! and each refusal is bad input (an [`InputError`], exit 2) on one line of bounded length.
//! Case counts are small; `PROPTEST_CASES` raises them.

use std::path::Path;

use proptest::prelude::*;

use crate::error::InputError;
use crate::limits::{MAX_LINE_BYTES, MAX_TOML_BYTES};
use crate::workload::trace::{scan, Files, Format};

/// Longest message a refusal may print (a path, a key, a clipped value and the rule).
const MAX_MESSAGE: usize = 4096;

/// A refusal is one bounded line; anything else fails the case.
fn judged<T>(r: Result<T, InputError>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        let m = e.to_string();
        prop_assert!(!m.contains('\n') && !m.contains('\r'), "more than one line: {m}");
        prop_assert!(m.len() <= MAX_MESSAGE, "{} bytes: {}", m.len(), crate::limits::clip(&m));
    }
    Ok(())
}

/// Like [`judged`] for readers that return `anyhow`: the error must be an [`InputError`].
fn judged_any<T>(r: anyhow::Result<T>) -> Result<(), TestCaseError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => match e.downcast::<InputError>() {
            Ok(ie) => judged::<()>(Err(ie)),
            Err(e) => Err(TestCaseError::fail(format!("not bad input (exit 2): {e:#}"))),
        },
    }
}

/// A file's bytes: `head` (a valid start, so readers get past their header), then random
/// bytes or random text, then perhaps a long line (with or without its newline).
fn body(head: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let noise = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        "[a-z0-9_.,=:\"\\[\\]{} \n-]{0,300}".prop_map(String::into_bytes),
    ];
    let long = prop_oneof![Just(0usize), Just(5_000), Just(MAX_LINE_BYTES + 7)];
    (noise, long, any::<bool>()).prop_map(move |(noise, long, newline)| {
        let mut b = head.as_bytes().to_vec();
        b.extend(noise);
        b.extend(std::iter::repeat_n(b'7', long));
        if newline {
            b.push(b'\n');
        }
        b
    })
}

/// 12 cases per reader unless `PROPTEST_CASES` says otherwise.
fn cases() -> u32 {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default().cases
    } else {
        12
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const CSV_HEAD: &str = "timestamp,function,duration_ms,memory_mb\n0,a,10,128\n";
const AZ21_HEAD: &str = "app,func,end_timestamp,duration\nA,f,10.5,0.5\n";
const AZ19_HEAD: &str = "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1,2\n";
const DUR_HEAD: &str = "HashFunction,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\nf,1,1,1,1,1,1,1\n";
const MEM_HEAD: &str = "HashFunction,AverageAllocatedMb\nf,100\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_scenario_reader(b in body("[simulation]\nhorizon = \"1h\"\n")) {
        let d = tempfile::tempdir().unwrap();
        judged(crate::scenario::load(&write(d.path(), "s.toml", &b), &[]))?;
    }

    #[test]
    fn the_price_sheet_reader(b in body("name = \"x\"\ncurrency = \"USD\"\n")) {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "sheet.toml", &b);
        judged(crate::billing::sheet::load(&p.display().to_string()))?;
    }

    #[test]
    fn the_provider_profile_reader(b in body("name = \"p\"\n")) {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "provider.toml", &b);
        judged(crate::provider::load(&p.display().to_string()))?;
    }

    #[test]
    fn the_calibration_profile_reader(b in body("[pull]\n")) {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "p.toml", &b);
        let q = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml")).unwrap();
        let q = q.replacen("# profile = \"profiles/local.toml\"", "profile = \"p.toml\"", 1);
        judged(crate::scenario::load(&write(d.path(), "s.toml", q.as_bytes()), &[]))?;
    }

    #[test]
    fn the_measurements_reader(b in body("image,reference,trial\n")) {
        let d = tempfile::tempdir().unwrap();
        judged(crate::calibrate::measure::from_csv(&write(d.path(), "m.csv", &b)))?;
    }

    #[test]
    fn the_sweep_meta_reader(b in body("points = 2\n")) {
        let text = String::from_utf8_lossy(&b);
        judged_any(crate::sweep::render::parse_meta(&text, "sweep.meta.toml"))?;
    }

    #[test]
    fn the_sweep_points_reader(b in body("point,function.api.reserved\n0,0\n")) {
        let meta = "scenario = \"s\"\npoints = 2\nreplications = 1\nseed = 1\nslos = []\n[[vary]]\nkey = \"function.api.reserved\"\nvalues = [\"0\", \"1\"]\n";
        let m = crate::sweep::render::parse_meta(meta, "sweep.meta.toml").unwrap();
        judged_any(crate::sweep::render::parse_points(&String::from_utf8_lossy(&b), &m, "points.csv"))?;
    }

    #[test]
    fn the_row_trace_readers(b in body(CSV_HEAD), c in body(AZ21_HEAD), skip: bool) {
        let d = tempfile::tempdir().unwrap();
        for (format, bytes) in [(Format::Csv, &b), (Format::Azure2021, &c)] {
            let p = write(d.path(), "t.csv", bytes);
            judged(scan(format, &Files { trace: &p, durations: None, memory: None }, 10_000_000, skip))?;
            judged(crate::workload::trace_stats::compute(format, &p, None, None, skip))?;
        }
    }

    #[test]
    fn the_azure_2019_readers(b in body(AZ19_HEAD), which in 0usize..3, skip: bool) {
        let d = tempfile::tempdir().unwrap();
        let mut files = [AZ19_HEAD.as_bytes().to_vec(), DUR_HEAD.as_bytes().to_vec(), MEM_HEAD.as_bytes().to_vec()];
        files[which] = b;
        let i = write(d.path(), "invocations.csv", &files[0]);
        let du = write(d.path(), "durations.csv", &files[1]);
        let m = write(d.path(), "memory.csv", &files[2]);
        judged(scan(Format::Azure2019, &Files { trace: &i, durations: Some(&du), memory: Some(&m) }, 0, skip))?;
        judged(crate::workload::trace_stats::compute(Format::Azure2019, &i, Some(&du), Some(&m), skip))?;
    }
}

/// A TOML file past its size limit (not just a long line) is refused by every TOML reader.
#[test]
fn toml_files_past_their_size_limit_are_refused_as_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let mut big = b"x = \"".to_vec();
    big.extend(std::iter::repeat_n(b'a', MAX_TOML_BYTES as usize + 1));
    let p = write(d.path(), "big.toml", &big);
    let shown = p.display().to_string();
    for e in [
        crate::scenario::load(&p, &[]).err(),
        crate::billing::sheet::load(&shown).err(),
        crate::provider::load(&shown).err(),
    ] {
        let m = e.expect("refused").to_string();
        assert!(m.contains("longer than 16 MiB") && !m.contains('\n') && m.len() < 600, "{m}");
    }
}
