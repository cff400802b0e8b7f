//! What a database statement learns from the call it runs for: the span to nest its own under,
//! and the SQL comment to append (`--sql-commenter`). The call's [`Scope`] is set in a task-local
//! around the call by [`scoped`]; the engines ask for it with [`begin`] when a statement starts.
//! With neither tracing nor comments on, no scope is set and [`begin`] costs one task-local
//! lookup.
//!
//! Comments follow the sqlcommenter format: `key='value'` pairs, keys sorted, values
//! percent-encoded, in one `/*...*/` at the end of the statement; a statement with a comment that
//! carries a `traceparent` is unique to its call, so engines run it without caching its prepared
//! form (see [`Statement::cacheable`]).

use crate::call::ToolOutput;
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use std::borrow::Cow;
use std::sync::Arc;

/// What the statements of one call read.
pub struct Scope {
    /// The tracer and the tool call's span.
    trace: Option<(SdkTracer, Context)>,
    /// The tool's name, when statements carry SQL comments.
    comment_tool: Option<&'static str>,
    /// The caller's `traceparent`, for comments when no span of ours records.
    remote: Option<String>,
}

impl Scope {
    /// A scope, or `None` when statements have nothing to do with one.
    pub(super) fn new(
        trace: Option<(SdkTracer, Context)>,
        comment_tool: Option<&'static str>,
        remote: Option<&String>,
    ) -> Option<Arc<Self>> {
        let trace = trace.filter(|(_, cx)| cx.span().is_recording());
        if trace.is_none() && comment_tool.is_none() {
            return None;
        }
        Some(Arc::new(Self { trace, comment_tool, remote: remote.cloned() }))
    }
}

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

/// Runs a call's future with its statements' scope.
pub async fn scoped<F: std::future::Future>(scope: Option<Arc<Scope>>, call: F) -> F::Output {
    match scope {
        Some(scope) => SCOPE.scope(scope, call).await,
        None => call.await,
    }
}

/// A statement being run.
pub struct Statement {
    span: Option<opentelemetry_sdk::trace::Span>,
    sql: Cow<'static, str>,
    cacheable: bool,
}

/// Starts a statement of `system` (`db.system.name`) on `source`: its span, and its text with
/// the call's comment.
pub fn begin(system: &'static str, source: &'static str, sql: &'static str) -> Statement {
    let Ok(scope) = SCOPE.try_with(Arc::clone) else {
        return Statement { span: None, sql: Cow::Borrowed(sql), cacheable: true };
    };
    let span = scope.trace.as_ref().map(|(tracer, parent)| {
        let operation = operation_name(sql);
        let mut span =
            tracer.span_builder(operation.to_string()).with_kind(SpanKind::Client).start_with_context(tracer, parent);
        if span.is_recording() {
            span.set_attributes([
                KeyValue::new("db.system.name", system),
                KeyValue::new("db.operation.name", operation.to_string()),
                KeyValue::new("db.query.text", sql),
                KeyValue::new("toolbox.source.name", source),
            ]);
        }
        span
    });
    let Some(tool) = scope.comment_tool else {
        return Statement { span, sql: Cow::Borrowed(sql), cacheable: true };
    };
    let traceparent = match &span {
        Some(span) => Some(super::trace::traceparent(span.span_context())),
        None => scope.remote.clone(),
    };
    let cacheable = traceparent.is_none();
    Statement { span, sql: Cow::Owned(comment(sql, tool, traceparent.as_deref())), cacheable }
}

impl Statement {
    /// The text to run (taken: the statement keeps only its span).
    pub fn take_sql(&mut self) -> Cow<'static, str> {
        std::mem::take(&mut self.sql)
    }

    /// Whether the text is the same on every call (so its prepared form may be cached).
    pub fn cacheable(&self) -> bool {
        self.cacheable
    }

    /// Ends the span with what the statement gave.
    pub fn end(self, output: &ToolOutput) {
        let Some(mut span) = self.span else { return };
        if span.is_recording() {
            match output {
                ToolOutput::Rows { rows, .. } => {
                    span.set_attribute(KeyValue::new("db.response.returned_rows", *rows as i64))
                }
                ToolOutput::Affected { rows_affected } => {
                    span.set_attribute(KeyValue::new("db.response.affected_rows", *rows_affected as i64))
                }
                ToolOutput::Object { .. } => {}
                ToolOutput::Error(failure, _) => {
                    span.set_attribute(KeyValue::new("error.type", failure.as_str()));
                    span.set_status(Status::error(failure.as_str()));
                }
            }
        }
        span.end();
    }
}

/// The statement's first keyword, upper case (`SELECT`, `INSERT`, `WITH`), for
/// `db.operation.name` and the span's name.
fn operation_name(sql: &str) -> Cow<'static, str> {
    let mut rest = sql.trim_start();
    // Leading comments.
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).take(16).collect();
    match word.to_ascii_uppercase().as_str() {
        "" => Cow::Borrowed("statement"),
        w => Cow::Owned(w.to_string()),
    }
}

/// `sql` with a sqlcommenter comment naming the tool (and the trace context), placed before a
/// final `;`.
fn comment(sql: &str, tool: &str, traceparent: Option<&str>) -> String {
    let body = sql.trim_end().trim_end_matches(';').trim_end();
    let mut out = String::with_capacity(body.len() + 96);
    out.push_str(body);
    out.push_str(" /*");
    push_pair(&mut out, "tool", tool);
    if let Some(tp) = traceparent {
        out.push(',');
        push_pair(&mut out, "traceparent", tp);
    }
    out.push_str("*/");
    out
}

/// `key='value'`, the value percent-encoded (so no `'`, `*/` or newline can reach the SQL).
fn push_pair(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str("='");
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names() {
        assert_eq!(operation_name("  select 1"), "SELECT");
        assert_eq!(operation_name("-- a note\n/* x */ WITH t AS (SELECT 1) SELECT * FROM t"), "WITH");
        assert_eq!(operation_name("update t set a = 1"), "UPDATE");
        assert_eq!(operation_name("  "), "statement");
    }

    #[test]
    fn comments_are_sqlcommenter_pairs_that_cannot_break_out() {
        assert_eq!(comment("SELECT 1;\n", "get_flight", None), "SELECT 1 /*tool='get_flight'*/");
        let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assert_eq!(comment("SELECT 1", "t", Some(tp)), format!("SELECT 1 /*tool='t',traceparent='{tp}'*/"));
        let hostile = comment("SELECT 1", "a'*/; DROP TABLE x; --", None);
        assert_eq!(hostile, "SELECT 1 /*tool='a%27%2A%2F%3B%20DROP%20TABLE%20x%3B%20--'*/");
    }
}
