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
        let mut options = PgConnectOptions::from_str(&resolved.url)
            .map_err(|e| resolved.invalid(e, |url| PgConnectOptions::from_str(url).err()))?
            .application_name("toolbox");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setting::Setting;

    /// The settings of `examples/postgres/tools.yaml`, at their lines.
    static DEF: ServerSourceDef = ServerSourceDef {
        host: Setting { raw: "${PGHOST:127.0.0.1}", file: "tools.yaml", line: 7, col: 7 },
        port: Setting { raw: "${PGPORT:5432}", file: "tools.yaml", line: 8, col: 7 },
        user: None,
        password: None,
        database: None,
        query_params: &[("sslmode", Setting { raw: "${PGSSLMODE:prefer}", file: "tools.yaml", line: 13, col: 12 })],
        connect_timeout: None,
        query_timeout: None,
        max_connections: 4,
        read_only: false,
        statements: &[],
    };

    fn refusal(env: &[(&str, &str)]) -> String {
        let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        match PostgresSource::open("tools.yaml", "flights-pg", &DEF, &lookup) {
            Err(e) => e.0,
            Ok(_) => panic!("{env:?} was accepted"),
        }
    }

    #[test]
    fn a_port_that_is_not_a_number_names_its_setting_and_variable() {
        assert_eq!(
            refusal(&[("PGPORT", "abc")]),
            "tools.yaml:8:7: source `flights-pg`: `port` is `abc` (from `${PGPORT:5432}`), which is not a port number (1 to 65535)"
        );
    }

    #[test]
    fn an_sslmode_the_driver_refuses_is_named_once_as_written() {
        assert_eq!(
            refusal(&[("PGSSLMODE", "bogus")]),
            "tools.yaml:13:12: source `flights-pg`: queryParams `sslmode` is `bogus` (from `${PGSSLMODE:prefer}`), which the driver refuses: unknown value \"bogus\"; it takes disable, allow, prefer, require, verify-ca or verify-full"
        );
    }

    #[test]
    fn settings_the_driver_takes_make_a_source() {
        let lookup = |name: &str| (name == "PGSSLMODE").then(|| "require".to_string());
        assert!(PostgresSource::open("tools.yaml", "flights-pg", &DEF, &lookup).is_ok());
    }
}
