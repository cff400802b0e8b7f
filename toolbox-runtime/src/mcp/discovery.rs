//! What a client learns about the server: `initialize` (up to 2025-11-25), `server/discover`
//! (2026-07-28), and the methods with nothing to return, `ping` and `logging/setLevel`.

use super::Mcp;
use super::reply::ResultWriter;
use super::request::Request;
use crate::def::ToolsetDef;
use crate::error::RpcError;
use crate::protocol::{self, Version};

const LOG_LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/// `initialize`: the version negotiated (the client's, when this server speaks it, else the
/// latest of the legacy generations), which the caller reports to the transport.
pub(super) fn initialize(mcp: &Mcp, request: &Request<'_>, w: &mut ResultWriter) -> Version {
    let requested = request.params.protocol_version.as_deref().and_then(Version::parse);
    let negotiated = requested.filter(|v| !v.is_modern()).unwrap_or(Version::LATEST_LEGACY);
    w.field("protocolVersion");
    w.string(negotiated.as_str());
    w.field("capabilities");
    w.raw(capabilities(negotiated));
    w.field("serverInfo");
    w.raw(&mcp.server_info);
    instructions(w, request.toolset);
    negotiated
}

pub(super) fn discover(request: &Request<'_>, w: &mut ResultWriter) {
    w.field("supportedVersions");
    w.raw(&serde_json::to_string(&protocol::SUPPORTED_VERSIONS).unwrap_or_default());
    w.field("capabilities");
    w.raw(capabilities(request.version));
    instructions(w, request.toolset);
    w.cache_hints(request.toolset);
}

/// `logging/setLevel` is accepted with a valid level; the server sends no log notifications.
pub(super) fn set_level(request: &Request<'_>) -> Result<(), RpcError> {
    if request.params.level.as_deref().is_some_and(|l| LOG_LEVELS.contains(&l)) {
        return Ok(());
    }
    Err(RpcError::invalid_params(format!("`level` must be one of {}", LOG_LEVELS.join(", "))))
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

fn instructions(w: &mut ResultWriter, toolset: &ToolsetDef) {
    if let Some(text) = toolset.instructions {
        w.field("instructions");
        w.string(text);
    }
}
