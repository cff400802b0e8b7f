//! What the server tells its operator: OpenTelemetry traces and metrics exported over OTLP/HTTP,
//! the same metrics rendered for Prometheus (`GET /metrics`), one log line per tool call, and SQL
//! comments that name the tool in the database's own logs.
//!
//! - [`metrics`]: the instruments (names and units of the MCP semantic conventions and the
//!   reference's), the pool gauges, the auth cache counters, the Prometheus rendering;
//! - [`trace`]: spans per MCP request, per tool call and per statement, with the caller's W3C
//!   trace context as parent;
//! - [`statement`]: what a statement reads from its call (its parent span, its SQL comment),
//!   through a task-local set around the call.
//!
//! Everything is off unless a flag turns it on; off, a call pays a few branches on `None`. The
//! layer sits below [`crate::mcp`] (which reports requests and calls here) and above [`crate::db`]
//! (whose statements report here); it knows neither's types beyond [`crate::call`]'s.

pub mod metrics;
pub mod statement;
pub mod trace;

use crate::call::{Failure, ToolOutput};
use crate::db::Sources;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the command line asks of telemetry.
#[derive(Debug, Clone, Default)]
pub struct TelemetryConfig {
    /// `--telemetry-otlp`: the collector's base URL; `/v1/traces` and `/v1/metrics` are added.
    pub otlp_endpoint: Option<String>,
    /// The standard `OTEL_EXPORTER_OTLP_*ENDPOINT` variables are set: export there.
    pub otlp_from_env: bool,
    /// Export no traces over OTLP (`OTEL_TRACES_EXPORTER=none`).
    pub no_otlp_traces: bool,
    /// Export no metrics over OTLP (`OTEL_METRICS_EXPORTER=none`).
    pub no_otlp_metrics: bool,
    /// `service.name` of the resource.
    pub service_name: String,
    /// `--metrics` or `--metrics-address`: keep the instruments for Prometheus.
    pub prometheus: bool,
    /// `--sql-commenter`.
    pub sql_commenter: bool,
    /// Log each tool call at INFO (JSON logs); otherwise at DEBUG.
    pub call_log_info: bool,
}

/// The telemetry of a running server.
#[derive(Default)]
pub struct Telemetry {
    metrics: Option<metrics::Metrics>,
    tracing: Option<trace::Tracing>,
    sql_commenter: bool,
    call_log_info: bool,
}

impl Telemetry {
    /// None of it: what tests and a server without telemetry flags use.
    pub fn off() -> Self {
        Self::default()
    }

    /// Starts what `config` asks for. The exporters run on threads of their own; nothing here
    /// connects to the collector yet.
    pub fn start(config: &TelemetryConfig, sources: Arc<Sources>) -> Result<Self, String> {
        let otlp = config.otlp_endpoint.is_some() || config.otlp_from_env;
        let resource = opentelemetry_sdk::Resource::builder().with_service_name(config.service_name.clone()).build();
        let (otlp_metrics, otlp_traces) = (otlp && !config.no_otlp_metrics, otlp && !config.no_otlp_traces);
        let metrics = if otlp_metrics || config.prometheus {
            Some(metrics::Metrics::start(
                resource.clone(),
                config.prometheus,
                otlp_metrics.then(|| config.otlp_endpoint.as_deref()),
                sources,
            )?)
        } else {
            None
        };
        let tracing =
            if otlp_traces { Some(trace::Tracing::start(resource, config.otlp_endpoint.as_deref())?) } else { None };
        Ok(Self { metrics, tracing, sql_commenter: config.sql_commenter, call_log_info: config.call_log_info })
    }

    /// Nothing to record for a request: no instrument, no span, no comment, no call log line.
    pub fn is_quiet(&self) -> bool {
        self.metrics.is_none()
            && self.tracing.is_none()
            && !self.sql_commenter
            && !self.call_log_info
            && !tracing::enabled!(target: "toolbox::call", tracing::Level::DEBUG)
    }

    /// The counters the auth code reports its caches and failures to.
    pub fn auth_counters(&self) -> metrics::AuthCounters {
        self.metrics.as_ref().map(metrics::Metrics::auth_counters).unwrap_or_default()
    }

