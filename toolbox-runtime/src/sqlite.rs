//! SQLite execution: runs prepared statements from the pool and encodes rows straight into a JSON
//! buffer, column by column, using the type the build described for each column.

use crate::call::ToolOutput;
use crate::encode::*;
use futures_util::TryStreamExt;
use sqlx::sqlite::{SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{Column, Either, Row, Sqlite, TypeInfo, ValueRef};

/// The statement type generated handlers build.
pub type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// Starts a query for a statement compiled into the binary.
pub fn query(statement: &'static str) -> Query {
    sqlx::query(statement)
}

/// Runs a compiled statement: rows when the build described result columns, else the count of
/// affected rows.
pub async fn run(
    pool: &SqlitePool,
    query: Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    let Some(columns) = columns else {
        return match query.execute(pool).await {
            Ok(done) => ToolOutput::Affected { rows_affected: done.rows_affected() },
            Err(e) => database_error(e),
        };
    };
    let mut w = RowsWriter::new(max_rows);
    let mut rows = query.fetch(pool);
    loop {
        match rows.try_next().await {
            Ok(Some(row)) => {
                if !w.begin_row() {
                    break;
                }
                for (i, column) in columns.iter().enumerate() {
                    w.column(i, column.key);
                    encode_value(&mut w.out, &row, i, column.kind);
                }
                w.end_row();
            }
            Ok(None) => break,
            Err(e) => return database_error(e),
        }
    }
    w.finish()
}

/// Runs SQL text sent by the client (the `sqlite-execute-sql` tools). Rows are encoded by their
/// stored values; a script without rows answers the number of affected rows.
pub async fn execute_sql(pool: &SqlitePool, sql: String, max_rows: Option<u64>, _read_only: bool) -> ToolOutput {
    let mut stream = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_many(pool);
    let mut w = RowsWriter::new(max_rows);
    let mut any_rows = false;
    let mut affected = 0;
    loop {
        match stream.try_next().await {
            Ok(Some(Either::Left(done))) => affected += done.rows_affected(),
            Ok(Some(Either::Right(row))) => {
                any_rows = true;
                if w.is_truncated() || !w.begin_row() {
                    continue;
                }
                for (i, column) in row.columns().iter().enumerate() {
                    write_key(&mut w.out, i, column.name());
                    encode_value(&mut w.out, &row, i, ColumnKind::Any);
                }
                w.end_row();
            }
            Ok(None) => break,
            Err(e) => return database_error(e),
        }
    }
    if !any_rows && affected > 0 {
        return ToolOutput::Affected { rows_affected: affected };
    }
    w.finish()
}

/// The database's own message, which names the problem without any credential.
pub(crate) fn database_error(e: sqlx::Error) -> ToolOutput {
    let message = match &e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    };
    ToolOutput::Error(format!("database error: {message}"))
}

/// SQLite is dynamically typed, so the stored value's class decides between number, text and
/// blob; the described type adds what the class lacks (a `BOOLEAN` column's 0/1 is false/true).
fn encode_value(out: &mut Vec<u8>, row: &SqliteRow, i: usize, kind: ColumnKind) {
    let Ok(raw) = row.try_get_raw(i) else {
        out.extend_from_slice(b"null");
        return;
    };
    if raw.is_null() {
        out.extend_from_slice(b"null");
        return;
    }
    let stored = raw.type_info();
    match stored.name() {
        "INTEGER" => {
            let v: i64 = row.try_get_unchecked(i).unwrap_or_default();
            if kind == ColumnKind::Boolean { write_bool(out, v != 0) } else { write_i64(out, v) }
        }
        "REAL" => write_f64(out, row.try_get_unchecked(i).unwrap_or_default()),
        "BLOB" => write_base64(out, row.try_get_unchecked(i).unwrap_or_default()),
        _ => write_json_string(out, row.try_get_unchecked(i).unwrap_or_default()),
    }
}
