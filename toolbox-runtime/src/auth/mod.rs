//! Authorization: the toolbox as an OAuth 2.1 resource server (MCP authorization), and the
//! reference's native tool auth (`<service>_token` headers).
//!
//! - [`Auth`] is built once at start-up from the `authServices` table and the environment. Each
//!   authorization server named there becomes a [`provider::Provider`]: discovered (retried with
//!   backoff while it is down), its JWKS cached and refreshed.
//! - Per HTTP request, [`Auth::authenticate`] checks the bearer token of the `mcpEnabled` service
//!   (a JWT against the JWKS, or an opaque token by RFC 7662 introspection) and the server-level
//!   scopes, and verifies any `<service>_token` headers. The result, a [`Caller`], is the
//!   [`ClaimSource`] the MCP layer hands to tools.
//! - Per tool call, [`authorize_tool`] applies the tool's `authRequired` and `scopesRequired`,
//!   with the tool name the method layer read from the body.
//! - [`Auth::reject`] and [`Auth::challenge`] write the 401/403/503 answers and their
//!   `WWW-Authenticate` challenges; [`Auth::metadata_json`] is the RFC 9728 document.
//!
//! The code is split by moment: [`startup`] builds [`Auth`] from the typed `authServices`
//! table, [`request`] checks each request's credentials, [`challenge`] words the refusals.
//!
//! Tokens are never logged, never echoed in an answer, and never reach a database: a tool sees
//! only the claims it asks for.

mod accepted;
mod challenge;
pub mod introspect;
pub mod jwt;
pub mod principal;
pub mod provider;
mod request;
mod startup;

// Property-based fuzzing of the token, header and answer parsers (proptest).
#[cfg(test)]
mod fuzz;

use crate::args::ClaimSource;
use crate::def::ToolDef;
use axum::http::HeaderName;
use introspect::CacheLimits;
use provider::{Provider, Timing};
use request::{McpService, NativeService};
use std::sync::Arc;

pub use request::Caller;
pub use startup::resource_urls;

/// The issuer of Google ID tokens and the authorization server Google-backed MCP auth names.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
pub const GOOGLE_TOKENINFO: &str = "https://oauth2.googleapis.com/tokeninfo";

/// Start-up options: the command line's `--toolbox-url`, and knobs tests turn.
#[derive(Clone, Debug)]
pub struct AuthOptions {
    /// The public URL of the server (`--toolbox-url`, `TOOLBOX_URL`).
    pub toolbox_url: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway: u64,
    pub google_issuer: String,
    pub google_tokeninfo: String,
    pub timing: Timing,
    pub cache: CacheLimits,
    /// Where cache lookups and failed fetches are counted (the metrics, when they are on).
    pub counters: crate::telemetry::metrics::AuthCounters,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            toolbox_url: None,
            leeway: 30,
            google_issuer: GOOGLE_ISSUER.into(),
            google_tokeninfo: GOOGLE_TOKENINFO.into(),
            timing: Timing::default(),
            cache: CacheLimits::default(),
            counters: Default::default(),
        }
    }
}

/// Why a request was refused before the method layer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// 401. `None`: no bearer token at all (or another scheme); `Some`: the token sent is bad.
    Unauthorized(Option<&'static str>),
    /// 403: the token lacks a server-level scope.
    InsufficientScope,
    /// 503: the token cannot be judged now (authorization server not discovered yet,
    /// introspection endpoint down).
    Unavailable(&'static str),
}

/// Why a tool call was refused by [`authorize_tool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// 401: none of the tool's `authRequired` services verified the caller.
    Unauthenticated(&'static [&'static str]),
    /// 403: the MCP access token lacks some of the tool's `scopesRequired`.
    InsufficientScope(&'static [&'static str]),
}

impl Denied {
    pub fn status(self) -> u16 {
        match self {
            Denied::Unauthenticated(_) => 401,
            Denied::InsufficientScope(_) => 403,
        }
    }

    /// The JSON-RPC error code: the HTTP status, negated, as the reference's auth errors do.
    pub fn code(self) -> i32 {
        -(self.status() as i32)
    }
}

/// Applies a tool's `authRequired` (any one service) and `scopesRequired` (all of them).
pub fn authorize_tool(tool: &ToolDef, caller: &dyn ClaimSource) -> Result<(), Denied> {
    if !tool.auth_required.is_empty() && !tool.auth_required.iter().any(|s| caller.verified(s)) {
        return Err(Denied::Unauthenticated(tool.auth_required));
    }
    if !tool.scopes_required.iter().all(|s| caller.has_scope(s)) {
        return Err(Denied::InsufficientScope(tool.scopes_required));
    }
    Ok(())
}

/// The authorization of a served toolbox.
pub struct Auth {
    mcp: Option<McpService>,
    native: Vec<NativeService>,
    providers: Vec<Arc<Provider>>,
    /// The canonical URI of `/mcp` (the protected resource).
    resource: String,
    /// Where the RFC 9728 document of `resource` is.
    metadata_url: String,
    metadata_json: String,
    /// `Bearer resource_metadata="…"[, scope="…"]`.
    challenge_base: String,
    /// The server-level scopes, space-separated.
    server_scope: String,
}

impl Auth {
    /// No auth services: every request is anonymous, at no cost.
    pub fn disabled() -> Self {
        Self {
            mcp: None,
            native: Vec::new(),
            providers: Vec::new(),
            resource: String::new(),
            metadata_url: String::new(),
            metadata_json: String::new(),
            challenge_base: String::new(),
            server_scope: String::new(),
        }
    }

    /// Starts discovery of every authorization server (in the background, retried until it
    /// succeeds). Needs a Tokio runtime.
    pub fn start(&self) {
        for p in &self.providers {
            p.start();
        }
    }

    /// Whether any auth service is configured.
    pub fn enabled(&self) -> bool {
        self.mcp.is_some() || !self.native.is_empty()
    }

    /// Whether MCP authorization (a bearer token on every request) is on.
    pub fn mcp_enabled(&self) -> bool {
        self.mcp.is_some()
    }

    /// Every provider is discovered and has keys (tests wait for this).
    pub fn ready(&self) -> bool {
        self.providers.iter().all(|p| p.ready())
    }

    pub fn providers(&self) -> &[Arc<Provider>] {
        &self.providers
    }

    /// The protected resource (`<toolbox-url>/mcp`).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The URL of the RFC 9728 document.
    pub fn metadata_url(&self) -> &str {
        &self.metadata_url
    }

    /// The RFC 9728 document (empty when MCP authorization is off).
    pub fn metadata_json(&self) -> &str {
        &self.metadata_json
    }

    /// The names of the `<service>_token` headers read (for CORS).
    pub fn token_headers(&self) -> Vec<HeaderName> {
        self.native.iter().map(|s| s.header.clone()).collect()
    }
}
