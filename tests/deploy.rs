//! The README's ways of running a sweep beyond one machine stay true: its Kubernetes Indexed
//! Job is the file in `deploy/`, has the shape of one, and runs the same command line as its
//! GNU parallel example (which `scripts/sweep-shards.sh` runs for real).

use yaml_rust2::{Yaml, YamlLoader};

use crate::util::{repo, Dir};

const JOB: &str = "deploy/kubernetes/sweep-job.yaml";

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// The body of the first fenced block with `lang` after `marker` in the README.
fn block_after(readme: &str, marker: &str, lang: &str) -> String {
    let from = readme.find(marker).unwrap_or_else(|| panic!("README has {marker:?}"));
    let open = format!("```{lang}\n");
    let start = from + readme[from..].find(&open).expect("a block") + open.len();
    let end = start + readme[start..].find("```").expect("the block ends");
    readme[start..end].to_string()
}

/// The GNU parallel example: the coldcost command (with `{}` for the shard) and the shard count.
fn parallel_example() -> (Vec<String>, u64) {
    let text = block_after(&readme(), "**Big sweeps beyond one machine.**", "sh").replace("\\\n", " ");
    let line = text.lines().find(|l| l.starts_with("parallel ")).expect("a parallel line");
    let words: Vec<String> = line.split_whitespace().map(String::from).collect();
    let at = words.iter().position(|w| w == "coldcost").unwrap();
    let sep = words.iter().position(|w| w == ":::").unwrap();
    let seq = words[sep + 2].trim_end_matches(')').parse().expect("$(seq N)");
    (words[at..sep].to_vec(), seq)
}

fn job() -> Yaml {
    let text = std::fs::read_to_string(repo().join(JOB)).unwrap();
    YamlLoader::load_from_str(&text).expect("the Job parses as YAML").remove(0)
}

/// The value after `flag` in `words`.
fn flag<'a>(words: &'a [String], name: &str) -> &'a str {
    &words[words.iter().position(|w| w == name).unwrap_or_else(|| panic!("{name} given")) + 1]
}

#[test]
fn the_readme_shows_the_job_file() {
    let shown = block_after(&readme(), "As a Kubernetes Indexed Job", "yaml");
    assert_eq!(shown, std::fs::read_to_string(repo().join(JOB)).unwrap());
}

#[test]
fn the_job_is_an_indexed_job_with_a_completion_per_shard_running_the_parallel_command() {
    let job = job();
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_i64().expect("completions");
    assert_eq!(spec["template"]["spec"]["restartPolicy"].as_str(), Some("Never"));
    let container = &spec["template"]["spec"]["containers"][0];
    assert_eq!(container["command"][0].as_str(), Some("sh"));
    // the pod's shell command, with the index arithmetic as the placeholder GNU parallel fills
    let script = container["args"][0].as_str().expect("one shell command");
    let script = script.replace("$((JOB_COMPLETION_INDEX + 1))", "{}");
    let pod: Vec<String> = script.split_whitespace().map(String::from).collect();

    let (local, shards) = parallel_example();
    assert_eq!(completions as u64, shards, "a completion per shard");
    assert_eq!(flag(&pod, "--shard"), format!("{{}}/{shards}"));
    assert_eq!(flag(&local, "--shard"), format!("{{}}/{shards}"));
    // the same command but for where the scenario and the shard's output live
    let base = |w: &[String]| -> Vec<String> {
        let mut w = w.to_vec();
        w[2] = w[2].rsplit('/').next().unwrap().to_string();
        let out = w.iter().position(|x| x == "--out").unwrap();
        w.drain(out..out + 2);
        w
    };
    assert_eq!(base(&pod), base(&local));
    let out_mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert!(flag(&pod, "--out").starts_with(&format!("{out_mount}/")), "shards write to the shared volume");
}

#[test]
fn the_readme_sweep_command_runs_its_first_shard() {
    // the example's command line is one coldcost accepts (an hour, one replication, to be quick)
    let (local, shards) = parallel_example();
    let d = Dir::new();
    let mut args: Vec<String> = local[1..]
        .iter()
        .map(|w| w.replace("{}", "1"))
        .map(|w| if w.starts_with("scenarios/") { repo().join(&w).display().to_string() } else { w })
        .collect();
    let out = args.iter().position(|w| w == "--out").unwrap();
    args[out + 1] = d.path().join("shard-1").display().to_string();
    args.extend(["--set", "simulation.horizon=1h", "--replications", "1", "--quiet"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = d.run_in("", &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let points = std::fs::read_to_string(d.path().join("shard-1/points.csv")).unwrap();
    // 64 × 3 setups, every 16th: 12
    assert_eq!(points.lines().count() - 1, 64 * 3 / shards as usize);
}
