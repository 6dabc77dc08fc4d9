//! Number formats for reports: exact where the value is exact (µs → seconds with six
//! decimals by integer arithmetic, in [`crate::units`]), fixed decimals elsewhere, so files are byte-identical
//! across runs and readable by any CSV tool.

pub use crate::units::{format_millis as ms, format_secs as secs, push_millis, push_secs};

/// A float with `d` decimals; NaN (no data) as an empty field.
pub fn float(x: f64, d: usize) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.d$}")
    }
}

/// `num / (k · 10⁶)` with six decimals, written as [`float`] writes the same quotient
/// computed in floating point (`to_f64`), byte for byte — by integer arithmetic where that is
/// sure to agree: the value is below 10⁶ (there a double is within 10⁻¹⁰ of it, and every
/// quotient that is not a tie lies at least 1/k · 10⁻⁶ from a rounding boundary) and it is not
/// an exact tie (remainder k/2, where the double's own error decides). Elsewhere it writes
/// `float(to_f64(), 6)`. GB·s are MB·µs over 1,024 · 10⁹ (k = 1,024), vCPU·s milli-vCPU·µs over
/// 10⁹ (k = 1,000): an instances.csv row has eight of them, and the exact formatting of
/// doubles was most of the cost of writing one.
pub fn write_micro_quotient(
    out: &mut impl std::fmt::Write,
    num: u128,
    k: u128,
    to_f64: impl FnOnce() -> f64,
) -> std::fmt::Result {
    let (q, r) = (num / k, num % k);
    if q < 1_000_000_000_000 && 2 * r != k {
        let micros = q + u128::from(2 * r > k);
        write!(out, "{}.{:06}", micros / 1_000_000, micros % 1_000_000)
    } else {
        out.write_str(&float(to_f64(), 6))
    }
}

/// [`csv_field`] appended to `out` (allocating only for a name that needs quotes).
pub fn push_csv_field(out: &mut Vec<u8>, s: &str) {
    if needs_quotes(s) {
        out.extend_from_slice(csv_field(s).as_bytes());
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// A text field for a CSV row, quoted only when it must be.
pub fn csv_field(s: &str) -> String {
    if needs_quotes(s) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn needs_quotes(s: &str) -> bool {
    s.contains([',', '"', '\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::mb_us_to_gbs;
    use proptest::prelude::*;

    fn quotient(num: u128, k: u128, f: impl FnOnce() -> f64) -> String {
        let mut s = String::new();
        write_micro_quotient(&mut s, num, k, f).unwrap();
        s
    }

    proptest! {
        /// The integer path writes what the floating-point one writes, ties and large values
        /// included (they take the floating-point path).
        #[test]
        fn micro_quotients_match_the_float_formatting(
            base in prop_oneof![0u128..5_000_000, 0u128..1u128 << 50, 0u128..1u128 << 60, Just(0u128)],
            rem in 0u128..1024,
        ) {
            let gb = base / 1024 * 1024 + rem;
            prop_assert_eq!(quotient(gb, 1024, || mb_us_to_gbs(gb)), float(mb_us_to_gbs(gb), 6));
            let m = base / 1000 * 1000 + rem % 1000;
            prop_assert_eq!(quotient(m, 1000, || m as f64 / 1e9), float(m as f64 / 1e9, 6));
        }
    }

    #[test]
    fn micro_quotients_at_the_edges() {
        for num in [0u128, 511, 512, 513, 1023, 1024, 1_024_000_000, 1_024_000_000_000_000_000 - 1, 1u128 << 62] {
            assert_eq!(quotient(num, 1024, || mb_us_to_gbs(num)), float(mb_us_to_gbs(num), 6), "{num}");
        }
        assert_eq!(quotient(1_024_000_000, 1024, || unreachable!()), "1.000000");
        assert_eq!(quotient(1_501, 1000, || unreachable!()), "0.000002");
        assert_eq!(quotient(1_500, 1000, || 1_500.0 / 1e9), float(1_500.0 / 1e9, 6), "a tie: the float path");
    }

    #[test]
    fn seconds_and_milliseconds_are_exact() {
        assert_eq!(secs(10_000_000), "10.000000");
        assert_eq!(secs(1), "0.000001");
        assert_eq!(ms(1_234_567), "1234.567");
        assert_eq!(float(f64::NAN, 3), "");
        assert_eq!(float(0.1234567, 3), "0.123");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
