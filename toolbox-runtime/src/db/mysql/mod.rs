//! MySQL and MariaDB execution: compiled statements (prepared once per connection by sqlx's
//! statement cache) and client SQL, with rows encoded by the column types the build described.

mod source;

pub use source::{MysqlSource, pool};

use crate::call::ToolOutput;
use crate::db::encode::*;
use crate::db::execute;
use crate::db::pool::Pool;
use sqlx::mysql::{MySqlColumn, MySqlQueryResult, MySqlRow, MySqlTypeInfo};
use sqlx::{Column, MySql, Row, TypeInfo, ValueRef as _};

pub type Query = execute::Query<MySql>;

pub fn query(statement: &'static str) -> Query {
    Query::new(statement)
}

/// Runs a compiled statement: rows when the build described columns, else the affected count.
pub async fn run(
    pool: &Pool<MySql>,
    query: Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    execute::run(pool, "mysql", query, columns, max_rows, encode, MySqlQueryResult::rows_affected).await
}

/// Runs SQL text sent by the client on a connection of its own (see [`execute::client_sql`]).
/// `read_only` runs one statement in a read-only session, enforced by the server: a session, not
/// a transaction, because DDL commits implicitly and would run outside a read-only transaction.
pub async fn execute_sql(pool: &Pool<MySql>, sql: String, max_rows: Option<u64>, read_only: bool) -> ToolOutput {
    let setup = read_only.then_some("SET SESSION TRANSACTION READ ONLY");
    let how = execute::ClientSql {
        read_only_setup: setup,
        several_statements: None,
        kind_of: client_kind,
        encode,
        rows_affected: MySqlQueryResult::rows_affected,
    };
    execute::client_sql(pool, sql, max_rows, &how).await
}

/// Plans one statement the client sends with `EXPLAIN FORMAT=JSON`, in a read-only session,
/// never running it (see [`crate::db::explain`]).
pub async fn explain_query(pool: &Pool<MySql>, sql: String) -> ToolOutput {
    let how = crate::db::explain::Explain {
        setup: "SET SESSION TRANSACTION READ ONLY",
        prefix: "EXPLAIN FORMAT=JSON ",
        plan: |row: &MySqlRow| {
            let text: String = row.try_get(0).map_err(|e| e.to_string())?;
            serde_json::from_str(&text).map_err(|e| e.to_string())
        },
        // MySQL marks the table a statement changes (`"delete": true`, MariaDB `1`).
        modifies: |plan| {
            ["insert", "update", "delete", "replace"]
                .iter()
                .any(|k| crate::db::explain::any_key(plan, k, |v| v == true || v == 1))
        },
    };
    crate::db::explain::explain(pool, sql, &how).await
}

/// The kind a column's run-time type is encoded by. Text is told from bytes by the collation,
/// not by the type's name: MySQL flags text of a binary collation (`utf8mb4_bin`, which MariaDB's
/// JSON, UUID and INET types use) as binary, but only the `binary` collation holds bytes.
/// Spatial values (MySQL's internal form: an SRID and WKB) are refused, naming the functions
/// that serve them.
fn wire_kind(info: &MySqlTypeInfo, column: &str) -> Result<ColumnKind, String> {
    if <str as sqlx::Type<MySql>>::compatible(info) {
        return Ok(ColumnKind::Text);
    }
    match info.name() {
        "GEOMETRY" => Err(unencodable_geometry(column)),
        name => Ok(toolbox_config::types::column_kind(toolbox_config::model::Engine::Mysql, name)),
    }
}

/// The answer for a spatial column, which toolbox does not encode.
pub fn unencodable_geometry(column: &str) -> String {
    format!(
        "a spatial value (GEOMETRY), which toolbox does not encode: select `ST_AsText({column})` (WKT) or `ST_AsGeoJSON({column})` (GeoJSON)"
    )
}

/// The kind a client SQL column is encoded by, from its run-time type.
fn client_kind(column: &MySqlColumn) -> ColumnKind {
    // A spatial column is reported by the encoder, which names it.
    wire_kind(column.type_info(), column.name()).unwrap_or(ColumnKind::Raw)
}

