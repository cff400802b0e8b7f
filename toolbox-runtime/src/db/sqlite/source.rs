//! A SQLite source: the database file resolved at start-up, created from the embedded schema
//! and seed when missing, its pool opened on first use (and re-tried until it opens), and the
//! start-up check of each compiled statement against the file it will run on.

use super::{OpenFor, SqlitePool};
use crate::db::def::{CompiledStatement, SqliteSourceDef};
use crate::db::server::DEFAULT_MAX_WAITING;
use crate::db::{BoxFuture, Engine, Source};
use crate::setting::{StartupError, resolve_setting};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;

pub struct SqliteSource {
    name: &'static str,
    def: &'static SqliteSourceDef,
    path: String,
    pool: OnceCell<SqlitePool>,
}

/// The source's pool, opening it (and creating the database from its schema) on first use. The
/// error text names the source and never holds credentials.
pub async fn pool(source: &Source) -> Result<&SqlitePool, String> {
    source.engine::<SqliteSource>()?.pool().await
}

impl SqliteSource {
    /// Resolves the database path; nothing is opened yet.
    pub fn open(
        config_path: &str,
        name: &'static str,
        def: &'static SqliteSourceDef,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let path = resolve_setting(config_path, &format!("source `{name}`"), &def.database, lookup)?;
        Ok(Self { name, def, path, pool: OnceCell::new() })
    }

    async fn pool(&self) -> Result<&SqlitePool, String> {
        self.pool
            .get_or_try_init(|| open_sqlite(self))
            .await
            .map_err(|e| format!("source `{}` is unavailable: {e}", self.name))
    }
}

impl Engine for SqliteSource {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn compare<'a>(&'a self, drift: &'a mut Vec<String>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { check_statements(self.pool().await?, self.name, self.def.statements, drift).await })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { self.pool().await?.check().await })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {
            if let Some(pool) = self.pool.get() {
                pool.close();
            }
        })
    }

    fn stats(&self) -> Option<crate::db::PoolStats> {
        self.pool.get().map(SqlitePool::stats)
    }
}

/// Prepares each compiled statement of a SQLite source on the database it will run against:
/// a table the statement needs may be missing from a database file made before it was added to
/// the schema. Columns are compared by name (SQLite types are per value, not per column).
async fn check_statements(
    pool: &SqlitePool,
    name: &str,
    statements: &'static [CompiledStatement],
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
                for difference in crate::db::server::compare(statement.columns, &columns) {
                    drift.push(format!("source `{name}`, tool `{}`: {difference}", statement.tool));
                }
            }
            Err(e) => {
                drift.push(format!("source `{name}`, tool `{}`: the statement no longer prepares: {e}", statement.tool))
            }
        }
    }
    Ok(())
}

const MEMORY: &str = ":memory:";

async fn open_sqlite(handle: &SqliteSource) -> Result<SqlitePool, String> {
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
    let open: super::Open = Box::new(move |purpose| {
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
            OpenFor::ClientSql { .. } => connection.busy_timeout(super::BUSY_TIMEOUT)?,
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
    let max_waiting = DEFAULT_MAX_WAITING;
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
