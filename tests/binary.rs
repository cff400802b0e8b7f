//! The real binary: started as a user would, over HTTP and over stdio.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_toolbox");

/// A running server that is killed when dropped.
struct Server {
    child: Child,
    port: u16,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on a port the system picks (no race with other tests for a free port) and
/// reads the port from its start-up line.
fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (child, mut stderr) = spawn(&dir, &[]);
    let mut port = None;
    let mut line = String::new();
    while port.is_none() {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the server exited before listening");
        port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse::<u16>().ok());
    }
    // Keep draining the log so the server never blocks on a full pipe; keep it for assertions.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut rest = String::new();
        while stderr.read_line(&mut rest).unwrap_or(0) > 0 {
            sink.lock().unwrap().push_str(&rest);
            rest.clear();
        }
    });
    Server { child, port: port.unwrap(), log, _dir: dir }
}

/// Spawns the binary on a port the system picks, on a demo database in `dir`, its log piped.
fn spawn(dir: &tempfile::TempDir, extra_args: &[&str]) -> (Child, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(BINARY)
        .args(["--port", "0", "--logging-format", "json"])
        .args(extra_args)
        .env("TOOLBOX_DEMO_DB", dir.path().join("airline.db"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    (child, stderr)
}

/// Reads the log up to the line that says the server listens, and returns that line.
fn serving_line(stderr: &mut BufReader<std::process::ChildStderr>) -> String {
    let mut line = String::new();
    while !line.contains("serving MCP") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the server exited before listening");
    }
    line
}

/// One HTTP/1.1 request over a plain socket; returns the status and the body.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn rpc(port: u16, body: Value) -> Value {
    let headers = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("MCP-Protocol-Version", "2025-11-25"),
    ];
    let (status, body) = http(port, "POST", "/mcp", &headers, &body.to_string());
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn serves_the_demo_over_http_like_curl_would() {
    let server = start();
    let init = rpc(
        server.port,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "curl", "version": "1"}}}),
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    let list = rpc(server.port, json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 7);
    let call = rpc(
        server.port,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_flight", "arguments": {"flight_number": "DL0001"}}}),
    );
    assert_eq!(call["result"]["structuredContent"]["rows"][0]["flight_number"], "DL0001");
    let (status, health) = http(server.port, "GET", "/healthz", &[], "");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&health).unwrap()["status"], "ok");
}

/// `--threads N` runs N request workers, as the start-up line reports; 0 is refused, naming the
/// flag.
#[test]
fn threads_sets_the_worker_count() {
    let refused = Command::new(BINARY).args(["--threads", "0"]).output().unwrap();
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("--threads"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut stderr) = spawn(&dir, &["--threads", "3"]);
    let line = serving_line(&mut stderr);
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains(r#""workers":3"#), "the start-up line reports the workers: {line}");
}

/// A supervisor that stops reading the log must not turn a log line into a crash: with stderr
/// closed, the shutdown line cannot be written, and the server still exits cleanly.
#[cfg(unix)]
#[test]
fn a_closed_stderr_loses_log_lines_not_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut stderr) = spawn(&dir, &[]);
    serving_line(&mut stderr);
    drop(stderr);
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "exit status {exit}: a failed log write must not abort the process");
            break;
        }
        assert!(Instant::now() < deadline, "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn stops_cleanly_on_sigterm() {
    let mut server = start();
    let status = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            assert!(exit.success(), "exit status {exit}");
            break;
        }
        assert!(Instant::now() < deadline, "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("shutting down"), "{log}");
}

#[test]
fn serves_stdio_with_logs_kept_off_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BINARY)
        .arg("--stdio")
        .env("TOOLBOX_DEMO_DB", dir.path().join("airline.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send_line = |stdin: &mut std::process::ChildStdin, text: &str| -> Value {
        writeln!(stdin, "{text}").unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout carries only JSON-RPC ({e}): {line}"))
    };
    let mut ask = |message: Value| send_line(&mut stdin, &message.to_string());
    let init = ask(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    let call = ask(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search_flights", "arguments": {"origin": "SFO", "destination": "JFK", "limit": 1}}}),
    );
    assert_eq!(
        call["result"]["structuredContent"]["rows"][0]["flight_number"], "UA0008",
        "stdio keeps the negotiated 2025-06-18"
    );
    let bad = ask(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope"}}));
    assert_eq!(bad["error"]["code"], -32602);
    let garbage = ask(json!("this is a string, not a request"));
    assert_eq!(garbage["error"]["code"], -32600);
    let modern = ask(
        json!({"jsonrpc": "2.0", "id": 4, "method": "server/discover", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}}),
    );
    assert_eq!(modern["result"]["resultType"], "complete");
    drop(stdin);
    let exit = child.wait().unwrap();
    assert!(exit.success(), "stdin EOF ends the process cleanly: {exit}");
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("serving MCP over stdio"), "logs go to stderr: {log}");
}

/// `--strict-schema` means every statement prepared against the live database, or no start: a
/// database file made before the tables its statements read were added does not pass.
#[test]
fn strict_schema_refuses_a_database_that_lacks_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("airline.db");
    empty_database_file(&empty);
    let mut child = Command::new(BINARY)
        .args(["--port", "0", "--strict-schema"])
        .env("TOOLBOX_DEMO_DB", &empty)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the server started on a database without its tables under --strict-schema");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it must not start: {stderr}");
    assert!(stderr.contains("--strict-schema"), "{stderr}");
    assert!(
        stderr.contains("tool `search_flights`: the statement no longer prepares: no such table: flights"),
        "{stderr}"
    );

    // The demo's own database (created from its schema at start-up) passes.
    let (mut child, mut stderr) = spawn(&tempfile::tempdir().unwrap(), &["--strict-schema"]);
    serving_line(&mut stderr);
    let _ = child.kill();
    let _ = child.wait();
}

/// An empty SQLite database: a zero-length file is one.
fn empty_database_file(path: &std::path::Path) {
    std::fs::write(path, b"").unwrap();
}
