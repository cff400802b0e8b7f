//! The MySQL example against the real MariaDB on this machine, each test in a database of its
//! own made from `schema.sql` and dropped afterwards. Without a server the tests skip with a
//! reason, except under `CI=true`, where they fail.

use serde_json::json;
use sqlx::Connection;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use toolbox_runtime::mcp::Mcp;
use toolbox_runtime::testing::{self, Engine, TestDb, call, error_text};

/// A database of its own for the test, made from `schema.sql`.
async fn database() -> Option<TestDb> {
    TestDb::create(Engine::Mysql, include_str!("../schema.sql")).await
}

/// The example's toolbox over `db`.
fn mcp(db: &TestDb) -> Mcp {
    mcp_with(db, &[])
}

/// The example's toolbox over `db`, with these settings first.
fn mcp_with(db: &TestDb, overrides: &[(&str, &str)]) -> Mcp {
    let mut env = overrides.to_vec();
    env.extend([("MYSQL_DATABASE", db.name.as_str()), ("MYSQL_SSL_MODE", "disabled")]);
    testing::mcp(&toolbox_example_mysql::TOOLBOX, &testing::env(&env))
}

#[tokio::test]
async fn every_type_comes_back_as_the_right_json() {
    let Some(db) = database().await else { return };
    let result = call(&mcp(&db), "all_types", json!({})).await;
    assert_eq!(
        result["content"][0]["text"].as_str().unwrap(),
        concat!(
            r#"[{"id":1,"tiny":-128,"small":-32768,"medium":8388607,"big":9007199254740993,"ubig":18446744073709551615,"#,
            r#""flag":true,"exact":49.00,"f4":1.5,"f8":0.1,"ch":"ab","vc":"varchar","txt":"héllo \"quoted\"","#,
            r#""d":"2025-01-31","dt":"2025-01-31T13:45:30.123","ts":"2025-01-31T13:45:30Z","t":"-12:30:00","#,
            r#""js":{"a": [1, 2.5, null]},"bl":"AP8Q","bn":"YWJj"},"#,
            r#"{"id":2,"tiny":null,"small":null,"medium":null,"big":null,"ubig":null,"flag":null,"exact":null,"f4":null,"#,
            r#""f8":null,"ch":null,"vc":null,"txt":null,"d":null,"dt":null,"ts":null,"t":null,"js":null,"bl":null,"bn":null}]"#
        )
    );
}

