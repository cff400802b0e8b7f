//! Describes statements at build time, with sqlx's own `describe`: parameter counts (and types,
//! where PostgreSQL infers them), result columns, their types and nullability.
//!
//! SQLite statements are described against the source's database file when it exists, otherwise
//! an in-memory database made from its `schemaFile`; PostgreSQL and MySQL statements against the
//! live server, or the description cache ([`crate::cache`]) when it cannot be reached.

use sqlx::Executor;
use sqlx::{Column, TypeInfo};
use sqlx_core::sql_str::{AssertSqlSafe, SqlSafeStr};
use std::path::Path;

/// One described result column.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DescribedColumn {
    pub name: String,
    /// The engine's type name as sqlx gives it: SQLite's declared type (INTEGER, REAL, TEXT,
    /// BLOB, BOOLEAN, NUMERIC, DATE, TIME, DATETIME, or NULL for an expression), PostgreSQL's
    /// (INT4, NUMERIC, TIMESTAMPTZ, TEXT[], an enum's name ...), MySQL's (INT UNSIGNED, DECIMAL,
    /// BOOLEAN for TINYINT(1), JSON ...).
    #[serde(rename = "type")]
    pub type_name: String,
    /// `Some(false)`: never NULL; otherwise it may be.
    pub nullable: Option<bool>,
    /// PostgreSQL: the JSON kind of the column's type ([`toolbox_config::types::Kind::code`]),
    /// worked out from the type's structure (enums, domains, composites, ranges). SQLite: the
    /// exact kind of a column whose storage class is certain (a STRICT table's, a rowid alias);
    /// other SQLite columns may hold any class their affinity lets through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl DescribedColumn {
    /// How the column's values are written as JSON.
    pub fn json_kind(&self, engine: toolbox_config::model::Engine) -> toolbox_config::types::Kind {
        self.kind
            .as_deref()
            .and_then(toolbox_config::types::Kind::from_code)
            .unwrap_or_else(|| toolbox_config::types::column_kind(engine, &self.type_name))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Described {
    pub parameters: usize,
    /// The type of each parameter, where the engine infers them (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_types: Option<Vec<String>>,
    /// PostgreSQL: the type each parameter is sent as ([`toolbox_config::pg::Bind`] by name, or
    /// the database's own type for a value sent by name), checked by preparing with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binds: Option<Vec<String>>,
    pub columns: Vec<DescribedColumn>,
    /// PostgreSQL, for a source with read replicas: whether the statement only reads
    /// ([`crate::access`]). Absent where nobody asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<crate::access::Access>,
    /// What does not fit although the statement prepares; never cached.
    #[serde(skip)]
    pub problems: Vec<Problem>,
}

/// A parameter or column the statement prepares with, but toolbox cannot serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The statement does not prepare with parameter `index` sent as `bind`.
    Parameter { index: usize, bind: String, message: String },
    /// A result column of a type toolbox does not encode.
    Column { name: String, message: String },
    /// The statement as a whole cannot be served as described.
    Statement { message: String, hint: String },
}

/// A declared parameter, as far as describing needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    pub ty: toolbox_config::model::ParamType,
    /// The element type of an array.
    pub items: Option<toolbox_config::model::ParamType>,
}

/// Where the schema comes from.
pub enum SchemaSource<'a> {
    DatabaseFile(&'a Path),
    Script(&'a str),
}

enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(sqlx_postgres::PgConnection),
    Mysql(sqlx_mysql::MySqlConnection),
}

/// An open connection to describe statements with.
pub struct Describer {
    runtime: tokio::runtime::Runtime,
    connection: Connection,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())
}

impl Describer {
    /// A SQLite schema: a database file, or a script run into an in-memory database.
    pub fn open(schema: SchemaSource<'_>) -> Result<Self, String> {
        let connection = match schema {
            SchemaSource::DatabaseFile(path) => crate::sqlite::open_file(path)?,
            SchemaSource::Script(script) => crate::sqlite::open_script(script)?,
        };
        Ok(Self { runtime: runtime()?, connection: Connection::Sqlite(connection) })
    }

    /// A live PostgreSQL (`postgres://...`) or MySQL (`mysql://...`) server. The error text
    /// never contains the URL, which may hold a password.
    pub fn connect(url: &str, timeout: std::time::Duration) -> Result<Self, String> {
        use sqlx::ConnectOptions;
        use std::str::FromStr;
        let runtime = runtime()?;
        let connection = runtime.block_on(async {
            let connect = async {
                if url.starts_with("postgres") {
                    let options = sqlx_postgres::PgConnectOptions::from_str(url).map_err(|e| redact(&e, url))?;
                    options.connect().await.map(Connection::Postgres).map_err(|e| redact(&message(&e), url))
                } else {
                    let options = sqlx_mysql::MySqlConnectOptions::from_str(url).map_err(|e| redact(&e, url))?;
                    options.connect().await.map(Connection::Mysql).map_err(|e| redact(&message(&e), url))
                }
            };
            tokio::time::timeout(timeout, connect).await.map_err(|_| format!("no answer within {timeout:?}"))?
        })?;
        Ok(Self { runtime, connection })
    }

