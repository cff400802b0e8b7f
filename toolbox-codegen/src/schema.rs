//! The JSON that `tools/list` and `prompts/list` serve, made once at build time: input and output
//! schemas, annotations, and each toolset's lists for every protocol generation.

use crate::describe::DescribedColumn;
use serde_json::{Map, Value, json};
use toolbox_config::model::*;

/// The result columns of a statement, or `None` when it returns no rows.
pub type Columns = Option<Vec<DescribedColumn>>;

/// JSON Schema of a parameter.
pub fn param_schema(p: &Param) -> Value {
    let mut s = Map::new();
    s.insert("type".into(), json!(p.ty.json_type()));
    let mut description = p.description.clone();
    if !p.auth_services.is_empty() {
        let services: Vec<&str> = p.auth_services.iter().map(|a| a.service.value.as_str()).collect();
        let note =
            format!("Set from the caller's verified token ({}); any value sent is ignored.", services.join(" or "));
        description = if description.is_empty() { note } else { format!("{description} {note}") };
    }
    if !description.is_empty() {
        s.insert("description".into(), json!(description));
    }
    if let Some(d) = &p.default {
        s.insert("default".into(), d.value.clone());
    }
    if !p.allowed_values.is_empty() {
        s.insert("enum".into(), Value::Array(p.allowed_values.iter().map(|v| v.value.clone()).collect()));
    }
    if let Some(min) = &p.min_value {
        s.insert("minimum".into(), number(min.value));
    }
    if let Some(max) = &p.max_value {
        s.insert("maximum".into(), number(max.value));
    }
    if let Some(items) = &p.items {
        s.insert("items".into(), param_schema(items));
    }
    if let Some(header) = &p.mcp_header {
        s.insert("x-mcp-header".into(), json!(header.value));
    }
    if p.ty == ParamType::Map {
        let values = p.value_type.map_or(json!({}), |t| json!({"type": t.json_type()}));
        s.insert("additionalProperties".into(), values);
    }
    Value::Object(s)
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 { json!(n as i64) } else { json!(n) }
}

