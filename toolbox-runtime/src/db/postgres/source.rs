//! A PostgreSQL source: its pool, made from the resolved settings (the source's `queryTimeout`
//! as `statement_timeout`, `readOnly` as `default_transaction_read_only`), cancelling abandoned
//! statements with `pg_cancel_backend`.

use super::PgParam;
use crate::db::def::{CompiledStatement, ServerSourceDef};
use crate::db::pool::{Cancel, Pool, PoolSettings};
use crate::db::server::{DEFAULT_MAX_WAITING, compare_statements, resolve};
use crate::db::{BoxFuture, Engine, Source};
use crate::setting::StartupError;
use sqlx::Postgres;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;

pub struct PostgresSource {
    name: &'static str,
    pool: Pool<Postgres>,
    /// The compiled statements, for the start-up comparison.
    statements: &'static [CompiledStatement],
}

/// The pool of a PostgreSQL source, for generated handlers.
pub fn pool(source: &Source) -> Result<&Pool<Postgres>, String> {
    source.engine::<PostgresSource>().map(|s| &s.pool)
}

impl PostgresSource {
    /// Resolves the source's settings and makes its pool, without connecting.
    pub fn open(
        config_path: &str,
        name: &'static str,
        def: &ServerSourceDef,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let resolved = resolve(config_path, name, def, "postgres", lookup)?;
        let mut options =
            PgConnectOptions::from_str(&resolved.url).map_err(|e| resolved.invalid(e))?.application_name("toolbox");
        let mut session = Vec::new();
        if let Some(t) = resolved.query_timeout {
            session.push(("statement_timeout", format!("{}", t.as_millis())));
        }
        if resolved.read_only {
            session.push(("default_transaction_read_only", "on".to_string()));
        }
        if !session.is_empty() {
            options = options.options(session);
        }
        let pool = Pool::new(PoolSettings {
            source: name,
            options,
            max_connections: resolved.max_connections,
            max_waiting: DEFAULT_MAX_WAITING,
            acquire_timeout: resolved.connect_timeout,
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
        Ok(Self { name, pool, statements: def.statements })
    }
}

impl Engine for PostgresSource {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn compare<'a>(&'a self, drift: &'a mut Vec<String>) -> BoxFuture<'a, Result<(), String>> {
        // Prepared with the parameter types calls send.
        let types = |s: &CompiledStatement| s.pg_params.iter().map(PgParam::type_info).collect();
        Box::pin(compare_statements(&self.pool, self.name, self.statements, types, false, drift))
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { self.pool.check().await.map_err(|e| e.to_string()) })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.pool.close())
    }
}
