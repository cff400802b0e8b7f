//! The one error type of the protocol layer: a JSON-RPC error with the HTTP status it travels with,
//! and the one place its JSON-RPC form is written. `mcp`, `auth`, `http` and `stdio` all answer
//! errors through [`RpcError::to_message`] (or its `IntoResponse`), so this module sits below all
//! of them and imports none.

use crate::protocol::code;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use serde_json::value::RawValue;

#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// HTTP status for the Streamable HTTP transport (ignored on stdio).
    pub status: u16,
    pub code: i32,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(status: u16, code: i32, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), data: None }
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(200, code::INVALID_PARAMS, message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, code::INVALID_REQUEST, message)
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The error response `{"jsonrpc":"2.0","id":..,"error":{..}}`. The id is echoed when it could
    /// be read and is a string or a number; any other id (`false`, `{}`, `[1]`) is answered with
    /// `null`, since a reply's id can only be one of those (the refusals of a missing `jsonrpc` or
    /// `method` echoed it as sent; found by the fuzz suite).
    pub fn to_message(&self, id: Option<&RawValue>) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
        out.extend_from_slice(id.filter(|i| is_valid_id(i)).map_or("null", |i| i.get()).as_bytes());
        out.extend_from_slice(b",\"error\":{\"code\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.code).as_bytes());
        out.extend_from_slice(b",\"message\":");
        // Serialising a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, &self.message);
        if let Some(data) = &self.data {
            out.extend_from_slice(b",\"data\":");
            let _ = serde_json::to_writer(&mut out, data);
        }
        out.extend_from_slice(b"}}");
        out
    }
}

/// An error found before any message was read (`id` null), as an HTTP answer.
impl IntoResponse for RpcError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, [(header::CONTENT_TYPE, "application/json")], self.to_message(None)).into_response()
    }
}

/// MCP request ids are strings or numbers, never `null`.
pub fn is_valid_id(id: &RawValue) -> bool {
    id.get().starts_with('"') || id.get().starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_message_echoes_only_string_and_number_ids() {
        let error = RpcError::new(400, code::INVALID_REQUEST, "say \"why\"").with_data(serde_json::json!({"a": 1}));
        let id = |text: &str| RawValue::from_string(text.to_string()).unwrap();
        let message = |id: Option<&RawValue>| String::from_utf8(error.to_message(id)).unwrap();
        let expected = r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"say \"why\"","data":{"a":1}}}"#;
        assert_eq!(message(Some(&id("7"))), expected);
        assert!(message(Some(&id("\"x\""))).contains(r#""id":"x""#));
        assert!(message(Some(&id("false"))).contains(r#""id":null"#));
        assert!(message(None).contains(r#""id":null"#));
    }
}
