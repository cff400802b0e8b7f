//! Faults a server meets in production, against the real binary (`reliability.yaml`: a SQLite
//! database beside the PostgreSQL example database): a SQLite write lock held by another process,
//! client SQL abandoned mid-statement, runaway statements at shutdown.
//!
//! Needs PostgreSQL on 127.0.0.1:5432 with the `toolbox_example` database (tests/setup-databases.sh);
//! without it the tests skip with a reason, except under `CI=true`, where they fail.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_toolbox-reliability");

fn postgres_reachable() -> bool {
    toolbox_runtime::testing::service_reachable("PostgreSQL", "127.0.0.1:5432")
}

/// The server, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with one worker thread (so a blocked worker would stall everything) on a
/// fresh SQLite file, and reads its port from the start-up line.
fn start(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reliability.db");
    let mut child = Command::new(BINARY)
        .args(["--port", "0", "--threads", "1"])
        .args(extra)
        .env("RELIABILITY_DB", &db)
        .env("PGDATABASE", "toolbox_example")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut port = None;
    let mut line = String::new();
    while port.is_none() {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the server exited before listening");
        port = line.split("http://127.0.0.1:").nth(1).and_then(|r| r.split('/').next()).and_then(|p| p.parse().ok());
    }
    std::thread::spawn(move || while stderr.read_line(&mut String::new()).unwrap_or(0) > 0 {});
    Server { child, port: port.unwrap(), db, _dir: dir }
}

/// One request over a connection of its own; the status and body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    http_with(port, method, path, "", body)
}

/// [`http`] with more header lines (each ending in `\r\n`).
fn http_with(port: u16, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn call_body(tool: &str, arguments: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
        .to_string()
}

/// A tool call's result.
fn call(port: u16, tool: &str, arguments: Value) -> Value {
    let (status, body) = http(port, "POST", "/mcp", &call_body(tool, arguments));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["result"].clone()
}

/// How long `/readyz` (which asks both sources) and a PostgreSQL tool take, the slower of the
/// two, over `rounds` rounds.
fn slowest(port: u16, rounds: usize) -> Duration {
    let mut slowest = Duration::ZERO;
    for _ in 0..rounds {
        let started = Instant::now();
        let (status, body) = http(port, "GET", "/readyz", "");
        assert_eq!(status, 200, "{body}");
        let r = call(port, "flight", json!({"flight_number": "UA0001"}));
        assert_eq!(r["structuredContent"]["rows"][0]["flight_number"], "UA0001", "{r}");
        slowest = slowest.max(started.elapsed());
    }
    slowest
}

/// The process's CPU time so far (user and system), from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// A write waiting for SQLite's lock (held by another process) holds no worker thread:
/// `/readyz` (a round trip to each source) and PostgreSQL tools answer as fast as before, and the
/// write goes through once the lock is released.
#[test]
fn a_sqlite_lock_wait_stalls_nothing_else() {
    if !postgres_reachable() {
        return;
    }
    let server = start(&["--require-source", "local", "--require-source", "pg"]);
    let port = server.port;
    let before = slowest(port, 10);
    // Another process takes the write lock for three seconds.
    let mut holder = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN IMMEDIATE')\n\
             c.execute(\"INSERT INTO notes (body) VALUES ('held')\")\n\
             print('locked', flush=True)\n\
             time.sleep(3)\n\
             c.execute('COMMIT')\n",
        )
        .arg(&server.db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut locked = String::new();
    BufReader::new(holder.stdout.take().unwrap()).read_line(&mut locked).unwrap();
    assert_eq!(locked.trim(), "locked");
    let writers: Vec<_> =
        (0..3).map(|i| std::thread::spawn(move || call(port, "add_note", json!({"body": format!("w{i}")})))).collect();
    std::thread::sleep(Duration::from_millis(200));
    let during = slowest(port, 10);
    for w in writers {
        let r = w.join().unwrap();
        assert_eq!(r["structuredContent"]["rowsAffected"], 1, "the write waited for the lock: {r}");
    }
    holder.wait().unwrap();
    assert!(
        during < before + Duration::from_millis(500),
        "while SQLite waited for its lock, /readyz and PostgreSQL took up to {during:?} (before: {before:?})"
    );
    let r = call(port, "count_notes", json!({}));
    assert_eq!(r["structuredContent"]["rows"][0]["n"], 5, "the first note, the held one and three writes: {r}");
}

/// Client SQL whose client hangs up mid-statement, or that outlives its tool's queryTimeout,
/// stops: six abandoned endless statements (more than the pool's four connections) and a timed-out
/// one leave no thread spinning, compiled calls made all along answer correctly, and SIGTERM then
/// ends the process promptly.
#[test]
fn abandoned_sqlite_statements_stop() {
    if !postgres_reachable() {
        return;
    }
    // Not rate-limited: the compiled calls run as fast as they can meanwhile.
    let server = start(&["--rate-limit", "off"]);
    let port = server.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let traffic = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut calls = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r = call(port, "count_notes", json!({}));
                assert_eq!(r["structuredContent"]["rows"][0]["n"], 1, "{r}");
                calls += 1;
            }
            calls
        })
    };
    let endless = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c";
    let r = call(port, "local_sql_briefly", json!({ "sql": endless }));
    assert_eq!(r["isError"], true, "{r}");
    assert!(r["content"][0]["text"].as_str().unwrap().contains("300 ms"), "{r}");
    let clients: Vec<TcpStream> = (0..6)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let body = call_body("local_sql", json!({"sql": endless}));
            write!(
                stream,
                "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    drop(clients);
    std::thread::sleep(Duration::from_millis(700));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(traffic.join().unwrap() > 0, "compiled calls ran meanwhile");
    let pid = server.child.id();
    let start = cpu_time(pid);
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_time(pid) - start;
    assert!(spent < Duration::from_millis(300), "abandoned statements still run: {spent:?} of CPU in one second");
    // The server still answers, and shuts down promptly: nothing is left running.
    let r = call(port, "count_notes", json!({}));
    assert_eq!(r["structuredContent"]["rows"][0]["n"], 1, "{r}");
    let mut server = server;
    let started = Instant::now();
    send_sigterm(server.child.id());
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "SIGTERM did not end the process");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

