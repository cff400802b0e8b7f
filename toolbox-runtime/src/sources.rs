//! Database sources at run time: settings resolved from the environment at start-up, pools
//! opened lazily and re-tried, and each source's state for `/healthz`.
//!
//! A source that cannot be opened does not stop the server: its tools answer an `isError`
//! result naming the source, and the next call tries again.

use crate::def::{Setting, SourceDef, SourceKindDef, SqliteSourceDef, Toolbox};
use crate::pool::Pool;
use crate::sqlite::{OpenFor, SqlitePool};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;

/// A placeholder that could not be resolved at start-up; the server refuses to start.
#[derive(Debug)]
pub struct StartupError(pub String);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Resolves a setting's placeholders with `lookup` (the process environment, in the server).
pub fn resolve_setting(
    config_path: &str,
    owner: &str,
    setting: &Setting,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, StartupError> {
    toolbox_config::env::resolve(setting.raw, lookup).map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("{config_path}:{}:{}: {owner}: {}", setting.line, setting.col, e.message))
            .collect();
        StartupError(lines.join("\n"))
    })
}

/// What the start-up comparison found.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Statements whose columns differ from the build's description, or that no longer prepare.
    pub drift: Vec<String>,
    /// Sources that could not be reached, with the reason (never a credential).
    pub unavailable: Vec<String>,
}

impl Comparison {
    /// Whether every source answered and every statement matched.
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty() && self.unavailable.is_empty()
    }
}

/// Prepares each compiled statement of a SQLite source on the database it will run against:
/// a table the statement needs may be missing from a database file made before it was added to
/// the schema. Columns are compared by name (SQLite types are per value, not per column).
async fn check_sqlite(
    pool: &SqlitePool,
    def: &'static SourceDef,
    statements: &'static [crate::def::CompiledStatement],
    drift: &mut Vec<String>,
) -> Result<(), String> {
    let found = pool
        .with_connection_blocking(move |c| {
            statements
                .iter()
                .map(|s| match c.prepare(s.sql) {
                    // The compiled type stands in for the live one: only names are compared.
                    Ok(prepared) => Ok(prepared
                        .column_names()
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (n.to_string(), s.columns.get(i).map_or(String::new(), |(_, t)| t.to_string())))
                        .collect::<Vec<_>>()),
                    Err(e) => Err(e.to_string()),
                })
                .collect::<Vec<_>>()
        })
        .await?;
    for (statement, live) in statements.iter().zip(found) {
        match live {
            Ok(columns) => {
                for difference in crate::server_pool::compare(statement.columns, &columns) {
                    drift.push(format!("source `{}`, tool `{}`: {difference}", def.name, statement.tool));
                }
            }
            Err(e) => drift.push(format!(
                "source `{}`, tool `{}`: the statement no longer prepares: {e}",
                def.name, statement.tool
            )),
        }
    }
    Ok(())
}

/// Every source of the toolbox, by index.
pub struct Sources {
    entries: Vec<SourceHandle>,
}

pub struct SourceHandle {
    pub def: &'static SourceDef,
    sqlite: Option<SqliteHandle>,
    server: Option<crate::server_pool::ServerPool>,
}

struct SqliteHandle {
    name: &'static str,
    def: &'static SqliteSourceDef,
    path: String,
    pool: OnceCell<SqlitePool>,
}

