//! `--shape RATE`: slows the registry's replies on the loopback interface with `tc` (an HTB
//! class that only the packets from the registry's port go through), to emulate a slower
//! link such as a cross-region pull. The kernel here has no netem, so rate only: no added
//! latency. [`Shaping`] removes the qdisc when dropped, so it goes on success, on error and on
//! Ctrl-C alike; it refuses to touch a loopback interface that already has a root qdisc.

use std::process::Command;

use crate::units::parse_bandwidth;

const DEV: &str = "lo";

/// Shaping in force; dropping it removes it.
#[derive(Debug)]
pub struct Shaping {
    /// The rate, as given.
    pub rate: String,
    pub bits_per_second: f64,
}

fn tc(args: &[&str]) -> Result<String, String> {
    let out = Command::new("tc").args(args).output().map_err(|e| format!("cannot run tc: {e} (install iproute2)"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("tc {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Whether `lo` has a root qdisc of someone's (the default is `noqueue`).
pub fn lo_is_shaped() -> Result<bool, String> {
    let shown = tc(&["qdisc", "show", "dev", DEV])?;
    Ok(shown.lines().any(|l| l.contains(" root ") && !l.starts_with("qdisc noqueue")))
}

impl Shaping {
    /// Shapes what the registry on `registry_port` sends to `rate` (a bandwidth such as
    /// `100Mbps`). The error is a message for the user.
    pub fn apply(rate: &str, registry_port: u16) -> Result<Shaping, String> {
        let bytes = parse_bandwidth(rate)?;
        let bits = bytes * 8.0;
        if bits < 1e5 {
            return Err(format!("{rate} is below 100Kbps; a pull would take hours; give e.g. 100Mbps"));
        }
        if lo_is_shaped()? {
            return Err(format!("{DEV} already has a root qdisc (`tc qdisc show dev {DEV}`); calibration will not replace someone else's shaping"));
        }
        let shaping = Shaping { rate: rate.to_string(), bits_per_second: bits };
        let r = format!("{}bit", bits.round() as u64);
        let port = registry_port.to_string();
        // unclassified traffic goes to HTB's direct queue, unshaped; only the registry's
        // replies (source port = its port) go through the class. burst must exceed lo's
        // 64 KiB segments.
        tc(&["qdisc", "add", "dev", DEV, "root", "handle", "1:", "htb", "default", "0"])?;
        tc(&[
            "class", "add", "dev", DEV, "parent", "1:", "classid", "1:10", "htb", "rate", &r, "ceil", &r, "burst",
            "256k", "cburst", "256k",
        ])?;
        tc(&[
            "filter", "add", "dev", DEV, "protocol", "ip", "parent", "1:", "prio", "1", "u32", "match", "ip", "sport",
            &port, "0xffff", "flowid", "1:10",
        ])?;
        Ok(shaping)
    }
}

impl Drop for Shaping {
    fn drop(&mut self) {
        if let Err(e) = tc(&["qdisc", "del", "dev", DEV, "root"]) {
            crate::error::say(&format!(
                "warning: removing the shaping on {DEV}: {e}; remove it with `tc qdisc del dev {DEV} root`"
            ));
        }
    }
}
