//! The HTTP router driven in-process: every protocol generation, the error paths, the guards,
//! and the demo tools returning real rows.

use crate::util::*;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use toolbox_runtime::http::HttpConfig;

#[tokio::test]
async fn initialize_echoes_known_versions_and_falls_back_to_the_latest_legacy_one() {
    let t = app();
    for v in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let r = legacy(
            &t.app,
            None,
            "initialize",
            json!({"protocolVersion": v, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["result"]["protocolVersion"], v);
        assert_eq!(r.body["result"]["serverInfo"]["name"], "toolbox");
        assert!(r.body["result"]["instructions"].as_str().unwrap().contains("IATA"));
    }
    for v in ["2099-01-01", "2026-07-28"] {
        let r = legacy(&t.app, None, "initialize", json!({"protocolVersion": v, "capabilities": {}})).await;
        assert_eq!(r.body["result"]["protocolVersion"], "2025-11-25", "initialize never negotiates {v}");
    }
    let old = legacy(&t.app, None, "initialize", json!({"protocolVersion": "2024-11-05"})).await;
    assert!(old.body["result"]["capabilities"].get("completions").is_none(), "completions came with 2025-03-26");
}

#[tokio::test]
async fn tools_list_has_the_shape_of_each_version() {
    let t = app();
    let old = legacy(&t.app, Some("2024-11-05"), "tools/list", json!({})).await;
    let tools = old.body["result"]["tools"].as_array().unwrap().clone();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "book_seat",
            "execute_sql",
            "flight_stats",
            "get_flight",
            "list_bookings",
            "search_flights",
            "update_flight_status"
        ]
    );
    assert!(tools.iter().all(|t| t.get("annotations").is_none() && t.get("outputSchema").is_none()));

    let mid = legacy(&t.app, Some("2025-03-26"), "tools/list", json!({})).await;
    let search = &mid.body["result"]["tools"][5];
    assert_eq!(search["annotations"], json!({"readOnlyHint": true, "openWorldHint": false}));
    assert!(search.get("outputSchema").is_none());

    let new = legacy(&t.app, Some("2025-11-25"), "tools/list", json!({})).await;
    let search = &new.body["result"]["tools"][5];
    assert_eq!(search["inputSchema"]["required"], json!(["origin", "destination"]));
    assert_eq!(
        search["inputSchema"]["properties"]["limit"],
        json!({"type": "integer", "description": "Maximum number of flights to return.", "default": 10, "minimum": 1, "maximum": 100})
    );
    let row = &search["outputSchema"]["properties"]["rows"]["items"];
    assert_eq!(row["properties"]["seats"], json!({"type": "integer"}));
    assert_eq!(row["properties"]["price"], json!({"type": "number"}));
    let update = &new.body["result"]["tools"][6];
    assert_eq!(update["annotations"]["destructiveHint"], true);
    assert_eq!(update["inputSchema"]["properties"]["status"]["enum"][0], "scheduled");
    assert_eq!(new.body["result"].get("ttlMs"), None, "cache hints are a 2026-07-28 field");
}

#[tokio::test]
async fn a_call_returns_rows_as_one_json_array_plus_structured_content() {
    let t = app();
    let args = json!({"name": "search_flights", "arguments": {"origin": "SFO", "destination": "JFK", "limit": 2}});
    let r = legacy(&t.app, Some("2025-06-18"), "tools/call", args.clone()).await;
    let result = &r.body["result"];
    assert_eq!(result["content"].as_array().unwrap().len(), 1, "all rows in one content block");
    let rows = rows(result);
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(
        rows[0],
        json!({"flight_number": "UA0008", "airline": "UA", "origin": "SFO", "destination": "JFK", "departure": "2026-12-01T04:56:00Z", "status": "departed", "seats": 156, "price": 153.08})
    );
    assert_eq!(result["structuredContent"]["rows"], rows);

    let legacy_result = legacy(&t.app, None, "tools/call", args).await;
    assert!(legacy_result.body["result"].get("structuredContent").is_none(), "header-less means 2025-03-26");
}

