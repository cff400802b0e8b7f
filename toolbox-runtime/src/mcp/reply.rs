//! The answer to a message, and the writer of JSON-RPC results: bytes written straight into one
//! buffer, with the static parts (tool and prompt lists) copied in as they are. Error answers are
//! [`RpcError::to_message`]'s.

use crate::auth::Denied;
use crate::def::ToolsetDef;
use crate::error::RpcError;
use crate::protocol::{self, Version};
use crate::telemetry::ErrorType;
use serde_json::value::RawValue;

/// A response to send. `body: None` means "accepted, nothing to say" (HTTP 202, no stdio line).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Option<Vec<u8>>,
    /// Set when this message was an `initialize`: the version it negotiated.
    pub negotiated: Option<Version>,
    /// Set when a tool call was refused by its `authRequired` or `scopesRequired`: the HTTP layer
    /// adds the `WWW-Authenticate` challenge.
    pub denied: Option<Denied>,
    /// What went wrong, for the telemetry: a JSON-RPC error, or a tool's `isError` result.
    pub error: Option<ErrorType>,
}

impl Reply {
    pub(super) fn accepted() -> Self {
        Reply { status: 202, body: None, negotiated: None, denied: None, error: None }
    }

    pub(super) fn ok(body: Vec<u8>) -> Self {
        Reply { status: 200, body: Some(body), negotiated: None, denied: None, error: None }
    }
}

/// An error response, echoing `id` when it is a string or a number (see [`RpcError::to_message`]).
pub fn error_reply(id: Option<&RawValue>, error: RpcError) -> Reply {
    let kind = Some(ErrorType::Rpc(i64::from(error.code)));
    Reply { status: error.status, body: Some(error.to_message(id)), negotiated: None, denied: None, error: kind }
}

/// Writes `{"jsonrpc":"2.0","id":..,"result":{..}}`, adding the 2026-07-28 result fields.
pub(super) struct ResultWriter {
    out: Vec<u8>,
    modern: bool,
}

impl ResultWriter {
    pub(super) fn new(id: &RawValue, version: Version, server_info: &str) -> Self {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
        out.extend_from_slice(id.get().as_bytes());
        out.extend_from_slice(b",\"result\":{");
        let mut w = Self { out, modern: version.is_modern() };
        if w.modern {
            w.raw("\"_meta\":{\"");
            w.raw(protocol::META_SERVER_INFO);
            w.raw("\":");
            w.raw(server_info);
            w.raw("},\"resultType\":\"complete\"");
        }
        w
    }

    /// Starts the member `key` of the result.
    pub(super) fn field(&mut self, key: &str) {
        if self.out.last() != Some(&b'{') {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// Copies JSON text as it is.
    pub(super) fn raw(&mut self, json: &str) {
        self.out.extend_from_slice(json.as_bytes());
    }

    /// Writes `s` as a JSON string.
    pub(super) fn string(&mut self, s: &str) {
        // Serialising a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.out, s);
    }

    /// A list result: `key` with the list, which is never paginated, and its cache hints.
    pub(super) fn list(&mut self, key: &str, items: &str, toolset: &ToolsetDef) {
        self.field(key);
        self.raw(items);
        self.cache_hints(toolset);
    }

    /// `ttlMs` and `cacheScope`, required on list results in 2026-07-28.
    pub(super) fn cache_hints(&mut self, toolset: &ToolsetDef) {
        if self.modern {
            self.field("ttlMs");
            self.raw(itoa::Buffer::new().format(toolset.ttl_ms));
            self.field("cacheScope");
            self.raw(if toolset.cache_private { "\"private\"" } else { "\"public\"" });
        }
    }

    pub(super) fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(b"}}");
        self.out
    }
}
