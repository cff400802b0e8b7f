//! An `http` source at start-up: its settings resolved into a client, a base URL, default query
//! parameters and each tool's headers. Nothing is sent until a tool is called, so a server that is
//! down never stops the toolbox.

use super::def::HttpSourceDef;
use crate::db::{BoxFuture, Engine, PoolStats, Source};
use crate::setting::{Setting, StartupError, resolve_setting};
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;

/// The most redirects followed, each to the same scheme, host and port as the request.
pub const MAX_REDIRECTS: usize = 3;

pub struct HttpSource {
    pub(super) name: &'static str,
    pub(super) client: reqwest::Client,
    /// The base URL as text, without a trailing `/`; a path is appended to it.
    pub(super) base: String,
    pub(super) base_url: Url,
    pub(super) query: Vec<(String, String)>,
    /// By tool slot: the source's headers, overridden by the tool's own.
    pub(super) headers: Vec<HeaderMap>,
    pub(super) timeout_ms: u64,
    pub(super) return_full_error: bool,
}

/// The `http` source generated code asks for.
pub fn source(source: &Source) -> Result<&HttpSource, String> {
    source.engine::<HttpSource>()
}

impl HttpSource {
    pub fn open(
        config_path: &str,
        name: &'static str,
        def: &HttpSourceDef,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let owner = format!("source `{name}`");
        let resolve = |s: &Setting| resolve_setting(config_path, &owner, s, lookup);
        let at = |s: &Setting, message: String| {
            StartupError(format!("{config_path}:{}:{}: {owner}: {message}", s.line, s.col))
        };
        let base = resolve(&def.base_url)?;
        toolbox_config::http::check_base_url(&base).map_err(|e| at(&def.base_url, e))?;
        let base_url = Url::parse(&base).map_err(|e| at(&def.base_url, e.to_string()))?;
        let timeout_ms = match &def.timeout {
            None => toolbox_config::http::DEFAULT_TIMEOUT_MS,
            Some(s) => match toolbox_config::duration::parse(&resolve(s)?, false).filter(|d| !d.is_zero()) {
                Some(d) => u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
                None => return Err(at(s, "`timeout` is not a duration above zero (e.g. `30s`)".into())),
            },
        };
        let mut query = Vec::with_capacity(def.query_params.len());
        for (key, value) in def.query_params {
            query.push((key.to_string(), resolve(value)?));
        }
        // A header's value is never echoed: it may be a credential.
        let header = |map: &mut HeaderMap, name: &str, setting: &Setting| -> Result<(), StartupError> {
            let value = resolve(setting)?;
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| at(setting, format!("`{name}` is not a valid header name")))?;
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                at(
                    setting,
                    format!("the value of header `{name}` has a character a header cannot carry (a line break, say)"),
                )
            })?;
            value.set_sensitive(true);
            map.insert(name, value);
            Ok(())
        };
        let mut shared = HeaderMap::new();
        for (name, setting) in def.headers {
            header(&mut shared, name, setting)?;
        }
        let mut headers = Vec::with_capacity(def.tool_headers.len());
        for tool in def.tool_headers {
            let mut map = shared.clone();
            for (name, setting) in *tool {
                header(&mut map, name, setting)?;
            }
            headers.push(map);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(timeout_ms))
            .redirect(redirect_policy())
            .tls_danger_accept_invalid_certs(def.disable_ssl_verification)
            .build()
            .map_err(|e| at(&def.base_url, format!("cannot make its HTTP client: {e}")))?;
        if def.disable_ssl_verification {
            tracing::warn!(source = name, "disableSslVerification: the server's TLS certificate is not checked");
        }
        Ok(Self {
            name,
            client,
            base: base.trim_end_matches('/').to_string(),
            base_url,
            query,
            headers,
            timeout_ms,
            return_full_error: def.return_full_error,
        })
    }
}

/// Redirects are followed only to the same origin (scheme, host and port) and at most
/// [`MAX_REDIRECTS`] times; anything else fails the call, naming the host it pointed to.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt.previous().first().is_none_or(|first| first.origin() == attempt.url().origin());
        if !same_origin {
            let to = attempt.url().host_str().unwrap_or("?").to_string();
            attempt.error(format!("the answer redirected to another host (`{to}`), which is not followed"))
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else {
            attempt.follow()
        }
    })
}

impl Engine for HttpSource {
    fn kind(&self) -> &'static str {
        "http"
    }

    /// An HTTP API has no statements to compare and no standard health endpoint: nothing is
    /// sent, and each call reports what it met.
    fn compare<'a>(&'a self, _drift: &'a mut Vec<String>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn stats(&self) -> Option<PoolStats> {
        None
    }
}
