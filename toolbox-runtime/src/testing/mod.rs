//! What the project's own tests share (feature `test-support`, never in a release binary):
//! a toolbox served without a socket, a tool call and its result, an environment for `${VAR}`
//! settings, throw-away PostgreSQL and MariaDB databases ([`TestDb`]), and this process's own TCP
//! sockets with their options ([`tcp_sockets`]).
//!
//! A test that needs a service skips with a printed reason on a newcomer's machine and fails
//! loudly under `CI=true` ([`service_reachable`]).

mod database;
mod sockets;

pub use database::{Engine, TestDb};
pub use sockets::{TcpSocket, assert_nodelay, tcp_sockets};

use crate::args::NoClaims;
use crate::auth::Auth;
use crate::def::Toolbox;
use crate::http::{AppState, HostRule, HttpConfig, OriginRule, router};
use crate::mcp::{Headers, Mcp, Transport};
use serde_json::{Value, json};
use std::sync::Arc;

/// An environment for `${VAR}` settings: these pairs, the first match winning.
pub fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// The method layer over `toolbox`'s sources, their settings looked up in `lookup`.
pub fn mcp(toolbox: &'static Toolbox, lookup: &dyn Fn(&str) -> Option<String>) -> Mcp {
    let sources = toolbox.resolve_sources_with(lookup).expect("the sources' settings resolve");
    Mcp::new(toolbox, Arc::new(sources))
}

/// The HTTP settings of tests: loopback hosts and origins, 1 MiB bodies, the default body-read
/// timeout.
pub fn http_config() -> HttpConfig {
    HttpConfig {
        allowed_hosts: HostRule::Loopback,
        allowed_origins: OriginRule::Loopback,
        max_body_bytes: 1 << 20,
        body_read_timeout: HttpConfig::DEFAULT_BODY_READ_TIMEOUT,
    }
}

/// The router over `mcp`, driven without a socket.
pub fn app(mcp: Mcp, config: HttpConfig, auth: Auth) -> axum::Router {
    router(Arc::new(AppState::new(mcp, config, auth)))
}

/// Calls `tool` at protocol version 2025-11-25, as an HTTP client without credentials would;
/// the `result` member of the answer.
pub async fn call(mcp: &Mcp, tool: &str, arguments: Value) -> Value {
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
            .to_string();
    let toolset = mcp.toolbox.toolset(None).expect("the default toolset");
    let headers = Headers { protocol_version: Some("2025-11-25"), ..Default::default() };
    let reply = mcp.handle_body(toolset, body.as_bytes(), Transport::Http(headers), &NoClaims).await;
    let value: Value = serde_json::from_slice(&reply.body.expect("a tools/call is answered")).expect("JSON");
    value["result"].clone()
}

/// The text of an `isError` result; fails the test when the result is not an error.
pub fn error_text(result: &Value) -> String {
    assert_eq!(result["isError"], true, "expected an error: {result}");
    result["content"][0]["text"].as_str().expect("a text content").to_string()
}

/// Whether `service` answers at `address` (`host:port`). When it does not, the test should
/// return: this prints why, and under `CI=true` fails instead.
pub fn service_reachable(service: &str, address: &str) -> bool {
    if std::net::TcpStream::connect(address).is_ok() {
        return true;
    }
    assert!(std::env::var("CI").is_err(), "CI=true and {service} is not reachable at {address}");
    eprintln!("skipping: {service} is not reachable at {address}");
    false
}
