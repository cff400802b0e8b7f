//! What a tool call returns and the time it has: [`ToolOutput`], and the deadline that
//! [`with_timeout`] sets and that statements which cannot yield read with [`deadline`]. A leaf:
//! the database code below and the method layer above both use it.

use crate::args::ArgError;

/// The outcome of a tool call, before it is shaped for a protocol version.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutput {
    /// A JSON array of `rows` row objects, in column order; `truncated` when rows were left out.
    Rows { json: String, rows: u64, truncated: bool },
    /// A statement without result columns.
    Affected { rows_affected: u64 },
    /// A JSON object that is both the text and the structured content (an HTTP answer);
    /// `truncated` when the response size limit cut part of it.
    Object { json: String, truncated: bool },
    /// A failure the model should see (`isError: true`): bad arguments, a database error; what
    /// kind, for the metrics and the call log.
    Error(Failure, String),
}

/// Why a call answered `isError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The arguments do not fit the tool's parameters.
    InvalidArguments,
    /// The database refused or failed the statement, or a value could not be encoded; or an
    /// HTTP source answered an error status or a redirect that is not followed.
    Database,
    /// The call ran past its time limit.
    Timeout,
    /// The source could not be reached (no connection, or its queue of waiting calls is full).
    Unavailable,
    /// The caller is over the tool's rate limit.
    RateLimited,
}

impl Failure {
    /// The name the metrics and the call log give it.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::InvalidArguments => "invalid_arguments",
            Failure::Database => "database_error",
            Failure::Timeout => "timeout",
            Failure::Unavailable => "source_unavailable",
            Failure::RateLimited => "rate_limited",
        }
    }
}

/// Runs a call within its time limit (the tool's `queryTimeout`, else the server's default).
/// When it expires the caller gets an error at once and the call is dropped: a server database's
/// statement is cancelled and its connection drained before reuse (see [`crate::db::pool`]). Work
/// that cannot yield meanwhile (a SQLite statement) reads the deadline with [`deadline`] and
/// interrupts itself.
pub async fn with_timeout(
    timeout_ms: u64,
    limit: Limit,
    call: impl std::future::Future<Output = ToolOutput>,
) -> ToolOutput {
    let duration = std::time::Duration::from_millis(timeout_ms);
    let deadline = Deadline { at: std::time::Instant::now() + duration, ms: timeout_ms, limit };
    match DEADLINE.scope(Some(deadline), tokio::time::timeout(duration, call)).await {
        Ok(output) => output,
        Err(_) => ToolOutput::Error(Failure::Timeout, deadline.message()),
    }
}

/// Where a call's time limit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The tool's `queryTimeout`.
    Tool,
    /// The server's `--default-query-timeout`, for a tool without one.
    Server,
}

/// The deadline of the running call.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: std::time::Instant,
    pub ms: u64,
    pub limit: Limit,
}

impl Deadline {
    /// What the caller is told when the deadline passes.
    pub fn message(&self) -> String {
        timeout_message(self.ms, self.limit)
    }
}

tokio::task_local! {
    static DEADLINE: Option<Deadline>;
}

pub fn deadline() -> Option<Deadline> {
    DEADLINE.try_with(|d| *d).ok().flatten()
}

pub fn timeout_message(timeout_ms: u64, limit: Limit) -> String {
    let limit = match limit {
        Limit::Tool => "the tool's queryTimeout",
        Limit::Server => "the server's --default-query-timeout",
    };
    format!("the call did not finish within {timeout_ms} ms ({limit})")
}

impl ToolOutput {
    pub fn invalid_arguments(error: ArgError) -> Self {
        ToolOutput::Error(Failure::InvalidArguments, error.to_string())
    }
}
