//! Pools for PostgreSQL and MySQL/MariaDB sources: settings resolved at start-up, connections
//! made on demand (a database that is down at start-up or later never stops the server, and is
//! used again as soon as it answers), engine-side statement timeouts and read-only sessions,
//! and the start-up comparison of each compiled statement with the live schema.

use crate::def::{ServerSourceDef, Setting, SourceDef, SourceKindDef};
use crate::pool::{Cancel, Pool, PoolSettings};
use crate::sources::{StartupError, resolve_setting};
use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Column, Executor, MySql, Postgres, Statement, TypeInfo};
use std::str::FromStr;
use std::time::Duration;

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many calls may wait for a source's connections before more fail at once.
pub const DEFAULT_MAX_WAITING: usize = 256;

pub enum ServerPool {
    Postgres { pool: Pool<Postgres> },
    Mysql { pool: Pool<MySql> },
}

/// Resolves a source's settings and makes its pool, without connecting.
pub fn open(
    config_path: &str,
    owner_name: &'static str,
    def: &ServerSourceDef,
    postgres: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<ServerPool, StartupError> {
    let owner = &format!("source `{owner_name}`");
    let fields = toolbox_config::url::ServerFields {
        host: &def.host,
        port: &def.port,
        user: def.user.as_ref(),
        password: def.password.as_ref(),
        database: def.database.as_ref(),
        query_params: def.query_params.iter().map(|(k, v)| (*k, v)).collect(),
    };
    let scheme = if postgres { "postgres" } else { "mysql" };
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
    let connect_timeout = def.connect_timeout.as_ref().map(|s| (s, resolve(s)));
    let query_timeout = def.query_timeout.as_ref().map(|s| (s, resolve(s)));
    let mut duration = |value: Option<(&Setting, String)>, bare_seconds: bool, field: &str| {
        let (setting, text) = value?;
        match toolbox_config::duration::parse(&text, bare_seconds) {
            Some(d) => Some(d),
            None => {
                errors.push(format!(
                    "{config_path}:{}:{}: {owner}: `{field}` `{text}` is not a duration",
                    setting.line, setting.col
                ));
                None
            }
        }
    };
    let connect_timeout = duration(connect_timeout, true, "connectTimeout").unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let query_timeout = duration(query_timeout, false, "queryTimeout");
    if !errors.is_empty() {
        return Err(StartupError(errors.join("\n")));
    }
    // The URL holds the password: only the driver's description of what is wrong is shown.
    let bad_url = |e: sqlx::Error| {
        StartupError(format!(
            "{config_path}: {owner}: invalid connection settings: {}",
            e.to_string().replace(&url, "<url>")
        ))
    };
    let read_only = def.read_only;
    if postgres {
        let mut options = PgConnectOptions::from_str(&url).map_err(bad_url)?.application_name("toolbox");
        let mut session = Vec::new();
        if let Some(t) = query_timeout {
            session.push(("statement_timeout", format!("{}", t.as_millis())));
        }
        if read_only {
            session.push(("default_transaction_read_only", "on".to_string()));
        }
        if !session.is_empty() {
            options = options.options(session);
        }
        let pool = Pool::new(PoolSettings {
            source: owner_name,
            options,
            max_connections: def.max_connections,
            max_waiting: DEFAULT_MAX_WAITING,
            acquire_timeout: connect_timeout,
            setup: None,
            cancel: Some(Cancel {
                identify: |c| {
                    Box::pin(async move {
                        sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()").fetch_one(c).await.map(i64::from)
                    })
                },
                cancel: |c, session| {
                    Box::pin(async move {
                        sqlx::query("SELECT pg_cancel_backend($1)").bind(session as i32).execute(c).await.map(|_| ())
                    })
                },
            }),
        });
        Ok(ServerPool::Postgres { pool })
    } else {
        let options = MySqlConnectOptions::from_str(&url).map_err(bad_url)?;
        let setup: crate::pool::Setup<MySql> = Box::new(move |connection| {
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
            source: owner_name,
            options,
            max_connections: def.max_connections,
            max_waiting: DEFAULT_MAX_WAITING,
            acquire_timeout: connect_timeout,
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
        Ok(ServerPool::Mysql { pool })
    }
}

impl ServerPool {
    pub fn engine(&self) -> &'static str {
        match self {
            ServerPool::Postgres { .. } => "postgres",
            ServerPool::Mysql { .. } => "mysql",
        }
    }

    pub async fn ping(&self) -> Result<(), String> {
        let result = match self {
            ServerPool::Postgres { pool } => pool.check().await,
            ServerPool::Mysql { pool } => pool.check().await,
        };
        result.map_err(|e| e.to_string())
    }

    pub async fn close(&self) {
        match self {
            ServerPool::Postgres { pool } => pool.close().await,
            ServerPool::Mysql { pool } => pool.close().await,
        }
    }

    /// Connects once and prepares every compiled statement, comparing its columns with what the
    /// build described. Differences are pushed to `drift`; an error means the database is down.
    pub async fn check(&self, source: &SourceDef, drift: &mut Vec<String>) -> Result<(), String> {
        let (SourceKindDef::Postgres(def) | SourceKindDef::Mysql(def)) = &source.kind else { return Ok(()) };
        let live = |statement: &'static crate::def::CompiledStatement| async move {
            match self {
                // Prepared with the parameter types calls send, so the statement this leaves in
                // the connection's cache is the one a call needs.
                ServerPool::Postgres { pool } => {
                    let types: Vec<_> = statement.pg_params.iter().map(crate::postgres::PgParam::type_info).collect();
                    live_columns(pool, statement.sql, &types).await
                }
                ServerPool::Mysql { pool } => live_columns(pool, statement.sql, &[]).await,
            }
        };
        self.ping().await?;
        for statement in def.statements {
            match live(statement).await {
                Ok(mut columns) => {
                    if matches!(self, ServerPool::Mysql { .. }) {
                        // MySQL's wire types are coarser than what the build refined them to
                        // (a JSON column reads as BLOB): compare names only.
                        for (i, c) in columns.iter_mut().enumerate() {
                            if let Some((_, compiled)) = statement.columns.get(i) {
                                c.1 = compiled.to_string();
                            }
                        }
                    }
                    for difference in compare(statement.columns, &columns) {
                        drift.push(format!("source `{}`, tool `{}`: {difference}", source.name, statement.tool));
                    }
                }
                Err(sqlx::Error::Database(e)) => drift.push(format!(
                    "source `{}`, tool `{}`: the statement no longer prepares: {}",
                    source.name,
                    statement.tool,
                    e.message()
                )),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }
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
    let mut lease = pool.acquire().await.map_err(crate::pool::AcquireError::into_sqlx)?;
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
