//! `sqlite-explain-query`: SQLite's `EXPLAIN QUERY PLAN` of one statement the client sends, never
//! run. As client SQL it gets a connection of its own on the blocking pool, opened read-only, with
//! `query_only` set and the read-only authorizer of `sqlite-execute-sql`, which refuses any write
//! (a `WITH ... DELETE` too) while the statement is prepared. The statement is prepared alone
//! first: more than one is refused, and so is one without result columns.

use super::{Interrupt, client_sql_authorizer, output};
use crate::call::ToolOutput;
use crate::db::encode::*;
use rusqlite::hooks::{AuthContext, Authorization};
use rusqlite::{Connection, ErrorCode};
use std::sync::{Arc, Mutex};

/// Plans `sql`; the answer is one row, `{"plan": [{"id", "parent", "detail"} ...]}`, SQLite's plan
/// rows (a tree through `parent`).
pub async fn explain_query(pool: &super::SqlitePool, sql: String) -> ToolOutput {
    let deadline = crate::call::deadline();
    let outcome = pool
        .with_own_connection(true, move |connection| {
            connection.pragma_update(None, "query_only", true)?;
            let refused = Arc::new(Mutex::new(None));
            connection.authorizer(Some(client_sql_authorizer(true, refused.clone())))?;
            let result = {
                let _interrupt = deadline.map(|d| Interrupt::at(connection, d.at));
                plan(connection, &sql)
            };
            let why = refused.lock().unwrap_or_else(|e| e.into_inner()).take();
            let result = result.map_err(|e| match (e, why) {
                (e, Some(why)) if e.sqlite_error_code() == Some(ErrorCode::AuthorizationForStatementDenied) => {
                    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_AUTH), Some(why))
                }
                (rusqlite::Error::MultipleStatement, _) => refusal("one statement only: the text holds more than one"),
                (other, _) => other,
            });
            connection.authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
            connection.pragma_update(None, "query_only", false)?;
            result
        })
        .await;
    output(outcome, deadline)
}

fn plan(connection: &Connection, sql: &str) -> rusqlite::Result<ToolOutput> {
    if connection.prepare(sql)?.column_count() == 0 {
        return Err(refusal(crate::db::explain::NOT_A_QUERY));
    }
    let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"[{\"plan\":[");
    let mut rows = statement.raw_query();
    let mut first = true;
    while let Some(row) = rows.next()? {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"id\":");
        write_i64(&mut out, row.get(0)?);
        out.extend_from_slice(b",\"parent\":");
        write_i64(&mut out, row.get(1)?);
        out.extend_from_slice(b",\"detail\":");
        write_json_string(&mut out, &row.get::<_, String>(3)?);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}]");
    Ok(ToolOutput::Rows { json: String::from_utf8(out).unwrap_or_default(), rows: 1, truncated: false })
}

/// A refusal, answered as SQLite's own errors are.
fn refusal(why: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISUSE),
        Some(format!("refused: {why}")),
    )
}
