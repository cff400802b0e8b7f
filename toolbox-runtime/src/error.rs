//! The one error type of the protocol layer: a JSON-RPC error with the HTTP status it travels with.

use crate::protocol::code;
use serde_json::Value;

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
}
