//! The declarative tables of the code generator: the JSON Schema of each column kind, and the
//! hint for a parameter whose type does not fit its PostgreSQL placeholder.

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
        // Elements may be NULL, and a PostgreSQL array may have more than one dimension (its type
        // does not say how many): an element may be an array of elements.
        Kind::Array(e) => {
            let mut items = nullable(kind_schema(element_kind(e)));
            if let Some(Value::Array(types)) = items.get_mut("type") {
                types.insert(1, json!("array"));
            }
            json!({"type": "array", "items": items})
        }
    }
}

/// A schema that also allows `null`.
pub fn nullable(mut schema: Value) -> Value {
    match schema.get_mut("type") {
        Some(Value::Array(types)) => types.push(json!("null")),
        Some(t) => *t = json!([t.take(), "null"]),
        None => {}
    }
    schema
}

/// The hint for a parameter that PostgreSQL cannot take as it is sent: the declared type that
/// fits the placeholder (unless that is already the declared type), and the cast that converts
/// the value in the statement.
pub fn parameter_hint(param: &Param, described: &str, number: usize) -> String {
    let element = described.trim_end_matches("[]");
    let fitting = match element {
        "INT2" | "INT4" | "INT8" | "OID" => ParamType::Integer,
        "FLOAT4" | "FLOAT8" | "NUMERIC" => ParamType::Float,
        "BOOL" => ParamType::Boolean,
        "JSON" | "JSONB" => ParamType::Map,
        _ => ParamType::String,
    };
    let lower = described.to_ascii_lowercase();
    let cast = format!("`${number}::{lower}` or `CAST(${number} AS {lower})`");
    let (declared_fits, suggestion) = if described.ends_with("[]") {
        let items = param.items.as_deref().map(|i| i.ty);
        (param.ty == ParamType::Array && items == Some(fitting), format!("an array of `{}`", fitting.type_name()))
    } else {
        (param.ty == fitting, format!("`{}`", fitting.type_name()))
    };
    if declared_fits {
        format!("cast the placeholder in the statement so PostgreSQL converts the value: {cast}")
    } else {
        format!(
            "declare it {suggestion}, or cast the placeholder in the statement so PostgreSQL converts the value: {cast}"
        )
    }
}
