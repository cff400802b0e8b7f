//! A Redis (or Valkey) source: its settings resolved at start-up into a redis-rs client, and a
//! small pool of multiplexed connections opened on first use.
//!
//! Each connection is a redis-rs `ConnectionManager`: one multiplexed connection (concurrent
//! calls pipeline on it) that reconnects by itself after a failure, re-authenticating and
//! re-selecting the database. Calls spread over the pool round-robin. A Redis that is down at
//! start-up or later never stops the server: calls fail with an `isError` result naming the
//! source while it is down, and succeed again once it is back. RESP3 is spoken, so maps arrive
//! as maps (Redis 6 or later, and Valkey).

use crate::db::{BoxFuture, Engine};
use crate::setting::{Setting, StartupError, resolve_setting};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_PORT: u16 = 6379;

/// A Redis source as the build checked it; every setting is resolved at start-up.
pub struct RedisSourceDef {
    /// `host:port` (`[v6]:port`); the port defaults to 6379.
    pub address: Setting,
    pub username: Option<Setting>,
    pub password: Option<Setting>,
    /// The database number (default 0).
    pub database: Option<Setting>,
    pub tls: bool,
    /// Accept any certificate (the reference's `insecureSkipVerify`).
    pub tls_insecure_skip_verify: bool,
    /// A PEM file of the CAs to trust, instead of the platform's (relative: to `tools.yaml`'s
    /// directory).
    pub tls_ca_file: Option<Setting>,
    pub connect_timeout: Option<Setting>,
    /// The longest one reply may take; a call's own deadline applies too.
    pub command_timeout: Option<Setting>,
    /// Multiplexed connections in the pool.
    pub max_connections: u32,
}

pub struct RedisSource {
    name: &'static str,
    client: redis::Client,
    config: ConnectionManagerConfig,
    size: usize,
    /// Made on first use, inside the runtime (a connection manager spawns a task).
    connections: OnceLock<Vec<ConnectionManager>>,
    next: AtomicUsize,
}

impl RedisSource {
    pub fn open(
        config_path: &str,
        config_dir: &str,
        name: &'static str,
        def: &RedisSourceDef,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let owner = format!("source `{name}`");
        let resolve = |s: &Setting| resolve_setting(config_path, &owner, s, lookup);
        let refuse = |s: &Setting, what: String| StartupError(format!("{}: {owner}: {what}", s.at()));
        let address = resolve(&def.address)?;
        let (host, port) = split_address(&address).ok_or_else(|| {
            refuse(&def.address, format!("`{address}` is not an address; write `host:port`, e.g. `127.0.0.1:6379`"))
        })?;
        let database = match &def.database {
            Some(s) => {
                let text = resolve(s)?;
                text.trim().parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                    refuse(s, format!("`database` must be a database number (0, 1, ...), found `{text}`"))
                })?
            }
            None => 0,
        };
        let duration = |s: &Option<Setting>, field: &str| -> Result<Option<Duration>, StartupError> {
            let Some(s) = s else { return Ok(None) };
            let text = resolve(s)?;
            toolbox_config::duration::parse(&text, true)
                .map(Some)
                .ok_or_else(|| refuse(s, format!("`{field}` `{text}` is not a duration (`5s`, `500ms`)")))
        };
        let connect_timeout = duration(&def.connect_timeout, "connectTimeout")?.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let command_timeout = duration(&def.command_timeout, "commandTimeout")?;
        let mut redis = redis::RedisConnectionInfo::default()
            .set_db(database)
            .set_protocol(redis::ProtocolVersion::RESP3)
            .set_lib_name("toolbox", env!("CARGO_PKG_VERSION"));
        if let Some(s) = &def.username {
            redis = redis.set_username(resolve(s)?);
        }
        if let Some(s) = &def.password {
            let password = resolve(s)?;
            if !password.is_empty() {
                redis = redis.set_password(password);
            }
        }
        let addr = if def.tls {
            redis::ConnectionAddr::TcpTls { host, port, insecure: def.tls_insecure_skip_verify, tls_params: None }
        } else {
            redis::ConnectionAddr::Tcp(host, port)
        };
        let info = redis::IntoConnectionInfo::into_connection_info(addr)
            .map_err(|e| StartupError(format!("{config_path}: {owner}: {e}")))?
            .set_redis_settings(redis)
            // Each command is a small write awaiting its reply: Nagle's algorithm would hold a
            // caller's command behind another's until the server ACKs.
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = match &def.tls_ca_file {
            Some(s) => {
                let path = std::path::Path::new(config_dir).join(resolve(s)?);
                let pem = std::fs::read(&path).map_err(|e| {
                    refuse(s, format!("cannot read the CA file `{}` (tls.caFile): {e}", path.display()))
                })?;
                let certs = redis::TlsCertificates { client_tls: None, root_cert: Some(pem) };
                redis::Client::build_with_tls(info, certs)
            }
            None => redis::Client::open(info),
        }
        .map_err(|e| StartupError(format!("{config_path}: {owner}: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(command_timeout)
            // One quick retry: a call whose Redis is down fails within the connect timeout, and
            // the next call tries again.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200));
        Ok(Self {
            name,
            client,
            config,
            size: def.max_connections.max(1) as usize,
            connections: OnceLock::new(),
            next: AtomicUsize::new(0),
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A connection of the pool, round-robin; connecting happens on its first command.
    pub fn connection(&self) -> Result<ConnectionManager, String> {
        let connections = match self.connections.get() {
            Some(c) => c,
            None => {
                let made: Result<Vec<_>, _> = (0..self.size)
                    .map(|_| ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone()))
                    .collect();
                let made = made.map_err(|e| format!("source `{}` cannot be used: {e}", self.name))?;
                // A concurrent first call may have won; its pool is used and this one dropped.
                let _ = self.connections.set(made);
                self.connections.get().ok_or("unreachable")?
            }
        };
        let i = self.next.fetch_add(1, Ordering::Relaxed) % connections.len();
        Ok(connections[i].clone())
    }

    async fn ping_once(&self) -> Result<(), String> {
        let mut connection = self.connection()?;
        let reply: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut connection).await;
        reply.map(drop).map_err(|e| super::connection_error(&e))
    }
}

/// `host:port`, `[v6]:port`, or a host alone (port 6379).
fn split_address(address: &str) -> Option<(String, u16)> {
    let address = address.trim();
    if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => DEFAULT_PORT,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.contains(':') => Some((host.to_string(), port.parse().ok()?)),
        Some(_) => None,
        None if !address.is_empty() => Some((address.to_string(), DEFAULT_PORT)),
        None => None,
    }
}

impl Engine for RedisSource {
    fn kind(&self) -> &'static str {
        "redis"
    }

    /// Commands are checked against `COMMAND INFO` at build time; at start-up the server is
    /// only reached.
    fn compare<'a>(&'a self, _drift: &'a mut Vec<String>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.ping_once())
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.ping_once())
    }

    /// Connections close when the source is dropped; nothing runs past a call.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn stats(&self) -> Option<crate::db::PoolStats> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::split_address;

    #[test]
    fn addresses() {
        assert_eq!(split_address("127.0.0.1:6380"), Some(("127.0.0.1".into(), 6380)));
        assert_eq!(split_address("cache"), Some(("cache".into(), 6379)));
        assert_eq!(split_address("[::1]:7000"), Some(("::1".into(), 7000)));
        assert_eq!(split_address("[::1]"), Some(("::1".into(), 6379)));
        assert_eq!(split_address("::1"), None);
        assert_eq!(split_address("h:port"), None);
        assert_eq!(split_address(""), None);
    }
}
