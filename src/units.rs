//! Units as users write them: durations (`150ms`, `7d`), times of day (`08:00`), binary sizes
//! (`512MB` = 512 × 1024² bytes), network bandwidth in decimal bits (`5Gbps`), byte rates
//! (`150MB/s`, binary) and request rates (`50/s`, `3/m`). Every parser returns `Err(String)`
//! saying what it found and what it accepts; callers add the key path. Parsing is exact
//! decimal arithmetic (no float rounding surprises: `1.1s` is 1 100 000 µs), rounded to the
//! nearest microsecond or byte. The `format_*` functions give the short forms used in messages
//! and reports.

/// Simulated time and durations, in integer microseconds.
pub type Micros = u64;

/// One microsecond-based constant per unit, so code reads `5 * MICROS_PER_SECOND`.
pub const MICROS_PER_MS: Micros = 1_000;
pub const MICROS_PER_SECOND: Micros = 1_000_000;
pub const MICROS_PER_MINUTE: Micros = 60 * MICROS_PER_SECOND;
pub const MICROS_PER_HOUR: Micros = 3_600 * MICROS_PER_SECOND;
pub const MICROS_PER_DAY: Micros = 86_400 * MICROS_PER_SECOND;

const US_PER_MS: u128 = MICROS_PER_MS as u128;
const US_PER_S: u128 = MICROS_PER_SECOND as u128;
const US_PER_MIN: u128 = MICROS_PER_MINUTE as u128;
const US_PER_H: u128 = MICROS_PER_HOUR as u128;
const US_PER_D: u128 = MICROS_PER_DAY as u128;

/// Longest duration accepted anywhere: 100 years (keeps every sum of times far from `u64::MAX`).
pub const MAX_DURATION: Micros = 36_500 * US_PER_D as u64;
/// Largest size accepted anywhere: 1024 TB (keeps sums of layer sizes far from `u64::MAX`).
pub const MAX_SIZE: u64 = 1 << 50;

const DURATION_UNITS: &str = "us, µs, ms, s, m (or min), h, d";
const SIZE_UNITS: &str = "B, KB, MB, GB, TB (binary: 1KB = 1024B; KiB, MiB, GiB, TiB mean the same)";
const BANDWIDTH_UNITS: &str = "bps, Kbps, Mbps, Gbps, Tbps (decimal bits per second)";
const BYTE_RATE_UNITS: &str = "B/s, KB/s, MB/s, GB/s, TB/s (binary; KiB/s etc. mean the same)";
const RATE_UNITS: &str = "/s, /m (or /min), /h, /d";

/// A non-negative decimal number as written: integer part and the digits after the point.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Decimal {
    int: u128,
    /// Fraction digits as an integer (`frac / 10^frac_digits`), at most 18 digits kept.
    frac: u128,
    frac_digits: u32,
}

impl Decimal {
    /// `self × unit`, rounded to the nearest integer (halves away from zero); `None` on overflow.
    fn times(self, unit: u128) -> Option<u128> {
        let whole = self.int.checked_mul(unit)?;
        let scale = 10u128.pow(self.frac_digits);
        let part = (self.frac * unit + scale / 2) / scale;
        whole.checked_add(part)
    }

    fn to_f64(self) -> f64 {
        self.int as f64 + self.frac as f64 / 10f64.powi(self.frac_digits as i32)
    }
}

/// Splits `s` into its leading number and the unit after it (spaces between are allowed).
/// Errors name `what` (e.g. "duration") and show an example.
fn split_number<'a>(s: &'a str, what: &str, example: &str) -> Result<(Decimal, &'a str), String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("an empty string is not a {what}; write e.g. \"{example}\""));
    }
    if t.starts_with('-') {
        return Err(format!("\"{s}\" is negative; a {what} must be 0 or more, e.g. \"{example}\""));
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let end = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(end);
    let unit = unit.trim();
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return Err(format!("\"{s}\" does not start with a number; a {what} looks like \"{example}\""));
    }
    let (int_str, frac_str) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    let mut int: u128 = 0;
    for c in int_str.bytes() {
        int = int
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(c - b'0')))
            .ok_or_else(|| format!("\"{s}\" is too large for a {what}"))?;
        if int > 1_000_000_000_000_000_000_000 {
            return Err(format!("\"{s}\" is too large for a {what}"));
        }
    }
    let mut frac: u128 = 0;
    let mut frac_digits = 0;
    for c in frac_str.bytes().take(18) {
        frac = frac * 10 + u128::from(c - b'0');
        frac_digits += 1;
    }
    Ok((Decimal { int, frac, frac_digits }, unit))
}

