//! PostgreSQL execution: compiled statements (prepared once per connection by sqlx's statement
//! cache) and client SQL, with rows encoded by the column types the build described.

use crate::call::ToolOutput;
use crate::encode::*;
use crate::execute;
use crate::pool::Pool;
use chrono::SecondsFormat;
use serde_json::Value;
use sqlx::postgres::types::PgInterval;
use sqlx::postgres::{PgArguments, PgColumn, PgQueryResult, PgRow, PgValueFormat};
use sqlx::types::chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::types::{JsonRawValue, Uuid};
use sqlx::{Column, Postgres, Row, TypeInfo, ValueRef};

pub type Query = sqlx::query::Query<'static, Postgres, PgArguments>;

pub fn query(statement: &'static str) -> Query {
    sqlx::query(statement)
}

/// Arrays arrive as JSON arrays; PostgreSQL takes them as typed arrays (`= ANY($1)`).
pub fn text_array(value: &Value) -> Vec<Option<String>> {
    elements(value).map(|v| v.as_str().map(str::to_string)).collect()
}

pub fn int_array(value: &Value) -> Vec<Option<i64>> {
    elements(value).map(Value::as_i64).collect()
}

pub fn float_array(value: &Value) -> Vec<Option<f64>> {
    elements(value).map(Value::as_f64).collect()
}

pub fn bool_array(value: &Value) -> Vec<Option<bool>> {
    elements(value).map(Value::as_bool).collect()
}

