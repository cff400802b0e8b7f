//! The MCP method layer, shared by the HTTP and stdio transports: reads a JSON-RPC message once,
//! decides which protocol generation it belongs to, validates what that generation requires, and
//! writes the response bytes directly. Responses that do not depend on the request (tool lists,
//! prompt lists) are static strings made at build time.

use crate::args::{Arguments, ClaimSource, NoClaims};
use crate::auth::{Denied, authorize_tool};
use crate::call::{CallContext, Limit, ToolOutput, with_timeout};
use crate::def::{PromptPart, Toolbox, ToolsetDef};
use crate::error::{RpcError, is_valid_id};
use crate::protocol::{self, Version, code};
use crate::sources::Sources;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// The protocol-level server: the static toolbox plus its live sources.
pub struct Mcp {
    pub toolbox: &'static Toolbox,
    pub sources: Arc<Sources>,
    /// `{"name":..,"version":..}`, written into results as is.
    server_info: String,
    /// The time limit of a call whose tool has no `queryTimeout`.
    default_query_timeout_ms: u64,
    pub rate_limits: crate::rate::RateLimits,
}

/// The default of `--default-query-timeout`: a safety net, not a budget.
pub const DEFAULT_QUERY_TIMEOUT_MS: u64 = 300_000;

/// What a transport knows about a message besides its body.
#[derive(Default, Clone, Copy)]
pub struct Headers<'a> {
    /// `MCP-Protocol-Version`.
    pub protocol_version: Option<&'a str>,
    /// `Mcp-Method`.
    pub method: Option<&'a str>,
    /// `Mcp-Name`.
    pub name: Option<&'a str>,
    /// `Mcp-Param-*` headers: the lower-case name after the prefix, and the decoded value
    /// (`None` when the `=?base64?...?=` form does not decode).
    pub params: &'a [(String, Option<String>)],
    /// The client's address, which rate limits count calls by when no token names the caller.
    pub client: Option<std::net::IpAddr>,
    /// The call was already counted against its tool's rate limit (from its `Mcp-Name` header).
    pub rate_checked: bool,
}

/// Where a message came from, as the method layer needs it.
#[derive(Clone, Copy)]
struct Origin {
    stdio: bool,
    client: Option<std::net::IpAddr>,
    rate_checked: bool,
}

#[derive(Clone, Copy)]
pub enum Transport<'a> {
    Http(Headers<'a>),
    /// stdio: the version negotiated by `initialize` earlier in this process, if any.
    Stdio {
        negotiated: Option<Version>,
    },
}

/// A response to send. `body: None` means "accepted, nothing to say" (HTTP 202, no stdio line).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Option<Vec<u8>>,
    /// Set when this message was an `initialize`: the version it negotiated.
    pub negotiated: Option<Version>,
    /// Set when a tool call was refused by its `authRequired` or `scopesRequired`: the HTTP layer
    /// adds the `WWW-Authenticate` challenge.
    pub denied: Option<Denied>,
}

impl Reply {
    fn accepted() -> Self {
        Reply { status: 202, body: None, negotiated: None, denied: None }
    }
}

/// The JSON-RPC envelope, borrowed from the request body.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<Cow<'a, str>>,
    /// `None` only when the member is absent (a notification); `"id": null` is kept as the raw
    /// `null` so that it is refused rather than taken for a notification.
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// Reads a member that is present, whatever its value (`null` included), as its raw text.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(deserializer).map(Some)
}

/// Every parameter any supported method takes, read in one pass.
#[derive(Deserialize, Default)]
struct Params<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<Meta<'a>>,
    #[serde(borrow, default, rename = "protocolVersion")]
    protocol_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cursor: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "ref")]
    reference: Option<CompletionRef<'a>>,
    #[serde(borrow, default)]
    argument: Option<CompletionArgument<'a>>,
}

#[derive(Deserialize, Default)]
struct Meta<'a> {
    #[serde(borrow, default, rename = "io.modelcontextprotocol/protocolVersion")]
    protocol_version: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "io.modelcontextprotocol/clientCapabilities")]
    client_capabilities: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct CompletionRef<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CompletionArgument<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    value: Cow<'a, str>,
}

const LOG_LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

