//! Authorization, end to end through the HTTP router: toolboxes with auth services compiled by
//! the `toolbox!` macro, against a loopback OpenID provider made in the test (`issuer`) and
//! against panva's `oidc-provider` (`oidc_provider`, run with Node).

mod issuer;
mod matrix;
mod native;
mod oidc_provider;
mod ui;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use issuer::Issuer;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use toolbox_runtime::Toolbox;
use toolbox_runtime::auth::provider::Timing;
use toolbox_runtime::auth::{Auth, AuthOptions};
use toolbox_runtime::http::{AppState, router};
use toolbox_runtime::mcp::Mcp;
use tower::ServiceExt;

/// `mcp.yaml`: MCP authorization by `idp`, plus the native `corp` and `google` services.
pub mod guarded {
    toolbox_macros::toolbox!("mcp.yaml");
}

/// `native.yaml`: native tool auth only.
pub mod native_only {
    toolbox_macros::toolbox!("native.yaml");
}

pub const TOOLBOX_URL: &str = "http://127.0.0.1:5000";
pub const RESOURCE: &str = "http://127.0.0.1:5000/mcp";
pub const METADATA: &str = "http://127.0.0.1:5000/.well-known/oauth-protected-resource/mcp";
pub const GOOGLE_CLIENT: &str = "1234-toolbox.apps.googleusercontent.com";

pub struct App {
    pub router: Router,
    pub state: Arc<AppState>,
    pub _dir: tempfile::TempDir,
}

/// Fast timings for tests: retries every 50 ms, unknown-`kid` refetches at most every 2 s.
pub fn test_options() -> AuthOptions {
    AuthOptions {
        toolbox_url: Some(TOOLBOX_URL.into()),
        timing: Timing {
            retry_initial: Duration::from_millis(50),
            retry_max: Duration::from_millis(200),
            refetch_interval: Duration::from_secs(2),
            jwks_refresh: Duration::from_secs(3600),
        },
        ..AuthOptions::default()
    }
}

/// Builds the app for `toolbox` with `issuer` as `idp` and `corp`, and `google` as Google.
/// Waits until every provider is discovered when `wait` is set.
pub async fn app_with(
    toolbox: &'static Toolbox,
    issuer_url: &str,
    google: Option<&Issuer>,
    options: AuthOptions,
    extra_env: &[(&str, &str)],
    wait: bool,
) -> App {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env: HashMap<String, String> = HashMap::from([
        ("AUTH_TEST_DB".into(), dir.path().join("auth.db").display().to_string()),
        ("ISSUER_URL".into(), issuer_url.into()),
        ("TOOLBOX_AUDIENCE".into(), RESOURCE.into()),
        ("GOOGLE_CLIENT_ID".into(), GOOGLE_CLIENT.into()),
        ("INTROSPECTION_CLIENT_ID".into(), issuer::CLIENT_ID.into()),
        ("INTROSPECTION_CLIENT_SECRET".into(), issuer::CLIENT_SECRET.into()),
    ]);
    for (k, v) in extra_env {
        env.insert(k.to_string(), v.to_string());
    }
    let lookup = move |name: &str| env.get(name).cloned();
    let options =
        AuthOptions { google_issuer: google.map_or(options.google_issuer.clone(), |g| g.url.clone()), ..options };
    let sources = toolbox.resolve_sources_with(&lookup).expect("settings resolve");
    let auth = Auth::new(toolbox, &lookup, options).expect("auth settings");
    auth.start();
    if wait {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !auth.ready() {
            assert!(Instant::now() < deadline, "the authorization servers were not discovered in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mcp = Mcp::new(toolbox, Arc::new(sources));
    // With the page of `--ui` (ui.rs).
    let state = Arc::new(AppState { ui: true, ..AppState::new(mcp, toolbox_runtime::testing::http_config(), auth) });
    App { router: router(state.clone()), state, _dir: dir }
}

/// The guarded toolbox against a running loopback issuer (and a second one as Google).
pub async fn guarded_app(issuer: &Issuer, google: &Issuer) -> App {
    app_with(&guarded::TOOLBOX, &issuer.url, Some(google), test_options(), &[], true).await
}

pub struct Reply {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The `WWW-Authenticate` challenge: scheme and parameters.
    pub fn challenge(&self) -> (String, BTreeMap<String, String>) {
        let value = self
            .headers
            .get("www-authenticate")
            .unwrap_or_else(|| panic!("no WWW-Authenticate header (status {}, body {})", self.status, self.text));
        parse_challenge(value.to_str().unwrap())
    }

    pub fn has_challenge(&self) -> bool {
        self.headers.contains_key("www-authenticate")
    }

    /// The rows of a successful tool call.
    pub fn rows(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.text);
        let result = &self.body["result"];
        assert_ne!(result["isError"], json!(true), "tool failed: {result}");
        serde_json::from_str(result["content"][0]["text"].as_str().expect("text content")).expect("rows")
    }

    /// Asserts a JSON-RPC error with this code, returns its message.
    pub fn error(&self, code: i64) -> String {
        assert_eq!(self.body["jsonrpc"], "2.0", "{}", self.text);
        assert_eq!(self.body["error"]["code"], code, "{}", self.text);
        self.body["error"]["message"].as_str().unwrap_or_default().to_string()
    }
}

/// `Bearer a="b", c="d"` → (`Bearer`, {a: b, c: d}). Values are quoted strings without escapes.
pub fn parse_challenge(text: &str) -> (String, BTreeMap<String, String>) {
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    let mut params = BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=').unwrap_or_else(|| panic!("bad challenge {text}"));
        let after = after.strip_prefix('"').unwrap_or_else(|| panic!("unquoted value in {text}"));
        let end = after.find('"').unwrap_or_else(|| panic!("unterminated value in {text}"));
        assert!(params.insert(key.trim().to_string(), after[..end].to_string()).is_none(), "duplicate in {text}");
        rest = after[end + 1..].trim_start_matches([',', ' ']);
    }
    (scheme.to_string(), params)
}

pub fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.expect("router answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    Reply { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), text }
}

/// A POST to `/mcp` at protocol 2025-11-25 with these headers.
pub async fn post(app: &App, headers: &[(&str, &str)], body: &Value) -> Reply {
    post_to(app, "/mcp", headers, body).await
}

/// A POST to `path` at protocol 2025-11-25 (unless the headers name another) with these headers.
pub async fn post_to(app: &App, path: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
    let mut builder = Request::post(path)
        .header("host", "127.0.0.1:5000")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("mcp-protocol-version")) {
        builder = builder.header("mcp-protocol-version", "2025-11-25");
    }
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    send(&app.router, builder.body(Body::from(body.to_string())).unwrap()).await
}

pub fn call_body(tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 42, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

/// `tools/call` with a bearer token.
pub async fn call(app: &App, token: &str, tool: &str, arguments: Value) -> Reply {
    let bearer = format!("Bearer {token}");
    post(app, &[("authorization", bearer.as_str())], &call_body(tool, arguments)).await
}

pub async fn get(app: &App, path: &str) -> Reply {
    send(&app.router, Request::get(path).header("host", "127.0.0.1:5000").body(Body::empty()).unwrap()).await
}
