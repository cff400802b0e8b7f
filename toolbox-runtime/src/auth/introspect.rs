//! Opaque access tokens: RFC 7662 introspection (and Google's tokeninfo, its cousin), with a
//! bounded cache keyed by a SHA-256 of the token.
//!
//! The server authenticates to the introspection endpoint as a confidential client
//! (`client_secret_basic`, RFC 6749 §2.3.1: id and secret form-encoded, then Base64). A standard
//! provider refuses an anonymous introspection request; the reference server sends none and so
//! fails against one.

use super::principal::Principal;
use super::provider::{self, Fetched};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Introspection cache bounds.
#[derive(Clone, Debug)]
pub struct CacheLimits {
    pub capacity: usize,
    /// An active answer is kept until the token expires, but never longer than this (a revoked
    /// token is refused again after at most this long).
    pub max_ttl: Duration,
    /// How long an inactive answer is remembered.
    pub negative_ttl: Duration,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self { capacity: 10_000, max_ttl: Duration::from_secs(300), negative_ttl: Duration::from_secs(30) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Post,
    Get,
}

/// Which protocol the endpoint speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// RFC 7662: `active`, `exp`, `nbf`, `iss`, `aud`, `scope`.
    Rfc7662,
    /// Google's tokeninfo: 200 for a live token, `aud` or `azp` is the client, `exp` may be a string.
    GoogleTokenInfo,
}

/// Why a token was refused, or could not be judged. Fixed texts: a token is never echoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntrospectionError {
    Inactive,
    Expired,
    NotYetValid,
    Issuer,
    Audience,
    /// The endpoint could not be reached, or answered something other than a verdict.
    Unavailable,
}

impl IntrospectionError {
    pub fn description(self) -> &'static str {
        match self {
            IntrospectionError::Inactive => "the token is not active",
            IntrospectionError::Expired => "the token has expired",
            IntrospectionError::NotYetValid => "the token is not valid yet",
            IntrospectionError::Issuer => "the token was issued by another authorization server",
            IntrospectionError::Audience => "the token was not issued for this resource",
            IntrospectionError::Unavailable => "the token introspection endpoint is unavailable",
        }
    }
}

pub struct Introspector {
    pub flavor: Flavor,
    /// The configured endpoint; `None`: the discovered one, else `<authorizationServer>/introspect`.
    pub endpoint: Option<String>,
    pub method: Method,
    pub param: String,
    /// `Basic ...`, made once.
    authorization: Option<String>,
    pub audience: String,
    pub leeway: u64,
    limits: CacheLimits,
    cache: Mutex<HashMap<[u8; 32], Entry>>,
    http: reqwest::Client,
    counters: crate::telemetry::metrics::AuthCounters,
}

struct Entry {
    until: Instant,
    verdict: Result<Arc<Principal>, IntrospectionError>,
}

/// RFC 6749 §2.3.1: `application/x-www-form-urlencoded` before Base64.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn basic_credentials(id: &str, secret: &str) -> String {
    let pair = format!("{}:{}", form_encode(id), form_encode(secret));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A numeric date, as a number or (Google) a string of digits.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumericDate<'a> {
    Number(f64),
    Text(#[serde(borrow)] Cow<'a, str>),
}

impl NumericDate<'_> {
    fn secs(&self) -> Option<u64> {
        match self {
            NumericDate::Number(n) if *n >= 0.0 => Some(*n as u64),
            NumericDate::Text(t) => t.parse().ok(),
            NumericDate::Number(_) => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
}

impl Audience<'_> {
    fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(list) => list.iter().any(|a| a == audience),
        }
    }
}

#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(default)]
    active: Option<bool>,
    #[serde(borrow, default)]
    exp: Option<NumericDate<'a>>,
    #[serde(borrow, default)]
    nbf: Option<NumericDate<'a>>,
    #[serde(borrow, default)]
    iss: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    aud: Option<Audience<'a>>,
    #[serde(borrow, default)]
    azp: Option<Cow<'a, str>>,
}

