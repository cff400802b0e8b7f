//! The prebuilt sets (`include: prebuilt:NAME`), each compiled by the `toolbox!` macro and
//! pointed at a source of the test's, every tool called against the real engine and its answer
//! compared with what the engine's own catalog commands say (`SHOW`, `PRAGMA`,
//! `information_schema`, sizes by relation), not with the tool's statement.

mod mysql;
mod postgres;
mod sqlite;

use serde_json::{Value, json};
use toolbox_runtime::mcp::Mcp;
use toolbox_runtime::testing;

pub mod pg_box {
    toolbox_macros::toolbox!("postgres.yaml");
}

pub mod my_box {
    toolbox_macros::toolbox!("mysql.yaml");
}

pub mod lite_box {
    toolbox_macros::toolbox!("sqlite.yaml");
}

/// The schema of every test database.
pub const SCHEMA: &str = include_str!("schema.sql");

/// The rows a tool answers; fails the test on an error result.
pub async fn rows(mcp: &Mcp, tool: &str, arguments: Value) -> Vec<Value> {
    let result = testing::call(mcp, tool, arguments).await;
    assert_ne!(result["isError"], true, "{tool}: {result}");
    result["structuredContent"]["rows"].as_array().unwrap_or_else(|| panic!("{tool}: rows in {result}")).clone()
}

/// One column of every row, as strings, sorted.
pub fn column(rows: &[Value], name: &str) -> Vec<String> {
    let mut values: Vec<String> = rows
        .iter()
        .map(|r| match &r[name] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    values.sort();
    values
}

/// The toolsets each set defines, with their tools, as the toolbox serves them.
pub fn toolsets(toolbox: &toolbox_runtime::Toolbox) -> Value {
    let sets: Vec<Value> = toolbox
        .toolsets
        .iter()
        .filter_map(|t| {
            let tools: Vec<&str> = t.tools?.iter().map(|&i| toolbox.tools[i as usize].name).collect();
            Some(json!({"name": t.name, "tools": tools}))
        })
        .collect();
    json!(sets)
}

/// The table names a `*-list-tables` tool answers in its `simple` format (its `object_details`
/// are JSON, or JSON text where the engine types them as text), sorted.
pub fn listed_names(rows: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = rows
        .iter()
        .map(|r| {
            let details = match &r["object_details"] {
                Value::String(text) => serde_json::from_str(text).expect("JSON text"),
                other => other.clone(),
            };
            details["name"].as_str().unwrap_or_else(|| panic!("a name in {r}")).to_string()
        })
        .collect();
    names.sort();
    names
}
