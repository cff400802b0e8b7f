//! The page of `--ui` through the router: off unless asked, behind the Host and Origin guard,
//! its answers under a Content-Security-Policy, and `/ui/tools.json` listing every compiled
//! statement of each tool from the static tables. (The page itself runs in a real browser in
//! `tests/ui/ui_test.mjs`; the auth services and scopes it lists are tested with the auth
//! toolboxes in `toolbox-runtime/tests/auth/ui.rs`.)

use crate::util::{config, send};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use std::sync::Arc;
use toolbox_runtime::auth::Auth;
use toolbox_runtime::http::{AppState, HostRule, HttpConfig, router};
use toolbox_runtime::testing;

struct UiApp {
    app: Router,
    _dir: tempfile::TempDir,
}

fn ui_app(ui: bool, config: HttpConfig) -> UiApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("airline.db").display().to_string();
    let mcp = testing::mcp(&toolbox::TOOLBOX, &testing::env(&[("TOOLBOX_DEMO_DB", &db)]));
    let state = AppState { ui, ..AppState::new(mcp, config, Auth::disabled()) };
    UiApp { app: router(Arc::new(state)), _dir: dir }
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::get(path);
    if !headers.iter().any(|(k, _)| *k == "host") {
        builder = builder.header("host", "127.0.0.1:5000");
    }
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(Body::empty()).unwrap()
}

const PATHS: [&str; 6] = ["/ui", "/ui/", "/ui/app.js", "/ui/style.css", "/ui/icon.svg", "/ui/tools.json"];

#[tokio::test]
async fn the_page_is_served_only_with_the_flag() {
    let off = ui_app(false, config());
    for path in PATHS {
        assert_eq!(send(&off.app, get(path, &[])).await.status, 404, "{path} without --ui");
    }
    let on = ui_app(true, config());
    for path in PATHS {
        let r = send(&on.app, get(path, &[])).await;
        assert_eq!(r.status, if path == "/ui" { 308 } else { 200 }, "{path} with --ui: {}", r.text);
    }
    assert_eq!(send(&on.app, get("/ui", &[])).await.headers["location"], "/ui/");
    assert_eq!(send(&on.app, get("/ui/nothing-here", &[])).await.status, 404);
}

#[tokio::test]
async fn every_answer_of_the_page_carries_its_policy_and_type() {
    let t = ui_app(true, config());
    let types = [
        ("/ui/", "text/html; charset=utf-8"),
        ("/ui/app.js", "text/javascript; charset=utf-8"),
        ("/ui/style.css", "text/css; charset=utf-8"),
        ("/ui/icon.svg", "image/svg+xml"),
        ("/ui/tools.json", "application/json"),
    ];
    for (path, content_type) in types {
        let r = send(&t.app, get(path, &[])).await;
        assert_eq!(r.headers["content-type"], content_type, "{path}");
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{path}");
    }
    // Nothing is loaded from another origin, and nothing inline (the policy would block it).
    let page = send(&t.app, get("/ui/", &[])).await.text;
    assert!(page.contains(r#"<script src="app.js" defer></script>"#));
    for path in ["/ui/", "/ui/app.js", "/ui/style.css"] {
        let text = send(&t.app, get(path, &[])).await.text;
        assert!(!text.contains("http://") && !text.contains("https://"), "{path} names another origin");
    }
    assert!(!page.contains("<style") && !page.contains("style=") && !page.contains("<script>"));
    // The page's code builds no HTML from strings.
    let script = send(&t.app, get("/ui/app.js", &[])).await.text;
    for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
        assert!(!script.contains(sink), "app.js uses {sink}");
    }
}

#[tokio::test]
async fn the_page_is_behind_the_host_and_origin_guard() {
    let t = ui_app(true, config());
    for path in PATHS {
        let r = send(&t.app, get(path, &[("host", "evil.example.com")])).await;
        assert_eq!(r.status, 403, "{path} for a foreign Host: {}", r.text);
        let r = send(&t.app, get(path, &[("origin", "http://evil.example.com")])).await;
        assert_eq!(r.status, 403, "{path} from a foreign Origin: {}", r.text);
    }
    // --allowed-hosts lets the page out of loopback like /mcp.
    let t = ui_app(true, HttpConfig { allowed_hosts: HostRule::parse_list(&["tools.example.com".into()]), ..config() });
    assert_eq!(send(&t.app, get("/ui/", &[("host", "tools.example.com")])).await.status, 200);
    assert_eq!(send(&t.app, get("/ui/", &[])).await.status, 403);
}

fn tools_json_tool<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name}"))
}

