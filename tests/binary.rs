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
    start_with(&[])
}

/// [`start`] with more flags.
fn start_with(extra_args: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (child, mut stderr) = spawn(&dir, extra_args);
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

/// A plain socket to the server, its reads bounded so that a test never hangs.
fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream
}

/// One complete request to `/mcp`, kept alive.
fn mcp_request(port: u16, body: &str) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nMCP-Protocol-Version: 2025-11-25\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one response: its status and body (by its Content-Length).
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).expect("a response");
        assert!(n > 0, "closed before a response: {}", String::from_utf8_lossy(&data));
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap());
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).expect("the body");
        assert!(n > 0, "closed in the body");
        data.extend_from_slice(&buf[..n]);
    }
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, String::from_utf8_lossy(&data[head_end..head_end + length]).into_owned())
}

/// Waits up to `limit` for the server to close `stream`; returns what it sent before closing,
/// or `None` if the socket is still open at the limit.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&data).into_owned()),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return None;
            }
            Err(_) => return Some(String::from_utf8_lossy(&data).into_owned()),
        }
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// Waits up to `limit` for the process to exit.
fn exited_within(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(exit) = child.try_wait().unwrap() {
            return Some(exit);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
const HALF_HEAD: &[u8] = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-";

/// Half a body: a head announcing 100 bytes, then 10 of them.
fn half_body(port: u16) -> Vec<u8> {
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    [head.as_bytes(), br#"{"jsonrpc""#].concat()
}

/// A connection that sent half a head, or nothing, is closed at the header-read timeout; half a
/// body is answered 408 at the body-read timeout; a kept-alive connection outlives the header
/// timeout and is closed at the idle timeout.
#[test]
fn stalled_connections_are_closed_at_their_timeouts() {
    let server = start_with(&["--header-read-timeout", "1s", "--body-read-timeout", "1s", "--idle-timeout", "3s"]);
    let port = server.port;
    let started = Instant::now();
    let mut half_head = connect(port);
    half_head.write_all(HALF_HEAD).unwrap();
    let mut half = connect(port);
    half.write_all(&half_body(port)).unwrap();
    let mut silent = connect(port);
    let mut idle = connect(port);
    idle.write_all(mcp_request(port, PING).as_bytes()).unwrap();
    assert_eq!(read_response(&mut idle).0, 200);
    let answered = Instant::now();

    let sent = closed_within(&mut half_head, Duration::from_secs(6)).expect("half a head kept open");
    assert!(started.elapsed() >= Duration::from_millis(900), "closed before the header timeout");
    assert_eq!(sent, "", "nothing is answered to half a head");
    let sent = closed_within(&mut half, Duration::from_secs(6)).expect("half a body kept open");
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(sent.contains(r#""code":-32600"#), "{sent}");
    closed_within(&mut silent, Duration::from_secs(6)).expect("a silent connection kept open");
    assert!(started.elapsed() < Duration::from_secs(6));

    // Past the header timeout the idle connection is still open, and still serves.
    std::thread::sleep(Duration::from_millis(1500).saturating_sub(answered.elapsed()));
    assert_eq!(closed_within(&mut idle, Duration::from_millis(100)), None, "an idle connection was cut early");
    idle.write_all(mcp_request(port, PING).as_bytes()).unwrap();
    assert_eq!(read_response(&mut idle).0, 200);
    let answered = Instant::now();
    closed_within(&mut idle, Duration::from_secs(8)).expect("an idle connection kept open");
    let idle_for = answered.elapsed();
    assert!(idle_for >= Duration::from_millis(2800) && idle_for < Duration::from_secs(7), "idle for {idle_for:?}");
}

/// SIGTERM with stalled clients: the in-flight call that finishes within --shutdown-timeout is
/// answered, an idle connection is closed at once, and at the deadline the rest (half a head,
/// half a body, a call that never ends) are closed and the process exits 0.
#[cfg(unix)]
#[test]
fn sigterm_ends_at_the_deadline_whatever_the_clients_do() {
    let deadline = Duration::from_secs(5);
    let server = start_with(&[
        "--shutdown-timeout",
        "5s",
        "--header-read-timeout",
        "60s",
        "--body-read-timeout",
        "60s",
        "--idle-timeout",
        "60s",
    ]);
    let mut server = server;
    let port = server.port;
    let count_to = |n: u64| {
        let sql = format!(
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {n}) SELECT count(*) AS n FROM c"
        );
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "execute_sql", "arguments": {"sql": sql}}})
            .to_string()
    };
    // A call of about a second on this machine, measured.
    let probe = 200_000;
    let timed = Instant::now();
    let mut socket = connect(port);
    socket.write_all(mcp_request(port, &count_to(probe)).as_bytes()).unwrap();
    let (status, body) = read_response(&mut socket);
    assert_eq!(status, 200, "{body}");
    let slow = (probe as f64 / timed.elapsed().as_secs_f64().max(0.001)) as u64;

    let mut half_head = connect(port);
    half_head.write_all(HALF_HEAD).unwrap();
    let mut half = connect(port);
    half.write_all(&half_body(port)).unwrap();
    let mut idle = connect(port);
    idle.write_all(mcp_request(port, PING).as_bytes()).unwrap();
    assert_eq!(read_response(&mut idle).0, 200);
    let mut in_flight = connect(port);
    in_flight.write_all(mcp_request(port, &count_to(slow)).as_bytes()).unwrap();
    let endless = json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "execute_sql", "arguments": {"sql": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c"}}});
    let mut never = connect(port);
    never.write_all(mcp_request(port, &endless.to_string()).as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    sigterm(&server.child);
    let signalled = Instant::now();
    assert!(
        closed_within(&mut idle, Duration::from_secs(2)).is_some(),
        "an idle connection is closed at once on shutdown"
    );
    let (status, body) = read_response(&mut in_flight);
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["result"]["structuredContent"]["rows"][0]["n"], slow, "{body}");
    assert!(signalled.elapsed() < deadline, "answered after the deadline");

    let Some(exit) = exited_within(&mut server.child, deadline + Duration::from_secs(3)) else {
        panic!("still running {:?} after SIGTERM with --shutdown-timeout 5s", signalled.elapsed());
    };
    let stopped_after = signalled.elapsed();
    assert!(exit.success(), "exit status {exit}");
    assert!(stopped_after >= deadline - Duration::from_millis(300), "the stalled clients were not waited for");
    for (name, socket) in
        [("half a head", &mut half_head), ("half a body", &mut half), ("the endless call", &mut never)]
    {
        let sent = closed_within(socket, Duration::from_secs(2)).unwrap_or_else(|| panic!("{name}: still open"));
        assert_eq!(sent, "", "{name}: nothing is answered");
    }
    std::thread::sleep(Duration::from_millis(100));
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("closed 3 connections still open at the shutdown deadline"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

/// What hyper parses off the wire reaches the checks: a malformed chunked body is a bad request
/// (not one too large), two Host headers are refused, and so is an absolute-form target naming
/// another host.
#[test]
fn malformed_requests_on_the_wire() {
    let server = start();
    let port = server.port;
    let send = |raw: String| {
        let mut socket = connect(port);
        socket.write_all(raw.as_bytes()).unwrap();
        read_response(&mut socket)
    };
    let chunked = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
    );
    let (status, body) = send(chunked);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("could not be read"), "{body}");

    let request = |target: &str, hosts: &[&str]| {
        let hosts: String = hosts.iter().map(|h| format!("Host: {h}\r\n")).collect();
        format!(
            "POST {target} HTTP/1.1\r\n{hosts}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{PING}",
            PING.len()
        )
    };
    let here = format!("127.0.0.1:{port}");
    assert_eq!(send(request("/mcp", &[&here, &here])).0, 400);
    assert_eq!(send(request("http://evil.example/mcp", &[&here])).0, 403);
    assert_eq!(send(request(&format!("http://{here}/mcp"), &[&here])).0, 200);
}

/// stdio reads a line under --max-request-bytes: a 100 MiB line is answered with the size error
/// without being held whole (the memory peak stays far below it), and the next line is served.
#[cfg(target_os = "linux")]
#[test]
fn stdio_never_holds_an_over_long_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BINARY)
        .args(["--stdio", "--max-request-bytes", "1048576"])
        .env("TOOLBOX_DEMO_DB", dir.path().join("airline.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            stdin.write_all(&chunk).unwrap();
        }
        stdin.write_all(b"\n").unwrap();
        writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"ping"}}"#).unwrap();
        stdin
    });
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let refused: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(refused["error"]["code"], -32600, "{line}");
    assert_eq!(refused["error"]["message"], "the message exceeds 1048576 bytes");
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let pong: Value = serde_json::from_str(&line).unwrap();
    assert_eq!((pong["id"].clone(), pong["result"].clone()), (json!(2), json!({})), "{line}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    let stdin = writer.join().unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert!(peak_kib < 48 * 1024, "a 100 MiB line took the memory peak to {} MiB", peak_kib / 1024);
}

