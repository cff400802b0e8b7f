//! `http` tools end to end: a toolbox compiled by the `toolbox!` macro from `http.yaml`, called
//! through the method layer, against an HTTP server made in the test on 127.0.0.1:0 that records
//! every request it receives. What the server saw is the proof of the binding and the escaping.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toolbox_runtime::mcp::Mcp;
use toolbox_runtime::testing;

mod toolbox {
    toolbox_macros::toolbox!("http.yaml");
}

/// A request as the server received it: the path and query exactly as sent.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// The answers of `/v1/fixtures/...` and `/fixtures/...`; anything else echoes `{"ok": true}`.
async fn answer(State(log): State<Log>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    log.lock().unwrap().push(Seen { method, uri: uri.to_string(), headers: headers.clone(), body });
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
    let port = host.rsplit(':').next().unwrap_or("");
    let json = [(header::CONTENT_TYPE, "application/json")];
    match path.trim_start_matches("/v1") {
        "/fixtures/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            (json, "{}").into_response()
        }
        "/fixtures/huge" => (json, vec![b'x'; 9 << 20]).into_response(),
        "/fixtures/text" => ([(header::CONTENT_TYPE, "text/plain")], "plain words").into_response(),
        "/fixtures/missing" => (StatusCode::NOT_FOUND, "no such thing").into_response(),
        "/fixtures/away" => {
            // Another host name for the same server: only the host differs.
            let to = format!("http://localhost:{port}/v1/fixtures/landed");
            (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
        }
        "/fixtures/here" => (StatusCode::FOUND, [(header::LOCATION, "/v1/fixtures/landed")]).into_response(),
        _ => (json, r#"{"ok": true}"#).into_response(),
    }
}

struct Server {
    base: String,
    log: Log,
}

impl Server {
    async fn start() -> Self {
        let log: Log = Arc::default();
        let app = Router::new().fallback(answer).with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, log }
    }

    /// What the server received since the last look.
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

fn mcp(server: &Server) -> Mcp {
    let env = testing::env(&[
        ("HTTP_TEST_BASE", &server.base),
        ("HTTP_TEST_TOKEN", "t0k3n"),
        ("HTTP_TEST_KEY", "k&y"),
        // Port 1 on loopback: nothing listens.
        ("HTTP_TEST_DOWN", "http://127.0.0.1:1"),
    ]);
    testing::mcp(&toolbox::TOOLBOX, &env)
}

fn error_text(result: &Value) -> &str {
    assert_eq!(result["isError"], true, "{result}");
    result["content"][0]["text"].as_str().unwrap()
}

fn query_pairs(uri: &str) -> Vec<(String, String)> {
    let query = uri.split_once('?').map(|(_, q)| q).unwrap_or("");
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

#[tokio::test]
async fn path_query_and_headers_are_bound_and_escaped() {
    let server = Server::start().await;
    let mcp = mcp(&server);
    let result =
        testing::call(&mcp, "user_posts", json!({"id": "ada", "q": "a&b=c d", "tag": ["x", "y z"], "X-Trace": "t-1"}))
            .await;
    assert_eq!(
        result["structuredContent"],
        json!({"status": 200, "contentType": "application/json", "body": {"ok": true}})
    );
    let seen = server.take();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, Method::GET);
    assert!(request.uri.starts_with("/v1/users/ada/posts?"), "{}", request.uri);
    let expected: Vec<(String, String)> =
        [("lang", "en"), ("key", "k&y"), ("q", "a&b=c d"), ("tag", "x"), ("tag", "y z")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(query_pairs(&request.uri), expected);
    // The source's header, its `${HTTP_TEST_TOKEN}` read at start-up; the tool's; the parameter's.
    assert_eq!(request.headers["authorization"], "Bearer t0k3n");
    assert_eq!(request.headers["x-tool"], "user_posts");
    assert_eq!(request.headers["x-trace"], "t-1");

    // A path parameter is one segment, whatever it holds.
    for (id, path) in [
        ("../admin", "/v1/users/..%2Fadmin/posts"),
        ("a/b", "/v1/users/a%2Fb/posts"),
        ("?x=1", "/v1/users/%3Fx%3D1/posts"),
        ("%2F", "/v1/users/%252F/posts"),
        ("#frag", "/v1/users/%23frag/posts"),
        ("é", "/v1/users/%C3%A9/posts"),
    ] {
        let result = testing::call(&mcp, "user_posts", json!({"id": id})).await;
        assert_eq!(result["structuredContent"]["status"], 200, "{id}: {result}");
        let seen = server.take();
        assert_eq!(seen[0].uri.split('?').next().unwrap(), path, "{id}");
    }
    for id in ["..", ".", ""] {
        let text = testing::call(&mcp, "user_posts", json!({"id": id})).await;
        assert!(error_text(&text).contains("cannot be empty, `.` or `..`"), "{id}: {text}");
    }
    // A header value cannot add a header.
    let result = testing::call(&mcp, "user_posts", json!({"id": "ada", "X-Trace": "a\r\nX-Evil: 1"})).await;
    assert!(error_text(&result).contains("line break"), "{result}");
    assert!(server.take().is_empty(), "a refused call sends nothing");
}

#[tokio::test]
async fn the_body_is_json_encoded() {
    let server = Server::start().await;
    let mcp = mcp(&server);
    let title = "He said \"hi\" \\ then }, \"admin\": true, {\u{0}\n";
    let result = testing::call(&mcp, "create_note", json!({"title": title, "count": 3, "tags": ["a\"b"]})).await;
    assert_eq!(result["structuredContent"]["status"], 200, "{result}");
    let seen = server.take();
    assert_eq!(seen[0].method, Method::POST);
    assert_eq!(seen[0].uri, "/v1/notes?key=k%26y");
    assert_eq!(seen[0].headers["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&seen[0].body).expect("the body is JSON");
    assert_eq!(body, json!({"title": title, "count": 3, "tags": ["a\"b"], "meta": null}));
    testing::call(&mcp, "create_note", json!({"title": "t", "count": 1, "tags": [], "meta": {"k": [1, "two"]}})).await;
    let body: Value = serde_json::from_slice(&server.take()[0].body).unwrap();
    assert_eq!(body["meta"], json!({"k": [1, "two"]}));
    // A value of the wrong type is refused before anything is sent.
    let result = testing::call(&mcp, "create_note", json!({"title": "t", "count": "1; DROP", "tags": []})).await;
    assert!(error_text(&result).contains("count"), "{result}");
    assert!(server.take().is_empty());
}

#[tokio::test]
async fn redirects_stay_on_the_host() {
    let server = Server::start().await;
    let mcp = mcp(&server);
    let result = testing::call(&mcp, "fixture", json!({"name": "here"})).await;
    assert_eq!(result["structuredContent"]["status"], 200, "{result}");
    let seen: Vec<String> = server.take().iter().map(|s| s.uri.split('?').next().unwrap().to_string()).collect();
    assert_eq!(seen, ["/v1/fixtures/here", "/v1/fixtures/landed"]);

    let result = testing::call(&mcp, "fixture", json!({"name": "away"})).await;
    let text = error_text(&result);
    assert!(text.contains("another host (`localhost`)"), "{text}");
    assert!(!text.contains("k&y") && !text.contains("k%26y"), "no URL with the key: {text}");
    let seen: Vec<String> = server.take().iter().map(|s| s.uri.split('?').next().unwrap().to_string()).collect();
    assert_eq!(seen, ["/v1/fixtures/away"], "the other host is never asked");
}

#[tokio::test]
async fn answers_are_capped_and_errors_are_results() {
    let server = Server::start().await;
    let mcp = mcp(&server);
    let result = testing::call(&mcp, "fixture", json!({"name": "huge"})).await;
    let structured = &result["structuredContent"];
    assert_eq!(structured["truncated"], true, "{}", structured["status"]);
    let body = structured["body"].as_str().expect("a cut JSON body is text");
    assert_eq!(body.len(), 8 << 20, "cut at the response size limit");
    assert!(result["content"][1]["text"].as_str().unwrap().contains("size limit"), "a truncation notice");

    let result = testing::call(&mcp, "fixture", json!({"name": "text"})).await;
    assert_eq!(result["structuredContent"], json!({"status": 200, "contentType": "text/plain", "body": "plain words"}));

    let text = error_text(&testing::call(&mcp, "fixture", json!({"name": "missing"})).await).to_string();
    assert_eq!(text, "source `api` answered HTTP 404 Not Found (text/plain; charset=utf-8): no such thing");

    // With an outputSchema, the body must be the JSON it describes.
    let result = testing::call(&mcp, "typed", json!({"name": "ok"})).await;
    assert_eq!(result["structuredContent"]["body"], json!({"ok": true}));
    let text = error_text(&testing::call(&mcp, "typed", json!({"name": "text"})).await).to_string();
    assert!(text.contains("is not JSON"), "{text}");
}

#[tokio::test]
async fn slow_and_down_servers_are_results() {
    let server = Server::start().await;
    let mcp = mcp(&server);
    let started = Instant::now();
    let result = testing::call(&mcp, "slow", json!({})).await;
    assert_eq!(error_text(&result), "source `slow_api` did not answer within 300 ms (its `timeout`)");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

    let text = error_text(&testing::call(&mcp, "down", json!({})).await).to_string();
    assert!(text.starts_with("source `down_api` could not be reached"), "{text}");
    // The toolbox goes on serving.
    let result = testing::call(&mcp, "fixture", json!({"name": "ok"})).await;
    assert_eq!(result["structuredContent"]["status"], 200);
}

#[tokio::test]
async fn a_missing_variable_stops_the_start() {
    let start = |base: &str, token: Option<&str>| {
        let mut pairs =
            vec![("HTTP_TEST_BASE", base), ("HTTP_TEST_KEY", "k"), ("HTTP_TEST_DOWN", "http://127.0.0.1:1")];
        pairs.extend(token.map(|t| ("HTTP_TEST_TOKEN", t)));
        match toolbox::TOOLBOX.resolve_sources_with(&testing::env(&pairs)) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("the start-up should fail"),
        }
    };
    let error = start("http://127.0.0.1:9", None);
    assert_eq!(error, "http.yaml:9:18: source `api`: environment variable `HTTP_TEST_TOKEN` is not set");
    // A header value that would split the request is refused, and not echoed.
    let error = start("http://127.0.0.1:9", Some("x\r\nX-Evil: 1"));
    assert!(error.starts_with("http.yaml:9:18: source `api`: the value of header `authorization`"), "{error}");
    assert!(!error.contains("Evil"), "{error}");
    let error = start("ftp://127.0.0.1", Some("t"));
    assert!(error.contains("http or https"), "{error}");
}