fn elements(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

/// Maps (and arrays of maps) bind as `jsonb`.
pub fn json(value: Value) -> sqlx::types::Json<Value> {
    sqlx::types::Json(value)
}

/// Runs a compiled statement: rows when the build described columns, else the affected count.
pub async fn run(
    pool: &Pool<Postgres>,
    query: Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    execute::run(pool, query, columns, max_rows, encode, PgQueryResult::rows_affected).await
}

/// Runs SQL text sent by the client on a connection of its own (see [`execute::client_sql`]).
/// `read_only` runs one statement in a read-only transaction, enforced by PostgreSQL.
pub async fn execute_sql(pool: &Pool<Postgres>, sql: String, max_rows: Option<u64>, read_only: bool) -> ToolOutput {
    let setup = read_only.then_some("BEGIN TRANSACTION READ ONLY");
    execute::client_sql(pool, sql, max_rows, setup, kind_of, encode, PgQueryResult::rows_affected).await
}

fn kind_of(column: &PgColumn) -> ColumnKind {
    toolbox_config::types::column_kind(toolbox_config::model::Engine::Postgres, column.type_info().name())
}

/// Encodes one value. The described kind chooses the encoder; the value's own type chooses the
/// width (an `integer` column may be INT2, INT4 or INT8). A value no encoder can read is written
/// as its text form (or base64 bytes), never dropped.
pub(crate) fn encode(out: &mut Vec<u8>, row: &PgRow, i: usize, kind: ColumnKind) {
    let Ok(raw) = row.try_get_raw(i) else {
        out.extend_from_slice(b"null");
        return;
    };
    if raw.is_null() {
        out.extend_from_slice(b"null");
        return;
    }
    let type_name = raw.type_info().name().to_string();
    let text_format = raw.format() == PgValueFormat::Text;
    let start = out.len();
    if encode_typed(out, row, i, kind, &type_name).is_err() {
        out.truncate(start);
        match row.try_get_raw(i) {
            Ok(raw) if text_format => write_json_string(out, raw.as_str().unwrap_or_default()),
            Ok(raw) => write_raw(out, raw.as_bytes().unwrap_or_default()),
            Err(_) => out.extend_from_slice(b"null"),
        }
    }
}

fn encode_typed(
    out: &mut Vec<u8>,
    row: &PgRow,
    i: usize,
    kind: ColumnKind,
    type_name: &str,
) -> Result<(), sqlx::Error> {
    match kind {
        ColumnKind::Integer | ColumnKind::UnsignedInteger => match type_name {
            "INT2" => write_i64(out, row.try_get_unchecked::<i16, _>(i)?.into()),
            "INT4" => write_i64(out, row.try_get_unchecked::<i32, _>(i)?.into()),
            "OID" => write_i64(out, row.try_get_unchecked::<sqlx::postgres::types::Oid, _>(i)?.0.into()),
            _ => write_i64(out, row.try_get_unchecked::<i64, _>(i)?),
        },
        ColumnKind::Real => match type_name {
            "FLOAT4" => write_f64(out, row.try_get_unchecked::<f32, _>(i)?.into()),
            _ => write_f64(out, row.try_get_unchecked::<f64, _>(i)?),
        },
        ColumnKind::Decimal => write_decimal(out, &row.try_get_unchecked::<Numeric, _>(i)?.0),
        ColumnKind::Boolean => write_bool(out, row.try_get_unchecked::<bool, _>(i)?),
        ColumnKind::Text => write_json_string(out, row.try_get_unchecked::<&str, _>(i)?),
        ColumnKind::Blob => write_base64(out, row.try_get_unchecked::<&[u8], _>(i)?),
        ColumnKind::Json => out.extend_from_slice(row.try_get_unchecked::<&JsonRawValue, _>(i)?.get().as_bytes()),
        ColumnKind::Uuid => write_json_string(out, &row.try_get_unchecked::<Uuid, _>(i)?.hyphenated().to_string()),
        ColumnKind::Date => write_json_string(out, &row.try_get_unchecked::<NaiveDate, _>(i)?.to_string()),
        ColumnKind::Time => write_json_string(out, &row.try_get_unchecked::<NaiveTime, _>(i)?.to_string()),
        ColumnKind::Timestamp => write_json_string(out, &timestamp(row.try_get_unchecked::<NaiveDateTime, _>(i)?)),
        ColumnKind::TimestampTz => write_json_string(
            out,
            &row.try_get_unchecked::<DateTime<Utc>, _>(i)?.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        ),
        ColumnKind::Interval => write_json_string(out, &interval(&row.try_get_unchecked::<PgInterval, _>(i)?)),
        ColumnKind::Array(element) => encode_array(out, row, i, element, type_name)?,
        ColumnKind::Any | ColumnKind::Raw => {
            let kind = toolbox_config::types::column_kind(toolbox_config::model::Engine::Postgres, type_name);
            if matches!(kind, ColumnKind::Any | ColumnKind::Raw) {
                // Enums and other types without an encoder: their text form.
                let raw = row.try_get_raw(i)?;
                match raw.format() {
                    PgValueFormat::Text => write_json_string(out, raw.as_str().map_err(sqlx::Error::Decode)?),
                    PgValueFormat::Binary => write_raw(out, raw.as_bytes().map_err(sqlx::Error::Decode)?),
                }
            } else {
                return encode_typed(out, row, i, kind, type_name);
            }
        }
    }
    Ok(())
}

fn encode_array(
    out: &mut Vec<u8>,
    row: &PgRow,
    i: usize,
    element: Element,
    type_name: &str,
) -> Result<(), sqlx::Error> {
    fn list<T>(out: &mut Vec<u8>, items: Vec<Option<T>>, mut write: impl FnMut(&mut Vec<u8>, T)) {
        out.push(b'[');
        for (n, item) in items.into_iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            match item {
                Some(v) => write(out, v),
                None => out.extend_from_slice(b"null"),
            }
        }
        out.push(b']');
    }
    match element {
        Element::Integer => match type_name {
            "INT2[]" => list(out, row.try_get_unchecked::<Vec<Option<i16>>, _>(i)?, |o, v| write_i64(o, v.into())),
            "INT4[]" => list(out, row.try_get_unchecked::<Vec<Option<i32>>, _>(i)?, |o, v| write_i64(o, v.into())),
            _ => list(out, row.try_get_unchecked::<Vec<Option<i64>>, _>(i)?, write_i64),
        },
        Element::Real => match type_name {
            "FLOAT4[]" => list(out, row.try_get_unchecked::<Vec<Option<f32>>, _>(i)?, |o, v| write_f64(o, v.into())),
            _ => list(out, row.try_get_unchecked::<Vec<Option<f64>>, _>(i)?, write_f64),
        },
        Element::Decimal => {
            list(out, row.try_get_unchecked::<Vec<Option<Numeric>>, _>(i)?, |o, v| write_decimal(o, &v.0))
        }
        Element::Boolean => list(out, row.try_get_unchecked::<Vec<Option<bool>>, _>(i)?, write_bool),
        Element::Uuid => list(out, row.try_get_unchecked::<Vec<Option<Uuid>>, _>(i)?, |o, v| {
            write_json_string(o, &v.hyphenated().to_string())
        }),
        Element::Date => list(out, row.try_get_unchecked::<Vec<Option<NaiveDate>>, _>(i)?, |o, v| {
            write_json_string(o, &v.to_string())
        }),
        Element::Timestamp => list(out, row.try_get_unchecked::<Vec<Option<NaiveDateTime>>, _>(i)?, |o, v| {
            write_json_string(o, &timestamp(v))
        }),
        Element::TimestampTz => list(out, row.try_get_unchecked::<Vec<Option<DateTime<Utc>>>, _>(i)?, |o, v| {
            write_json_string(o, &v.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        }),
        Element::Json => {
            list(out, row.try_get_unchecked::<Vec<Option<sqlx::types::Json<Box<JsonRawValue>>>>, _>(i)?, |o, v| {
                o.extend_from_slice(v.0.get().as_bytes())
            })
        }
        // Text, enums and the rest: every element's text.
        Element::Text | Element::Raw => {
            list(out, row.try_get_unchecked::<Vec<Option<String>>, _>(i)?, |o, v| write_json_string(o, &v))
        }
    }
    Ok(())
}

/// A `numeric` as exact decimal text with the column's scale (`49.00`), read from the wire
/// format directly: a general decimal type would drop or invent trailing zeros.
struct Numeric(String);

impl sqlx::Type<Postgres> for Numeric {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        sqlx::postgres::PgTypeInfo::with_name("numeric")
    }
}

