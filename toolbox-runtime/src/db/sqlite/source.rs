//! A SQLite source: the database file resolved at start-up, created from the embedded schema
//! and seed when missing, its pool opened on first use (and re-tried until it opens), and the
//! start-up check of each compiled statement against the file it will run on.
//!
//! A relative `database` is resolved against the directory `tools.yaml` (or the included file
//! that declares the source) was in when the binary was built, as the build resolves `schemaFile` and `seedFile` (and checks an existing database
//! file), never against the working directory, which an MCP client that starts the server over
//! stdio chooses (often `/`). When that directory does not exist on this machine (the binary was
//! copied elsewhere), the start-up is refused with a message asking for an absolute path.

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
    /// Resolves the database path (a relative one against `config_dir`); nothing is opened yet.
    pub fn open(
        config_path: &str,
        config_dir: &str,
        name: &'static str,
        def: &'static SqliteSourceDef,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let owner = format!("source `{name}`");
        let written = resolve_setting(config_path, &owner, &def.database, lookup)?;
        // The directory of the file that declares the source (an included one may be elsewhere).
        let dir = if def.dir.is_empty() { config_dir } else { def.dir };
        let path = database_path(&written, Path::new(dir))
            .map_err(|problem| StartupError(format!("{}: {owner}: {problem}", def.database.at())))?;
        if path != MEMORY {
            tracing::info!(source = name, "SQLite database {path}");
        }
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

/// The file a `database` setting names: `:memory:` and absolute paths as they are, a relative
/// path joined to `config_dir` (the directory of `tools.yaml` at build time) when that directory
/// exists here, else a message saying what to do.
fn database_path(written: &str, config_dir: &Path) -> Result<String, String> {
    if written == MEMORY || Path::new(written).is_absolute() {
        return Ok(written.to_string());
    }
    if written.is_empty() {
        return Err("the database path is empty".into());
    }
    if config_dir.is_dir() {
        // `..` and `.` taken away by their text, so that the path logged is the plain one.
        let mut path = PathBuf::new();
        for part in config_dir.join(written).components() {
            match part {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    path.pop();
                }
                other => path.push(other),
            }
        }
        return Ok(path.display().to_string());
    }
    Err(format!(
        "the database path `{written}` is relative, and a relative path is resolved against the directory \
         of tools.yaml when the binary was built, `{}`, which does not exist on this machine: give an \
         absolute path (in tools.yaml, or in the variable its `database` names)",
        config_dir.display()
    ))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_database_is_resolved_against_the_directory_of_tools_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        let joined = |p: &str| base.join(p).display().to_string();
        assert_eq!(database_path("demo/airline.db", base).unwrap(), joined("demo/airline.db"));
        assert_eq!(database_path("./airline.db", base).unwrap(), joined("airline.db"));
        let up = base.parent().unwrap().join("up.db").display().to_string();
        assert_eq!(database_path("../up.db", base).unwrap(), up);
        assert_eq!(database_path("demo/../x/./a.db", base).unwrap(), joined("x/a.db"));
        assert_eq!(database_path("/var/lib/toolbox/a.db", base).unwrap(), "/var/lib/toolbox/a.db");
        assert_eq!(database_path(":memory:", base).unwrap(), ":memory:");
    }

    #[test]
    fn a_relative_database_is_refused_when_the_build_directory_is_not_here() {
        let gone = Path::new("/nonexistent/build/dir");
        let error = database_path("demo/airline.db", gone).unwrap_err();
        assert!(error.contains("`demo/airline.db` is relative"), "{error}");
        assert!(error.contains("`/nonexistent/build/dir`, which does not exist on this machine"), "{error}");
        assert!(error.contains("give an absolute path"), "{error}");
        // An absolute path needs no directory.
        assert_eq!(database_path("/data/a.db", gone).unwrap(), "/data/a.db");
    }
}