#[tokio::test]
async fn values_are_encoded_by_type_and_joins_work() {
    let t = app();
    let r = legacy(
        &t.app,
        Some("2025-11-25"),
        "tools/call",
        json!({"name": "get_flight", "arguments": {"flight_number": "UA0008"}}),
    )
    .await;
    let row = &rows(&r.body["result"])[0];
    assert_eq!(row["origin_name"], "San Francisco International");
    assert_eq!(row["booked"], 1);
    let r = legacy(
        &t.app,
        Some("2025-11-25"),
        "tools/call",
        json!({"name": "list_bookings", "arguments": {"flight_number": "UA0008"}}),
    )
    .await;
    let booking = &rows(&r.body["result"])[0];
    assert_eq!(booking["checked_in"], json!(false), "a BOOLEAN column comes back as a boolean");
    let r = legacy(
        &t.app,
        Some("2025-11-25"),
        "tools/call",
        json!({"name": "execute_sql", "arguments": {"sql": "SELECT NULL AS n, x'00ff' AS b, 1.5 AS r, 'a\"b' AS s"}}),
    )
    .await;
    assert_eq!(rows(&r.body["result"]), json!([{"n": null, "b": "AP8=", "r": 1.5, "s": "a\"b"}]));
}

#[tokio::test]
async fn writes_return_their_rows_or_the_affected_count() {
    let t = app();
    let call = |name: &str, arguments: Value| {
        legacy(&t.app, Some("2025-11-25"), "tools/call", json!({"name": name, "arguments": arguments}))
    };
    let r = call("update_flight_status", json!({"flight_number": "UA0008", "status": "delayed"})).await;
    assert_eq!(rows(&r.body["result"]), json!([{"flight_number": "UA0008", "status": "delayed"}]));
    let r =
        call("book_seat", json!({"flight_number": "UA0008", "passenger": "Ada Lovelace", "email": "ada@example.com"}))
            .await;
    let booking = &rows(&r.body["result"])[0];
    assert_eq!(booking["passenger"], "Ada Lovelace");
    assert_eq!(booking["seat"], Value::Null, "an optional parameter left out binds NULL");
    let r = call("execute_sql", json!({"sql": "UPDATE flights SET seats = seats + 1 WHERE airline = 'UA'"})).await;
    assert_eq!(r.body["result"]["structuredContent"], json!({"rowsAffected": 625}));
    assert_eq!(r.body["result"]["content"][0]["text"], "{\"rowsAffected\":625}");
}

/// Client SQL reaches no other file of the server's file system (`ATTACH` of an existing database,
/// `VACUUM INTO` a path of its choosing), and a session it changes ends with the call: each call
/// runs on a connection of its own.
#[tokio::test]
async fn client_sql_stays_inside_its_database_and_its_call() {
    let t = app();
    let other = tempfile::tempdir().unwrap();
    let copy = other.path().join("copy.db");
    let call = |sql: String| {
        legacy(&t.app, Some("2025-11-25"), "tools/call", json!({"name": "execute_sql", "arguments": {"sql": sql}}))
    };
    for sql in [
        format!("ATTACH '{}' AS other", other.path().join("other.db").display()),
        format!("VACUUM INTO '{}'", copy.display()),
    ] {
        let r = call(sql.clone()).await;
        assert_eq!(
            error_text(&r.body["result"]),
            "database error: ATTACH, DETACH and VACUUM INTO are refused: client SQL may not reach other database files",
            "{sql}"
        );
    }
    assert!(!copy.exists());
    let r = call("CREATE TEMP TABLE scratch (x); PRAGMA foreign_keys = OFF;".into()).await;
    assert_ne!(r.body["result"]["isError"], true, "{}", r.body);
    let r = call("SELECT count(*) AS n FROM temp.sqlite_master WHERE name = 'scratch'".into()).await;
    assert_eq!(rows(&r.body["result"]), json!([{"n": 0}]), "the temporary table ended with its call");
    let r = call("PRAGMA foreign_keys".into()).await;
    assert_eq!(rows(&r.body["result"]), json!([{"foreign_keys": 1}]), "the PRAGMA ended with its call");
}

