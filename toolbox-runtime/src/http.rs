//! Streamable HTTP: the axum router, the Host/Origin guards, the body's size limit and read
//! timeout.
//!
//! Layer order on `/mcp` (outermost first): CORS, then the Host and Origin checks, then the
//! handler, which checks the credentials ([`Auth`]), reads the body under the size limit and the
//! body-read timeout and hands it to [`Mcp`]. `/mcp/` and `/mcp/{toolset}/` are the same
//! endpoints as `/mcp` and `/mcp/{toolset}`. With MCP authorization on, the RFC 9728 document is
//! served at `/.well-known/oauth-protected-resource` and its path forms for `/mcp` and `/mcp/`,
//! without credentials. With `--ui`, the page of [`crate::ui`] is served at `/ui/` under the
//! same Host and Origin guard. The connections themselves (header and idle timeouts, shutdown) are
//! [`crate::serve`]'s.

use crate::auth::Auth;
use crate::error::RpcError;
use crate::mcp::{Headers, Mcp, Transport};
use crate::protocol::{Method as McpMethod, Version, code, decode_header_value};
use axum::Router;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Which `Host` (or `Origin` host) values are accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostRule {
    Any,
    /// `localhost`, `127.0.0.1`, `::1` and other loopback addresses.
    Loopback,
    /// Exact host names (ports ignored), lower case.
    List(Vec<String>),
}

impl HostRule {
    /// Parses a comma-separated flag value; `*` allows any.
    pub fn parse_list(values: &[String]) -> Self {
        if values.iter().any(|v| v.trim() == "*") {
            return HostRule::Any;
        }
        HostRule::List(values.iter().map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty()).collect())
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        match self {
            HostRule::Any => true,
            HostRule::Loopback => is_loopback_name(&host),
            HostRule::List(list) => list.contains(&host),
        }
    }
}

/// Origins are compared as `scheme://host[:port]`, or by host for the loopback rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginRule {
    Any,
    Loopback,
    List(Vec<String>),
}

impl OriginRule {
    pub fn parse_list(values: &[String]) -> Self {
        if values.iter().any(|v| v.trim() == "*") {
            return OriginRule::Any;
        }
        OriginRule::List(
            values
                .iter()
                .map(|v| v.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|v| !v.is_empty())
                .collect(),
        )
    }

    fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        match self {
            OriginRule::Any => true,
            OriginRule::Loopback => origin_host(&origin).is_some_and(is_loopback_name),
            OriginRule::List(list) => list.contains(&origin),
        }
    }
}

