//! Tests of trace workloads in scenarios ([`super::trace`]).

use super::*;
use crate::scenario::parse_str;

const BASE: &str = r#"
[simulation]
horizon = "1h"

[[image]]
name = "img"
size = "100MB"

[[image]]
name = "big"
size = "1GB"

[[function]]
name = "tpl"
image = "img"
memory = "512MB"
concurrency = 4
startup = "1s"
"#;

const CSV: &str =
    "timestamp,function,duration_ms,memory_mb\n0.5,a,10,100\n1,b,20,\n1.5,a,30,300\n2,c,40,\n2.5,a,50,\n3,b,60,\n";

fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(d.path().join(name), text).unwrap();
    }
    d
}

fn scenario(arrivals: &str) -> String {
    format!("{BASE}\n[[workload]]\nfunction = \"tpl\"\narrivals = {arrivals}\n")
}

fn load(d: &tempfile::TempDir, arrivals: &str) -> Result<Scenario, InputError> {
    parse_str(&scenario(arrivals), "s.toml", d.path(), &[])
}

fn ok(d: &tempfile::TempDir, arrivals: &str) -> Scenario {
    load(d, arrivals).unwrap_or_else(|e| panic!("{e}"))
}

/// The error, checked to be at `path` (a key path, or a file name for file errors) and to
/// contain `fragment`.
fn fails(d: &tempfile::TempDir, arrivals: &str, path: &str, fragment: &str) -> InputError {
    let e = load(d, arrivals).expect_err("should fail");
    assert!(e.path == path || e.source.ends_with(path), "wrong place: {e}");
    assert!(e.to_string().contains(fragment), "lacks {fragment:?}: {e}");
    e
}

fn names(sc: &Scenario) -> Vec<&str> {
    sc.functions.iter().map(|f| f.name.as_str()).collect()
}

