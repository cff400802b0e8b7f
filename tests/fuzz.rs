//! Property-based fuzzing (proptest) of the JSON-RPC envelope, the MCP method layer and the
//! argument checker, through `Mcp::handle_body` on the demo toolbox (SQLite, no service needed),
//! over both transports and in every protocol version: whatever the body and the headers, the
//! server never panics and answers one well-formed JSON-RPC reply, echoing the request's id when
//! it is a string or a number (or a batch of them, or nothing for notifications).
//!
//! Requests are built from the real vocabulary: every method, `params` of the right and wrong
//! shapes, the demo's tools, prompts and parameters with arguments of every JSON type, huge
//! numbers, deep nesting, `_meta` variants, and headers that agree or disagree with the body
//! (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`, decoded like `http.rs` does).
//!
//! Each property runs a fixed number of cases in `cargo test`; `TOOLBOX_FUZZ_CASES=100000` runs
//! that many instead.

use base64::Engine as _;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;
use toolbox_runtime::args::NoClaims;
use toolbox_runtime::def::ToolsetDef;
use toolbox_runtime::mcp::{Headers, Mcp, Reply, Transport};
use toolbox_runtime::protocol::{Version, decode_header_value};

/// `cases` per property, or `TOOLBOX_FUZZ_CASES` for a longer run.
fn config(cases: u32) -> Config {
    let cases = std::env::var("TOOLBOX_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    Config { cases, ..Config::default() }
}

/// One server over its own copy of the demo database, shared by every case of a run.
struct Server {
    mcp: Mcp,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

static SERVER: LazyLock<Server> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("airline.db").display().to_string();
    let mcp =
        toolbox_runtime::testing::mcp(&toolbox::TOOLBOX, &toolbox_runtime::testing::env(&[("TOOLBOX_DEMO_DB", &db)]));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    Server { mcp, runtime, _dir: dir }
});

/// Where and how a body arrives: the toolset, and the transport with its headers (raw header
/// bytes, decoded as the HTTP layer decodes them).
#[derive(Clone, Debug)]
enum Via {
    Http { version: Option<Vec<u8>>, method: Option<Vec<u8>>, name: Option<Vec<u8>>, params: Vec<(String, Vec<u8>)> },
    Stdio { negotiated: Option<Version> },
}

