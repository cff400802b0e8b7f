//! The PostgreSQL example against the real server on this machine, each test in a database of
//! its own made from `schema.sql` and dropped afterwards. Without a server the tests skip with a
//! reason, except under `CI=true`, where they fail.

use serde_json::{Value, json};
use sqlx::Connection;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use toolbox_runtime::args::NoClaims;
use toolbox_runtime::mcp::{Headers, Mcp, Transport};
use toolbox_runtime::testing::{self, Engine, TestDb, call, error_text};

/// A database of its own for the test, made from `schema.sql`.
async fn database() -> Option<TestDb> {
    TestDb::create(Engine::Postgres, include_str!("../schema.sql")).await
}

/// The example's toolbox over `db`.
fn mcp(db: &TestDb) -> Mcp {
    mcp_with(db, &[])
}

/// The example's toolbox over `db`, with these settings first.
fn mcp_with(db: &TestDb, overrides: &[(&str, &str)]) -> Mcp {
    let mut env = overrides.to_vec();
    env.extend([("PGDATABASE", db.name.as_str()), ("PGSSLMODE", "disable")]);
    testing::mcp(&toolbox_example_postgres::TOOLBOX, &testing::env(&env))
}

#[tokio::test]
async fn every_type_comes_back_as_the_right_json() {
    let Some(db) = database().await else { return };
    let result = call(&mcp(&db), "all_types", json!({})).await;
    let text = result["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        text,
        concat!(
            r#"[{"id":1,"small":-32768,"big":9007199254740993,"exact":49.00,"real4":1.5,"real8":0.1,"flag":true,"#,
            r#""txt":"héllo \"quoted\"","vc":"varchar","ch":"ab ","nm":"a_name","uid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","#,
            r#""d":"2025-01-31","t":"13:45:30.5","ts":"2025-01-31T13:45:30.123456","tstz":"2025-01-31T11:45:30Z","#,
            r#""iv":"P1Y2M3DT4H5M6.5S","js":{"a": [1, 2.5, null]},"jsb":{"b": true},"bin":"AP8Q","ints":[1,null,3],"#,
            r#""texts":["x","y z"],"m":"happy"},"#,
            r#"{"id":2,"small":null,"big":null,"exact":null,"real4":null,"real8":null,"flag":null,"txt":null,"vc":null,"#,
            r#""ch":null,"nm":null,"uid":null,"d":null,"t":null,"ts":null,"tstz":null,"iv":null,"js":null,"jsb":null,"#,
            r#""bin":null,"ints":null,"texts":null,"m":null}]"#
        )
    );
    assert!(result["structuredContent"]["rows"].is_array());
}

#[tokio::test]
async fn typed_parameters_arrays_and_writes() {
    let Some(db) = database().await else { return };
    let mcp = mcp(&db);
    let rows = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    assert_eq!(
        rows["structuredContent"]["rows"],
        json!([{"id": 1, "flight_number": "UA0001", "airline": "UA", "status": "boarding", "departure": "2025-01-01T00:37:00Z", "seats": 107, "price": 62.01}])
    );
    let rows = call(&mcp, "flights_by_numbers", json!({"flight_numbers": ["UA0001", "DL0002", "nope"]})).await;
    assert_eq!(rows["structuredContent"]["rows"].as_array().unwrap().len(), 2);
    let rows = call(&mcp, "update_flight_status", json!({"flight_number": "UA0001", "status": "delayed"})).await;
    assert_eq!(rows["structuredContent"]["rows"], json!([{"flight_number": "UA0001", "status": "delayed"}]));
    let rows = call(&mcp, "list_flights_by_airline", json!({"airline": "UA", "limit": 3})).await;
    assert_eq!(rows["structuredContent"]["rows"].as_array().unwrap().len(), 3);
}