#[tokio::test]
async fn bad_arguments_are_tool_errors_that_name_the_parameter() {
    let t = app();
    let call = |arguments: Value| {
        legacy(&t.app, Some("2025-11-25"), "tools/call", json!({"name": "search_flights", "arguments": arguments}))
    };
    let cases = [
        (json!({"destination": "JFK"}), "invalid argument \"origin\": is required"),
        (
            json!({"origin": "SFO", "destination": "JFK", "limit": "three"}),
            "invalid argument \"limit\": expected an integer, got \"three\"",
        ),
        (
            json!({"origin": "SFO", "destination": "JFK", "limit": 1000}),
            "invalid argument \"limit\": 1000 is above the maximum 100",
        ),
        (json!({"origin": 5, "destination": "JFK"}), "invalid argument \"origin\": expected a string, got 5"),
        (
            json!({"origin": "SFO", "destination": "JFK", "limt": 3}),
            "invalid argument \"limt\": no such parameter; this tool takes: origin, destination, departing_after, limit",
        ),
    ];
    for (arguments, expected) in cases {
        let r = call(arguments).await;
        assert_eq!(r.status, 200);
        assert_eq!(error_text(&r.body["result"]), expected);
    }
    let r = legacy(
        &t.app,
        Some("2025-11-25"),
        "tools/call",
        json!({"name": "update_flight_status", "arguments": {"flight_number": "UA0008", "status": "lost"}}),
    )
    .await;
    assert!(
        error_text(&r.body["result"])
            .starts_with("invalid argument \"status\": \"lost\" is not one of the allowed values")
    );
    let r = legacy(&t.app, Some("2025-11-25"), "tools/call", json!({"name": "search_flights", "arguments": [1]})).await;
    assert_eq!(r.body["error"]["code"], -32602);
}

#[tokio::test]
async fn template_parameters_choose_among_compiled_statements() {
    let t = app();
    let call = |group: Value| {
        legacy(
            &t.app,
            Some("2025-11-25"),
            "tools/call",
            json!({"name": "flight_stats", "arguments": {"group_by": group}}),
        )
    };
    let r = call(json!("status")).await;
    let stats = rows(&r.body["result"]);
    assert_eq!(stats.as_array().unwrap().len(), 6);
    assert!(stats.as_array().unwrap().iter().all(|s| s["flights"].as_i64().unwrap() > 800));
    let r = call(json!("price; DROP TABLE flights")).await;
    assert!(
        error_text(&r.body["result"])
            .contains("is not one of the allowed values: \"airline\", \"origin\", \"destination\", \"status\"")
    );
}

#[tokio::test]
async fn unknown_tools_and_methods_are_protocol_errors() {
    let t = app();
    let r = legacy(&t.app, Some("2025-11-25"), "tools/call", json!({"name": "no_such_tool", "arguments": {}})).await;
    assert_eq!((r.status, r.body["error"]["code"].clone()), (200, json!(-32602)));
    assert_eq!(r.body["error"]["message"], "unknown tool `no_such_tool`");
    assert_eq!(r.body["id"], 1, "errors echo the request id");
    let r = legacy(&t.app, Some("2025-11-25"), "sampling/createMessage", json!({})).await;
    assert_eq!(r.body["error"]["code"], -32601);
}

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let t = app();
    let r = send(&t.app, post("/mcp", &[], "{\"jsonrpc\":\"2.0\",")).await;
    assert_eq!((r.status, r.body["error"]["code"].clone(), r.body["id"].clone()), (400, json!(-32700), Value::Null));
    let r = send(&t.app, post("/mcp", &[], r#"{"id":1,"method":"ping"}"#)).await;
    assert_eq!((r.status, r.body["error"]["code"].clone()), (400, json!(-32600)));
    let r = send(&t.app, post("/mcp", &[], r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)).await;
    assert_eq!((r.status, r.text.as_str()), (202, ""));
    let wrong_type = Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(send(&t.app, wrong_type).await.status, 415);
    let get = Request::get("/mcp").header("host", "localhost").body(Body::empty()).unwrap();
    let r = send(&t.app, get).await;
    assert_eq!((r.status, r.headers["allow"].to_str().unwrap()), (405, "POST"));
}

#[tokio::test]
async fn batches_exist_only_in_2025_03_26() {
    let t = app();
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]"#;
    let r = send(&t.app, post("/mcp", &[("mcp-protocol-version", "2025-03-26")], batch)).await;
    assert_eq!(r.status, 200);
    let replies = r.body.as_array().unwrap();
    assert_eq!(replies.len(), 2, "the notification gets no reply");
    assert_eq!((replies[0]["id"].clone(), replies[1]["id"].clone()), (json!(1), json!(2)));
    let r = send(&t.app, post("/mcp", &[("mcp-protocol-version", "2025-06-18")], batch)).await;
    assert_eq!((r.status, r.body["error"]["code"].clone()), (400, json!(-32600)));
}

