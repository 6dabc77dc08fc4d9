//! How calibration writes its numbers: durations and rates with four significant digits, in
//! the units a scenario file takes (`12.35ms`, `1.85Gbps`, `212.4MB/s`).

/// A duration with 4 significant digits in a readable unit: 0.0123 → "12.3ms".
pub fn dur(s: f64) -> String {
    let (v, unit) = if s >= 1.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else {
        (s * 1e6, "us")
    };
    format!("{}{unit}", sig4(v))
}

/// Four significant digits, trailing zeros trimmed.
pub fn sig4(v: f64) -> String {
    let decimals = if v >= 1000.0 {
        0
    } else if v >= 100.0 {
        1
    } else if v >= 10.0 {
        2
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A bandwidth in bits per second as the scenario writes it: `1.85Gbps`, `740Mbps`.
pub fn bandwidth(bytes_per_s: f64) -> String {
    let bits = bytes_per_s * 8.0;
    if bits >= 1e9 {
        format!("{}Gbps", sig4(bits / 1e9))
    } else if bits >= 1e6 {
        format!("{}Mbps", sig4(bits / 1e6))
    } else {
        format!("{}Kbps", sig4(bits / 1e3))
    }
}

/// A byte rate, binary MB: `212.4MB/s`.
pub fn byte_rate(bytes_per_s: f64) -> String {
    format!("{}MB/s", sig4(bytes_per_s / 1048576.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_written_in_the_scenarios_units() {
        assert_eq!(bandwidth(231.25e6), "1.85Gbps");
        assert_eq!(bandwidth(12.5e6), "100Mbps");
        assert_eq!(byte_rate(212.4 * 1048576.0), "212.4MB/s");
        assert_eq!(crate::units::parse_bandwidth("1.85Gbps").unwrap(), 231.25e6);
    }

    #[test]
    fn durations_print_with_four_significant_digits() {
        assert_eq!(dur(0.0123456), "12.35ms");
        assert_eq!(dur(1.5), "1.5s");
        assert_eq!(dur(0.000_25), "250us");
        assert_eq!(sig4(212.44), "212.4");
    }
}