/// A tool call over a connection from `from` (any address of 127/8 is this machine); the result.
fn call_from(from: std::net::Ipv4Addr, port: u16) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind((from, 0).into()).unwrap();
        socket.connect(([127, 0, 0, 1], port).into()).await.unwrap()
    });
    let mut stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_flight", "arguments": {"flight_number": "DL0001"}}}).to_string();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    serde_json::from_str::<Value>(body).unwrap()["result"].clone()
}

/// Without a token, the real server counts `--rate-limit` per client address: one client over
/// its rate is refused while a client from another address still gets its calls.
#[test]
fn the_rate_limit_counts_each_client_address_apart() {
    let server = start_with(&["--rate-limit", "2/m"]);
    let (first, second) = (std::net::Ipv4Addr::new(127, 0, 0, 1), std::net::Ipv4Addr::new(127, 0, 0, 2));
    for _ in 0..2 {
        let r = call_from(first, server.port);
        assert_eq!(r["structuredContent"]["rows"][0]["flight_number"], "DL0001", "{r}");
    }
    let refused = call_from(first, server.port);
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(refused["content"][0]["text"].as_str().unwrap().starts_with("rate limit:"), "{refused}");
    let other = call_from(second, server.port);
    assert_eq!(
        other["structuredContent"]["rows"][0]["flight_number"], "DL0001",
        "another address has its own budget: {other}"
    );
}