#[tokio::test]
async fn oversized_bodies_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_database(&dir.path().join("a.db").display().to_string(), 1024);
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "execute_sql", "arguments": {"sql": "x".repeat(2000)}}}).to_string();
    let r = send(&app, post("/mcp", &[], big)).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body["error"]["message"], "the request body exceeds 1024 bytes");
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let t = app();
    let evil_host = Request::post("/mcp")
        .header("host", "evil.example.com")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#))
        .unwrap();
    assert_eq!(send(&t.app, evil_host).await.status, 403);
    let r = send(
        &t.app,
        post("/mcp", &[("origin", "https://evil.example.com")], r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = send(
        &t.app,
        post("/mcp", &[("origin", "http://localhost:6274")], r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["access-control-allow-origin"], "http://localhost:6274");
}

#[tokio::test]
async fn toolsets_limit_what_is_listed_and_callable() {
    let t = app();
    let list = send(
        &t.app,
        post(
            "/mcp/traveller",
            &[("mcp-protocol-version", "2025-11-25")],
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        ),
    )
    .await;
    let names: Vec<&str> =
        list.body["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["book_seat", "get_flight", "list_bookings", "search_flights"]);
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"execute_sql","arguments":{"sql":"DELETE FROM bookings"}}}"#;
    let r = send(&t.app, post("/mcp/traveller", &[], call)).await;
    assert_eq!(r.body["error"]["message"], "unknown tool `execute_sql`", "a toolset is a boundary, not a filter");
    let r = send(&t.app, post("/mcp/nope", &[], r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)).await;
    assert_eq!((r.status, r.body["error"]["message"].clone()), (404, json!("unknown toolset `nope`")));
}

#[tokio::test]
async fn prompts_render_their_arguments() {
    let t = app();
    let r = legacy(&t.app, Some("2025-11-25"), "prompts/list", json!({})).await;
    assert_eq!(r.body["result"]["prompts"][0]["name"], "plan_trip");
    assert_eq!(
        r.body["result"]["prompts"][0]["arguments"][0],
        json!({"name": "origin", "description": "IATA code of the departure airport.", "required": true})
    );
    let r = legacy(
        &t.app,
        Some("2025-11-25"),
        "prompts/get",
        json!({"name": "plan_trip", "arguments": {"origin": "SFO", "destination": "NRT"}}),
    )
    .await;
    let text = r.body["result"]["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(text.starts_with("I want to fly from SFO to NRT."), "{text}");
    let r =
        legacy(&t.app, Some("2025-11-25"), "prompts/get", json!({"name": "plan_trip", "arguments": {"origin": "SFO"}}))
            .await;
    assert_eq!(r.body["error"]["code"], -32602);
    assert_eq!(r.body["error"]["message"], "invalid argument \"destination\": is required");
}

#[tokio::test]
async fn the_rest_of_the_protocol_gets_well_formed_answers() {
    let t = app();
    let v = Some("2025-11-25");
    assert_eq!(legacy(&t.app, v, "ping", json!({})).await.body["result"], json!({}));
    assert_eq!(legacy(&t.app, v, "resources/list", json!({})).await.body["result"], json!({"resources": []}));
    assert_eq!(
        legacy(&t.app, v, "resources/templates/list", json!({})).await.body["result"],
        json!({"resourceTemplates": []})
    );
    assert_eq!(legacy(&t.app, v, "resources/read", json!({"uri": "x://y"})).await.body["error"]["code"], -32002);
    assert_eq!(legacy(&t.app, v, "logging/setLevel", json!({"level": "info"})).await.body["result"], json!({}));
    assert_eq!(legacy(&t.app, v, "logging/setLevel", json!({"level": "loud"})).await.body["error"]["code"], -32602);
    let c = legacy(
        &t.app,
        v,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "plan_trip"}, "argument": {"name": "origin", "value": "S"}}),
    )
    .await;
    assert_eq!(c.body["result"]["completion"]["values"], json!([]));
    assert_eq!(legacy(&t.app, v, "tools/list", json!({"cursor": "bogus"})).await.body["error"]["code"], -32602);
}

