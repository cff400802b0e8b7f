//! What a tool handler gets (the sources, the caller's verified claims) and what it returns.

use crate::args::{ArgError, ClaimSource};
use crate::sources::Sources;

/// The context of one `tools/call`.
pub struct CallContext<'a> {
    pub sources: &'a Sources,
    pub claims: &'a dyn ClaimSource,
}

/// The outcome of a tool call, before it is shaped for a protocol version.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutput {
    /// A JSON array of row objects, in column order; `truncated` when rows were left out.
    Rows { json: String, truncated: bool },
    /// A statement without result columns.
    Affected { rows_affected: u64 },
    /// A failure the model should see (`isError: true`): bad arguments, a database error.
    Error(String),
}

/// Runs a call with the tool's `queryTimeout`. When it expires the caller gets an error at once
/// and the call is dropped; its connection goes back through the pool's release check, which
/// waits for the statement to end before any other call can use the connection.
pub async fn with_timeout(timeout_ms: u64, call: impl std::future::Future<Output = ToolOutput>) -> ToolOutput {
    match tokio::time::timeout(std::time::Duration::from_millis(timeout_ms), call).await {
        Ok(output) => output,
        Err(_) => {
            ToolOutput::Error(format!("the call did not finish within {timeout_ms} ms (the tool's queryTimeout)"))
        }
    }
}

impl ToolOutput {
    pub fn invalid_arguments(error: ArgError) -> Self {
        ToolOutput::Error(error.to_string())
    }
}
