//! The JSON-RPC envelope and MCP's `params`, read once from the body into borrowed fields, and
//! the wording of what is wrong with a message that does not read.

use super::request::Transport;
use crate::error::{RpcError, is_valid_id};
use crate::protocol::{self, Version, code};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// An error to answer, with the id to echo when one was read.
pub(super) type Refusal<'a> = (Option<&'a RawValue>, RpcError);

/// The JSON-RPC envelope, borrowed from the request body.
#[derive(Deserialize)]
pub(super) struct Envelope<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<Cow<'a, str>>,
    /// `None` only when the member is absent (a notification); `"id": null` is kept as the raw
    /// `null` so that it is refused rather than taken for a notification.
    #[serde(borrow, default, deserialize_with = "present")]
    pub(super) id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// Reads a member that is present, whatever its value (`null` included), as its raw text.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(deserializer).map(Some)
}

/// A message that needs an answer: a request with its id, method and parameters.
pub(super) struct Incoming<'a> {
    pub(super) id: &'a RawValue,
    pub(super) method: Cow<'a, str>,
    pub(super) params: Params<'a>,
}

impl<'a> Envelope<'a> {
    /// Reads one message. A body that is not one is a refusal (see [`envelope_error`]).
    pub(super) fn parse(body: &'a str) -> Result<Self, Refusal<'a>> {
        serde_json::from_str(body).map_err(|e| envelope_error(body, &e))
    }

    /// Checks the envelope and reads `params`. `Ok(None)`: a notification or a response, which
    /// get no answer.
    pub(super) fn into_request(self, transport: Transport<'_>) -> Result<Option<Incoming<'a>>, Refusal<'a>> {
        if self.jsonrpc.as_deref() != Some("2.0") {
            return Err((self.id, RpcError::new(400, code::INVALID_REQUEST, "`jsonrpc` must be \"2.0\"")));
        }
        let Some(method) = self.method else {
            if self.result.is_some() || self.error.is_some() {
                // A response to a request we never send; nothing to do.
                return Ok(None);
            }
            return Err((self.id, RpcError::new(400, code::INVALID_REQUEST, "a request needs a `method`")));
        };
        let Some(id) = self.id else {
            // Notifications (`notifications/initialized`, `notifications/cancelled`, ...) need no answer.
            return Ok(None);
        };
        if !is_valid_id(id) {
            return Err((None, RpcError::new(400, code::INVALID_REQUEST, "`id` must be a string or a number")));
        }
        let params = match self.params {
            None => Params::default(),
            // MCP's `params` is an object; serde would also read an array into `Params`, by
            // position.
            Some(raw) if !raw.get().starts_with('{') => {
                let status = params_error_status(transport);
                return Err((Some(id), RpcError::new(status, code::INVALID_PARAMS, "`params` must be an object")));
            }
            Some(raw) => match serde_json::from_str(raw.get()) {
                Ok(p) => p,
                Err(_) => {
                    let status = params_error_status(transport);
                    return Err((Some(id), RpcError::new(status, code::INVALID_PARAMS, params_problem(raw.get()))));
                }
            },
        };
        Ok(Some(Incoming { id, method, params }))
    }
}

/// Every parameter any supported method takes, read in one pass.
#[derive(Deserialize, Default)]
pub(super) struct Params<'a> {
    #[serde(borrow, default)]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) arguments: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "_meta")]
    pub(super) meta: Option<Meta<'a>>,
    #[serde(borrow, default, rename = "protocolVersion")]
    pub(super) protocol_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cursor: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) uri: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) level: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "ref")]
    pub(super) reference: Option<CompletionRef<'a>>,
    #[serde(borrow, default)]
    pub(super) argument: Option<CompletionArgument<'a>>,
}

impl Params<'_> {
    /// Lists are never paginated, so no cursor was ever handed out; an empty one is the start.
    pub(super) fn check_cursor(&self) -> Result<(), RpcError> {
        match self.cursor.as_deref() {
            Some(c) if !c.is_empty() => Err(RpcError::invalid_params("invalid cursor")),
            _ => Ok(()),
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct Meta<'a> {
    #[serde(borrow, default, rename = "io.modelcontextprotocol/protocolVersion")]
    pub(super) protocol_version: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "io.modelcontextprotocol/clientCapabilities")]
    pub(super) client_capabilities: Option<&'a RawValue>,
    /// W3C trace context of the caller (the MCP way to carry it, on every transport).
    #[serde(borrow, default)]
    pub(super) traceparent: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) tracestate: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(super) struct CompletionRef<'a> {
    #[serde(borrow, rename = "type")]
    pub(super) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(super) struct CompletionArgument<'a> {
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) value: Cow<'a, str>,
}

