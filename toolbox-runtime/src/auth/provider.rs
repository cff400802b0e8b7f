//! One authorization server: OIDC discovery (retried with backoff until it succeeds), its JWKS
//! (cached, refreshed in the background, refetched once on an unknown `kid`), and the HTTP client
//! rules every outgoing request follows.
//!
//! Outgoing requests: HTTPS unless the host is a loopback address, no redirects, 10 s timeout,
//! answers of at most 1 MiB. A failed fetch never throws keys away.

use super::jwt::{JwtError, Key, KeySet};
use crate::telemetry::metrics::AuthCounters;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// Largest discovery, JWKS or introspection answer read.
pub const MAX_BODY: usize = 1 << 20;

/// Timing knobs; the defaults are for production, tests shorten them.
#[derive(Clone, Debug)]
pub struct Timing {
    /// First retry delay of discovery; doubles up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// An unknown `kid` refetches the JWKS at most once per this interval.
    pub refetch_interval: Duration,
    /// JWKS refresh period when the answer has no usable `Cache-Control: max-age`.
    pub jwks_refresh: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            refetch_interval: Duration::from_secs(10),
            jwks_refresh: Duration::from_secs(3600),
        }
    }
}

/// What discovery found.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub issuer: String,
    pub jwks_uri: Option<String>,
    pub introspection_endpoint: Option<String>,
}

/// The HTTP client shared by every provider and introspector.
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("toolbox/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// HTTPS, or plain HTTP to a loopback host (a provider on this machine, tests).
pub fn check_url(what: &str, url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{what} `{url}` is not a URL: {e}"))?;
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err(format!("{what} `{url}` has no host"));
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" => Err(format!("{what} `{url}` must use https (plain http is allowed only for loopback hosts)")),
        other => Err(format!("{what} `{url}` has the unsupported scheme `{other}`")),
    }
}

/// A GET or POST answer: status and the body, read up to [`MAX_BODY`].
pub struct Fetched {
    pub status: u16,
    pub body: Vec<u8>,
    pub max_age: Option<Duration>,
}

pub async fn read(response: reqwest::Response) -> Result<Fetched, String> {
    let status = response.status().as_u16();
    let max_age = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',').find_map(|d| d.trim().strip_prefix("max-age=").and_then(|s| s.trim().parse::<u64>().ok()))
        })
        .map(Duration::from_secs);
    if response.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(format!("the answer is larger than {MAX_BODY} bytes"));
    }
    let mut response = response;
    let mut body = Vec::new();
    // `without_url`: the URL of an introspection GET carries the token.
    while let Some(chunk) =
        response.chunk().await.map_err(|e| format!("reading the answer failed: {}", e.without_url()))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("the answer is larger than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched { status, body, max_age })
}

/// A GET, tried twice when the connection fails (a pooled connection the server has closed).
async fn get(http: &reqwest::Client, url: &str) -> Result<Fetched, String> {
    let send = || http.get(url).header(reqwest::header::ACCEPT, "application/json").send();
    let response = match send().await {
        Ok(response) => Ok(response),
        Err(e) if e.is_request() || e.is_connect() => send().await,
        Err(e) => Err(e),
    }
    .map_err(|e| format!("GET {url} failed: {}", error_chain(&e)))?;
    read(response).await.map_err(|e| format!("GET {url}: {e}"))
}

/// reqwest's errors hide the cause (connection refused, ...) in their source chain.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub struct Provider {
    /// The configured `authorizationServer`, without a trailing slash.
    pub base: String,
    http: reqwest::Client,
    timing: Timing,
    /// Whether discovery should look for a JWKS (an introspection-only setup does not need one).
    needs_keys: bool,
    metadata: OnceLock<Metadata>,
    keys: RwLock<Arc<KeySet>>,
    /// Set once a JWKS has been read.
    keys_loaded: OnceLock<()>,
    /// Bumped whenever the key set is replaced.
    generation: AtomicU64,
    /// Single flight for refetches on an unknown `kid`: the time of the last attempt.
    refetch: tokio::sync::Mutex<Option<Instant>>,
    /// Number of JWKS fetches (for tests and logs).
    pub jwks_fetches: AtomicU64,
    counters: AuthCounters,
}