fn send(toolset: Option<&str>, body: &[u8], via: &Via) -> Reply {
    let server = &*SERVER;
    let toolset: &'static ToolsetDef = toolbox::TOOLBOX
        .toolset(toolset)
        .unwrap_or_else(|| toolbox::TOOLBOX.toolset(None).expect("the default toolset"));
    match via {
        Via::Http { version, method, name, params } => {
            let decode = |v: &Option<Vec<u8>>| v.as_deref().and_then(decode_header_value);
            let (version, method, name) = (decode(version), decode(method), decode(name));
            let params: Vec<(String, Option<String>)> =
                params.iter().map(|(k, v)| (k.to_ascii_lowercase(), decode_header_value(v))).collect();
            let headers = Headers {
                protocol_version: version.as_deref(),
                method: method.as_deref(),
                name: name.as_deref(),
                params: &params,
                ..Headers::default()
            };
            server.runtime.block_on(server.mcp.handle_body(toolset, body, Transport::Http(headers), &NoClaims))
        }
        Via::Stdio { negotiated } => server.runtime.block_on(server.mcp.handle_body(
            toolset,
            body,
            Transport::Stdio { negotiated: *negotiated },
            &NoClaims,
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// What a reply must be.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message<'a> {
    jsonrpc: &'a str,
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorObject<'a> {
    #[allow(dead_code)]
    code: i32,
    #[allow(dead_code)]
    message: std::borrow::Cow<'a, str>,
    #[serde(default)]
    #[allow(dead_code)]
    data: Option<serde::de::IgnoredAny>,
}

/// The id a request carries and a reply must echo: a string or a number, as written.
fn request_id(raw: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly<'a> {
        #[serde(borrow)]
        id: Option<&'a RawValue>,
    }
    let id = serde_json::from_str::<IdOnly<'_>>(raw).ok()?.id?;
    valid_id(id.get()).then(|| id.get().to_string())
}

fn valid_id(raw: &str) -> bool {
    raw.starts_with('"') || raw.starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

/// Checks one reply object; `id` is what it must echo, when the request's id was readable.
fn check_message(text: &str, id: Option<&str>) -> Result<(), TestCaseError> {
    let m: Message<'_> = serde_json::from_str(text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
    prop_assert_eq!(m.jsonrpc, "2.0");
    let reply_id = m.id.get();
    prop_assert!(reply_id == "null" || valid_id(reply_id), "id {} in {}", reply_id, text);
    if let Some(id) = id {
        prop_assert!(reply_id == id || reply_id == "null", "id {} for a request with id {}", reply_id, id);
    }
    match (m.result, m.error) {
        (Some(result), None) => {
            prop_assert!(result.get().starts_with('{'), "result {}", result.get());
            prop_assert!(id.is_some_and(|id| id == reply_id), "a result needs the request's id: {}", text);
        }
        (None, Some(error)) => {
            let e: Result<ErrorObject<'_>, _> = serde_json::from_str(error.get());
            prop_assert!(e.is_ok(), "error object {}", error.get());
        }
        _ => return Err(TestCaseError::fail(format!("neither a result nor an error, or both: {text}"))),
    }
    Ok(())
}

/// Whether a message needs no answer: a notification, or a response to a request. Read by its
/// members only, so that values serde_json cannot hold (`1e999`) do not matter.
fn needs_no_answer(message: &str) -> bool {
    match serde_json::from_str::<std::collections::HashMap<String, &RawValue>>(message) {
        Ok(m) => {
            // `"method": null` is read as no method: with a `result`, the message is a response.
            let method = m.get("method").is_some_and(|v| v.get() != "null");
            !m.contains_key("id") || (!method && (m.contains_key("result") || m.contains_key("error")))
        }
        Err(_) => false,
    }
}

/// The properties of any reply to `body`. `must_answer`: the request is a well-formed request
/// with an id, so it must get a reply carrying that id.
fn check_reply(body: &[u8], reply: &Reply, must_answer: bool) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(body);
    prop_assert!((200..600).contains(&reply.status), "status {}", reply.status);
    let body_text = std::str::from_utf8(body).unwrap_or("");
    let Some(bytes) = &reply.body else {
        prop_assert_eq!(reply.status, 202);
        let silent = match serde_json::from_str::<Vec<&RawValue>>(body_text) {
            Ok(items) => items.iter().all(|i| needs_no_answer(i.get())),
            Err(_) => needs_no_answer(body_text),
        };
        prop_assert!(silent, "no answer to {}", shown);
        prop_assert!(!must_answer);
        return Ok(());
    };
    let text = std::str::from_utf8(bytes).map_err(|e| TestCaseError::fail(format!("not UTF-8: {e}")))?;
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
    if text.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!items.is_empty(), "an empty batch reply");
        let requests: Vec<&RawValue> = serde_json::from_str(body_text).unwrap_or_default();
        let ids: Vec<String> = requests.iter().filter_map(|r| request_id(r.get())).collect();
        for item in items {
            let id = serde_json::from_str::<Message<'_>>(item.get()).ok().map(|m| m.id.get().to_string());
            let expected = id.filter(|id| ids.contains(id));
            check_message(item.get(), expected.as_deref())?;
        }
    } else {
        let id = request_id(body_text);
        check_message(text, id.as_deref())?;
        if must_answer {
            let m: Message<'_> = serde_json::from_str(text).expect("checked");
            prop_assert_eq!(Some(m.id.get()), id.as_deref(), "the reply must carry the request's id");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Requests from the demo's vocabulary.

const METHODS: &[&str] = &[
    "tools/call",
    "tools/call",
    "tools/call",
    "tools/call",
    "tools/call",
    "prompts/get",
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "logging/setLevel",
    "completion/complete",
    "server/discover",
    "notifications/initialized",
    "notifications/cancelled",
    "sampling/createMessage",
    "",
    "tools/call ",
    "TOOLS/LIST",
];
const VERSIONS: &[&str] =
    &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28", "2099-01-01", "", "2026-07-28 "];
const TOOLS: &[&str] = &[
    "search_flights",
    "get_flight",
    "list_bookings",
    "book_seat",
    "update_flight_status",
    "flight_stats",
    "execute_sql",
    "no_such_tool",
    "",
    "search_flights\u{0}",
];
const PARAMS: &[&str] = &[
    "origin",
    "destination",
    "departing_after",
    "limit",
    "flight_number",
    "passenger",
    "email",
    "seat",
    "status",
    "group_by",
    "sql",
    "limt",
    "",
];
/// Statements for `execute_sql`: reads and writes of the demo, and errors; none runs for long.
const SQL: &[&str] = &[
    "SELECT 1",
    "SELECT * FROM flights LIMIT 3",
    "SELECT x'00ff' AS b, NULL AS n, 1e308 * 10 AS r",
    "UPDATE flights SET seats = seats WHERE id = 1",
    "SELECT * FROM no_such_table",
    "",
    ";",
    "SELECT 1; SELECT 2",
    "PRAGMA query_only",
    "SELECT ?",
];

/// Argument values: each parameter's own kind of value, and every other JSON type.
fn argument() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        3 => select(&["SFO", "JFK", "UA0008", "UA0001", "landed", "delayed", "origin", "status", "2026-12-24", "", "a@example.com", "é", "\u{0}"][..]).prop_map(Value::from),
        2 => select(SQL).prop_map(Value::from),
        2 => select(&[0i64, 1, 2, 10, 100, 101, -1, i64::MAX, i64::MIN][..]).prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => Just(json!(1.5)),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => "\\PC{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((select(PARAMS), inner), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Text replaced by raw JSON after serialisation: numbers serde_json cannot hold, deep nesting.
const RAW_MARK: &str = "\u{1}RAW\u{1}";
const RAWS: &[&str] = &[
    "1e999",
    "-1e999",
    "123456789012345678901234567890",
    "-0",
    "1.0e+2",
    "0.000000000000000000000000000001",
    "\"\\ud800\"",
    "\"\\u0000\"",
];

fn raw_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(RAWS).prop_map(str::to_string),
        1 => (1..200usize).prop_map(|depth| format!("{}1{}", "[".repeat(depth), "]".repeat(depth))),
        1 => (1..200usize).prop_map(|depth| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))),
    ]
}

