//! The MySQL/MariaDB type matrix (`gen_mysql.py`): every data type of the manual as a result
//! column and every parameter type against the columns it is bound to, each answer compared with
//! what the `mariadb` command-line client prints for the same statement (the argument written in
//! as a literal).
//!
//! The client is run twice over the same script: `--batch` prints the values (tab-separated,
//! with `\0`, `\t`, `\n` and `\\` escaped, NULL as `NULL`: no text value of the matrix is spelled
//! `NULL`), and `--column-type-info` prints each column's wire type, collation and flags, which
//! say how the printed text reads as JSON. The toolbox's documented spellings differ from what the
//! client prints in these places, and the comparison rewrites the client's text accordingly:
//! - integers, YEAR, DECIMAL, FLOAT and DOUBLE are JSON numbers (compared by value: DECIMAL keeps
//!   its scale in the toolbox's text, `49.00`, which JSON equality cannot see; ZEROFILL's and
//!   YEAR's leading zeros, `00042` and `0000`, are the client's display);
//! - FLOAT is the shortest decimal that reads back as the same single-precision value (`1.1`,
//!   `1234567`), where the client rounds to 6 significant digits (`1234570`): compared at the
//!   client's digits. Through the text protocol the server sends its rounded text;
//! - `BOOLEAN`/`TINYINT(1)` are booleans, MySQL's truth of the value (`v IS TRUE`: any other
//!   value than 0 is `true`);
//! - `BIT(n)` is the unsigned integer of its bits (the client prints the raw bytes);
//! - `DATETIME` is `2025-01-31T13:45:30.5` and `TIMESTAMP` `2025-01-31T13:45:30.5Z` (UTC: the
//!   sessions of both use `+00:00`), `TIME` `-838:59:59` or `100:00:00.000001`: fractional
//!   seconds without trailing zeros (the client pads to the column's precision); zero dates keep
//!   MySQL's spelling (`0000-00-00`, `0000-00-00T00:00:00`);
//! - values of the binary collation (BINARY, VARBINARY, BLOB) are base64; text of any other
//!   collation (utf8mb4_bin too, which MariaDB's JSON, UUID and INET types use) is a string;
//! - a column the build described as JSON (MySQL's JSON type, MariaDB's LONGTEXT with a
//!   `json_valid` check) is embedded as JSON. Through client SQL, MariaDB's JSON comes back as
//!   its text: its wire type does not say JSON (MariaDB says so only in the extended metadata,
//!   which the driver does not ask for), so the client-SQL pass compares such columns as text.
//!
//! Spatial columns are refused by the build (naming `ST_AsText` and `ST_AsGeoJSON`) and answered
//! by client SQL with an error naming the same functions; the matrix reads them through those
//! functions, and checks the client-SQL error.
//!
//! Runs: on fresh connections one call at a time; after the start-up comparison (which prepares
//! every statement on pooled connections), on reused connections at 16 callers, twice over; and
//! every result case again as client SQL through the text protocol (`execute_sql`) and the
//! binary one (`query_sql`, read-only: one prepared statement).

mod support;

use base64::Engine as _;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use support::*;
use toolbox_runtime::mcp::Mcp;
use toolbox_runtime::testing;

fn mariadb(database: &str) -> Command {
    let mut c = Command::new("mariadb");
    c.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "--default-character-set=utf8mb4", database]);
    c
}

/// Runs a script through the client; its stdout, or the client's error.
fn run_script(database: &str, args: &[&str], script: &str) -> Result<Vec<u8>, String> {
    let out = mariadb(database)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().expect("stdin").write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .expect("the mariadb client runs");
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout)))
    }
}

/// A database made from `mysql.sql` for this run, dropped at the end: one the toolbox uses, and
/// one the client's expectations are taken from, so that a row the toolbox reads back is one the
/// toolbox wrote.
struct TestDb(String);

impl TestDb {
    fn create(suffix: &str) -> TestDb {
        let name = format!("toolbox_matrix_test_{}{suffix}", std::process::id());
        run_script("", &[], &format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name};"))
            .unwrap_or_else(|e| panic!("cannot create {name}: {e}"));
        let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/mysql.sql")).expect("mysql.sql");
        run_script(&name, &[], &schema).unwrap_or_else(|e| panic!("mysql.sql: {e}"));
        TestDb(name)
    }

    fn mcp(&self) -> Mcp {
        testing::mcp(
            &toolbox_matrix::mysql::TOOLBOX,
            &testing::env(&[("MYSQL_DATABASE", self.0.as_str()), ("MYSQL_HOST", "127.0.0.1"), ("MYSQL_USER", "root")]),
        )
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = run_script("", &[], &format!("DROP DATABASE IF EXISTS {};", self.0));
    }
}