    /// Whether a PostgreSQL statement that prepared only reads ([`crate::access`]); other
    /// engines have no replicas.
    pub fn classify(&mut self, sql: &str, parameters: usize) -> Result<crate::access::Access, String> {
        match &mut self.connection {
            Connection::Postgres(c) => self.runtime.block_on(crate::access::classify(c, sql, parameters)),
            _ => Err("read replicas are a PostgreSQL feature".into()),
        }
    }

    /// Describes a statement whose parameters are declared `signature` (which PostgreSQL, the
    /// engine that types its placeholders, needs to choose how each value is sent).
    pub fn describe(&mut self, sql: &str, signature: &[Signature]) -> Result<Described, String> {
        let statement = || AssertSqlSafe(sql.to_string()).into_sql_str();
        match &mut self.connection {
            Connection::Sqlite(c) => crate::sqlite::describe(c, sql),
            Connection::Postgres(c) => self.runtime.block_on(crate::postgres::describe(c, sql, signature)),
            Connection::Mysql(c) => self.runtime.block_on(async {
                let described = c.describe(statement()).await;
                let (origins, texts): (Vec<Option<(String, String)>>, Vec<bool>) = match &described {
                    Ok(d) => d
                        .columns
                        .iter()
                        .map(|col| {
                            (
                                table_origin(col.origin()),
                                <str as sqlx::Type<sqlx_mysql::MySql>>::compatible(col.type_info()),
                            )
                        })
                        .unzip(),
                    Err(_) => Default::default(),
                };
                let mut described = collect(described)?;
                refine_mysql_text_columns(c, &mut described, &origins, &texts).await;
                mysql_problems(sql, &mut described);
                Ok(described)
            }),
        }
    }
}

/// The table and column a result column is read from, when it is read straight from one.
fn table_origin(origin: sqlx_core::column::ColumnOrigin) -> Option<(String, String)> {
    match origin {
        sqlx_core::column::ColumnOrigin::Table(t) => Some((t.table.to_string(), t.name.to_string())),
        _ => None,
    }
}

fn collect<DB: sqlx::Database>(
    result: Result<sqlx_core::describe::Describe<DB>, sqlx::Error>,
) -> Result<Described, String> {
    let d = result.map_err(|e| message(&e))?;
    let (parameters, parameter_types) = match &d.parameters {
        Some(sqlx::Either::Left(types)) => (types.len(), Some(types.iter().map(|t| t.name().to_string()).collect())),
        Some(sqlx::Either::Right(n)) => (*n, None),
        None => (0, None),
    };
    let columns = d
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| DescribedColumn {
            name: c.name().to_string(),
            type_name: c.type_info().name().to_string(),
            nullable: d.nullable.get(i).copied().flatten(),
            kind: None,
        })
        .collect();
    Ok(Described { parameters, parameter_types, binds: None, columns, access: None, problems: Vec::new() })
}

/// MySQL flags text of a binary collation (`utf8mb4_bin`, which MariaDB's JSON, UUID and INET
/// types use) as binary, and sqlx names it BLOB, VARBINARY or BINARY; only the `binary`
/// collation holds bytes (`texts`: the column's collation is another). Such columns become TEXT,
/// and for columns read straight from a table the table's definition says more: JSON when the
/// column is JSON (MySQL) or carries MariaDB's `json_valid` check, UUID, INET4 and INET6.
async fn refine_mysql_text_columns(
    c: &mut sqlx_mysql::MySqlConnection,
    described: &mut Described,
    origins: &[Option<(String, String)>],
    texts: &[bool],
) {
    for ((column, origin), is_text) in described.columns.iter_mut().zip(origins).zip(texts) {
        let binary = matches!(
            column.type_name.as_str(),
            "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY"
        );
        if !(binary && *is_text) {
            continue;
        }
        column.type_name = "TEXT".into();
        let Some((table, name)) = origin.as_ref() else { continue };
        let table = table.rsplit('.').next().unwrap_or(table);
        let data_type: Option<String> = sqlx::query_scalar(
            "SELECT CAST(DATA_TYPE AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
        )
        .bind(table)
        .bind(name)
        .fetch_optional(&mut *c)
        .await
        .ok()
        .flatten();
        let Some(data_type) = data_type else { continue };
        match data_type.as_str() {
            "json" => column.type_name = "JSON".into(),
            "uuid" => column.type_name = "UUID".into(),
            "inet4" => column.type_name = "INET4".into(),
            "inet6" => column.type_name = "INET6".into(),
            t if t.contains("text") || t.contains("char") => {
                let check = format!("json_valid(`{name}`)");
                let is_json: Option<i64> = sqlx::query_scalar(
                    "SELECT 1 FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CHECK_CLAUSE = ?",
                )
                .bind(table)
                .bind(&check)
                .fetch_optional(&mut *c)
                .await
                .ok()
                .flatten();
                if is_json.is_some() {
                    column.type_name = "JSON".into();
                }
            }
            _ => {}
        }
    }
}

