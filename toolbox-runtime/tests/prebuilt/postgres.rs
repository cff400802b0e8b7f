//! prebuilt:postgres against a throw-away database, compared with information_schema, pg_indexes,
//! the size functions by relation name, and a statement the test itself keeps running.

use crate::{SCHEMA, column, listed_names, pg_box, rows, toolsets};
use serde_json::json;
use sqlx::{Connection, PgConnection, Row};
use toolbox_runtime::testing::{self, Engine, TestDb};

#[tokio::test]
async fn every_tool_answers_what_postgres_says() {
    let schema = format!(
        "{SCHEMA}\nCREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id;\nANALYZE;"
    );
    let Some(db) = TestDb::create(Engine::Postgres, &schema).await else { return };
    let mcp = testing::mcp(&pg_box::TOOLBOX, &testing::env(&[("PREBUILT_PGDATABASE", &db.name)]));
    assert_eq!(
        toolsets(&pg_box::TOOLBOX),
        json!([{"name": "postgres_database_tools", "tools": ["database_overview", "execute_sql", "list_active_queries", "list_index_usage", "list_table_sizes", "list_tables"]}])
    );
    let mut c = PgConnection::connect(&db.url()).await.unwrap();
    let strings = async |c: &mut PgConnection, sql: &str| -> Vec<String> {
        let mut v: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(c).await.unwrap();
        v.sort();
        v
    };

    // list_tables: information_schema's base tables.
    let tables = rows(&mcp, "list_tables", json!({"output_format": "simple"})).await;
    let base = strings(&mut c, "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'").await;
    assert_eq!(listed_names(&tables), base, "{tables:?}");

    // list_table_sizes: the tables and the materialized view, each size by its name.
    let sizes = rows(&mcp, "list_table_sizes", json!({})).await;
    assert_eq!(column(&sizes, "table_name"), ["customers", "order_totals", "orders"]);
    for s in &sizes {
        let name = format!("public.{}", s["table_name"].as_str().unwrap());
        let row = sqlx::query("SELECT pg_total_relation_size($1::regclass), pg_relation_size($1::regclass), pg_indexes_size($1::regclass), (SELECT reltuples::int8 FROM pg_class WHERE oid = $1::regclass)")
            .bind(&name)
            .fetch_one(&mut c)
            .await
            .unwrap();
        let expected = json!({"schema_name": "public", "table_name": s["table_name"], "total_bytes": row.get::<i64, _>(0), "table_bytes": row.get::<i64, _>(1), "index_bytes": row.get::<i64, _>(2), "estimated_rows": row.get::<i64, _>(3)});
        assert_eq!(s, &expected);
    }
    let totals: Vec<i64> = sizes.iter().map(|s| s["total_bytes"].as_i64().unwrap()).collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "largest first: {totals:?}");
    assert_eq!(rows(&mcp, "list_table_sizes", json!({"limit": 2})).await.len(), 2);

    // list_index_usage: pg_indexes' indexes, uniqueness read from their definitions.
    let usage = rows(&mcp, "list_index_usage", json!({})).await;
    let indexes = strings(&mut c, "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'").await;
    assert_eq!(column(&usage, "index_name"), indexes);
    for u in &usage {
        let definition: String = sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE indexname = $1")
            .bind(u["index_name"].as_str().unwrap())
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(u["is_unique"], definition.starts_with("CREATE UNIQUE INDEX"), "{u} {definition}");
        assert_eq!(u["is_primary"], u["index_name"].as_str().unwrap().ends_with("_pkey"), "{u}");
        assert_eq!(u["index_scans"].as_i64().unwrap() >= 0, true);
    }

    // list_active_queries: a statement the test keeps running on a connection of its own.
    let mut sleeper = PgConnection::connect(&db.url()).await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut sleeper).await.unwrap();
    let sleeping = tokio::spawn(async move {
        let _ = sqlx::query("SELECT pg_sleep(30) AS prebuilt_sleep").execute(&mut sleeper).await;
    });
    let mut seen = None;
    for _ in 0..100 {
        let active = rows(&mcp, "list_active_queries", json!({})).await;
        seen = active.into_iter().find(|q| q["pid"] == pid);
        if seen.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.expect("the sleeping statement is listed");
    assert_eq!(seen["query"], "SELECT pg_sleep(30) AS prebuilt_sleep");
    assert_eq!(seen["database_name"], db.name.as_str());
    assert_eq!(seen["user_name"], "postgres");
    assert_eq!(seen["state"], "active");
    sqlx::query("SELECT pg_cancel_backend($1)").bind(pid).execute(&mut c).await.unwrap();
    sleeping.await.unwrap();

    // database_overview: counts from information_schema, the size by the database's oid.
    let overview = rows(&mcp, "database_overview", json!({})).await;
    let one = async |c: &mut PgConnection, sql: &str| -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(c).await.unwrap()
    };
    let o = &overview[0];
    assert_eq!(o["database_name"], db.name.as_str());
    let version: String = sqlx::query_scalar("SELECT version()").fetch_one(&mut c).await.unwrap();
    assert_eq!(o["server_version"], version.as_str());
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(oid) FROM pg_database WHERE datname = $1")
        .bind(&db.name)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(o["database_bytes"], size);
    assert_eq!(
        o["table_count"],
        one(
            &mut c,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        .await
    );
    assert_eq!(o["view_count"], one(&mut c, "SELECT (SELECT count(*) FROM information_schema.views WHERE table_schema = 'public') + (SELECT count(*) FROM pg_matviews)").await);
    assert_eq!(o["index_count"], indexes.len());
    assert_eq!(o["schema_count"], one(&mut c, "SELECT count(*) FROM information_schema.schemata WHERE schema_name NOT IN ('pg_catalog', 'information_schema') AND schema_name NOT LIKE 'pg\\_toast%' AND schema_name NOT LIKE 'pg\\_temp%'").await);
    assert!(o["connection_count"].as_i64().unwrap() >= 1, "{o}");
    assert!(o["server_started_at"].as_str().unwrap().ends_with('Z'), "{o}");

    // execute_sql reads what the schema wrote.
    let counted = rows(&mcp, "execute_sql", json!({"sql": "SELECT count(*) AS n FROM orders"})).await;
    assert_eq!(counted, [json!({"n": one(&mut c, "SELECT count(*) FROM orders").await})]);
}
