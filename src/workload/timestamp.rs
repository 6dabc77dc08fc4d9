//! Trace timestamps and durations as integer microseconds: decimal seconds (`12.5`,
//! `1612137600.25`) and RFC 3339 date-times (`2021-02-01T00:00:00.25Z`,
//! `2021-02-01 01:00:00+01:00`), without a date-time dependency. Parsing is strict and never
//! panics: the caller turns an `Err` into a message with the file and line.

/// Microseconds per second.
const US: i64 = crate::units::MICROS_PER_SECOND as i64;
/// Magnitudes beyond this many seconds (about 3 million years) are refused, so every
/// conversion to µs fits an `i64` with room to add and subtract.
const MAX_SECONDS: f64 = 1e14;

/// What kind of timestamp a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Seconds,
    Rfc3339,
}

/// A timestamp in µs: seconds since an arbitrary zero for numbers, since the Unix epoch for
/// RFC 3339.
pub fn parse(text: &[u8]) -> Result<(i64, Kind), String> {
    let t = trim(text);
    if t.len() >= 10 && t[4] == b'-' && t[..4].iter().all(u8::is_ascii_digit) {
        return rfc3339(t).map(|us| (us, Kind::Rfc3339));
    }
    seconds(t).map(|us| (us, Kind::Seconds))
}

/// Decimal seconds (may be negative) → µs, rounded to the nearest.
pub fn seconds(text: &[u8]) -> Result<i64, String> {
    decimal(text, 1e6, "seconds")
}

/// A non-negative decimal in `unit`s (e.g. `1e3` for milliseconds → µs) → µs.
pub fn duration(text: &[u8], us_per_unit: f64, what: &str) -> Result<u64, String> {
    let us = decimal(text, us_per_unit, what)?;
    if us < 0 {
        return Err(format!("{what} {} is negative; a duration is 0 or more", show(text)));
    }
    Ok(us as u64)
}

fn decimal(text: &[u8], us_per_unit: f64, what: &str) -> Result<i64, String> {
    if let Some(us) = fast_decimal(text, us_per_unit) {
        return Ok(us);
    }
    slow_decimal(text, us_per_unit, what)
}

/// `[-]digits[.digits]` in seconds or milliseconds, exactly (no float rounding), rounded
/// half away from zero to whole µs; `None` for anything else (the slow path decides).
#[inline]
fn fast_decimal(t: &[u8], us_per_unit: f64) -> Option<i64> {
    const POW10: [i64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
    let scale: i32 = if us_per_unit == 1e6 {
        6
    } else if us_per_unit == 1e3 {
        3
    } else {
        return None;
    };
    let (neg, t) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    // digits before the point, digits kept after it (-1: no point), and the first digit
    // dropped (for rounding)
    let (mut v, mut int_digits, mut frac, mut next) = (0i64, 0usize, -1i32, 0u8);
    for &b in t {
        match b {
            b'0'..=b'9' if frac < 0 => {
                v = v * 10 + (b - b'0') as i64;
                int_digits += 1;
                if int_digits > 18 - scale as usize {
                    return None;
                }
            }
            b'0'..=b'9' if frac < scale => {
                v = v * 10 + (b - b'0') as i64;
                frac += 1;
            }
            b'0'..=b'9' => {
                if frac == scale {
                    next = b;
                    frac += 1;
                }
            }
            b'.' if frac < 0 => frac = 0,
            _ => return None,
        }
    }
    if int_digits == 0 || frac == 0 {
        return None;
    }
    let kept = frac.clamp(0, scale);
    let us = v * POW10[(scale - kept) as usize] + (next >= b'5') as i64;
    Some(if neg { -us } else { us })
}

fn slow_decimal(text: &[u8], us_per_unit: f64, what: &str) -> Result<i64, String> {
    let t = trim(text);
    let s = std::str::from_utf8(t).map_err(|_| format!("{what} is not text (invalid UTF-8)"))?;
    if s.is_empty() {
        return Err(format!("{what} is empty"));
    }
    // plain decimals only: Rust's float parser also takes "inf", "NaN" and "1e5"; the first
    // two are never a time, the third is fine
    if !s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E')) {
        return Err(format!("{what} \"{s}\" is not a number"));
    }
    let x: f64 = s.parse().map_err(|_| format!("{what} \"{s}\" is not a number"))?;
    let secs = x * us_per_unit / 1e6;
    if !secs.is_finite() || secs.abs() > MAX_SECONDS {
        return Err(format!("{what} \"{s}\" is out of range"));
    }
    Ok((x * us_per_unit).round() as i64)
}

fn trim(t: &[u8]) -> &[u8] {
    let start = t.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(t.len());
    let end = t.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &t[start..end]
}

fn show(t: &[u8]) -> String {
    format!("\"{}\"", String::from_utf8_lossy(trim(t)))
}

