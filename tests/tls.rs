//! The real binary over HTTPS (`--tls-cert`, `--tls-key`): MCP through a client that trusts only
//! a CA made in the test, the certificate reloaded on SIGHUP under continuous traffic, a broken
//! reload that keeps the old certificate, and the connections that never finish a handshake.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_toolbox");

/// A test CA with an intermediate, and the server certificates they issue.
struct Pki {
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate: the PEM files' contents and the leaf's DER.
struct ServerCert {
    chain_pem: String,
    key_pem: String,
    leaf: Vec<u8>,
}

impl Pki {
    fn new() -> Pki {
        let ca = |name: &str| {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            params
        };
        let root = CertifiedIssuer::self_signed(ca("toolbox test root"), KeyPair::generate().unwrap()).unwrap();
        let intermediate =
            CertifiedIssuer::signed_by(ca("toolbox test intermediate"), KeyPair::generate().unwrap(), &root).unwrap();
        Pki { root, intermediate }
    }

    /// A certificate for localhost and 127.0.0.1, by the intermediate (the chain file holds both)
    /// or straight by the root.
    fn server_cert(&self, via_intermediate: bool) -> ServerCert {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "localhost");
        let issuer: &Issuer<'_, KeyPair> = if via_intermediate { &self.intermediate } else { &self.root };
        let cert = params.signed_by(&key, issuer).unwrap();
        let chain_pem = if via_intermediate { cert.pem() + &self.intermediate.pem() } else { cert.pem() };
        ServerCert { chain_pem, key_pem: key.serialize_pem(), leaf: cert.der().to_vec() }
    }

    fn client(&self) -> Arc<ClientConfig> {
        client_trusting(self.root.der())
    }
}

/// A TLS client that trusts `ca` only, never resumes a session (each connection sees the
/// certificate the server hands out now) and offers HTTP/1.1.
fn client_trusting(ca: &CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn write_cert(dir: &Path, cert: &ServerCert) -> (PathBuf, PathBuf) {
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &cert.chain_pem).unwrap();
    std::fs::write(&key_path, &cert.key_pem).unwrap();
    (cert_path, key_path)
}

/// Writes `cert` into `dir` and starts the server with it and `extra` flags.
fn start_tls(dir: &Path, cert: &ServerCert, extra: &[&str]) -> Server {
    let (cert_path, key_path) = write_cert(dir, cert);
    let mut args = vec!["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// A running server, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the binary with `args` on a port the system picks, read from its `https://` start-up
    /// line.
    fn start(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(BINARY)
            .args(["--port", "0", "--logging-format", "json"])
            .args(args)
            .env("TOOLBOX_DEMO_DB", dir.path().join("airline.db"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let mut port = None;
        let mut line = String::new();
        while port.is_none() {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "the server exited before listening: {}",
                log.lock().unwrap()
            );
            log.lock().unwrap().push_str(&line);
            port = line
                .split("https://127.0.0.1:")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .and_then(|p| p.parse::<u16>().ok());
        }
        assert!(line.contains("health at https://127.0.0.1:"), "{line}");
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

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits up to 10 s for the log to contain `text`, `count` times in all.
    fn wait_for_log(&self, text: &str, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log.lock().unwrap().clone();
            if log.matches(text).count() >= count {
                return log;
            }
            assert!(Instant::now() < deadline, "no `{text}` (x{count}) in the log:\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn assert_running(&mut self) {
        assert!(self.child.try_wait().unwrap().is_none(), "the server exited: {}", self.log.lock().unwrap());
    }
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A new TLS connection to `localhost`, handshake done.
fn connect(port: u16, config: &Arc<ClientConfig>) -> std::io::Result<Tls> {
    let socket = TcpStream::connect(("127.0.0.1", port))?;
    socket.set_read_timeout(Some(Duration::from_secs(30)))?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut stream = StreamOwned::new(ClientConnection::new(config.clone(), name).unwrap(), socket);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// The leaf certificate the server presented.
fn peer_leaf(stream: &Tls) -> Vec<u8> {
    stream.conn.peer_certificates().expect("a certificate")[0].to_vec()
}

/// One request on a kept-alive connection; its status and body (by Content-Length).
fn request(stream: &mut Tls, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all([head.as_bytes(), body.as_bytes()].concat().as_slice())?;
    stream.flush()?;
    read_response(stream)
}

fn read_response(stream: &mut impl Read) -> std::io::Result<(u16, String)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before a response"));
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap());
    while data.len() < head_end + length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed in the body"));
        }
        data.extend_from_slice(&buf[..n]);
    }
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, String::from_utf8_lossy(&data[head_end..head_end + length]).into_owned()))
}