/// Values a parameter of the demo takes, mostly of its own type.
fn good_argument() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => select(&["SFO", "JFK", "LHR", "UA0008", "UA0001", "landed", "delayed", "status", "origin", "2026-12-24", "Ada", "a@example.com", "12C"][..]).prop_map(Value::from),
        1 => select(SQL).prop_map(Value::from),
        2 => (1..=100i64).prop_map(Value::from),
    ]
}

fn arguments() -> impl Strategy<Value = Value> {
    let value = prop_oneof![4 => good_argument(), 1 => argument()];
    prop_oneof![
        12 => prop::collection::vec((select(PARAMS), value), 0..5)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        1 => Just(json!(RAW_MARK)),
        1 => argument(),
    ]
}

fn meta() -> impl Strategy<Value = Value> {
    (
        prop::option::weighted(0.9, prop_oneof![6 => select(VERSIONS).prop_map(Value::from), 1 => argument()]),
        prop::option::weighted(0.9, prop_oneof![6 => Just(json!({})), 1 => argument()]),
        any::<bool>(),
    )
        .prop_map(|(version, capabilities, info)| {
            let mut meta = Map::new();
            if let Some(v) = version {
                meta.insert("io.modelcontextprotocol/protocolVersion".into(), v);
            }
            if let Some(c) = capabilities {
                meta.insert("io.modelcontextprotocol/clientCapabilities".into(), c);
            }
            if info {
                meta.insert("io.modelcontextprotocol/clientInfo".into(), json!({"name": "fuzz", "version": "1"}));
            }
            Value::Object(meta)
        })
}

/// The demo's parameters, by tool: name, and whether a value is needed.
const TOOL_PARAMS: &[(&str, &[(&str, bool)])] = &[
    ("search_flights", &[("origin", true), ("destination", true), ("departing_after", false), ("limit", false)]),
    ("get_flight", &[("flight_number", true)]),
    ("list_bookings", &[("flight_number", true)]),
    ("book_seat", &[("flight_number", true), ("passenger", true), ("email", true), ("seat", false)]),
    ("update_flight_status", &[("flight_number", true), ("status", true)]),
    ("flight_stats", &[("group_by", true)]),
    ("execute_sql", &[("sql", true)]),
];

