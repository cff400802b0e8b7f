//! The PostgreSQL type matrix (`gen_postgres.py`): every result type and every parameter type the
//! build accepts, each answer compared with what `psql` prints for the same statement (the
//! argument written in as a literal), as `to_jsonb`, which is PostgreSQL's own JSON of a value.
//!
//! The toolbox's documented spellings differ from PostgreSQL's JSON in three places, which the
//! comparison rewrites by the column's `outputSchema`: `bytea` is base64 (PostgreSQL: `\x` hex),
//! `timestamptz` ends in `Z` (PostgreSQL: `+00:00`), and `oid`/`xid`/`cid`/`xid8` are numbers
//! (PostgreSQL: strings). Intervals are compared in ISO 8601 (`intervalstyle = iso_8601` in psql).
//!
//! Runs: on fresh connections one call at a time; after the start-up comparison (which prepares
//! every statement on pooled connections), on reused connections at 16 callers, twice over; and
//! every result table again as client SQL through the simple protocol (values as text) and the
//! extended one (read-only, values in binary).

mod support;

use base64::Engine as _;
use serde_json::Value;
use std::process::Command;
use std::sync::Arc;
use support::*;
use toolbox_runtime::mcp::Mcp;
use toolbox_runtime::testing;

fn psql(database: &str) -> Command {
    let mut c = Command::new("psql");
    c.args(["-h", "127.0.0.1", "-U", "postgres", "-d", database, "-X", "-q", "-A", "-t"]);
    c.env("PGTZ", "UTC").env("PGOPTIONS", "-c intervalstyle=iso_8601");
    c
}

/// A database made from `postgres.sql` for this run, dropped at the end.
struct TestDb(String);

impl TestDb {
    fn create() -> TestDb {
        let name = format!("toolbox_matrix_test_{}", std::process::id());
        let admin = |sql: &str| {
            let out = psql("postgres").args(["-c", sql]).output().expect("psql runs");
            assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
        };
        admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        admin(&format!("CREATE DATABASE {name}"));
        let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/postgres.sql");
        let out = psql(&name).args(["-v", "ON_ERROR_STOP=1", "-f", schema]).output().expect("psql runs");
        assert!(out.status.success(), "postgres.sql: {}", String::from_utf8_lossy(&out.stderr));
        TestDb(name)
    }

    fn mcp(&self) -> Mcp {
        testing::mcp(
            &toolbox_matrix::postgres::TOOLBOX,
            &testing::env(&[("PGDATABASE", self.0.as_str()), ("PGHOST", "127.0.0.1"), ("PGUSER", "postgres")]),
        )
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = psql("postgres").args(["-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0)]).output();
    }
}

/// What psql prints for each case: the rows of its statement as `jsonb_agg(to_jsonb(row))`.
fn expectations(db: &TestDb, cases: &[Case]) -> Vec<Result<Value, String>> {
    let mut script = String::new();
    for (i, case) in cases.iter().enumerate() {
        script.push_str(&format!(
            "\\echo ==case {i}\nWITH q AS ({}) SELECT coalesce(jsonb_agg(to_jsonb(q)), '[]') FROM q;\n",
            case.client_sql
        ));
    }
    let out = psql(&db.0)
        .arg("-f")
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .expect("psql runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut results: Vec<Result<Value, String>> =
        vec![Err(format!("psql printed nothing: {}", String::from_utf8_lossy(&out.stderr))); cases.len()];
    let mut current = None;
    for line in stdout.lines() {
        if let Some(n) = line.strip_prefix("==case ") {
            current = n.parse::<usize>().ok();
        } else if let Some(i) = current.take() {
            results[i] = serde_json::from_str(line).map_err(|e| format!("psql printed {line}: {e}"));
        }
    }
    results
}

/// PostgreSQL's JSON of a value, in the toolbox's documented spelling for the column's schema.
fn leaf(expected: &Value, schema: &Value) -> Value {
    let Some(text) = expected.as_str() else { return expected.clone() };
    let types = schema["type"].to_string();
    if schema["contentEncoding"] == "base64" {
        if let Some(hex) = text.strip_prefix("\\x") {
            let bytes: Vec<u8> =
                (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap()).collect();
            return Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
    }
    if schema["format"] == "date-time" {
        if let Some(utc) = text.strip_suffix("+00:00") {
            return Value::String(format!("{utc}Z"));
        }
    }
    if types.contains("integer") {
        if let Ok(n) = text.parse::<u64>() {
            return Value::from(n);
        }
    }
    expected.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_answers_as_psql_prints_it() {
    if !service_reachable("PostgreSQL", 5432) {
        return;
    }
    let db = TestDb::create();
    let cases = load_cases(include_str!("../postgres.cases.json"), "psql");
    let expected = expectations(&db, &cases);
    let mut problems: Vec<String> =
        cases.iter().zip(&expected).filter_map(|(c, e)| e.as_ref().err().map(|e| format!("{}: {e}", c.tool))).collect();
    let (cases, expected) = (Arc::new(cases), Arc::new(expected));

    // Fresh connections, one call at a time.
    let mcp = Arc::new(db.mcp());
    let schemas = Arc::new(output_schemas(&mcp).await);
    problems.extend(run_cases(mcp.clone(), cases.clone(), expected.clone(), schemas.clone(), 1, 1, leaf).await);

    // The start-up comparison prepares every statement on pooled connections; then the same
    // calls on those connections, 16 at a time.
    let mcp = Arc::new(db.mcp());
    for _ in 0..4 {
        let comparison = mcp.sources.connect_all().await;
        assert!(comparison.is_clean(), "the start-up comparison found differences: {comparison:?}");
    }
    problems.extend(run_cases(mcp.clone(), cases.clone(), expected.clone(), schemas.clone(), 16, 2, leaf).await);

    // Client SQL: the result tables again, as text (simple protocol) and binary (read-only).
    for (case, want) in cases.iter().zip(expected.iter()) {
        let (Ok(want), "result") = (want, case.kind.as_str()) else { continue };
        let columns = column_schemas(&schemas[&case.tool]);
        for tool in ["execute_sql", "query_sql"] {
            let label = format!("{} through {tool}", case.tool);
            match call(&mcp, tool, &serde_json::json!({"sql": case.client_sql})).await {
                Ok(rows) => problems.extend(compare_rows(&label, &rows, want, columns, &leaf)),
                Err(e) => problems.push(format!("{label}: {e}")),
            }
        }
    }

    let results = cases.iter().filter(|c| c.kind == "result").count();
    let parameters = cases.len() - results;
    eprintln!(
        "PostgreSQL matrix: {results} result cases and {parameters} parameter cases, each run fresh and at 16 callers \
         (twice) after the start-up comparison; result cases also as client SQL through both protocols"
    );
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