fn bare_number_error(s: &str, what: &str, example: &str, units: &str) -> String {
    format!("\"{s}\" has no unit; a {what} needs a unit, e.g. \"{example}\" (units: {units})")
}

/// A duration such as `150ms`, `2m`, `7d`, `1.5s`, `250us`/`250µs`, `0s`, `1h`, in µs.
/// Units: us, µs, ms, s, m, min, h, d (case-insensitive). Decimals are allowed and rounded to
/// the nearest µs. A bare number is an error: `"600"` could mean anything.
pub fn parse_duration(s: &str) -> Result<Micros, String> {
    let (num, unit) = split_number(s, "duration", "600s")?;
    let per = match unit.to_ascii_lowercase().as_str() {
        "us" | "µs" | "μs" => 1,
        "ms" => US_PER_MS,
        "s" | "sec" => US_PER_S,
        "m" | "min" => US_PER_MIN,
        "h" => US_PER_H,
        "d" => US_PER_D,
        "" => return Err(bare_number_error(s, "duration", "600s", DURATION_UNITS)),
        other => {
            return Err(format!("\"{s}\" has an unknown duration unit \"{other}\"; allowed units: {DURATION_UNITS}"))
        }
    };
    match num.times(per) {
        Some(us) if us <= u128::from(MAX_DURATION) => Ok(us as Micros),
        _ => Err(format!("\"{s}\" is too long; durations are at most 100 years (36500d)")),
    }
}

/// A time of day `HH:MM` or `HH:MM:SS` (24-hour clock, 00:00 to 23:59:59), in µs after
/// midnight.
pub fn parse_time_of_day(s: &str) -> Result<Micros, String> {
    let bad =
        || format!("\"{s}\" is not a time of day; write \"HH:MM\" or \"HH:MM:SS\" on a 24-hour clock, e.g. \"08:00\"");
    let parts: Vec<&str> = s.trim().split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(bad());
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        nums[i] = p.parse().map_err(|_| bad())?;
    }
    let [h, m, sec] = nums;
    if h > 23 || m > 59 || sec > 59 {
        return Err(format!(
            "\"{s}\" is out of range; a time of day runs from 00:00 to 23:59:59 (hours 0-23, minutes and seconds 0-59)"
        ));
    }
    Ok(((h * 60 + m) * 60 + sec) * US_PER_S as u64)
}

/// A size in bytes: `512MB`, `1.1GB`, `30KB`, `0B`. Units are binary (1KB = 1024B,
/// 1MB = 1024²B, ...), `KiB`/`MiB`/`GiB`/`TiB` mean the same; case-insensitive. Rounded to the
/// nearest byte.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (num, unit) = split_number(s, "size", "512MB")?;
    let per: u128 = match unit.to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" | "kib" => 1 << 10,
        "mb" | "mib" => 1 << 20,
        "gb" | "gib" => 1 << 30,
        "tb" | "tib" => 1 << 40,
        "" => return Err(bare_number_error(s, "size", "512MB", SIZE_UNITS)),
        other => {
            let hint =
                if other.ends_with("bps") || other.ends_with("/s") { " (that is a rate, not a size)" } else { "" };
            return Err(format!("\"{s}\" has an unknown size unit \"{other}\"{hint}; allowed units: {SIZE_UNITS}"));
        }
    };
    match num.times(per) {
        Some(b) if b <= u128::from(MAX_SIZE) => Ok(b as u64),
        _ => Err(format!("\"{s}\" is too large; sizes are at most 1024TB")),
    }
}