    /// The Prometheus text of every instrument, when `/metrics` is on.
    pub fn render_prometheus(&self) -> Option<String> {
        self.metrics.as_ref().and_then(metrics::Metrics::render)
    }

    /// Sends what is still buffered and stops the exporters (blocking: run it off the workers).
    pub fn shutdown(&self) {
        if let Some(tracing) = &self.tracing {
            tracing.shutdown();
        }
        if let Some(metrics) = &self.metrics {
            metrics.shutdown();
        }
    }

    /// Starts observing an MCP request that reached a method.
    pub fn begin_request(&self, request: &trace::RequestInfo<'_>, parent: trace::TraceHeaders<'_>) -> Observed {
        let started = Instant::now();
        let span = self.tracing.as_ref().and_then(|t| t.request_span(request, parent));
        // Without a span of ours, the caller's own context still goes into the call log and the SQL
        // comments.
        let remote = if span.is_none() { parent.remote() } else { None };
        Observed { started, span, remote }
    }

    /// Ends a request: its span and `mcp.server.operation.duration`.
    pub fn end_request(&self, request: &trace::RequestInfo<'_>, observed: Observed, error: Option<ErrorType>) {
        let elapsed = observed.started.elapsed();
        if let Some(metrics) = &self.metrics {
            metrics.operation(request, error, elapsed);
        }
        if let Some(span) = observed.span {
            trace::end_request_span(span, error);
        }
    }

    /// Starts observing a tool call, under its request; gives what its statements will read.
    pub fn begin_tool(&self, request: &Observed, tool: &'static str) -> ToolObserved {
        let started = Instant::now();
        let span = match (&self.tracing, &request.span) {
            (Some(tracing), Some(parent)) => Some(tracing.tool_span(parent, tool)),
            _ => None,
        };
        let scope = statement::Scope::new(
            self.tracing.as_ref().zip(span.as_ref()).map(|(t, cx)| (t.tracer(), cx.clone())),
            self.sql_commenter.then_some(tool),
            request.remote.as_ref(),
        );
        let trace_id = match (span.as_ref().or(request.span.as_ref()), &request.remote) {
            (Some(cx), _) => trace::trace_id(cx),
            // `00-<trace id>-...`
            (None, Some(remote)) => remote.get(3..35).map(str::to_string),
            (None, None) => None,
        };
        ToolObserved { started, span, scope, trace_id }
    }

    /// Ends a tool call: its span, its metrics, its log line.
    pub fn end_tool(&self, call: &ToolCall<'_>, observed: ToolObserved) {
        let elapsed = observed.started.elapsed();
        let trace_id = observed.trace_id;
        if let Some(metrics) = &self.metrics {
            metrics.tool(call, elapsed);
        }
        if let Some(span) = observed.span {
            trace::end_tool_span(span, call);
        }
        self.log_call(call, elapsed, trace_id.as_deref());
    }

    fn log_call(&self, call: &ToolCall<'_>, elapsed: Duration, trace_id: Option<&str>) {
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        let (rows, truncated) = call.rows();
        let trace_id = trace_id.unwrap_or_default();
        let subject = call.subject.as_deref().unwrap_or_default();
        macro_rules! line {
            ($level:ident) => {
                tracing::$level!(
                    target: "toolbox::call",
                    tool = call.tool,
                    toolset = call.toolset,
                    outcome = call.outcome.as_str(),
                    duration_ms,
                    rows,
                    truncated,
                    trace_id,
                    subject,
                    "tool call"
                )
            };
        }
        if self.call_log_info {
            line!(info);
        } else {
            line!(debug);
        }
        log_failure(call, Some(trace_id));
    }

    /// Whether the call log wants the caller's subject (which costs a string to make).
    pub fn logs_calls(&self) -> bool {
        self.call_log_info || tracing::enabled!(target: "toolbox::call", tracing::Level::DEBUG)
    }
}

