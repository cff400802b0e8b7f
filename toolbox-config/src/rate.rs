//! Rates in settings: `30/m` (30 calls a minute), `5/s`, `100/10m`, `2/30s`; shared by the
//! tool's `rateLimit` in `tools.yaml` and the server's `--rate-limit` flag.

use std::time::Duration;

/// `calls` per `period`, with a burst of `calls`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub calls: u32,
    pub period: Duration,
}

/// Parses `<calls>/<period>`, the period a duration (`10s`, `5m`) or a bare unit (`s`, `m`, `h`).
pub fn parse(text: &str) -> Option<Rate> {
    let (calls, period) = text.trim().split_once('/')?;
    let calls: u32 = calls.trim().parse().ok().filter(|c| *c > 0)?;
    let period = period.trim();
    let period = match period {
        "s" | "m" | "h" => crate::duration::parse(&format!("1{period}"), false)?,
        other => crate::duration::parse(other, false)?,
    };
    (!period.is_zero()).then_some(Rate { calls, period })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse("30/m"), Some(Rate { calls: 30, period: Duration::from_secs(60) }));
        assert_eq!(parse("5 / 10s"), Some(Rate { calls: 5, period: Duration::from_secs(10) }));
        assert_eq!(parse("100/500ms"), Some(Rate { calls: 100, period: Duration::from_millis(500) }));
        for bad in ["0/s", "30", "x/m", "3/0s", "3/d"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
