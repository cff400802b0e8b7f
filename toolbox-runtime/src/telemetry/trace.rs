//! Spans: one per MCP request that reaches a method (`tools/call get_flight`, kind SERVER), one
//! per tool call under it (`execute_tool get_flight`, INTERNAL), one per database statement
//! under that (see [`super::statement`]). Attributes follow the MCP, GenAI and database semantic
//! conventions; parameter values are never recorded.
//!
//! The parent is the caller's W3C trace context: `params._meta.traceparent` (how MCP carries
//! it, on every transport), else the `traceparent` HTTP header. Sampling is the SDK's, so the
//! standard `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` choose it (parent-based, always
//! on, by default); attributes are only built for spans that record.

use super::{ErrorType, ToolCall};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The tracer and its provider (which owns the batch exporter's thread).
pub(super) struct Tracing {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

/// The request a span is made for.
pub struct RequestInfo<'a> {
    /// `mcp.method.name`.
    pub method: &'static str,
    /// `mcp.protocol.version`.
    pub version: &'static str,
    /// Over stdio (`network.transport` `pipe`) or HTTP (`tcp`).
    pub stdio: bool,
    pub toolset: &'static str,
    /// The tool a `tools/call` names, when the toolset has it (never a name the caller made up:
    /// it would be a label of its own in every metric).
    pub tool: Option<&'static str>,
    /// `jsonrpc.request.id`, as sent.
    pub id: &'a str,
}

/// The caller's trace context, as sent.
#[derive(Clone, Copy, Default)]
pub struct TraceHeaders<'a> {
    pub traceparent: Option<&'a str>,
    pub tracestate: Option<&'a str>,
}

impl TraceHeaders<'_> {
    /// The caller's `traceparent`, when it is a valid one.
    pub(super) fn remote(self) -> Option<String> {
        let cx = self.extract();
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| traceparent(sc))
    }

    fn extract(self) -> Context {
        if self.traceparent.is_none() {
            return Context::new();
        }
        TraceContextPropagator::new().extract(&self)
    }
}

impl Extractor for TraceHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => self.traceparent,
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// `traceparent` of a span context: `00-<trace id>-<span id>-<flags>`.
pub(super) fn traceparent(sc: &opentelemetry::trace::SpanContext) -> String {
    format!("00-{}-{}-{:02x}", sc.trace_id(), sc.span_id(), sc.trace_flags().to_u8())
}

/// The trace id of a context's span, for the call log.
pub(super) fn trace_id(cx: &Context) -> Option<String> {
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

impl Tracing {
    /// A tracer provider exporting over OTLP/HTTP in batches: to `<endpoint>/v1/traces`, or
    /// where the `OTEL_EXPORTER_OTLP_*` variables say.
    pub(super) fn start(resource: opentelemetry_sdk::Resource, endpoint: Option<&str>) -> Result<Self, String> {
        let mut exporter = opentelemetry_otlp::SpanExporter::builder().with_http();
        if let Some(endpoint) = endpoint {
            exporter = exporter.with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')));
        }
        let exporter = exporter.build().map_err(|e| format!("cannot start the OTLP trace exporter: {e}"))?;
        let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
        let tracer = provider.tracer("toolbox");
        Ok(Self { provider, tracer })
    }

    pub(super) fn tracer(&self) -> SdkTracer {
        self.tracer.clone()
    }

    pub(super) fn shutdown(&self) {
        let _ = self.provider.shutdown();
    }

    /// The SERVER span of a request, named `<method> <tool>` (or the method alone).
    /// `None` when the sampler leaves the request out: nothing under it records either.
    pub(super) fn request_span(&self, request: &RequestInfo<'_>, parent: TraceHeaders<'_>) -> Option<Context> {
        let parent = parent.extract();
        // Named after the method alone until the sampler has decided: an unsampled span costs
        // no allocation for its name, its attributes or a context.
        let mut span = self
            .tracer
            .span_builder(request.method)
            .with_kind(SpanKind::Server)
            .start_with_context(&self.tracer, &parent);
        if !span.is_recording() {
            return None;
        }
        if let Some(tool) = request.tool {
            span.update_name(format!("{} {tool}", request.method));
        }
        let mut attributes = vec![
            KeyValue::new("mcp.method.name", request.method),
            KeyValue::new("mcp.protocol.version", request.version),
            KeyValue::new("jsonrpc.request.id", request.id.trim_matches('"').to_string()),
            KeyValue::new("network.transport", if request.stdio { "pipe" } else { "tcp" }),
            KeyValue::new("network.protocol.name", if request.stdio { "stdio" } else { "http" }),
            KeyValue::new("toolset.name", request.toolset),
        ];
        if let Some(tool) = request.tool {
            attributes.push(KeyValue::new("gen_ai.tool.name", tool));
            attributes.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
        }
        span.set_attributes(attributes);
        Some(parent.with_span(span))
    }

    /// The INTERNAL span of a tool call, `execute_tool <tool>`, under its request's (recording)
    /// span.
    pub(super) fn tool_span(&self, parent: &Context, tool: &'static str) -> Context {
        let mut span = self
            .tracer
            .span_builder(format!("execute_tool {tool}"))
            .with_kind(SpanKind::Internal)
            .start_with_context(&self.tracer, parent);
        if span.is_recording() {
            span.set_attributes([
                KeyValue::new("gen_ai.tool.name", tool),
                KeyValue::new("gen_ai.operation.name", "execute_tool"),
            ]);
        }
        parent.with_span(span)
    }
}

pub(super) fn end_request_span(cx: Context, error: Option<ErrorType>) {
    let span = cx.span();
    if span.is_recording() {
        match error {
            Some(ErrorType::Tool) => {
                span.set_attribute(KeyValue::new("error.type", "tool_error"));
                span.set_status(Status::error("the tool answered an error"));
            }
            Some(ErrorType::Rpc(code)) => {
                span.set_attribute(KeyValue::new("error.type", code.to_string()));
                span.set_attribute(KeyValue::new("rpc.jsonrpc.error_code", code));
                span.set_status(Status::error("JSON-RPC error"));
            }
            None => {}
        }
    }
    span.end();
}

pub(super) fn end_tool_span(cx: Context, call: &ToolCall<'_>) {
    let span = cx.span();
    if span.is_recording() {
        let (rows, truncated) = call.rows();
        span.set_attribute(KeyValue::new("toolbox.outcome", call.outcome.as_str()));
        span.set_attribute(KeyValue::new("toolbox.source.name", call.source));
        span.set_attribute(KeyValue::new("toolbox.rows", rows as i64));
        if truncated {
            span.set_attribute(KeyValue::new("toolbox.truncated", true));
        }
        if call.outcome != super::Outcome::Ok {
            span.set_attribute(KeyValue::new("error.type", call.outcome.as_str()));
            span.set_status(Status::error(call.outcome.as_str()));
        }
    }
    span.end();
}