/// A call of one of the demo's tools with its own parameters, usually of the right type, some
/// left out, now and then one of another tool.
fn tool_call() -> impl Strategy<Value = (String, Value)> {
    (select(TOOL_PARAMS), prop::collection::vec((any::<bool>(), prop_oneof![6 => good_argument(), 1 => argument()]), 4))
        .prop_flat_map(|((tool, params), values)| {
            let mut arguments = Map::new();
            for ((name, needed), (keep, value)) in params.iter().zip(values) {
                if *needed || keep {
                    arguments.insert(name.to_string(), value);
                }
            }
            let stranger = prop::option::weighted(0.1, (select(PARAMS), argument()));
            (Just(tool.to_string()), Just(arguments), stranger)
        })
        .prop_map(|(tool, mut arguments, stranger)| {
            if let Some((k, v)) = stranger {
                arguments.insert(k.to_string(), v);
            }
            (tool, Value::Object(arguments))
        })
}

/// A value that is usually `good` and sometimes any JSON at all.
fn mostly(good: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Value> {
    prop_oneof![20 => good, 1 => argument()].boxed()
}

/// `params` for a method: the fields that method reads, usually of the right type, `_meta`
/// half of the time, and now and then a member of another method or no object at all.
fn params(method: &str) -> BoxedStrategy<Option<Value>> {
    let fields: Vec<(&'static str, BoxedStrategy<Value>)> = match method {
        "tools/call" => {
            return prop_oneof![
                6 => tool_call().prop_map(|(name, arguments)| json!({"name": name, "arguments": arguments})),
                1 => Just(json!({})),
            ]
            .prop_flat_map(|call| {
                (Just(call), prop::option::weighted(0.5, meta()), prop::option::weighted(0.1, arguments()))
            })
            .prop_map(|(mut call, meta, other)| {
                if let Some(m) = meta {
                    call["_meta"] = m;
                }
                if let Some(a) = other {
                    call["arguments"] = a;
                }
                Some(call)
            })
            .boxed();
        }
        "prompts/get" => vec![
            ("name", mostly(prop_oneof![4 => Just(json!("plan_trip")), 1 => select(TOOLS).prop_map(Value::from)])),
            ("arguments", arguments().boxed()),
        ],
        "initialize" => vec![
            ("protocolVersion", mostly(select(VERSIONS).prop_map(Value::from))),
            ("capabilities", mostly(Just(json!({})))),
        ],
        "completion/complete" => vec![
            (
                "ref",
                mostly(prop_oneof![
                    Just(json!({"type": "ref/prompt", "name": "plan_trip"})),
                    Just(json!({"type": "ref/resource", "uri": "x"})),
                    Just(json!({"type": "ref/other"})),
                ]),
            ),
            (
                "argument",
                mostly(prop_oneof![Just(json!({"name": "origin", "value": "S"})), Just(json!({"name": "x"}))]),
            ),
        ],
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
            vec![("uri", mostly(Just(json!("file:///x"))))]
        }
        "logging/setLevel" => vec![("level", mostly(select(&["debug", "info", "loud"][..]).prop_map(Value::from)))],
        _ => vec![("cursor", mostly(prop_oneof![Just(json!("")), Just(json!("next"))]))],
    };
    let fields = fields
        .into_iter()
        .map(|(k, v)| prop::option::weighted(0.85, v).prop_map(move |v| v.map(|v| (k, v))).boxed())
        .collect::<Vec<_>>();
    let object = (
        fields,
        prop::option::weighted(0.5, meta()),
        prop::option::weighted(0.1, (select(&["name", "arguments", "uri", "cursor", "x"][..]), argument())),
    )
        .prop_map(|(fields, meta, extra)| {
            let mut p = Map::new();
            for (k, v) in fields.into_iter().flatten() {
                p.insert(k.into(), v);
            }
            if let Some(m) = meta {
                p.insert("_meta".into(), m);
            }
            if let Some((k, v)) = extra {
                p.entry(k).or_insert(v);
            }
            Value::Object(p)
        });
    prop_oneof![16 => object.prop_map(Some), 2 => Just(None), 1 => argument().prop_map(Some)].boxed()
}