/// A source's state, as `/healthz` reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceHealth {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Sources {
    /// Resolves every source's settings from the process environment. Nothing is opened yet;
    /// see [`Sources::connect_all`].
    pub fn resolve(toolbox: &'static Toolbox) -> Result<Self, StartupError> {
        Self::resolve_with(toolbox, &|name| std::env::var(name).ok())
    }

    /// Like [`Sources::resolve`], with another environment (tests).
    pub fn resolve_with(
        toolbox: &'static Toolbox,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let mut entries = Vec::with_capacity(toolbox.sources.len());
        let mut errors = Vec::new();
        for def in toolbox.sources {
            let owner = format!("source `{}`", def.name);
            match &def.kind {
                SourceKindDef::Sqlite(sqlite) => {
                    match resolve_setting(toolbox.config_path, &owner, &sqlite.database, lookup) {
                        Ok(path) => entries.push(SourceHandle {
                            def,
                            sqlite: Some(SqliteHandle { name: def.name, def: sqlite, path, pool: OnceCell::new() }),
                            server: None,
                        }),
                        Err(e) => errors.push(e.0),
                    }
                }
                SourceKindDef::Postgres(server) | SourceKindDef::Mysql(server) => {
                    let postgres = matches!(def.kind, SourceKindDef::Postgres(_));
                    match crate::server_pool::open(toolbox.config_path, def.name, server, postgres, lookup) {
                        Ok(pool) => entries.push(SourceHandle { def, sqlite: None, server: Some(pool) }),
                        Err(e) => errors.push(e.0),
                    }
                }
            }
        }
        if errors.is_empty() { Ok(Self { entries }) } else { Err(StartupError(errors.join("\n"))) }
    }

    /// Opens every source once and prepares each of its compiled statements, comparing the
    /// result columns with what the build described. Failures are logged and returned; the
    /// server decides whether to start anyway (it does, unless `--strict-schema`).
    pub async fn connect_all(&self) -> Comparison {
        let mut comparison = Comparison::default();
        for entry in &self.entries {
            let result = match (&entry.server, &entry.sqlite) {
                (Some(server), _) => server.check(entry.def, &mut comparison.drift).await,
                (None, Some(sqlite)) => match entry.sqlite_pool().await {
                    Ok(pool) => check_sqlite(pool, entry.def, sqlite.def.statements, &mut comparison.drift).await,
                    Err(e) => Err(e),
                },
                (None, None) => Ok(()),
            };
            match result {
                Ok(()) => tracing::info!(source = entry.def.name, "source ready"),
                Err(e) => {
                    tracing::warn!(source = entry.def.name, "source unavailable, will retry on use: {e}");
                    comparison.unavailable.push(format!("source `{}`: {e}", entry.def.name));
                }
            }
        }
        comparison
    }

    pub fn get(&self, index: usize) -> &SourceHandle {
        &self.entries[index]
    }

    pub async fn health(&self) -> Vec<SourceHealth> {
        let mut out = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            let (kind, result) = match &entry.server {
                Some(server) => (server.engine(), server.ping().await),
                None => match entry.sqlite_pool().await {
                    Ok(pool) => ("sqlite", pool.check().await),
                    Err(e) => ("sqlite", Err(e)),
                },
            };
            let (up, error) = match result {
                Ok(()) => (true, None),
                Err(e) => (false, Some(e)),
            };
            out.push(SourceHealth { name: entry.def.name, kind, up, error });
        }
        out
    }

    pub async fn close(&self) {
        for entry in &self.entries {
            if let Some(pool) = entry.sqlite.as_ref().and_then(|s| s.pool.get()) {
                pool.close();
            }
            if let Some(server) = &entry.server {
                server.close().await;
            }
        }
    }
}

impl SourceHandle {
    /// The PostgreSQL pool. Connections are made on demand and re-tried on every call, so a
    /// database that comes back is used again without a restart.
    pub async fn postgres_pool(&self) -> Result<&Pool<sqlx::Postgres>, String> {
        match &self.server {
            Some(crate::server_pool::ServerPool::Postgres { pool, .. }) => Ok(pool),
            _ => Err(format!("source `{}` is not a PostgreSQL source", self.def.name)),
        }
    }

    /// The MySQL pool (see [`SourceHandle::postgres_pool`]).
    pub async fn mysql_pool(&self) -> Result<&Pool<sqlx::MySql>, String> {
        match &self.server {
            Some(crate::server_pool::ServerPool::Mysql { pool, .. }) => Ok(pool),
            _ => Err(format!("source `{}` is not a MySQL source", self.def.name)),
        }
    }

    /// The source's pool, opening it (and creating the database from its schema) on first use.
    /// The error text names the source and never holds credentials.
    pub async fn sqlite_pool(&self) -> Result<&SqlitePool, String> {
        let Some(handle) = &self.sqlite else {
            return Err(format!("source `{}` is not a SQLite source", self.def.name));
        };
        handle
            .pool
            .get_or_try_init(|| open_sqlite(handle))
            .await
            .map_err(|e| format!("source `{}` is unavailable: {e}", self.def.name))
    }
}

