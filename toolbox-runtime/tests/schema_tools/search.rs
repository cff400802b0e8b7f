//! `*-search-objects` against each engine's own catalog: every object at `names`, the `summary`
//! and `full` texts checked against information_schema / pg_catalog / SQLite's pragmas, and
//! patterns, filters, limits and truncation.

use super::*;
use sqlx::{Connection, Row};

type Key = (String, String, String);

/// The rows the catalog expects, with each object's bare name (what the pattern matches) and the
/// table it belongs to.
struct Expected {
    objects: Vec<(Key, String, Option<String>)>,
}

impl Expected {
    fn all(&self) -> BTreeSet<Key> {
        self.objects.iter().map(|(k, _, _)| k.clone()).collect()
    }

    fn filter(&self, keep: impl Fn(&Key, &str, Option<&str>) -> bool) -> BTreeSet<Key> {
        self.objects
            .iter()
            .filter(|(k, bare, table)| keep(k, bare, table.as_deref()))
            .map(|(k, _, _)| k.clone())
            .collect()
    }
}

fn object(schema: &str, table: Option<&str>, name: &str, ty: &str) -> (Key, String, Option<String>) {
    let shown = match table {
        Some(t) if ty != "table" && ty != "view" => format!("{t}.{name}"),
        _ => name.to_string(),
    };
    ((schema.to_string(), shown, ty.to_string()), name.to_string(), table.map(str::to_string))
}

/// Patterns, filters, limits and truncation, the same on every engine.
async fn check_filters(mcp: &Mcp, tool: &str, schema: &str, expected: &Expected) {
    let like_order = |k: &Key, bare: &str, _: Option<&str>| k.0 == schema && bare.to_lowercase().starts_with("order");
    let got = keys(&rows(mcp, tool, json!({"pattern": "ORDER%", "schema": schema, "limit": 1000})).await);
    assert_eq!(got, expected.filter(like_order), "{tool}: pattern");
    let got = keys(&rows(mcp, tool, json!({"pattern": "%_id", "schema": schema, "limit": 1000})).await);
    assert_eq!(
        got,
        expected.filter(|k, bare, _| k.0 == schema && bare.len() >= 3 && bare.to_lowercase().ends_with("id")),
        "{tool}: _ and %"
    );
    let got = keys(&rows(mcp, tool, json!({"type": "index", "schema": schema, "limit": 1000})).await);
    assert_eq!(got, expected.filter(|k, _, _| k.0 == schema && k.2 == "index"), "{tool}: type");
    let got = keys(&rows(mcp, tool, json!({"table": "orders", "schema": schema, "limit": 1000})).await);
    assert_eq!(got, expected.filter(|k, _, table| k.0 == schema && table == Some("orders")), "{tool}: table");
    // Limits: the first rows of the whole answer, and the answer says more matched.
    let everything = rows(mcp, tool, json!({"schema": schema, "limit": 1000})).await;
    assert_eq!(keys(&everything), expected.filter(|k, _, _| k.0 == schema), "{tool}: everything");
    let (first, cut) = truncated(mcp, tool, json!({"schema": schema, "limit": 3})).await;
    assert!(cut, "{tool}: three of {} rows are a truncated answer", everything.len());
    assert_eq!(first, everything[..3].to_vec(), "{tool}: the first three rows");
    let (all, cut) = truncated(mcp, tool, json!({"schema": schema, "limit": everything.len()})).await;
    assert!(!cut && all.len() == everything.len(), "{tool}: a limit of exactly every row is not truncated");
    // The default is 100 rows, at most 1,000; a bad argument is an error the model can read.
    let result = testing::call(mcp, tool, json!({"limit": 1001})).await;
    assert!(testing::error_text(&result).contains("limit"), "{result}");
    let result = testing::call(mcp, tool, json!({"type": "tables"})).await;
    assert!(testing::error_text(&result).contains("type"), "{result}");
    // `names` rows are three keys; `full` rows five.
    let one = rows(mcp, tool, json!({"schema": schema, "limit": 1})).await;
    assert_eq!(one[0].as_object().unwrap().len(), 3, "{one:?}");
    let one = rows(mcp, tool, json!({"schema": schema, "limit": 1, "detail": "full"})).await;
    assert_eq!(one[0].as_object().unwrap().len(), 5, "{one:?}");
}

fn find<'a>(rows: &'a [Value], name: &str, ty: &str) -> &'a Value {
    rows.iter().find(|r| r["name"] == name && r["type"] == ty).unwrap_or_else(|| panic!("{ty} {name} in {rows:?}"))
}