/// Logs a failure of the database (or of reaching it) at WARN with the tool and source it belongs
/// to; with telemetry on or off. A source that is down fails every call: at most one line per
/// tool and second is written, the next one saying how many were left out.
pub fn log_failure(call: &ToolCall<'_>, trace_id: Option<&str>) {
    if let (
        Outcome::Failed(Failure::Database | Failure::Unavailable),
        ToolOutcome::Output(ToolOutput::Error(_, message)),
    ) = (call.outcome, &call.output)
    {
        let Some(suppressed) = FAILURE_LOG.admit(call.tool) else { return };
        let trace_id = trace_id.unwrap_or_default();
        if suppressed > 0 {
            tracing::warn!(tool = call.tool, source = call.source, trace_id, suppressed, "{message}");
        } else {
            tracing::warn!(tool = call.tool, source = call.source, trace_id, "{message}");
        }
    }
}

/// One failure line per tool and second.
static FAILURE_LOG: Throttle = Throttle::new();

/// Per key, the second of its last line and the lines left out since.
struct Throttle(std::sync::Mutex<Vec<(&'static str, u64, u64)>>);

impl Throttle {
    const fn new() -> Self {
        Self(std::sync::Mutex::new(Vec::new()))
    }

    /// `Some(lines left out since the last one)` when `key` may log now.
    fn admit(&self, key: &'static str) -> Option<u64> {
        let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.admit_at(key, second)
    }

    fn admit_at(&self, key: &'static str, second: u64) -> Option<u64> {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match entries.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, last, suppressed)) if *last == second => {
                *suppressed += 1;
                None
            }
            Some((_, last, suppressed)) => {
                *last = second;
                Some(std::mem::take(suppressed))
            }
            None => {
                entries.push((key, second, 0));
                Some(0)
            }
        }
    }
}

/// A request being observed.
pub struct Observed {
    started: Instant,
    span: Option<opentelemetry::Context>,
    /// The caller's trace context, kept for SQL comments when there is no span of ours.
    remote: Option<String>,
}

/// A tool call being observed.
pub struct ToolObserved {
    started: Instant,
    span: Option<opentelemetry::Context>,
    /// What the call's statements read; `None` when they have nothing to do.
    pub scope: Option<Arc<statement::Scope>>,
    /// For the call log: our span's trace, else the caller's.
    trace_id: Option<String>,
}

/// The `error.type` of an operation: `tool_error` for an `isError` result (the MCP semantic
/// conventions' value), else the JSON-RPC error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Tool,
    Rpc(i64),
}

/// How a tool call ended, as the metrics and the log name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed(Failure),
    /// Refused by its `authRequired` or `scopesRequired`.
    AuthRefused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed(f) => f.as_str(),
            Outcome::AuthRefused => "auth_refused",
        }
    }

    pub fn of(output: &ToolOutput) -> Self {
        match output {
            ToolOutput::Error(failure, _) => Outcome::Failed(*failure),
            _ => Outcome::Ok,
        }
    }
}

/// What a tool call gave, for the record.
pub enum ToolOutcome<'a> {
    Output(&'a ToolOutput),
    /// Refused, or not made: no output.
    NoResult,
}

/// A finished tool call.
pub struct ToolCall<'a> {
    pub tool: &'static str,
    pub toolset: &'static str,
    /// The tool's source.
    pub source: &'static str,
    pub outcome: Outcome,
    pub output: ToolOutcome<'a>,
    /// Who the verified token says the caller is.
    pub subject: Option<String>,
}

impl ToolCall<'_> {
    /// Rows returned and whether some were left out.
    fn rows(&self) -> (u64, bool) {
        match self.output {
            ToolOutcome::Output(ToolOutput::Rows { rows, truncated, .. }) => (*rows, *truncated),
            _ => (0, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Throttle;

    #[test]
    fn failure_lines_are_one_per_tool_and_second_and_count_what_was_left_out() {
        let throttle = Throttle::new();
        assert_eq!(throttle.admit_at("a", 10), Some(0));
        assert_eq!(throttle.admit_at("a", 10), None);
        assert_eq!(throttle.admit_at("a", 10), None);
        assert_eq!(throttle.admit_at("b", 10), Some(0), "each tool has its own second");
        assert_eq!(throttle.admit_at("a", 11), Some(2), "the next second's line says two were left out");
        assert_eq!(throttle.admit_at("a", 12), Some(0));
    }
}
