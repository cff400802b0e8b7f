//! `tools/list` (a static string per toolset and protocol generation) and `tools/call`: the
//! tool's authorization, its arguments' names, its rate limit, then its handler under its time
//! limit, and the result in the shape of the request's version.

use super::Mcp;
use super::reply::{Reply, ResultWriter, error_reply};
use super::request::Request;
use crate::args::Arguments;
use crate::auth::{Denied, authorize_tool};
use crate::call::{Failure, Limit, ToolOutput, with_timeout};
use crate::def::{CallContext, ToolDef};
use crate::error::RpcError;
use crate::protocol::Version;
use crate::telemetry::{ErrorType, Observed, Outcome, ToolCall, ToolObserved, ToolOutcome, statement};
use serde_json::{Map, Value};

pub(super) fn list(request: &Request<'_>, w: &mut ResultWriter) -> Result<(), RpcError> {
    request.params.check_cursor()?;
    w.list("tools", request.toolset.tools_json[request.version.tool_shape()], request.toolset);
    Ok(())
}

/// How a `tools/call` ended.
enum Called {
    /// A result: the tool's output, or an `isError` result the model can act on (bad arguments,
    /// a database error, a rate limit).
    Output(ToolOutput),
    /// Refused by the tool's `authRequired` or `scopesRequired`, with the error that says so.
    Denied(Denied, RpcError),
    /// Not a call this server can make (no name, an unknown tool, arguments that are not an
    /// object).
    Invalid(RpcError),
}

pub(super) async fn call(mcp: &Mcp, request: &Request<'_>, mut w: ResultWriter, observed: Option<&Observed>) -> Reply {
    let mut record = None;
    let called = run(mcp, request, observed, &mut record).await;
    if let Some((tool, tool_observed)) = record {
        let (outcome, output) = match &called {
            Called::Output(output) => (Outcome::of(output), ToolOutcome::Output(output)),
            Called::Denied(..) => (Outcome::AuthRefused, ToolOutcome::NoResult),
            // Arguments that are not an object: the tool is known, the call could not be made.
            Called::Invalid(_) => (Outcome::Failed(Failure::InvalidArguments), ToolOutcome::NoResult),
        };
        let call = ToolCall {
            tool: tool.name,
            toolset: super::toolset_label(request.toolset),
            source: mcp.sources.get(tool.source).def.name,
            outcome,
            output,
            subject: if mcp.telemetry.logs_calls() { request.claims.subject() } else { None },
        };
        match tool_observed {
            Some(tool_observed) => mcp.telemetry.end_tool(&call, tool_observed),
            None => crate::telemetry::log_failure(&call, None),
        }
    }
    match called {
        Called::Output(output) => {
            write_output(&mut w, &output, request.version);
            let mut reply = Reply::ok(w.finish());
            if matches!(output, ToolOutput::Error(..)) {
                reply.error = Some(ErrorType::Tool);
            }
            reply
        }
        Called::Denied(denied, error) => {
            let mut reply = error_reply(Some(request.id), error);
            reply.denied = Some(denied);
            reply
        }
        Called::Invalid(error) => error_reply(Some(request.id), error),
    }
}

