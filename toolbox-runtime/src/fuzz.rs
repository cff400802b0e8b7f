//! Property-based fuzzing (proptest) of what reads client input below the JSON-RPC envelope:
//! header value decoding (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`) and
//! the argument checker. The envelope itself, and the check of an `Mcp-Param-*` header against
//! its argument, are fuzzed through [`crate::mcp::Mcp::handle_body`] in the root package's
//! `tests/fuzz.rs`; the token parsers in `auth/fuzz.rs`.
//!
//! Each property runs a fixed number of cases in `cargo test`; `TOOLBOX_FUZZ_CASES=100000` runs
//! that many instead.

use crate::args::{Arguments, ConstValue, FromArg, NoClaims, ParamDef, ParamKind};
use crate::protocol::decode_header_value;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

/// `cases` per property, or `TOOLBOX_FUZZ_CASES` for a longer run.
pub(crate) fn config(cases: u32) -> Config {
    let cases = std::env::var("TOOLBOX_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    Config { cases, ..Config::default() }
}

/// Any JSON value, with the numbers and strings that sit on the edges of the checks.
pub(crate) fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        select(&[0.5, -0.0, 1e308, -1e308, 5e-324, 9.223372036854776e18, 100.0, 1.0][..]).prop_map(Value::from),
        select(&[i64::MIN, i64::MAX, 0, 1, -1, 100, 101, 3][..]).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        select(&["", "a", "scheduled", "landed", "SFO", "é", "\u{0}", "1", "true"][..]).prop_map(Value::from),
        "\\PC{78,90}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{0,3}|\\PC{0,4}", inner), 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn kind() -> impl Strategy<Value = ParamKind> {
    select(
        &[
            ParamKind::String,
            ParamKind::Integer,
            ParamKind::Float,
            ParamKind::Boolean,
            ParamKind::Array,
            ParamKind::Map,
        ][..],
    )
}

fn const_value() -> impl Strategy<Value = ConstValue> {
    prop_oneof![
        select(&["a", "landed", "", "é"][..]).prop_map(ConstValue::Str),
        prop_oneof![any::<i64>(), -3..3i64].prop_map(ConstValue::Int),
        prop_oneof![any::<f64>(), Just(0.5), Just(1.0)].prop_map(ConstValue::Float),
        any::<bool>().prop_map(ConstValue::Bool),
        select(&["[1,2]", "{\"a\":1}", "[]", "not json", "null"][..]).prop_map(ConstValue::Json),
    ]
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// A parameter definition as generated code makes one; `'static` like the real ones (leaked:
/// a few hundred small definitions per run).
fn param_def() -> impl Strategy<Value = &'static ParamDef> {
    let item = (kind(), prop::option::of(kind())).prop_map(|(k, v)| {
        let mut d = ParamDef::new("item", k);
        d.value_type = v;
        leak(d)
    });
    (
        select(&["a", "b", "limit", "é"][..]),
        kind(),
        any::<bool>(),
        prop::option::of(const_value()),
        prop::collection::vec(const_value(), 0..3),
        prop::collection::vec(const_value(), 0..2),
        prop::option::of(prop_oneof![any::<f64>(), -5.0..5.0f64]),
        prop::option::of(prop_oneof![any::<f64>(), -5.0..5.0f64]),
        prop::option::of(item),
        prop::option::of(kind()),
    )
        .prop_map(|(name, kind, required, default, allowed, excluded, min, max, items, value_type)| {
            leak(ParamDef {
                name,
                kind,
                required,
                default,
                allowed: Box::leak(allowed.into_boxed_slice()),
                excluded: Box::leak(excluded.into_boxed_slice()),
                min,
                max,
                items,
                value_type,
                auth_services: &[],
                value_from: None,
            })
        })
}

