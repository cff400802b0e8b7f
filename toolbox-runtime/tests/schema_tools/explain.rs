//! `*-explain-query`: the engine's plan of one reading statement, which is never run; writes
//! (also inside a CTE), several statements and statements without rows are refused, and the data
//! shows that nothing ran.

use super::*;
use sqlx::Connection;

/// What every engine refuses, with a word the refusal must contain.
fn refused_everywhere(table: &str) -> Vec<(String, &'static str)> {
    vec![
        (format!("DELETE FROM {table}"), ""),
        (format!("SELECT 1; DELETE FROM {table}"), ""),
        (format!("UPDATE {table} SET total = 0"), ""),
        (format!("DROP TABLE {table}"), ""),
    ]
}

async fn assert_refused(mcp: &Mcp, tool: &str, sql: &str, word: &str) {
    let result = testing::call(mcp, tool, json!({"sql": sql})).await;
    let text = testing::error_text(&result);
    assert!(text.contains(word), "{tool} `{sql}`: {text}");
}

#[tokio::test]
async fn postgres_plans_without_running() {
    let Some(db) = pg_db().await else { return };
    let mcp = mcp(None, Some(&db), None);
    let plan = rows(&mcp, "explain_query", json!({"sql": "SELECT * FROM shop.orders WHERE customer_id = 1"})).await;
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0]["plan"][0]["Plan"]["Relation Name"], "orders", "{plan:?}");
    assert!(plan[0]["plan"][0]["Plan"].get("Actual Rows").is_none(), "no ANALYZE: {plan:?}");
    for (sql, word) in refused_everywhere("shop.orders") {
        assert_refused(&mcp, "explain_query", &sql, word).await;
    }
    assert_refused(&mcp, "explain_query", "WITH d AS (DELETE FROM shop.orders RETURNING id) SELECT * FROM d", "writes")
        .await;
    assert_refused(&mcp, "explain_query", "SELECT * INTO shop.copy FROM shop.orders", "only a query").await;
    assert_refused(&mcp, "explain_query", "ANALYZE SELECT 1", "").await;
    assert_refused(&mcp, "explain_query", "SELECT 1; SELECT 2", "multiple commands").await;
    // nextval() changes a sequence even in a transaction that rolls back: planned, it does not.
    let plan = rows(&mcp, "explain_query", json!({"sql": "SELECT nextval('public.ticket')"})).await;
    assert_eq!(plan[0]["plan"][0]["Plan"]["Node Type"], "Result");
    let mut c = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let (orders, called): (i64, bool) =
        sqlx::query_as("SELECT (SELECT count(*) FROM shop.orders), (SELECT is_called FROM public.ticket)")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!((orders, called), (2, false));
    let copy: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('shop.copy')::text").fetch_one(&mut c).await.unwrap();
    assert_eq!(copy, None);
}

#[tokio::test]
async fn mysql_plans_without_running() {
    let Some(db) = mysql_db().await else { return };
    let mcp = mcp(None, None, Some(&db));
    let plan = rows(&mcp, "my_explain_query", json!({"sql": "SELECT * FROM orders WHERE customer_id = 1"})).await;
    assert_eq!(plan.len(), 1);
    assert!(plan[0]["plan"]["query_block"].is_object(), "{plan:?}");
    assert!(plan[0]["plan"].to_string().contains("\"orders\""), "{plan:?}");
    for (sql, word) in refused_everywhere("orders") {
        assert_refused(&mcp, "my_explain_query", &sql, word).await;
    }
    assert_refused(&mcp, "my_explain_query", "INSERT INTO customers (email) SELECT 'c@example.com'", "").await;
    assert_refused(&mcp, "my_explain_query", "ANALYZE SELECT 1", "").await;
    let mut c = sqlx::MySqlConnection::connect(&db.url()).await.unwrap();
    let counts: (i64, i64) = sqlx::query_as("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customers)")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(counts, (2, 2));
}

#[tokio::test]
async fn sqlite_plans_without_running() {
    let (_dir, path) = sqlite_db();
    let mcp = mcp(Some(&path), None, None);
    // The first call creates the database; then the test adds rows.
    let plan = rows(&mcp, "lite_explain_query", json!({"sql": "SELECT * FROM orders WHERE customer_id = 1"})).await;
    let detail = plan[0]["plan"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("orders_customer_idx"), "{plan:?}");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("INSERT INTO customers (email) VALUES ('a@example.com'); INSERT INTO orders (customer_id, total) VALUES (1, 5);")
        .unwrap();
    for (sql, word) in refused_everywhere("orders") {
        assert_refused(&mcp, "lite_explain_query", &sql, word).await;
    }
    assert_refused(
        &mcp,
        "lite_explain_query",
        "WITH d AS (SELECT id FROM orders) DELETE FROM orders WHERE id IN d",
        "read-only",
    )
    .await;
    assert_refused(&mcp, "lite_explain_query", "SELECT 1; SELECT 2", "one statement").await;
    assert_refused(&mcp, "lite_explain_query", "BEGIN", "only a query").await;
    assert_refused(&mcp, "lite_explain_query", "ATTACH 'other.db' AS other", "").await;
    let counts: (i64, i64) = c
        .query_row("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customers)", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(counts, (1, 1));
}
