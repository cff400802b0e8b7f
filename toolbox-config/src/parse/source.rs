//! `kind: source`: SQLite, PostgreSQL and MySQL sources and their settings (`http` sources are read
//! in [`super::http`]).

use super::Reader;
use super::obj::Obj;
use crate::diag::{Diagnostic, Spanned};
use crate::env;
use crate::model::*;
use crate::yaml;
use serde_json::Value;

impl Reader<'_> {
    pub(super) fn source(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        let Some(ty) = obj.required_choice("type", &["sqlite", "postgres", "mysql", "http", "redis"], &mut self.diags)
        else {
            obj.finish_untyped(&mut self.diags);
            return;
        };
        match ty.value.as_str() {
            "sqlite" => {
                let database = obj.required_string("database", &mut self.diags);
                let schema_file = obj.string("schemaFile", &mut self.diags).map(|s| self.resolve_now(s));
                let seed_file = obj.string("seedFile", &mut self.diags).map(|s| self.resolve_now(s));
                let read_only = obj.bool("readOnly", &mut self.diags).unwrap_or(false);
                obj.ignore("sqlCommenter");
                obj.finish(&mut self.diags);
                if let Some(seed) = &seed_file
                    && schema_file.is_none()
                {
                    self.diags.push(
                        Diagnostic::new(seed.pos, "`seedFile` needs a `schemaFile`")
                            .with_hint("name the schema script with `schemaFile:`; the seed runs after it"),
                    );
                }
                // Kept even without `database` (already reported), so tools naming it do not
                // report an unknown source too.
                let database = database.unwrap_or_else(|| Spanned::new(String::new(), name.pos));
                self.check_deferred(&database);
                self.config.sources.push(Source {
                    name,
                    kind: SourceKind::Sqlite(SqliteSource { database, schema_file, seed_file, read_only }),
                });
            }
            engine @ ("postgres" | "mysql") => {
                let postgres = engine == "postgres";
                let host = obj.required_string("host", &mut self.diags);
                let port = obj.required_string("port", &mut self.diags);
                // PostgreSQL needs all three; MySQL may take them from its defaults.
                let (user, password, database) = if postgres {
                    (
                        obj.required_string("user", &mut self.diags),
                        obj.required_string("password", &mut self.diags),
                        obj.required_string("database", &mut self.diags),
                    )
                } else {
                    (
                        obj.string("user", &mut self.diags),
                        obj.string("password", &mut self.diags),
                        obj.string("database", &mut self.diags),
                    )
                };
                let query_params = match obj.take("queryParams") {
                    Some((node, _)) => self.string_map(node, &format!("`queryParams` of {}", obj.what)),
                    None => Vec::new(),
                };
                let connect_timeout = if postgres { obj.string("connectTimeout", &mut self.diags) } else { None };
                let query_timeout = obj.string("queryTimeout", &mut self.diags);
                if let Some(mode) = if postgres { obj.string("queryExecMode", &mut self.diags) } else { None } {
                    let modes = ["cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"];
                    self.choose(&mode, &modes.map(|m| (m, ())), format!("unknown `queryExecMode` `{}`", mode.value));
                }
                let max_connections = obj.take("maxConnections").and_then(|(n, _)| {
                    match yaml::to_json(n).as_ref().and_then(Value::as_u64).filter(|v| (1..=1000).contains(v)) {
                        Some(v) => Some(v as u32),
                        None => {
                            self.diags.push(
                                Diagnostic::new(yaml::pos(n), "`maxConnections` must be a whole number from 1 to 1000")
                                    .with_hint("the pool's size; the default is 4"),
                            );
                            None
                        }
                    }
                });
                let read_only = obj.bool("readOnly", &mut self.diags).unwrap_or(false);
                let (replicas, max_replica_lag) = self.replicas(&mut obj, postgres);
                obj.ignore("sqlCommenter");
                obj.finish(&mut self.diags);
                let missing = || Spanned::new(String::new(), name.pos);
                let server = ServerSource {
                    host: host.unwrap_or_else(missing),
                    port: port.unwrap_or_else(missing),
                    user,
                    password,
                    database,
                    query_params,
                    connect_timeout,
                    query_timeout,
                    max_connections,
                    read_only,
                    replicas,
                    max_replica_lag,
                };
                for value in [
                    Some(&server.host),
                    Some(&server.port),
                    server.user.as_ref(),
                    server.password.as_ref(),
                    server.database.as_ref(),
                ]
                .into_iter()
                .flatten()
                .chain(server.query_params.iter().map(|(_, v)| v))
                {
                    self.check_deferred(value);
                }
                for (field, value) in
                    [("connectTimeout", &server.connect_timeout), ("queryTimeout", &server.query_timeout)]
                {
                    if let Some(v) = value
                        && env::placeholders(&v.value).is_empty()
                        && crate::duration::parse(&v.value, field == "connectTimeout").is_none()
                    {
                        self.diags.push(
                            Diagnostic::new(v.pos, format!("`{field}` `{}` is not a duration", v.value)).with_hint(
                                "write a number of seconds (`30`) or a duration such as `30s`, `500ms`, `2m`",
                            ),
                        );
                    }
                }
                let kind = if postgres { SourceKind::Postgres(server) } else { SourceKind::Mysql(server) };
                self.config.sources.push(Source { name, kind });
            }
            "redis" => self.redis_source(name, obj),
            "http" => self.http_source(name, obj),
            other => {
                let supported = ["sqlite", "postgres", "mysql", "http", "redis"];
                let hint = if matches!(other, "cloud-sql-postgres" | "alloydb-postgres" | "cockroachdb" | "yugabytedb")
                {
                    "use `postgres` (PostgreSQL-compatible engines work through it)".to_string()
                } else if matches!(other, "cloud-sql-mysql" | "mariadb") {
                    "use `mysql` (MariaDB works through it)".to_string()
                } else {
                    super::obj::unknown_value_hint(other, &supported)
                };
                self.diags.push(Diagnostic::new(ty.pos, format!("unknown source type `{other}`")).with_hint(hint));
            }
        }
    }
}