#[tokio::test]
async fn tools_json_lists_every_compiled_statement_with_its_columns() {
    let t = ui_app(true, config());
    let r = send(&t.app, get("/ui/tools.json", &[])).await;
    assert_eq!(r.headers["cache-control"], "no-store");
    let doc = r.body;
    assert_eq!(doc["mcpAuth"], false);
    assert_eq!(doc["authServices"], json!([]));
    let names: Vec<&str> = toolbox::TOOLBOX.tools.iter().map(|t| t.name).collect();
    assert_eq!(doc["tools"].as_array().unwrap().len(), names.len());
    let toolsets: Vec<(&str, &str)> = doc["toolsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["path"].as_str().unwrap()))
        .collect();
    assert_eq!(toolsets, [("", "/mcp"), ("traveller", "/mcp/traveller"), ("operations", "/mcp/operations")]);
    assert_eq!(doc["toolsets"][0]["tools"], json!(names));
    assert_eq!(doc["toolsets"][1]["tools"], json!(["book_seat", "get_flight", "list_bookings", "search_flights"]));
    assert!(doc["toolsets"][0]["instructions"].as_str().unwrap().contains("IATA codes"));

    // One statement, as compiled, with its described columns in order.
    let search = tools_json_tool(&doc, "search_flights");
    assert_eq!(search["statements"].as_array().unwrap().len(), 1);
    assert_eq!(search["statements"][0]["sql"], toolbox::tools::search_flights::STATEMENTS[0].sql);
    assert_eq!(search["statements"][0]["template"], json!({}));
    let columns: Vec<(&str, &str)> = search["statements"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        columns,
        [
            ("flight_number", "TEXT"),
            ("airline", "TEXT"),
            ("origin", "TEXT"),
            ("destination", "TEXT"),
            ("departure", "TEXT"),
            ("status", "TEXT"),
            ("seats", "INTEGER"),
            ("price", "REAL")
        ]
    );
    let params: Vec<&str> = search["params"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(params, ["origin", "destination", "departing_after", "limit"]);
    assert_eq!(search["headerParams"], json!([{"param": "origin", "header": "origin"}]));
    assert_eq!((search["source"].clone(), search["engine"].clone()), (json!("airline"), json!("sqlite")));
    assert_eq!((search["authRequired"].clone(), search["scopesRequired"].clone()), (json!([]), json!([])));
    assert_eq!(search["clientSql"], false);

    // A template parameter: one statement per allowed value, labelled with it, in the order the
    // handler picks them.
    let stats = tools_json_tool(&doc, "flight_stats");
    let statements = stats["statements"].as_array().unwrap();
    let compiled = &toolbox::tools::flight_stats::STATEMENTS;
    assert_eq!(statements.len(), compiled.len());
    for (i, (s, group)) in statements.iter().zip(["airline", "origin", "destination", "status"]).enumerate() {
        assert_eq!(s["template"], json!({"group_by": group}));
        assert_eq!(s["sql"], compiled[i].sql);
        assert!(s["sql"].as_str().unwrap().contains(&format!("GROUP BY \"{group}\"")), "{s}");
    }
    assert_eq!(stats["params"][0]["template"], true);

    // Client SQL has no statement of its own.
    let execute = tools_json_tool(&doc, "execute_sql");
    assert_eq!((execute["clientSql"].clone(), execute["statements"].clone()), (json!(true), json!([])));
}