#[tokio::test]
async fn the_stateless_generation_validates_every_request() {
    let t = app();
    let d = modern(&t.app, "server/discover", json!({})).await;
    assert_eq!(d.status, 200);
    let result = &d.body["result"];
    assert_eq!(
        result["supportedVersions"],
        json!(["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"])
    );
    assert_eq!((result["resultType"].clone(), result["cacheScope"].clone()), (json!("complete"), json!("public")));
    assert!(result["ttlMs"].is_u64());
    assert_eq!(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "toolbox");

    let call =
        modern(&t.app, "tools/call", json!({"name": "get_flight", "arguments": {"flight_number": "UA0008"}})).await;
    assert_eq!(call.body["result"]["resultType"], "complete");
    assert_eq!(call.body["result"]["structuredContent"]["rows"][0]["destination"], "JFK");

    let list = modern(&t.app, "tools/list", json!({})).await;
    assert_eq!(list.body["result"]["ttlMs"], 300000);

    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let body = |method: &str, params: Value| {
        json!({"jsonrpc": "2.0", "id": 3, "method": method, "params": params}).to_string()
    };
    // Missing protocol header.
    let r =
        send(&t.app, post("/mcp", &[("mcp-method", "tools/list")], body("tools/list", json!({"_meta": meta})))).await;
    assert_eq!((r.status, r.body["error"]["code"].clone(), r.body["id"].clone()), (400, json!(-32020), json!(3)));
    // Missing _meta.
    let r = send(
        &t.app,
        post(
            "/mcp",
            &[("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list")],
            body("tools/list", json!({})),
        ),
    )
    .await;
    assert_eq!((r.status, r.body["error"]["code"].clone()), (400, json!(-32602)));
    // Mcp-Name naming a harmless tool over a body calling another one.
    let params = json!({"name": "execute_sql", "arguments": {"sql": "DELETE FROM bookings"}, "_meta": meta});
    let r = send(
        &t.app,
        post(
            "/mcp",
            &[("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", "get_flight")],
            body("tools/call", params),
        ),
    )
    .await;
    assert_eq!((r.status, r.body["error"]["code"].clone()), (400, json!(-32020)));
    // A version we do not speak.
    let old_meta = json!({"io.modelcontextprotocol/protocolVersion": "2099-01-01", "io.modelcontextprotocol/clientCapabilities": {}});
    let r = send(
        &t.app,
        post(
            "/mcp",
            &[("mcp-protocol-version", "2099-01-01"), ("mcp-method", "tools/list")],
            body("tools/list", json!({"_meta": old_meta})),
        ),
    )
    .await;
    assert_eq!((r.status, r.body["error"]["code"].clone()), (400, json!(-32022)));
    assert_eq!(r.body["error"]["data"]["requested"], "2099-01-01");
    // Methods of the handshake era are gone.
    let r = send(
        &t.app,
        post(
            "/mcp",
            &[("mcp-protocol-version", "2026-07-28"), ("mcp-method", "initialize")],
            body("initialize", json!({"_meta": meta})),
        ),
    )
    .await;
    assert_eq!((r.status, r.body["error"]["code"].clone()), (404, json!(-32601)));
}

#[tokio::test]
async fn mirrored_arguments_must_match_their_mcp_param_headers() {
    let t = app();
    let list = modern(&t.app, "tools/list", json!({})).await;
    let search = list.body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "search_flights")
        .unwrap()
        .clone();
    assert_eq!(search["inputSchema"]["properties"]["origin"]["x-mcp-header"], "Origin");
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "search_flights", "arguments": {"origin": "SFO", "destination": "JFK"}, "_meta": meta}}).to_string();
    let base = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", "search_flights")];
    let with = |extra: Option<&'static str>| {
        let mut h = base.to_vec();
        if let Some(v) = extra {
            h.push(("mcp-param-origin", v));
        }
        h
    };
    let cases = [
        (Some("SFO"), 200),
        (Some("=?base64?U0ZP?="), 200),
        (None, 400),
        (Some("JFK"), 400),
        (Some("=?base64?U0Z?="), 400),
    ];
    for (header, status) in cases {
        let r = send(&t.app, post("/mcp", &with(header), body.clone())).await;
        assert_eq!(r.status, status, "Mcp-Param-Origin: {header:?}: {}", r.text);
        if status == 400 {
            assert_eq!(r.body["error"]["code"], -32020);
        }
    }
}