/// With JSON logs, each tool call is one line: the tool, its outcome, the rows, the duration and
/// the caller's trace id, and never an argument's value.
#[test]
fn json_logs_have_a_line_per_tool_call_without_its_arguments() {
    let server = start();
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let headers =
        [("Content-Type", "application/json"), ("MCP-Protocol-Version", "2025-11-25"), ("traceparent", traceparent)];
    let call = |arguments: Value| {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_flight", "arguments": arguments}});
        let (status, body) = http(server.port, "POST", "/mcp", &headers, &body.to_string());
        assert_eq!(status, 200, "{body}");
    };
    call(json!({"flight_number": "DL0001"}));
    call(json!({"flight_number": 4242424242u64}));
    let lines = || -> Vec<Value> {
        let log = server.log.lock().unwrap().clone();
        log.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["target"] == "toolbox::call")
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while lines().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let lines = lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (ok, bad) = (&lines[0], &lines[1]);
    assert_eq!((ok["level"].as_str(), ok["message"].as_str()), (Some("INFO"), Some("tool call")));
    assert_eq!((ok["tool"].as_str(), ok["toolset"].as_str()), (Some("get_flight"), Some("default")));
    assert_eq!((ok["outcome"].as_str(), ok["rows"].as_u64()), (Some("ok"), Some(1)), "{ok}");
    assert_eq!(ok["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(ok["duration_ms"].as_f64().is_some_and(|d| d > 0.0), "{ok}");
    assert_eq!(bad["outcome"], "invalid_arguments", "{bad}");
    let log = server.log.lock().unwrap().clone();
    assert!(!log.contains("DL0001") && !log.contains("4242424242"), "an argument reached the log:\n{log}");
}

/// A database error is logged at WARN with the tool and source it belongs to, in the default
/// (standard) log format too, where tool calls themselves are not logged; over stdio as well.
#[test]
fn database_errors_are_logged_with_their_tool_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BINARY)
        .arg("--stdio")
        .env("TOOLBOX_DEMO_DB", dir.path().join("airline.db"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "execute_sql", "arguments": {"sql": "SELECT secret_column FROM no_such_table"}}});
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{request}").unwrap();
    let mut answer = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut answer).unwrap();
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    drop(stdin);
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    child.wait().unwrap();
    let line = log.lines().find(|l| l.contains("no such table")).unwrap_or_else(|| panic!("no error line:\n{log}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains(r#"tool="execute_sql""#) && line.contains(r#"source="airline""#), "{line}");
    assert!(!log.contains("tool call"), "the standard format does not log every call at INFO:\n{log}");
}
