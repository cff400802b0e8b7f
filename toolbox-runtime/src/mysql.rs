//! MySQL and MariaDB execution: compiled statements (prepared once per connection by sqlx's
//! statement cache) and client SQL, with rows encoded by the column types the build described.

use crate::call::ToolOutput;
use crate::encode::*;
use crate::execute;
use crate::pool::Pool;
use chrono::SecondsFormat;
use sqlx::mysql::types::MySqlTime;
use sqlx::mysql::{MySqlArguments, MySqlColumn, MySqlQueryResult, MySqlRow};
use sqlx::types::chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sqlx::{Column, MySql, Row, TypeInfo, ValueRef};

pub type Query = sqlx::query::Query<'static, MySql, MySqlArguments>;

pub fn query(statement: &'static str) -> Query {
    sqlx::query(statement)
}

/// Runs a compiled statement: rows when the build described columns, else the affected count.
pub async fn run(
    pool: &Pool<MySql>,
    query: Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    execute::run(pool, query, columns, max_rows, encode, MySqlQueryResult::rows_affected).await
}

/// Runs SQL text sent by the client on a connection of its own (see [`execute::client_sql`]).
/// `read_only` runs one statement in a read-only session, enforced by the server: a session, not
/// a transaction, because DDL commits implicitly and would run outside a read-only transaction.
pub async fn execute_sql(pool: &Pool<MySql>, sql: String, max_rows: Option<u64>, read_only: bool) -> ToolOutput {
    let setup = read_only.then_some("SET SESSION TRANSACTION READ ONLY");
    let kind_of = |column: &MySqlColumn| {
        toolbox_config::types::column_kind(toolbox_config::model::Engine::Mysql, column.type_info().name())
    };
    let how = execute::ClientSql {
        read_only_setup: setup,
        several_statements: None,
        kind_of,
        encode,
        rows_affected: MySqlQueryResult::rows_affected,
    };
    execute::client_sql(pool, sql, max_rows, &how).await
}

/// Encodes one value by its described kind; a value no encoder can read is written as its text
/// (text protocol) or its bytes (base64, binary protocol), never dropped.
fn encode(out: &mut Vec<u8>, row: &MySqlRow, i: usize, kind: ColumnKind) -> Result<(), String> {
    let Ok(raw) = row.try_get_raw(i) else {
        out.extend_from_slice(b"null");
        return Ok(());
    };
    if raw.is_null() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    let type_name = raw.type_info().name().to_string();
    let start = out.len();
    if encode_typed(out, row, i, kind, &type_name).is_err() {
        out.truncate(start);
        match row.try_get_unchecked::<&[u8], _>(i) {
            Ok(bytes) => write_raw(out, bytes),
            Err(_) => out.extend_from_slice(b"null"),
        }
    }
    Ok(())
}

fn encode_typed(
    out: &mut Vec<u8>,
    row: &MySqlRow,
    i: usize,
    kind: ColumnKind,
    type_name: &str,
) -> Result<(), sqlx::Error> {
    match kind {
        ColumnKind::Integer => write_i64(out, row.try_get_unchecked::<i64, _>(i)?),
        ColumnKind::UnsignedInteger => write_u64(out, row.try_get_unchecked::<u64, _>(i)?),
        ColumnKind::Real => match type_name {
            "FLOAT" => write_f64(out, row.try_get_unchecked::<f32, _>(i)?.into()),
            _ => write_f64(out, row.try_get_unchecked::<f64, _>(i)?),
        },
        // DECIMAL arrives as text with the column's scale.
        ColumnKind::Decimal => write_decimal(out, row.try_get_unchecked::<&str, _>(i)?),
        ColumnKind::Boolean => write_bool(out, row.try_get_unchecked::<bool, _>(i)?),
        ColumnKind::Text => write_json_string(out, &row.try_get_unchecked::<String, _>(i)?),
        ColumnKind::Blob => write_base64(out, row.try_get_unchecked::<&[u8], _>(i)?),
        ColumnKind::Json => {
            // The server sends JSON as text; it is embedded as is when it parses.
            let text = row.try_get_unchecked::<&str, _>(i)?;
            match serde_json::from_str::<&serde_json::value::RawValue>(text) {
                Ok(value) => out.extend_from_slice(value.get().as_bytes()),
                Err(_) => write_json_string(out, text),
            }
        }
        ColumnKind::Date => write_json_string(out, &row.try_get_unchecked::<NaiveDate, _>(i)?.to_string()),
        ColumnKind::Time => write_json_string(out, &row.try_get_unchecked::<MySqlTime, _>(i)?.to_string()),
        ColumnKind::Timestamp => write_json_string(
            out,
            &row.try_get_unchecked::<NaiveDateTime, _>(i)?.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
        ),
        // TIMESTAMP values are read in UTC (sqlx sets the session time zone to +00:00).
        ColumnKind::TimestampTz => write_json_string(
            out,
            &row.try_get_unchecked::<DateTime<Utc>, _>(i)?.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        ),
        ColumnKind::Uuid | ColumnKind::Interval | ColumnKind::Array(_) | ColumnKind::Raw => {
            write_raw(out, row.try_get_unchecked::<&[u8], _>(i)?)
        }
        ColumnKind::Any => {
            let kind = toolbox_config::types::column_kind(toolbox_config::model::Engine::Mysql, type_name);
            if kind == ColumnKind::Any {
                write_raw(out, row.try_get_unchecked::<&[u8], _>(i)?);
            } else {
                return encode_typed(out, row, i, kind, type_name);
            }
        }
    }
    Ok(())
}
