//! SQLite execution: runs prepared statements from the pool and encodes rows straight into a JSON
//! buffer, column by column, using the type the build described for each column.

use crate::call::ToolOutput;
use base64::Engine as _;
use futures_util::TryStreamExt;
use sqlx::sqlite::{SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{Column, Either, Row, Sqlite, TypeInfo, ValueRef};

/// The statement type generated handlers build.
pub type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// Starts a query for a statement compiled into the binary.
pub fn query(statement: &'static str) -> Query {
    sqlx::query(statement)
}

/// How a column is encoded, from its described type. SQLite is dynamically typed, so the
/// stored value's class decides between number, text and blob; the described type adds meaning
/// the storage class lacks (a `BOOLEAN` column's 0/1 becomes false/true).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Real,
    Text,
    Blob,
    Boolean,
    /// An expression without a declared type: encoded by the stored value alone.
    Any,
}

/// One described result column. `key` is the JSON object key, quoted and escaped, with the colon.
#[derive(Debug)]
pub struct ColumnDef {
    pub key: &'static str,
    pub kind: ColumnKind,
}

/// Runs a compiled statement: rows when the build described result columns, else the count of
/// affected rows.
pub async fn run(pool: &SqlitePool, query: Query, columns: Option<&'static [ColumnDef]>) -> ToolOutput {
    match columns {
        Some(columns) => fetch_rows(pool, query, columns).await,
        None => execute(pool, query).await,
    }
}

/// Runs a statement that returns rows and encodes them as a JSON array.
pub async fn fetch_rows(pool: &SqlitePool, query: Query, columns: &'static [ColumnDef]) -> ToolOutput {
    let mut out = Vec::with_capacity(256);
    out.push(b'[');
    let mut rows = query.fetch(pool);
    let mut first = true;
    loop {
        match rows.try_next().await {
            Ok(Some(row)) => {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.push(b'{');
                for (i, column) in columns.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(column.key.as_bytes());
                    encode_value(&mut out, &row, i, column.kind);
                }
                out.push(b'}');
            }
            Ok(None) => break,
            Err(e) => return database_error(e),
        }
    }
    out.push(b']');
    ToolOutput::Rows(String::from_utf8(out).unwrap_or_default())
}

/// Runs a statement without result columns.
pub async fn execute(pool: &SqlitePool, query: Query) -> ToolOutput {
    match query.execute(pool).await {
        Ok(done) => ToolOutput::Affected { rows_affected: done.rows_affected() },
        Err(e) => database_error(e),
    }
}

/// Runs SQL text sent by the client (the `*-execute-sql` tools). Rows of the last statement that
/// returned any are encoded by their stored values; otherwise the number of affected rows.
pub async fn execute_sql(pool: &SqlitePool, sql: String) -> ToolOutput {
    let mut stream = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_many(pool);
    let mut rows: Vec<SqliteRow> = Vec::new();
    let mut affected = 0;
    loop {
        match stream.try_next().await {
            Ok(Some(Either::Left(done))) => affected += done.rows_affected(),
            Ok(Some(Either::Right(row))) => rows.push(row),
            Ok(None) => break,
            Err(e) => return database_error(e),
        }
    }
    if rows.is_empty() && affected > 0 {
        return ToolOutput::Affected { rows_affected: affected };
    }
    let mut out = Vec::with_capacity(256);
    out.push(b'[');
    for (r, row) in rows.iter().enumerate() {
        if r > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (i, column) in row.columns().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json_string(&mut out, column.name());
            out.push(b':');
            encode_value(&mut out, row, i, ColumnKind::Any);
        }
        out.push(b'}');
    }
    out.push(b']');
    ToolOutput::Rows(String::from_utf8(out).unwrap_or_default())
}

fn database_error(e: sqlx::Error) -> ToolOutput {
    let message = match &e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    };
    ToolOutput::Error(format!("database error: {message}"))
}

fn encode_value(out: &mut Vec<u8>, row: &SqliteRow, i: usize, kind: ColumnKind) {
    let Ok(raw) = row.try_get_raw(i) else {
        out.extend_from_slice(b"null");
        return;
    };
    if raw.is_null() {
        out.extend_from_slice(b"null");
        return;
    }
    let stored = raw.type_info().name().to_string();
    match stored.as_str() {
        "INTEGER" => {
            let v: i64 = row.try_get_unchecked(i).unwrap_or_default();
            if kind == ColumnKind::Boolean {
                out.extend_from_slice(if v != 0 { b"true" } else { b"false" });
            } else {
                out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
            }
        }
        "REAL" => {
            let v: f64 = row.try_get_unchecked(i).unwrap_or_default();
            if v.is_finite() {
                out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
            } else {
                out.extend_from_slice(b"null");
            }
        }
        "BLOB" => {
            let v: &[u8] = row.try_get_unchecked(i).unwrap_or_default();
            out.push(b'"');
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(v).as_bytes());
            out.push(b'"');
        }
        _ => {
            let v: &str = row.try_get_unchecked(i).unwrap_or_default();
            write_json_string(out, v);
        }
    }
}

/// Writes `s` as a JSON string literal.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // Serialising a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}