/// What a MySQL statement prepares with but toolbox cannot serve: spatial columns (sent in
/// MySQL's internal binary form), and `RETURNING`, whose columns MariaDB does not describe when
/// preparing (the build would take the statement for one without rows).
fn mysql_problems(sql: &str, described: &mut Described) {
    for column in &described.columns {
        if column.type_name == "GEOMETRY" {
            let name = &column.name;
            described.problems.push(Problem::Column {
                name: name.clone(),
                message: format!(
                    "of a spatial type, which toolbox does not encode (MySQL sends its internal binary form): select `ST_AsText({name}) AS {name}` (WKT) or `ST_AsGeoJSON({name}) AS {name}` (GeoJSON)"
                ),
            });
        }
    }
    if described.columns.is_empty() && has_keyword(sql, "RETURNING") {
        described.problems.push(Problem::Statement {
            message: "ends in `RETURNING`, whose columns MariaDB does not describe when it prepares the statement, so the build cannot check what it returns".into(),
            hint: "run the write without `RETURNING` (its answer is the number of rows changed) and read the rows with a `SELECT` tool".into(),
        });
    }
}

/// Whether `word` is a keyword of `sql`: a word outside quotes, backticks and comments.
fn has_keyword(sql: &str, word: &str) -> bool {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' && q != b'`' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if sql[start..i].eq_ignore_ascii_case(word) {
                    return true;
                }
            }
            _ => i += 1,
        }
    }
    false
}

/// An error message with any trace of the connection URL (and so its password) removed.
fn redact(e: &dyn std::fmt::Display, url: &str) -> String {
    let text = e.to_string();
    if url.is_empty() { text } else { text.replace(url, "<connection URL>") }
}

/// The database's own message, without sqlx's wrapping (which, for PostgreSQL, ends with the
/// server's C source line, "at line 948", easily read as a line of tools.yaml).
pub(crate) fn message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database that does not exist is named in PostgreSQL's own words, without sqlx's wrapping
    /// and the server's C source line ("at line 948"), which reads like a line of tools.yaml.
    #[test]
    fn a_missing_postgres_database_is_reported_in_the_servers_words() {
        if std::net::TcpStream::connect("127.0.0.1:5432").is_err() {
            assert!(std::env::var("CI").is_err(), "CI=true and PostgreSQL is not reachable at 127.0.0.1:5432");
            eprintln!("skipping: PostgreSQL is not reachable at 127.0.0.1:5432");
            return;
        }
        let url = "postgres://postgres@127.0.0.1:5432/toolbox_no_such_database";
        let Err(e) = Describer::connect(url, std::time::Duration::from_secs(5)) else {
            panic!("connected to a database that does not exist")
        };
        assert_eq!(e, r#"database "toolbox_no_such_database" does not exist"#);
    }

    #[test]
    fn describes_against_a_schema_script() {
        let mut d = Describer::open(SchemaSource::Script(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT);",
        ))
        .unwrap();
        let out = d.describe("SELECT id, name, note FROM t WHERE id = ? AND name = ?", &[]).unwrap();
        assert_eq!(out.parameters, 2);
        let cols: Vec<(&str, &str)> = out.columns.iter().map(|c| (c.name.as_str(), c.type_name.as_str())).collect();
        assert_eq!(cols, [("id", "INTEGER"), ("name", "TEXT"), ("note", "TEXT")]);
        assert_eq!(out.columns[1].nullable, Some(false));
        assert_eq!(d.describe("SELECT nmae FROM t", &[]).unwrap_err(), "no such column: nmae");
        assert_eq!(d.describe("UPDATE t SET name = ? WHERE id = ?", &[]).unwrap().columns, vec![]);
    }

    #[test]
    fn keywords_outside_quotes_and_comments() {
        assert!(has_keyword("INSERT INTO t (v) VALUES (?) returning v", "RETURNING"));
        assert!(!has_keyword("INSERT INTO t (v) VALUES ('returning')", "RETURNING"));
        assert!(!has_keyword("INSERT INTO t (`returning`) VALUES ('it\\'s') -- returning", "RETURNING"));
        assert!(!has_keyword("UPDATE t SET v = 1 /* RETURNING */", "RETURNING"));
        assert!(!has_keyword("SELECT returning_at FROM t", "RETURNING"));
    }
}