/// The session the toolbox's driver sets up (UTC, its sql_mode additions), for the client too.
const SESSION: &str = "SET time_zone = '+00:00', \
    sql_mode = (SELECT CONCAT(@@sql_mode, ',PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION'));\n";

/// The script of every case, each after a marker row (`==case`).
fn script(cases: &[Case]) -> String {
    let mut script = SESSION.to_string();
    for (i, case) in cases.iter().enumerate() {
        script.push_str(&format!("SELECT {i} AS `==case`;\n{};\n", case.client_sql));
    }
    script
}

/// What `--column-type-info` says of one column.
#[derive(Clone, Debug, Default)]
struct ClientColumn {
    name: String,
    /// `LONG`, `BIT`, `BLOB (format=json)` ...
    wire: String,
    /// The collation's number: 63 is `binary`.
    collation: u32,
}

/// The columns of each case's result, as the client describes them.
fn client_columns(db: &TestDb, cases: &[Case]) -> Result<Vec<Vec<ClientColumn>>, String> {
    let out = run_script(&db.0, &["-t", "--column-type-info"], &script(cases))?;
    let mut per_case: Vec<Vec<ClientColumn>> = Vec::new();
    let mut current: Option<ClientColumn> = None;
    let finish = |column: Option<ClientColumn>, per_case: &mut Vec<Vec<ClientColumn>>| {
        let Some(column) = column else { return };
        if column.name == "==case" {
            per_case.push(Vec::new());
        } else if let Some(last) = per_case.last_mut() {
            last.push(column);
        }
    };
    for line in String::from_utf8_lossy(&out).lines() {
        if let Some(rest) = line.strip_prefix("Field ") {
            finish(current.take(), &mut per_case);
            let name = rest.split('`').nth(1).unwrap_or_default().to_string();
            current = Some(ClientColumn { name, ..Default::default() });
        } else if let (Some(c), Some(wire)) = (current.as_mut(), line.strip_prefix("Type:")) {
            c.wire = wire.trim().to_string();
        } else if let (Some(c), Some(collation)) = (current.as_mut(), line.strip_prefix("Collation:")) {
            let number = collation.rsplit('(').next().unwrap_or_default().trim_end_matches(')');
            c.collation = number.trim().parse().unwrap_or_default();
        }
    }
    finish(current.take(), &mut per_case);
    if per_case.len() != cases.len() {
        return Err(format!("the client described {} cases of {}", per_case.len(), cases.len()));
    }
    Ok(per_case)
}

/// Undoes the client's `--batch` escapes.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut bytes = field.iter();
    while let Some(&b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'0') => out.push(0),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(&other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    out
}

/// Trims trailing zeros of the fractional seconds, and the point when none are left.
fn trim_fraction(text: &str) -> String {
    match text.split_once('.') {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") }
        }
        None => text.to_string(),
    }
}

/// A value the client printed, in the toolbox's documented spelling for its wire type.
fn documented(printed: &[u8], column: &ClientColumn) -> Value {
    let text = String::from_utf8_lossy(printed).to_string();
    let wire = column.wire.split_whitespace().next().unwrap_or_default();
    // Read by the same parser as the toolbox's answer, so that digits beyond a double's compare
    // alike (serde_json rounds some long decimals differently from Rust's own parser).
    let number = |text: &str| -> Value {
        match serde_json::from_str::<Value>(text) {
            Ok(n @ Value::Number(_)) => n,
            _ => Value::String(format!("not a number: {text}")),
        }
    };
    if column.wire.contains("format=json") {
        return serde_json::json!({"$json": text});
    }
    match wire {
        // ZEROFILL and YEAR's leading zeros (`00042`, `0000`) are the client's display only.
        "TINY" | "SHORT" | "LONG" | "INT24" | "LONGLONG" | "YEAR" => match text.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => number(&text),
        },
        "DOUBLE" | "DECIMAL" | "NEWDECIMAL" => number(&text),
        // The client rounds FLOAT to 6 significant digits; the toolbox writes the shortest
        // decimal of the single-precision value: they are compared at the client's digits.
        "FLOAT" => serde_json::json!({"$float": number(&text)}),
        "DATE" | "NEWDATE" => Value::String(text),
        "BIT" => Value::from(printed.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b))),
        "DATETIME" => Value::String(trim_fraction(&text.replacen(' ', "T", 1))),
        "TIMESTAMP" => Value::String(format!("{}Z", trim_fraction(&text.replacen(' ', "T", 1)))),
        "TIME" => Value::String(trim_fraction(&text)),
        _ if column.collation == 63 => Value::String(base64::engine::general_purpose::STANDARD.encode(printed)),
        _ => Value::String(text),
    }
}

