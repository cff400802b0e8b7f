//! Helpers for the integration tests: an app over a fresh demo database and request builders.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use toolbox_runtime::http::HttpConfig;
use toolbox_runtime::rate::Rate;
use toolbox_runtime::testing;
use tower::ServiceExt;

/// An app over its own copy of the demo database (created from the schema and seed).
pub struct TestApp {
    pub app: Router,
    _dir: tempfile::TempDir,
}

pub fn app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("airline.db").display().to_string();
    TestApp { app: app_with_database(&db, 1 << 20), _dir: dir }
}

pub fn app_with_database(db: &str, max_body_bytes: usize) -> Router {
    app_with(db, HttpConfig { max_body_bytes, ..config() }, None)
}

/// An app over its own copy of the demo database whose tools take at most `rate` per caller.
pub fn app_with_rate_limit(rate: Rate) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("airline.db").display().to_string();
    TestApp { app: app_with(&db, config(), Some(rate)), _dir: dir }
}

/// The HTTP settings of the tests: loopback hosts and origins, 1 MiB bodies, the default
/// body-read timeout.
pub fn config() -> HttpConfig {
    testing::http_config()
}

/// An app over the demo database at `db` with these HTTP settings.
pub fn app_with_config(db: &str, config: HttpConfig) -> Router {
    app_with(db, config, None)
}

fn app_with(db: &str, config: HttpConfig, rate: Option<Rate>) -> Router {
    let mcp = testing::mcp(&toolbox::TOOLBOX, &testing::env(&[("TOOLBOX_DEMO_DB", db)])).with_default_rate_limit(rate);
    testing::app(mcp, config, toolbox_runtime::auth::Auth::disabled())
}

/// A response: status, selected headers, and the body as JSON (or `Value::Null` when empty).
pub struct Response {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn send(app: &Router, request: Request<Body>) -> Response {
    let response = app.clone().oneshot(request).await.expect("router answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Response { status, headers, body, text }
}

/// A POST to `path` with JSON content type, a loopback Host, and extra headers.
pub fn post(path: &str, headers: &[(&str, &str)], body: impl Into<String>) -> Request<Body> {
    let mut builder = Request::post(path)
        .header("host", "127.0.0.1:5000")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(Body::from(body.into())).expect("request")
}

/// A legacy-era request, with `MCP-Protocol-Version` when `version` is given.
pub async fn legacy(app: &Router, version: Option<&str>, method: &str, params: Value) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let headers: Vec<(&str, &str)> = version.map(|v| vec![("mcp-protocol-version", v)]).unwrap_or_default();
    send(app, post("/mcp", &headers, body)).await
}

/// A 2026-07-28 request with its `_meta` and the `Mcp-Method` / `Mcp-Name` headers.
pub async fn modern(app: &Router, method: &str, mut params: Value) -> Response {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"}
    });
    let name = params.get("name").and_then(Value::as_str).map(str::to_string);
    let mut headers = vec![("mcp-protocol-version", "2026-07-28"), ("mcp-method", method)];
    if let Some(name) = name.as_deref() {
        headers.push(("mcp-name", name));
    }
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string();
    send(app, post("/mcp", &headers, body)).await
}

/// The rows of a successful tool result, parsed from its text content.
pub fn rows(result: &Value) -> Value {
    assert_ne!(result["isError"], json!(true), "tool failed: {result}");
    let text = result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text content in {result}"));
    serde_json::from_str(text).expect("text content is JSON")
}

/// The text of an error result.
pub fn error_text(result: &Value) -> String {
    assert_eq!(result["isError"], json!(true), "expected an isError result: {result}");
    result["content"][0]["text"].as_str().unwrap_or_default().to_string()
}
