//! The MCP method layer, shared by the HTTP and stdio transports: reads a JSON-RPC message once,
//! decides which protocol generation it belongs to, validates what that generation requires, and
//! writes the response bytes directly. Responses that do not depend on the request (tool lists,
//! prompt lists) are static strings made at build time.
//!
//! A body goes through, in order:
//! - `envelope`: the message and its `params`, read once into fields borrowed from the body;
//! - `route`: the version the request speaks and the 2026-07-28 header rules, giving a
//!   `request::Request` (the method, parsed once as a [`Method`], the version, the
//!   [`Transport`], the caller's claims);
//! - one module per method family: `discovery`, `tools`, `prompts`, `completion`, `resources`;
//! - `reply`: the [`Reply`] and the writer of results (errors are [`RpcError::to_message`]'s).
//!
//! The layer sits above `protocol`, `error`, `auth` (tool authorization), `call`, `rate` and the
//! static tables; nothing under it imports it.

mod completion;
mod discovery;
mod envelope;
mod prompts;
mod reply;
mod request;
mod resources;
mod route;
mod tools;

pub use reply::{Reply, error_reply};
pub use request::{Headers, Transport};

use crate::args::ClaimSource;
use crate::auth::Denied;
use crate::db::Sources;
use crate::def::{Toolbox, ToolsetDef};
use crate::error::RpcError;
use crate::protocol::{Method, Version, code};
use crate::telemetry::Observed;
use crate::telemetry::Telemetry;
use crate::telemetry::trace::{RequestInfo, TraceHeaders};
use envelope::{Envelope, Incoming};
use reply::ResultWriter;
use request::Request;
use serde_json::value::RawValue;
use std::sync::Arc;

/// The `toolset.name` of a toolset: its name, `default` for the default one.
fn toolset_label(toolset: &ToolsetDef) -> &'static str {
    if toolset.name.is_empty() { "default" } else { toolset.name }
}

/// The protocol-level server: the static toolbox plus its live sources.
pub struct Mcp {
    pub toolbox: &'static Toolbox,
    pub sources: Arc<Sources>,
    /// `{"name":..,"version":..}`, written into results as is.
    server_info: String,
    /// The time limit of a call whose tool has no `queryTimeout`.
    default_query_timeout_ms: u64,
    pub rate_limits: crate::rate::RateLimits,
    /// Traces, metrics and the call log; [`Telemetry::off`] unless the command line asks.
    pub telemetry: Telemetry,
}

/// The default of `--default-query-timeout`: a safety net, not a budget.
pub const DEFAULT_QUERY_TIMEOUT_MS: u64 = 300_000;

impl Mcp {
    pub fn new(toolbox: &'static Toolbox, sources: Arc<Sources>) -> Self {
        let server_info =
            serde_json::json!({"name": toolbox.server_name, "version": toolbox.server_version}).to_string();
        let rate_limits = crate::rate::RateLimits::new(toolbox.tools, None);
        Self {
            toolbox,
            sources,
            server_info,
            default_query_timeout_ms: DEFAULT_QUERY_TIMEOUT_MS,
            rate_limits,
            telemetry: Telemetry::off(),
        }
    }

    /// Limits every tool without a `rateLimit` of its own to `rate` per caller.
    pub fn with_default_rate_limit(mut self, rate: Option<toolbox_config::rate::Rate>) -> Self {
        self.rate_limits = crate::rate::RateLimits::new(self.toolbox.tools, rate);
        self
    }

