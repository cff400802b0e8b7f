//! Which protocol version a request speaks, and the 2026-07-28 validation rules, applied in the
//! order of the spec (and of the conformance suite): headers, `_meta`, `Mcp-Method`, `Mcp-Name`
//! and `Mcp-Param-*` against the body, version. Which method exists in which version is
//! [`Method::exists_in`]'s.

use super::envelope::Params;
use super::request::{Headers, Transport};
use crate::def::Toolbox;
use crate::error::RpcError;
use crate::protocol::{self, Method, Version, code};
use serde_json::{Map, Value};

/// The method and version of a request, or why it cannot be served.
pub(super) fn route(
    toolbox: &Toolbox,
    method: &str,
    params: &Params<'_>,
    transport: Transport<'_>,
) -> Result<(Method, Version), RpcError> {
    let known = Method::parse(method);
    let meta_version = params.meta.as_ref().and_then(|m| m.protocol_version.as_deref());
    let headers = transport.headers();
    let header_version = headers.and_then(|h| h.protocol_version);
    let header_is_legacy = header_version.and_then(Version::parse).is_some_and(|v| !v.is_modern());
    let modern = meta_version.is_some()
        || known == Some(Method::ServerDiscover)
        || (header_version.is_some() && !header_is_legacy && Version::parse(header_version.unwrap_or("")).is_some());
    if !modern {
        let version = match (transport, header_version) {
            (Transport::Http(_), Some(h)) => Version::parse(h).ok_or_else(|| unsupported_version(h))?,
            (Transport::Http(_), None) => Version::HEADERLESS,
            (Transport::Stdio { negotiated }, _) => negotiated.unwrap_or(Version::LATEST_LEGACY),
        };
        return match known.filter(|m| m.exists_in(version)) {
            Some(m) => Ok((m, version)),
            None => Err(RpcError::new(200, code::METHOD_NOT_FOUND, format!("method `{method}` is not supported"))),
        };
    }
    // 2026-07-28: every request carries its own version and capabilities.
    if headers.is_some_and(|h| h.protocol_version.is_none()) {
        return Err(RpcError::new(400, code::HEADER_MISMATCH, "the MCP-Protocol-Version header is required"));
    }
    let Some(known) = known.filter(|m| m.exists_in(Version::V20260728)) else {
        return Err(RpcError::new(
            404,
            code::METHOD_NOT_FOUND,
            format!("method `{method}` is not supported in protocol version 2026-07-28"),
        ));
    };
    let Some(meta_version) = meta_version else {
        return Err(RpcError::new(
            400,
            code::INVALID_PARAMS,
            format!("`params._meta` must contain `{}`", protocol::META_PROTOCOL_VERSION),
        ));
    };
    if params.meta.as_ref().and_then(|m| m.client_capabilities).is_none() {
        return Err(RpcError::new(
            400,
            code::INVALID_PARAMS,
            format!("`params._meta` must contain `{}`", protocol::META_CLIENT_CAPABILITIES),
        ));
    }
    if let Some(h) = headers {
        check_headers(toolbox, known, params, meta_version, &h)?;
    }
    match Version::parse(meta_version) {
        Some(v) if v.is_modern() => Ok((known, v)),
        _ => Err(unsupported_version(meta_version)),
    }
}

/// 2026-07-28 headers repeat what the body says: the version, the method, the name of what is
/// called or read, and the arguments a tool mirrors (`x-mcp-header`).
fn check_headers(
    toolbox: &Toolbox,
    method: Method,
    params: &Params<'_>,
    meta_version: &str,
    headers: &Headers<'_>,
) -> Result<(), RpcError> {
    if headers.protocol_version != Some(meta_version) {
        return Err(RpcError::new(
            400,
            code::HEADER_MISMATCH,
            "the MCP-Protocol-Version header does not match `_meta`",
        ));
    }
    if headers.method != Some(method.as_str()) {
        return Err(RpcError::new(
            400,
            code::HEADER_MISMATCH,
            format!("the Mcp-Method header must be `{}`", method.as_str()),
        ));
    }
    let body_name = match method {
        Method::ToolsCall | Method::PromptsGet => params.name.as_deref(),
        Method::ResourcesRead => params.uri.as_deref(),
        _ => None,
    };
    if body_name.is_some() && headers.name != body_name {
        return Err(RpcError::new(400, code::HEADER_MISMATCH, "the Mcp-Name header does not match the request body"));
    }
    if method == Method::ToolsCall {
        check_param_headers(toolbox, params, headers)?;
    }
    Ok(())
}

/// Every mirrored argument must arrive in its `Mcp-Param-*` header too, with the same value.
fn check_param_headers(toolbox: &Toolbox, params: &Params<'_>, headers: &Headers<'_>) -> Result<(), RpcError> {
    let Some((_, tool)) = params.name.as_deref().and_then(|n| toolbox.tool(n)) else { return Ok(()) };
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

fn unsupported_version(requested: &str) -> RpcError {
    RpcError::new(400, code::UNSUPPORTED_VERSION, format!("unsupported protocol version `{requested}`"))
        .with_data(serde_json::json!({"supported": protocol::SUPPORTED_VERSIONS, "requested": requested}))
}
