//! What PostgreSQL and MySQL/MariaDB sources share: settings resolved at start-up into a
//! connection URL and timeouts (a database that is down never stops the server: connections
//! are made on demand), and the start-up comparison of each compiled statement with the live
//! schema. Each engine's own part is in its module (`postgres/source.rs`, `mysql/source.rs`).

use crate::db::def::{CompiledStatement, ServerSourceDef};
use crate::db::pool::Pool;
use crate::db::{BoxFuture, Engine};
use crate::setting::{Setting, StartupError, resolve_setting};
use sqlx::{Column, Executor, Statement, TypeInfo};
use std::time::Duration;

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many calls may wait for a source's connections before more fail at once.
pub const DEFAULT_MAX_WAITING: usize = 256;

/// What a server engine tells the source type the engines share: its name, and how its
/// statements are compared with the live schema.
pub trait ServerEngine: sqlx::Database {
    /// The engine's name, as [`crate::db::Sources::health`] reports it.
    const KIND: &'static str;
    /// Compare column names only (the engine's wire types are coarser than the build's).
    const NAMES_ONLY: bool;
    /// The types a statement is prepared with (those calls send).
    fn parameter_types(statement: &CompiledStatement) -> Vec<Self::TypeInfo>;
}

/// A PostgreSQL or MySQL source: its pool, made by the engine's module from the resolved
/// settings, and its compiled statements.
pub struct ServerSource<DB: sqlx::Database> {
    name: &'static str,
    pool: Pool<DB>,
    statements: &'static [CompiledStatement],
}

impl<DB: sqlx::Database> ServerSource<DB> {
    pub fn new(name: &'static str, pool: Pool<DB>, statements: &'static [CompiledStatement]) -> Self {
        Self { name, pool, statements }
    }

    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }
}

impl<DB: ServerEngine> Engine for ServerSource<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn kind(&self) -> &'static str {
        DB::KIND
    }

    fn compare<'a>(&'a self, drift: &'a mut Vec<String>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(compare_statements(&self.pool, self.name, self.statements, DB::parameter_types, DB::NAMES_ONLY, drift))
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { self.pool.check().await.map_err(|e| e.to_string()) })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.pool.close())
    }

    fn stats(&self) -> Option<super::PoolStats> {
        Some(self.pool.stats())
    }
}

/// A server source's settings, resolved.
pub struct Resolved {
    /// The source's name, for messages.
    pub name: &'static str,
    /// The connection URL (it holds the password: never show it).
    pub url: String,
    pub connect_timeout: Duration,
    /// The source's `queryTimeout`, enforced by the engine.
    pub query_timeout: Option<Duration>,
    pub read_only: bool,
    pub max_connections: u32,
    config_path: String,
    /// Each query parameter: its name, its setting and its resolved value (for messages).
    query_params: Vec<(&'static str, Setting, String)>,
}

impl Resolved {
    /// The driver refused the URL. Each query parameter is tried alone with `probe` (the
    /// driver's own parser), so that the message names the setting of `tools.yaml` it refused, its
    /// value and where the value came from, in the driver's words without its own names; else the
    /// driver's description of what is wrong, without the URL.
    pub fn invalid(&self, error: sqlx::Error, probe: impl Fn(&str) -> Option<sqlx::Error>) -> StartupError {
        let scheme = self.url.split("://").next().unwrap_or_default();
        for (key, setting, value) in &self.query_params {
            let params = [(key.to_string(), value.clone())];
            let alone = toolbox_config::url::connection_url(
                scheme,
                &toolbox_config::url::ServerSettings {
                    host: "localhost",
                    port: "",
                    user: None,
                    password: None,
                    database: None,
                    query_params: &params,
                },
            );
            let Some(refused) = probe(&alone) else { continue };
            let secret = ["pass", "secret", "key", "token"].iter().any(|s| key.to_ascii_lowercase().contains(s));
            let what = if secret {
                format!("queryParams `{key}`: the driver refuses its value")
            } else {
                let from =
                    if setting.raw != value.as_str() { format!(" (from `{}`)", setting.raw) } else { String::new() };
                format!("queryParams `{key}` is `{value}`{from}, which the driver refuses")
            };
            let values = accepted_values(scheme, key).map(|v| format!("; it takes {v}")).unwrap_or_default();
            return StartupError(format!(
                "{}: source `{}`: {what}: {}{values}",
                setting.at(),
                self.name,
                driver_words(&refused.to_string())
            ));
        }
        StartupError(format!(
            "{}: source `{}`: invalid connection settings: {}",
            self.config_path,
            self.name,
            driver_words(&error.to_string().replace(&self.url, "<url>"))
        ))
    }
}

/// The values of a query parameter with a fixed set, for the message that refuses another.
fn accepted_values(scheme: &str, key: &str) -> Option<&'static str> {
    match (scheme, key.to_ascii_lowercase().as_str()) {
        ("postgres", "sslmode" | "ssl-mode") => Some("disable, allow, prefer, require, verify-ca or verify-full"),
        ("mysql", "sslmode" | "ssl-mode") => Some("disabled, preferred, required, verify_ca or verify_identity"),
        _ => None,
    }
}

