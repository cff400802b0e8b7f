//! prebuilt:mysql against a throw-away MariaDB database, compared with `SHOW TABLE STATUS`,
//! `SHOW INDEX`, `SHOW FULL TABLES` and a statement the test itself keeps running.

use crate::{SCHEMA, column, listed_names, my_box, rows, toolsets};
use serde_json::json;
use sqlx::{Connection, MySqlConnection, Row};
use toolbox_runtime::testing::{self, Engine, TestDb};

#[tokio::test]
async fn every_tool_answers_what_mariadb_says() {
    let Some(db) = TestDb::create(Engine::Mysql, &format!("{SCHEMA}\nANALYZE TABLE customers, orders;")).await else {
        return;
    };
    let mcp = testing::mcp(&my_box::TOOLBOX, &testing::env(&[("PREBUILT_MYDATABASE", &db.name)]));
    assert_eq!(
        toolsets(&my_box::TOOLBOX),
        json!([
            {"name": "data", "tools": ["execute_sql", "list_active_queries", "list_tables"]},
            {"name": "monitor", "tools": ["database_overview", "list_active_queries", "list_indexes", "list_table_sizes"]}
        ])
    );
    let mut c = MySqlConnection::connect(&db.url()).await.unwrap();
    let show = async |c: &mut MySqlConnection, sql: &str| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(c).await.unwrap()
    };

    // list_tables: SHOW FULL TABLES' base tables.
    let full = show(&mut c, "SHOW FULL TABLES").await;
    let mut base: Vec<String> =
        full.iter().filter(|r| r.get::<String, _>(1) == "BASE TABLE").map(|r| r.get::<String, _>(0)).collect();
    base.sort();
    let tables = rows(&mcp, "list_tables", json!({"output_format": "simple"})).await;
    assert_eq!(listed_names(&tables), base, "{tables:?}");

    // list_table_sizes: SHOW TABLE STATUS.
    let sizes = rows(&mcp, "list_table_sizes", json!({})).await;
    assert_eq!(column(&sizes, "table_name"), base);
    for status in show(&mut c, "SHOW TABLE STATUS WHERE Comment <> 'VIEW'").await {
        let name: String = status.get("Name");
        let data: u64 = status.get("Data_length");
        let index: u64 = status.get("Index_length");
        let s = sizes.iter().find(|s| s["table_name"] == name.as_str()).unwrap();
        assert_eq!((s["table_bytes"].as_u64(), s["index_bytes"].as_u64()), (Some(data), Some(index)), "{s}");
        assert_eq!(s["total_bytes"].as_u64(), Some(data + index));
        assert_eq!(s["engine"], status.get::<String, _>("Engine").as_str());
        assert_eq!(s["schema_name"], db.name.as_str());
    }
    assert_eq!(rows(&mcp, "list_table_sizes", json!({"limit": 1})).await.len(), 1);

    // list_indexes: SHOW INDEX of each table, columns in order.
    let indexes = rows(&mcp, "list_indexes", json!({})).await;
    let mut expected = Vec::new();
    for table in &base {
        let mut by_name: Vec<(String, bool, Vec<String>)> = Vec::new();
        for row in show(&mut c, &format!("SHOW INDEX FROM `{table}`")).await {
            let (name, non_unique, column): (String, i64, String) =
                (row.get("Key_name"), row.get::<i64, _>("Non_unique"), row.get("Column_name"));
            match by_name.iter_mut().find(|(n, ..)| *n == name) {
                Some(entry) => entry.2.push(column),
                None => by_name.push((name, non_unique == 0, vec![column])),
            }
        }
        for (name, unique, columns) in by_name {
            expected.push((table.clone(), name, unique, columns.join(", ")));
        }
    }
    expected.sort();
    let mut got: Vec<(String, String, bool, String)> = indexes
        .iter()
        .map(|i| {
            let unique = i["is_unique"] == json!(true) || i["is_unique"] == json!(1);
            (
                i["table_name"].as_str().unwrap().into(),
                i["index_name"].as_str().unwrap().into(),
                unique,
                i["columns"].as_str().unwrap().into(),
            )
        })
        .collect();
    // The tool orders by the database's collation (case-insensitive), the test by bytes.
    got.sort();
    assert_eq!(got, expected, "{indexes:?}");

    // list_active_queries: a statement the test keeps running on a connection of its own.
    let mut sleeper = MySqlConnection::connect(&db.url()).await.unwrap();
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()").fetch_one(&mut sleeper).await.unwrap();
    let sleeping = tokio::spawn(async move {
        let _ = sqlx::query("SELECT SLEEP(30) AS prebuilt_sleep").execute(&mut sleeper).await;
    });
    let mut seen = None;
    for _ in 0..100 {
        let active = rows(&mcp, "list_active_queries", json!({})).await;
        seen = active
            .into_iter()
            .find(|q| q["process_id"] == id && q["query"].as_str().is_some_and(|s| s.contains("SLEEP")));
        if seen.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.expect("the sleeping statement is listed");
    assert_eq!(seen["query"], "SELECT SLEEP(30) AS prebuilt_sleep");
    assert_eq!(seen["database_name"], db.name.as_str());
    assert_eq!(seen["user_name"], "root");
    assert_eq!(seen["command"], "Execute", "sqlx runs it as a prepared statement");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("KILL QUERY {id}"))).execute(&mut c).await.unwrap();
    sleeping.await.unwrap();

    // database_overview.
    let overview = rows(&mcp, "database_overview", json!({})).await;
    let o = &overview[0];
    assert_eq!(o["database_name"], db.name.as_str());
    let version: String = sqlx::query_scalar("SELECT @@version").fetch_one(&mut c).await.unwrap();
    assert_eq!(o["server_version"], version.as_str());
    let views = full.iter().filter(|r| r.get::<String, _>(1) == "VIEW").count();
    assert_eq!((o["table_count"].as_u64(), o["view_count"].as_u64()), (Some(base.len() as u64), Some(views as u64)));
    let mut total = 0;
    for status in show(&mut c, "SHOW TABLE STATUS").await {
        total += status.try_get::<u64, _>("Data_length").unwrap_or(0)
            + status.try_get::<u64, _>("Index_length").unwrap_or(0);
    }
    assert_eq!(o["database_bytes"].as_u64(), Some(total), "{o}");
    assert!(o["connection_count"].as_u64().unwrap() >= 1, "{o}");

    // execute_sql reads what the schema wrote.
    let counted = rows(&mcp, "execute_sql", json!({"sql": "SELECT count(*) AS n FROM orders"})).await;
    assert_eq!(counted, [json!({"n": 3})]);
}