fn is_loopback_name(host: &str) -> bool {
    let host = strip_port(host);
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `example.com:8080` → `example.com`; `[::1]:5000` → `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn origin_host(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    Some(strip_port(rest.split('/').next().unwrap_or(rest)))
}

/// HTTP settings that are not part of the MCP layer.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub allowed_hosts: HostRule,
    pub allowed_origins: OriginRule,
    pub max_body_bytes: usize,
    /// The longest a request body may take to arrive, from when the handler starts reading it.
    pub body_read_timeout: Duration,
}

impl HttpConfig {
    /// The default body-read timeout (`--body-read-timeout`).
    pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
}

pub struct AppState {
    pub mcp: Mcp,
    pub config: HttpConfig,
    /// [`Auth::disabled`] when the toolbox has no auth services.
    pub auth: Auth,
    /// What `/readyz` waits for.
    pub readiness: Readiness,
    /// `/metrics` on this router (`--metrics` without `--metrics-address`).
    pub metrics_here: bool,
    /// The page at `/ui` (`--ui`), see [`crate::ui`].
    pub ui: bool,
}

impl AppState {
    /// The state of a server without readiness requirements or a metrics endpoint.
    pub fn new(mcp: Mcp, config: HttpConfig, auth: Auth) -> Self {
        Self { mcp, config, auth, readiness: Readiness::new(Vec::new()), metrics_here: false, ui: false }
    }
}

/// Whether the server should be sent traffic: not while it drains for shutdown, nor while a
/// source it requires does not answer.
pub struct Readiness {
    required: Vec<String>,
    draining: std::sync::atomic::AtomicBool,
}

impl Readiness {
    pub fn new(required: Vec<String>) -> Self {
        Self { required, draining: std::sync::atomic::AtomicBool::new(false) }
    }

    /// From now on, not ready: the server is shutting down.
    pub fn drain(&self) {
        self.draining.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// How long `/readyz` waits for the required sources to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The whole HTTP surface. Tests drive it with `tower::ServiceExt::oneshot`, no socket needed.
pub fn router(state: Arc<AppState>) -> Router {
    let cors_rule = state.config.allowed_origins.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| cors_rule.allows(o))
        }))
        .allow_methods([Method::POST, Method::GET, Method::DELETE, Method::OPTIONS])
        .allow_headers(
            [
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::AUTHORIZATION,
                header::HeaderName::from_static("mcp-protocol-version"),
                header::HeaderName::from_static("mcp-method"),
                header::HeaderName::from_static("mcp-name"),
                SESSION_ID,
                header::HeaderName::from_static("last-event-id"),
            ]
            .into_iter()
            .chain(state.auth.token_headers())
            .collect::<Vec<_>>(),
        )
        .expose_headers([header::WWW_AUTHENTICATE, SESSION_ID]);
    // The reference's SDKs post to `/mcp/` (and `/mcp/{toolset}/` when a base URL ends in a
    // slash): each path is served with and without its trailing slash.
    let mut mcp = Router::new();
    for path in ["/mcp", "/mcp/"] {
        mcp = mcp.route(path, post(post_default).get(no_stream).delete(no_stream));
    }
    for path in ["/mcp/{toolset}", "/mcp/{toolset}/"] {
        mcp = mcp.route(path, post(post_toolset).get(no_stream).delete(no_stream));
    }
    if state.auth.mcp_enabled() {
        for path in [
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource/mcp/",
        ] {
            mcp = mcp.route(path, get(protected_resource_metadata));
        }
    }
    if state.metrics_here {
        mcp = mcp.route("/metrics", get(metrics));
    }
    if state.ui {
        mcp = mcp.merge(crate::ui::routes());
    }
    let mcp = mcp.layer(middleware::from_fn_with_state(state.clone(), guard_host_and_origin)).layer(cors);
    Router::new()
        .route("/", get(|| async { "toolbox: an MCP server for databases. POST JSON-RPC to /mcp.\n" }))
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .merge(mcp)
        .with_state(state)
}

/// The router of `--metrics-address`: `/metrics` only.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}

/// DNS-rebinding protection: a foreign host or `Origin` is refused with 403.
///
/// Every host a request names must be allowed: its `Host` header and, for an absolute-form
/// target (`POST http://evil.example/mcp`), the target's authority, which RFC 9112 §3.2.2 makes
/// the request's host in place of `Host`. A foreign one is 403, as for any foreign host: the
/// request is well-formed, it is aimed elsewhere. More than one `Host` header, or one that is not
/// text, is 400: RFC 9112 §3.2 requires a 400 for such a request, which is malformed rather than
/// foreign (and two hosts are how two readers of one request are made to disagree about it).
async fn guard_host_and_origin(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let (header_host, more) = (hosts.next(), hosts.next());
    if more.is_some() {
        return RpcError::new(400, code::INVALID_REQUEST, "a request has one Host header").into_response();
    }
    let header_host = match header_host.map(|h| h.to_str()) {
        Some(Err(_)) => {
            return RpcError::new(400, code::INVALID_REQUEST, "the Host header is not valid").into_response();
        }
        Some(Ok(h)) => Some(strip_port(h)),
        None => None,
    };
    let target_host = request.uri().authority().map(|a| a.host());
    let rule = &state.config.allowed_hosts;
    let named = [header_host, target_host];
    let host_ok = named.iter().any(Option::is_some) && named.iter().flatten().all(|h| rule.allows_host(h));
    if !host_ok {
        return RpcError::new(
            403,
            code::INVALID_REQUEST,
            "the host of the request is not allowed; see --allowed-hosts",
        )
        .into_response();
    }
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| state.config.allowed_origins.allows(o))
    {
        return RpcError::new(403, code::INVALID_REQUEST, "the Origin header is not allowed; see --allowed-origins")
            .into_response();
    }
    next.run(request).await
}