fn trace_of(sc: &Scenario) -> &TraceArrivals {
    match &sc.workloads[0].arrivals {
        Arrivals::Trace(t) => t,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_csv_trace_becomes_copies_of_the_template_with_the_traces_memory() {
    let d = dir(&[("t.csv", CSV)]);
    let sc = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv" }"#);
    // the template is gone; the trace's functions in order of first appearance
    assert_eq!(names(&sc), ["a", "b", "c"]);
    let a = &sc.functions[0];
    assert_eq!((a.memory_mb, a.milli_vcpu, a.concurrency, a.image), (320, 150, 4, 0));
    // b and c give no memory: the template's
    assert_eq!((sc.functions[1].memory_mb, sc.functions[1].milli_vcpu), (512, 250));
    assert_eq!(sc.workloads[0].function, 0);
    let t = trace_of(&sc);
    assert_eq!(t.functions, [0, 1, 2]);
    assert_eq!((t.summary.functions, t.summary.invocations, t.summary.bad.count), (3, 6, 0));
    assert!(t.describe().contains("3 of 3 functions, 6 of 6 invocations, no bad rows"), "{}", t.describe());
    let sc = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", memory = "template" }"#);
    assert!(sc.functions.iter().all(|f| f.memory_mb == 512));
}

#[test]
fn functions_are_kept_by_invocations_by_sample_or_by_name() {
    let d = dir(&[("t.csv", CSV)]);
    let top = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", functions = 2 }"#);
    assert_eq!(names(&top), ["a", "b"]);
    let one = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", only = "c" }"#);
    assert_eq!(names(&one), ["c"]);
    let two = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", only = ["c", "a"] }"#);
    assert_eq!(names(&two), ["a", "c"]);
    let s1 =
        ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", functions = 2, select = "sample", seed = 5 }"#);
    let s2 =
        ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", functions = 2, select = "sample", seed = 5 }"#);
    assert_eq!(names(&s1), names(&s2));
    assert_eq!(s1.functions.len(), 2);
    let all = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", functions = 99 }"#);
    assert_eq!(all.functions.len(), 3);
}

#[test]
fn a_template_that_another_workload_uses_stays() {
    let d = dir(&[("t.csv", CSV)]);
    let text = scenario(r#"{ kind = "trace", format = "csv", path = "t.csv" }"#)
        .replace("startup = \"1s\"", "startup = \"1s\"\nexec = \"5ms\"")
        + "\n[[workload]]\nfunction = \"tpl\"\narrivals = { kind = \"poisson\", rate = \"1/s\" }\n";
    let sc = parse_str(&text, "s.toml", d.path(), &[]).unwrap();
    assert_eq!(names(&sc), ["tpl", "a", "b", "c"]);
    assert_eq!(trace_of(&sc).functions, [1, 2, 3]);
    assert_eq!(sc.workloads[1].function, 0);
}

#[test]
fn an_azure2019_folder_joins_its_three_files() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = scenario(r#"{ kind = "trace", format = "azure2019", path = "data/azure2019-sample500" }"#);
    let sc = parse_str(&text, "s.toml", repo, &[]).unwrap();
    assert_eq!(sc.functions.len(), 500);
    let t = trace_of(&sc);
    assert_eq!(t.summary.invocations, 3_037_902);
    // the first row of memory.csv: AverageAllocatedMb 198 → 256 MB; durations from its row
    let f = sc.functions.iter().find(|f| f.name.starts_with("12565e2d8b27017788b2ec7fd23d")).unwrap();
    assert_eq!(f.memory_mb, 256);
    let g = sc.functions.iter().find(|f| f.name.starts_with("6b6c3f35ccaa762d1cebb1c4afc9f")).unwrap();
    let ms: Vec<f64> = [0.0, 0.0, 1.0, 1.0, 3.0, 27.0, 492.0].iter().map(|v| v * 1e3).collect();
    let pct = [0.0, 1.0, 25.0, 50.0, 75.0, 99.0, 100.0];
    assert_eq!(g.exec, Dist::Empirical { points: pct.into_iter().zip(ms).collect() });
    // the trace's first minute is time 0
    assert_eq!(t.data.origin, 480 * 60_000_000);
}

#[test]
fn trace_files_are_found_beside_the_scenario_unless_given_with_set() {
    let d = dir(&[("t.csv", CSV), ("map.csv", "function,image\na,img\n")]);
    let e = fails(
        &d,
        r#"{ kind = "trace", format = "csv", path = "t.csv", image_map = "nomap.csv" }"#,
        "workload[0].arrivals.image_map",
        "relative to the file's folder",
    );
    let want = d.path().canonicalize().unwrap().join("nomap.csv");
    assert!(e.message.contains(&format!("looked for {}", want.display())), "{e}");
    // the same names given with --set are looked for in the current folder, not beside the scenario
    let text = scenario(r#"{ kind = "trace", format = "csv", path = "t.csv" }"#);
    for (key, file) in [("path", "t.csv"), ("image_map", "map.csv")] {
        let set = vec![format!("workload.0.arrivals.{key}={file}")];
        let e = parse_str(&text, "s.toml", d.path(), &set).expect_err("not in the current folder");
        assert_eq!(e.source, "--set", "{e}");
        assert!(e.message.contains("relative to the current folder"), "{e}");
    }
}

#[test]
fn drawn_images_are_one_per_function_and_within_the_size_limit() {
    let sizes = "repository,compressed_bytes,layers\nsmall,1000000,2\nhuge,9000000000,10\nmid,50000000,5\n";
    let d = dir(&[("t.csv", CSV), ("sizes.csv", sizes)]);
    let sc = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", image_sizes = "sizes.csv" }"#);
    assert_eq!(sc.images.len(), 5);
    for f in &sc.functions {
        let img = &sc.images[f.image];
        assert_eq!(img.name, format!("{}#image", f.name));
        // 9 GB × 2.5 is beyond FC's 10 GB: never drawn
        assert!(matches!(img.compressed_bytes(), 1_000_000 | 50_000_000), "{}", img.compressed_bytes());
    }
    let again = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", image_sizes = "sizes.csv" }"#);
    assert_eq!(sc.images, again.images);
}

#[test]
fn an_image_map_names_an_image_per_function_and_refuses_unknown_ones_with_their_line() {
    let d = dir(&[
        ("t.csv", CSV),
        ("map.csv", "function,image\na,big\nc,img\n"),
        ("bad.csv", "function,image\na,big\nzz,img\n"),
        ("badimg.csv", "function,image\na,bigger\n"),
    ]);
    let sc = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", image_map = "map.csv", image = "img" }"#);
    let img = |n: &str| sc.images[sc.functions.iter().find(|f| f.name == n).unwrap().image].name.clone();
    assert_eq!((img("a"), img("b"), img("c")), ("big".into(), "img".into(), "img".into()));
    let e = fails(
        &d,
        r#"{ kind = "trace", format = "csv", path = "t.csv", image_map = "bad.csv" }"#,
        "bad.csv",
        "unknown function \"zz\"",
    );
    assert_eq!(e.line, Some(3));
    fails(
        &d,
        r#"{ kind = "trace", format = "csv", path = "t.csv", image_map = "badimg.csv" }"#,
        "badimg.csv",
        "did you mean `big`?",
    );
    let sc =
        ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", image_map = "bad.csv", skip_bad_rows = true }"#);
    assert_eq!(trace_of(&sc).summary.bad.count, 1);
}

#[test]
fn wrong_keys_name_the_key_what_was_found_and_what_is_allowed() {
    let d = dir(&[("t.csv", CSV), ("epoch.csv", "timestamp,function,duration_ms\n1612137600,a,5\n")]);
    // a csv trace of t.csv with more keys
    let csv = |more: &str| format!(r#"{{ kind = "trace", format = "csv", path = "t.csv", {more} }}"#);
    // (arrivals, the key the error names, what its message says)
    let cases = [
        (
            r#"{ kind = "trace", format = "azure2091", path = "t.csv" }"#.to_string(),
            "format",
            "did you mean `azure2019`?",
        ),
        (r#"{ kind = "trace", path = "t.csv" }"#.to_string(), "format", "`format` is missing"),
        (csv(r#"spread = "uniform""#), "spread", "applies to azure2019 traces only"),
        (
            r#"{ kind = "trace", format = "azure2019", path = "t.csv", reorder_window = "1s" }"#.to_string(),
            "reorder_window",
            "row traces",
        ),
        (
            r#"{ kind = "trace", format = "azure2019", path = "t.csv" }"#.to_string(),
            "durations_path",
            "give `durations_path`",
        ),
        (csv(r#"only = "d""#), "only", "the trace has no function \"d\""),
        (csv(r#"only = ["a", 3]"#), "only[1]", "found integer 3"),
        (csv(r#"only = "a", functions = 1"#), "functions", "not both"),
        (csv(r#"select = "sample""#), "select", "goes with `functions`"),
        (csv(r#"functions = 1, seed = 3"#), "seed", "select = \"sample\""),
        (csv(r#"functions = 0"#), "functions", "at least 1"),
        (csv(r#"memory = "trac""#), "memory", "did you mean `trace`?"),
        (csv(r#"image = "imgg""#), "image", "did you mean `img`?"),
        (csv(r#"origin = "2021-02-01T00:00:00Z""#), "origin", "numbers of seconds"),
        (csv(r#"origin = true"#), "origin", "found boolean true"),
        (r#"{ kind = "trace", format = "csv", path = "nope.csv" }"#.to_string(), "path", "does not exist"),
    ];
    for (arrivals, key, fragment) in cases {
        fails(&d, &arrivals, &format!("workload[0].arrivals.{key}"), fragment);
    }
    let e = fails(
        &d,
        r#"{ kind = "trace", format = "csv", path = "epoch.csv" }"#,
        "workload[0].arrivals",
        "set origin = \"first\"",
    );
    assert_eq!(e.line, Some(22), "{e}");
    let sc = ok(&d, r#"{ kind = "trace", format = "csv", path = "epoch.csv", origin = "first" }"#);
    assert_eq!(trace_of(&sc).data.origin, 1_612_137_600_000_000);
}

#[test]
fn trace_functions_may_not_take_a_name_the_scenario_has() {
    let d = dir(&[("t.csv", "timestamp,function,duration_ms\n1,tpl2,5\n")]);
    let text = scenario(r#"{ kind = "trace", format = "csv", path = "t.csv" }"#)
        + "\n[[function]]\nname = \"tpl2\"\nimage = \"img\"\nstartup = \"1s\"\nexec = \"1ms\"\n";
    let e = parse_str(&text, "s.toml", d.path(), &[]).unwrap_err();
    assert!(e.to_string().contains("t.csv:2: function tpl2 is already a function of the scenario"), "{e}");
}

#[test]
fn bad_rows_stop_the_load_with_their_line_unless_skipped() {
    let d = dir(&[("t.csv", "timestamp,function,duration_ms\n1,a,5\n2,b,-5\n3,c,x\n4,a,1\n")]);
    let e =
        fails(&d, r#"{ kind = "trace", format = "csv", path = "t.csv" }"#, "t.csv", "duration_ms \"-5\" is negative");
    assert_eq!(e.line, Some(3));
    let sc = ok(&d, r#"{ kind = "trace", format = "csv", path = "t.csv", skip_bad_rows = true }"#);
    let t = trace_of(&sc);
    assert_eq!((t.summary.bad.count, t.summary.invocations), (2, 2));
    assert!(t.describe().contains("2 bad rows skipped"), "{}", t.describe());
}

#[test]
fn trace_vcpu_follows_the_templates_vcpu_per_gb_within_fcs_ratio() {
    let mut tpl = crate::scenario::quickstart(&[]).unwrap().functions[0].clone();
    tpl.memory_mb = 1024;
    tpl.milli_vcpu = 500;
    assert_eq!(scaled_vcpu(&tpl, 2048, true), 1000);
    assert_eq!(scaled_vcpu(&tpl, 128, true), 50);
    tpl.milli_vcpu = 4000; // 4 vCPU per GB: beyond FC's 1:1, clamped to it
    assert_eq!(scaled_vcpu(&tpl, 512, true), 500);
    assert_eq!(scaled_vcpu(&tpl, 512, false), 2000);
}

#[test]
fn a_drawn_image_splits_its_size_evenly() {
    let img = drawn_image("f", 301, 3);
    assert_eq!(img.layers.iter().map(|l| l.compressed).collect::<Vec<_>>(), [101, 100, 100]);
    assert_eq!(img.uncompressed_bytes(), 753);
    assert_eq!(img.layers[2].id, "f#image#2");
}
