//! SQLite execution: runs prepared statements from the pool and encodes rows straight into a JSON
//! buffer, column by column, using the type the build described for each column.

use crate::call::ToolOutput;
use crate::encode::*;
use crate::execute;
use crate::pool::Pool;
use sqlx::sqlite::{SqliteArguments, SqliteQueryResult, SqliteRow};
use sqlx::{Row, Sqlite, TypeInfo, ValueRef};

/// The statement type generated handlers build.
pub type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// Starts a query for a statement compiled into the binary.
pub fn query(statement: &'static str) -> Query {
    sqlx::query(statement)
}

/// Runs a compiled statement: rows when the build described result columns, else the count of
/// affected rows.
pub async fn run(
    pool: &Pool<Sqlite>,
    query: Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    execute::run(pool, query, columns, max_rows, encode_value, SqliteQueryResult::rows_affected).await
}

/// Runs SQL text sent by the client (the `sqlite-execute-sql` tools). Rows are encoded by their
/// stored values; a script without rows answers the number of affected rows.
pub async fn execute_sql(pool: &Pool<Sqlite>, sql: String, max_rows: Option<u64>, _read_only: bool) -> ToolOutput {
    let mut lease = match pool.acquire().await {
        Ok(lease) => lease,
        Err(e) => return execute::database_error(e),
    };
    let stream = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_many(lease.begin());
    let output = execute::collect::<Sqlite>(
        stream,
        max_rows,
        |_| ColumnKind::Any,
        encode_value,
        SqliteQueryResult::rows_affected,
    )
    .await;
    lease.end(None);
    output
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
