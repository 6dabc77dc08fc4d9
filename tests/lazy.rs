//! Lazy pulls and FC image acceleration, driven as a user would (`scenarios/accelerated.toml`):
//! properties that must hold between a plain and an accelerated start of the same image, not
//! the published figures (README, "Lazy loading against published figures").

use crate::util::{example, Csv, Dir};

/// The one instance of `scenarios/accelerated.toml` run with `sets` (audited).
fn instance(d: &Dir, out: &str, sets: &[&str]) -> Csv {
    let sc = example("accelerated.toml");
    let mut args = vec!["run", sc.to_str().unwrap(), "--quiet", "--audit", "--out", out];
    for s in sets {
        args.push("--set");
        args.push(s);
    }
    d.ok(&args);
    let rows = Csv::parse(&d.read(&format!("{out}/instances.csv")));
    assert_eq!(rows.rows.len(), 1);
    rows
}

#[test]
fn an_accelerated_image_starts_sooner_with_its_reads_billed_as_start_up_and_exact_pull_meters() {
    let d = Dir::new();
    let plain = instance(&d, "plain", &[]);
    let acc = instance(&d, "acc", &["image.app.acceleration=true"]);
    let (p, a) = (&plain.rows[0], &acc.rows[0]);
    // the pull meter is the pull's span, in both
    for (rows, r) in [(&plain, p), (&acc, a)] {
        let span = rows.num(r, "pull_end_s") - rows.num(r, "pull_start_s");
        assert!((rows.num(r, "seconds_pull") - span).abs() < 1e-6);
    }
    // no extraction and a fraction of the bytes: the pull is far shorter, the start sooner
    assert!(acc.num(a, "seconds_pull") * 10.0 < plain.num(p, "seconds_pull"));
    assert!(acc.num(a, "ready_s") < plain.num(p, "ready_s"));
    // the app's reads stall its start-up: more than its 2 s, which is all the plain start has
    assert!((plain.num(p, "seconds_startup") - 2.0).abs() < 1e-6);
    assert!(acc.num(a, "seconds_startup") > 2.0 + 1e-3);
    // a copy ready only after the request arrives: the plain pull, to the microsecond
    let late = instance(&d, "late", &["image.app.acceleration=true", "image.app.accelerated_from=\"5m\""]);
    assert_eq!(late.rows[0].clone(), p.clone());
}

#[test]
fn the_platform_wide_switch_of_earlier_versions_exits_2_naming_its_replacement() {
    let d = Dir::new();
    let sc = example("accelerated.toml");
    let out = d.bad(&["run", sc.to_str().unwrap(), "--set", "platform.pull.acceleration.enabled=true", "--out", "x"]);
    assert!(out.contains("platform.pull.acceleration") && out.contains("image"), "{out}");
}