impl Mcp {
    pub fn new(toolbox: &'static Toolbox, sources: Arc<Sources>) -> Self {
        let server_info =
            serde_json::json!({"name": toolbox.server_name, "version": toolbox.server_version}).to_string();
        let rate_limits = crate::rate::RateLimits::new(toolbox.tools, None);
        Self { toolbox, sources, server_info, default_query_timeout_ms: DEFAULT_QUERY_TIMEOUT_MS, rate_limits }
    }

    /// Limits every tool without a `rateLimit` of its own to `rate` per caller.
    pub fn with_default_rate_limit(mut self, rate: Option<toolbox_config::rate::Rate>) -> Self {
        self.rate_limits = crate::rate::RateLimits::new(self.toolbox.tools, rate);
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
        match serde_json::from_str::<Envelope<'_>>(body) {
            Ok(envelope) => self.handle_message(toolset, envelope, transport, claims).await,
            Err(e) => envelope_error(body, &e),
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
            Err(e) => return error_reply(None, parse_error(&e)),
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
                Ok(envelope) if envelope.method.as_deref() == Some("initialize") => {
                    error_reply(envelope.id, RpcError::invalid_request("initialize must not be part of a batch"))
                }
                Ok(envelope) => Box::pin(self.handle_message(toolset, envelope, transport, claims)).await,
                Err(_) => error_reply(None, RpcError::invalid_request(envelope_problem(item.get()))),
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
        Reply { status: denied.map_or(200, Denied::status), body: Some(out), negotiated: None, denied }
    }

