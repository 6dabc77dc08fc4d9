pub fn format_duration(us: u64) -> String {
    format!("{us}us")
}
