//! What every engine's matrix shares: the generated cases, calling a tool in-process, comparing
//! an answer with what the engine's own client printed, and the runs the issue asks for (fresh
//! connections one caller at a time; after the start-up comparison, reused connections at 16
//! callers; client SQL through both protocols).

#![allow(dead_code)]

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use toolbox_runtime::args::NoClaims;
use toolbox_runtime::mcp::{Headers, Mcp, Transport};

/// One generated case: a tool, its arguments, and the statement the engine's client runs for it
/// (the tool's statement with the argument written in as a literal).
#[derive(Clone, Debug)]
pub struct Case {
    pub tool: String,
    pub arguments: Value,
    pub kind: String,
    pub client_sql: String,
}

pub fn load_cases(json: &str, client_key: &str) -> Vec<Case> {
    let cases: Vec<Value> = serde_json::from_str(json).expect("the cases file is JSON");
    cases
        .into_iter()
        .map(|c| Case {
            tool: c["tool"].as_str().unwrap().to_string(),
            arguments: c["arguments"].clone(),
            kind: c["kind"].as_str().unwrap().to_string(),
            client_sql: c[client_key].as_str().unwrap().to_string(),
        })
        .collect()
}

/// Whether a service answers on a loopback port; without it the test skips, except under CI.
pub fn service_reachable(name: &str, port: u16) -> bool {
    if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        return true;
    }
    assert!(std::env::var("CI").is_err(), "CI=true and {name} is not reachable on 127.0.0.1:{port}");
    eprintln!("skipping: {name} is not reachable on 127.0.0.1:{port}");
    false
}

async fn request(mcp: &Mcp, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let toolset = mcp.toolbox.toolset(None).unwrap();
    let headers = Headers { protocol_version: Some("2025-11-25"), ..Default::default() };
    let reply = mcp.handle_body(toolset, body.as_bytes(), Transport::Http(headers), &NoClaims).await;
    serde_json::from_slice(&reply.body.expect("a tools/call has an answer")).expect("the answer is JSON")
}

/// The rows a tool answered (`[{"rowsAffected": n}]` for a statement without rows), or its error.
pub async fn call(mcp: &Mcp, tool: &str, arguments: &Value) -> Result<Value, String> {
    let answer = request(mcp, "tools/call", json!({"name": tool, "arguments": arguments})).await;
    let result = &answer["result"];
    if result["isError"] == true || result.is_null() {
        return Err(format!("{answer}"));
    }
    let structured = &result["structuredContent"];
    if let Some(rows) = structured.get("rows") {
        return Ok(rows.clone());
    }
    // Client SQL has no output schema: its rows are the text content.
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    serde_json::from_str(text).map_err(|e| format!("the text content is not JSON ({e}): {text}"))
}