    async fn handle_message(
        &self,
        toolset: &'static ToolsetDef,
        envelope: Envelope<'_>,
        transport: Transport<'_>,
        claims: &dyn ClaimSource,
    ) -> Reply {
        if envelope.jsonrpc.as_deref() != Some("2.0") {
            return error_reply(envelope.id, RpcError::new(400, code::INVALID_REQUEST, "`jsonrpc` must be \"2.0\""));
        }
        let Some(method) = envelope.method.as_deref() else {
            if envelope.result.is_some() || envelope.error.is_some() {
                // A response to a request we never send; nothing to do.
                return Reply::accepted();
            }
            return error_reply(envelope.id, RpcError::new(400, code::INVALID_REQUEST, "a request needs a `method`"));
        };
        let Some(id) = envelope.id else {
            // Notifications (`notifications/initialized`, `notifications/cancelled`, ...) need no answer.
            return Reply::accepted();
        };
        if !is_valid_id(id) {
            return error_reply(None, RpcError::new(400, code::INVALID_REQUEST, "`id` must be a string or a number"));
        }
        let params: Params<'_> = match envelope.params {
            None => Params::default(),
            // MCP's `params` is an object; serde would also read an array into `Params`, by
            // position.
            Some(raw) if !raw.get().starts_with('{') => {
                let error =
                    RpcError::new(params_error_status(transport), code::INVALID_PARAMS, "`params` must be an object");
                return error_reply(Some(id), error);
            }
            Some(raw) => match serde_json::from_str(raw.get()) {
                Ok(p) => p,
                Err(_) => {
                    let error =
                        RpcError::new(params_error_status(transport), code::INVALID_PARAMS, params_problem(raw.get()));
                    return error_reply(Some(id), error);
                }
            },
        };
        let version = match self.route(method, &params, transport) {
            Ok(v) => v,
            Err(e) => return error_reply(Some(id), e),
        };
        let origin = match transport {
            Transport::Stdio { .. } => Origin { stdio: true, client: None, rate_checked: false },
            Transport::Http(headers) => {
                Origin { stdio: false, client: headers.client, rate_checked: headers.rate_checked }
            }
        };
        match self.dispatch(toolset, id, method, &params, version, claims, origin).await {
            Ok(mut reply) => {
                if method == "initialize" {
                    reply.negotiated = negotiate(&params);
                }
                reply
            }
            Err(e) => error_reply(Some(id), e),
        }
    }

    /// Decides the protocol version of a request and applies the 2026-07-28 validation rules,
    /// in the order the conformance suite expects.
    fn route(&self, method: &str, params: &Params<'_>, transport: Transport<'_>) -> Result<Version, RpcError> {
        let meta_version = params.meta.as_ref().and_then(|m| m.protocol_version.as_deref());
        let headers = match transport {
            Transport::Http(h) => Some(h),
            Transport::Stdio { .. } => None,
        };
        let header_version = headers.and_then(|h| h.protocol_version);
        let header_is_legacy = header_version.and_then(Version::parse).is_some_and(|v| !v.is_modern());
        let modern = meta_version.is_some()
            || method == "server/discover"
            || (header_version.is_some()
                && !header_is_legacy
                && Version::parse(header_version.unwrap_or("")).is_some());
        if !modern {
            let version = match (headers, header_version) {
                (Some(_), Some(h)) => match Version::parse(h) {
                    Some(v) => v,
                    None => return Err(unsupported_version(h)),
                },
                (Some(_), None) => Version::HEADERLESS,
                (None, _) => match transport {
                    Transport::Stdio { negotiated } => negotiated.unwrap_or(Version::LATEST_LEGACY),
                    Transport::Http(_) => Version::HEADERLESS,
                },
            };
            if !protocol::is_legacy_method(method, version) {
                return Err(RpcError::new(200, code::METHOD_NOT_FOUND, format!("method `{method}` is not supported")));
            }
            return Ok(version);
        }
        // 2026-07-28: every request carries its own version and capabilities.
        if let Some(h) = headers {
            if h.protocol_version.is_none() {
                return Err(RpcError::new(400, code::HEADER_MISMATCH, "the MCP-Protocol-Version header is required"));
            }
        }
        if !protocol::is_modern_method(method) {
            return Err(RpcError::new(
                404,
                code::METHOD_NOT_FOUND,
                format!("method `{method}` is not supported in protocol version 2026-07-28"),
            ));
        }
        let meta = params.meta.as_ref();
        let Some(meta_version) = meta_version else {
            return Err(RpcError::new(
                400,
                code::INVALID_PARAMS,
                format!("`params._meta` must contain `{}`", protocol::META_PROTOCOL_VERSION),
            ));
        };
        if meta.and_then(|m| m.client_capabilities).is_none() {
            return Err(RpcError::new(
                400,
                code::INVALID_PARAMS,
                format!("`params._meta` must contain `{}`", protocol::META_CLIENT_CAPABILITIES),
            ));
        }
        if let Some(h) = headers {
            if h.protocol_version != Some(meta_version) {
                return Err(RpcError::new(
                    400,
                    code::HEADER_MISMATCH,
                    "the MCP-Protocol-Version header does not match `_meta`",
                ));
            }
            if h.method != Some(method) {
                return Err(RpcError::new(
                    400,
                    code::HEADER_MISMATCH,
                    format!("the Mcp-Method header must be `{method}`"),
                ));
            }
            let body_name = match method {
                "tools/call" | "prompts/get" => params.name.as_deref(),
                "resources/read" => params.uri.as_deref(),
                _ => None,
            };
            if body_name.is_some() && h.name != body_name {
                return Err(RpcError::new(
                    400,
                    code::HEADER_MISMATCH,
                    "the Mcp-Name header does not match the request body",
                ));
            }
            if method == "tools/call" {
                self.check_param_headers(params, &h)?;
            }
        }
        match Version::parse(meta_version) {
            Some(v) if v.is_modern() => Ok(v),
            _ => Err(unsupported_version(meta_version)),
        }
    }

    /// 2026-07-28 `x-mcp-header`: every mirrored argument must arrive in its `Mcp-Param-*` header
    /// too, with the same value.
    fn check_param_headers(&self, params: &Params<'_>, headers: &Headers<'_>) -> Result<(), RpcError> {
        let Some((_, tool)) = params.name.as_deref().and_then(|n| self.toolbox.tool(n)) else { return Ok(()) };
        if tool.header_params.is_empty() {
            return Ok(());
        }
        let arguments: Map<String, Value> =
            params.arguments.and_then(|raw| serde_json::from_str(raw.get()).ok()).unwrap_or_default();
        for (param, header) in tool.header_params {
            let body = match arguments.get(*param) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            };
            let sent = headers.params.iter().find(|(name, _)| name == header).map(|(_, v)| v);
            let mismatch = |what: &str| {
                RpcError::new(
                    400,
                    code::HEADER_MISMATCH,
                    format!("the Mcp-Param-{header} header {what} (argument `{param}`)"),
                )
            };
            match (body, sent) {
                (None, None) => {}
                (Some(_), None) => return Err(mismatch("is required")),
                (_, Some(None)) => return Err(mismatch("is not valid base64")),
                (None, Some(Some(_))) => return Err(mismatch("is sent without the argument")),
                (Some(b), Some(Some(h))) if b != *h => return Err(mismatch("does not match the argument")),
                _ => {}
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn dispatch(
        &self,
        toolset: &'static ToolsetDef,
        id: &RawValue,
        method: &str,
        params: &Params<'_>,
        version: Version,
        claims: &dyn ClaimSource,
        origin: Origin,
    ) -> Result<Reply, RpcError> {
        let mut w = ResultWriter::new(id, version, &self.server_info);
        match method {
            "initialize" => {
                let negotiated = negotiate(params).unwrap_or(Version::LATEST_LEGACY);
                w.field("protocolVersion");
                w.string(negotiated.as_str());
                w.field("capabilities");
                w.raw(capabilities(negotiated));
                w.field("serverInfo");
                w.raw(&self.server_info);
                self.instructions(&mut w, toolset);
            }
            "server/discover" => {
                w.field("supportedVersions");
                w.raw(&serde_json::to_string(&protocol::SUPPORTED_VERSIONS).unwrap_or_default());
                w.field("capabilities");
                w.raw(capabilities(version));
                self.instructions(&mut w, toolset);
                w.cache_hints(toolset);
            }
            "ping" | "logging/setLevel" => {
                if method == "logging/setLevel" && !params.level.as_deref().is_some_and(|l| LOG_LEVELS.contains(&l)) {
                    return Err(RpcError::invalid_params(format!("`level` must be one of {}", LOG_LEVELS.join(", "))));
                }
            }
            "tools/list" => {
                check_cursor(params)?;
                w.field("tools");
                w.raw(toolset.tools_json[version.tool_shape()]);
                w.cache_hints(toolset);
            }
            "tools/call" => {
                let output = match self.call_tool(toolset, params, claims, origin).await? {
                    Ok(output) => output,
                    Err((denied, error)) => {
                        let mut reply = error_reply(Some(id), error);
                        reply.denied = Some(denied);
                        return Ok(reply);
                    }
                };
                write_tool_output(&mut w, &output, version);
            }
            "prompts/list" => {
                check_cursor(params)?;
                w.field("prompts");
                w.raw(toolset.prompts_json);
                w.cache_hints(toolset);
            }
            "prompts/get" => self.get_prompt(&mut w, toolset, params)?,
            "resources/list" => {
                check_cursor(params)?;
                w.field("resources");
                w.raw("[]");
                w.cache_hints(toolset);
            }
            "resources/templates/list" => {
                check_cursor(params)?;
                w.field("resourceTemplates");
                w.raw("[]");
                w.cache_hints(toolset);
            }
            "resources/read" => {
                let uri = params.uri.as_deref().unwrap_or_default();
                let code = if version.is_modern() { code::INVALID_PARAMS } else { code::RESOURCE_NOT_FOUND };
                return Err(RpcError::new(200, code, format!("resource not found: {uri}"))
                    .with_data(serde_json::json!({"uri": uri})));
            }
            "completion/complete" => self.complete(&mut w, toolset, params)?,
            "resources/subscribe" | "resources/unsubscribe" => {
                // There are no resources, so a subscription can never fire; it is accepted so
                // that a client that subscribes gets the answer it expects.
                if params.uri.is_none() {
                    return Err(RpcError::invalid_params("`params.uri` is required"));
                }
            }
            other => {
                return Err(RpcError::new(200, code::METHOD_NOT_FOUND, format!("method `{other}` is not supported")));
            }
        }
        Ok(Reply { status: 200, body: Some(w.finish()), negotiated: None, denied: None })
    }

    fn instructions(&self, w: &mut ResultWriter, toolset: &ToolsetDef) {
        if let Some(text) = toolset.instructions {
            w.field("instructions");
            w.string(text);
        }
    }

    /// Runs a tool. The inner `Err` is a call refused by the tool's `authRequired` or
    /// `scopesRequired`, judged on the name read from the body (never from a header alone).
    async fn call_tool(
        &self,
        toolset: &'static ToolsetDef,
        params: &Params<'_>,
        claims: &dyn ClaimSource,
        origin: Origin,
    ) -> Result<Result<ToolOutput, (Denied, RpcError)>, RpcError> {
        let stdio = origin.stdio;
        let name = params.name.as_deref().ok_or_else(|| RpcError::invalid_params("`params.name` is required"))?;
        let (index, tool) = self
            .toolbox
            .tool(name)
            .filter(|(i, _)| toolset.has_tool(*i))
            .ok_or_else(|| RpcError::invalid_params(format!("unknown tool `{name}`")))?;
        if let Err(denied) = authorize_tool(tool, claims) {
            let message = match (denied, stdio) {
                (_, true) => format!(
                    "tool `{name}` requires authorization, which the stdio transport cannot carry; call it over HTTP"
                ),
                (Denied::Unauthenticated(services), false) => format!(
                    "tool `{name}` requires a verified token from {}: send it in the {} header",
                    services.join(" or "),
                    services
                        .iter()
                        .map(|s| format!("{}_token", s.to_ascii_lowercase()))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                (Denied::InsufficientScope(scopes), false) => {
                    format!("tool `{name}` requires the scopes: {}", scopes.join(" "))
                }
            };
            return Ok(Err((denied, RpcError::new(denied.status(), denied.code(), message))));
        }
        let arguments = match params.arguments {
            None => Map::new(),
            Some(raw) => serde_json::from_str::<Map<String, Value>>(raw.get())
                .map_err(|_| RpcError::invalid_params("`params.arguments` must be an object"))?,
        };
        let arguments = Arguments::new(arguments);
        if let Err(e) = arguments.check_names(tool.params) {
            return Ok(Ok(ToolOutput::invalid_arguments(e)));
        }
        if !origin.rate_checked {
            let caller = crate::rate::caller_key(claims, origin.client, origin.stdio);
            if let Err(refused) = self.rate_limits.check(index, &caller) {
                return Ok(Ok(ToolOutput::Error(refused.message(name))));
            }
        }
        let context = CallContext { sources: &self.sources, claims };
        let (timeout_ms, limit) = match tool.query_timeout_ms {
            Some(ms) => (ms, Limit::Tool),
            None => (self.default_query_timeout_ms, Limit::Server),
        };
        Ok(Ok(with_timeout(timeout_ms, limit, (tool.handler)(&context, &arguments)).await))
    }

    fn get_prompt(&self, w: &mut ResultWriter, toolset: &ToolsetDef, params: &Params<'_>) -> Result<(), RpcError> {
        let name = params.name.as_deref().ok_or_else(|| RpcError::invalid_params("`params.name` is required"))?;
        let (_, prompt) = self
            .toolbox
            .prompt(name)
            .filter(|(i, _)| toolset.has_prompt(*i))
            .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt `{name}`")))?;
        let arguments = match params.arguments {
            None => Map::new(),
            Some(raw) => serde_json::from_str::<Map<String, Value>>(raw.get())
                .map_err(|_| RpcError::invalid_params("`params.arguments` must be an object of strings"))?,
        };
        let arguments = Arguments::new(arguments);
        arguments.check_names(prompt.arguments).map_err(|e| RpcError::invalid_params(e.to_string()))?;
        let mut values = Vec::with_capacity(prompt.arguments.len());
        for def in prompt.arguments {
            let value = arguments.value(def, &NoClaims).map_err(|e| RpcError::invalid_params(e.to_string()))?;
            values.push(value.map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            }));
        }
        if !prompt.description.is_empty() {
            w.field("description");
            w.string(prompt.description);
        }
        w.field("messages");
        w.raw("[");
        for (i, message) in prompt.messages.iter().enumerate() {
            if i > 0 {
                w.raw(",");
            }
            let mut text = String::new();
            for part in message.parts {
                match part {
                    PromptPart::Text(t) => text.push_str(t),
                    PromptPart::Argument(a) => text.push_str(values[*a].as_deref().unwrap_or("")),
                }
            }
            w.raw("{\"role\":");
            w.string(message.role);
            w.raw(",\"content\":{\"type\":\"text\",\"text\":");
            w.string(&text);
            w.raw("}}");
        }
        w.raw("]");
        Ok(())
    }

    /// Completes prompt arguments from their allowed values.
    fn complete(&self, w: &mut ResultWriter, toolset: &ToolsetDef, params: &Params<'_>) -> Result<(), RpcError> {
        let (Some(reference), Some(argument)) = (&params.reference, &params.argument) else {
            return Err(RpcError::invalid_params("`ref` and `argument` are required"));
        };
        let mut values: Vec<String> = Vec::new();
        match reference.kind.as_ref() {
            "ref/prompt" => {
                // Completions are advisory: a prompt or argument this toolset does not have simply
                // has no suggestions (the conformance suite asks about a prompt of its own).
                let name = reference.name.as_deref().unwrap_or_default();
                let prompt = self.toolbox.prompt(name).filter(|(i, _)| toolset.has_prompt(*i)).map(|(_, p)| p);
                if let Some(def) = prompt.and_then(|p| p.arguments.iter().find(|a| a.name == argument.name)) {
                    values = def
                        .allowed
                        .iter()
                        .filter_map(|a| match a.to_value() {
                            Value::String(s) if s.starts_with(argument.value.as_ref()) => Some(s),
                            _ => None,
                        })
                        .collect();
                }
            }
            "ref/resource" => {}
            other => return Err(RpcError::invalid_params(format!("unknown reference type `{other}`"))),
        }
        values.truncate(100);
        w.field("completion");
        w.raw(&serde_json::json!({"values": values, "total": values.len(), "hasMore": false}).to_string());
        Ok(())
    }
}

