//! The static description of sources and their statements that generated code fills in: each
//! source's settings (resolved at start-up) and every statement as the build described it.

use crate::setting::Setting;

pub struct SourceDef {
    pub name: &'static str,
    pub kind: SourceKindDef,
}

pub enum SourceKindDef {
    Sqlite(SqliteSourceDef),
    Postgres(ServerSourceDef),
    Mysql(ServerSourceDef),
    Http(crate::db::http::HttpSourceDef),
    Redis(crate::db::redis::RedisSourceDef),
}

impl SourceKindDef {
    /// The source's type, as `tools.yaml` names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceKindDef::Sqlite(_) => "sqlite",
            SourceKindDef::Postgres(_) => "postgres",
            SourceKindDef::Mysql(_) => "mysql",
            SourceKindDef::Http(_) => "http",
            SourceKindDef::Redis(_) => "redis",
        }
    }

    /// The compiled statements of a SQL source; none for a source that is not SQL.
    pub fn statements(&self) -> &'static [CompiledStatement] {
        match self {
            SourceKindDef::Sqlite(d) => d.statements,
            SourceKindDef::Postgres(d) | SourceKindDef::Mysql(d) => d.statements,
            SourceKindDef::Http(_) => &[],
            SourceKindDef::Redis(_) => &[],
        }
    }
}

/// A PostgreSQL or MySQL/MariaDB server; every setting is resolved at start-up.
pub struct ServerSourceDef {
    pub host: Setting,
    pub port: Setting,
    pub user: Option<Setting>,
    pub password: Option<Setting>,
    pub database: Option<Setting>,
    pub query_params: &'static [(&'static str, Setting)],
    pub connect_timeout: Option<Setting>,
    pub query_timeout: Option<Setting>,
    pub max_connections: u32,
    pub read_only: bool,
    /// Every compiled statement of the source, for the start-up comparison with the live schema.
    pub statements: &'static [CompiledStatement],
    /// PostgreSQL's read replicas (our extension); `None` for a source without.
    pub replicas: Option<&'static ReplicasDef>,
}

/// A source's read replicas, and where the build placed each of its tools.
pub struct ReplicasDef {
    pub replicas: &'static [ReplicaDef],
    /// `maxReplicaLag`; without it, [`toolbox_config::model::DEFAULT_MAX_REPLICA_LAG`].
    pub max_lag: Option<Setting>,
    /// Each tool of the source and where it runs, for `toolbox list`.
    pub routes: &'static [(&'static str, Route)],
}

/// One replica; a setting it does not give is the source's.
pub struct ReplicaDef {
    pub host: Setting,
    pub port: Option<Setting>,
    pub user: Option<Setting>,
    pub password: Option<Setting>,
    pub database: Option<Setting>,
}

/// Where a tool of a source with replicas runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// It only reads: on a healthy replica, else the primary.
    Replicas,
    /// On the primary, for the reason given (it writes, calls a volatile function ...).
    Primary(&'static str),
    /// Its template values choose statements of both kinds.
    ByTemplate,
}

/// A statement as the build described it.
pub struct CompiledStatement {
    pub tool: &'static str,
    pub sql: &'static str,
    /// `(name, type)` of each result column.
    pub columns: &'static [(&'static str, &'static str)],
    /// PostgreSQL: the types the parameters are sent as, which the comparison prepares it with.
    pub pg_params: &'static [crate::db::postgres::PgParam],
}

/// One statement of a tool (one per combination of template values).
pub struct Statement {
    pub sql: &'static str,
    /// The result columns, or `None` for a statement that returns no rows.
    pub columns: Option<&'static [crate::db::encode::ColumnDef]>,
    /// PostgreSQL: the type each parameter is sent as.
    pub pg_params: &'static [crate::db::postgres::PgParam],
}

pub struct SqliteSourceDef {
    pub database: Setting,
    /// The absolute directory of the file that declares the source at build time, against
    /// which a relative `database` is resolved (empty: `Toolbox::config_dir`).
    pub dir: &'static str,
    /// Run to create the database file when it is missing at start-up.
    pub schema_sql: Option<&'static str>,
    pub seed_sql: Option<&'static str>,
    pub read_only: bool,
    /// Every compiled statement of the source, for the start-up comparison with the database.
    pub statements: &'static [CompiledStatement],
}
