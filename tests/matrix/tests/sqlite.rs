//! The SQLite type matrix (`gen_sqlite.py`): a value of every storage class in a column of every
//! affinity and of declared types such as BOOLEAN, DATE and DECIMAL(10,2), STRICT tables,
//! expressions without a declared type, and every parameter type against the columns it is bound
//! to; each answer compared with what the `sqlite3` shell prints for the same statement (the
//! argument written in as a literal), on a database of its own made from the same script.
//!
//! The shell prints in `-quote` mode, which keeps the storage class of each value: integers and
//! reals as numbers (reals to 20 significant digits, which read back as the same double), text
//! quoted, blobs as `X'00ff'`, NULL. (`-json` prints a blob's bytes as if they were text, and
//! infinities as `1e999`.) The toolbox's documented spellings differ in these places, which the
//! comparison rewrites:
//! - a blob is base64;
//! - infinities (`Inf`, a REAL that overflowed) are the strings `"Infinity"` and `"-Infinity"`;
//! - text that is not UTF-8 (SQLite stores what it is given) has each invalid byte replaced by
//!   U+FFFD;
//! - an integer in a column declared BOOLEAN is a boolean (0 is false, any other integer true);
//!   values of other classes in such a column keep their class.
//!
//! Runs: on fresh connections one call at a time; after the start-up check, on reused connections
//! at 16 callers, twice over; and every result case again as client SQL (`execute_sql`).

mod support;

use base64::Engine as _;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use support::*;
use toolbox_runtime::mcp::Mcp;
use toolbox_runtime::testing;

/// Runs a script through the shell on a database file; its stdout, or its error.
fn sqlite3(database: &Path, args: &[&str], script: &str) -> Result<Vec<u8>, String> {
    let out = Command::new("sqlite3")
        .args(args)
        .arg(database)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().expect("stdin").write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .map_err(|e| format!("the sqlite3 shell does not run ({e}): install it (apt-get install sqlite3)"))?;
    if out.status.success() && out.stderr.is_empty() {
        Ok(out.stdout)
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout)))
    }
}

const SCHEMA: &str = include_str!("../sqlite.sql");
const SEED: &str = include_str!("../sqlite-seed.sql");