fn accepts(kind: ParamKind, value: &Value) -> bool {
    match kind {
        ParamKind::String => value.is_string(),
        ParamKind::Integer => value.is_i64(),
        ParamKind::Float => value.is_number(),
        ParamKind::Boolean => value.is_boolean(),
        ParamKind::Array => value.is_array(),
        ParamKind::Map => value.is_object(),
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Any header bytes decode to text or to `None`, never a panic; what decodes has no
    /// surrounding blanks unless they were base64-encoded.
    #[test]
    fn header_values_decode_or_are_refused(raw in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        "(=\\?base64\\?)?[A-Za-z0-9+/=?_\\- \t]{0,24}(\\?=)?".prop_map(String::into_bytes),
    ]) {
        if let Some(text) = decode_header_value(&raw) {
            let encoded = raw.trim_ascii().starts_with(b"=?base64?");
            prop_assert!(encoded || text == text.trim_matches([' ', '\t']), "{text:?}");
        }
    }

    /// Any text sent in the `=?base64?...?=` form decodes to itself; plain visible ASCII decodes
    /// to itself less surrounding blanks.
    #[test]
    fn header_values_round_trip(text in "\\PC{0,20}", plain in "[ \t]{0,2}[!-~]{0,20}[ \t]{0,2}") {
        let encoded = format!("=?base64?{}?=", STANDARD.encode(&text));
        prop_assert_eq!(decode_header_value(encoded.as_bytes()), Some(text));
        let expected = plain.trim_matches([' ', '\t']).to_string();
        if !expected.starts_with("=?base64?") {
            prop_assert_eq!(decode_header_value(plain.as_bytes()), Some(expected));
        }
    }

    /// The argument checker on any definition and any value: an accepted value fits the
    /// definition (type, elements, bounds, allowed and excluded values); typed extraction of an
    /// accepted value never panics.
    #[test]
    fn arguments_are_checked_against_any_definition(def in param_def(), value in prop::option::of(json())) {
        let mut map = Map::new();
        if let Some(v) = value.clone() {
            map.insert(def.name.to_string(), v);
        }
        let arguments = Arguments::new(map);
        match arguments.value(def, &NoClaims) {
            Ok(Some(v)) => {
                prop_assert!(accepts(def.kind, &v), "{v} accepted as {:?}", def.kind);
                if let (Some(item), Value::Array(items)) = (def.items, &v) {
                    prop_assert!(items.iter().all(|i| accepts(item.kind, i)));
                }
                if let Some(n) = v.as_f64() {
                    prop_assert!(def.min.is_none_or(|m| !(n < m)) && def.max.is_none_or(|m| !(n > m)));
                }
                prop_assert!(!def.excluded.iter().any(|e| e.to_value() == v && !matches!(e, ConstValue::Json(_))));
                let _ = (String::from_arg(v.clone()), i64::from_arg(v.clone()), f64::from_arg(v.clone()));
                let _ = (bool::from_arg(v.clone()), Value::from_arg(v));
            }
            Ok(None) => prop_assert!(!def.required || def.default.is_some()),
            Err(e) => {
                prop_assert_eq!(&e.param, def.name);
                let _ = e.to_string();
            }
        }
        let _ = arguments.choice(def, &NoClaims);
        let _ = arguments.get_opt::<String>(def, &NoClaims);
    }

    /// Argument names: any object is accepted exactly when every name is a parameter's.
    #[test]
    fn argument_names_are_checked(names in prop::collection::vec("[a-z]{0,2}|limit|\\PC{0,3}", 0..5)) {
        const PARAMS: &[ParamDef] = &[ParamDef::new("a", ParamKind::String), ParamDef::new("limit", ParamKind::Integer)];
        let map: Map<String, Value> = names.iter().map(|n| (n.clone(), Value::Null)).collect();
        let known = names.iter().all(|n| n == "a" || n == "limit");
        prop_assert_eq!(Arguments::new(map).check_names(PARAMS).is_ok(), known);
    }
}

/// Inputs that crashed once, kept as they were found.
mod regressions {}
