//! The declarative tables of the code generator: the JSON Schema of each column kind, and which
//! declared parameter types a PostgreSQL placeholder accepts.

use serde_json::{Value, json};
use toolbox_config::model::{Param, ParamType};
pub use toolbox_config::types::{Element, Kind, column_kind, element_kind};

/// The JSON Schema of a value of this kind (without nullability).
pub fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Integer | Kind::UnsignedInteger => json!({"type": "integer"}),
        Kind::Real | Kind::Decimal => json!({"type": "number"}),
        Kind::Boolean => json!({"type": "boolean"}),
        Kind::Text | Kind::Raw | Kind::Time | Kind::Interval => json!({"type": "string"}),
        Kind::Blob => json!({"type": "string", "contentEncoding": "base64"}),
        Kind::Uuid => json!({"type": "string", "format": "uuid"}),
        Kind::Date => json!({"type": "string", "format": "date"}),
        Kind::Timestamp | Kind::TimestampTz => json!({"type": "string", "format": "date-time"}),
        Kind::Json | Kind::Any => json!({}),
        Kind::Array(e) => json!({"type": "array", "items": kind_schema(element_kind(e))}),
    }
}

/// Whether a declared parameter type can bind to a PostgreSQL placeholder the server typed as
/// `described`. The toolbox binds strings as `text`, integers as `int8`, floats as `float8`,
/// booleans as `bool`, arrays as arrays of those and maps as `jsonb`; PostgreSQL converts those
/// to what the statement needs only where an implicit cast exists. An explicit cast on the
/// placeholder (`$1::uuid`) makes any text work.
pub fn check_parameter(param: &Param, described: &str, sql: &str, number: usize) -> Result<(), String> {
    let text_like = |t: &str| matches!(t, "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" | "UNKNOWN");
    let numeric = |t: &str| matches!(t, "INT2" | "INT4" | "INT8" | "NUMERIC" | "FLOAT4" | "FLOAT8" | "OID");
    let ok = match param.ty {
        ParamType::String => text_like(described) || placeholder_is_cast(sql, number),
        ParamType::Integer => numeric(described),
        ParamType::Float => matches!(described, "FLOAT4" | "FLOAT8" | "NUMERIC"),
        ParamType::Boolean => described == "BOOL",
        ParamType::Map => matches!(described, "JSON" | "JSONB"),
        ParamType::Array => match (described.strip_suffix("[]"), param.items.as_deref().map(|i| i.ty)) {
            (Some(e), Some(ParamType::String)) => text_like(e) || placeholder_is_cast(sql, number),
            (Some(e), Some(ParamType::Integer)) => numeric(e),
            (Some(e), Some(ParamType::Float)) => matches!(e, "FLOAT4" | "FLOAT8" | "NUMERIC"),
            (Some(e), Some(ParamType::Boolean)) => e == "BOOL",
            _ => matches!(described, "JSON" | "JSONB"),
        },
    };
    if ok {
        return Ok(());
    }
    let suggestion = match described.trim_end_matches("[]") {
        t if numeric(t) && matches!(t, "INT2" | "INT4" | "INT8" | "OID") => "integer",
        "FLOAT4" | "FLOAT8" | "NUMERIC" => "float",
        "BOOL" => "boolean",
        "JSON" | "JSONB" => "map",
        _ => "string",
    };
    let suggestion = if described.ends_with("[]") { format!("array of {suggestion}") } else { suggestion.to_string() };
    Err(format!(
        "declare it `{suggestion}`, or cast the placeholder in the statement (e.g. `${number}::{}`) so the value is converted",
        described.to_ascii_lowercase()
    ))
}

/// Whether `$n` is followed by `::` somewhere in the statement.
fn placeholder_is_cast(sql: &str, number: usize) -> bool {
    let needle = format!("${number}");
    sql.match_indices(&needle).any(|(i, _)| {
        let rest = &sql[i + needle.len()..];
        !rest.starts_with(|c: char| c.is_ascii_digit()) && rest.trim_start().starts_with("::")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_on_placeholders() {
        assert!(placeholder_is_cast("SELECT * FROM t WHERE id = $1::uuid", 1));
        assert!(placeholder_is_cast("WHERE a = $1 :: uuid", 1));
        assert!(!placeholder_is_cast("WHERE a = $10::uuid AND b = $1", 1));
    }
}