const MEMORY: &str = ":memory:";

async fn open_sqlite(handle: &SqliteHandle) -> Result<SqlitePool, String> {
    let def = handle.def;
    let in_memory = handle.path == MEMORY;
    if !in_memory && !Path::new(&handle.path).exists() {
        match def.schema_sql {
            Some(schema) => {
                let (path, seed) = (handle.path.clone(), def.seed_sql);
                tokio::task::spawn_blocking(move || create_database(&path, schema, seed))
                    .await
                    .map_err(|e| format!("creating the database failed: {e}"))??
            }
            None => return Err(format!("database file `{}` does not exist", handle.path)),
        }
    }
    let path = handle.path.clone();
    let read_only = def.read_only;
    // An in-memory database lives in its one connection, which the pool never closes; its schema
    // and seed run when that connection is made.
    let scripts = if in_memory { def.schema_sql.map(|schema| (schema, def.seed_sql)) } else { None };
    let open: crate::sqlite::Open = Box::new(move |purpose| {
        let read_only = read_only || purpose == OpenFor::ClientSql { read_only: true };
        let connection = if in_memory {
            Connection::open_in_memory()?
        } else if read_only {
            Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?
        } else {
            Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?
        };
        match purpose {
            // Compiled statements first run without waiting for a lock (see `SqlitePool`).
            OpenFor::Pool => {
                connection.busy_timeout(Duration::ZERO)?;
                connection.set_prepared_statement_cache_capacity(128);
            }
            OpenFor::ClientSql { .. } => connection.busy_timeout(crate::sqlite::BUSY_TIMEOUT)?,
        }
        connection.execute_batch("PRAGMA foreign_keys = ON;")?;
        if !in_memory && !read_only && purpose == OpenFor::Pool {
            connection.pragma_update(None, "journal_mode", "WAL")?;
        }
        if let Some((schema, seed)) = scripts {
            run_scripts(&connection, schema, seed)?;
        }
        Ok(connection)
    });
    let max_waiting = crate::server_pool::DEFAULT_MAX_WAITING;
    let pool = SqlitePool::new(handle.name, if in_memory { 1 } else { 4 }, max_waiting, in_memory, open);
    // Connect once now, so that a file that cannot be opened is reported at start-up.
    pool.check().await?;
    Ok(pool)
}

/// Creates a database file from its schema and seed, atomically: a crash leaves no half-made file.
fn create_database(path: &str, schema: &'static str, seed: Option<&'static str>) -> Result<(), String> {
    let target = PathBuf::from(path);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    let temporary = PathBuf::from(format!("{path}.creating-{}", std::process::id()));
    let result = Connection::open(&temporary)
        .and_then(|connection| {
            run_scripts(&connection, schema, seed)?;
            connection.close().map_err(|(_, e)| e)
        })
        .map_err(|e| format!("the schema or seed script failed: {e}"));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    std::fs::rename(&temporary, &target).map_err(|e| format!("cannot create `{path}`: {e}"))?;
    tracing::info!(path, "created the database from its schema");
    Ok(())
}

fn run_scripts(connection: &Connection, schema: &str, seed: Option<&str>) -> rusqlite::Result<()> {
    connection.execute_batch(schema)?;
    if let Some(seed) = seed {
        connection.execute_batch(seed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_names_itself_and_its_line() {
        let setting = Setting { raw: "${SECRET_PATH:?set it to the database file}", line: 4, col: 11 };
        let error = resolve_setting("tools.yaml", "source `db`", &setting, &|_| None).unwrap_err();
        assert_eq!(
            error.0,
            "tools.yaml:4:11: source `db`: required environment variable `SECRET_PATH` is not set: set it to the database file"
        );
        let resolved = resolve_setting("tools.yaml", "source `db`", &setting, &|_| Some("/data/x.db".into())).unwrap();
        assert_eq!(resolved, "/data/x.db");
    }
}