impl Introspector {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        flavor: Flavor,
        endpoint: Option<String>,
        method: Method,
        param: String,
        credentials: Option<(String, String)>,
        audience: String,
        leeway: u64,
        limits: CacheLimits,
        http: reqwest::Client,
        counters: crate::telemetry::metrics::AuthCounters,
    ) -> Self {
        Self {
            flavor,
            endpoint,
            method,
            param,
            authorization: credentials.map(|(id, secret)| basic_credentials(&id, &secret)),
            audience,
            leeway,
            limits,
            cache: Mutex::new(HashMap::new()),
            http,
            counters,
        }
    }

    /// Judges a token: from the cache, or by asking the endpoint. `issuer` is the discovered one.
    pub async fn introspect(
        &self,
        token: &str,
        endpoint: &str,
        issuer: Option<&str>,
    ) -> Result<Arc<Principal>, IntrospectionError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = Instant::now();
        if let Some(entry) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if entry.until > now {
                self.counters.lookup("introspection", true);
                return entry.verdict.clone();
            }
        }
        self.counters.lookup("introspection", false);
        let fetched = self.ask(token, endpoint).await.inspect_err(|_| self.counters.fetch_failed("introspection"))?;
        let (verdict, ttl) = self.judge(&fetched, issuer);
        if let Some(ttl) = ttl {
            self.remember(key, verdict.clone(), now + ttl);
        }
        verdict
    }

    /// Caches a verdict. When the cache is full, expired entries go first, then an arbitrary one.
    fn remember(&self, key: [u8; 32], verdict: Result<Arc<Principal>, IntrospectionError>, until: Instant) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= self.limits.capacity && !cache.contains_key(&key) {
            let now = Instant::now();
            cache.retain(|_, e| e.until > now);
            if cache.len() >= self.limits.capacity {
                if let Some(victim) = cache.keys().next().copied() {
                    cache.remove(&victim);
                }
            }
        }
        cache.insert(key, Entry { until, verdict });
    }

    async fn ask(&self, token: &str, endpoint: &str) -> Result<Fetched, IntrospectionError> {
        let form = [(self.param.as_str(), token), ("token_type_hint", "access_token")];
        let form = if self.flavor == Flavor::GoogleTokenInfo { &form[..1] } else { &form[..] };
        let send = || {
            let request = match self.method {
                Method::Post => self.http.post(endpoint).form(form),
                Method::Get => self.http.get(endpoint).query(form),
            };
            let request = request.header(reqwest::header::ACCEPT, "application/json");
            match &self.authorization {
                Some(value) => request.header(reqwest::header::AUTHORIZATION, value),
                None => request,
            }
            .send()
        };
        // Introspection only reads: tried twice when the connection fails (a pooled connection
        // the server has closed).
        let response = match send().await {
            Ok(response) => Ok(response),
            Err(e) if e.is_request() || e.is_connect() => send().await,
            Err(e) => Err(e),
        };
        let response = response.map_err(|e| {
            // The URL of a GET carries the token: log the endpoint only, never reqwest's message.
            tracing::warn!(
                "token introspection at {endpoint} failed: {}",
                if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "cannot connect"
                } else {
                    "request failed"
                }
            );
            IntrospectionError::Unavailable
        })?;
        provider::read(response).await.map_err(|e| {
            tracing::warn!("token introspection at {endpoint}: {e}");
            IntrospectionError::Unavailable
        })
    }

    /// The verdict on an answer, and how long to remember it (`None`: not at all). Visible to
    /// the rest of `auth` for its fuzz suite.
    pub(super) fn judge(
        &self,
        fetched: &Fetched,
        issuer: Option<&str>,
    ) -> (Result<Arc<Principal>, IntrospectionError>, Option<Duration>) {
        let negative = Some(self.limits.negative_ttl);
        if self.flavor == Flavor::GoogleTokenInfo && fetched.status == 400 {
            return (Err(IntrospectionError::Inactive), negative);
        }
        if fetched.status != 200 {
            tracing::warn!(
                "token introspection answered HTTP {} (are INTROSPECTION_CLIENT_ID and INTROSPECTION_CLIENT_SECRET right?)",
                fetched.status
            );
            return (Err(IntrospectionError::Unavailable), None);
        }
        let Ok(text) = std::str::from_utf8(&fetched.body) else {
            return (Err(IntrospectionError::Unavailable), None);
        };
        // An introspection response is a JSON object (RFC 7662 §2.2). serde also reads a struct
        // from an array of its fields in order, so `[true, <exp>, null, <iss>, <aud>]` was taken
        // for an active token; found by the fuzz suite.
        let object = text.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{');
        let Some(answer) = object.then(|| serde_json::from_str::<Answer<'_>>(text).ok()).flatten() else {
            tracing::warn!("token introspection answered something that is not an introspection response");
            return (Err(IntrospectionError::Unavailable), None);
        };
        let active = match self.flavor {
            Flavor::Rfc7662 => answer.active == Some(true),
            Flavor::GoogleTokenInfo => answer.active != Some(false),
        };
        if !active {
            return (Err(IntrospectionError::Inactive), negative);
        }
        let now = now_secs();
        let exp = answer.exp.as_ref().and_then(NumericDate::secs);
        if exp.is_some_and(|exp| exp.saturating_add(self.leeway) < now) {
            return (Err(IntrospectionError::Expired), negative);
        }
        if answer.nbf.as_ref().and_then(NumericDate::secs).is_some_and(|nbf| nbf > now + self.leeway) {
            return (Err(IntrospectionError::NotYetValid), None);
        }
        if let (Some(iss), Some(expected)) = (answer.iss.as_deref(), issuer) {
            if iss.trim_end_matches('/') != expected.trim_end_matches('/') {
                return (Err(IntrospectionError::Issuer), negative);
            }
        }
        let audience_ok = match self.flavor {
            Flavor::Rfc7662 => answer.aud.as_ref().is_some_and(|a| a.contains(&self.audience)),
            Flavor::GoogleTokenInfo => {
                answer.aud.as_ref().is_some_and(|a| a.contains(&self.audience))
                    || answer.azp.as_deref() == Some(self.audience.as_str())
            }
        };
        if !audience_ok {
            return (Err(IntrospectionError::Audience), negative);
        }
        let Ok(raw) = RawValue::from_string(text.to_string()) else {
            return (Err(IntrospectionError::Unavailable), None);
        };
        let ttl = match exp {
            Some(exp) => Duration::from_secs(exp.saturating_sub(now)).min(self.limits.max_ttl),
            None => self.limits.max_ttl,
        };
        (Ok(Arc::new(Principal::new(raw))), Some(ttl))
    }

    #[cfg(test)]
    fn cached(&self) -> usize {
        self.cache.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn introspector(capacity: usize) -> Introspector {
        Introspector::new(
            Flavor::Rfc7662,
            None,
            Method::Post,
            "token".into(),
            None,
            "https://toolbox.example.com/mcp".into(),
            30,
            CacheLimits { capacity, ..CacheLimits::default() },
            reqwest::Client::new(),
            Default::default(),
        )
    }

    fn answer(json: &str) -> Fetched {
        Fetched { status: 200, body: json.as_bytes().to_vec(), max_age: None }
    }

    #[test]
    fn client_secret_basic_form_encodes_first() {
        assert_eq!(basic_credentials("toolbox", "s3cret"), "Basic dG9vbGJveDpzM2NyZXQ=");
        // `a:b` / `c d`: the colon and the space are encoded before Base64.
        let encoded = basic_credentials("a:b", "c d");
        let decoded = base64::engine::general_purpose::STANDARD.decode(&encoded[6..]).unwrap();
        assert_eq!(decoded, b"a%3Ab:c+d");
    }

    #[test]
    fn verdicts() {
        let i = introspector(10);
        let exp = now_secs() + 600;
        let good = format!(
            r#"{{"active":true,"scope":"a b","aud":"https://toolbox.example.com/mcp","iss":"https://as","exp":{exp}}}"#
        );
        let (v, ttl) = i.judge(&answer(&good), Some("https://as"));
        assert_eq!(v.unwrap().scopes(), "a b");
        assert_eq!(ttl, Some(Duration::from_secs(300)), "capped at max_ttl");
        assert_eq!(i.judge(&answer(r#"{"active":false}"#), None).0.err(), Some(IntrospectionError::Inactive));
        assert_eq!(i.judge(&answer(r#"{"scope":"a"}"#), None).0.err(), Some(IntrospectionError::Inactive));
        let expired = r#"{"active":true,"aud":"https://toolbox.example.com/mcp","exp":1000}"#;
        assert_eq!(i.judge(&answer(expired), None).0.err(), Some(IntrospectionError::Expired));
        assert_eq!(i.judge(&answer(&good), Some("https://other")).0.err(), Some(IntrospectionError::Issuer));
        let other_aud = format!(r#"{{"active":true,"aud":["https://x/mcp"],"exp":{exp}}}"#);
        assert_eq!(i.judge(&answer(&other_aud), None).0.err(), Some(IntrospectionError::Audience));
        let no_aud = format!(r#"{{"active":true,"exp":{exp}}}"#);
        assert_eq!(i.judge(&answer(&no_aud), None).0.err(), Some(IntrospectionError::Audience));
        let down = Fetched { status: 500, body: vec![], max_age: None };
        let (verdict, ttl) = i.judge(&down, None);
        assert_eq!((verdict.err(), ttl), (Some(IntrospectionError::Unavailable), None), "never cached");
    }

    #[test]
    fn google_tokeninfo_verdicts() {
        let mut i = introspector(10);
        i.flavor = Flavor::GoogleTokenInfo;
        i.audience = "1234.apps.googleusercontent.com".into();
        let exp = now_secs() + 600;
        // tokeninfo has no `active`, puts the client in `azp` or `aud`, and sends `exp` as a string.
        let by_azp = format!(
            r#"{{"azp":"1234.apps.googleusercontent.com","aud":"other","scope":"openid email","exp":"{exp}"}}"#
        );
        assert_eq!(i.judge(&answer(&by_azp), None).0.unwrap().scopes(), "openid email");
        let by_aud = format!(r#"{{"aud":"1234.apps.googleusercontent.com","exp":"{exp}"}}"#);
        assert!(i.judge(&answer(&by_aud), None).0.is_ok());
        let other = format!(r#"{{"azp":"someone-else","aud":"someone-else","exp":"{exp}"}}"#);
        assert_eq!(i.judge(&answer(&other), None).0.err(), Some(IntrospectionError::Audience));
        let invalid = Fetched { status: 400, body: br#"{"error":"invalid_token"}"#.to_vec(), max_age: None };
        assert_eq!(i.judge(&invalid, None).0.err(), Some(IntrospectionError::Inactive));
        let expired = r#"{"azp":"1234.apps.googleusercontent.com","exp":"1000"}"#;
        assert_eq!(i.judge(&answer(expired), None).0.err(), Some(IntrospectionError::Expired));
    }

    #[test]
    fn the_cache_is_bounded() {
        let i = introspector(2);
        let until = Instant::now() + Duration::from_secs(60);
        for n in 0..5u8 {
            i.remember([n; 32], Err(IntrospectionError::Inactive), until);
        }
        assert_eq!(i.cached(), 2);
        i.remember([9; 32], Err(IntrospectionError::Inactive), Instant::now());
        i.remember([10; 32], Err(IntrospectionError::Inactive), until);
        assert_eq!(i.cached(), 2, "expired entries are dropped first");
    }
}