/// The `outputSchema` of every tool, by name.
pub async fn output_schemas(mcp: &Mcp) -> std::collections::HashMap<String, Value> {
    let answer = request(mcp, "tools/list", json!({})).await;
    answer["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t["outputSchema"].clone()))
        .collect()
}

/// The schema of one row's columns, from a tool's `outputSchema`.
pub fn column_schemas(output: &Value) -> &Value {
    &output["properties"]["rows"]["items"]["properties"]
}

/// Rewrites an expected value (what the client printed) into the form the toolbox documents for
/// the column's JSON Schema, leaf by leaf (`leaf` knows the engine's spellings), through arrays.
pub fn normalise(expected: &Value, schema: &Value, leaf: &dyn Fn(&Value, &Value) -> Value) -> Value {
    match (expected, schema.get("items")) {
        (Value::Array(items), Some(item_schema)) => {
            Value::Array(items.iter().map(|v| normalise(v, item_schema, leaf)).collect())
        }
        (Value::Null, _) => Value::Null,
        _ => leaf(expected, schema),
    }
}

/// Checks a value against the type its column's schema states.
pub fn fits_schema(value: &Value, schema: &Value) -> bool {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return true,
    };
    let fits = |t: &str| match t {
        "null" => value.is_null(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number() || value.as_str().is_some_and(|s| ["NaN", "Infinity", "-Infinity"].contains(&s)),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "array" => value.as_array().is_some_and(|a| {
            // An element of a multi-dimensional array is itself an array of elements.
            a.iter().all(|v| fits_schema(v, &schema["items"]) || (v.is_array() && fits_schema(v, schema)))
        }),
        "object" => value.is_object(),
        _ => true,
    };
    types.iter().any(|t| fits(t))
}

/// Equality of JSON values, numbers by value (`1234567.0` is `1234567`, `-0.0` is `0`). An
/// expected `{"$float": n}` is a single-precision number the engine's client printed to 6
/// significant digits (MySQL's FLOAT), which the answer must round to.
pub fn same(a: &Value, b: &Value) -> bool {
    if let Some(n) = b.get("$float").and_then(Value::as_f64) {
        let digits = |x: f64| format!("{x:.5e}");
        return a.as_f64().is_some_and(|x| digits(x) == digits(n));
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Compares the rows of one answer with the expected rows; the problems, described.
pub fn compare_rows(
    case: &str,
    got: &Value,
    expected: &Value,
    columns: &Value,
    leaf: &dyn Fn(&Value, &Value) -> Value,
) -> Vec<String> {
    let (Some(got_rows), Some(expected_rows)) = (got.as_array(), expected.as_array()) else {
        // A statement without rows answers `{"rowsAffected": n}`.
        if same(got, expected) {
            return Vec::new();
        }
        return vec![format!("{case}: expected {expected}, got {got}")];
    };
    if got_rows.len() != expected_rows.len() {
        return vec![format!(
            "{case}: {} rows, expected {}: got {got}, expected {expected}",
            got_rows.len(),
            expected_rows.len()
        )];
    }
    let mut problems = Vec::new();
    for (i, (g, e)) in got_rows.iter().zip(expected_rows).enumerate() {
        let Some(e) = e.as_object() else { continue };
        for (name, expected_value) in e {
            let schema = columns.get(name).unwrap_or(&Value::Null);
            let want = normalise(expected_value, schema, leaf);
            let value = g.get(name).unwrap_or(&Value::Null);
            if !same(value, &want) {
                problems.push(format!("{case}: row {i}, column `{name}`: got {value}, the client printed {expected_value} (expected {want})"));
            } else if !fits_schema(value, schema) {
                problems
                    .push(format!("{case}: row {i}, column `{name}`: {value} does not fit its outputSchema {schema}"));
            }
        }
    }
    problems
}

/// Calls every case, `callers` at a time, `rounds` times over; the problems found.
pub async fn run_cases(
    mcp: Arc<Mcp>,
    cases: Arc<Vec<Case>>,
    expected: Arc<Vec<Result<Value, String>>>,
    schemas: Arc<std::collections::HashMap<String, Value>>,
    callers: usize,
    rounds: usize,
    leaf: fn(&Value, &Value) -> Value,
) -> Vec<String> {
    let next = Arc::new(AtomicUsize::new(0));
    let total = cases.len() * rounds;
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (mcp, cases, expected, schemas, next) =
                (mcp.clone(), cases.clone(), expected.clone(), schemas.clone(), next.clone());
            tokio::spawn(async move {
                let mut problems = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= total {
                        return problems;
                    }
                    let i = n % cases.len();
                    let case = &cases[i];
                    let Ok(want) = &expected[i] else { continue };
                    match call(&mcp, &case.tool, &case.arguments).await {
                        Ok(rows) => {
                            let columns = column_schemas(&schemas[&case.tool]);
                            problems.extend(compare_rows(&case.tool, &rows, want, columns, &leaf));
                        }
                        Err(e) => problems.push(format!("{}: {e}", case.tool)),
                    }
                }
            })
        })
        .collect();
    let mut problems = Vec::new();
    for t in tasks {
        problems.extend(t.await.expect("a caller task"));
    }
    problems
}