#[tokio::test]
async fn parameters_json_arrays_and_writes() {
    let Some(db) = database().await else { return };
    let mcp = mcp(&db);
    let rows = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    assert_eq!(
        rows["structuredContent"]["rows"],
        json!([{"id": 1, "flight_number": "UA0001", "airline": "UA", "status": "boarding", "departure": "2025-01-01T00:37:00", "seats": 107, "price": 62.01}])
    );
    let rows = call(&mcp, "flights_by_numbers", json!({"flight_numbers": ["UA0001", "DL0002", "nope"]})).await;
    assert_eq!(rows["structuredContent"]["rows"].as_array().unwrap().len(), 2);
    let changed = call(&mcp, "update_flight_status", json!({"flight_number": "UA0001", "status": "delayed"})).await;
    assert_eq!(changed["structuredContent"], json!({"rowsAffected": 1}));
    let rows = call(&mcp, "list_flights_by_airline", json!({"airline": "UA", "limit": 3})).await;
    assert_eq!(rows["structuredContent"]["rows"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn client_sql_cannot_change_what_other_calls_see() {
    let Some(db) = database().await else { return };
    let mcp = mcp(&db);
    for sql in
        ["SET SESSION sql_mode = 'ANSI_QUOTES'", "SET @flight = 'x'", "START TRANSACTION; UPDATE flights SET seats = 0"]
    {
        let r = call(&mcp, "execute_sql", json!({"sql": sql})).await;
        assert_ne!(r["isError"], true, "{sql}: {r}");
        for _ in 0..12 {
            let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
            assert_eq!(r["structuredContent"]["rows"][0]["seats"], 107, "after `{sql}`: {r}");
        }
        let r = call(
            &mcp,
            "execute_sql",
            json!({"sql": "SELECT @@SESSION.sql_mode LIKE '%ANSI_QUOTES%' AS ansi, @flight AS f"}),
        )
        .await;
        assert_eq!(r["structuredContent"]["rows"][0], json!({"ansi": 0, "f": null}), "after `{sql}`");
    }
}

/// Client SQL that changes its session and is then abandoned (the client hangs up), timed out
/// (the tool's queryTimeout) or left in a read-only session never hands its connection to another
/// call, and its statement is killed on the server; compiled calls meanwhile and afterwards, on
/// every connection of the pool, see nothing of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_client_sql_never_reaches_another_call() {
    let Some(db) = database().await else { return };
    let mcp = Arc::new(mcp(&db));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let traffic: Vec<_> = (0..4)
        .map(|_| {
            let (mcp, stop) = (mcp.clone(), stop.clone());
            tokio::spawn(async move {
                let mut calls = 0;
                while !stop.load(Ordering::SeqCst) {
                    let r = call(&mcp, "list_flights_by_airline", json!({"airline": "UA", "limit": 3})).await;
                    assert_eq!(r["structuredContent"]["rows"].as_array().map(Vec::len), Some(3), "{r}");
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    // A session that would return one row per query and refuse writes, then a long statement.
    let poison = "SET SESSION sql_select_limit = 1; SET SESSION TRANSACTION READ ONLY; SELECT SLEEP(2)";
    let abandoned =
        tokio::time::timeout(std::time::Duration::from_millis(700), call(&mcp, "execute_sql", json!({"sql": poison})))
            .await;
    assert!(abandoned.is_err(), "the call was still running when its client left");
    let r = call(&mcp, "execute_sql_briefly", json!({"sql": poison})).await;
    assert!(error_text(&r).contains("500 ms"), "{r}");
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        call(&mcp, "query_sql", json!({"sql": "SELECT SLEEP(2)"})),
    )
    .await;
    assert!(abandoned.is_err());
    // The sleeping statements are killed on the server, not left to run their two seconds.
    db.assert_stopped("SLEEP(2)", std::time::Duration::from_millis(1500)).await;
    let calls: Vec<_> = (0..32)
        .map(|i| {
            let mcp = mcp.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    let r = call(&mcp, "update_flight_status", json!({"flight_number": "DL0002", "status": "delayed"}))
                        .await;
                    assert_ne!(r["isError"], true, "{r}");
                } else {
                    let r = call(&mcp, "list_flights_by_airline", json!({"airline": "UA", "limit": 3})).await;
                    assert_eq!(r["structuredContent"]["rows"].as_array().map(Vec::len), Some(3), "{r}");
                }
            })
        })
        .collect();
    for c in calls {
        c.await.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    for t in traffic {
        assert!(t.await.unwrap() > 0);
    }
}

#[tokio::test]
async fn read_only_tools_are_enforced_by_the_engine_and_rows_are_capped() {
    let Some(db) = database().await else { return };
    let mcp = mcp(&db);
    for sql in ["DELETE FROM flights", "DROP TABLE flights", "CREATE TABLE t (a INT)"] {
        let r = call(&mcp, "query_sql", json!({"sql": sql})).await;
        assert!(error_text(&r).contains("READ ONLY"), "{sql}: {r}");
    }
    let r = call(&mcp, "execute_sql", json!({"sql": "SELECT count(*) AS n FROM flights"})).await;
    assert_eq!(r["structuredContent"]["rows"][0]["n"], 5000, "nothing was deleted or dropped");
    let r = call(&mcp, "query_sql", json!({"sql": "SELECT id FROM flights ORDER BY id"})).await;
    assert_eq!(r["structuredContent"]["rows"].as_array().unwrap().len(), 100);
    assert_eq!(r["structuredContent"]["truncated"], true);
}

#[tokio::test]
async fn list_tables_describes_columns() {
    let Some(db) = database().await else { return };
    let r = call(&mcp(&db), "list_tables", json!({"table_names": "flights"})).await;
    let rows = r["structuredContent"]["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1, "{r}");
    let details = &rows[0]["object_details"];
    assert_eq!(details["object_type"], "TABLE");
    assert!(details["columns"].as_array().unwrap().iter().any(|c| c["column_name"] == "price"));
}

#[tokio::test]
async fn a_database_that_is_down_is_an_error_naming_the_source_without_secrets() {
    let Some(db) = database().await else { return };
    let mcp = mcp_with(&db, &[("MYSQL_PORT", "1"), ("MYSQL_PASSWORD", "s3cret-pass")]);
    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    let text = error_text(&r);
    assert!(text.starts_with("source `flights-my` is unavailable: "), "the source is named: {text}");
    assert!(!text.contains("s3cret-pass"), "no credential in errors: {text}");
    assert!(!mcp.sources.health().await[0].up);
}

#[tokio::test]
async fn start_up_reports_schema_drift_by_tool_and_column() {
    let Some(db) = database().await else { return };
    let mut conn = sqlx::MySqlConnection::connect(&db.url()).await.unwrap();
    sqlx::raw_sql("ALTER TABLE all_types ADD COLUMN extra INT; ALTER TABLE flights RENAME COLUMN seats TO capacity")
        .execute(&mut conn)
        .await
        .unwrap();
    let drift = mcp(&db).sources.connect_all().await.drift;
    assert!(drift.iter().any(|d| d == "source `flights-my`, tool `all_types`: column `extra` is new"), "{drift:?}");
    assert!(
        drift.iter().any(|d| d == "source `flights-my`, tool `search_flights_by_number`: the statement no longer prepares: Unknown column 'seats' in 'SELECT'"),
        "{drift:?}"
    );
}

/// The pool's connections send without Nagle's delay (TCP_NODELAY): with it on, the statement
/// closed when the cache evicts one (or after `query_sql`) held back the next prepare until the
/// server's delayed ACK, about 40 ms per call.
#[tokio::test]
async fn pooled_connections_have_nagle_off() {
    let Some(db) = database().await else { return };
    let mcp = mcp(&db);
    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    assert_ne!(r["isError"], true, "{r}");
    testing::assert_nodelay(3306, &db.client_ports().await, "the pool's connections to MariaDB");
}
