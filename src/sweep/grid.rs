//! The grid of a sweep: `--vary KEY=VALUES` flags (a list `512MB,1GB,2GB`, or an inclusive
//! integer range `0..8` or `0..64:8`), their product in flag order (the last key varies
//! fastest), and the slice of it a shard runs.

use crate::error::InputError;

/// One varied key and its values, as the user wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

/// Parse one `--vary` flag.
pub fn parse_vary(flag: &str) -> Result<Axis, InputError> {
    let bad = |msg: String| InputError::new("--vary", flag, msg);
    let (key, vals) = flag.split_once('=').ok_or_else(|| {
        bad("expected KEY=VALUES, e.g. function.api.reserved=0..8 or function.api.memory=512MB,1GB".into())
    })?;
    let key = key.trim();
    if key.is_empty() || vals.trim().is_empty() {
        return Err(bad("expected KEY=VALUES with a key and at least one value".into()));
    }
    let vals = vals.trim();
    let values = match range(vals) {
        Some(r) => r.map_err(bad)?,
        None => vals.split(',').map(|v| v.trim().to_string()).collect(),
    };
    if values.iter().any(|v| v.is_empty()) {
        return Err(bad(format!("an empty value in {vals:?}; separate values with commas")));
    }
    let mut seen = values.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != values.len() {
        return Err(bad(format!("a value is repeated in {vals:?}")));
    }
    Ok(Axis { key: key.to_string(), values })
}

/// `a..b` or `a..b:step` (integers, inclusive); `None` when the text is not a range.
fn range(text: &str) -> Option<Result<Vec<String>, String>> {
    let (a, rest) = text.split_once("..")?;
    if text.contains(',') {
        return None;
    }
    let (b, step) = match rest.split_once(':') {
        Some((b, s)) => (b, Some(s)),
        None => (rest, None),
    };
    let parse = |s: &str, what: &str| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| format!("range {text:?}: {what} {s:?} is not an integer (ranges are a..b or a..b:step)"))
    };
    Some((|| {
        let (a, b) = (parse(a, "start")?, parse(b, "end")?);
        let step = match step {
            Some(s) => parse(s, "step")?,
            None => 1,
        };
        if step <= 0 {
            return Err(format!("range {text:?}: the step must be at least 1"));
        }
        if b < a {
            return Err(format!("range {text:?}: the end is below the start"));
        }
        let n = (b - a) / step + 1;
        if n > 100_000 {
            return Err(format!("range {text:?} has {n} values; at most 100000"));
        }
        Ok((0..n).map(|k| (a + k * step).to_string()).collect())
    })())
}

/// The number of setups of `axes`, computed without building the grid: a key varied twice,
/// or a grid beyond [`crate::limits::MAX_SETUPS`] (each setup is a whole simulation), is
/// refused with the size it would have.
pub fn size(axes: &[Axis]) -> Result<usize, InputError> {
    for (k, a) in axes.iter().enumerate() {
        if let Some(first) = axes[..k].iter().position(|b| b.key == a.key) {
            return Err(InputError::new(
                "--vary",
                &a.key,
                format!(
                    "this key is varied twice (flags {} and {}); give all its values in one --vary",
                    first + 1,
                    k + 1
                ),
            ));
        }
    }
    let total = axes.iter().try_fold(1u128, |n, a| n.checked_mul(a.values.len() as u128)).unwrap_or(u128::MAX);
    if total > crate::limits::MAX_SETUPS {
        let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        return Err(InputError::new(
            "--vary",
            "",
            format!(
                "the grid has {} setups ({}); at most {} are allowed, each is a whole simulation: vary fewer values",
                if total == u128::MAX { "more than 10^38".to_string() } else { total.to_string() },
                sizes.join(" × "),
                crate::limits::MAX_SETUPS
            ),
        ));
    }
    Ok(total as usize)
}

/// Setup `i` of the grid (the last key varies fastest): its `--set` overrides and values.
pub fn setup(axes: &[Axis], i: usize) -> (Vec<String>, Vec<String>) {
    let mut rest = i;
    let mut values = vec![String::new(); axes.len()];
    for (k, a) in axes.iter().enumerate().rev() {
        values[k] = a.values[rest % a.values.len()].clone();
        rest /= a.values.len();
    }
    let sets = axes.iter().zip(&values).map(|(a, v)| format!("{}={}", a.key, v)).collect();
    (sets, values)
}

/// Every combination, in order: (index, the `--set` overrides, the values).
pub fn expand(axes: &[Axis]) -> Vec<(usize, Vec<String>, Vec<String>)> {
    let total: usize = axes.iter().map(|a| a.values.len()).product();
    (0..total)
        .map(|i| {
            let (sets, values) = setup(axes, i);
            (i, sets, values)
        })
        .collect()
}

/// `K/N`: shard K (1-based) of N.
pub fn parse_shard(text: &str) -> Result<(usize, usize), InputError> {
    let bad = || InputError::new("--shard", text, "expected K/N with 1 ≤ K ≤ N, e.g. 2/8");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Whether shard `k` of `n` runs point `index` (points are dealt round-robin).
pub fn in_shard(index: usize, shard: Option<(usize, usize)>) -> bool {
    match shard {
        None => true,
        Some((k, n)) => index % n == k - 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_inclusive_ranges_expand() {
        assert_eq!(parse_vary("a.b=512MB,1GB, 2GB").unwrap().values, vec!["512MB", "1GB", "2GB"]);
        assert_eq!(parse_vary("r=0..3").unwrap().values, vec!["0", "1", "2", "3"]);
        assert_eq!(parse_vary("r=0..64:8").unwrap().values.len(), 9);
        assert_eq!(parse_vary("r=0..63:8").unwrap().values.last().unwrap(), "56");
        assert_eq!(parse_vary("r=5..5").unwrap().values, vec!["5"]);
    }

    #[test]
    fn bad_grids_say_what_is_wrong() {
        for (flag, fragment) in [
            ("novalue", "KEY=VALUES"),
            ("k=", "at least one value"),
            ("k=3..1", "below the start"),
            ("k=0..8:0", "step"),
            ("k=a..b", "not an integer"),
            ("k=1,,2", "empty value"),
            ("k=1,1", "repeated"),
        ] {
            let e = parse_vary(flag).unwrap_err();
            assert!(e.to_string().contains(fragment), "{flag}: {e}");
        }
    }

    #[test]
    fn the_grid_is_the_product_with_the_last_key_fastest() {
        let axes = vec![parse_vary("a=1,2").unwrap(), parse_vary("b=x,y,z").unwrap()];
        let g = expand(&axes);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0].1, vec!["a=1", "b=x"]);
        assert_eq!(g[1].2, vec!["1", "y"]);
        assert_eq!(g[3].2, vec!["2", "x"]);
        assert_eq!(g[5].0, 5);
    }

    #[test]
    fn shards_partition_the_grid() {
        let n = 3;
        for i in 0..10 {
            assert_eq!((1..=n).filter(|&k| in_shard(i, Some((k, n)))).count(), 1);
        }
        assert!(parse_shard("0/3").is_err() && parse_shard("4/3").is_err() && parse_shard("x").is_err());
        assert_eq!(parse_shard("2/3").unwrap(), (2, 3));
    }
}
