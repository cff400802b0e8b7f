//! Rate limits on tool calls, as the MCP specification asks of servers: per tool and per caller
//! (the verified subject of a token when there is one, else the client's address), a tool's
//! `rateLimit` from `tools.yaml` or the server's `--rate-limit` default. A refused call is told
//! when to try again and is counted.

use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
pub use toolbox_config::rate::Rate;

type Keyed = RateLimiter<String, governor::state::keyed::DefaultKeyedStateStore<String>, DefaultClock>;

/// One limiter per tool (by index in the toolbox), keyed by caller.
pub struct RateLimits {
    tools: Vec<Option<(Rate, Keyed)>>,
    clock: DefaultClock,
    checks: AtomicU64,
    refused: AtomicU64,
}

/// A call over its tool's rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub rate: Rate,
    pub retry_after: Duration,
}

impl Refused {
    /// What the caller is told.
    pub fn message(&self, tool: &str) -> String {
        format!(
            "rate limit: tool `{tool}` takes {} per caller; try again in {} s",
            describe(self.rate),
            self.retry_after.as_secs_f64().ceil().max(1.0) as u64
        )
    }
}

/// `30 calls per 1 minute`.
pub fn describe(rate: Rate) -> String {
    let period = rate.period.as_secs_f64();
    let period = match period {
        p if p >= 3600.0 && p % 3600.0 == 0.0 => format!("{} h", p / 3600.0),
        p if p >= 60.0 && p % 60.0 == 0.0 => format!("{} min", p / 60.0),
        p if p >= 1.0 => format!("{p} s"),
        p => format!("{} ms", p * 1000.0),
    };
    format!("{} calls per {period}", rate.calls)
}

/// Who a call is counted against: the verified token's subject, else the client's address.
pub fn caller_key(claims: &dyn crate::args::ClaimSource, client: Option<std::net::IpAddr>, stdio: bool) -> String {
    match (claims.subject(), client) {
        (Some(subject), _) => format!("subject {subject}"),
        (None, Some(address)) => format!("address {address}"),
        (None, None) if stdio => "stdio".to_string(),
        (None, None) => "unknown".to_string(),
    }
}

/// How often idle callers are forgotten, in checks.
const RETAIN_EVERY: u64 = 4096;

impl RateLimits {
    /// Limits for every tool: its own `rateLimit`, else `default`; a tool with neither is not
    /// limited.
    pub fn new(tools: &[crate::def::ToolDef], default: Option<Rate>) -> Self {
        let tools = tools
            .iter()
            .map(|t| {
                let rate = t.rate_limit.or(default)?;
                let calls = NonZeroU32::new(rate.calls)?;
                let quota = Quota::with_period(rate.period / rate.calls)?.allow_burst(calls);
                Some((rate, RateLimiter::keyed(quota)))
            })
            .collect();
        Self { tools, clock: DefaultClock::default(), checks: AtomicU64::new(0), refused: AtomicU64::new(0) }
    }

    /// Counts a call of tool `tool` by `caller`, or refuses it.
    pub fn check(&self, tool: usize, caller: &str) -> Result<(), Refused> {
        let Some(Some((rate, limiter))) = self.tools.get(tool) else { return Ok(()) };
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            for (_, limiter) in self.tools.iter().flatten() {
                limiter.retain_recent();
            }
        }
        // The key is looked up by reference; only a new caller's key is allocated.
        match limiter.check_key(&caller.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                Err(Refused { rate: *rate, retry_after: not_until.wait_time_from(self.clock.now()) })
            }
        }
    }

    /// Calls refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_over_the_rate_waits_and_others_do_not() {
        let rate = Rate { calls: 2, period: Duration::from_secs(60) };
        let limits = RateLimits {
            tools: Vec::new(),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        };
        let quota = Quota::with_period(rate.period / rate.calls).unwrap().allow_burst(NonZeroU32::new(2).unwrap());
        let limits = RateLimits { tools: vec![Some((rate, RateLimiter::keyed(quota))), None], ..limits };
        assert!(limits.check(0, "a").is_ok());
        assert!(limits.check(0, "a").is_ok());
        let refused = limits.check(0, "a").unwrap_err();
        assert!(refused.retry_after > Duration::from_secs(25) && refused.retry_after <= Duration::from_secs(30));
        assert_eq!(refused.message("t"), "rate limit: tool `t` takes 2 calls per 1 min per caller; try again in 30 s");
        assert!(limits.check(0, "b").is_ok(), "callers are counted apart");
        assert!(limits.check(1, "a").is_ok(), "a tool without a rate is not limited");
        assert_eq!(limits.refused(), 1);
    }
}
