//! The `redis` source and tool against real servers: every reply type from the Redis of this
//! machine (database 13, emptied before and after), and a Redis started by the test, stopped
//! and started again under load, whose tools answer `isError` while it is down and recover.

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use toolbox_runtime::testing::{call, env, error_text, mcp, service_reachable};

mod tls;

mod redis_toolbox {
    toolbox_macros::toolbox!("redis.yaml");
}

const DB: &str = "13";

fn flush(port: u16) {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/{DB}")).unwrap();
    let mut c = client.get_connection().unwrap();
    let _: () = redis::cmd("FLUSHDB").query(&mut c).unwrap();
}

fn rows(result: &Value) -> Value {
    assert_ne!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().expect("text content");
    let rows: Value = serde_json::from_str(text).expect("JSON text");
    assert_eq!(rows, result["structuredContent"]["rows"], "text and structured content agree");
    rows
}

#[tokio::test]
async fn replies_of_every_type() {
    if !service_reachable("Redis", "127.0.0.1:6379") {
        return;
    }
    flush(6379);
    let mcp = mcp(&redis_toolbox::TOOLBOX, &env(&[("REDIS_DB", DB)]));

    // A value that would be a second command if it were spliced into a command line.
    let sneaky = "v\r\n*1\r\n$8\r\nFLUSHALL\r\n";
    let r = call(&mcp, "set_get", json!({"key": "a b", "value": sneaky})).await;
    assert_eq!(rows(&r), json!(["OK", sneaky]));

    let r = call(&mcp, "shapes", json!({"fields": {"f": "v", "n": 2}, "items": ["x", "y"], "step": 5})).await;
    assert_eq!(
        rows(&r),
        json!([
            0,
            2,
            {"f": "v", "n": "2"},
            2,
            ["x", "y"],
            1,
            ["only"],
            1,
            1.5,
            5,
            null,
            0,
            {"base64": "gA=="},
            [1, "two", {"error": "ERR three"}]
        ])
    );

    let r = call(&mcp, "read_hash", json!({"key": "h"})).await;
    assert_eq!(rows(&r), json!([{"f": "v", "n": "2"}]));

    let r = call(&mcp, "wrong_type", json!({})).await;
    let text = error_text(&r);
    assert!(text.starts_with("source `cache`: command 2 of 2 (`HGET`) failed: WRONGTYPE"), "{text}");

    let r = call(&mcp, "shapes", json!({"fields": {}, "items": [], "step": "x"})).await;
    assert!(error_text(&r).contains("step"), "arguments are checked before Redis is reached");
    flush(6379);
}

/// A Redis of the test's own, on a free port, with nothing saved to disk.
struct Server {
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn start(port: u16) -> Server {
        Server::start_with(port, &["--port", &port.to_string()])
    }

    fn start_with(port: u16, args: &[&str]) -> Server {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { port, child: Some(child) }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether `redis-server` can be run; when it cannot, the test should return: this prints why,
/// and under `CI=true` fails instead.
/// The connection sends without Nagle's delay (TCP_NODELAY): callers share one multiplexed
/// connection, so a command written while another awaits its reply must not wait for Redis's
/// delayed ACK. The connection is found by the address Redis reports for it.
#[tokio::test]
async fn the_connection_has_nagle_off() {
    if !service_reachable("Redis", "127.0.0.1:6379") {
        return;
    }
    let mcp = mcp(&redis_toolbox::TOOLBOX, &env(&[("REDIS_DB", DB)]));
    let r = call(&mcp, "client_info", json!({})).await;
    let line = rows(&r)[0].as_str().unwrap_or_else(|| panic!("a client line: {r}")).to_string();
    let port: u16 = line
        .split(' ')
        .find_map(|field| field.strip_prefix("addr="))
        .and_then(|addr| addr.rsplit_once(':')?.1.parse().ok())
        .unwrap_or_else(|| panic!("an addr= field in {line}"));
    toolbox_runtime::testing::assert_nodelay(6379, &[port], "the connection to Redis");
}

fn redis_server_installed() -> bool {
    if Command::new("redis-server").arg("--version").output().is_ok() {
        return true;
    }
    assert!(std::env::var("CI").is_err(), "CI=true and redis-server is not installed");
    eprintln!("skipping: redis-server is not installed");
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_goes_away_and_comes_back() {
    if !redis_server_installed() {
        return;
    }
    let port = free_port();
    let mcp = std::sync::Arc::new(mcp(&redis_toolbox::TOOLBOX, &env(&[("REDIS_PORT", &port.to_string())])));
    let set = |mcp: std::sync::Arc<toolbox_runtime::mcp::Mcp>| async move {
        call(&mcp, "set_get", json!({"key": "k", "value": "v"})).await
    };

    // Down at start-up: an error naming the source, and the server goes on.
    let text = error_text(&set(mcp.clone()).await);
    assert!(text.contains("source `cache`"), "{text}");

    let mut server = Server::start(port);
    let recovered = async {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = set(mcp.clone()).await;
            if r["isError"] != true {
                return r;
            }
            assert!(Instant::now() < deadline, "no recovery: {r}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert_eq!(rows(&recovered.await), json!(["OK", "v"]));

    // Under load: four clients call while the server is stopped and started again.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (mcp, stop) = (mcp.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0u32, 0u32);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = set(mcp.clone()).await;
                if r["isError"] == true {
                    let text = error_text(&r);
                    assert!(text.contains("source `cache`"), "{text}");
                    failed += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                } else {
                    assert_eq!(rows(&r), json!(["OK", "v"]));
                    ok += 1;
                }
            }
            (ok, failed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _server = Server::start(server.port);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if set(mcp.clone()).await["isError"] != true {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut failed) = (0, 0);
    for c in clients {
        let (o, f) = c.await.unwrap();
        ok += o;
        failed += f;
    }
    eprintln!("under load: {ok} calls answered, {failed} failed while Redis was down");
    assert!(failed > 0, "some calls ran while Redis was down");
    assert!(ok > 0);
    // Every call after recovery succeeds.
    for _ in 0..20 {
        assert_eq!(rows(&set(mcp.clone()).await), json!(["OK", "v"]));
    }
}