/// Every pooled connection first prepares each statement in the start-up comparison, then serves
/// calls: the values must be sent as the types those prepared statements take (an `integer`
/// against INT4 and NUMERIC, a `float` against NUMERIC, a `string` cast to `date`), and the
/// answers must be psql's.
#[tokio::test]
async fn parameters_bind_as_the_placeholder_type_on_every_connection() {
    let Some(db) = database().await else { return };
    let mcp = Arc::new(mcp(&db));
    // The comparison runs on a connection of the pool; open all eight first so it runs on each.
    let warm: Vec<_> = (0..16)
        .map(|_| {
            let mcp = mcp.clone();
            tokio::spawn(async move { call(&mcp, "wait", json!({"seconds": 0.05})).await })
        })
        .collect();
    for w in warm {
        w.await.unwrap();
    }
    for _ in 0..3 {
        let comparison = mcp.sources.connect_all().await;
        assert!(comparison.is_clean(), "{comparison:?}");
    }
    let mut admin = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let psql = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    let cheaper_than_300 = psql("SELECT count(*) FROM flights WHERE price < 300").fetch_one(&mut admin).await.unwrap();
    let cheaper_than_300_5 =
        psql("SELECT count(*) FROM flights WHERE price < 300.5").fetch_one(&mut admin).await.unwrap();
    let on_day = psql("SELECT count(*) FROM flights WHERE (departure AT TIME ZONE 'UTC')::date = '2025-01-02'")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert!(cheaper_than_300 > 0 && cheaper_than_300_5 > cheaper_than_300 && on_day > 0);
    let cases = [
        ("flight_by_id", json!({"id": 1}), json!([{"flight_number": "UA0001"}])),
        ("count_cheaper_than", json!({"price": 300}), json!([{"n": cheaper_than_300}])),
        ("count_cheaper_than_exactly", json!({"price": 300.5}), json!([{"n": cheaper_than_300_5}])),
        ("count_departing_on", json!({"day": "2025-01-02"}), json!([{"n": on_day}])),
    ];
    let calls: Vec<_> = (0..32)
        .map(|i| {
            let (tool, args, expected) = cases[i % cases.len()].clone();
            let mcp = mcp.clone();
            tokio::spawn(async move {
                let r = call(&mcp, tool, args).await;
                assert_eq!(r["structuredContent"]["rows"], expected, "{tool}: {r}");
            })
        })
        .collect();
    for c in calls {
        c.await.unwrap();
    }
    let r = call(&mcp, "flight_by_id", json!({"id": 1i64 << 40})).await;
    assert_eq!(
        error_text(&r),
        "invalid argument \"id\": 1099511627776 is out of range for the statement's integer (-2147483648 to 2147483647)"
    );
}

#[tokio::test]
async fn client_sql_cannot_change_what_other_calls_see() {
    let Some(db) = database().await else { return };
    let mcp = mcp(&db);
    for sql in
        ["SET search_path TO nowhere", "SET application_name = 'hijacked'", "BEGIN; UPDATE flights SET seats = 0"]
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
            json!({"sql": "SELECT current_setting('search_path') AS p, current_setting('application_name') AS a"}),
        )
        .await;
        assert_eq!(
            r["structuredContent"]["rows"][0],
            json!({"p": "\"$user\", public", "a": "toolbox"}),
            "after `{sql}`"
        );
    }
}