fn negotiate(params: &Params<'_>) -> Option<Version> {
    let requested = params.protocol_version.as_deref().and_then(Version::parse);
    Some(requested.filter(|v| !v.is_modern()).unwrap_or(Version::LATEST_LEGACY))
}

fn capabilities(version: Version) -> &'static str {
    if version.is_modern() {
        r#"{"tools":{"listChanged":false},"prompts":{"listChanged":false},"resources":{},"completions":{}}"#
    } else if version.has_completions() {
        r#"{"tools":{"listChanged":false},"prompts":{"listChanged":false},"resources":{},"completions":{},"logging":{}}"#
    } else {
        r#"{"tools":{"listChanged":false},"prompts":{"listChanged":false},"resources":{},"logging":{}}"#
    }
}

fn check_cursor(params: &Params<'_>) -> Result<(), RpcError> {
    // Lists are never paginated, so no cursor was ever handed out; an empty one is the start.
    match params.cursor.as_deref() {
        Some(c) if !c.is_empty() => Err(RpcError::invalid_params("invalid cursor")),
        _ => Ok(()),
    }
}

fn unsupported_version(requested: &str) -> RpcError {
    RpcError::new(400, code::UNSUPPORTED_VERSION, format!("unsupported protocol version `{requested}`"))
        .with_data(serde_json::json!({"supported": protocol::SUPPORTED_VERSIONS, "requested": requested}))
}

