//! The `*-explain-query` tools on the server engines: the engine's plan of one statement the
//! client sends, never the statement's execution. Client SQL, so it follows the rules of
//! `*-execute-sql` (a connection of its own, closed however the call ends) and more:
//!
//! - the session is read-only first (`setup`), enforced by the engine;
//! - the client's text is prepared alone, which the engines' prepared protocols refuse for more
//!   than one statement, and it must return rows: a write, DDL or `SELECT ... INTO` prepares
//!   without result columns and is refused;
//! - only then is `EXPLAIN` (never `ANALYZE`) put in front of it, and a plan that still modifies
//!   a table (PostgreSQL's write hidden in a CTE with `RETURNING`) is refused.
//!
//! The answer is one row, `{"plan": ...}`, the engine's JSON plan.

use crate::call::{Failure, ToolOutput};
use crate::db::execute::database_error;
use crate::db::pool::Pool;
use serde_json::Value;
use sqlx::{Database, Executor, IntoArguments, SqlSafeStr, Statement};

/// How an engine plans a statement.
pub struct Explain<DB: Database> {
    /// Makes the session or transaction read-only.
    pub setup: &'static str,
    /// Put in front of the client's statement.
    pub prefix: &'static str,
    /// The JSON plan from the one row `EXPLAIN` answers.
    pub plan: fn(&DB::Row) -> Result<Value, String>,
    /// Whether the plan modifies a table.
    pub modifies: fn(&Value) -> bool,
}

/// Why a statement is not planned.
pub const NOT_A_QUERY: &str = "only a query that returns rows can be explained (SELECT, WITH ... SELECT, VALUES); \
     writes, DDL and SELECT ... INTO are refused";
pub const WRITES: &str = "the statement writes (a data-modifying WITH); only reading queries can be explained";

/// Plans `sql` on a connection of its own (see the module's comment).
pub async fn explain<DB>(pool: &Pool<DB>, sql: String, how: &Explain<DB>) -> ToolOutput
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut lease = match pool.acquire().await {
        Ok(lease) => lease,
        Err(e) => return ToolOutput::Error(Failure::Unavailable, e.to_string()),
    };
    // Closed however the call ends: its session is read-only, and may hold a transaction.
    lease.discard();
    let connection = lease.begin();
    let planned = plan(connection, sql, how).await;
    lease.end(planned.as_ref().err());
    lease.close().await;
    match planned {
        Ok(Ok(plan)) => {
            let json = serde_json::json!([{ "plan": plan }]).to_string();
            ToolOutput::Rows { json, rows: 1, truncated: false }
        }
        Ok(Err(refused)) => ToolOutput::Error(Failure::Database, format!("refused: {refused}")),
        Err(e) => database_error(pool.source(), e),
    }
}

async fn plan<DB>(
    connection: &mut DB::Connection,
    sql: String,
    how: &Explain<DB>,
) -> Result<Result<Value, &'static str>, sqlx::Error>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    sqlx::raw_sql(how.setup).execute(&mut *connection).await?;
    let statement = (&mut *connection).prepare(sqlx::AssertSqlSafe(sql.clone()).into_sql_str()).await?;
    if statement.columns().is_empty() {
        return Ok(Err(NOT_A_QUERY));
    }
    let text = format!("{}{sql}", how.prefix);
    let row = sqlx::query::<DB>(sqlx::AssertSqlSafe(text)).fetch_one(&mut *connection).await?;
    let plan = (how.plan)(&row).map_err(|e| sqlx::Error::Decode(e.into()))?;
    if (how.modifies)(&plan) {
        return Ok(Err(WRITES));
    }
    Ok(Ok(plan))
}

/// Whether any object in `value` has `key` with a value `is` accepts, at any depth.
pub fn any_key(value: &Value, key: &str, is: fn(&Value) -> bool) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| (k == key && is(v)) || any_key(v, key, is)),
        Value::Array(items) => items.iter().any(|v| any_key(v, key, is)),
        _ => false,
    }
}
