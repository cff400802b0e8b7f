//! PostgreSQL execution: compiled statements (prepared once per connection by sqlx's statement
//! cache, with the parameter types the build chose: [`bind`]) and client SQL, with values
//! written as JSON by the types sqlx resolved for the columns ([`decode`]).

mod bind;
mod decode;
mod decode_text;
mod source;
pub(crate) mod text;

pub use source::{PostgresSource, pool};

use crate::call::ToolOutput;
use crate::db::encode::{ColumnDef, ColumnKind};
use crate::db::execute;
use crate::db::pool::Pool;
pub use bind::{PgArg, PgParam, PgValue, value};
use decode::DecodeError;
use sqlx::postgres::{PgColumn, PgQueryResult, PgRow, PgValueFormat};
use sqlx::{Column, Postgres, Row, TypeInfo, ValueRef};

pub type Query = execute::Query<Postgres>;

pub fn query(statement: &'static str) -> Query {
    Query::new(statement)
}

/// Runs a compiled statement: rows when the build described columns, else the affected count.
pub async fn run(
    pool: &Pool<Postgres>,
    query: Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    execute::run(pool, "postgresql", query, columns, max_rows, encode, PgQueryResult::rows_affected).await
}

/// Runs SQL text sent by the client on a connection of its own (see [`execute::client_sql`]).
/// `read_only` runs one statement in a read-only transaction, enforced by PostgreSQL. One
/// statement runs as a prepared statement, so its values come back exactly as a compiled
/// statement's do; a script of several runs through the simple protocol, where values arrive as
/// text and a type of the database's own (an enum, a composite) comes back as its text.
pub async fn execute_sql(pool: &Pool<Postgres>, sql: String, max_rows: Option<u64>, read_only: bool) -> ToolOutput {
    let how = execute::ClientSql {
        read_only_setup: read_only.then_some("BEGIN TRANSACTION READ ONLY"),
        several_statements: Some(several_statements),
        kind_of,
        encode,
        rows_affected: PgQueryResult::rows_affected,
    };
    execute::client_sql(pool, sql, max_rows, &how).await
}

/// Plans one statement the client sends with `EXPLAIN (FORMAT JSON)`, in a read-only
/// transaction, never running it (see [`crate::db::explain`]).
pub async fn explain_query(pool: &Pool<Postgres>, sql: String) -> ToolOutput {
    let how = crate::db::explain::Explain {
        setup: "BEGIN TRANSACTION READ ONLY",
        prefix: "EXPLAIN (FORMAT JSON) ",
        plan: |row: &PgRow| {
            row.try_get::<sqlx::types::Json<serde_json::Value>, _>(0).map(|j| j.0).map_err(|e| e.to_string())
        },
        // A write hidden in a CTE shows as a ModifyTable node.
        modifies: |plan| crate::db::explain::any_key(plan, "Node Type", |v| v == "ModifyTable"),
    };
    crate::db::explain::explain(pool, sql, &how).await
}

/// PostgreSQL's refusal to prepare a text of several statements.
fn several_statements(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42601") && db.message().contains("multiple commands"))
}

fn kind_of(_: &PgColumn) -> ColumnKind {
    // Values are decoded by the column's resolved type, not by a kind.
    ColumnKind::Any
}

/// Writes one value as JSON, by the type sqlx resolved for its column.
pub(crate) fn encode(out: &mut Vec<u8>, row: &PgRow, i: usize, _kind: ColumnKind) -> Result<(), String> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    let ty = row.columns()[i].type_info();
    let start = out.len();
    let written = match raw.format() {
        PgValueFormat::Binary => decode::binary(out, ty, raw.as_bytes().map_err(|e| e.to_string())?),
        PgValueFormat::Text => decode_text::text(out, ty, raw.as_str().map_err(|e| e.to_string())?),
    };
    written.map_err(|e| {
        out.truncate(start);
        match e {
            DecodeError::Unsupported { type_name, cast } => {
                format!("its type `{type_name}` is not one toolbox encodes; cast it in the statement (`::{cast}`)")
            }
            DecodeError::Malformed(what) => format!("a malformed value of type `{}` ({what})", ty.name()),
        }
    })
}