/// One value as the shell printed it.
#[derive(Clone, Debug)]
enum Printed {
    Null,
    Integer(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

/// Reads the rows of `-quote` output: fields separated by commas, rows by newlines (quoted text
/// may hold both).
fn parse_rows(mut text: &[u8]) -> Result<Vec<Vec<Printed>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    while !text.is_empty() {
        let (value, rest) = parse_value(text)?;
        row.push(value);
        match rest.first() {
            Some(b',') => text = &rest[1..],
            Some(b'\n') | None => {
                rows.push(std::mem::take(&mut row));
                text = rest.get(1..).unwrap_or_default();
            }
            Some(other) => return Err(format!("unexpected `{}` after a value", *other as char)),
        }
    }
    Ok(rows)
}

fn parse_value(text: &[u8]) -> Result<(Printed, &[u8]), String> {
    let quoted = |text: &[u8]| -> Result<(Vec<u8>, usize), String> {
        // `text` starts at the opening quote; '' is a quote.
        let mut out = Vec::new();
        let mut i = 1;
        loop {
            match (text.get(i), text.get(i + 1)) {
                (Some(b'\''), Some(b'\'')) => {
                    out.push(b'\'');
                    i += 2;
                }
                (Some(b'\''), _) => return Ok((out, i + 1)),
                (Some(&b), _) => {
                    out.push(b);
                    i += 1;
                }
                (None, _) => return Err("unterminated text".into()),
            }
        }
    };
    if text.starts_with(b"'") {
        let (bytes, used) = quoted(text)?;
        return Ok((Printed::Text(bytes), &text[used..]));
    }
    if text.starts_with(b"X'") {
        let (hex, used) = quoted(&text[1..])?;
        let bytes = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(std::str::from_utf8(&hex[i * 2..i * 2 + 2]).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|e| e.to_string())?;
        return Ok((Printed::Blob(bytes), &text[1 + used..]));
    }
    let end = text.iter().position(|b| matches!(b, b',' | b'\n')).unwrap_or(text.len());
    let token = std::str::from_utf8(&text[..end]).map_err(|e| e.to_string())?;
    let value = match token {
        "NULL" => Printed::Null,
        "Inf" => Printed::Real(f64::INFINITY),
        "-Inf" => Printed::Real(f64::NEG_INFINITY),
        _ if !token.contains(['.', 'e', 'E']) => {
            Printed::Integer(token.parse().map_err(|e| format!("the integer `{token}`: {e}"))?)
        }
        _ => Printed::Real(token.parse().map_err(|e| format!("the real `{token}`: {e}"))?),
    };
    Ok((value, &text[end..]))
}

/// A printed value in the toolbox's documented spelling (by storage class).
fn documented(value: &Printed) -> Value {
    match value {
        Printed::Null => Value::Null,
        Printed::Integer(n) => Value::from(*n),
        // Through the same writer and reader as the toolbox's answer: the shortest decimal that
        // reads back as the double, read by serde_json.
        Printed::Real(x) if x.is_finite() => {
            serde_json::from_str(ryu::Buffer::new().format_finite(*x)).expect("a number")
        }
        Printed::Real(x) => Value::String(if *x > 0.0 { "Infinity" } else { "-Infinity" }.into()),
        Printed::Text(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        Printed::Blob(bytes) => Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
    }
}

/// What the shell prints for each case, in the toolbox's documented spelling.
fn expectations(database: &Path, cases: &[Case]) -> Vec<Result<Value, String>> {
    let mut script = String::new();
    for (i, case) in cases.iter().enumerate() {
        script.push_str(&format!(".print ==case {i}\n{};\n", case.client_sql));
    }
    let out = match sqlite3(database, &["-quote", "-header"], &script) {
        Ok(out) => out,
        Err(e) => return vec![Err(format!("sqlite3: {e}")); cases.len()],
    };
    let mut results: Vec<Result<Value, String>> = vec![Err("the shell printed nothing".into()); cases.len()];
    // Each case's output runs from its marker line to the next.
    let mut starts: Vec<(usize, usize, usize)> = Vec::new();
    let mut at = 0;
    while at < out.len() {
        let line_end = out[at..].iter().position(|&b| b == b'\n').map_or(out.len(), |p| at + p);
        if let Some(n) = out[at..line_end].strip_prefix(b"==case ") {
            if let Some(i) = std::str::from_utf8(n).ok().and_then(|n| n.parse::<usize>().ok()) {
                starts.push((i, at, line_end + 1));
            }
        }
        at = line_end + 1;
    }
    for (k, &(i, _, body)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(out.len(), |next| next.1);
        let body = &out[body.min(end)..end];
        results[i] = parse_rows(body).map(|rows| {
            let mut rows = rows.into_iter();
            let header: Vec<String> = rows
                .next()
                .unwrap_or_default()
                .iter()
                .map(|h| match h {
                    Printed::Text(name) => String::from_utf8_lossy(name).into_owned(),
                    other => format!("{other:?}"),
                })
                .collect();
            let rows: Vec<Value> = rows
                .map(|row| Value::Object(header.iter().cloned().zip(row.iter().map(documented)).collect()))
                .collect();
            match (cases[i].kind.as_str(), rows.as_slice()) {
                // A write answers its count as `{"rowsAffected": n}`.
                ("write", [count]) => count.clone(),
                _ => Value::Array(rows),
            }
        });
    }
    results
}

/// The part of the documented spelling that depends on the column: an integer in a BOOLEAN
/// column is a boolean.
fn leaf(expected: &Value, schema: &Value) -> Value {
    if schema["type"].to_string().contains("boolean") && (expected.is_i64() || expected.is_u64()) {
        return Value::Bool(expected.as_f64() != Some(0.0));
    }
    expected.clone()
}

/// A toolbox whose source is a database file in `dir`, created by the server from the embedded
/// schema and seed.
fn mcp(database: &Path) -> Mcp {
    let path = database.display().to_string();
    testing::mcp(&toolbox_matrix::sqlite::TOOLBOX, &testing::env(&[("SQLITE_DATABASE", &path)]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_storage_class_answers_as_the_sqlite3_shell_prints_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let client_db: PathBuf = dir.path().join("client.db");
    if let Err(e) = sqlite3(&client_db, &[], &format!("{SCHEMA}\n{SEED}")) {
        assert!(std::env::var("CI").is_err(), "CI=true and {e}");
        eprintln!("skipping: {e}");
        return;
    }
    let cases = load_cases(include_str!("../sqlite.cases.json"), "sqlite3");
    let expected = expectations(&client_db, &cases);
    let mut problems: Vec<String> =
        cases.iter().zip(&expected).filter_map(|(c, e)| e.as_ref().err().map(|e| format!("{}: {e}", c.tool))).collect();
    let (cases, expected) = (Arc::new(cases), Arc::new(expected));
    let database = dir.path().join("matrix.db");

    // Fresh connections (the first one creates the database), one call at a time.
    let mcp_fresh = Arc::new(mcp(&database));
    let schemas = Arc::new(output_schemas(&mcp_fresh).await);
    problems.extend(run_cases(mcp_fresh.clone(), cases.clone(), expected.clone(), schemas.clone(), 1, 1, leaf).await);
    mcp_fresh.sources.close().await;

    // After the start-up check, on the pool's connections, 16 at a time.
    let mcp = Arc::new(mcp(&database));
    let comparison = mcp.sources.connect_all().await;
    assert!(comparison.is_clean(), "the start-up check found differences: {comparison:?}");
    problems.extend(run_cases(mcp.clone(), cases.clone(), expected.clone(), schemas.clone(), 16, 2, leaf).await);

    // Client SQL: the result cases again.
    for (case, want) in cases.iter().zip(expected.iter()) {
        let (Ok(want), "result") = (want, case.kind.as_str()) else { continue };
        let columns = column_schemas(&schemas[&case.tool]);
        for tool in ["execute_sql"] {
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
        "SQLite matrix: {results} result cases and {parameters} parameter cases, each run fresh and at 16 callers \
         (twice) after the start-up check; result cases also as client SQL"
    );
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