fn rpc(stream: &mut Tls, body: Value) -> Value {
    let (status, body) = request(stream, "POST", "/mcp", &body.to_string()).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

/// A ping on `stream` answered 200, as a Result for the traffic thread.
fn ping(stream: &mut Tls) -> Result<(), String> {
    match request(stream, "POST", "/mcp", PING) {
        Ok((200, body)) if body.contains(r#""result":{}"#) => Ok(()),
        Ok((status, body)) => Err(format!("{status} {body}")),
        Err(e) => Err(e.to_string()),
    }
}

/// What the traffic thread saw.
#[derive(Default)]
struct Traffic {
    answered: usize,
    failures: Vec<String>,
    /// The leaf each new connection was given, in order.
    leaves: Vec<Vec<u8>>,
}

/// MCP over HTTPS with a chain (leaf and intermediate) trusted only through the test root; then,
/// under continuous traffic (a new connection per request, and a kept-alive one), the files are
/// replaced and SIGHUP reloads them: no request fails, new connections get the new certificate,
/// the kept-alive one goes on with the old. A broken key and SIGHUP keep the certificate in use.
#[cfg(unix)]
#[test]
fn serves_mcp_over_https_and_reloads_the_certificate_on_sighup() {
    let pki = Pki::new();
    let files = tempfile::tempdir().unwrap();
    let first = pki.server_cert(true);
    let mut server = start_tls(files.path(), &first, &["--rate-limit", "off"]);
    let (cert_path, key_path) = (files.path().join("cert.pem"), files.path().join("key.pem"));
    let port = server.port;
    let client = pki.client();
    server.wait_for_log("TLS on: the certificate from", 1);

    let mut stream = connect(port, &client).unwrap();
    assert_eq!(peer_leaf(&stream), first.leaf);
    assert_eq!(stream.conn.peer_certificates().unwrap().len(), 2, "the intermediate is sent with the leaf");
    assert_eq!(stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    let init = rpc(
        &mut stream,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "tls-test", "version": "1"}}}),
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    let list = rpc(&mut stream, json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 7);
    let call = rpc(
        &mut stream,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_flight", "arguments": {"flight_number": "DL0001"}}}),
    );
    assert_eq!(call["result"]["structuredContent"]["rows"][0]["flight_number"], "DL0001");
    let (status, health) = request(&mut stream, "GET", "/healthz", "").unwrap();
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&health).unwrap()["status"], "ok");

    // Continuous traffic: each round, a request on a new connection and one on the kept-alive
    // connection opened before the reload. Bounded in rounds and time.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = Arc::new(Mutex::new(Traffic::default()));
    let worker = {
        let (stop, traffic, client) = (stop.clone(), traffic.clone(), client.clone());
        std::thread::spawn(move || {
            let mut kept = stream;
            let started = Instant::now();
            for _ in 0..5000 {
                if stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(60) {
                    break;
                }
                let fresh = connect(port, &client).map_err(|e| format!("new connection: {e}")).and_then(|mut s| {
                    let leaf = peer_leaf(&s);
                    ping(&mut s).map(|()| leaf).map_err(|e| format!("new connection: {e}"))
                });
                let kept_result = ping(&mut kept).map_err(|e| format!("kept-alive connection: {e}"));
                let mut traffic = traffic.lock().unwrap();
                match fresh {
                    Ok(leaf) => {
                        traffic.answered += 1;
                        traffic.leaves.push(leaf);
                    }
                    Err(e) => traffic.failures.push(e),
                }
                match kept_result {
                    Ok(()) => traffic.answered += 1,
                    Err(e) => traffic.failures.push(e),
                }
            }
            kept
        })
    };
    let wait_for_rounds = |rounds: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        let start = traffic.lock().unwrap().leaves.len();
        while traffic.lock().unwrap().leaves.len() < start + rounds {
            assert!(Instant::now() < deadline, "the traffic stalled: {:?}", traffic.lock().unwrap().failures);
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for_rounds(20);

    let second = pki.server_cert(false);
    write_cert(files.path(), &second);
    server.signal("-HUP");
    let log = server.wait_for_log("reloaded the TLS certificate from", 1);
    assert!(log.contains(&*cert_path.to_string_lossy()), "the reload names the file: {log}");
    assert!(log.contains("valid until"), "{log}");
    wait_for_rounds(20);
    stop.store(true, Ordering::Relaxed);
    let mut kept = worker.join().unwrap();
    server.assert_running();

    let traffic = traffic.lock().unwrap();
    assert!(traffic.failures.is_empty(), "requests failed during the reload: {:?}", traffic.failures);
    assert!(traffic.answered >= 80, "{} answered", traffic.answered);
    let switched =
        traffic.leaves.iter().position(|l| *l == second.leaf).expect("no connection saw the new certificate");
    assert!(switched > 0, "the new certificate was served before the reload");
    assert!(traffic.leaves[..switched].iter().all(|l| *l == first.leaf));
    assert!(traffic.leaves[switched..].iter().all(|l| *l == second.leaf), "the old certificate came back");
    // The kept-alive connection still has the certificate it was opened with, and still serves.
    assert_eq!(peer_leaf(&kept), first.leaf);
    ping(&mut kept).unwrap();

    let mut stream = connect(port, &client).unwrap();
    assert_eq!(peer_leaf(&stream), second.leaf);
    assert_eq!(stream.conn.peer_certificates().unwrap().len(), 1);
    ping(&mut stream).unwrap();

    // A broken key: the reload fails, naming the file, and the second certificate stays.
    std::fs::write(&key_path, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n").unwrap();
    server.signal("-HUP");
    let log = server.wait_for_log("cannot reload the TLS certificate", 1);
    let line = log.lines().find(|l| l.contains("cannot reload the TLS certificate")).unwrap();
    assert!(line.contains(r#""level":"ERROR""#), "{line}");
    assert!(line.contains(&*key_path.to_string_lossy()) && line.contains("still serving the previous one"), "{line}");
    // A key of another certificate: refused too.
    std::fs::write(&key_path, &first.key_pem).unwrap();
    server.signal("-HUP");
    let log = server.wait_for_log("cannot reload the TLS certificate", 2);
    assert!(log.contains("does not match the certificate"), "{log}");
    server.assert_running();
    let mut stream = connect(port, &client).unwrap();
    assert_eq!(peer_leaf(&stream), second.leaf, "a failed reload changed the certificate");
    ping(&mut stream).unwrap();
    // Fixed again: the next SIGHUP takes it.
    std::fs::write(&cert_path, &first.chain_pem).unwrap();
    std::fs::write(&key_path, &first.key_pem).unwrap();
    server.signal("-HUP");
    server.wait_for_log("reloaded the TLS certificate from", 2);
    assert_eq!(peer_leaf(&connect(port, &client).unwrap()), first.leaf);
}

/// Closed within `limit` (a read sees the end, or an error); how long that took.
fn closed_after(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            // Whatever the server sends before closing (an alert) is read through.
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                panic!("still open after {limit:?}")
            }
            Err(_) => return started.elapsed(),
        }
    }
}

