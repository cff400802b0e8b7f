//! A MySQL or MariaDB source: its pool, made from the resolved settings (the source's
//! `queryTimeout` and `readOnly` set on each new session), cancelling abandoned statements with
//! `KILL QUERY`.

use crate::db::def::{CompiledStatement, ServerSourceDef};
use crate::db::pool::{Cancel, Pool, PoolSettings, Setup};
use crate::db::server::{DEFAULT_MAX_WAITING, compare_statements, resolve};
use crate::db::{BoxFuture, Engine, Source};
use crate::setting::StartupError;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{Executor, MySql};
use std::str::FromStr;

pub struct MysqlSource {
    name: &'static str,
    pool: Pool<MySql>,
    /// The compiled statements, for the start-up comparison.
    statements: &'static [CompiledStatement],
}

/// The pool of a MySQL source, for generated handlers.
pub fn pool(source: &Source) -> Result<&Pool<MySql>, String> {
    source.engine::<MysqlSource>().map(|s| &s.pool)
}

impl MysqlSource {
    /// Resolves the source's settings and makes its pool, without connecting.
    pub fn open(
        config_path: &str,
        name: &'static str,
        def: &ServerSourceDef,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let resolved = resolve(config_path, name, def, "mysql", lookup)?;
        let options = MySqlConnectOptions::from_str(&resolved.url).map_err(|e| resolved.invalid(e))?;
        let (query_timeout, read_only) = (resolved.query_timeout, resolved.read_only);
        let setup: Setup<MySql> = Box::new(move |connection| {
            Box::pin(async move {
                if let Some(t) = query_timeout {
                    // MariaDB names it max_statement_time (seconds), MySQL max_execution_time
                    // (milliseconds, SELECT only); each ignores the other's.
                    let seconds = format!("SET SESSION max_statement_time = {}", t.as_secs_f64());
                    let millis = format!("SET SESSION max_execution_time = {}", t.as_millis());
                    if connection.execute(sqlx::AssertSqlSafe(seconds)).await.is_err() {
                        connection.execute(sqlx::AssertSqlSafe(millis)).await?;
                    }
                }
                if read_only {
                    connection.execute("SET SESSION TRANSACTION READ ONLY").await?;
                }
                Ok(())
            })
        });
        let pool = Pool::new(PoolSettings {
            source: name,
            options,
            max_connections: resolved.max_connections,
            max_waiting: DEFAULT_MAX_WAITING,
            acquire_timeout: resolved.connect_timeout,
            setup: Some(setup),
            cancel: Some(Cancel {
                identify: |c| {
                    Box::pin(async move {
                        sqlx::query_scalar::<_, u64>("SELECT CONNECTION_ID()").fetch_one(c).await.map(|id| id as i64)
                    })
                },
                cancel: |c: &mut sqlx::MySqlConnection, session| {
                    Box::pin(async move {
                        // KILL takes no placeholder; the id is a number the server gave.
                        let kill = format!("KILL QUERY {session}");
                        c.execute(sqlx::AssertSqlSafe(kill)).await.map(|_| ())
                    })
                },
            }),
        });
        Ok(Self { name, pool, statements: def.statements })
    }
}

impl Engine for MysqlSource {
    fn kind(&self) -> &'static str {
        "mysql"
    }

    fn compare<'a>(&'a self, drift: &'a mut Vec<String>) -> BoxFuture<'a, Result<(), String>> {
        // MySQL's wire types are coarser than what the build refined them to (a JSON column
        // reads as BLOB): names only.
        Box::pin(compare_statements(&self.pool, self.name, self.statements, |_| Vec::new(), true, drift))
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { self.pool.check().await.map_err(|e| e.to_string()) })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.pool.close())
    }
}