/// Client SQL that changes its session and is then abandoned (the client hangs up), timed out
/// (the tool's queryTimeout) or left inside a read-only transaction never hands its connection to
/// another call, and its statement is cancelled on the server; compiled calls running meanwhile and
/// afterwards, on every connection of the pool, see nothing of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_client_sql_never_reaches_another_call() {
    let Some(db) = database().await else { return };
    let mcp = Arc::new(mcp(&db));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Compiled calls all along, on the pool's connections.
    let traffic: Vec<_> = (0..4)
        .map(|_| {
            let (mcp, stop) = (mcp.clone(), stop.clone());
            tokio::spawn(async move {
                let mut calls = 0;
                while !stop.load(Ordering::SeqCst) {
                    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
                    assert_eq!(r["structuredContent"]["rows"][0]["seats"], 107, "{r}");
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    // Committed before the sleep, so that cancelling the sleep does not undo it.
    let poison = "SET search_path TO nowhere; SET default_transaction_read_only = on; COMMIT; SELECT pg_sleep(2)";
    // A client that hangs up after 0.7 s.
    let abandoned =
        tokio::time::timeout(std::time::Duration::from_millis(700), call(&mcp, "execute_sql", json!({"sql": poison})))
            .await;
    assert!(abandoned.is_err(), "the call was still running when its client left");
    // The tool's own timeout.
    let r = call(&mcp, "execute_sql_briefly", json!({"sql": poison})).await;
    assert!(error_text(&r).contains("500 ms"), "{r}");
    // A read-only statement abandoned inside its read-only transaction.
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        call(&mcp, "query_sql", json!({"sql": "SELECT pg_sleep(2)"})),
    )
    .await;
    assert!(abandoned.is_err());
    // The sleeping statements are cancelled on the server, not left to run their two seconds.
    db.assert_stopped("pg_sleep(2)", std::time::Duration::from_millis(1500)).await;
    // Every connection of the pool, many times over: reads see the flights, writes are allowed.
    let calls: Vec<_> = (0..32)
        .map(|i| {
            let mcp = mcp.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    let r = call(&mcp, "update_flight_status", json!({"flight_number": "DL0002", "status": "delayed"}))
                        .await;
                    assert_eq!(r["structuredContent"]["rows"][0]["status"], "delayed", "{r}");
                } else {
                    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
                    assert_eq!(r["structuredContent"]["rows"][0]["seats"], 107, "{r}");
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
    let r = call(&mcp, "query_sql", json!({"sql": "DELETE FROM flights"})).await;
    assert!(error_text(&r).contains("read-only transaction"), "{r}");
    let r = call(&mcp, "query_sql", json!({"sql": "SELECT 1; DELETE FROM flights"})).await;
    assert!(error_text(&r).contains("multiple commands"), "one statement only: {r}");
    let r = call(&mcp, "execute_sql", json!({"sql": "SELECT count(*) AS n FROM flights"})).await;
    assert_eq!(r["structuredContent"]["rows"][0]["n"], 5000, "nothing was deleted");
    let r = call(&mcp, "query_sql", json!({"sql": "SELECT id FROM flights ORDER BY id"})).await;
    assert_eq!(r["structuredContent"]["rows"].as_array().unwrap().len(), 100);
    assert_eq!(r["structuredContent"]["truncated"], true);
    // The annotations say what the engine enforces.
    let toolset = mcp.toolbox.toolset(None).unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).to_string();
    let headers = Headers { protocol_version: Some("2025-11-25"), ..Default::default() };
    let reply = mcp.handle_body(toolset, body.as_bytes(), Transport::Http(headers), &NoClaims).await;
    let list: Value = serde_json::from_slice(&reply.body.unwrap()).unwrap();
    let annotations = |name: &str| {
        list["result"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["annotations"].clone()
    };
    assert_eq!(annotations("query_sql")["readOnlyHint"], true);
    assert_eq!(annotations("query_sql").get("destructiveHint"), None);
    assert_eq!(annotations("execute_sql")["readOnlyHint"], false);
}

#[tokio::test]
async fn a_tool_timeout_answers_in_time_and_other_calls_go_on() {
    let Some(db) = database().await else { return };
    let mcp = mcp(&db);
    let started = std::time::Instant::now();
    let r = call(&mcp, "wait", json!({"seconds": 3})).await;
    assert_eq!(error_text(&r), "the call did not finish within 300 ms (the tool's queryTimeout)");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "answered at the timeout, not when the statement ended"
    );
    let r = call(&mcp, "wait", json!({"seconds": 0.01})).await;
    assert_eq!(r["structuredContent"]["rows"], json!([{"waited": true}]));
    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    assert_eq!(r["structuredContent"]["rows"][0]["seats"], 107);
}

#[tokio::test]
async fn tls_through_rustls_when_the_source_asks_for_it() {
    let Some(db) = database().await else { return };
    let mcp = mcp_with(&db, &[("PGSSLMODE", "require")]);
    let r = call(&mcp, "execute_sql", json!({"sql": "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"})).await;
    assert_eq!(r["structuredContent"]["rows"], json!([{"ssl": true}]), "{r}");
    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    assert_eq!(r["structuredContent"]["rows"][0]["seats"], 107);
}

#[tokio::test]
async fn list_tables_describes_columns() {
    let Some(db) = database().await else { return };
    let r = call(&mcp(&db), "list_tables", json!({"table_names": "flights"})).await;
    let rows = r["structuredContent"]["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1);
    let details = &rows[0]["object_details"];
    assert_eq!(details["object_type"], "TABLE");
    assert_eq!(details["columns"][0]["column_name"], "id");
    assert!(details["indexes"].as_array().unwrap().iter().any(|i| i["index_name"] == "flights_airline_idx"));
}

/// A connection that breaks under a call (the server restarted, an administrator terminated it)
/// is the source's failure and names the source, as SQLite's errors do; a statement's own error
/// quotes the database.
#[tokio::test]
async fn a_connection_lost_under_a_call_names_the_source() {
    let Some(db) = database().await else { return };
    let mcp = mcp(&db);
    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    assert_eq!(r["structuredContent"]["rows"][0]["flight_number"], "UA0001", "{r}");
    // The pooled connection is terminated from outside, as a restart would.
    let mut admin = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let terminated: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(terminated >= 1);
    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    let text = error_text(&r);
    assert!(text.starts_with("source `flights-pg` is unavailable: "), "{text}");
    // Client SQL that ends its own session.
    let r = call(&mcp, "execute_sql", json!({"sql": "SELECT pg_terminate_backend(pg_backend_pid())"})).await;
    let text = error_text(&r);
    assert!(text.starts_with("source `flights-pg` is unavailable: "), "{text}");
    // A statement's error is the database's.
    let r = call(&mcp, "execute_sql", json!({"sql": "SELECT nope FROM flights"})).await;
    assert_eq!(error_text(&r), "database error: column \"nope\" does not exist");
}

#[tokio::test]
async fn a_database_that_is_down_is_an_error_naming_the_source_without_secrets() {
    let Some(db) = database().await else { return };
    let mcp = mcp_with(&db, &[("PGPORT", "1"), ("PGPASSWORD", "s3cret-pass")]);
    let started = std::time::Instant::now();
    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    let text = error_text(&r);
    assert!(text.starts_with("source `flights-pg` is unavailable: "), "the source is named: {text}");
    assert!(!text.contains("s3cret-pass"), "no credential in errors: {text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "fails within the connect timeout");
    let health = mcp.sources.health().await;
    assert!(!health[0].up);
}

#[tokio::test]
async fn start_up_reports_schema_drift_by_tool_and_column() {
    let Some(db) = database().await else { return };
    let mut conn = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    sqlx::raw_sql("ALTER TABLE flights ALTER COLUMN seats TYPE BIGINT").execute(&mut conn).await.unwrap();
    let drift = mcp(&db).sources.connect_all().await.drift;
    assert!(
        drift
            .iter()
            .any(|d| d == "source `flights-pg`, tool `search_flights_by_number`: column `seats` is `INT8`, was `INT4`"),
        "{drift:?}"
    );
}

/// `--strict-schema` starts only when every statement prepared against the live database: an
/// unreachable database is no start, naming the source.
#[test]
fn strict_schema_refuses_to_start_without_the_database() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_toolbox-example-postgres"))
        .args(["--port", "0", "--strict-schema"])
        .env("PGPORT", "1")
        .env("PGPASSWORD", "s3cret-pass")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the server started (or hung) without its database under --strict-schema");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it must not start: {stderr}");
    assert!(stderr.contains("source `flights-pg`"), "{stderr}");
    assert!(stderr.contains("--strict-schema needs every source reachable"), "{stderr}");
    assert!(!stderr.contains("s3cret-pass"), "no credential in the message: {stderr}");
}

/// `check` (for a deploy pipeline) passes against the example database, and names an unreachable
/// source with exit status 1, without its credentials.
#[tokio::test]
async fn check_confirms_the_live_schema_or_names_the_unreachable_source() {
    let Some(db) = database().await else { return };
    let check = |env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_toolbox-example-postgres"));
        command.arg("check").env("PGDATABASE", &db.name).env("PGSSLMODE", "disable");
        command.envs(env.iter().copied()).output().expect("the binary runs")
    };
    let passed = check(&[]);
    let report = String::from_utf8_lossy(&passed.stdout);
    assert!(passed.status.success(), "{report}{}", String::from_utf8_lossy(&passed.stderr));
    assert!(report.starts_with("ok: 11 statements of 1 source prepare"), "{report}");

    let failed = check(&[("PGPORT", "1"), ("PGPASSWORD", "s3cret-pass")]);
    let report = String::from_utf8_lossy(&failed.stdout);
    assert_eq!(failed.status.code(), Some(1), "{report}");
    assert!(report.starts_with("unreachable: source `flights-pg`: "), "{report}");
    assert!(!report.contains("s3cret-pass"), "{report}");
}

/// The pool's connections send without Nagle's delay (TCP_NODELAY): with it on, a small write
/// that follows another unanswered one (a statement closed, then the next prepared) waits for
/// the server's delayed ACK, about 40 ms.
#[tokio::test]
async fn pooled_connections_have_nagle_off() {
    let Some(db) = database().await else { return };
    let mcp = mcp(&db);
    let r = call(&mcp, "search_flights_by_number", json!({"flight_number": "UA0001"})).await;
    assert_ne!(r["isError"], true, "{r}");
    testing::assert_nodelay(5432, &db.client_ports().await, "the pool's connections to PostgreSQL");
}
