//! A PostgreSQL source: its pool, made from the resolved settings (the source's `queryTimeout`
//! as `statement_timeout`, `readOnly` as `default_transaction_read_only`), cancelling abandoned
//! statements with `pg_cancel_backend`.

use super::PgParam;
use crate::db::Source;
use crate::db::def::{CompiledStatement, ServerSourceDef};
use crate::db::pool::{Cancel, Pool, PoolSettings};
use crate::db::server::{DEFAULT_MAX_WAITING, ServerEngine, ServerSource, resolve};
use crate::setting::StartupError;
use sqlx::Postgres;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;

pub type PostgresSource = ServerSource<Postgres>;

/// The pool of a PostgreSQL source, for generated handlers.
pub fn pool(source: &Source) -> Result<&Pool<Postgres>, String> {
    source.engine::<PostgresSource>().map(ServerSource::pool)
}

impl ServerEngine for Postgres {
    const KIND: &'static str = "postgres";
    const NAMES_ONLY: bool = false;

    fn parameter_types(statement: &CompiledStatement) -> Vec<Self::TypeInfo> {
        // Prepared with the parameter types calls send.
        statement.pg_params.iter().map(PgParam::type_info).collect()
    }
}

impl ServerSource<Postgres> {
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
        Ok(Self::new(name, pool, def.statements))
    }
}