#[tokio::test]
async fn postgres_search_matches_the_catalog() {
    let Some(db) = pg_db().await else { return };
    let mcp = mcp(None, Some(&db), None);
    let mut c = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let user = "NOT IN ('pg_catalog', 'information_schema') AND {} NOT LIKE 'pg\\_%'";
    let mut objects = Vec::new();
    let q = |sql: String| sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
    for r in q(format!(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name {}",
        user.replace("{}", "schema_name")
    ))
    .fetch_all(&mut c)
    .await
    .unwrap()
    {
        let s: String = r.get(0);
        objects.push(object(&s, None, &s, "schema"));
    }
    let tables = format!(
        "SELECT table_schema::text, table_name::text, table_type::text FROM information_schema.tables WHERE table_schema {}",
        user.replace("{}", "table_schema")
    );
    for r in q(tables).fetch_all(&mut c).await.unwrap() {
        let (s, t, ty): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        objects.push(object(&s, Some(&t), &t, if ty == "VIEW" { "view" } else { "table" }));
    }
    let columns = format!(
        "SELECT table_schema::text, table_name::text, column_name::text FROM information_schema.columns WHERE table_schema {}",
        user.replace("{}", "table_schema")
    );
    for r in q(columns).fetch_all(&mut c).await.unwrap() {
        objects.push(object(&r.get::<String, _>(0), Some(&r.get::<String, _>(1)), &r.get::<String, _>(2), "column"));
    }
    let indexes = format!(
        "SELECT schemaname::text, tablename::text, indexname::text FROM pg_indexes WHERE schemaname {}",
        user.replace("{}", "schemaname")
    );
    for r in q(indexes).fetch_all(&mut c).await.unwrap() {
        objects.push(object(&r.get::<String, _>(0), Some(&r.get::<String, _>(1)), &r.get::<String, _>(2), "index"));
    }
    let routines = format!(
        "SELECT routine_schema::text, routine_name::text, lower(routine_type) FROM information_schema.routines WHERE routine_schema {}",
        user.replace("{}", "routine_schema")
    );
    for r in q(routines).fetch_all(&mut c).await.unwrap() {
        objects.push(object(&r.get::<String, _>(0), None, &r.get::<String, _>(1), &r.get::<String, _>(2)));
    }
    let expected = Expected { objects };
    assert!(expected.all().len() > 20, "{:?}", expected.all());
    let got = keys(&rows(&mcp, "search_objects", json!({"limit": 1000})).await);
    assert_eq!(got, expected.all());
    check_filters(&mcp, "search_objects", "shop", &expected).await;

    // summary: column types and nullability as information_schema has them, counts, index keys.
    let summary = rows(&mcp, "search_objects", json!({"schema": "shop", "detail": "summary", "limit": 1000})).await;
    let cols = "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns WHERE table_schema = 'shop'";
    for r in sqlx::raw_sql(cols).fetch_all(&mut c).await.unwrap() {
        let (t, col, ty, nullable): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        let info = find(&summary, &format!("{t}.{col}"), "column")["info"].as_str().unwrap().to_string();
        assert!(info.starts_with(&ty), "{t}.{col}: {info} is not of type {ty}");
        assert_eq!(info.ends_with(" not null"), nullable == "NO", "{t}.{col}: {info}");
    }
    assert_eq!(find(&summary, "customers", "table")["info"], "3 columns; People who order");
    assert_eq!(find(&summary, "shop", "schema")["info"], "2 tables");
    assert_eq!(find(&summary, "orders.orders_customer_idx", "index")["info"], "(customer_id, placed_at)");
    assert_eq!(find(&summary, "customers.customers_email_key", "index")["info"], "unique (email)");
    assert_eq!(find(&summary, "order_count", "function")["info"], "(c integer) returns bigint");
    assert_eq!(find(&summary, "forget", "procedure")["info"], "(IN c integer)");

    // full: index and view definitions as pg_indexes and pg_views give them.
    let full = rows(&mcp, "search_objects", json!({"schema": "shop", "detail": "full", "limit": 1000})).await;
    for r in
        sqlx::raw_sql("SELECT tablename::text, indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'shop'")
            .fetch_all(&mut c)
            .await
            .unwrap()
    {
        let (t, i, def): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        assert_eq!(find(&full, &format!("{t}.{i}"), "index")["definition"], def.as_str());
    }
    let view: String =
        sqlx::query_scalar("SELECT definition FROM pg_views WHERE schemaname = 'shop' AND viewname = 'big_orders'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(find(&full, "big_orders", "view")["definition"], view.as_str());
    assert_eq!(find(&full, "customers.name", "column")["definition"], "default 'anonymous'::character varying");
    let function = find(&full, "order_count", "function")["definition"].as_str().unwrap();
    assert!(function.contains("CREATE OR REPLACE FUNCTION shop.order_count"), "{function}");
}

#[tokio::test]
async fn mysql_search_matches_the_catalog() {
    let Some(db) = mysql_db().await else { return };
    let mcp = mcp(None, None, Some(&db));
    let mut c = sqlx::MySqlConnection::connect(&db.url()).await.unwrap();
    let schema = db.name.as_str();
    let text = |r: &sqlx::mysql::MySqlRow, i: usize| -> String {
        r.try_get::<String, _>(i).unwrap_or_else(|_| String::from_utf8(r.get::<Vec<u8>, _>(i)).unwrap())
    };
    let q = |sql: &str| sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(schema.to_string());
    let mut objects = vec![object(schema, None, schema, "schema")];
    for r in q("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?")
        .fetch_all(&mut c)
        .await
        .unwrap()
    {
        let t = text(&r, 0);
        objects.push(object(schema, Some(&t), &t, if text(&r, 1) == "VIEW" { "view" } else { "table" }));
    }
    for r in q("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?")
        .fetch_all(&mut c)
        .await
        .unwrap()
    {
        objects.push(object(schema, Some(&text(&r, 0)), &text(&r, 1), "column"));
    }
    for r in q("SELECT DISTINCT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ?")
        .fetch_all(&mut c)
        .await
        .unwrap()
    {
        objects.push(object(schema, Some(&text(&r, 0)), &text(&r, 1), "index"));
    }
    for r in q("SELECT ROUTINE_NAME, LOWER(ROUTINE_TYPE) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?")
        .fetch_all(&mut c)
        .await
        .unwrap()
    {
        objects.push(object(schema, None, &text(&r, 0), &text(&r, 1)));
    }
    let expected = Expected { objects };
    assert!(expected.all().len() > 15, "{:?}", expected.all());
    check_filters(&mcp, "my_search_objects", schema, &expected).await;

    let summary = rows(&mcp, "my_search_objects", json!({"schema": schema, "detail": "summary", "limit": 1000})).await;
    for r in q("SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?")
        .fetch_all(&mut c)
        .await
        .unwrap()
    {
        let (t, col, ty, nullable) = (text(&r, 0), text(&r, 1), text(&r, 2), text(&r, 3));
        let not_null = if nullable == "NO" { " not null" } else { "" };
        assert_eq!(find(&summary, &format!("{t}.{col}"), "column")["info"], format!("{ty}{not_null}").as_str());
    }
    assert_eq!(find(&summary, "customers", "table")["info"], "3 columns; People who order");
    assert_eq!(find(&summary, schema, "schema")["info"], "2 tables");
    assert_eq!(find(&summary, "orders.orders_customer_idx", "index")["info"], "(customer_id, placed_at)");
    assert_eq!(find(&summary, "orders.PRIMARY", "index")["info"], "primary key (id)");
    assert_eq!(find(&summary, "customers.email", "index")["info"], "unique (email)");
    assert_eq!(find(&summary, "order_count", "function")["info"], "(IN c int(11)) returns bigint(20)");
    assert_eq!(find(&summary, "forget", "procedure")["info"], "(IN c int(11))");

    let full = rows(&mcp, "my_search_objects", json!({"schema": schema, "detail": "full", "limit": 1000})).await;
    let view = q("SELECT VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(find(&full, "big_orders", "view")["definition"], text(&view, 0).as_str());
    let routine = q("SELECT ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = 'forget'")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(find(&full, "forget", "procedure")["definition"], text(&routine, 0).as_str());
    assert_eq!(find(&full, "customers.name", "column")["definition"], "default 'anonymous'");
}

#[tokio::test]
async fn sqlite_search_matches_the_pragmas() {
    let (_dir, path) = sqlite_db();
    let mcp = mcp(Some(&path), None, None);
    // The first call creates the database from sqlite.sql.
    let got = keys(&rows(&mcp, "lite_search_objects", json!({"limit": 1000})).await);
    let c = rusqlite::Connection::open(&path).unwrap();
    let mut objects = vec![object("main", None, "main", "schema")];
    let all = |sql: &str| -> Vec<Vec<String>> {
        let mut s = c.prepare(sql).unwrap();
        let n = s.column_count();
        s.query_map([], |r| (0..n).map(|i| r.get::<_, String>(i)).collect()).unwrap().map(Result::unwrap).collect()
    };
    for r in all("SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite%'") {
        objects.push(object("main", Some(&r[0]), &r[0], &r[1]));
    }
    for r in
        all("SELECT m.name, c.name FROM sqlite_schema m, pragma_table_info(m.name) c WHERE m.type IN ('table', 'view')")
    {
        objects.push(object("main", Some(&r[0]), &r[1], "column"));
    }
    for r in all("SELECT m.name, i.name FROM sqlite_schema m, pragma_index_list(m.name) i WHERE m.type = 'table'") {
        objects.push(object("main", Some(&r[0]), &r[1], "index"));
    }
    for r in all("SELECT tbl_name, name FROM sqlite_schema WHERE type = 'trigger'") {
        objects.push(object("main", Some(&r[0]), &r[1], "trigger"));
    }
    let expected = Expected { objects };
    assert!(expected.all().len() > 15, "{:?}", expected.all());
    assert_eq!(got, expected.all());
    check_filters(&mcp, "lite_search_objects", "main", &expected).await;

    let summary = rows(&mcp, "lite_search_objects", json!({"detail": "summary", "limit": 1000})).await;
    for r in all(
        "SELECT m.name, c.name, c.type, CAST(c.\"notnull\" AS TEXT), CAST(c.pk AS TEXT) FROM sqlite_schema m, pragma_table_info(m.name) c WHERE m.type = 'table'",
    ) {
        let info = find(&summary, &format!("{}.{}", r[0], r[1]), "column")["info"].as_str().unwrap().to_string();
        assert!(info.starts_with(&r[2]), "{info}");
        assert_eq!(info.contains(" not null"), r[3] == "1", "{info}");
        assert_eq!(info.ends_with(" primary key"), r[4] != "0", "{info}");
    }
    assert_eq!(find(&summary, "orders", "table")["info"], "4 columns");
    assert_eq!(find(&summary, "main", "schema")["info"], "3 tables");
    assert_eq!(find(&summary, "orders.orders_customer_idx", "index")["info"], "(customer_id, placed_at)");
    assert_eq!(
        find(&summary, "order_lines.sqlite_autoindex_order_lines_1", "index")["info"],
        "primary key (order_id, line)"
    );
    let full = rows(&mcp, "lite_search_objects", json!({"detail": "full", "limit": 1000})).await;
    for r in all("SELECT name, type, sql FROM sqlite_schema WHERE type IN ('table', 'view')") {
        assert_eq!(find(&full, &r[0], &r[1])["definition"], r[2].as_str());
    }
    assert_eq!(find(&full, "customers.name", "column")["definition"], "default 'anonymous'");
}

/// `sqlite-list-tables`: the parameters and row shape of `postgres-list-tables`, the details of the
/// reference's prebuilt SQLite `list_tables`, compared with the pragmas.
#[tokio::test]
async fn sqlite_list_tables_describes_what_the_pragmas_say() {
    let (_dir, path) = sqlite_db();
    let mcp = mcp(Some(&path), None, None);
    let simple = rows(&mcp, "lite_list_tables", json!({"output_format": "simple"})).await;
    let names: Vec<&str> = simple.iter().map(|r| r["object_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["customers", "order_lines", "orders"]);
    assert_eq!(simple[0]["object_details"], json!({"name": "customers"}));
    let detailed = rows(&mcp, "lite_list_tables", json!({"table_names": "orders, order_lines"})).await;
    assert_eq!(detailed.len(), 2);
    let orders = &detailed[1]["object_details"];
    assert_eq!(detailed[1]["schema_name"], "main");
    assert_eq!(orders["object_type"], "TABLE");
    let c = rusqlite::Connection::open(&path).unwrap();
    let mut s = c
        .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('orders') ORDER BY cid")
        .unwrap();
    let columns: Vec<Value> = s
        .query_map([], |r| {
            Ok(json!({
                "column_name": r.get::<_, String>(0)?, "data_type": r.get::<_, String>(1)?,
                "is_not_nullable": r.get::<_, bool>(2)?, "column_default": r.get::<_, Option<String>>(3)?,
                "is_primary_key": r.get::<_, i64>(4)? > 0,
            }))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let got: Vec<Value> = orders["columns"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            assert_eq!(c["ordinal_position"], i + 1);
            let mut c = c.clone();
            c.as_object_mut().unwrap().remove("ordinal_position");
            c
        })
        .collect();
    assert_eq!(got, columns);
    assert_eq!(orders["indexes"][0]["index_columns"], json!(["customer_id", "placed_at"]));
    assert_eq!(orders["triggers"][0]["trigger_name"], "orders_touch");
    let keys = &orders["constraints"];
    assert!(
        keys.as_array().unwrap().contains(
            &json!({"constraint_name": "PRIMARY", "constraint_type": "PRIMARY KEY", "constraint_columns": ["id"]})
        ),
        "{keys}"
    );
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["constraint_type"] == "FOREIGN KEY" && k["foreign_key_referenced_table"] == "customers"),
        "{keys}"
    );
    let lines = &detailed[0]["object_details"]["constraints"][0];
    assert_eq!(lines["constraint_columns"], json!(["order_id", "line"]));
}