/// Encodes one value by its run-time type; the kind the build described adds what the wire
/// cannot say (MariaDB sends JSON and UUID as text). A value no encoder can read is written as
/// its text, or its bytes in base64, never dropped.
fn encode(out: &mut Vec<u8>, row: &MySqlRow, i: usize, kind: ColumnKind) -> Result<(), String> {
    let Ok(raw) = row.try_get_raw(i) else {
        out.extend_from_slice(b"null");
        return Ok(());
    };
    // Only an absent value is NULL: sqlx also calls MySQL's zero dates (`0000-00-00`) NULL,
    // which they are not.
    if row.try_get_unchecked::<&[u8], _>(i).is_err() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    let info = raw.type_info().into_owned();
    let wire = wire_kind(&info, row.columns()[i].name())?;
    let kind = match (kind, wire) {
        (ColumnKind::Json | ColumnKind::Uuid, ColumnKind::Text) => kind,
        _ => wire,
    };
    let start = out.len();
    if encode_typed(out, row, i, kind, info.name()).is_err() {
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
    let bytes = || row.try_get_unchecked::<&[u8], _>(i);
    match kind {
        ColumnKind::Integer => write_i64(out, row.try_get_unchecked::<i64, _>(i)?),
        // BIT(n) too: its bits as an unsigned integer.
        ColumnKind::UnsignedInteger => write_u64(out, row.try_get_unchecked::<u64, _>(i)?),
        // FLOAT as the shortest decimal that reads back as the same single-precision value (its
        // digits widened to double would add noise: 1.1 would read 1.100000023841858).
        ColumnKind::Real if type_name == "FLOAT" => {
            let v = row.try_get_unchecked::<f32, _>(i)?;
            if v.is_finite() {
                out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
            } else {
                write_f64(out, v.into());
            }
        }
        ColumnKind::Real => write_f64(out, row.try_get_unchecked::<f64, _>(i)?),
        // DECIMAL arrives as text with the column's scale.
        ColumnKind::Decimal => write_decimal(out, row.try_get_unchecked::<&str, _>(i)?),
        // TINYINT(1): MySQL's truth of the value, whatever TINYINT it holds.
        ColumnKind::Boolean => write_bool(out, row.try_get_unchecked::<i64, _>(i)? != 0),
        ColumnKind::Text | ColumnKind::Uuid => write_json_string(out, &String::from_utf8_lossy(bytes()?)),
        ColumnKind::Blob => write_base64(out, bytes()?),
        ColumnKind::Json => {
            // The server sends JSON as text; it is embedded as is when it parses.
            let text = String::from_utf8_lossy(bytes()?);
            match serde_json::from_str::<&serde_json::value::RawValue>(&text) {
                Ok(value) => out.extend_from_slice(value.get().as_bytes()),
                Err(_) => write_json_string(out, &text),
            }
        }
        ColumnKind::Date | ColumnKind::Timestamp | ColumnKind::TimestampTz => {
            let with_time = kind != ColumnKind::Date;
            let text = temporal::date_time(bytes()?, with_time).map_err(|e| sqlx::Error::Decode(e.into()))?;
            if kind == ColumnKind::TimestampTz {
                // TIMESTAMP values are read in UTC (sqlx sets the session time zone to +00:00).
                write_json_string(out, &format!("{text}Z"));
            } else {
                write_json_string(out, &text);
            }
        }
        ColumnKind::Time => {
            write_json_string(out, &temporal::time(bytes()?).map_err(|e| sqlx::Error::Decode(e.into()))?)
        }
        ColumnKind::Interval | ColumnKind::Array(_) | ColumnKind::Raw | ColumnKind::Any => write_raw(out, bytes()?),
    }
    Ok(())
}

/// MySQL's temporal values in either protocol: the text protocol sends the server's text, the
/// binary one a length byte (0, 4, 7, 8, 11 or 12: never an ASCII digit) and the fields. Both are
/// written in one spelling: `2025-01-31`, `2025-01-31T13:45:30.5` (DATETIME and TIMESTAMP),
/// `-838:59:59` (TIME, at least two digits of hours); fractional seconds without trailing zeros;
/// zero dates as MySQL spells them (`0000-00-00`), which no calendar type can hold.
mod temporal {
    fn is_binary(bytes: &[u8]) -> bool {
        bytes.first().is_some_and(|b| !b.is_ascii_digit() && *b != b'-')
    }

    fn fraction(micros: u32) -> String {
        if micros == 0 {
            return String::new();
        }
        format!(".{micros:06}").trim_end_matches('0').to_string()
    }

    /// Text with its fractional seconds' trailing zeros trimmed.
    fn trimmed(text: &str) -> String {
        match text.split_once('.') {
            Some((whole, f)) if f.bytes().all(|b| b == b'0') => whole.to_string(),
            Some((whole, f)) => format!("{whole}.{}", f.trim_end_matches('0')),
            None => text.to_string(),
        }
    }

    /// DATE (`YYYY-MM-DD`), DATETIME and TIMESTAMP (`with_time`: `YYYY-MM-DDTHH:MM:SS[.f]`; the
    /// binary protocol leaves out a zero time, and sends a zero value as no fields at all).
    pub fn date_time(bytes: &[u8], with_time: bool) -> Result<String, String> {
        if !is_binary(bytes) {
            let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
            return Ok(trimmed(&text.replacen(' ', "T", 1)));
        }
        let b = &bytes[1..];
        let field = |i: usize| b.get(i).copied().unwrap_or(0);
        let date = |b: &[u8]| {
            let year = u16::from_le_bytes([b.first().copied().unwrap_or(0), b.get(1).copied().unwrap_or(0)]);
            format!("{year:04}-{:02}-{:02}", field(2), field(3))
        };
        let midnight = if with_time { "T00:00:00" } else { "" };
        match bytes[0] {
            0 => Ok(format!("0000-00-00{midnight}")),
            4 => Ok(format!("{}{midnight}", date(b))),
            7 | 11 => {
                let micros =
                    if bytes[0] == 11 { u32::from_le_bytes([field(7), field(8), field(9), field(10)]) } else { 0 };
                Ok(format!("{}T{:02}:{:02}:{:02}{}", date(b), field(4), field(5), field(6), fraction(micros)))
            }
            n => Err(format!("a temporal value of {n} bytes")),
        }
    }

    /// TIME: `[-]HH:MM:SS[.f]`, hours past 24 included (`-838:59:59`).
    pub fn time(bytes: &[u8]) -> Result<String, String> {
        if !is_binary(bytes) {
            let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
            return Ok(trimmed(text));
        }
        let b = &bytes[1..];
        let field = |i: usize| b.get(i).copied().unwrap_or(0);
        match bytes[0] {
            0 => Ok("00:00:00".to_string()),
            8 | 12 => {
                let sign = if field(0) == 1 { "-" } else { "" };
                let days = u32::from_le_bytes([field(1), field(2), field(3), field(4)]);
                let hours = u64::from(days) * 24 + u64::from(field(5));
                let micros =
                    if bytes[0] == 12 { u32::from_le_bytes([field(8), field(9), field(10), field(11)]) } else { 0 };
                Ok(format!("{sign}{hours:02}:{:02}:{:02}{}", field(6), field(7), fraction(micros)))
            }
            n => Err(format!("a TIME value of {n} bytes")),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn both_protocols_spell_values_alike() {
            assert_eq!(date_time(b"2025-01-31 13:45:30.500000", true).unwrap(), "2025-01-31T13:45:30.5");
            let binary = [11, 0xe9, 7, 1, 31, 13, 45, 30, 0x20, 0xa1, 7, 0];
            assert_eq!(date_time(&binary, true).unwrap(), "2025-01-31T13:45:30.5");
            assert_eq!(date_time(b"0000-00-00", false).unwrap(), "0000-00-00");
            assert_eq!(date_time(&[4, 0xe9, 7, 0, 0], false).unwrap(), "2025-00-00");
            assert_eq!(date_time(&[4, 0xe9, 7, 1, 31], true).unwrap(), "2025-01-31T00:00:00");
            assert_eq!(date_time(&[0], true).unwrap(), "0000-00-00T00:00:00");
            assert_eq!(time(b"-838:59:59.000000").unwrap(), "-838:59:59");
            assert_eq!(time(&[12, 1, 0, 0, 0, 0, 1, 2, 3, 0x20, 0xa1, 7, 0]).unwrap(), "-01:02:03.5");
            assert_eq!(time(&[8, 0, 4, 0, 0, 0, 4, 0, 0]).unwrap(), "100:00:00");
            assert_eq!(time(&[0]).unwrap(), "00:00:00");
        }
    }
}