fn parse_error(e: &serde_json::Error) -> RpcError {
    RpcError::new(400, code::PARSE_ERROR, format!("the body is not valid JSON: {e}"))
}

/// A body that failed to read as a JSON-RPC message: a parse error (-32700) when it is not JSON
/// at all; valid JSON that is not a message (not an object, or a member of the wrong type) is an
/// invalid request (-32600) that echoes the request's id when it has a readable one, e.g.
/// `{"jsonrpc":"2.0","id":1,"method":5}`. The message names the member in JSON-RPC's terms,
/// never serde's (which name the server's Rust types).
fn envelope_error(body: &str, e: &serde_json::Error) -> Reply {
    // A type error can come before a syntax error further on: the whole text decides.
    if !e.is_data() || serde_json::from_str::<serde::de::IgnoredAny>(body).is_err() {
        return error_reply(None, parse_error(e));
    }
    if body.trim_start().as_bytes().first() != Some(&b'{') {
        return error_reply(None, RpcError::invalid_request("a JSON-RPC message must be an object"));
    }
    #[derive(Deserialize)]
    struct IdOnly<'a> {
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
    }
    let id = serde_json::from_str::<IdOnly<'_>>(body).ok().and_then(|m| m.id).filter(|id| is_valid_id(id));
    error_reply(id, RpcError::new(400, code::INVALID_REQUEST, envelope_problem(body)))
}