/// A key could not be chosen.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyError {
    /// Discovery or the first JWKS fetch has not succeeded yet.
    NotReady,
    Jwt(JwtError),
}

impl Provider {
    pub fn new(
        base: &str,
        http: reqwest::Client,
        timing: Timing,
        needs_keys: bool,
        counters: AuthCounters,
    ) -> Arc<Self> {
        Arc::new(Self {
            base: base.trim_end_matches('/').to_string(),
            http,
            timing,
            needs_keys,
            metadata: OnceLock::new(),
            keys: RwLock::new(Arc::new(KeySet::default())),
            keys_loaded: OnceLock::new(),
            generation: AtomicU64::new(0),
            refetch: tokio::sync::Mutex::new(None),
            jwks_fetches: AtomicU64::new(0),
            counters,
        })
    }

    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.get()
    }

    /// Discovery and the first key set are done.
    pub fn ready(&self) -> bool {
        self.metadata.get().is_some() && (!self.needs_keys || self.keys_loaded.get().is_some())
    }

    /// Discovers the provider, loads its keys and keeps them fresh, retrying with exponential
    /// backoff (and a little jitter) while the provider is down. Runs until the runtime stops.
    pub fn start(self: &Arc<Self>) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut delay = this.timing.retry_initial;
            loop {
                match this.discover().await {
                    Ok(()) => break,
                    Err(e) => {
                        this.counters.fetch_failed("discovery");
                        tracing::warn!(
                            "authorization server {}: discovery failed, retrying in {} ms: {e}",
                            this.base,
                            delay.as_millis()
                        );
                        tokio::time::sleep(jitter(delay)).await;
                        delay = (delay * 2).min(this.timing.retry_max);
                    }
                }
            }
            if !this.needs_keys || this.metadata().and_then(|m| m.jwks_uri.as_ref()).is_none() {
                return;
            }
            let mut delay = this.timing.retry_initial;
            loop {
                let next = match this.fetch_keys().await {
                    Ok(max_age) => {
                        delay = this.timing.retry_initial;
                        max_age
                            .unwrap_or(this.timing.jwks_refresh)
                            .clamp(Duration::from_secs(60), Duration::from_secs(86400))
                    }
                    Err(e) => {
                        tracing::warn!("authorization server {}: {e}; keeping the keys already known", this.base);
                        let d = delay;
                        delay = (delay * 2).min(this.timing.retry_max);
                        d
                    }
                };
                tokio::time::sleep(jitter(next)).await;
            }
        });
    }

    /// OIDC discovery (`/.well-known/openid-configuration` under the issuer), then RFC 8414
    /// (`/.well-known/oauth-authorization-server` inserted before the issuer's path).
    async fn discover(&self) -> Result<(), String> {
        let oidc = format!("{}/.well-known/openid-configuration", self.base);
        let rfc8414 = {
            let url = reqwest::Url::parse(&self.base).map_err(|e| e.to_string())?;
            let path = url.path().trim_end_matches('/');
            format!("{}/.well-known/oauth-authorization-server{path}", url.origin().ascii_serialization())
        };
        let mut errors = Vec::new();
        for url in [oidc, rfc8414] {
            match self.discover_at(&url).await {
                Ok(metadata) => {
                    tracing::info!(
                        "authorization server {}: discovered (jwks_uri: {}, introspection: {})",
                        self.base,
                        metadata.jwks_uri.as_deref().unwrap_or("none"),
                        metadata.introspection_endpoint.as_deref().unwrap_or("none")
                    );
                    let _ = self.metadata.set(metadata);
                    return Ok(());
                }
                Err(e) => errors.push(e),
            }
        }
        Err(errors.join("; "))
    }

    async fn discover_at(&self, url: &str) -> Result<Metadata, String> {
        #[derive(serde::Deserialize)]
        struct Document {
            issuer: Option<String>,
            jwks_uri: Option<String>,
            introspection_endpoint: Option<String>,
        }
        let fetched = get(&self.http, url).await?;
        if fetched.status != 200 {
            return Err(format!("GET {url} answered HTTP {}", fetched.status));
        }
        let doc: Document =
            serde_json::from_slice(&fetched.body).map_err(|e| format!("GET {url}: not a metadata document: {e}"))?;
        let issuer = doc.issuer.ok_or_else(|| format!("GET {url}: the metadata has no `issuer`"))?;
        if issuer.trim_end_matches('/') != self.base {
            return Err(format!(
                "GET {url}: the metadata names the issuer `{issuer}`, not `{}` (authorizationServer must be the issuer)",
                self.base
            ));
        }
        if self.needs_keys && doc.jwks_uri.is_none() {
            return Err(format!("GET {url}: the metadata has no `jwks_uri`"));
        }
        for endpoint in [&doc.jwks_uri, &doc.introspection_endpoint].into_iter().flatten() {
            check_url("a discovered endpoint", endpoint)?;
        }
        Ok(Metadata { issuer, jwks_uri: doc.jwks_uri, introspection_endpoint: doc.introspection_endpoint })
    }

    /// Fetches the JWKS and replaces the key set; on failure the old keys stay.
    async fn fetch_keys(&self) -> Result<Option<Duration>, String> {
        let uri = self.metadata().and_then(|m| m.jwks_uri.clone()).ok_or("no jwks_uri discovered")?;
        self.jwks_fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = get(&self.http, &uri).await;
        let set = fetched.and_then(|fetched| {
            if fetched.status != 200 {
                return Err(format!("GET {uri} answered HTTP {}", fetched.status));
            }
            Ok((KeySet::parse(&fetched.body).map_err(|e| format!("GET {uri}: {e}"))?, fetched.max_age))
        });
        let (set, max_age) = set.inspect_err(|_| self.counters.fetch_failed("jwks"))?;
        tracing::debug!("authorization server {}: {} signing keys loaded", self.base, set.keys.len());
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        self.generation.fetch_add(1, Ordering::Release);
        let _ = self.keys_loaded.set(());
        Ok(max_age)
    }

    /// The current key set.
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs `f` with the key a token names. An unknown `kid` triggers one JWKS refetch, shared by
    /// every request waiting for it and at most one per `refetch_interval`.
    pub async fn with_key<T>(
        &self,
        kid: Option<&str>,
        alg: jsonwebtoken::Algorithm,
        f: impl Fn(&Key) -> T,
    ) -> Result<T, KeyError> {
        if !self.ready() {
            return Err(KeyError::NotReady);
        }
        let seen = self.generation.load(Ordering::Acquire);
        {
            let keys = self.keys();
            let found = keys.find(kid, alg);
            self.counters.lookup("jwks", found.is_ok());
            match found {
                Ok(key) => return Ok(f(key)),
                Err(JwtError::UnknownKey) if kid.is_some() => {}
                Err(e) => return Err(KeyError::Jwt(e)),
            }
        }
        let mut last = self.refetch.lock().await;
        if self.generation.load(Ordering::Acquire) == seen {
            if last.is_some_and(|t| t.elapsed() < self.timing.refetch_interval) {
                return Err(KeyError::Jwt(JwtError::UnknownKey));
            }
            *last = Some(Instant::now());
            if let Err(e) = self.fetch_keys().await {
                tracing::warn!("authorization server {}: refetching keys for an unknown kid: {e}", self.base);
            }
        }
        drop(last);
        let keys = self.keys();
        keys.find(kid, alg).map(f).map_err(KeyError::Jwt)
    }
}

/// Up to 10% more, so that many servers restarted together do not retry in step.
fn jitter(d: Duration) -> Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.subsec_nanos()).unwrap_or(0);
    d + d.mul_f64(f64::from(nanos % 1000) / 10_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_unless_loopback() {
        assert!(check_url("x", "https://auth.example.com").is_ok());
        assert!(check_url("x", "http://127.0.0.1:8080").is_ok());
        assert!(check_url("x", "http://localhost:8080/realms/a").is_ok());
        assert!(check_url("x", "http://[::1]:8080").is_ok());
        assert!(check_url("x", "http://auth.example.com").unwrap_err().contains("must use https"));
        assert!(check_url("x", "ftp://auth.example.com").is_err());
        assert!(check_url("x", "auth.example.com").is_err());
    }
}
