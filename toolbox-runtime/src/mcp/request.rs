//! What a method is handed: the transport a message came by (with its HTTP headers), and the
//! routed [`Request`] that replaces positional arguments.

use super::envelope::Params;
use crate::args::ClaimSource;
use crate::def::ToolsetDef;
use crate::protocol::{Method, Version};
use serde_json::value::RawValue;
use std::net::IpAddr;

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
    pub client: Option<IpAddr>,
    /// The call was already counted against its tool's rate limit (from its `Mcp-Name` header).
    pub rate_checked: bool,
    /// The W3C `traceparent` and `tracestate` headers (`params._meta` takes precedence).
    pub traceparent: Option<&'a str>,
    pub tracestate: Option<&'a str>,
}

/// How a message arrived.
#[derive(Clone, Copy)]
pub enum Transport<'a> {
    Http(Headers<'a>),
    /// stdio: the version negotiated by `initialize` earlier in this process, if any.
    Stdio {
        negotiated: Option<Version>,
    },
}

impl<'a> Transport<'a> {
    pub fn is_stdio(self) -> bool {
        matches!(self, Transport::Stdio { .. })
    }

    /// The HTTP headers; stdio has none.
    pub fn headers(self) -> Option<Headers<'a>> {
        match self {
            Transport::Http(h) => Some(h),
            Transport::Stdio { .. } => None,
        }
    }
}

/// One request, read and routed: everything a method needs to answer it.
pub(super) struct Request<'a> {
    pub(super) toolset: &'static ToolsetDef,
    pub(super) id: &'a RawValue,
    pub(super) method: Method,
    pub(super) params: &'a Params<'a>,
    /// The version the request speaks, decided by [`super::route`].
    pub(super) version: Version,
    pub(super) transport: Transport<'a>,
    /// The verified identities of the caller (none on stdio).
    pub(super) claims: &'a dyn ClaimSource,
}