/// What is wrong with a JSON object that did not read as a JSON-RPC message.
fn envelope_problem(message: &str) -> String {
    let Ok(Value::Object(members)) = serde_json::from_str::<Value>(message) else {
        return "a JSON-RPC message must be an object".to_string();
    };
    let wrong = |key: &str| members.get(key).is_some_and(|v| !v.is_null() && !v.is_string());
    if wrong("jsonrpc") {
        return "`jsonrpc` must be \"2.0\"".to_string();
    }
    if wrong("method") {
        return "`method` must be a string".to_string();
    }
    "not a JSON-RPC message: `jsonrpc`, `id` and `method` must each appear once".to_string()
}

/// The HTTP status of a `params` that is not what MCP defines: 400 for a 2026-07-28 request (its
/// required `params._meta` cannot be read, which that version answers with 400), else 200 like
/// every other invalid-params error.
fn params_error_status(transport: Transport<'_>) -> u16 {
    match transport {
        Transport::Http(h) if h.protocol_version.and_then(Version::parse).is_some_and(Version::is_modern) => 400,
        _ => 200,
    }
}

/// What is wrong with a `params` object that did not read: the first member of the wrong type,
/// by its JSON path (the shapes are those of [`Params`]).
fn params_problem(params: &str) -> String {
    let Ok(Value::Object(params)) = serde_json::from_str::<Value>(params) else {
        return "`params` must be an object".to_string();
    };
    let not = |value: Option<&Value>, is: fn(&Value) -> bool| value.is_some_and(|v| !v.is_null() && !is(v));
    for key in ["name", "protocolVersion", "cursor", "uri", "level"] {
        if not(params.get(key), Value::is_string) {
            return format!("`params.{key}` must be a string");
        }
    }
    let objects: [(&str, &[(&str, bool)]); 3] = [
        ("_meta", &[(protocol::META_PROTOCOL_VERSION, false)]),
        ("ref", &[("type", true), ("name", false)]),
        ("argument", &[("name", true), ("value", false)]),
    ];
    for (key, strings) in objects {
        let Some(object) = params.get(key).filter(|v| !v.is_null()) else { continue };
        let Value::Object(object) = object else {
            return format!("`params.{key}` must be an object");
        };
        for (member, required) in strings {
            match object.get(*member) {
                None if *required => return format!("`params.{key}.{member}` is required"),
                value if not(value, Value::is_string) => {
                    return format!("`params.{key}.{member}` must be a string");
                }
                _ => {}
            }
        }
    }
    "`params` must be an object in which each member appears once".to_string()
}