/// One message: the envelope's members, each sometimes missing or of the wrong type.
fn message() -> impl Strategy<Value = Value> {
    prop_oneof![15 => Just(Some("tools/call")), 15 => select(METHODS).prop_map(Some), 1 => Just(None)]
        .prop_flat_map(|method| {
            (
                prop_oneof![40 => Just(Some(json!("2.0"))), 1 => Just(None), 1 => prop::option::of(argument())],
                prop_oneof![
                    30 => (0..1000i64).prop_map(|i| Some(json!(i))),
                    10 => "[a-z0-9\\-]{0,8}".prop_map(|s| Some(json!(s))),
                    1 => Just(None),
                    1 => Just(Some(Value::Null)),
                    1 => Just(Some(json!(RAW_MARK))),
                    1 => argument().prop_map(Some),
                ],
                match method {
                    Some(m) => prop_oneof![30 => Just(Some(json!(m))), 1 => argument().prop_map(Some)].boxed(),
                    None => Just(None).boxed(),
                },
                params(method.unwrap_or("")),
                prop::option::weighted(0.05, (select(&["result", "error", "extra"][..]), argument())),
            )
        })
        .prop_map(|(jsonrpc, id, method, params, extra)| {
            let mut m = Map::new();
            for (k, v) in [("jsonrpc", jsonrpc), ("id", id), ("method", method), ("params", params)] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            if let Some((k, v)) = extra {
                m.insert(k.into(), v);
            }
            Value::Object(m)
        })
}

/// A body: one message or a batch, serialised, with raw values put in and sometimes spoilt.
fn body() -> impl Strategy<Value = (Value, Vec<u8>)> {
    (
        prop_oneof![20 => message(), 1 => prop::collection::vec(message(), 0..4).prop_map(Value::Array)],
        raw_value(),
        prop::option::weighted(0.1, select(&[" ", "\n", "\u{feff}", "x", "}", "{}", "\u{0}"][..])),
        any::<bool>(),
    )
        .prop_map(|(message, raw, spoil, at_end)| {
            let mut text = message.to_string().replace(&serde_json::to_string(RAW_MARK).unwrap(), &raw);
            if let Some(s) = spoil {
                if at_end {
                    text.push_str(s);
                } else {
                    text.insert_str(0, s);
                }
            }
            (message, text.into_bytes())
        })
}

/// Headers: raw values that agree with the body, disagree, are base64-encoded or broken.
fn via(message: &Value) -> impl Strategy<Value = Via> + use<> {
    let method = message.get("method").and_then(Value::as_str).unwrap_or("").to_string();
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    let name = params.get("name").or_else(|| params.get("uri")).and_then(Value::as_str).unwrap_or("").to_string();
    // Without `_meta`, a legacy version: the one a legacy client sends.
    let version = params
        .get("_meta")
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
        .and_then(Value::as_str)
        .unwrap_or(VERSIONS[(method.len() + name.len()) % 4])
        .to_string();
    let origin = params.get("arguments").and_then(|a| a.get("origin")).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let header = move |agreeing: String| {
        prop_oneof![
            16 => Just(Some(agreeing.clone().into_bytes())),
            1 => Just(Some(format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(&agreeing)).into_bytes())),
            1 => Just(None),
            1 => select(VERSIONS).prop_map(|v| Some(v.as_bytes().to_vec())),
            1 => select(METHODS).prop_map(|v| Some(v.as_bytes().to_vec())),
            1 => prop::collection::vec(any::<u8>(), 0..8).prop_map(Some),
            1 => Just(Some(b"=?base64?!!?=".to_vec())),
        ]
    };
    let param = (
        prop_oneof![4 => Just("Origin"), 1 => select(&["origin", "ORIGIN", "destination", "x"][..])],
        prop_oneof![
            8 => Just(origin.clone().unwrap_or_default().into_bytes()),
            1 => Just(format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(origin.clone().unwrap_or_default())).into_bytes()),
            1 => Just(b"=?base64?%%%?=".to_vec()),
            1 => prop::collection::vec(any::<u8>(), 0..8),
        ],
    )
        .prop_map(|(k, v)| (k.to_string(), v));
    let http = (header(version), header(method), header(name), prop::collection::vec(param, 0..3))
        .prop_map(|(version, method, name, params)| Via::Http { version, method, name, params });
    let stdio = prop::option::of(select(
        &[Version::V20241105, Version::V20250326, Version::V20250618, Version::V20251125, Version::V20260728][..],
    ))
    .prop_map(|negotiated| Via::Stdio { negotiated });
    prop_oneof![3 => http, 1 => stdio]
}

