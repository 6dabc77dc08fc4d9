//! The known keys of every table of a scenario (and of a calibration profile), as one static
//! tree, and the walk that checks a parsed [`toml::Table`] against it before serde sees it:
//! unknown keys (with a did-you-mean), tables where values are expected and the reverse,
//! unknown `dist` / `kind` / `pick` names. `--set` resolves its paths against the same tree,
//! so a key that is valid but absent from the file can still be set.

use toml::{Table, Value};

use crate::input::{choices, describe, elem_path, join, list, section_name};

/// What may appear under a key.
#[derive(Debug)]
pub enum Node {
    /// A scalar (or array of scalars) that validation checks.
    Leaf,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// A table with these keys.
    Table(&'static [Key]),
    /// An array of tables with these keys; `named` elements are addressed by their `name`
    /// (`function.api`), the others by index (`workload[0]`).
    Tables { keys: &'static [Key], named: bool },
    /// A table whose `tag` key picks the allowed keys (`dist`, `kind`); `plain` also allows a
    /// plain value (a duration string for a fixed distribution). `open` variants take any key.
    Tagged {
        tag: &'static str,
        variants: &'static [(&'static str, &'static [&'static str])],
        plain: bool,
        open: &'static [&'static str],
        example: &'static str,
    },
    /// An integer, or an array of tables with these keys (the reserved schedule).
    CountOrSteps(&'static [Key]),
}

#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub node: Node,
}

const fn leaf(name: &'static str) -> Key {
    Key { name, node: Node::Leaf }
}

const DIST: Node = Node::Tagged {
    tag: "dist",
    variants: &[
        ("fixed", &["value"]),
        ("exp", &["mean"]),
        ("lognormal", &["median", "p99", "mu", "sigma"]),
        ("gamma", &["shape", "mean", "scale"]),
        ("weibull", &["shape", "scale"]),
        ("pareto", &["shape", "scale"]),
        ("empirical", &["percentiles", "values"]),
    ],
    plain: true,
    open: &[],
    example: "{ dist = \"lognormal\", median = \"800ms\", p99 = \"3s\" }",
};

const ARRIVALS: Node = Node::Tagged {
    tag: "kind",
    variants: &[
        ("poisson", &["rate"]),
        ("diurnal", &["mean", "peak_ratio", "period", "phase", "peak", "trough", "peak_at"]),
        ("hourly", &["rates"]),
        ("counts", &["path", "bucket"]),
        ("bursty", &["on_rate", "off_rate", "mean_on", "mean_off"]),
        ("constant", &["interval"]),
        ("trace", super::trace::KEYS),
    ],
    plain: false,
    open: &[],
    example: "{ kind = \"poisson\", rate = \"2/s\" }",
};

pub const SIMULATION: &[Key] = &[
    leaf("name"),
    leaf("horizon"),
    leaf("seed"),
    leaf("replications"),
    leaf("bucket"),
    leaf("warm_start"),
    leaf("warmup"),
    leaf("start"),
];

/// The platform-wide switch replaced by `image.acceleration`: still known, so that its use is
/// answered with what replaced it rather than "unknown key".
pub const ACCELERATION: &[Key] = &[leaf("enabled"), leaf("fetch_fraction")];

pub const PULL_MODES: &[&str] = &["full", "lazy"];

pub const LAZY: &[Key] = &[leaf("index_fraction"), leaf("read_fraction")];

/// `platform.pull.distribution`: where a host gets a layer from.
pub const DISTRIBUTIONS: &[&str] = &["registry", "p2p"];

pub const P2P: &[Key] = &[leaf("fanout")];

pub const PULL: &[Key] = &[
    leaf("host_bandwidth"),
    leaf("registry_bandwidth"),
    leaf("layer_overhead"),
    leaf("manifest"),
    leaf("extract_rate"),
    leaf("extract_per_file"),
    leaf("extract_overhead"),
    leaf("parallel_layers"),
    Key { name: "mode", node: Node::Choice(PULL_MODES) },
    Key { name: "lazy", node: Node::Table(LAZY) },
    Key { name: "acceleration", node: Node::Table(ACCELERATION) },
    leaf("profile"),
    Key { name: "distribution", node: Node::Choice(DISTRIBUTIONS) },
    Key { name: "p2p", node: Node::Table(P2P) },
];

pub const PICKS: &[&str] = &["mru", "newest", "least-loaded", "random"];