/// The TLS port and clients that do not speak TLS, or not in time: a plain HTTP request is
/// answered 400 saying to use https; a silent connection, half a ClientHello, and a TLS
/// connection that sends no request are closed at the header-read timeout while the server goes
/// on serving; a client that distrusts the certificate fails its handshake without an error in
/// the server's log.
#[test]
fn the_tls_port_refuses_plain_http_and_stalled_handshakes() {
    let pki = Pki::new();
    let files = tempfile::tempdir().unwrap();
    let cert = pki.server_cert(true);
    let mut server = start_tls(files.path(), &cert, &["--header-read-timeout", "1s"]);
    let port = server.port;
    let client = pki.client();

    let mut plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = PING;
    write!(
        plain,
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    plain.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("https://"), "{answer}");

    let started = Instant::now();
    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut half_hello = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A handshake record's header announcing 512 bytes, and 4 of them.
    half_hello.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]).unwrap();
    let mut no_request = connect(port, &client).unwrap();
    // Meanwhile the server serves.
    let mut stream = connect(port, &client).unwrap();
    ping(&mut stream).unwrap();
    drop(stream);

    for (name, socket) in [("silent", &mut silent), ("half a ClientHello", &mut half_hello)] {
        let after = closed_after(socket, Duration::from_secs(6));
        let total = started.elapsed();
        assert!(total >= Duration::from_millis(900), "{name}: closed before the header timeout ({total:?})");
        assert!(total < Duration::from_secs(4), "{name}: closed after {total:?} ({after:?})");
    }
    let closed = loop {
        match no_request.read(&mut [0u8; 64]) {
            Ok(0) | Err(_) => break started.elapsed(),
            Ok(_) => {}
        }
    };
    assert!(closed >= Duration::from_millis(900) && closed < Duration::from_secs(4), "no request: {closed:?}");

    // A client with another trust root: its handshake fails; the server logs nothing above debug.
    let other = Pki::new();
    let refused = connect(port, &other.client()).expect_err("a certificate from an unknown issuer is refused");
    assert!(refused.to_string().contains("invalid peer certificate"), "{refused}");
    let mut stream = connect(port, &client).unwrap();
    ping(&mut stream).unwrap();
    server.assert_running();
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log.lock().unwrap().clone();
    assert!(!log.contains("handshake") && !log.contains(r#""level":"ERROR""#), "{log}");
}

/// SIGTERM over TLS: an idle kept-alive connection and one still in its handshake are closed at
/// once, so the process exits 0 long before the header-read and shutdown timeouts.
#[cfg(unix)]
#[test]
fn sigterm_closes_idle_and_handshaking_tls_connections_at_once() {
    let pki = Pki::new();
    let files = tempfile::tempdir().unwrap();
    let mut server = start_tls(
        files.path(),
        &pki.server_cert(false),
        &["--header-read-timeout", "30s", "--shutdown-timeout", "20s"],
    );
    let mut idle = connect(server.port, &pki.client()).unwrap();
    ping(&mut idle).unwrap();
    let mut handshaking = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    handshaking.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    server.signal("-TERM");
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit}");
    assert!(started.elapsed() < Duration::from_secs(5), "the shutdown waited {:?}", started.elapsed());
    closed_after(&mut handshaking, Duration::from_secs(1));
}

