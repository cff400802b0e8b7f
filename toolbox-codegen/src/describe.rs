//! Describes statements against a SQLite schema at build time: parameter counts, result columns,
//! their declared types and nullability. The schema is the source's database file when it exists,
//! otherwise an in-memory database made from the source's `schemaFile`.

use sqlx::Executor;
use sqlx::{Column, TypeInfo};
use sqlx_core::sql_str::{AssertSqlSafe, SqlSafeStr};
use sqlx_sqlite::{SqliteConnectOptions, SqliteConnection};
use std::path::Path;

/// One described result column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribedColumn {
    pub name: String,
    /// SQLite's declared type as sqlx names it: INTEGER, REAL, TEXT, BLOB, BOOLEAN, NUMERIC,
    /// DATE, TIME, DATETIME, or NULL when the expression has no declared type.
    pub type_name: String,
    /// `Some(false)`: never NULL; otherwise it may be.
    pub nullable: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    pub parameters: usize,
    pub columns: Vec<DescribedColumn>,
}

/// Where the schema comes from.
pub enum SchemaSource<'a> {
    DatabaseFile(&'a Path),
    Script(&'a str),
}

/// An open connection to describe statements with.
pub struct Describer {
    runtime: tokio::runtime::Runtime,
    connection: SqliteConnection,
}

impl Describer {
    pub fn open(schema: SchemaSource<'_>) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let connection = runtime.block_on(async {
            use sqlx::ConnectOptions;
            match schema {
                SchemaSource::DatabaseFile(path) => SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true)
                    .connect()
                    .await
                    .map_err(|e| format!("cannot open `{}`: {e}", path.display())),
                SchemaSource::Script(script) => {
                    let mut c =
                        SqliteConnectOptions::new().in_memory(true).connect().await.map_err(|e| e.to_string())?;
                    sqlx::raw_sql(AssertSqlSafe(script.to_string())).execute(&mut c).await.map_err(|e| message(&e))?;
                    Ok(c)
                }
            }
        })?;
        Ok(Self { runtime, connection })
    }

    pub fn describe(&mut self, sql: &str) -> Result<Described, String> {
        let connection = &mut self.connection;
        self.runtime.block_on(async move {
            let d =
                connection.describe(AssertSqlSafe(sql.to_string()).into_sql_str()).await.map_err(|e| message(&e))?;
            let parameters = match d.parameters {
                Some(sqlx::Either::Left(types)) => types.len(),
                Some(sqlx::Either::Right(n)) => n,
                None => 0,
            };
            let columns = d
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| DescribedColumn {
                    name: c.name().to_string(),
                    type_name: c.type_info().name().to_string(),
                    nullable: d.nullable.get(i).copied().flatten(),
                })
                .collect();
            Ok(Described { parameters, columns })
        })
    }
}

/// The database's own message, without sqlx's wrapping.
fn message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_against_a_schema_script() {
        let mut d = Describer::open(SchemaSource::Script(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT);",
        ))
        .unwrap();
        let out = d.describe("SELECT id, name, note FROM t WHERE id = ? AND name = ?").unwrap();
        assert_eq!(out.parameters, 2);
        let cols: Vec<(&str, &str)> = out.columns.iter().map(|c| (c.name.as_str(), c.type_name.as_str())).collect();
        assert_eq!(cols, [("id", "INTEGER"), ("name", "TEXT"), ("note", "TEXT")]);
        assert_eq!(out.columns[1].nullable, Some(false));
        assert_eq!(d.describe("SELECT nmae FROM t").unwrap_err(), "no such column: nmae");
        assert_eq!(d.describe("UPDATE t SET name = ? WHERE id = ?").unwrap().columns, vec![]);
    }
}
