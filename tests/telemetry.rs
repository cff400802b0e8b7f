//! Health, readiness and the Prometheus metrics, through the router: what each answers, and the
//! metrics counted against the calls made.

use crate::util::*;
use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use std::sync::Arc;
use toolbox_runtime::http::{AppState, Readiness, router};
use toolbox_runtime::telemetry::{Telemetry, TelemetryConfig};
use toolbox_runtime::testing;

/// An app over the demo database at `db`, with `/readyz` waiting for `required`, and with the
/// Prometheus metrics on when `metrics`.
fn observed_app(db: &str, required: &[&str], metrics: bool) -> axum::Router {
    let mut mcp = testing::mcp(&toolbox::TOOLBOX, &testing::env(&[("TOOLBOX_DEMO_DB", db)]));
    if metrics {
        let config = TelemetryConfig { prometheus: true, service_name: "toolbox-test".into(), ..Default::default() };
        let telemetry = Telemetry::start(&config, mcp.sources.clone()).expect("telemetry starts");
        mcp = mcp.with_telemetry(telemetry);
    }
    let state = AppState {
        readiness: Readiness::new(required.iter().map(|s| s.to_string()).collect()),
        metrics_here: metrics,
        ..AppState::new(mcp, config(), toolbox_runtime::auth::Auth::disabled())
    };
    router(Arc::new(state))
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).header("host", "127.0.0.1:5000").body(Body::empty()).unwrap()
}

/// `/healthz` is liveness only: 200 and nothing about the databases, even when one cannot open
/// (its error would name the file or the database user); `/readyz` names the required source
/// that does not answer, without its error.
#[tokio::test]
async fn health_shows_nothing_and_readiness_names_the_source_that_is_down() {
    let app = observed_app("/proc/no-such-dir/airline.db", &["airline"], false);
    let health = send(&app, get("/healthz")).await;
    assert_eq!((health.status, health.text.as_str()), (200, r#"{"status":"ok"}"#));
    let ready = send(&app, get("/readyz")).await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.body, json!({"status": "unavailable", "sources": ["airline"]}));
    assert!(!ready.text.contains("no-such-dir"), "{}", ready.text);

    // A source that is not required does not hold readiness back.
    let app = observed_app("/proc/no-such-dir/airline.db", &[], false);
    assert_eq!(send(&app, get("/readyz")).await.status, 200);
}

#[tokio::test]
async fn readiness_is_ready_when_the_required_source_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("airline.db").display().to_string();
    let app = observed_app(&db, &["airline"], false);
    let ready = send(&app, get("/readyz")).await;
    assert_eq!((ready.status, ready.body.clone()), (200, json!({"status": "ready"})));
    assert_eq!(ready.headers["cache-control"], "no-store");
}

/// A server that drains for shutdown is not ready, whatever its sources say.
#[tokio::test]
async fn a_draining_server_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("airline.db").display().to_string();
    let mcp = testing::mcp(&toolbox::TOOLBOX, &testing::env(&[("TOOLBOX_DEMO_DB", &db)]));
    let state = Arc::new(AppState::new(mcp, config(), toolbox_runtime::auth::Auth::disabled()));
    let app = router(state.clone());
    assert_eq!(send(&app, get("/readyz")).await.status, 200);
    state.readiness.drain();
    let ready = send(&app, get("/readyz")).await;
    assert_eq!((ready.status, ready.body), (503, json!({"status": "draining"})));
    assert_eq!(send(&app, get("/healthz")).await.status, 200, "still alive while it drains");
}

/// The value of the series `name{labels...}` in a Prometheus text, when present.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
        if metric != name {
            return None;
        }
        let all = labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        // Only the series with exactly these labels (no `error_type` unless asked for).
        let count = rest.matches("=\"").count();
        (all && count == labels.len()).then(|| value.parse().ok()).flatten()
    })
}