/// A driver's configuration error without what only its own code knows: sqlx wraps the message
/// in "error with configuration: " once per layer and names the field of its options struct
/// (`for \`ssl_mode\``), not the setting the user wrote.
fn driver_words(message: &str) -> String {
    let mut text = message;
    while let Some(rest) = text.strip_prefix("error with configuration: ") {
        text = rest;
    }
    let text = match text.rfind(" for `") {
        Some(at) if text.ends_with('`') => &text[..at],
        _ => text,
    };
    text.to_string()
}

/// Resolves a server source's settings into a `scheme://` URL and its timeouts, naming every
/// setting that cannot be resolved.
pub fn resolve(
    config_path: &str,
    name: &'static str,
    def: &ServerSourceDef,
    scheme: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, StartupError> {
    let owner = &format!("source `{name}`");
    let fields = toolbox_config::url::ServerFields {
        host: &def.host,
        port: &def.port,
        user: def.user.as_ref(),
        password: def.password.as_ref(),
        database: def.database.as_ref(),
        query_params: def.query_params.iter().map(|(k, v)| (*k, v)).collect(),
    };
    let url = toolbox_config::url::resolve_url(scheme, &fields, |s| {
        resolve_setting(config_path, owner, s, lookup).map_err(|e| e.0)
    });
    let (url, mut errors) = match url {
        Ok(url) => (url, Vec::new()),
        Err(errors) => (String::new(), errors),
    };
    let mut resolve = |s: &Setting| match resolve_setting(config_path, owner, s, lookup) {
        Ok(v) => v,
        Err(e) => {
            errors.push(e.0);
            String::new()
        }
    };
    let port = if url.is_empty() { String::new() } else { resolve(&def.port) };
    let query_params: Vec<(&'static str, Setting, String)> =
        if url.is_empty() { Vec::new() } else { def.query_params.iter().map(|(k, s)| (*k, *s, resolve(s))).collect() };
    let connect_timeout = def.connect_timeout.as_ref().map(|s| (s, resolve(s)));
    let query_timeout = def.query_timeout.as_ref().map(|s| (s, resolve(s)));
    // Checked here, where the setting is known, rather than by the driver's URL parser, whose
    // "invalid port number" says neither which setting nor which value.
    if !port.is_empty() && port.parse::<u16>().is_err() {
        let setting = &def.port;
        let from = if setting.raw != port { format!(" (from `{}`)", setting.raw) } else { String::new() };
        errors.push(format!(
            "{}: {owner}: `port` is `{port}`{from}, which is not a port number (1 to 65535)",
            setting.at()
        ));
    }
    let mut duration = |value: Option<(&Setting, String)>, bare_seconds: bool, field: &str| {
        let (setting, text) = value?;
        match toolbox_config::duration::parse(&text, bare_seconds) {
            Some(d) => Some(d),
            None => {
                errors.push(format!("{}: {owner}: `{field}` `{text}` is not a duration", setting.at()));
                None
            }
        }
    };
    let connect_timeout = duration(connect_timeout, true, "connectTimeout").unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let query_timeout = duration(query_timeout, false, "queryTimeout");
    if !errors.is_empty() {
        return Err(StartupError(errors.join("\n")));
    }
    Ok(Resolved {
        name,
        url,
        connect_timeout,
        query_timeout,
        read_only: def.read_only,
        max_connections: def.max_connections,
        config_path: config_path.to_string(),
        query_params,
    })
}

/// Connects once and prepares every compiled statement of source `name`, comparing its columns with
/// what the build described. `parameter_types` gives the types a statement is prepared with
/// (those calls send, so the statement left in the connection's cache is the one a call needs);
/// with `names_only`, column types are not compared (MySQL's wire types are coarser than what the
/// build refined them to). Differences are pushed to `drift`; an error means the database is down.
pub async fn compare_statements<DB: sqlx::Database>(
    pool: &Pool<DB>,
    name: &str,
    statements: &'static [CompiledStatement],
    parameter_types: impl Fn(&CompiledStatement) -> Vec<DB::TypeInfo>,
    names_only: bool,
    drift: &mut Vec<String>,
) -> Result<(), String>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    pool.check().await.map_err(|e| e.to_string())?;
    for statement in statements {
        match live_columns(pool, statement.sql, &parameter_types(statement)).await {
            Ok(mut columns) => {
                if names_only {
                    for (i, c) in columns.iter_mut().enumerate() {
                        if let Some((_, compiled)) = statement.columns.get(i) {
                            c.1 = compiled.to_string();
                        }
                    }
                }
                for difference in compare(statement.columns, &columns) {
                    drift.push(format!("source `{name}`, tool `{}`: {difference}", statement.tool));
                }
            }
            Err(sqlx::Error::Database(e)) => drift.push(format!(
                "source `{name}`, tool `{}`: the statement no longer prepares: {}",
                statement.tool,
                e.message()
            )),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

/// The result columns (name, type) of a statement as the live database prepares it.
async fn live_columns<DB: sqlx::Database>(
    pool: &Pool<DB>,
    sql: &'static str,
    parameter_types: &[DB::TypeInfo],
) -> Result<Vec<(String, String)>, sqlx::Error>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut lease = pool.acquire().await.map_err(crate::db::pool::AcquireError::into_sqlx)?;
    let statement = lease.prepare_with(sqlx::SqlSafeStr::into_sql_str(sql), parameter_types).await?;
    Ok(statement.columns().iter().map(|c| (c.name().to_string(), c.type_info().name().to_string())).collect())
}

/// The differences between the compiled and the live columns of a statement.
pub(crate) fn compare(compiled: &[(&str, &str)], live: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (name, ty)) in compiled.iter().enumerate() {
        match live.get(i) {
            None => out.push(format!("column `{name}` is gone")),
            Some((live_name, _)) if live_name != name => {
                out.push(format!("column {} is `{live_name}`, was `{name}`", i + 1))
            }
            Some((_, live_type)) if live_type != ty => {
                out.push(format!("column `{name}` is `{live_type}`, was `{ty}`"))
            }
            Some(_) => {}
        }
    }
    for (name, _) in live.iter().skip(compiled.len()) {
        out.push(format!("column `{name}` is new"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_names_each_column() {
        let live = vec![("id".to_string(), "INT8".to_string()), ("title".to_string(), "TEXT".to_string())];
        assert_eq!(
            compare(&[("id", "INT4"), ("name", "TEXT")], &live),
            ["column `id` is `INT8`, was `INT4`", "column 2 is `title`, was `name`"]
        );
        assert_eq!(compare(&[("id", "INT8")], &live), ["column `title` is new"]);
        assert!(compare(&[("id", "INT8"), ("title", "TEXT")], &live).is_empty());
    }
}