    /// Reports requests and calls to `telemetry`.
    pub fn with_telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// Sets the time limit of calls whose tool has no `queryTimeout`.
    pub fn with_default_query_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.default_query_timeout_ms = (timeout.as_millis() as u64).max(1);
        self
    }

    /// Handles one request body: a message or (2025-03-26 only) a batch.
    pub async fn handle_body(
        &self,
        toolset: &'static ToolsetDef,
        body: &[u8],
        transport: Transport<'_>,
        claims: &dyn ClaimSource,
    ) -> Reply {
        // JSON text is UTF-8 (RFC 8259). Checked here, whole, because serde_json checks only the
        // strings it reads: one in a member it skips would pass unseen.
        let Ok(body) = std::str::from_utf8(body) else {
            return error_reply(None, RpcError::new(400, code::PARSE_ERROR, "the body is not valid UTF-8"));
        };
        let first = body.bytes().find(|b| !b.is_ascii_whitespace());
        if first == Some(b'[') {
            return self.handle_batch(toolset, body, transport, claims).await;
        }
        match Envelope::parse(body) {
            Ok(envelope) => self.handle_message(toolset, envelope, transport, claims).await,
            Err((id, error)) => error_reply(id, error),
        }
    }

    async fn handle_batch(
        &self,
        toolset: &'static ToolsetDef,
        body: &str,
        transport: Transport<'_>,
        claims: &dyn ClaimSource,
    ) -> Reply {
        let version = match transport {
            Transport::Http(h) => h.protocol_version.map_or(Some(Version::HEADERLESS), Version::parse),
            Transport::Stdio { negotiated } => negotiated,
        };
        if !version.is_some_and(Version::allows_batches) {
            let message = "batch requests are only part of protocol version 2025-03-26; send one message per request";
            return error_reply(None, RpcError::new(400, code::INVALID_REQUEST, message));
        }
        let items: Vec<&RawValue> = match serde_json::from_str(body) {
            Ok(items) => items,
            Err(e) => return error_reply(None, envelope::parse_error(&e)),
        };
        if items.is_empty() {
            return error_reply(
                None,
                RpcError::new(400, code::INVALID_REQUEST, "an empty batch is not a valid request"),
            );
        }
        let mut out = vec![b'['];
        let mut denied = None;
        for item in items {
            let reply = match serde_json::from_str::<Envelope<'_>>(item.get()) {
                Ok(envelope) if envelope.method.as_deref().and_then(Method::parse) == Some(Method::Initialize) => {
                    error_reply(envelope.id, RpcError::invalid_request("initialize must not be part of a batch"))
                }
                Ok(envelope) => Box::pin(self.handle_message(toolset, envelope, transport, claims)).await,
                Err(_) => error_reply(None, RpcError::invalid_request(envelope::envelope_problem(item.get()))),
            };
            // A refused call refuses the batch at the HTTP level too, so that the client sees
            // the challenge.
            denied = denied.or(reply.denied);
            if let Some(body) = reply.body {
                if out.len() > 1 {
                    out.push(b',');
                }
                out.extend_from_slice(&body);
            }
        }
        if out.len() == 1 {
            return Reply::accepted();
        }
        out.push(b']');
        Reply { status: denied.map_or(200, Denied::status), body: Some(out), negotiated: None, denied, error: None }
    }

    async fn handle_message(
        &self,
        toolset: &'static ToolsetDef,
        envelope: Envelope<'_>,
        transport: Transport<'_>,
        claims: &dyn ClaimSource,
    ) -> Reply {
        let Incoming { id, method, params } = match envelope.into_request(transport) {
            Ok(Some(incoming)) => incoming,
            Ok(None) => return Reply::accepted(),
            Err((id, error)) => return error_reply(id, error),
        };
        let (method, version) = match route::route(self.toolbox, &method, &params, transport) {
            Ok(routed) => routed,
            Err(error) => return error_reply(Some(id), error),
        };
        let request = Request { toolset, id, method, params: &params, version, transport, claims };
        if self.telemetry.is_quiet() {
            return self.dispatch(&request, None).await;
        }
        let tool = match method {
            Method::ToolsCall => params
                .name
                .as_deref()
                .and_then(|n| self.toolbox.tool(n))
                .filter(|(i, _)| toolset.has_tool(*i))
                .map(|(_, t)| t.name),
            _ => None,
        };
        let info = RequestInfo {
            method: method.as_str(),
            version: version.as_str(),
            stdio: transport.is_stdio(),
            toolset: toolset_label(toolset),
            tool,
            id: id.get(),
        };
        let meta = params.meta.as_ref();
        let headers = transport.headers();
        let trace = match meta.and_then(|m| m.traceparent.as_deref()) {
            Some(traceparent) => {
                TraceHeaders { traceparent: Some(traceparent), tracestate: meta.and_then(|m| m.tracestate.as_deref()) }
            }
            None => TraceHeaders {
                traceparent: headers.and_then(|h| h.traceparent),
                tracestate: headers.and_then(|h| h.tracestate),
            },
        };
        let observed = self.telemetry.begin_request(&info, trace);
        let reply = self.dispatch(&request, Some(&observed)).await;
        self.telemetry.end_request(&info, observed, reply.error);
        reply
    }

    /// Answers a routed request with the method's family; `observed` when telemetry is on.
    async fn dispatch(&self, request: &Request<'_>, observed: Option<&Observed>) -> Reply {
        let mut w = ResultWriter::new(request.id, request.version, &self.server_info);
        let mut negotiated = None;
        let written = match request.method {
            Method::Initialize => {
                negotiated = Some(discovery::initialize(self, request, &mut w));
                Ok(())
            }
            Method::ServerDiscover => {
                discovery::discover(request, &mut w);
                Ok(())
            }
            Method::Ping => Ok(()),
            Method::LoggingSetLevel => discovery::set_level(request),
            Method::ToolsList => tools::list(request, &mut w),
            Method::ToolsCall => return tools::call(self, request, w, observed).await,
            Method::PromptsList => prompts::list(request, &mut w),
            Method::PromptsGet => prompts::get(self, request, &mut w),
            Method::CompletionComplete => completion::complete(self, request, &mut w),
            Method::ResourcesList => resources::list("resources", request, &mut w),
            Method::ResourceTemplatesList => resources::list("resourceTemplates", request, &mut w),
            Method::ResourcesRead => Err(resources::read(request)),
            Method::ResourcesSubscribe | Method::ResourcesUnsubscribe => resources::subscribe(request),
        };
        match written {
            Ok(()) => Reply { negotiated, ..Reply::ok(w.finish()) },
            Err(error) => error_reply(Some(request.id), error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::NoClaims;
    use serde_json::Value;

    static TOOLSETS: [ToolsetDef; 1] = [ToolsetDef {
        name: "",
        tools: None,
        prompts: None,
        tools_json: ["[]", "[]", "[]", "[]"],
        prompts_json: "[]",
        instructions: None,
        ttl_ms: 0,
        cache_private: false,
    }];
    static TOOLBOX: Toolbox = Toolbox {
        config_path: "tools.yaml",
        config_dir: "/",
        server_name: "test",
        server_version: "0.0.0",
        sources: &[],
        tools: &[],
        toolsets: &TOOLSETS,
        prompts: &[],
        auth_services: &[],
    };

    fn server() -> Mcp {
        Mcp::new(&TOOLBOX, Arc::new(TOOLBOX.resolve_sources_with(&|_| None).unwrap()))
    }

    async fn post(body: &str, headers: Headers<'_>) -> (u16, Option<Value>) {
        let toolset = TOOLBOX.toolset(None).unwrap();
        let reply = server().handle_body(toolset, body.as_bytes(), Transport::Http(headers), &NoClaims).await;
        (reply.status, reply.body.map(|b| serde_json::from_slice(&b).expect("the reply is JSON")))
    }

    fn legacy() -> Headers<'static> {
        Headers { protocol_version: Some("2025-11-25"), ..Headers::default() }
    }

    #[tokio::test]
    async fn a_null_id_is_an_invalid_request_not_a_notification() {
        let (status, body) = post(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, legacy()).await;
        let body = body.expect("a request with `id: null` must be answered");
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], code::INVALID_REQUEST);
        assert_eq!(body["id"], Value::Null);
    }

    #[tokio::test]
    async fn a_notification_is_accepted_without_a_body() {
        assert_eq!(post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, legacy()).await, (202, None));
    }

    #[tokio::test]
    async fn a_client_error_response_with_a_null_id_is_accepted() {
        let body = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"#;
        assert_eq!(post(body, legacy()).await, (202, None));
    }

    #[tokio::test]
    async fn json_that_is_not_a_message_is_an_invalid_request_echoing_the_id() {
        let (status, body) = post(r#"{"jsonrpc":"2.0","id":7,"method":5}"#, legacy()).await;
        let body = body.unwrap();
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], code::INVALID_REQUEST);
        assert_eq!(body["id"], 7);
        let (_, body) = post("42", legacy()).await;
        assert_eq!(body.unwrap()["error"]["code"], code::INVALID_REQUEST);
    }

    #[tokio::test]
    async fn broken_json_is_a_parse_error() {
        let (status, body) = post(r#"{"jsonrpc":"2.0","id":1,"#, legacy()).await;
        assert_eq!(status, 400);
        assert_eq!(body.unwrap()["error"]["code"], code::PARSE_ERROR);
    }

    #[tokio::test]
    async fn stdio_answers_a_null_id_too() {
        let toolset = TOOLBOX.toolset(None).unwrap();
        let body = br#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#;
        let reply = server().handle_body(toolset, body, Transport::Stdio { negotiated: None }, &NoClaims).await;
        let body: Value = serde_json::from_slice(&reply.body.expect("answered")).unwrap();
        assert_eq!(body["error"]["code"], code::INVALID_REQUEST);
    }
}