async fn post_default(State(state): State<Arc<AppState>>, request: Request) -> Response {
    handle_post(&state, None, request).await
}

async fn post_toolset(State(state): State<Arc<AppState>>, Path(toolset): Path<String>, request: Request) -> Response {
    handle_post(&state, Some(&toolset), request).await
}

async fn handle_post(state: &AppState, toolset: Option<&str>, request: Request) -> Response {
    // The peer's address, when the server recorded it (not in tests that drive the router).
    let client = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    // Credentials first: an unauthenticated client learns nothing else about the server.
    let caller = match state.auth.authenticate(headers).await {
        Ok(caller) => caller,
        Err(rejection) => return state.auth.reject(&rejection),
    };
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !json {
        return RpcError::new(415, code::INVALID_REQUEST, "Content-Type must be application/json").into_response();
    }
    let Some(toolset) = state.mcp.toolbox.toolset(toolset) else {
        let name = toolset.unwrap_or_default();
        return RpcError::new(404, code::INVALID_REQUEST, format!("unknown toolset `{name}`")).into_response();
    };
    let decoded = |name: &str| headers.get(name).and_then(|v| decode_header_value(v.as_bytes()));
    let (version, method, name) = (decoded("mcp-protocol-version"), decoded("mcp-method"), decoded("mcp-name"));
    // A 2026-07-28 call names its tool in headers: a call over its rate is refused before its
    // body is read, with the time to wait.
    let mut rate_checked = false;
    if method.as_deref().and_then(McpMethod::parse) == Some(McpMethod::ToolsCall)
        && let Some(tool) = name.as_deref()
        && let Some((index, _)) = state.mcp.toolbox.tool(tool).filter(|(i, _)| toolset.has_tool(*i))
    {
        let caller_key = crate::rate::caller_key(&caller, client, false);
        if let Err(refused) = state.mcp.rate_limits.check(index, &caller_key) {
            let mut response = RpcError::new(429, code::INVALID_REQUEST, refused.message(tool)).into_response();
            let seconds = refused.retry_after.as_secs_f64().ceil().max(1.0) as u64;
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        rate_checked = true;
    }
    let limit = state.config.max_body_bytes;
    let timeout = state.config.body_read_timeout;
    let bytes = match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => {
            return RpcError::new(413, code::INVALID_REQUEST, format!("the request body exceeds {limit} bytes"))
                .into_response();
        }
        // A malformed chunked encoding, or a connection that broke mid-body.
        Ok(Err(_)) => {
            return RpcError::new(400, code::INVALID_REQUEST, "the request body could not be read").into_response();
        }
        Err(_) => {
            // The rest of the body is still on its way: the connection cannot carry another
            // request, so it is closed after this answer.
            let mut response = RpcError::new(
                408,
                code::INVALID_REQUEST,
                format!("the request body did not arrive within {} ms", timeout.as_millis()),
            )
            .into_response();
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    let params: Vec<(String, Option<String>)> = headers
        .iter()
        .filter_map(|(k, v)| {
            let suffix = k.as_str().strip_prefix("mcp-param-")?;
            Some((suffix.to_string(), decode_header_value(v.as_bytes())))
        })
        .collect();
    let transport = Transport::Http(Headers {
        protocol_version: version.as_deref(),
        method: method.as_deref(),
        name: name.as_deref(),
        params: &params,
        client,
        rate_checked,
        traceparent: headers.get("traceparent").and_then(|v| v.to_str().ok()),
        tracestate: headers.get("tracestate").and_then(|v| v.to_str().ok()),
    });
    let reply = state.mcp.handle_body(toolset, &bytes, transport, &caller).await;
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let mut response = match reply.body {
        Some(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    };
    if let Some(challenge) = reply.denied.and_then(|d| state.auth.challenge(d)) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    }
    if reply.negotiated == Some(Version::V20250326) {
        response.headers_mut().insert(SESSION_ID, session_id());
    }
    response
}

const SESSION_ID: header::HeaderName = header::HeaderName::from_static("mcp-session-id");

/// An `Mcp-Session-Id` for an `initialize` negotiated to 2025-03-26, as the reference sends:
/// its SDKs refuse a 2025-03-26 server without one. The server keeps no session: the id is
/// never stored or checked (requests are answered on their own, with or without it), so it is
/// no credential; it is only unique and unguessable, 128 bits from std's randomly keyed SipHash.
fn session_id() -> HeaderValue {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let keys = RandomState::new();
    let id = format!("{:016x}{:016x}", keys.hash_one((n, 0u8)), keys.hash_one((n, 1u8)));
    HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// RFC 9728 Protected Resource Metadata, made at start-up.
async fn protected_resource_metadata(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "max-age=3600")],
        state.auth.metadata_json().to_string(),
    )
        .into_response()
}