pub(super) fn parse_error(e: &serde_json::Error) -> RpcError {
    RpcError::new(400, code::PARSE_ERROR, format!("the body is not valid JSON: {e}"))
}

/// A body that failed to read as a JSON-RPC message: a parse error (-32700) when it is not JSON
/// at all; valid JSON that is not a message (not an object, or a member of the wrong type) is an
/// invalid request (-32600) that echoes the request's id when it has a readable one, e.g.
/// `{"jsonrpc":"2.0","id":1,"method":5}`. The message names the member in JSON-RPC's terms,
/// never serde's (which name the server's Rust types).
fn envelope_error<'a>(body: &'a str, e: &serde_json::Error) -> Refusal<'a> {
    // A type error can come before a syntax error further on: the whole text decides.
    if !e.is_data() || serde_json::from_str::<serde::de::IgnoredAny>(body).is_err() {
        return (None, parse_error(e));
    }
    if body.trim_start().as_bytes().first() != Some(&b'{') {
        return (None, RpcError::invalid_request("a JSON-RPC message must be an object"));
    }
    #[derive(Deserialize)]
    struct IdOnly<'a> {
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
    }
    let id = serde_json::from_str::<IdOnly<'_>>(body).ok().and_then(|m| m.id).filter(|id| is_valid_id(id));
    (id, RpcError::new(400, code::INVALID_REQUEST, envelope_problem(body)))
}

/// What is wrong with a JSON object that did not read as a JSON-RPC message.
pub(super) fn envelope_problem(message: &str) -> String {
    let Ok(Value::Object(members)) = serde_json::from_str::<Value>(message) else {
        return "a JSON-RPC message must be an object".to_string();
    };
    let wrong = |key: &str| members.get(key).is_some_and(|v| !v.is_null() && !v.is_string());
    if wrong("jsonrpc") {
        return "`jsonrpc` must be \"2.0\"".to_string();
    }
    if wrong("method") {
        return "`method` must be a string".to_string();
    }
    "not a JSON-RPC message: `jsonrpc`, `id` and `method` must each appear once".to_string()
}

/// The HTTP status of a `params` that is not what MCP defines: 400 for a 2026-07-28 request (its
/// required `params._meta` cannot be read, which that version answers with 400), else 200 like
/// every other invalid-params error.
fn params_error_status(transport: Transport<'_>) -> u16 {
    match transport {
        Transport::Http(h) if h.protocol_version.and_then(Version::parse).is_some_and(Version::is_modern) => 400,
        _ => 200,
    }
}

/// What is wrong with a `params` object that did not read: the first member of the wrong type,
/// by its JSON path (the shapes are those of [`Params`]).
fn params_problem(params: &str) -> String {
    let Ok(Value::Object(params)) = serde_json::from_str::<Value>(params) else {
        return "`params` must be an object".to_string();
    };
    let not = |value: Option<&Value>, is: fn(&Value) -> bool| value.is_some_and(|v| !v.is_null() && !is(v));
    for key in ["name", "protocolVersion", "cursor", "uri", "level"] {
        if not(params.get(key), Value::is_string) {
            return format!("`params.{key}` must be a string");
        }
    }
    let objects: [(&str, &[(&str, bool)]); 3] = [
        ("_meta", &[(protocol::META_PROTOCOL_VERSION, false)]),
        ("ref", &[("type", true), ("name", false)]),
        ("argument", &[("name", true), ("value", false)]),
    ];
    for (key, strings) in objects {
        let Some(object) = params.get(key).filter(|v| !v.is_null()) else { continue };
        let Value::Object(object) = object else {
            return format!("`params.{key}` must be an object");
        };
        for (member, required) in strings {
            match object.get(*member) {
                None if *required => return format!("`params.{key}.{member}` is required"),
                value if not(value, Value::is_string) => {
                    return format!("`params.{key}.{member}` must be a string");
                }
                _ => {}
            }
        }
    }
    "`params` must be an object in which each member appears once".to_string()
}
