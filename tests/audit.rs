//! `coldcost run --audit`: an example scenario keeps every invariant (exit 0, the same
//! reports as without the audit). How a broken invariant is reported is shown by the unit
//! tests in `src/platform/audit_tests.rs`, which break the model's state on purpose.

use crate::util::{example, Dir};

#[test]
fn an_example_scenario_keeps_every_invariant_under_the_audit() {
    let d = Dir::new();
    let sc = example("worked-bill.toml");
    let sc = sc.to_str().unwrap();
    d.ok(&["run", sc, "--audit", "--quiet", "--out", "audited"]);
    d.ok(&["run", sc, "--quiet", "--out", "plain"]);
    for f in ["summary.csv", "instances.csv", "timeseries.csv"] {
        assert_eq!(d.read(&format!("audited/{f}")), d.read(&format!("plain/{f}")), "{f}: the audit changes nothing");
    }
}

#[test]
fn the_quickstart_runs_audited_for_an_hour() {
    let d = Dir::new();
    d.ok(&["run", "--audit", "--quiet", "--set", "simulation.horizon=1h", "--out", "q"]);
}