/// Calls made through the router are counted in `/metrics` by tool and outcome, with the
/// histograms of the MCP semantic conventions; a made-up tool name never becomes a label.
#[tokio::test]
async fn metrics_count_the_calls_made() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("airline.db").display().to_string();
    let app = observed_app(&db, &[], true);
    let call = |name: &'static str, arguments: serde_json::Value| {
        let app = app.clone();
        async move { legacy(&app, Some("2025-11-25"), "tools/call", json!({"name": name, "arguments": arguments})).await }
    };
    for _ in 0..3 {
        let r = call("search_flights", json!({"origin": "SFO", "destination": "JFK", "limit": 2})).await;
        assert_ne!(r.body["result"]["isError"], true, "{}", r.body);
    }
    for _ in 0..2 {
        let r = call("search_flights", json!({"origin": 7})).await;
        assert_eq!(r.body["result"]["isError"], true);
    }
    let unknown = call("drop_everything_please", json!({})).await;
    assert_eq!(unknown.body["error"]["code"], -32602);
    assert_eq!(legacy(&app, Some("2025-11-25"), "tools/list", json!({})).await.status, 200);

    let metrics = send(&app, get("/metrics")).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = metrics.text;
    let tool = |outcome| [("gen_ai_tool_name", "search_flights"), ("outcome", outcome), ("toolset_name", "default")];
    assert_eq!(sample(&text, "toolbox_tool_calls_total", &tool("ok")), Some(3.0), "{text}");
    assert_eq!(sample(&text, "toolbox_tool_calls_total", &tool("invalid_arguments")), Some(2.0), "{text}");
    assert_eq!(sample(&text, "toolbox_tool_execution_duration_seconds_count", &tool("ok")), Some(3.0), "{text}");
    let rows = sample(&text, "toolbox_tool_rows_total", &[("gen_ai_tool_name", "search_flights")]);
    assert!(rows.is_some_and(|r| r > 0.0 && r <= 6.0), "at most 2 rows a call: {rows:?}\n{text}");
    let operation = [
        ("gen_ai_operation_name", "execute_tool"),
        ("gen_ai_tool_name", "search_flights"),
        ("mcp_method_name", "tools/call"),
        ("mcp_protocol_version", "2025-11-25"),
        ("network_transport", "tcp"),
        ("toolset_name", "default"),
    ];
    assert_eq!(sample(&text, "mcp_server_operation_duration_seconds_count", &operation), Some(3.0), "{text}");
    let mut failed = operation.to_vec();
    failed.push(("error_type", "tool_error"));
    assert_eq!(sample(&text, "mcp_server_operation_duration_seconds_count", &failed), Some(2.0), "{text}");
    // The semantic conventions' buckets: 10 ms is the first bound.
    assert!(text.contains(r#"le="0.01""#) && text.contains(r#"le="300""#), "{text}");
    let list = [
        ("mcp_method_name", "tools/list"),
        ("mcp_protocol_version", "2025-11-25"),
        ("network_transport", "tcp"),
        ("toolset_name", "default"),
    ];
    assert_eq!(sample(&text, "mcp_server_operation_duration_seconds_count", &list), Some(1.0), "{text}");
    assert!(!text.contains("drop_everything_please"), "a made-up tool name became a label:\n{text}");
    let pool = [("db_client_connection_pool_name", "airline")];
    assert_eq!(sample(&text, "db_client_connection_max", &pool), Some(4.0), "{text}");
    assert_eq!(sample(&text, "db_client_connection_pending_requests", &pool), Some(0.0), "{text}");
}

/// Without `--metrics` there is no `/metrics`.
#[tokio::test]
async fn metrics_are_off_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("airline.db").display().to_string();
    let app = observed_app(&db, &[], false);
    assert_eq!(send(&app, get("/metrics")).await.status, 404);
}

/// `/metrics` on the main listener is under the Host rule, like `/mcp`.
#[tokio::test]
async fn metrics_refuse_a_foreign_host() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("airline.db").display().to_string();
    let app = observed_app(&db, &[], true);
    let foreign = Request::get("/metrics").header("host", "evil.example").body(Body::empty()).unwrap();
    assert_eq!(send(&app, foreign).await.status, 403);
}