/// The `inputSchema` of a tool. Template parameters are ordinary properties; copied parameters
/// are hidden; authenticated ones are listed (with a note) but never required.
pub fn input_schema(params: &[&Param]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in params {
        if p.value_from_param.is_some() {
            continue;
        }
        properties.insert(p.name.value.clone(), param_schema(p));
        if p.is_required() && p.auth_services.is_empty() {
            required.push(json!(p.name.value));
        }
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// The JSON Schema of one column value, from its described type and nullability.
pub fn column_schema(engine: Engine, c: &DescribedColumn) -> Value {
    let s = if engine == Engine::Sqlite && c.kind.is_none() {
        sqlite_schema(&c.type_name)
    } else {
        crate::types::kind_schema(c.json_kind(engine))
    };
    if c.nullable != Some(false) { crate::types::nullable(s) } else { s }
}

/// What a SQLite column whose storage class is not certain can hold: any class (an integer or a
/// real is a number, text and a blob in base64 are strings), except what its affinity converts.
/// A TEXT-affinity column converts numbers to text; an integer in a BOOLEAN column is a boolean.
fn sqlite_schema(declared: &str) -> Value {
    match declared {
        "TEXT" => json!({"type": "string"}),
        "BOOLEAN" => json!({"type": ["boolean", "number", "string"]}),
        _ => json!({"type": ["number", "string"]}),
    }
}

/// The `outputSchema` of a SQL tool: `{rows: [...]}` (with `truncated` when `maxRows` may cut
/// the result) or `{rowsAffected: n}`.
pub fn output_schema(engine: Engine, columns: &Columns, truncatable: bool) -> Value {
    match columns {
        Some(columns) => {
            let mut properties = Map::new();
            for c in columns {
                properties.insert(c.name.clone(), column_schema(engine, c));
            }
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            let mut schema = json!({
                "type": "object",
                "properties": {"rows": {"type": "array", "items": {"type": "object", "properties": properties, "required": names}}},
                "required": ["rows"]
            });
            if truncatable {
                schema["properties"]["truncated"] =
                    json!({"type": "boolean", "description": "true when rows beyond maxRows were left out"});
            }
            schema
        }
        None => json!({
            "type": "object",
            "properties": {"rowsAffected": {"type": "integer", "minimum": 0}},
            "required": ["rowsAffected"]
        }),
    }
}

/// Whether a statement only reads, judged by its first keyword (a hint for clients, not a guard).
pub fn reads_only(statement: &str) -> bool {
    let text = strip_comments(statement).to_ascii_uppercase();
    let first = text.split_whitespace().next().unwrap_or("");
    let writes = ["INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"];
    match first {
        "SELECT" | "VALUES" => true,
        "WITH" => !text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| writes.contains(&w)),
        _ => false,
    }
}

fn strip_comments(sql: &str) -> String {
    sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The annotations a tool advertises: what `tools.yaml` says, else inferred from the statement
/// (or, for client SQL, from `readOnly`, which the engine enforces).
pub fn annotations(tool: &Tool, source_read_only: bool) -> Value {
    let inferred_read_only =
        source_read_only || tool.read_only || tool.statement.as_ref().is_some_and(|s| reads_only(&s.value));
    let read_only = tool.annotations.read_only_hint.unwrap_or(inferred_read_only);
    let mut a = Map::new();
    a.insert("readOnlyHint".into(), json!(read_only));
    if !read_only {
        a.insert("destructiveHint".into(), json!(tool.annotations.destructive_hint.unwrap_or(true)));
        if let Some(i) = tool.annotations.idempotent_hint {
            a.insert("idempotentHint".into(), json!(i));
        }
    }
    a.insert("openWorldHint".into(), json!(tool.annotations.open_world_hint.unwrap_or(false)));
    Value::Object(a)
}

/// The `tools/list` entry of a tool for each generation: 2024-11-05, 2025-03-26,
/// 2025-06-18 to 2025-11-25, and 2026-07-28 (the order of `ToolShape` in the runtime).
///
/// Every generation carries the `_meta` the reference's SDKs read to know which services'
/// tokens a tool needs: `toolbox/authParam` (`{parameter: [services]}`, the parameters filled
/// from a token's claim) and `toolbox/authInvoke` (the services of `authRequired`). At
/// 2026-07-28 the same two are also given as `com.google.cloud/authParam` and
/// `com.google.cloud/authInvoke`, the keys the SDKs read at that version.
pub fn tool_entries(tool: &Tool, params: &[&Param], output: Option<Value>, annotations: Value) -> [Value; 4] {
    let auth_params: Map<String, Value> = params
        .iter()
        .filter(|p| !p.auth_services.is_empty())
        .map(|p| {
            (p.name.value.clone(), json!(p.auth_services.iter().map(|a| a.service.value.clone()).collect::<Vec<_>>()))
        })
        .collect();
    let auth_invoke: Vec<&str> = tool.auth_required.iter().map(|a| a.value.as_str()).collect();
    let meta = |prefixes: &[&str]| -> Option<Value> {
        let mut meta = Map::new();
        for prefix in prefixes {
            if !auth_params.is_empty() {
                meta.insert(format!("{prefix}/authParam"), Value::Object(auth_params.clone()));
            }
            if !auth_invoke.is_empty() {
                meta.insert(format!("{prefix}/authInvoke"), json!(auth_invoke));
            }
        }
        (!meta.is_empty()).then_some(Value::Object(meta))
    };
    let legacy_meta = meta(&["toolbox"]);
    let with_meta = |mut entry: Map<String, Value>, meta: &Option<Value>| {
        if let Some(meta) = meta {
            entry.insert("_meta".into(), meta.clone());
        }
        Value::Object(entry)
    };
    let mut base = Map::new();
    base.insert("name".into(), json!(tool.name.value));
    base.insert("description".into(), json!(tool.description));
    base.insert("inputSchema".into(), input_schema(params));
    let v2024 = with_meta(base.clone(), &legacy_meta);
    base.insert("annotations".into(), annotations);
    let v2025 = with_meta(base.clone(), &legacy_meta);
    if let Some(output) = output {
        base.insert("outputSchema".into(), output);
    }
    let v2025_06 = with_meta(base.clone(), &legacy_meta);
    let v2026 = with_meta(base, &meta(&["toolbox", "com.google.cloud"]));
    [v2024, v2025, v2025_06, v2026]
}

/// The `prompts/list` entry of a prompt.
pub fn prompt_entry(prompt: &Prompt) -> Value {
    let arguments: Vec<Value> = prompt
        .arguments
        .iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("name".into(), json!(a.name.value));
            if !a.description.is_empty() {
                m.insert("description".into(), json!(a.description));
            }
            m.insert("required".into(), json!(a.is_required()));
            Value::Object(m)
        })
        .collect();
    let mut m = Map::new();
    m.insert("name".into(), json!(prompt.name.value));
    if !prompt.description.is_empty() {
        m.insert("description".into(), json!(prompt.description));
    }
    m.insert("arguments".into(), Value::Array(arguments));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_inference() {
        assert!(reads_only("-- find\nSELECT * FROM t"));
        assert!(reads_only("with x as (select 1) select * from x"));
        assert!(!reads_only("WITH x AS (SELECT 1) DELETE FROM t"));
        assert!(!reads_only("UPDATE t SET a = 1 RETURNING a"));
    }

    #[test]
    fn nullable_columns_allow_null() {
        let c = DescribedColumn { name: "n".into(), type_name: "INTEGER".into(), nullable: None, kind: None };
        assert_eq!(column_schema(Engine::Sqlite, &c), json!({"type": ["number", "string", "null"]}));
        let exact = DescribedColumn { kind: Some("Integer".into()), nullable: Some(false), ..c };
        assert_eq!(column_schema(Engine::Sqlite, &exact), json!({"type": "integer"}));
        let c =
            DescribedColumn { name: "t".into(), type_name: "TIMESTAMPTZ".into(), nullable: Some(false), kind: None };
        assert_eq!(column_schema(Engine::Postgres, &c), json!({"type": "string", "format": "date-time"}));
    }
}