/// `YYYY-MM-DD(T| )HH:MM:SS[.frac](Z|±HH:MM)` → µs since 1970-01-01T00:00:00Z (fractions
/// beyond µs are rounded down).
pub fn rfc3339(t: &[u8]) -> Result<i64, String> {
    let bad = || {
        format!(
            "timestamp {} is not an RFC 3339 date-time such as \"2021-02-01T08:00:00Z\" or \"2021-02-01T08:00:00.5+01:00\"",
            show(t)
        )
    };
    let num = |a: usize, b: usize| -> Result<i64, String> {
        let s = t.get(a..b).ok_or_else(bad)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        Ok(s.iter().fold(0i64, |acc, d| acc * 10 + (d - b'0') as i64))
    };
    if t.len() < 20
        || t[4] != b'-'
        || t[7] != b'-'
        || !matches!(t[10], b'T' | b't' | b' ')
        || t[13] != b':'
        || t[16] != b':'
    {
        return Err(bad());
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(format!("timestamp {}: no such date", show(t)));
    }
    // 60 is a leap second; it counts as the next second's start
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!("timestamp {}: no such time of day", show(t)));
    }
    let mut i = 19;
    let mut frac_us = 0i64;
    if t.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        let mut scale = 100_000i64;
        while let Some(d) = t.get(i).filter(|d| d.is_ascii_digit()) {
            frac_us += (d - b'0') as i64 * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
    }
    let offset_s = match t.get(i) {
        Some(b'Z' | b'z') if i + 1 == t.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == t.len() && t[i + 3] == b':' => {
            let (oh, om) = (num(i + 1, i + 3)?, num(i + 4, i + 6)?);
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let s = oh * 3600 + om * 60;
            if sign == b'+' {
                s
            } else {
                -s
            }
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Ok(secs * US + frac_us)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// µs since the Unix epoch → `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, rounded down).
pub fn format_rfc3339(us: i64) -> String {
    let secs = us.div_euclid(US);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

/// A trace time of day for numeric traces: `HH:MM`, with whole days first (`1d 02:00`).
pub fn format_clock(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let mins = us.unsigned_abs() / 60_000_000;
    let (days, h, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    if days > 0 {
        format!("{sign}{days}d {h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}")
    }
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_to_the_nearest_microsecond() {
        assert_eq!(seconds(b"0.07949090003967285").unwrap(), 79_491);
        assert_eq!(seconds(b" 12 ").unwrap(), 12_000_000);
        assert_eq!(seconds(b"-1.5").unwrap(), -1_500_000);
        assert_eq!(seconds(b"1612137600.25").unwrap(), 1_612_137_600_250_000);
        assert!(seconds(b"inf").is_err());
        assert!(seconds(b"NaN").is_err());
        assert!(seconds(b"").is_err());
        assert!(seconds(b"12s").is_err());
        assert!(seconds(b"1e300").is_err());
    }

    #[test]
    fn plain_decimals_parse_exactly_and_agree_with_the_float_path() {
        for (text, us_per_unit) in [
            ("0.0794909", 1e6),
            ("57.15786004066467", 1e6),
            ("-0.0000005", 1e6),
            ("12", 1e3),
            ("123.4565", 1e3),
            ("0.0005", 1e3),
            ("99999999.999999", 1e6),
        ] {
            let fast = fast_decimal(text.as_bytes(), us_per_unit).unwrap();
            let slow = slow_decimal(text.as_bytes(), us_per_unit, "x").unwrap();
            assert!((fast - slow).abs() <= 1, "{text}: {fast} vs {slow}");
        }
        assert_eq!(fast_decimal(b"1612137600.000001", 1e6), Some(1_612_137_600_000_001));
        for other in ["1e3", " 1", "1.", ".5", "", "-", "1.2.3", "0x10"] {
            assert_eq!(fast_decimal(other.as_bytes(), 1e6), None, "{other}");
        }
        assert_eq!(seconds(b"1e3").unwrap(), 1_000_000_000);
        assert_eq!(seconds(b" 1 ").unwrap(), 1_000_000);
    }

    #[test]
    fn durations_are_never_negative() {
        assert_eq!(duration(b"0.078", 1e6, "duration").unwrap(), 78_000);
        assert_eq!(duration(b"123.4567", 1e3, "duration_ms").unwrap(), 123_457);
        let e = duration(b"-3", 1e3, "duration_ms").unwrap_err();
        assert!(e.contains("negative"), "{e}");
    }

    #[test]
    fn rfc3339_date_times_count_from_the_unix_epoch() {
        assert_eq!(rfc3339(b"1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(rfc3339(b"2021-02-01T00:00:00Z").unwrap(), 1_612_137_600 * US);
        assert_eq!(rfc3339(b"2021-02-01T00:00:00.25Z").unwrap(), 1_612_137_600 * US + 250_000);
        assert_eq!(rfc3339(b"2021-02-01 01:00:00+01:00").unwrap(), 1_612_137_600 * US);
        assert_eq!(rfc3339(b"2000-02-29T12:00:00-00:30").unwrap(), 951_827_400 * US);
        assert_eq!(rfc3339(b"1969-12-31T23:59:59Z").unwrap(), -US);
        for bad in [
            "2021-02-30T00:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-02-01T24:00:00Z",
            "2021-02-01T00:00:00",
            "2021-02-01T00:00:00.Z",
            "2021-02-01X00:00:00Z",
            "2021-02-01T00:00:00+0100",
        ] {
            assert!(rfc3339(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn date_times_and_clock_times_format_back() {
        for t in ["1970-01-01T00:00:00Z", "2000-02-29T12:30:00Z", "2021-02-01T08:00:59Z", "1969-12-31T23:59:59Z"] {
            assert_eq!(format_rfc3339(rfc3339(t.as_bytes()).unwrap()), t);
        }
        assert_eq!(format_clock(8 * 3600 * US), "08:00");
        assert_eq!(format_clock((86_400 + 2 * 3600 + 60) * US), "1d 02:01");
        assert_eq!(format_clock(-90 * 60 * US), "-01:30");
    }

    #[test]
    fn parse_tells_numbers_from_date_times() {
        assert_eq!(parse(b"5").unwrap(), (5 * US, Kind::Seconds));
        assert_eq!(parse(b"1970-01-01T00:00:05Z").unwrap(), (5 * US, Kind::Rfc3339));
        assert!(parse(b"2021-02-01").is_err());
    }
}