/// A network bandwidth in decimal bits per second (`5Gbps` = 5·10⁹ bit/s), returned in bytes
/// per second (`1Gbps` → 1.25·10⁸ B/s). Units: bps, Kbps, Mbps, Gbps, Tbps (also `Gbit/s`).
pub fn parse_bandwidth(s: &str) -> Result<f64, String> {
    let (num, unit) = split_number(s, "bandwidth", "5Gbps")?;
    let lower = unit.to_ascii_lowercase();
    let bits_per: f64 = match lower.as_str() {
        "bps" | "bit/s" => 1.0,
        "kbps" | "kbit/s" => 1e3,
        "mbps" | "mbit/s" => 1e6,
        "gbps" | "gbit/s" => 1e9,
        "tbps" | "tbit/s" => 1e12,
        "" => return Err(bare_number_error(s, "bandwidth", "5Gbps", BANDWIDTH_UNITS)),
        other => {
            if let Ok(bytes) = parse_byte_rate(s) {
                return Err(format!(
                    "\"{s}\" is in bytes per second; network bandwidth is written in bits per second, e.g. \"{}Mbps\" for {s}",
                    format_number(bytes * 8.0 / 1e6)
                ));
            }
            return Err(format!("\"{s}\" has an unknown bandwidth unit \"{other}\"; allowed units: {BANDWIDTH_UNITS}"));
        }
    };
    finite_rate(num.to_f64() * bits_per / 8.0, s, "bandwidth")
}

/// A byte rate such as `150MB/s`, binary (1MB/s = 1024² B/s), in bytes per second.
/// Units: B/s, KB/s, MB/s, GB/s, TB/s, and KiB/s ... TiB/s (the same); case-insensitive.
pub fn parse_byte_rate(s: &str) -> Result<f64, String> {
    let (num, unit) = split_number(s, "byte rate", "150MB/s")?;
    let lower = unit.to_ascii_lowercase().replace(' ', "");
    let Some(size_unit) = lower.strip_suffix("/s") else {
        if lower.is_empty() {
            return Err(bare_number_error(s, "byte rate", "150MB/s", BYTE_RATE_UNITS));
        }
        if lower.ends_with("bps") {
            return Err(format!(
                "\"{s}\" is in bits per second; this is a byte rate, e.g. \"150MB/s\" (units: {BYTE_RATE_UNITS})"
            ));
        }
        return Err(format!(
            "\"{s}\" is not a byte rate; write bytes per second, e.g. \"150MB/s\" (units: {BYTE_RATE_UNITS})"
        ));
    };
    let per: f64 = match size_unit {
        "b" => 1.0,
        "kb" | "kib" => 1024.0,
        "mb" | "mib" => 1024.0 * 1024.0,
        "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "\"{s}\" has an unknown byte-rate unit \"{other}/s\"; allowed units: {BYTE_RATE_UNITS}"
            ))
        }
    };
    finite_rate(num.to_f64() * per, s, "byte rate")
}

/// A request rate, returned per second: `50/s`, `0.9/s`, `3/m` (or `/min`), `10/h`, `2/d`.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let (num, unit) = split_number(s, "rate", "50/s")?;
    let Some(per) = unit.strip_prefix('/') else {
        if unit.is_empty() {
            return Err(bare_number_error(s, "rate", "50/s", RATE_UNITS));
        }
        return Err(format!(
            "\"{s}\" is not a request rate; write requests per time unit, e.g. \"50/s\" or \"3/m\" (units: {RATE_UNITS})"
        ));
    };
    let seconds: f64 = match per.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        other => return Err(format!("\"{s}\" has an unknown rate unit \"/{other}\"; allowed units: {RATE_UNITS}")),
    };
    finite_rate(num.to_f64() / seconds, s, "rate")
}

fn finite_rate(v: f64, s: &str, what: &str) -> Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("\"{s}\" is too large for a {what}"))
    }
}

/// Up to 3 decimals, trailing zeros trimmed: 1.5 → "1.5", 2.0 → "2", 0.1234 → "0.123".
fn format_number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `n / unit` written with at most `max_decimals` decimals if that is exact, else `None`.
fn exact_in(n: u128, unit: u128, max_decimals: u32) -> Option<String> {
    let whole = n / unit;
    let rest = n % unit;
    if rest == 0 {
        return Some(whole.to_string());
    }
    for d in 1..=max_decimals {
        let scaled = rest * 10u128.pow(d);
        if scaled % unit == 0 {
            let frac = scaled / unit;
            return Some(format!("{whole}.{frac:0width$}", width = d as usize));
        }
    }
    None
}