/// Start-up checks: one TLS flag without the other, TLS with --stdio, and files that are missing
/// or not what they should be are refused with a message naming the flag or the file.
#[test]
fn tls_flags_are_checked_at_start_up() {
    let pki = Pki::new();
    let files = tempfile::tempdir().unwrap();
    let (cert, key) = write_cert(files.path(), &pki.server_cert(false));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let missing = files.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    let refused = |args: &[&str], env: &[(&str, &str)]| {
        let db = tempfile::tempdir().unwrap();
        let output = Command::new(BINARY)
            .args(["--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .env("TOOLBOX_DEMO_DB", db.path().join("airline.db"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} started");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let message = refused(&["--tls-cert", cert], &[]);
    assert!(message.contains("--tls-key"), "{message}");
    let message = refused(&["--tls-key", key], &[]);
    assert!(message.contains("--tls-cert"), "{message}");
    let message = refused(&[], &[("TOOLBOX_TLS_CERT", cert)]);
    assert!(message.contains("--tls-key"), "{message}");
    let message = refused(&["--tls"], &[]);
    assert!(message.contains("--tls-cert"), "{message}");
    let message = refused(&["--stdio", "--tls-cert", cert, "--tls-key", key], &[]);
    assert!(message.contains("--stdio"), "{message}");
    let message = refused(&["--tls-cert", missing, "--tls-key", key], &[]);
    assert!(message.contains(missing) && message.contains("cannot read"), "{message}");
    let message = refused(&["--tls-cert", cert, "--tls-key", cert], &[]);
    assert!(message.contains(&format!("--tls-key {cert}")) && message.contains("no private key"), "{message}");
    let message = refused(&["--tls-cert", key, "--tls-key", key], &[]);
    assert!(message.contains(&format!("--tls-cert {key}")) && message.contains("no certificate"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}

/// Without TLS, SIGHUP is logged and ignored (its default action would end the process).
#[cfg(unix)]
#[test]
fn sighup_without_tls_is_logged_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BINARY)
        .args(["--port", "0"])
        .env("TOOLBOX_DEMO_DB", dir.path().join("airline.db"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("serving MCP at http://") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the server exited before listening");
    }
    let port: u16 = line.split("http://127.0.0.1:").nth(1).unwrap().split('/').next().unwrap().parse().unwrap();
    let status = Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    line.clear();
    while !line.contains("SIGHUP") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the server exited on SIGHUP");
    }
    assert!(line.contains("no certificate to reload"), "{line}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut stream).unwrap().0, 200);
    let _ = child.kill();
    let _ = child.wait();
}
