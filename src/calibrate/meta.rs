//! Where a calibration's numbers came from (engine, registry, date, what was measured), for
//! the profile's comments and the report's header.

/// Where the numbers came from, for headers and comments.
#[derive(Debug, Clone)]
pub struct Meta {
    pub date: String,
    /// The engine's name and version, or "refit" when fitting saved measurements again.
    pub engine: String,
    pub registry: String,
    pub shape: Option<String>,
    /// "suite quick: 8 probe images" or "refit of measurements.csv".
    pub what: String,
    pub trials: usize,
    /// Path of calibration.md as the user would open it.
    pub report_md: String,
}

impl Meta {
    /// Saved measurements fitted again: no engine or registry was involved.
    pub fn is_refit(&self) -> bool {
        self.engine == "refit"
    }
}

/// Today's date (UTC) as YYYY-MM-DD.
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    civil_date(secs / 86_400)
}

/// Days since 1970-01-01 → YYYY-MM-DD (the trace readers' calendar arithmetic).
fn civil_date(days: u64) -> String {
    let (y, m, d) = crate::workload::timestamp::civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_418), "2025-11-26");
        assert_eq!(civil_date(11_016), "2000-02-29");
    }
}
