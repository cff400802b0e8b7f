//! A MySQL or MariaDB source: its pool, made from the resolved settings (the source's
//! `queryTimeout` and `readOnly` set on each new session), cancelling abandoned statements with
//! `KILL QUERY`.

use crate::db::Source;
use crate::db::def::{CompiledStatement, ServerSourceDef};
use crate::db::pool::{Cancel, Pool, PoolSettings, Setup};
use crate::db::server::{DEFAULT_MAX_WAITING, ServerEngine, ServerSource, resolve};
use crate::setting::StartupError;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{Executor, MySql};
use std::str::FromStr;

pub type MysqlSource = ServerSource<MySql>;

/// The pool of a MySQL source, for generated handlers.
pub fn pool(source: &Source) -> Result<&Pool<MySql>, String> {
    source.engine::<MysqlSource>().map(ServerSource::pool)
}

impl ServerEngine for MySql {
    const KIND: &'static str = "mysql";
    const NAMES_ONLY: bool = true;

    fn parameter_types(_: &CompiledStatement) -> Vec<Self::TypeInfo> {
        Vec::new()
    }
}

impl ServerSource<MySql> {
    /// Resolves the source's settings and makes its pool, without connecting.
    pub fn open(
        config_path: &str,
        name: &'static str,
        def: &ServerSourceDef,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let resolved = resolve(config_path, name, def, "mysql", lookup)?;
        let options = MySqlConnectOptions::from_str(&resolved.url)
            .map_err(|e| resolved.invalid(e, |url| MySqlConnectOptions::from_str(url).err()))?;
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
        Ok(Self::new(name, pool, def.statements))
    }
}