fn toolset() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![4 => Just(None), 1 => select(&["traveller", "operations"][..]).prop_map(Some)]
}

/// A request that must be answered with its id: `jsonrpc` 2.0, a method, an id that is an
/// integer or a string; nothing else about it need be right.
fn must_answer(message: &Value, body: &[u8]) -> bool {
    let Value::Object(m) = message else { return false };
    let id_ok = matches!(m.get("id"), Some(Value::Number(_) | Value::String(_)));
    m.get("jsonrpc") == Some(&json!("2.0"))
        && m.get("method").is_some_and(Value::is_string)
        && id_ok
        && serde_json::from_slice::<Value>(body).ok().as_ref() == Some(message)
}

proptest! {
    #![proptest_config(config(256))]

    /// Any bytes, over either transport.
    #[test]
    fn any_body_gets_a_well_formed_reply(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            "(\\PC|[{}\\[\\]\":,]){0,64}".prop_map(String::into_bytes),
        ],
        stdio in any::<bool>(),
    ) {
        let via = if stdio { Via::Stdio { negotiated: None } } else { Via::Http { version: None, method: None, name: None, params: Vec::new() } };
        let reply = send(None, &body, &via);
        check_reply(&body, &reply, false)?;
    }

    /// Requests built from the demo's vocabulary, with headers that agree or disagree.
    #[test]
    fn vocabulary_requests_get_well_formed_replies(
        (message, body, via) in body().prop_flat_map(|(message, body)| {
            let via = match &message { Value::Array(items) => via(items.first().unwrap_or(&Value::Null)).boxed(), m => via(m).boxed() };
            (Just(message), Just(body), via)
        }),
        toolset in toolset(),
    ) {
        let reply = send(toolset, &body, &via);
        check_reply(&body, &reply, must_answer(&message, &body))?;
    }
}

/// After the fuzzing above, the same server still answers an ordinary call (nothing a client sent
/// left it stalled or broken). Runs in its own test, after or alongside the others.
#[test]
fn the_server_still_answers_after_fuzzing() {
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_flight","arguments":{"flight_number":"UA0001"}}}"#;
    let reply = send(None, body, &Via::Stdio { negotiated: None });
    let value: Value = serde_json::from_slice(&reply.body.expect("an answer")).expect("JSON");
    assert_eq!(value["result"]["isError"], Value::Null, "{value}");
}

/// Inputs that got a malformed answer once, kept as they were found.
mod regressions {
    use super::*;

    /// A refused message echoed its id whatever it was (`"id": false`), though a reply's id
    /// can only be a string, a number or null.
    #[test]
    fn an_id_that_is_neither_a_string_nor_a_number_is_answered_with_null() {
        let http = Via::Http { version: Some(b"2025-03-26".to_vec()), method: None, name: None, params: Vec::new() };
        for body in [
            r#"{"jsonrpc":"1.0","id":false,"method":"ping"}"#,
            r#"{"id":{"a":1},"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":[1]}"#,
            r#"[{"jsonrpc":"2.0","id":{},"method":"initialize"}]"#,
        ] {
            for via in [&http, &Via::Stdio { negotiated: Some(Version::V20250326) }] {
                let reply = send(None, body.as_bytes(), via);
                check_reply(body.as_bytes(), &reply, false).unwrap_or_else(|e| panic!("{body}: {e}"));
                let text = String::from_utf8(reply.body.expect("an answer")).unwrap();
                assert!(text.contains(r#""id":null"#), "{body}: {text}");
            }
        }
    }
}