impl sqlx::postgres::PgHasArrayType for Numeric {
    fn array_type_info() -> sqlx::postgres::PgTypeInfo {
        sqlx::postgres::PgTypeInfo::with_name("_numeric")
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for Numeric {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        match value.format() {
            PgValueFormat::Text => Ok(Numeric(value.as_str()?.to_string())),
            PgValueFormat::Binary => {
                numeric_text(value.as_bytes()?).map(Numeric).ok_or_else(|| "malformed numeric".into())
            }
        }
    }
}

/// The binary `numeric`: digit count, weight (of the first base-10000 digit), sign, display
/// scale, then the base-10000 digits.
fn numeric_text(bytes: &[u8]) -> Option<String> {
    let word = |i: usize| bytes.get(i * 2..i * 2 + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let (count, weight, sign, scale) = (word(0)? as usize, word(1)? as i16 as i32, word(2)?, word(3)? as usize);
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..count).map(|i| word(4 + i)).collect::<Option<_>>()?;
    let digit = |position: i32| -> u16 {
        // The base-10000 digit at `position` (weight counts down from the first digit).
        let index = weight - position;
        if index < 0 || index as usize >= digits.len() { 0 } else { digits[index as usize] }
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        text.push_str(&digit(weight).to_string());
        for position in (0..weight).rev() {
            text.push_str(&format!("{:04}", digit(position)));
        }
    }
    if scale > 0 {
        text.push('.');
        let mut fraction = String::new();
        let mut position = -1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", digit(position)));
            position -= 1;
        }
        fraction.truncate(scale);
        text.push_str(&fraction);
    }
    Some(text)
}

/// `2025-01-01T00:37:00` (no zone: the column has none), with fractional seconds when present.
fn timestamp(v: NaiveDateTime) -> String {
    v.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
}

/// An ISO 8601 duration: `P1Y2M3DT4H5M6.5S`; `PT0S` for zero.
fn interval(v: &PgInterval) -> String {
    let mut s = String::from("P");
    let (years, months) = (v.months / 12, v.months % 12);
    if years != 0 {
        s.push_str(&format!("{years}Y"));
    }
    if months != 0 {
        s.push_str(&format!("{months}M"));
    }
    if v.days != 0 {
        s.push_str(&format!("{}D", v.days));
    }
    let micros = v.microseconds;
    if micros != 0 || s == "P" {
        s.push('T');
        let (hours, rest) = (micros / 3_600_000_000, micros % 3_600_000_000);
        let (minutes, rest) = (rest / 60_000_000, rest % 60_000_000);
        if hours != 0 {
            s.push_str(&format!("{hours}H"));
        }
        if minutes != 0 {
            s.push_str(&format!("{minutes}M"));
        }
        if rest != 0 || (hours == 0 && minutes == 0) {
            let seconds = rest as f64 / 1_000_000.0;
            s.push_str(&format!("{seconds}S"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(count: u16, weight: i16, sign: u16, scale: u16, digits: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [count, weight as u16, sign, scale].iter().chain(digits) {
            b.extend_from_slice(&w.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_keep_their_scale() {
        assert_eq!(numeric_text(&numeric(2, 0, 0, 2, &[62, 100])).unwrap(), "62.01");
        assert_eq!(numeric_text(&numeric(1, 0, 0, 2, &[49])).unwrap(), "49.00");
        assert_eq!(numeric_text(&numeric(3, 1, 0x4000, 3, &[12, 3456, 7800])).unwrap(), "-123456.780");
        assert_eq!(numeric_text(&numeric(1, -1, 0, 5, &[12])).unwrap(), "0.00120");
        assert_eq!(numeric_text(&numeric(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric_text(&numeric(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
    }

    #[test]
    fn intervals_are_iso_8601() {
        assert_eq!(
            interval(&PgInterval { months: 14, days: 3, microseconds: 4 * 3_600_000_000 + 5 * 60_000_000 + 6_500_000 }),
            "P1Y2M3DT4H5M6.5S"
        );
        assert_eq!(interval(&PgInterval { months: 0, days: 0, microseconds: 0 }), "PT0S");
        assert_eq!(interval(&PgInterval { months: 0, days: -1, microseconds: 0 }), "P-1D");
    }
}