pub const PLATFORM: &[Key] = &[
    leaf("provider"),
    leaf("pricing"),
    leaf("keep_alive"),
    Key { name: "pick", node: Node::Choice(PICKS) },
    leaf("hosts"),
    leaf("host_memory"),
    leaf("cache_capacity"),
    leaf("cache_ttl"),
    leaf("ready_timeout"),
    Key { name: "container_create", node: DIST },
    Key { name: "pull", node: Node::Table(PULL) },
];

pub const LAYER: &[Key] = &[leaf("compressed"), leaf("uncompressed"), leaf("files"), leaf("id")];

pub const IMAGE: &[Key] = &[
    leaf("name"),
    Key { name: "layers", node: Node::Tables { keys: LAYER, named: false } },
    leaf("size"),
    leaf("layer_count"),
    leaf("uncompressed_ratio"),
    leaf("acceleration"),
    leaf("accelerated_from"),
];

pub const GPU: &[Key] = &[leaf("kind"), leaf("memory"), leaf("idle_mode")];
pub const RESERVED_STEP: &[Key] = &[leaf("at"), leaf("count")];

pub const FUNCTION: &[Key] = &[
    leaf("name"),
    leaf("image"),
    leaf("memory"),
    leaf("vcpu"),
    leaf("disk"),
    Key { name: "gpu", node: Node::Table(GPU) },
    leaf("concurrency"),
    leaf("max_instances"),
    Key { name: "reserved", node: Node::CountOrSteps(RESERVED_STEP) },
    leaf("queue"),
    leaf("queue_timeout"),
    leaf("timeout"),
    Key { name: "startup", node: DIST },
    Key { name: "exec", node: DIST },
    leaf("keep_alive"),
    Key { name: "cold_service", node: DIST },
    leaf("cpu_fraction"),
    leaf("threads"),
    leaf("exec_vcpu"),
];

pub const WORKLOAD: &[Key] = &[leaf("function"), Key { name: "arrivals", node: ARRIVALS }, leaf("from"), leaf("until")];

/// The top level of a scenario file.
pub const GOALS: &[Key] = &[
    leaf("p50"),
    leaf("p90"),
    leaf("p95"),
    leaf("p99"),
    leaf("p999"),
    leaf("cold_p99"),
    leaf("cold_ratio"),
    leaf("error_ratio"),
];

pub const ROOT: &[Key] = &[
    Key { name: "simulation", node: Node::Table(SIMULATION) },
    Key { name: "platform", node: Node::Table(PLATFORM) },
    Key { name: "image", node: Node::Tables { keys: IMAGE, named: true } },
    Key { name: "function", node: Node::Tables { keys: FUNCTION, named: true } },
    Key { name: "workload", node: Node::Tables { keys: WORKLOAD, named: false } },
    Key { name: "goals", node: Node::Table(GOALS) },
];

/// A calibration profile's `[pull]`: the pull keys that are measurements.
pub const PROFILE_PULL: &[Key] = &[
    leaf("host_bandwidth"),
    leaf("registry_bandwidth"),
    leaf("layer_overhead"),
    leaf("manifest"),
    leaf("extract_rate"),
    leaf("extract_per_file"),
    leaf("extract_overhead"),
    leaf("parallel_layers"),
];

/// The top level of a calibration profile.
pub const PROFILE_ROOT: &[Key] =
    &[Key { name: "pull", node: Node::Table(PROFILE_PULL) }, Key { name: "container_create", node: DIST }];

/// A schema failure: the key path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

fn problem(path: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem { path: path.into(), message: message.into() }
}

fn name_of(t: &Table) -> Option<&str> {
    t.get("name").and_then(Value::as_str)
}

/// The problem of a key `name` that is not among `allowed` in the table at `path` (a
/// section at the top level): a did-you-mean and the allowed keys.
pub fn unknown_key<'a, I>(path: &str, name: &str, allowed: I) -> Problem
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    let what = if path.is_empty() { "section" } else { "key" };
    problem(
        join(path, name),
        format!("unknown {what} `{name}` in {}{}", section_name(path), choices(name, allowed, "allowed")),
    )
}

/// The key of `keys` named `name` in the table at `path`, or the problem that it is unknown.
/// The file's check and `--set` find keys alike.
pub fn find_key<'k>(keys: &'k [Key], name: &str, path: &str) -> Result<&'k Key, Problem> {
    keys.iter().find(|k| k.name == name).ok_or_else(|| unknown_key(path, name, keys.iter().map(|k| k.name)))
}