#[tokio::test]
async fn a_database_that_cannot_open_answers_errors_and_the_server_keeps_serving() {
    let app = app_with_database("/proc/no-such-dir/airline.db", 1 << 20);
    let r = legacy(
        &app,
        Some("2025-11-25"),
        "tools/call",
        json!({"name": "get_flight", "arguments": {"flight_number": "UA0008"}}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(error_text(&r.body["result"]).starts_with("source `airline` is unavailable"), "{}", r.body);
    assert_eq!(legacy(&app, Some("2025-11-25"), "tools/list", json!({})).await.status, 200);
    // Liveness says nothing of it (readiness does: tests/telemetry.rs).
    let health = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!((health.status, health.body.clone()), (200, json!({"status": "ok"})));
}

/// Every tool is rate-limited per caller: over the rate, a call is an `isError` result that says
/// when to try again; a 2026-07-28 call, which names its tool in a header, gets a 429 with
/// `Retry-After` before its body is read. Callers are counted apart.
#[tokio::test]
async fn calls_over_the_rate_are_refused_with_the_time_to_wait() {
    let rate = toolbox_runtime::rate::Rate { calls: 2, period: std::time::Duration::from_secs(60) };
    let t = app_with_rate_limit(rate);
    let call = || {
        legacy(
            &t.app,
            Some("2025-11-25"),
            "tools/call",
            json!({"name": "get_flight", "arguments": {"flight_number": "CY0001"}}),
        )
    };
    for _ in 0..2 {
        assert_ne!(call().await.body["result"]["isError"], true);
    }
    let r = call().await;
    let text = error_text(&r.body["result"]);
    assert!(
        text.starts_with("rate limit: tool `get_flight` takes 2 calls per 1 min per caller; try again in "),
        "{text}"
    );
    let r = modern(&t.app, "tools/call", json!({"name": "get_flight", "arguments": {"flight_number": "CY0001"}})).await;
    assert_eq!(r.status, 429, "{}", r.text);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(r.body["error"]["message"].as_str().unwrap().starts_with("rate limit: tool `get_flight`"));
    // Another tool has a budget of its own.
    let r = legacy(
        &t.app,
        Some("2025-11-25"),
        "tools/call",
        json!({"name": "list_bookings", "arguments": {"flight_number": "CY0001"}}),
    )
    .await;
    assert_ne!(r.body["result"]["isError"], true, "{}", r.body);
}

/// The reference's SDKs post to `/mcp/`, and to `/mcp/{toolset}/` under a base URL with a slash.
#[tokio::test]
async fn trailing_slashes_name_the_same_endpoints() {
    let t = app();
    let v = [("mcp-protocol-version", "2025-11-25")];
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let call = r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_flight","arguments":{"flight_number":"UA0008"}}}"#;
    for (plain, slashed) in [("/mcp", "/mcp/"), ("/mcp/traveller", "/mcp/traveller/")] {
        for body in [init, list, call] {
            let a = send(&t.app, post(plain, &v, body)).await;
            let b = send(&t.app, post(slashed, &v, body)).await;
            assert_eq!((a.status, &a.body), (200, &b.body), "{slashed} answers {body} as {plain} does");
            assert_eq!(b.status, 200);
        }
        let notification =
            send(&t.app, post(slashed, &v, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)).await;
        assert_eq!((notification.status, notification.text.as_str()), (202, ""));
        for method in ["GET", "DELETE"] {
            let request =
                Request::builder().method(method).uri(slashed).header("host", "localhost").body(Body::empty());
            let r = send(&t.app, request.unwrap()).await;
            assert_eq!((r.status, r.headers["allow"].to_str().unwrap()), (405, "POST"), "{method} {slashed}");
        }
        // The same guards.
        let evil_host = Request::post(slashed)
            .header("host", "evil.example.com")
            .header("content-type", "application/json")
            .body(Body::from(list))
            .unwrap();
        assert_eq!(send(&t.app, evil_host).await.status, 403, "Host on {slashed}");
        let r = send(&t.app, post(slashed, &[("origin", "https://evil.example.com")], list)).await;
        assert_eq!(r.status, 403, "Origin on {slashed}");
        let r = send(&t.app, post(slashed, &[("origin", "http://localhost:6274")], list)).await;
        assert_eq!(r.headers["access-control-allow-origin"], "http://localhost:6274");
        let wrong_type = Request::post(slashed)
            .header("host", "localhost")
            .header("content-type", "text/plain")
            .body(Body::from(list));
        assert_eq!(send(&t.app, wrong_type.unwrap()).await.status, 415);
    }
    // The toolset is a boundary under either spelling.
    let r = send(&t.app, post("/mcp/traveller/", &v, r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"execute_sql","arguments":{"sql":"SELECT 1"}}}"#)).await;
    assert_eq!(r.body["error"]["message"], "unknown tool `execute_sql`");
    let r = send(&t.app, post("/mcp/nope/", &v, list)).await;
    assert_eq!((r.status, r.body["error"]["message"].clone()), (404, json!("unknown toolset `nope`")));
    // The 2026-07-28 generation too.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let body = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {"_meta": meta}}).to_string();
    let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list")];
    let a = send(&t.app, post("/mcp", &headers, body.clone())).await;
    let b = send(&t.app, post("/mcp/", &headers, body)).await;
    assert_eq!((b.status, &b.body), (200, &a.body));
    // Only one trailing slash: anything else is not an endpoint.
    for path in ["/mcp//", "/mcp/traveller//", "/mcp/traveller/x"] {
        assert_eq!(send(&t.app, post(path, &v, list)).await.status, 404, "{path}");
    }
}

/// The reference's SDKs speaking 2025-03-26 refuse a server whose `initialize` response has no
/// `Mcp-Session-Id`; one is sent there (and only there), and never needed afterwards.
#[tokio::test]
async fn an_initialize_negotiated_to_2025_03_26_gets_a_session_id_that_is_never_checked() {
    let t = app();
    let init = |v: &str| {
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": v, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).to_string()
    };
    let first = send(&t.app, post("/mcp/", &[], init("2025-03-26"))).await;
    assert_eq!(first.body["result"]["protocolVersion"], "2025-03-26");
    let id = first.headers["mcp-session-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let second = send(&t.app, post("/mcp/", &[], init("2025-03-26"))).await;
    assert_ne!(second.headers["mcp-session-id"].to_str().unwrap(), id, "each initialize gets its own id");
    for v in ["2024-11-05", "2025-06-18", "2025-11-25"] {
        let r = send(&t.app, post("/mcp", &[], init(v))).await;
        assert_eq!(r.body["result"]["protocolVersion"], v);
        assert!(r.headers.get("mcp-session-id").is_none(), "no session id at {v}");
    }
    // Any id, or none, is served alike.
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    for session in [id.as_str(), "made-up"] {
        let r = send(&t.app, post("/mcp/", &[("mcp-session-id", session)], list)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["result"]["tools"].as_array().unwrap().len(), 7);
    }
}
/// A POST to `/mcp` with a loopback Host and this body.
fn post_body(body: Body) -> Request<Body> {
    Request::post("/mcp")
        .header("host", "127.0.0.1:5000")
        .header("content-type", "application/json")
        .body(body)
        .unwrap()
}

/// A body that cannot be read (a malformed chunked encoding, a connection broken mid-body) is a
/// bad request, not one that is too large.
#[tokio::test]
async fn a_body_that_cannot_be_read_is_400_not_413() {
    let t = app();
    let chunks: Vec<Result<&'static str, std::io::Error>> =
        vec![Ok(r#"{"jsonrpc":"2.0","id":1,"#), Err(std::io::Error::other("invalid chunk size line"))];
    let r = send(&t.app, post_body(Body::from_stream(futures_util::stream::iter(chunks)))).await;
    assert_eq!((r.status, r.body["error"]["code"].clone()), (400, json!(-32600)), "{}", r.text);
    assert_eq!(r.body["error"]["message"], "the request body could not be read");
}

/// A body that stops arriving is answered 408 at the body-read timeout, and the connection is
/// closed after that answer.
#[tokio::test]
async fn a_body_that_stops_arriving_is_408_at_the_body_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db").display().to_string();
    let timeout = std::time::Duration::from_millis(300);
    let app = app_with_config(&db, HttpConfig { body_read_timeout: timeout, ..config() });
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(r#"{"jsonrpc":"2.0","#)]);
    let stalled = futures_util::StreamExt::chain(first, futures_util::stream::pending());
    let started = std::time::Instant::now();
    let answer = send(&app, post_body(Body::from_stream(stalled)));
    let r = tokio::time::timeout(std::time::Duration::from_secs(10), answer).await.expect("answered within 10 s");
    assert!(started.elapsed() >= timeout, "answered before the timeout");
    assert_eq!((r.status, r.body["error"]["code"].clone()), (408, json!(-32600)), "{}", r.text);
    assert_eq!(r.headers["connection"], "close");
}

/// MCP's `params` is an object: an array is refused with invalid params (-32602, the request's
/// id echoed), never read by position into a call.
#[tokio::test]
async fn params_given_as_an_array_are_invalid_params() {
    let t = app();
    let body = r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":["get_flight",{"flight_number":"DL0001"}]}"#;
    let r = send(&t.app, post("/mcp", &[("mcp-protocol-version", "2025-11-25")], body)).await;
    assert!(r.body.get("result").is_none(), "the tool ran: {}", r.text);
    assert_eq!((r.status, r.body["id"].clone()), (200, json!(5)));
    assert_eq!(r.body["error"]["code"], -32602);
    assert_eq!(r.body["error"]["message"], "`params` must be an object");
    for params in ["[]", "\"get_flight\"", "7", "true"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":6,"method":"ping","params":{params}}}"#);
        let r = send(&t.app, post("/mcp", &[], body)).await;
        assert_eq!(r.body["error"]["code"], -32602, "params {params}: {}", r.text);
    }
    // A 2026-07-28 request whose `params` is not an object has no `_meta`: 400, as that version
    // answers a missing `_meta`.
    let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list")];
    let r = send(&t.app, post("/mcp", &headers, r#"{"jsonrpc":"2.0","id":8,"method":"tools/list","params":[]}"#)).await;
    assert_eq!((r.status, r.body["error"]["code"].clone(), r.body["id"].clone()), (400, json!(-32602), json!(8)));
}

/// JSON text is UTF-8: a body with invalid UTF-8 is a parse error (-32700), wherever it is.
#[tokio::test]
async fn invalid_utf8_is_a_parse_error() {
    let t = app();
    let bodies: [&[u8]; 3] = [
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"get_flight\",\"arguments\":{\"flight_number\":\"\xff\"}}}",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"extra\":\"\xc3\x28\"}",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xe2\x82\"}",
    ];
    for body in bodies {
        let r = send(&t.app, post_body(Body::from(body.to_vec()))).await;
        assert_eq!((r.status, r.body["error"]["code"].clone()), (400, json!(-32700)), "{}", r.text);
        assert_eq!(r.body["id"], Value::Null);
    }
}

/// Error messages name what the client sent in JSON-RPC and MCP terms (`params.name`), never the
/// server's Rust types (serde's "expected struct Params").
#[tokio::test]
async fn error_messages_name_members_not_rust_types() {
    let t = app();
    let cases = [
        (r#"{"jsonrpc":"2.0","id":1,"method":5}"#, "`method` must be a string"),
        (r#"{"jsonrpc":2,"id":1,"method":"ping"}"#, "`jsonrpc` must be \"2.0\""),
        (r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"ping"}"#, "must each appear once"),
        (r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#, "`params.name` must be a string"),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":[]}}"#,
            "`params.cursor` must be a string",
        ),
        (r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":5}}"#, "`params._meta` must be an object"),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":1}}}"#,
            "`params._meta.io.modelcontextprotocol/protocolVersion` must be a string",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"name":"plan_trip"},"argument":{"name":"origin"}}}"#,
            "`params.ref.type` is required",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt"},"argument":{"name":3}}}"#,
            "`params.argument.name` must be a string",
        ),
        (r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"uri":"a","uri":"b"}}"#, "each member appears once"),
    ];
    for (body, expected) in cases {
        let r = send(&t.app, post("/mcp", &[], body)).await;
        let message = r.body["error"]["message"].as_str().unwrap_or_else(|| panic!("no error for {body}: {}", r.text));
        assert!(message.contains(expected), "{body}: {message}");
        for rust in ["Params", "Meta", "Envelope", "Completion", "struct", "borrowed", "field", "line 1"] {
            assert!(!message.contains(rust), "{body}: the message names `{rust}`: {message}");
        }
    }
}

/// RFC 9112: a request with two Host headers is malformed (400); an absolute-form target names
/// the request's host, so a foreign one is refused like a foreign Host (403).
#[tokio::test]
async fn duplicate_hosts_and_foreign_absolute_targets_are_refused() {
    let t = app();
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let request = |target: &str, hosts: &[&str]| {
        let mut builder = Request::post(target).header("content-type", "application/json");
        for host in hosts {
            builder = builder.header("host", *host);
        }
        builder.body(Body::from(ping)).unwrap()
    };
    let r = send(&t.app, request("/mcp", &["127.0.0.1:5000", "127.0.0.1:5000"])).await;
    assert_eq!((r.status, r.body["error"]["code"].clone()), (400, json!(-32600)), "{}", r.text);
    let r = send(&t.app, request("/mcp", &["127.0.0.1:5000", "evil.example"])).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = send(&t.app, request("http://evil.example/mcp", &["127.0.0.1:5000"])).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = send(&t.app, request("http://evil.example:5000/mcp", &[])).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = send(&t.app, request("http://127.0.0.1:5000/mcp", &["evil.example"])).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // An absolute-form target naming this server is served.
    let r = send(&t.app, request("http://127.0.0.1:5000/mcp", &["127.0.0.1:5000"])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(&t.app, request("http://localhost:5000/mcp", &[])).await;
    assert_eq!(r.status, 200, "{}", r.text);
}
