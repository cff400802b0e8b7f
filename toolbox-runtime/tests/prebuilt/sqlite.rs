//! prebuilt:sqlite against a database file made from `schema.sql`, compared with SQLite's
//! pragmas read through rusqlite.

use crate::{column, lite_box, rows, toolsets};
use rusqlite::Connection;
use serde_json::json;
use toolbox_runtime::testing;

#[tokio::test]
async fn every_tool_answers_what_sqlite_says() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prebuilt.db");
    let path_text = path.display().to_string();
    let mcp = testing::mcp(&lite_box::TOOLBOX, &testing::env(&[("PREBUILT_SQLITE_DB", &path_text)]));
    assert_eq!(
        toolsets(&lite_box::TOOLBOX),
        json!([{"name": "sqlite_database_tools", "tools": ["database_overview", "execute_sql", "list_indexes", "list_table_sizes", "list_tables"]}])
    );
    // The first call creates the file from the schema; execute_sql adds an index and a trigger.
    let sql = "CREATE INDEX customers_by_name ON customers (name); CREATE TRIGGER t AFTER INSERT ON orders BEGIN SELECT 1; END;";
    let made = testing::call(&mcp, "execute_sql", json!({"sql": sql})).await;
    assert_ne!(made["isError"], true, "{made}");
    let db = Connection::open(&path).unwrap();
    let pragma_i64 = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();

    // list_tables: PRAGMA table_list's tables and views, with PRAGMA table_info's columns.
    let tables = rows(&mcp, "list_tables", json!({})).await;
    let mut listed: Vec<String> = db
        .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    listed.sort();
    assert_eq!(column(&tables, "table_name"), listed);
    let orders = tables.iter().find(|t| t["table_name"] == "orders").unwrap();
    let columns: serde_json::Value = serde_json::from_str(orders["columns"].as_str().unwrap()).unwrap();
    let mut info = db.prepare("PRAGMA table_info(orders)").unwrap();
    let expected: Vec<serde_json::Value> = info
        .query_map([], |r| {
            Ok(json!({"name": r.get::<_, String>(1)?, "type": r.get::<_, String>(2)?, "notnull": r.get::<_, i64>(3)? == 1,
                      "pk": r.get::<_, i64>(5)?, "default": r.get::<_, Option<String>>(4)?}))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(columns, json!(expected));

    // list_indexes: PRAGMA index_list and index_info of each table.
    let indexes = rows(&mcp, "list_indexes", json!({})).await;
    let mut expected = Vec::new();
    for table in ["customers", "orders"] {
        let mut list = db.prepare(&format!("PRAGMA index_list({table})")).unwrap();
        let found: Vec<(String, i64, String)> =
            list.query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect();
        for (name, unique, origin) in found {
            let mut info = db.prepare(&format!("PRAGMA index_info(\"{name}\")")).unwrap();
            let cols: Vec<String> = info.query_map([], |r| r.get(2)).unwrap().map(Result::unwrap).collect();
            expected.push(json!({"table_name": table, "index_name": name, "is_unique": unique, "origin": origin, "columns": cols.join(", ")}));
        }
    }
    expected.sort_by_key(|v| (v["table_name"].to_string(), v["index_name"].to_string()));
    assert_eq!(indexes, expected);
    assert_eq!(expected.len(), 3, "customers' UNIQUE email and customers_by_name, orders_by_customer");
    assert!(indexes.iter().any(|i| i["index_name"] == "orders_by_customer" && i["columns"] == "customer_id, total"));

    // list_table_sizes: every page of the file is a table's, an index's, the schema's or free.
    let sizes = rows(&mcp, "list_table_sizes", json!({})).await;
    assert_eq!(column(&sizes, "table_name"), ["customers", "orders"]);
    let page_size = pragma_i64("PRAGMA page_size");
    let database_bytes = pragma_i64("PRAGMA page_count") * page_size;
    let all: i64 = sizes.iter().map(|s| s["total_bytes"].as_i64().unwrap()).sum();
    for s in &sizes {
        let (total, table, index) = (
            s["total_bytes"].as_i64().unwrap(),
            s["table_bytes"].as_i64().unwrap(),
            s["index_bytes"].as_i64().unwrap(),
        );
        assert_eq!(total, table + index, "{s}");
        assert!(table >= page_size && total % page_size == 0, "{s}");
    }
    let schema_pages = pragma_i64("SELECT count(*) FROM dbstat WHERE name = 'sqlite_schema'");
    assert_eq!(all + (schema_pages + pragma_i64("PRAGMA freelist_count")) * page_size, database_bytes);
    let limited = rows(&mcp, "list_table_sizes", json!({"limit": 1})).await;
    assert_eq!(limited.len(), 1);

    // database_overview: the pragmas themselves.
    let overview = rows(&mcp, "database_overview", json!({})).await;
    let count = |kind: &str| {
        db.query_row(
            "SELECT count(*) FROM pragma_table_list WHERE type = ?1 AND name NOT LIKE 'sqlite_%'",
            [kind],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    };
    let version: String = db.query_row("SELECT sqlite_version()", [], |r| r.get(0)).unwrap();
    let journal: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(
        overview,
        [json!({
            "sqlite_version": version,
            "database_bytes": database_bytes,
            "free_pages": pragma_i64("PRAGMA freelist_count"),
            "journal_mode": journal,
            "encoding": "UTF-8",
            "table_count": count("table"),
            "view_count": count("view"),
            "index_count": expected.len(),
            "trigger_count": 1,
        })]
    );

    // execute_sql reads what the schema wrote.
    let counted = rows(&mcp, "execute_sql", json!({"sql": "SELECT count(*) AS n FROM orders"})).await;
    assert_eq!(counted, [json!({"n": pragma_i64("SELECT count(*) FROM orders")})]);
}