/// Writes `bytes` to a new connection and keeps it open: a client that stalls.
fn stalled(port: u16, bytes: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(bytes.as_bytes()).unwrap();
    stream
}

/// Sends a tool call on a thread of its own; its result (`None` when the connection was closed
/// without an answer).
fn call_in_background(port: u16, tool: &'static str, arguments: Value) -> std::thread::JoinHandle<Option<Value>> {
    std::thread::spawn(move || {
        let (status, body) = http(port, "POST", "/mcp", &call_body(tool, arguments));
        (status == 200).then(|| serde_json::from_str::<Value>(&body).unwrap()["result"].clone())
    })
}

/// How many statements containing `tag` PostgreSQL is running, asked with `psql`.
fn postgres_running(tag: &str) -> usize {
    let query = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%{tag}%' AND pid <> pg_backend_pid()"
    );
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "toolbox_example", "-Atc", &query])
        .output()
        .expect("psql runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// SIGTERM while clients stall (half a head, half a body, an idle connection) and statements run
/// (an endless SQLite query, a ten-minute PostgreSQL sleep, a one-second call that can finish):
/// the listener closes at once, the call that can finish gets its answer, and the process exits 0
/// at the `--shutdown-timeout` deadline, leaving no statement running in PostgreSQL.
#[test]
fn sigterm_ends_the_process_by_its_deadline_whatever_clients_do() {
    if !postgres_reachable() {
        return;
    }
    let mut server = start(&["--shutdown-timeout", "2s"]);
    let port = server.port;
    let tag = format!("runaway_{}", server.child.id());
    let _half_head = stalled(port, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le");
    let _half_body = stalled(
        port,
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 500\r\n\r\n{\"jsonrpc\":",
    );
    let _idle = stalled(port, "");
    let endless = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c";
    let sqlite = call_in_background(port, "local_sql", json!({ "sql": endless }));
    let sleeper = call_in_background(port, "pg_sql", json!({ "sql": format!("SELECT pg_sleep(600) AS {tag}") }));
    let finishing = call_in_background(port, "pg_sql", json!({ "sql": "SELECT 1 AS done FROM pg_sleep(1)" }));
    let started = Instant::now();
    while postgres_running(&tag) == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the runaway statement never started");
        std::thread::sleep(Duration::from_millis(50));
    }

    let signalled = Instant::now();
    send_sigterm(server.child.id());
    std::thread::sleep(Duration::from_millis(300));
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "still accepting after SIGTERM");
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(signalled.elapsed() < Duration::from_secs(6), "still running 6 s after SIGTERM with a 2 s deadline");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let took = signalled.elapsed();
    assert!(took >= Duration::from_millis(1500), "exited after {took:?}, before the deadline, with calls in flight");

    let done = finishing.join().unwrap().expect("the call that could finish was answered");
    assert_eq!(done["structuredContent"]["rows"][0]["done"], 1, "{done}");
    assert_eq!(sqlite.join().unwrap(), None, "the endless statement was cut, not answered");
    assert_eq!(sleeper.join().unwrap(), None, "the ten-minute sleep was cut, not answered");
    let started = Instant::now();
    while postgres_running(&tag) > 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "the cut statement still runs in PostgreSQL");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM with the `kill` command (the tests link no libc wrapper).
fn send_sigterm(pid: u32) {
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

/// `--sql-commenter`: the statement PostgreSQL runs carries the tool's name and the caller's
/// trace context in the sqlcommenter format; without the flag it is the compiled text alone.
#[test]
fn sql_comments_name_the_tool_and_the_trace_in_postgresql() {
    if !postgres_reachable() {
        return;
    }
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let own = |port| {
        let headers = format!("traceparent: {traceparent}\r\n");
        let (status, body) = http_with(port, "POST", "/mcp", &headers, &call_body("own_statement", json!({})));
        assert_eq!(status, 200, "{body}");
        let result = serde_json::from_str::<Value>(&body).unwrap()["result"].clone();
        result["structuredContent"]["rows"][0]["query"].as_str().unwrap_or_else(|| panic!("{result}")).to_string()
    };
    let plain = start(&[]);
    let text = own(plain.port);
    assert_eq!(text, "SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()");
    drop(plain);

    let commented = start(&["--sql-commenter"]);
    for _ in 0..3 {
        let text = own(commented.port);
        assert_eq!(
            text,
            format!(
                "SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid() /*tool='own_statement',traceparent='{traceparent}'*/"
            )
        );
    }
    // Without a trace context the comment is the same on every call (and its statement cached).
    let (status, body) = http(commented.port, "POST", "/mcp", &call_body("own_statement", json!({})));
    assert_eq!(status, 200);
    assert!(body.contains(r#"pg_backend_pid() /*tool='own_statement'*/"#), "{body}");
}