fn write_tool_output(w: &mut ResultWriter, output: &ToolOutput, version: Version) {
    let structured = version.has_structured_content();
    match output {
        ToolOutput::Rows { json: rows, truncated } => {
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
        ToolOutput::Error(message) => {
            w.field("content");
            w.raw("[{\"type\":\"text\",\"text\":");
            w.string(message);
            w.raw("}]");
            w.field("isError");
            w.raw("true");
        }
    }
}

/// Writes `{"jsonrpc":"2.0","id":..,"result":{..}}`, adding the 2026-07-28 result fields.
struct ResultWriter {
    out: Vec<u8>,
    modern: bool,
}

impl ResultWriter {
    fn new(id: &RawValue, version: Version, server_info: &str) -> Self {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
        out.extend_from_slice(id.get().as_bytes());
        out.extend_from_slice(b",\"result\":{");
        let mut w = Self { out, modern: version.is_modern() };
        if w.modern {
            w.raw("\"_meta\":{\"");
            w.raw(protocol::META_SERVER_INFO);
            w.raw("\":");
            w.raw(server_info);
            w.raw("},\"resultType\":\"complete\"");
        }
        w
    }

    fn field(&mut self, key: &str) {
        if self.out.last() != Some(&b'{') {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn raw(&mut self, json: &str) {
        self.out.extend_from_slice(json.as_bytes());
    }

    fn string(&mut self, s: &str) {
        crate::encode::write_json_string(&mut self.out, s);
    }

    /// `ttlMs` and `cacheScope`, required on list results in 2026-07-28.
    fn cache_hints(&mut self, toolset: &ToolsetDef) {
        if self.modern {
            self.field("ttlMs");
            self.raw(itoa::Buffer::new().format(toolset.ttl_ms));
            self.field("cacheScope");
            self.raw(if toolset.cache_private { "\"private\"" } else { "\"public\"" });
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(b"}}");
        self.out
    }
}

/// An error response, echoing `id` when it is a string or a number (see [`RpcError::to_message`]).
pub fn error_reply(id: Option<&RawValue>, error: RpcError) -> Reply {
    Reply { status: error.status, body: Some(error.to_message(id)), negotiated: None, denied: None }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        server_name: "test",
        server_version: "0.0.0",
        sources: &[],
        tools: &[],
        toolsets: &TOOLSETS,
        prompts: &[],
        auth_services: &[],
    };

    fn server() -> Mcp {
        Mcp::new(&TOOLBOX, Arc::new(Sources::resolve_with(&TOOLBOX, &|_| None).unwrap()))
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