/// The shortest exact form among d, h, m, s, ms, µs (up to 6 decimals; ties go to the larger
/// unit): 150 000 → "150ms", 1 500 000 → "1.5s", 90 s → "90s", 600 s → "10m", 0 → "0s".
/// The result parses back to the same value with [`parse_duration`].
pub fn format_duration(us: Micros) -> String {
    if us == 0 {
        return "0s".to_string();
    }
    let n = u128::from(us);
    let units = [(US_PER_D, "d"), (US_PER_H, "h"), (US_PER_MIN, "m"), (US_PER_S, "s"), (US_PER_MS, "ms"), (1, "µs")];
    let mut best: Option<String> = None;
    for (unit, name) in units {
        if n < unit {
            continue;
        }
        if let Some(num) = exact_in(n, unit, 6) {
            let cand = format!("{num}{name}");
            if best.as_ref().is_none_or(|b| cand.chars().count() < b.chars().count()) {
                best = Some(cand);
            }
        }
    }
    best.unwrap_or_else(|| format!("{us}µs"))
}

/// A binary size with the largest unit that keeps it at least 1, up to 2 decimals, trailing
/// zeros trimmed: 1024³ → "1GB", 1.5·1024² → "1.5MB", 100 → "100B".
pub fn format_size(bytes: u64) -> String {
    let units = [(1u64 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")];
    for (i, (unit, name)) in units.iter().enumerate() {
        if bytes >= *unit {
            if bytes % unit == 0 {
                return format!("{}{name}", bytes / unit);
            }
            let v = bytes as f64 / *unit as f64;
            let rounded = (v * 100.0).round() / 100.0;
            if rounded >= 1024.0 && i > 0 {
                let (up, up_name) = units[i - 1];
                return format!("{}{up_name}", format_2(bytes as f64 / up as f64));
            }
            return format!("{}{name}", format_2(v));
        }
    }
    format!("{bytes}B")
}

/// µs as seconds with six decimals, exactly (integer arithmetic): 10 000 000 → "10.000000".
pub fn format_secs(us: Micros) -> String {
    format!("{}.{:06}", us / MICROS_PER_SECOND, us % MICROS_PER_SECOND)
}

/// µs as milliseconds with three decimals, exactly: 1 234 567 → "1234.567".
pub fn format_millis(us: Micros) -> String {
    format!("{}.{:03}", us / MICROS_PER_MS, us % MICROS_PER_MS)
}

/// [`format_secs`] appended to `out` (no `String` of its own: requests.csv has three per row).
pub fn push_secs(out: &mut Vec<u8>, us: Micros) {
    push_fixed(out, us, MICROS_PER_SECOND, 6);
}

/// [`format_millis`] appended to `out`.
pub fn push_millis(out: &mut Vec<u8>, us: Micros) {
    push_fixed(out, us, MICROS_PER_MS, 3);
}

/// `v / unit`, a point, then `v % unit` in `decimals` zero-padded digits (`unit` = 10^decimals).
fn push_fixed(out: &mut Vec<u8>, v: u64, unit: u64, decimals: usize) {
    out.extend_from_slice(itoa::Buffer::new().format(v / unit).as_bytes());
    out.push(b'.');
    let mut frac = v % unit;
    let mut digits = [b'0'; 6];
    for d in digits[..decimals].iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&digits[..decimals]);
}

fn format_2(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_every_unit() {
        assert_eq!(parse_duration("250us"), Ok(250));
        assert_eq!(parse_duration("250µs"), Ok(250));
        assert_eq!(parse_duration("150ms"), Ok(150_000));
        assert_eq!(parse_duration("1s"), Ok(1_000_000));
        assert_eq!(parse_duration("2m"), Ok(120_000_000));
        assert_eq!(parse_duration("2min"), Ok(120_000_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000_000));
        assert_eq!(parse_duration("7d"), Ok(7 * 86_400_000_000));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("150 MS"), Ok(150_000));
    }

    #[test]
    fn durations_take_decimals_exactly_and_round_to_the_nearest_microsecond() {
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000));
        assert_eq!(parse_duration("1.1s"), Ok(1_100_000));
        assert_eq!(parse_duration("2.244s"), Ok(2_244_000));
        assert_eq!(parse_duration("0.0004ms"), Ok(0));
        assert_eq!(parse_duration("0.0005ms"), Ok(1));
        assert_eq!(parse_duration("1.0000004s"), Ok(1_000_000));
        assert_eq!(parse_duration(".5s"), Ok(500_000));
        assert_eq!(parse_duration("5.s"), Ok(5_000_000));
    }

    #[test]
    fn a_bare_number_is_not_a_duration() {
        let e = parse_duration("600").unwrap_err();
        assert!(e.contains("needs a unit, e.g. \"600s\""), "{e}");
    }

    #[test]
    fn durations_reject_unknown_units_negatives_and_garbage() {
        let e = parse_duration("5 fortnights").unwrap_err();
        assert!(e.contains("unknown duration unit \"fortnights\"") && e.contains("ms"), "{e}");
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").unwrap_err().contains("does not start with a number"));
        assert!(parse_duration("1.2.3s").is_err());
        assert!(parse_duration("1e3s").is_err());
        assert!(parse_duration("nan s").is_err());
        assert!(parse_duration("99999999999999999999999999999999999d").is_err());
        assert!(parse_duration("36501d").unwrap_err().contains("100 years"));
    }

    #[test]
    fn times_of_day_are_microseconds_after_midnight() {
        assert_eq!(parse_time_of_day("08:00"), Ok(8 * 3_600_000_000));
        assert_eq!(parse_time_of_day("20:30"), Ok((20 * 60 + 30) * 60_000_000));
        assert_eq!(parse_time_of_day("08:00:30"), Ok((8 * 3600 + 30) * 1_000_000));
        assert_eq!(parse_time_of_day("0:05"), Ok(5 * 60_000_000));
        assert!(parse_time_of_day("24:00").unwrap_err().contains("out of range"));
        assert!(parse_time_of_day("12:60").is_err());
        assert!(parse_time_of_day("8").is_err());
        assert!(parse_time_of_day("8am").is_err());
        assert!(parse_time_of_day("08:00:00:00").is_err());
        assert!(parse_time_of_day("-1:00").is_err());
    }

    #[test]
    fn sizes_are_binary_in_every_unit() {
        assert_eq!(parse_size("0B"), Ok(0));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size("1KB"), Ok(1024));
        assert_eq!(parse_size("512MB"), Ok(512 << 20));
        assert_eq!(parse_size("1GB"), Ok(1 << 30));
        assert_eq!(parse_size("2TB"), Ok(2 << 40));
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        assert_eq!(parse_size("512mb"), Ok(512 << 20));
    }

    #[test]
    fn sizes_take_decimals_rounded_to_the_nearest_byte() {
        assert_eq!(parse_size("1.1GB"), Ok(1_181_116_006)); // 1.1 × 1024³ = 1181116006.4
        assert_eq!(parse_size("1.5KB"), Ok(1536));
        assert_eq!(parse_size("0.5B"), Ok(1));
    }

    #[test]
    fn sizes_reject_bare_numbers_unknown_units_and_negatives() {
        assert!(parse_size("512").unwrap_err().contains("needs a unit, e.g. \"512MB\""));
        let e = parse_size("5Gbps").unwrap_err();
        assert!(e.contains("rate, not a size"), "{e}");
        assert!(parse_size("3 bananas").unwrap_err().contains("unknown size unit"));
        assert!(parse_size("-1MB").unwrap_err().contains("negative"));
        assert!(parse_size("2048TB").unwrap_err().contains("too large"));
    }

    #[test]
    fn bandwidths_are_decimal_bits_returned_as_bytes_per_second() {
        assert_eq!(parse_bandwidth("8bps"), Ok(1.0));
        assert_eq!(parse_bandwidth("8Kbps"), Ok(1e3));
        assert_eq!(parse_bandwidth("100Mbps"), Ok(12.5e6));
        assert_eq!(parse_bandwidth("1Gbps"), Ok(1.25e8));
        assert_eq!(parse_bandwidth("5Gbps"), Ok(6.25e8));
        assert_eq!(parse_bandwidth("1Tbps"), Ok(1.25e11));
        assert_eq!(parse_bandwidth("2.5Gbit/s"), Ok(3.125e8));
    }

    #[test]
    fn bandwidths_in_bytes_get_a_conversion_hint() {
        let e = parse_bandwidth("100MB/s").unwrap_err();
        assert!(e.contains("bits per second") && e.contains("838.861Mbps"), "{e}");
        assert!(parse_bandwidth("5").unwrap_err().contains("needs a unit"));
        assert!(parse_bandwidth("5 furlongs").unwrap_err().contains("unknown bandwidth unit"));
    }

    #[test]
    fn byte_rates_are_binary_bytes_per_second() {
        assert_eq!(parse_byte_rate("1B/s"), Ok(1.0));
        assert_eq!(parse_byte_rate("1KB/s"), Ok(1024.0));
        assert_eq!(parse_byte_rate("150MB/s"), Ok(150.0 * 1048576.0));
        assert_eq!(parse_byte_rate("1.5GB/s"), Ok(1.5 * 1073741824.0));
        assert_eq!(parse_byte_rate("1TB/s"), Ok(1099511627776.0));
        assert_eq!(parse_byte_rate("2MiB/s"), Ok(2.0 * 1048576.0));
        assert!(parse_byte_rate("150MB").unwrap_err().contains("bytes per second"));
        assert!(parse_byte_rate("1Gbps").unwrap_err().contains("bits per second"));
        assert!(parse_byte_rate("150").unwrap_err().contains("needs a unit"));
        assert!(parse_byte_rate("1PB/s").unwrap_err().contains("unknown byte-rate unit"));
    }

    #[test]
    fn request_rates_are_per_second() {
        assert_eq!(parse_rate("50/s"), Ok(50.0));
        assert_eq!(parse_rate("0.9/s"), Ok(0.9));
        assert_eq!(parse_rate("3/m"), Ok(0.05));
        assert_eq!(parse_rate("3/min"), Ok(0.05));
        assert_eq!(parse_rate("36/h"), Ok(0.01));
        assert_eq!(parse_rate("864/d"), Ok(0.01));
        assert!(parse_rate("50").unwrap_err().contains("needs a unit, e.g. \"50/s\""));
        assert!(parse_rate("50/week").unwrap_err().contains("unknown rate unit"));
        assert!(parse_rate("50 per second").unwrap_err().contains("not a request rate"));
        assert!(parse_rate("-1/s").unwrap_err().contains("negative"));
    }

    #[test]
    fn durations_format_in_their_shortest_exact_form() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(250), "250µs");
        assert_eq!(format_duration(1_500), "1.5ms");
        assert_eq!(format_duration(150_000), "150ms");
        assert_eq!(format_duration(1_500_000), "1.5s");
        assert_eq!(format_duration(2_244_000), "2.244s");
        assert_eq!(format_duration(90_000_000), "90s");
        assert_eq!(format_duration(600_000_000), "10m");
        assert_eq!(format_duration(3_600_000_000), "1h");
        assert_eq!(format_duration(86_400_000_000), "1d");
        assert_eq!(format_duration(1_000_000_000_000), "1000000s");
        assert_eq!(format_duration(1_234_567), "1.234567s");
        assert_eq!(format_duration(u64::MAX), "18446744073709.551615s");
        assert_eq!(format_duration(1_234_567_891), "1234.567891s");
    }

    #[test]
    fn formatted_durations_parse_back_to_the_same_value() {
        for us in [0, 1, 999, 1_000, 1_234_567, 90_000_000, 86_400_000_001, MAX_DURATION] {
            assert_eq!(parse_duration(&format_duration(us)), Ok(us), "{us}");
        }
    }

    #[test]
    fn sizes_format_with_the_largest_unit() {
        assert_eq!(format_size(0), "0B");
        assert_eq!(format_size(100), "100B");
        assert_eq!(format_size(1024), "1KB");
        assert_eq!(format_size(512 << 20), "512MB");
        assert_eq!(format_size(1 << 30), "1GB");
        assert_eq!(format_size(1_181_116_006), "1.1GB");
        assert_eq!(format_size(3 << 19), "1.5MB");
        assert_eq!(format_size((1 << 30) - 1), "1GB");
        assert_eq!(format_size(u64::MAX), "16777216TB");
    }

    proptest::proptest! {
        #[test]
        fn unit_parsers_never_panic(s in "\\PC{0,24}") {
            let _ = parse_duration(&s);
            let _ = parse_time_of_day(&s);
            let _ = parse_size(&s);
            let _ = parse_bandwidth(&s);
            let _ = parse_byte_rate(&s);
            let _ = parse_rate(&s);
        }

        #[test]
        fn pushed_seconds_and_milliseconds_are_the_formatted_ones(us in proptest::prop_oneof![0..2_000_000u64, proptest::num::u64::ANY]) {
            let mut out = b"x,".to_vec();
            push_secs(&mut out, us);
            out.push(b',');
            push_millis(&mut out, us);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!("x,{},{}", format_secs(us), format_millis(us)));
        }

        #[test]
        fn every_duration_round_trips_through_its_format(us in 0..=MAX_DURATION) {
            proptest::prop_assert_eq!(parse_duration(&format_duration(us)), Ok(us));
        }
    }
}
