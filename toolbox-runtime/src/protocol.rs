//! MCP protocol versions, the methods of each, and the per-version rules this server applies.

/// Every protocol version served, oldest first. `server/discover` and `-32022` errors list these.
pub const SUPPORTED_VERSIONS: [&str; 5] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];

/// A known protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V20241105,
    V20250326,
    V20250618,
    V20251125,
    /// The stateless generation: no `initialize`, per-request `_meta`, `server/discover`.
    V20260728,
}

impl Version {
    pub const LATEST_LEGACY: Version = Version::V20251125;
    /// What a legacy HTTP request without `MCP-Protocol-Version` is taken to speak.
    pub const HEADERLESS: Version = Version::V20250326;

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "2024-11-05" => Version::V20241105,
            "2025-03-26" => Version::V20250326,
            "2025-06-18" => Version::V20250618,
            "2025-11-25" => Version::V20251125,
            "2026-07-28" => Version::V20260728,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        SUPPORTED_VERSIONS[self as usize]
    }

    pub fn is_modern(self) -> bool {
        self == Version::V20260728
    }

    /// Which precomputed `tools/list` entries this version gets (index into `tools_json`).
    pub fn tool_shape(self) -> usize {
        match self {
            Version::V20241105 => 0,
            Version::V20250326 => 1,
            Version::V20250618 | Version::V20251125 => 2,
            Version::V20260728 => 3,
        }
    }

    /// `structuredContent` and `outputSchema` exist from 2025-06-18 on.
    pub fn has_structured_content(self) -> bool {
        self >= Version::V20250618
    }

    /// `completion/complete` exists from 2025-03-26 on.
    pub fn has_completions(self) -> bool {
        self >= Version::V20250326
    }

    /// JSON-RPC batches are part of 2025-03-26 only.
    pub fn allows_batches(self) -> bool {
        self == Version::V20250326
    }
}

/// Keys of the 2026-07-28 per-request `_meta`.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// JSON-RPC and MCP error codes.
pub mod code {
    pub const PARSE_ERROR: i32 = -32700;
    pub const INVALID_REQUEST: i32 = -32600;
    pub const METHOD_NOT_FOUND: i32 = -32601;
    pub const INVALID_PARAMS: i32 = -32602;
    pub const INTERNAL_ERROR: i32 = -32603;
    pub const RESOURCE_NOT_FOUND: i32 = -32002;
    pub const HEADER_MISMATCH: i32 = -32020;
    pub const UNSUPPORTED_VERSION: i32 = -32022;
}

/// An MCP method this server knows, parsed once from the request's `method` string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Initialize,
    Ping,
    LoggingSetLevel,
    /// The 2026-07-28 replacement of `initialize`.
    ServerDiscover,
    ToolsList,
    ToolsCall,
    PromptsList,
    PromptsGet,
    ResourcesList,
    ResourceTemplatesList,
    ResourcesRead,
    ResourcesSubscribe,
    ResourcesUnsubscribe,
    CompletionComplete,
}

impl Method {
    const ALL: [Method; 14] = [
        Method::Initialize,
        Method::Ping,
        Method::LoggingSetLevel,
        Method::ServerDiscover,
        Method::ToolsList,
        Method::ToolsCall,
        Method::PromptsList,
        Method::PromptsGet,
        Method::ResourcesList,
        Method::ResourceTemplatesList,
        Method::ResourcesRead,
        Method::ResourcesSubscribe,
        Method::ResourcesUnsubscribe,
        Method::CompletionComplete,
    ];

    /// The method a `method` string names, if this server knows it (in any version).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Initialize => "initialize",
            Method::Ping => "ping",
            Method::LoggingSetLevel => "logging/setLevel",
            Method::ServerDiscover => "server/discover",
            Method::ToolsList => "tools/list",
            Method::ToolsCall => "tools/call",
            Method::PromptsList => "prompts/list",
            Method::PromptsGet => "prompts/get",
            Method::ResourcesList => "resources/list",
            Method::ResourceTemplatesList => "resources/templates/list",
            Method::ResourcesRead => "resources/read",
            Method::ResourcesSubscribe => "resources/subscribe",
            Method::ResourcesUnsubscribe => "resources/unsubscribe",
            Method::CompletionComplete => "completion/complete",
        }
    }

    /// Whether the method is part of `version`. 2026-07-28 drops `initialize`, `ping`,
    /// `logging/setLevel` and resource subscriptions, and adds `server/discover`;
    /// `completion/complete` exists from 2025-03-26 on.
    pub fn exists_in(self, version: Version) -> bool {
        match self {
            Method::Initialize
            | Method::Ping
            | Method::LoggingSetLevel
            | Method::ResourcesSubscribe
            | Method::ResourcesUnsubscribe => !version.is_modern(),
            Method::ServerDiscover => version.is_modern(),
            Method::CompletionComplete => version.has_completions(),
            Method::ToolsList
            | Method::ToolsCall
            | Method::PromptsList
            | Method::PromptsGet
            | Method::ResourcesList
            | Method::ResourceTemplatesList
            | Method::ResourcesRead => true,
        }
    }
}

/// Decodes a header value: trims optional whitespace and undoes the `=?base64?...?=` form that
/// 2026-07-28 clients use for values that are not plain ASCII.
pub fn decode_header_value(raw: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let text = std::str::from_utf8(raw).ok()?.trim_matches([' ', '\t']);
    if let Some(encoded) = text.strip_prefix("=?base64?").and_then(|t| t.strip_suffix("?=")) {
        let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
        return String::from_utf8(bytes).ok();
    }
    Some(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_and_order() {
        for v in SUPPORTED_VERSIONS {
            assert_eq!(Version::parse(v).unwrap().as_str(), v);
        }
        assert!(Version::V20250618.has_structured_content());
        assert!(!Version::V20250326.has_structured_content());
        assert_eq!(Version::parse("2099-01-01"), None);
    }

    #[test]
    fn methods_round_trip_and_exist_in_their_versions() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        assert_eq!(Method::parse("tools/Call"), None);
        assert_eq!(Method::parse("notifications/initialized"), None);
        let modern: Vec<&str> =
            Method::ALL.into_iter().filter(|m| m.exists_in(Version::V20260728)).map(Method::as_str).collect();
        let expected = [
            "server/discover",
            "tools/list",
            "tools/call",
            "prompts/list",
            "prompts/get",
            "resources/list",
            "resources/templates/list",
            "resources/read",
            "completion/complete",
        ];
        assert_eq!(modern.len(), expected.len());
        assert!(expected.iter().all(|m| modern.contains(m)));
        assert!(!Method::CompletionComplete.exists_in(Version::V20241105));
        assert!(Method::CompletionComplete.exists_in(Version::V20250326));
        assert!(Method::LoggingSetLevel.exists_in(Version::V20251125));
        assert!(!Method::ServerDiscover.exists_in(Version::V20251125));
    }

    #[test]
    fn header_values() {
        assert_eq!(decode_header_value(b"  tools/call\t").as_deref(), Some("tools/call"));
        assert_eq!(decode_header_value(b"=?base64?w6lsw6h2ZQ==?=").as_deref(), Some("élève"));
    }
}
