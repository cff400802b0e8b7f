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
/// and the call is dropped; a server database's connection is drained before reuse (see
/// [`crate::pool`]). Work that cannot yield meanwhile (a SQLite statement, which runs on the
/// calling thread) reads the deadline with [`deadline`] and interrupts itself.
pub async fn with_timeout(timeout_ms: u64, call: impl std::future::Future<Output = ToolOutput>) -> ToolOutput {
    let limit = std::time::Duration::from_millis(timeout_ms);
    let deadline = Deadline { at: std::time::Instant::now() + limit, ms: timeout_ms };
    match DEADLINE.scope(Some(deadline), tokio::time::timeout(limit, call)).await {
        Ok(output) => output,
        Err(_) => ToolOutput::Error(timeout_message(timeout_ms)),
    }
}

/// The deadline of the running call, when its tool has a `queryTimeout`.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: std::time::Instant,
    pub ms: u64,
}

tokio::task_local! {
    static DEADLINE: Option<Deadline>;
}

pub fn deadline() -> Option<Deadline> {
    DEADLINE.try_with(|d| *d).ok().flatten()
}

pub fn timeout_message(timeout_ms: u64) -> String {
    format!("the call did not finish within {timeout_ms} ms (the tool's queryTimeout)")
}

impl ToolOutput {
    pub fn invalid_arguments(error: ArgError) -> Self {
        ToolOutput::Error(error.to_string())
    }
}