/// What the client prints for each case, in the toolbox's documented spelling.
fn expectations(db: &TestDb, cases: &[Case]) -> Vec<Result<Value, String>> {
    let columns = match client_columns(db, cases) {
        Ok(c) => c,
        Err(e) => return vec![Err(format!("mariadb --column-type-info: {e}")); cases.len()],
    };
    let out = match run_script(&db.0, &["--batch"], &script(cases)) {
        Ok(out) => out,
        Err(e) => return vec![Err(format!("mariadb --batch: {e}")); cases.len()],
    };
    let mut results: Vec<Result<Value, String>> = vec![Ok(Value::Array(Vec::new())); cases.len()];
    let out = out.strip_suffix(b"\n").unwrap_or(&out);
    let mut lines = out.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if line != b"==case" {
            continue;
        }
        let Some(i) = lines.next().and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok()) else { continue };
        // A result with rows starts with a header of column names; an empty one prints nothing.
        if lines.peek().is_none_or(|l| *l == b"==case") {
            continue;
        }
        let header: Vec<String> = lines
            .next()
            .unwrap_or_default()
            .split(|&b| b == b'\t')
            .map(|n| String::from_utf8_lossy(n).into())
            .collect();
        let mut rows = Vec::new();
        while lines.peek().is_some_and(|l| *l != b"==case") {
            let line = lines.next().unwrap_or_default();
            let mut row = serde_json::Map::new();
            for (k, field) in line.split(|&b| b == b'\t').enumerate() {
                let name = header.get(k).cloned().unwrap_or_default();
                let value = if field == b"NULL" {
                    Value::Null
                } else {
                    let column = columns[i].get(k).cloned().unwrap_or_default();
                    documented(&unescape(field), &column)
                };
                row.insert(name, value);
            }
            rows.push(Value::Object(row));
        }
        results[i] = Ok(match (cases[i].kind.as_str(), rows.as_slice()) {
            // A write answers its count as `{"rowsAffected": n}`.
            ("write", [count]) => count.clone(),
            _ => Value::Array(rows),
        });
    }
    results
}

/// The rest of the documented spelling, which depends on how the build described the column:
/// a BOOLEAN's integer is its truth, a JSON column's text is embedded.
fn leaf(expected: &Value, schema: &Value) -> Value {
    if let Some(text) = expected.get("$json").and_then(Value::as_str) {
        // JSON as the client says (MariaDB's extended metadata): embedded when the build
        // described the column as JSON, else its text.
        if schema.get("type").is_none() {
            return serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
        }
        return Value::String(text.to_string());
    }
    let types = schema["type"].to_string();
    if types.contains("boolean") {
        if let Some(n) = expected.as_f64() {
            return Value::Bool(n != 0.0);
        }
    }
    expected.clone()
}

/// The column schemas client SQL is compared with: those of the compiled tool, but MariaDB's
/// JSON (embedded by a compiled statement) is text there.
fn client_sql_columns(columns: &Value) -> Value {
    let mut columns = columns.clone();
    if let Some(map) = columns.as_object_mut() {
        for schema in map.values_mut() {
            if schema.get("type").is_none() {
                *schema = serde_json::json!({"type": ["string", "null"]});
            }
        }
    }
    columns
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_answers_as_the_mariadb_client_prints_it() {
    if !service_reachable("MariaDB", 3306) {
        return;
    }
    let (db, client_db) = (TestDb::create(""), TestDb::create("_client"));
    let cases = load_cases(include_str!("../mysql.cases.json"), "mariadb");
    let expected = expectations(&client_db, &cases);
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

    // Client SQL: the result cases again, through the text protocol and the binary one.
    for (case, want) in cases.iter().zip(expected.iter()) {
        let (Ok(want), "result") = (want, case.kind.as_str()) else { continue };
        let columns = client_sql_columns(column_schemas(&schemas[&case.tool]));
        for tool in ["execute_sql", "query_sql"] {
            let label = format!("{} through {tool}", case.tool);
            match call(&mcp, tool, &serde_json::json!({"sql": case.client_sql})).await {
                Ok(rows) => problems.extend(compare_rows(&label, &rows, want, &columns, &leaf)),
                Err(e) => problems.push(format!("{label}: {e}")),
            }
        }
    }

    // A spatial column as it is: client SQL answers an error naming the functions that serve it.
    for tool in ["execute_sql", "query_sql"] {
        let answer = call(&mcp, tool, &serde_json::json!({"sql": "SELECT v FROM r_point ORDER BY id"})).await;
        match answer {
            Err(e) if e.contains("ST_AsText(v)") && e.contains("ST_AsGeoJSON(v)") => {}
            other => problems
                .push(format!("a POINT column through {tool}: expected an error naming ST_AsText, got {other:?}")),
        }
    }

    let results = cases.iter().filter(|c| c.kind == "result").count();
    let parameters = cases.len() - results;
    eprintln!(
        "MySQL/MariaDB matrix: {results} result cases and {parameters} parameter cases, each run fresh and at 16 \
         callers (twice) after the start-up comparison; result cases also as client SQL through both protocols"
    );
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