/// Checks `table` (at `path`) against `keys`; the first problem found, in key order.
pub fn check(table: &Table, keys: &[Key], path: &str) -> Result<(), Problem> {
    for (k, v) in table {
        let key = find_key(keys, k, path)?;
        check_node(v, &key.node, &join(path, k), k)?;
    }
    Ok(())
}

fn check_node(v: &Value, node: &Node, here: &str, key: &str) -> Result<(), Problem> {
    match node {
        Node::Leaf => match v {
            Value::Table(_) => Err(problem(
                here,
                format!("`{key}` takes a single value, not a table"),
            )),
            _ => Ok(()),
        },
        Node::Choice(options) => match v {
            Value::String(s) if options.contains(&s.as_str()) => Ok(()),
            Value::String(s) => Err(problem(
                here,
                format!(
                    "unknown {key} \"{s}\"{}",
                    choices(s, options.iter().copied(), "allowed")
                ),
            )),
            other => Err(problem(
                here,
                format!("{key} is one of {}; found {}", list(options.iter().copied()), describe(other)),
            )),
        },
        Node::Table(keys) => match v {
            Value::Table(t) => check(t, keys, here),
            other => Err(problem(
                here,
                format!(
                    "`{key}` must be a table (keys: {}); found {}",
                    list(keys.iter().map(|k| k.name)),
                    describe(other)
                ),
            )),
        },
        Node::Tables { keys, named } => {
            let Value::Array(items) = v else {
                let hint = if matches!(v, Value::Table(_)) {
                    format!(": write [[{here}]] (double brackets), one per {key}")
                } else {
                    String::new()
                };
                return Err(problem(
                    here,
                    format!("`{key}` must be an array of tables{hint}; found {}", describe(v)),
                ));
            };
            for (i, item) in items.iter().enumerate() {
                let Value::Table(t) = item else {
                    return Err(problem(
                        format!("{here}[{i}]"),
                        format!("each element of `{key}` must be a table; found {}", describe(item)),
                    ));
                };
                let name = if *named { name_of(t) } else { None };
                check(t, keys, &elem_path(here, i, name))?;
            }
            Ok(())
        }
        Node::Tagged { tag, variants, plain, open, example } => {
            let Value::Table(t) = v else {
                if *plain {
                    return Ok(());
                }
                return Err(problem(
                    here,
                    format!("`{key}` must be a table such as {example}; found {}", describe(v)),
                ));
            };
            let names = || variants.iter().map(|(n, _)| *n);
            let chosen = match t.get(*tag) {
                None => {
                    let plain_hint = if *plain {
                        " (or a plain duration such as \"200ms\" for a fixed value)"
                    } else {
                        ""
                    };
                    return Err(problem(
                        join(here, tag),
                        format!(
                            "`{key}` needs `{tag} = \"...\"`, one of {}{plain_hint}; e.g. {key} = {example}",
                            list(names())
                        ),
                    ));
                }
                Some(Value::String(s)) => s.as_str(),
                Some(other) => {
                    return Err(problem(
                        join(here, tag),
                        format!("`{tag}` is one of {}; found {}", list(names()), describe(other)),
                    ))
                }
            };
            let Some((_, allowed)) = variants.iter().find(|(n, _)| *n == chosen) else {
                return Err(problem(
                    join(here, tag),
                    format!(
                        "unknown {tag} \"{chosen}\"{}",
                        choices(chosen, names(), "allowed")
                    ),
                ));
            };
            if open.contains(&chosen) {
                return Ok(());
            }
            for (k, val) in t {
                if k == tag {
                    continue;
                }
                if !allowed.contains(&k.as_str()) {
                    let mut all: Vec<&str> = vec![tag];
                    all.extend(allowed.iter().copied());
                    return Err(problem(
                        join(here, k),
                        format!(
                            "unknown key `{k}` for {tag} \"{chosen}\" in {}{}",
                            section_name(here),
                            choices(k, all.iter().copied(), "allowed")
                        ),
                    ));
                }
                if let Value::Table(_) = val {
                    return Err(problem(
                        join(here, k),
                        format!("`{k}` takes a single value, not a table"),
                    ));
                }
            }
            Ok(())
        }
        Node::CountOrSteps(keys) => match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let Value::Table(t) = item else {
                        return Err(problem(
                            format!("{here}[{i}]"),
                            format!(
                                "each step of `{key}` must be a table like {{ at = \"08:00\", count = 2 }}; found {}",
                                describe(item)
                            ),
                        ));
                    };
                    check(t, keys, &format!("{here}[{i}]"))?;
                }
                Ok(())
            }
            Value::Table(_) => Err(problem(
                here,
                format!(
                    "`{key}` is a count (e.g. {key} = 2) or a list of steps (e.g. {key} = [{{ at = \"08:00\", count = 2 }}]); found a table"
                ),
            )),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_str(text: &str) -> Result<(), Problem> {
        let t: Table = text.parse().unwrap();
        check(&t, ROOT, "")
    }

    /// The problem `text` has, checked to be at `path` and to say `fragment`.
    fn rejected(text: &str, path: &str, fragment: &str) -> Problem {
        let p = check_str(text).expect_err(text);
        assert_eq!(p.path, path, "{}", p.message);
        assert!(p.message.contains(fragment), "lacks {fragment:?}: {}", p.message);
        p
    }

    #[test]
    fn a_misspelt_key_gets_a_suggestion_and_the_allowed_list() {
        let p = rejected("[platform]\nhots = 3\n", "platform.hots", "allowed: provider, pricing, keep_alive");
        assert!(p.message.starts_with("unknown key `hots` in [platform]; did you mean `hosts`?"), "{}", p.message);
    }

    #[test]
    fn a_key_far_from_every_known_key_gets_no_suggestion() {
        let p = rejected("[simulation]\nzzzzqqq = 1\n", "simulation.zzzzqqq", "unknown key");
        assert!(!p.message.contains("did you mean"), "{}", p.message);
    }

    #[test]
    fn an_unknown_section_is_named_as_a_section() {
        rejected(
            "[simulaton]\nhorizon = \"1d\"\n",
            "simulaton",
            "unknown section `simulaton` in the top level; did you mean `simulation`?",
        );
    }

    #[test]
    fn keys_inside_named_elements_have_named_paths() {
        rejected("[[function]]\nname = \"api\"\nmemroy = \"1GB\"\n", "function.api.memroy", "did you mean `memory`?");
        rejected("[[workload]]\nfucntion = \"api\"\n", "workload[0].fucntion", "unknown key");
    }

    #[test]
    fn a_single_bracket_table_where_an_array_is_expected_says_to_double_them() {
        rejected("[function]\nname = \"api\"\n", "function", "[[function]]");
    }

    #[test]
    fn distribution_keys_depend_on_the_dist() {
        let f = |exec: &str| format!("[[function]]\nname = \"a\"\nexec = {exec}\n");
        rejected(&f("{ dist = \"exp\", median = \"1s\" }"), "function.a.exec.median", "for dist \"exp\"");
        rejected(&f("{ dist = \"lognorm\" }"), "function.a.exec.dist", "did you mean `lognormal`?");
        rejected(&f("{ mean = \"1s\" }"), "function.a.exec.dist", "needs `dist = \"...\"`");
    }

    #[test]
    fn trace_arrivals_have_their_own_keys() {
        check_str("[[workload]]\narrivals = { kind = \"trace\", format = \"azure2019\", path = \"x\" }\n").unwrap();
        rejected(
            "[[workload]]\narrivals = { kind = \"trace\", format = \"csv\", skip_bad_row = true }\n",
            "workload[0].arrivals.skip_bad_row",
            "did you mean `skip_bad_rows`?",
        );
    }

    #[test]
    fn an_unknown_pick_gets_a_suggestion() {
        rejected("[platform]\npick = \"least_loaded\"\n", "platform.pick", "did you mean `least-loaded`?");
    }

    #[test]
    fn reserved_steps_have_indexed_paths() {
        rejected(
            "[[function]]\nname = \"a\"\nreserved = [{ at = \"08:00\", cnt = 1 }]\n",
            "function.a.reserved[0].cnt",
            "cnt",
        );
    }

    #[test]
    fn names_that_cannot_stand_in_a_path_fall_back_to_indexes() {
        assert_eq!(elem_path("function", 2, Some("api")), "function.api");
        assert_eq!(elem_path("function", 2, Some("a.b")), "function[2]");
        assert_eq!(elem_path("function", 2, Some("7")), "function[2]");
        assert_eq!(elem_path("function", 2, None), "function[2]");
    }
}