/// No standalone SSE stream and no sessions: GET and DELETE are 405, as the spec allows.
async fn no_stream() -> Response {
    let mut response = RpcError::new(
        405,
        code::INVALID_REQUEST,
        "this server answers POST only; it keeps no SSE stream and no session",
    )
    .into_response();
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// Liveness: the process answers. Nothing about the databases (their errors name users and
/// hosts), and no work: a restart would not fix a database that is down.
async fn health() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#).into_response()
}

/// Readiness: 503 while the server drains for shutdown or a required source does not answer
/// (named, without its error), else 200.
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let json = |status: StatusCode, body: serde_json::Value| {
        let headers = [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")];
        (status, headers, body.to_string()).into_response()
    };
    let readiness = &state.readiness;
    if readiness.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return json(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({"status": "draining"}));
    }
    if readiness.required.is_empty() {
        return json(StatusCode::OK, serde_json::json!({"status": "ready"}));
    }
    // A source that does not answer in time counts as down, like one that refuses.
    let unreachable: Vec<&str> =
        match tokio::time::timeout(READY_TIMEOUT, state.mcp.sources.unreachable(&readiness.required)).await {
            Ok(down) => down,
            Err(_) => readiness.required.iter().map(String::as_str).collect(),
        };
    if unreachable.is_empty() {
        json(StatusCode::OK, serde_json::json!({"status": "ready"}))
    } else {
        json(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({"status": "unavailable", "sources": unreachable}))
    }
}

/// The Prometheus text of every instrument.
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    match state.mcp.telemetry.render_prometheus() {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_rules() {
        assert!(HostRule::Loopback.allows_host("localhost"));
        assert!(HostRule::Loopback.allows_host("127.0.0.1"));
        assert!(HostRule::Loopback.allows_host("[::1]"));
        assert!(!HostRule::Loopback.allows_host("evil.example.com"));
        assert_eq!(strip_port("[::1]:5000"), "[::1]");
        assert_eq!(strip_port("localhost:5000"), "localhost");
        let list = HostRule::parse_list(&["db.example.com".into()]);
        assert!(list.allows_host("DB.example.com"));
        assert!(!list.allows_host("localhost"));
    }

    #[test]
    fn origin_rules() {
        assert!(OriginRule::Loopback.allows("http://localhost:6274"));
        assert!(OriginRule::Loopback.allows("http://127.0.0.1:5000"));
        assert!(!OriginRule::Loopback.allows("http://evil.example.com"));
        assert!(!OriginRule::Loopback.allows("null"));
        let list = OriginRule::parse_list(&["https://app.example.com/".into()]);
        assert!(list.allows("https://app.example.com"));
    }
}
