//! Describing SQLite statements at build time, with rusqlite (the library the runtime runs them
//! with): the parameter count, and each result column's name, type and nullability as SQLite
//! itself reports them.
//!
//! sqlx's SQLite describe is not used: it dereferences the NULL declared type of a column created
//! without a type (`CREATE TABLE t (v)`), which crashed the compiler, and it refuses columns of
//! table-valued functions (`json_each(?).value`) that SQLite prepares without complaint.
//!
//! SQLite stores a value of any class in a column of an ordinary table; its declared type only
//! gives an affinity. A column's type is named as sqlx names SQLite types (INTEGER, REAL, TEXT,
//! BLOB, NUMERIC, BOOLEAN, DATE, TIME, DATETIME; NULL for an expression, whose class is known only
//! when it runs), and its class is certain, and marked with its exact kind, in two cases: a column
//! of a STRICT table declared INTEGER, REAL, TEXT or BLOB, and a rowid alias (`INTEGER PRIMARY
//! KEY`), which holds integers only.

use crate::describe::{Described, DescribedColumn};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use toolbox_config::types::Kind;

/// An in-memory database made by a schema script.
pub fn open_script(script: &str) -> Result<Connection, String> {
    let c = Connection::open_in_memory().map_err(|e| message(&e))?;
    c.execute_batch(script).map_err(|e| message(&e))?;
    Ok(c)
}

/// A database file, read-only.
pub fn open_file(path: &Path) -> Result<Connection, String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let c = Connection::open_with_flags(path, flags)
        .map_err(|e| format!("cannot open `{}`: {}", path.display(), message(&e)))?;
    // A file that is not a database fails on first read, not on open.
    c.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
        .map_err(|e| format!("cannot open `{}`: {}", path.display(), message(&e)))?;
    Ok(c)
}

/// Prepares a statement and describes it.
pub fn describe(c: &Connection, sql: &str) -> Result<Described, String> {
    let statement = c.prepare(sql).map_err(|e| message(&e))?;
    let parameters = statement.parameter_count();
    let declared: Vec<Option<String>> = statement.columns().iter().map(|c| c.decl_type().map(str::to_string)).collect();
    let mut columns = Vec::new();
    for (i, meta) in statement.columns_with_metadata().iter().enumerate() {
        let mut column =
            DescribedColumn { name: meta.name().to_string(), type_name: "NULL".into(), nullable: None, kind: None };
        if let (Some(table), Some(origin)) = (meta.table_name(), meta.origin_name()) {
            let schema = meta.database_name().unwrap_or("main");
            column.type_name = type_name(declared[i].as_deref());
            if let Ok((_, _, not_null, _, _)) = c.column_metadata(Some(schema), table, origin) {
                column.nullable = Some(!not_null);
            }
            if let Some(exact) = exact_kind(c, schema, table, origin) {
                if exact.rowid_alias {
                    column.nullable = Some(false);
                }
                column.kind = exact.kind.map(Kind::code);
            }
        }
        columns.push(column);
    }
    Ok(Described { parameters, parameter_types: None, binds: None, columns, access: None, problems: Vec::new() })
}

/// The name sqlx gives a declared type (SQLite's affinity rules, with sqlx's extensions for
/// BOOLEAN, DATE, TIME and DATETIME); a column declared without a type is NULL, like an
/// expression: any class.
fn type_name(declared: Option<&str>) -> String {
    let Some(declared) = declared.map(str::to_ascii_lowercase).filter(|d| !d.is_empty()) else {
        return "NULL".into();
    };
    let name = match declared.as_str() {
        "boolean" | "bool" => "BOOLEAN",
        "date" => "DATE",
        "time" => "TIME",
        "datetime" | "timestamp" => "DATETIME",
        d if d.contains("int") => "INTEGER",
        d if d.contains("char") || d.contains("clob") || d.contains("text") => "TEXT",
        d if d.contains("blob") => "BLOB",
        d if d.contains("real") || d.contains("floa") || d.contains("doub") => "REAL",
        _ => "NUMERIC",
    };
    name.into()
}

/// What is certain of a table column's values.
struct Exact {
    kind: Option<Kind>,
    rowid_alias: bool,
}

fn exact_kind(c: &Connection, schema: &str, table: &str, column: &str) -> Option<Exact> {
    let (strict, without_rowid): (bool, bool) = c
        .query_row(
            "SELECT \"strict\", wr FROM pragma_table_list WHERE schema = ?1 AND name = ?2",
            [schema, table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()?;
    let mut query = c.prepare("SELECT name, upper(type), pk FROM pragma_table_info(?1, ?2)").ok()?;
    let columns: Vec<(String, String, i64)> = query
        .query_map([table, schema], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    let (_, declared, pk) = columns.iter().find(|(n, _, _)| n == column)?;
    let keys = columns.iter().filter(|(_, _, pk)| *pk > 0).count();
    let rowid_alias = !without_rowid && *pk == 1 && keys == 1 && declared == "INTEGER";
    let kind = match declared.as_str() {
        _ if rowid_alias => Some(Kind::Integer),
        "INT" | "INTEGER" if strict => Some(Kind::Integer),
        "REAL" if strict => Some(Kind::Real),
        "TEXT" if strict => Some(Kind::Text),
        "BLOB" if strict => Some(Kind::Blob),
        _ => None,
    };
    Some(Exact { kind, rowid_alias })
}

/// SQLite's own message.
fn message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(schema: &str, sql: &str) -> Vec<(String, String, Option<bool>, Option<String>)> {
        let c = open_script(schema).unwrap();
        describe(&c, sql).unwrap().columns.into_iter().map(|c| (c.name, c.type_name, c.nullable, c.kind)).collect()
    }

    #[test]
    fn untyped_columns_and_table_functions_describe() {
        let cols = columns("CREATE TABLE t (id INTEGER PRIMARY KEY, v);", "SELECT id, v FROM t");
        assert_eq!(
            cols,
            [
                ("id".into(), "INTEGER".into(), Some(false), Some("Integer".into())),
                ("v".into(), "NULL".into(), Some(true), None)
            ]
        );
        let c = open_script("").unwrap();
        let d = describe(&c, "SELECT value FROM json_each(?)").unwrap();
        assert_eq!(d.parameters, 1);
        assert_eq!(d.columns[0].name, "value");
    }

    #[test]
    fn declared_types_strict_tables_and_expressions() {
        let cols = columns(
            "CREATE TABLE s (a INT NOT NULL, b TEXT) STRICT; CREATE TABLE o (c VARCHAR(20), d DECIMAL(10,2), e BOOLEAN);",
            "SELECT a, b, c, d, e, a + 1 AS f FROM s, o",
        );
        let summary: Vec<(&str, &str, Option<bool>, Option<&str>)> =
            cols.iter().map(|(n, t, nl, k)| (n.as_str(), t.as_str(), *nl, k.as_deref())).collect();
        assert_eq!(
            summary,
            [
                ("a", "INTEGER", Some(false), Some("Integer")),
                ("b", "TEXT", Some(true), Some("Text")),
                ("c", "TEXT", Some(true), None),
                ("d", "NUMERIC", Some(true), None),
                ("e", "BOOLEAN", Some(true), None),
                ("f", "NULL", None, None),
            ]
        );
    }
}