/// Runs a tool. Authorization is judged on the name read from the body, never from a header
/// alone. Once its tool is known, `record` gets the tool and (with telemetry on) the observation
/// that began then.
async fn run(
    mcp: &Mcp,
    request: &Request<'_>,
    observed: Option<&Observed>,
    record: &mut Option<(&'static ToolDef, Option<ToolObserved>)>,
) -> Called {
    let params = request.params;
    let Some(name) = params.name.as_deref() else {
        return Called::Invalid(RpcError::invalid_params("`params.name` is required"));
    };
    let Some((index, tool)) = mcp.toolbox.tool(name).filter(|(i, _)| request.toolset.has_tool(*i)) else {
        return Called::Invalid(RpcError::invalid_params(format!("unknown tool `{name}`")));
    };
    let tool_observed = observed.map(|o| mcp.telemetry.begin_tool(o, tool.name));
    let scope = tool_observed.as_ref().and_then(|o| o.scope.clone());
    *record = Some((tool, tool_observed));
    if let Err(denied) = authorize_tool(tool, request.claims) {
        return Called::Denied(denied, refusal(name, denied, request));
    }
    let arguments = match params.arguments.map(|raw| serde_json::from_str::<Map<String, Value>>(raw.get())) {
        None => Map::new(),
        Some(Ok(arguments)) => arguments,
        Some(Err(_)) => return Called::Invalid(RpcError::invalid_params("`params.arguments` must be an object")),
    };
    let arguments = Arguments::new(arguments);
    if let Err(e) = arguments.check_names(tool.params) {
        return Called::Output(ToolOutput::invalid_arguments(e));
    }
    let (client, rate_checked) = request.transport.headers().map_or((None, false), |h| (h.client, h.rate_checked));
    if !rate_checked {
        let caller = crate::rate::caller_key(request.claims, client, request.transport.is_stdio());
        if let Err(refused) = mcp.rate_limits.check(index, &caller) {
            return Called::Output(ToolOutput::Error(Failure::RateLimited, refused.message(name)));
        }
    }
    let context = CallContext { sources: &mcp.sources, claims: request.claims };
    let (timeout_ms, limit) = match tool.query_timeout_ms {
        Some(ms) => (ms, Limit::Tool),
        None => (mcp.default_query_timeout_ms, Limit::Server),
    };
    let call = with_timeout(timeout_ms, limit, (tool.handler)(&context, &arguments));
    Called::Output(statement::scoped(scope, call).await)
}

/// The error of a refused call: what to send, and where (stdio carries no credentials at all).
fn refusal(name: &str, denied: Denied, request: &Request<'_>) -> RpcError {
    let message = match denied {
        _ if request.transport.is_stdio() => {
            format!("tool `{name}` requires authorization, which the stdio transport cannot carry; call it over HTTP")
        }
        Denied::Unauthenticated(services) => format!(
            "tool `{name}` requires a verified token from {}: send it in the {} header",
            services.join(" or "),
            services.iter().map(|s| format!("{}_token", s.to_ascii_lowercase())).collect::<Vec<_>>().join(" or ")
        ),
        Denied::InsufficientScope(scopes) => format!("tool `{name}` requires the scopes: {}", scopes.join(" ")),
    };
    RpcError::new(denied.status(), denied.code(), message)
}

fn write_output(w: &mut ResultWriter, output: &ToolOutput, version: Version) {
    let structured = version.has_structured_content();
    match output {
        ToolOutput::Rows { json: rows, truncated, .. } => {
            w.field("content");
            w.raw("[{\"type\":\"text\",\"text\":");
            w.string(rows);
            if *truncated {
                w.raw("},{\"type\":\"text\",\"text\":");
                w.string("More rows matched than are shown (the tool's maxRows or the response size limit); narrow the query to see the rest.");
            }
            w.raw("}]");
            if structured {
                w.field("structuredContent");
                w.raw("{\"rows\":");
                w.raw(rows);
                if *truncated {
                    w.raw(",\"truncated\":true");
                }
                w.raw("}");
            }
        }
        ToolOutput::Object { json, truncated } => {
            w.field("content");
            w.raw("[{\"type\":\"text\",\"text\":");
            w.string(json);
            if *truncated {
                w.raw("},{\"type\":\"text\",\"text\":");
                w.string(
                    "The answer was longer than the response size limit and was cut; ask for less to see all of it.",
                );
            }
            w.raw("}]");
            if structured {
                w.field("structuredContent");
                w.raw(json);
            }
        }
        ToolOutput::Affected { rows_affected } => {
            let body = format!("{{\"rowsAffected\":{rows_affected}}}");
            w.field("content");
            w.raw("[{\"type\":\"text\",\"text\":");
            w.string(&body);
            w.raw("}]");
            if structured {
                w.field("structuredContent");
                w.raw(&body);
            }
        }
        ToolOutput::Error(_, message) => {
            w.field("content");
            w.raw("[{\"type\":\"text\",\"text\":");
            w.string(message);
            w.raw("}]");
            w.field("isError");
            w.raw("true");
        }
    }
}
