//! Number formats for reports: exact where the value is exact (µs → seconds with six
//! decimals by integer arithmetic, in [`crate::units`]), fixed decimals elsewhere, so files are byte-identical
//! across runs and readable by any CSV tool.

pub use crate::units::{format_millis as ms, format_secs as secs};

/// A float with `d` decimals; NaN (no data) as an empty field.
pub fn float(x: f64, d: usize) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.d$}")
    }
}

/// A text field for a CSV row, quoted only when it must be.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
