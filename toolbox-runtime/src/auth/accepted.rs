//! Tokens already verified: an agent sends the same JWT on every call, and checking its RS256
//! signature costs more than the rest of the call's authorization. A token is looked up by a
//! SHA-256 of its whole text, like the introspection cache: tokens themselves are not kept in
//! memory longer than the request. An entry is honoured only while the token's
//! own `exp` (with the configured leeway) has not passed and for at most [`MAX_AGE`], after which
//! it is verified again against the current keys, so a key the issuer withdraws stops being
//! trusted within that time.

use super::principal::Principal;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a verification is trusted, at most.
pub const MAX_AGE: Duration = Duration::from_secs(300);
/// How many tokens are remembered; past it, expired entries are dropped, then all of them.
pub const CAPACITY: usize = 10_000;

pub struct Accepted {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    leeway: u64,
}

struct Entry {
    principal: Arc<Principal>,
    /// The token's `exp` in Unix seconds.
    expires: u64,
    verified: Instant,
}

impl Accepted {
    pub fn new(leeway: u64) -> Self {
        Self { entries: Mutex::new(HashMap::new()), leeway }
    }

    /// The principal of a token verified less than [`MAX_AGE`] ago that has not expired.
    pub fn get(&self, token: &str) -> Option<Arc<Principal>> {
        let key = digest(token);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(&key)?;
        if entry.verified.elapsed() < MAX_AGE && unix_now() <= entry.expires.saturating_add(self.leeway) {
            return Some(entry.principal.clone());
        }
        entries.remove(&key);
        None
    }

    /// Remembers a token that has just been verified.
    pub fn insert(&self, token: &str, principal: &Arc<Principal>) {
        let Some(expires) = expiry(principal) else { return };
        let key = digest(token);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            let now = unix_now();
            entries.retain(|_, e| e.verified.elapsed() < MAX_AGE && now <= e.expires.saturating_add(self.leeway));
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, Entry { principal: principal.clone(), expires, verified: Instant::now() });
    }
}

/// The `exp` claim of a verified token (the validation requires it).
fn expiry(principal: &Principal) -> Option<u64> {
    #[derive(Deserialize)]
    struct Exp {
        exp: f64,
    }
    let exp = serde_json::from_str::<Exp>(principal.claims_json()).ok()?.exp;
    (exp.is_finite() && exp > 0.0).then_some(exp as u64)
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn principal(exp: u64) -> Arc<Principal> {
        let claims = RawValue::from_string(format!(r#"{{"sub":"a","exp":{exp},"scope":"s"}}"#)).unwrap();
        Arc::new(Principal::new(claims))
    }

    #[test]
    fn a_token_is_served_from_the_cache_until_it_expires() {
        let cache = Accepted::new(0);
        let live = principal(unix_now() + 60);
        cache.insert("token-a", &live);
        assert!(cache.get("token-a").is_some_and(|p| p.has_scope("s")));
        assert!(cache.get("token-a-but-longer").is_none(), "only the exact token matches");
        assert!(cache.get("token-").is_none());

        let expired = principal(unix_now() - 5);
        cache.insert("token-b", &expired);
        assert!(cache.get("token-b").is_none(), "an expired token is verified again (and refused)");
        let with_leeway = Accepted::new(30);
        with_leeway.insert("token-b", &expired);
        assert!(with_leeway.get("token-b").is_some(), "the leeway applies as it does to verification");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = Accepted::new(0);
        let live = principal(unix_now() + 60);
        for i in 0..CAPACITY + 5 {
            cache.insert(&format!("t{i}"), &live);
        }
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
        assert!(cache.get(&format!("t{}", CAPACITY + 4)).is_some(), "the newest entry is kept");
    }
}
