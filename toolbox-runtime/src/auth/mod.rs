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
//! Tokens are never logged, never echoed in an answer, and never reach a database: a tool sees
//! only the claims it asks for.

mod accepted;
pub mod introspect;
pub mod jwt;
pub mod principal;
pub mod provider;

// Property-based fuzzing of the token, header and answer parsers (proptest).
#[cfg(test)]
mod fuzz;

use crate::args::ClaimSource;
use crate::def::{AuthServiceDef, ToolDef, Toolbox};
use crate::error::RpcError;
use crate::setting::resolve_setting;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use introspect::{CacheLimits, Flavor, Introspector, Method};
use jwt::Validations;
use principal::Principal;
use provider::{KeyError, Provider, Timing};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

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

/// The verified identities of one request.
#[derive(Default)]
pub struct Caller {
    /// The MCP access token, under the `mcpEnabled` service's name.
    mcp: Option<(&'static str, Arc<Principal>)>,
    /// Tokens from `<service>_token` headers that verified.
    native: Vec<(&'static str, Arc<Principal>)>,
}

impl Caller {
    fn principal(&self, service: &str) -> Option<&Principal> {
        match &self.mcp {
            Some((name, p)) if *name == service => Some(p),
            _ => self.native.iter().find(|(name, _)| *name == service).map(|(_, p)| &**p),
        }
    }

    /// The MCP access token's principal, if the request carried one.
    pub fn mcp_principal(&self) -> Option<&Principal> {
        self.mcp.as_ref().map(|(_, p)| &**p)
    }
}

impl ClaimSource for Caller {
    fn claim(&self, service: &str, field: &str) -> Option<&Value> {
        self.principal(service)?.claim(field)
    }

    fn verified(&self, service: &str) -> bool {
        self.principal(service).is_some()
    }

    fn has_scope(&self, scope: &str) -> bool {
        self.mcp.as_ref().is_some_and(|(_, p)| p.has_scope(scope))
    }

    fn subject(&self) -> Option<String> {
        let (service, principal) = self.mcp.as_ref().or(self.native.first())?;
        let claim = |name: &str| principal.claim(name).and_then(serde_json::Value::as_str);
        let subject = claim("sub")?;
        Some(format!("{service} {} {subject}", claim("iss").unwrap_or_default()))
    }
}

/// Verifies JWTs from one provider for one audience.
struct Verifier {
    provider: Arc<Provider>,
    /// Accepted issuers; empty: the discovered one.
    issuers: Vec<String>,
    audience: String,
    leeway: u64,
    validation: OnceLock<Validations>,
    accepted: accepted::Accepted,
}

impl Verifier {
    fn validation(&self) -> Option<&Validations> {
        if let Some(v) = self.validation.get() {
            return Some(v);
        }
        let discovered;
        let issuers: Vec<&str> = if self.issuers.is_empty() {
            discovered = self.provider.metadata()?.issuer.clone();
            vec![discovered.as_str()]
        } else {
            self.issuers.iter().map(String::as_str).collect()
        };
        Some(self.validation.get_or_init(|| Validations::new(&issuers, &self.audience, self.leeway)))
    }

    /// A token verified a moment ago is taken from the cache (see [`accepted`]).
    async fn verify(&self, token: &str) -> Result<Arc<Principal>, Rejection> {
        if let Some(principal) = self.accepted.get(token) {
            return Ok(principal);
        }
        let principal = Arc::new(self.verify_signature_and_claims(token).await?);
        self.accepted.insert(token, &principal);
        Ok(principal)
    }

    async fn verify_signature_and_claims(&self, token: &str) -> Result<Principal, Rejection> {
        let invalid = |e: jwt::JwtError| Rejection::Unauthorized(Some(e.description()));
        let (alg, kid) = jwt::header(token).map_err(invalid)?;
        if !self.provider.ready() {
            return Err(not_ready());
        }
        let validation = self.validation().ok_or_else(not_ready)?;
        match self.provider.with_key(kid.as_deref(), alg, |key| jwt::verify(token, key, validation)).await {
            Ok(result) => result.map_err(invalid),
            Err(KeyError::NotReady) => Err(not_ready()),
            Err(KeyError::Jwt(e)) => Err(invalid(e)),
        }
    }
}

fn not_ready() -> Rejection {
    Rejection::Unavailable("the authorization server has not been reached yet; retry shortly")
}

struct McpService {
    name: &'static str,
    scopes: &'static [&'static str],
    verifier: Verifier,
    introspector: Introspector,
    force_introspection: bool,
}

impl McpService {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Principal>, Rejection> {
        let token = bearer_token(headers)?;
        let principal = if !self.force_introspection && jwt::looks_like_jwt(token) {
            self.verifier.verify(token).await?
        } else {
            self.introspect(token).await?
        };
        if !self.scopes.iter().all(|s| principal.has_scope(s)) {
            return Err(Rejection::InsufficientScope);
        }
        Ok(principal)
    }

    async fn introspect(&self, token: &str) -> Result<Arc<Principal>, Rejection> {
        let provider = &self.verifier.provider;
        let (endpoint, issuer) = match self.introspector.flavor {
            Flavor::GoogleTokenInfo => (self.introspector.endpoint.clone().unwrap_or_default(), None),
            Flavor::Rfc7662 => {
                let Some(metadata) = provider.metadata() else { return Err(not_ready()) };
                let endpoint = self
                    .introspector
                    .endpoint
                    .clone()
                    .or_else(|| metadata.introspection_endpoint.clone())
                    .unwrap_or_else(|| format!("{}/introspect", provider.base));
                (endpoint, Some(metadata.issuer.as_str()))
            }
        };
        self.introspector.introspect(token, &endpoint, issuer).await.map_err(|e| match e {
            introspect::IntrospectionError::Unavailable => Rejection::Unavailable(e.description()),
            _ => Rejection::Unauthorized(Some(e.description())),
        })
    }
}

/// `Authorization: Bearer <token>`; the scheme is case-insensitive, the token a b64token.
fn bearer_token(headers: &HeaderMap) -> Result<&str, Rejection> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else { return Err(Rejection::Unauthorized(None)) };
    if values.next().is_some() {
        return Err(Rejection::Unauthorized(Some("send one Authorization header")));
    }
    let text = value.to_str().map_err(|_| Rejection::Unauthorized(Some(jwt::JwtError::Malformed.description())))?;
    let (scheme, token) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejection::Unauthorized(None));
    }
    let token = token.trim_start_matches(' ');
    let b64token = !token.is_empty()
        && token.len() <= 16 * 1024
        && token.trim_end_matches('=').bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if !b64token {
        return Err(Rejection::Unauthorized(Some(jwt::JwtError::Malformed.description())));
    }
    Ok(token)
}

struct NativeService {
    name: &'static str,
    header: HeaderName,
    verifier: Verifier,
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

    /// Resolves the auth services' settings with `lookup` (the environment) and checks them.
    /// Nothing is fetched until [`Auth::start`].
    pub fn new(
        toolbox: &'static Toolbox,
        lookup: &dyn Fn(&str) -> Option<String>,
        options: AuthOptions,
    ) -> Result<Self, String> {
        if toolbox.auth_services.is_empty() {
            return Ok(Self::disabled());
        }
        let http = provider::http_client()?;
        let mut auth = Self::disabled();
        let mut errors = Vec::new();
        for def in toolbox.auth_services {
            match Self::service(toolbox, def, lookup, &options, &http, &mut auth.providers) {
                Ok(Built::Mcp(service)) => auth.mcp = Some(*service),
                Ok(Built::Native(service)) => auth.native.push(service),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        if let Some(mcp) = &auth.mcp {
            let toolbox_url = options.toolbox_url.clone().or_else(|| {
                let audience = &mcp.verifier.audience;
                (audience.starts_with("https://") || audience.starts_with("http://")).then(|| audience.clone())
            });
            let Some(toolbox_url) = toolbox_url else {
                return Err(format!(
                    "auth service `{}` has `mcpEnabled: true`, but the server's public URL is unknown: \
                     set --toolbox-url or TOOLBOX_URL (e.g. https://toolbox.example.com)",
                    mcp.name
                ));
            };
            let (resource, metadata_url) = resource_urls(&toolbox_url)?;
            if mcp.verifier.audience != resource {
                tracing::warn!(
                    "auth service `{}`: tokens must have the audience `{}`, but the resource URL is `{resource}`; \
                     clients ask for tokens for the resource URL",
                    mcp.name,
                    mcp.verifier.audience
                );
            }
            let authorization_server = match def_kind(toolbox, mcp.name) {
                "google" => options.google_issuer.trim_end_matches('/').to_string(),
                _ => mcp.verifier.provider.base.clone(),
            };
            let mut scopes: Vec<&str> = mcp.scopes.to_vec();
            for tool in toolbox.tools {
                for s in tool.scopes_required {
                    if !scopes.contains(s) {
                        scopes.push(s);
                    }
                }
            }
            let mut document = serde_json::json!({
                "resource": resource,
                "authorization_servers": [authorization_server],
                "bearer_methods_supported": ["header"],
                "resource_name": toolbox.server_name,
            });
            if !scopes.is_empty() {
                document["scopes_supported"] = serde_json::json!(scopes);
            }
            auth.server_scope = mcp.scopes.join(" ");
            auth.challenge_base = format!("Bearer resource_metadata=\"{metadata_url}\"");
            if !auth.server_scope.is_empty() {
                auth.challenge_base.push_str(&format!(", scope=\"{}\"", auth.server_scope));
            }
            auth.metadata_json = document.to_string();
            auth.resource = resource;
            auth.metadata_url = metadata_url;
        }
        Ok(auth)
    }

    fn service(
        toolbox: &'static Toolbox,
        def: &'static AuthServiceDef,
        lookup: &dyn Fn(&str) -> Option<String>,
        options: &AuthOptions,
        http: &reqwest::Client,
        providers: &mut Vec<Arc<Provider>>,
    ) -> Result<Built, String> {
        let owner = format!("auth service `{}`", def.name);
        let setting = |key: &str| -> Result<Option<String>, String> {
            match def.settings.iter().find(|(k, _)| *k == key) {
                None => Ok(None),
                Some((_, s)) => resolve_setting(toolbox.config_path, &owner, s, lookup)
                    .map(|v| Some(v.trim().to_string()).filter(|v| !v.is_empty()))
                    .map_err(|e| e.to_string()),
            }
        };
        let mut provider_for = |base: &str, needs_keys: bool| -> Result<Arc<Provider>, String> {
            provider::check_url(&format!("{owner}: authorizationServer"), base)?;
            let base_trimmed = base.trim_end_matches('/');
            if let Some(p) = providers.iter().find(|p| p.base == base_trimmed) {
                return Ok(p.clone());
            }
            let p = Provider::new(base, http.clone(), options.timing.clone(), needs_keys);
            providers.push(p.clone());
            Ok(p)
        };
        let google_issuers = || {
            let mut list = vec![options.google_issuer.trim_end_matches('/').to_string()];
            if options.google_issuer == GOOGLE_ISSUER {
                list.push("accounts.google.com".into());
            }
            list
        };
        let verifier = |provider: Arc<Provider>, issuers: Vec<String>, audience: String| Verifier {
            provider,
            issuers,
            audience,
            leeway: options.leeway,
            validation: OnceLock::new(),
            accepted: accepted::Accepted::new(options.leeway),
        };
        match (def.kind, def.mcp_enabled) {
            ("google", false) => {
                let client_id = setting("clientId")?.ok_or(format!("{owner}: `clientId` is empty"))?;
                let provider = provider_for(&options.google_issuer, true)?;
                Ok(Built::Native(NativeService {
                    name: def.name,
                    header: token_header(def.name)?,
                    verifier: verifier(provider, google_issuers(), client_id),
                }))
            }
            ("generic", false) => {
                let base = setting("authorizationServer")?.ok_or(format!("{owner}: `authorizationServer` is empty"))?;
                let audience = setting("audience")?.ok_or(format!("{owner}: `audience` is empty"))?;
                let provider = provider_for(&base, true)?;
                Ok(Built::Native(NativeService {
                    name: def.name,
                    header: token_header(def.name)?,
                    verifier: verifier(provider, Vec::new(), audience),
                }))
            }
            ("google", true) => {
                let audience = match setting("audience")? {
                    Some(a) => a,
                    None => setting("clientId")?.ok_or(format!("{owner}: `audience` or `clientId` is required"))?,
                };
                let provider = provider_for(&options.google_issuer, true)?;
                let introspector = Introspector::new(
                    Flavor::GoogleTokenInfo,
                    Some(options.google_tokeninfo.clone()),
                    Method::Post,
                    "access_token".into(),
                    None,
                    audience.clone(),
                    options.leeway,
                    options.cache.clone(),
                    http.clone(),
                );
                Ok(Built::Mcp(Box::new(McpService {
                    name: def.name,
                    scopes: def.scopes_required,
                    verifier: verifier(provider, google_issuers(), audience),
                    introspector,
                    force_introspection: false,
                })))
            }
            ("generic", true) => {
                let base = setting("authorizationServer")?.ok_or(format!("{owner}: `authorizationServer` is empty"))?;
                let audience = setting("audience")?.ok_or(format!("{owner}: `audience` is empty"))?;
                let force = setting("forceIntrospection")?.is_some_and(|v| v == "true");
                let endpoint = setting("introspectionEndpoint")?;
                if let Some(e) = &endpoint {
                    provider::check_url(&format!("{owner}: introspectionEndpoint"), e)?;
                }
                let method = match setting("introspectionMethod")?.as_deref() {
                    Some("GET") => Method::Get,
                    _ => Method::Post,
                };
                let param = setting("introspectionParamName")?.unwrap_or_else(|| "token".into());
                let credentials = introspection_credentials(
                    &owner,
                    setting("introspectionClientId")?,
                    setting("introspectionClientSecret")?,
                    lookup,
                );
                let provider = provider_for(&base, !force)?;
                let introspector = Introspector::new(
                    Flavor::Rfc7662,
                    endpoint,
                    method,
                    param,
                    credentials,
                    audience.clone(),
                    options.leeway,
                    options.cache.clone(),
                    http.clone(),
                );
                Ok(Built::Mcp(Box::new(McpService {
                    name: def.name,
                    scopes: def.scopes_required,
                    verifier: verifier(provider, Vec::new(), audience),
                    introspector,
                    force_introspection: force,
                })))
            }
            (kind, _) => Err(format!("{owner}: unknown type `{kind}`")),
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

    /// Checks the request's credentials: the bearer token when MCP authorization is on (and
    /// its server-level scopes), and any `<service>_token` headers.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Rejection> {
        let mut caller = Caller::default();
        for service in &self.native {
            let Some(value) = headers.get(&service.header) else { continue };
            let Some(token) = value.to_str().ok().map(str::trim).filter(|t| !t.is_empty()) else { continue };
            match service.verifier.verify(token).await {
                Ok(p) => caller.native.push((service.name, p)),
                Err(r) => tracing::debug!(
                    "the {} header was not accepted: {}",
                    service.header,
                    match r {
                        Rejection::Unauthorized(Some(d)) | Rejection::Unavailable(d) => d,
                        _ => "refused",
                    }
                ),
            }
        }
        if let Some(mcp) = &self.mcp {
            caller.mcp = Some((mcp.name, mcp.authenticate(headers).await?));
        }
        Ok(caller)
    }

    /// The answer to a refused request: status, challenge, a JSON-RPC error body (`id` null: the
    /// body was not read).
    pub fn reject(&self, rejection: &Rejection) -> Response {
        let (status, code, message, challenge) = match rejection {
            Rejection::Unauthorized(None) => (
                StatusCode::UNAUTHORIZED,
                -401,
                "this server requires a bearer token; see the WWW-Authenticate header",
                Some(self.challenge_base.clone()),
            ),
            Rejection::Unauthorized(Some(description)) => (
                StatusCode::UNAUTHORIZED,
                -401,
                *description,
                Some(format!("{}, error=\"invalid_token\", error_description=\"{description}\"", self.challenge_base)),
            ),
            Rejection::InsufficientScope => {
                let description = "the token lacks a scope this server requires";
                (StatusCode::FORBIDDEN, -403, description, Some(self.scope_challenge(&self.server_scope, description)))
            }
            Rejection::Unavailable(description) => (StatusCode::SERVICE_UNAVAILABLE, -32603, *description, None),
        };
        let mut response = RpcError::new(status.as_u16(), code, message).into_response();
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }

    /// The `WWW-Authenticate` value for a tool call refused by [`authorize_tool`].
    pub fn challenge(&self, denied: Denied) -> Option<HeaderValue> {
        let text = match denied {
            Denied::InsufficientScope(tool_scopes) => {
                let mut scopes: Vec<&str> = self.server_scope.split(' ').filter(|s| !s.is_empty()).collect();
                for s in tool_scopes {
                    if !scopes.contains(s) {
                        scopes.push(s);
                    }
                }
                self.scope_challenge(&scopes.join(" "), "the token lacks a scope this tool requires")
            }
            Denied::Unauthenticated(services) => {
                let mut challenges: Vec<String> = Vec::new();
                for s in services {
                    if self.mcp.as_ref().is_some_and(|m| m.name == *s) {
                        challenges.push(self.challenge_base.clone());
                    } else {
                        challenges.push(format!("Toolbox-Token header=\"{}_token\"", s.to_ascii_lowercase()));
                    }
                }
                challenges.join(", ")
            }
        };
        HeaderValue::from_str(&text).ok()
    }

    fn scope_challenge(&self, scopes: &str, description: &str) -> String {
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scopes}\", resource_metadata=\"{}\", error_description=\"{description}\"",
            self.metadata_url
        )
    }
}

enum Built {
    Mcp(Box<McpService>),
    Native(NativeService),
}

fn def_kind(toolbox: &Toolbox, name: &str) -> &'static str {
    toolbox.auth_services.iter().find(|a| a.name == name).map_or("", |a| a.kind)
}

fn token_header(service: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(format!("{}_token", service.to_ascii_lowercase()).as_bytes())
        .map_err(|_| format!("auth service `{service}`: `{service}_token` is not a valid header name"))
}

/// The configured client credentials, else `INTROSPECTION_CLIENT_ID` and
/// `INTROSPECTION_CLIENT_SECRET`; a half pair is ignored with a warning.
fn introspection_credentials(
    owner: &str,
    id: Option<String>,
    secret: Option<String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<(String, String)> {
    let (id, secret) = match (id, secret) {
        (None, None) => (
            lookup("INTROSPECTION_CLIENT_ID").filter(|v| !v.is_empty()),
            lookup("INTROSPECTION_CLIENT_SECRET").filter(|v| !v.is_empty()),
        ),
        pair => pair,
    };
    match (id, secret) {
        (Some(id), Some(secret)) => Some((id, secret)),
        (None, None) => {
            tracing::info!("{owner}: introspection requests carry no client credentials");
            None
        }
        _ => {
            tracing::warn!(
                "{owner}: only one of the introspection client id and secret is set; introspection requests carry no credentials"
            );
            None
        }
    }
}

/// The protected resource for a `--toolbox-url`, and where its RFC 9728 document is: the path
/// form of the well-known URI (`/.well-known/oauth-protected-resource` inserted before the path).
/// `https://h` and `https://h/mcp` both name the resource `https://h/mcp`.
pub fn resource_urls(toolbox_url: &str) -> Result<(String, String), String> {
    let url = reqwest::Url::parse(toolbox_url.trim())
        .map_err(|e| format!("--toolbox-url `{toolbox_url}` is not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("--toolbox-url `{toolbox_url}` must be an http or https URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("--toolbox-url `{toolbox_url}` must not have a query or fragment"));
    }
    let origin = url.origin().ascii_serialization();
    let mut path = url.path().trim_end_matches('/').to_string();
    if !path.ends_with("/mcp") {
        path.push_str("/mcp");
    }
    Ok((format!("{origin}{path}"), format!("{origin}/.well-known/oauth-protected-resource{path}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolbox_url_forms() {
        let forms = [
            ("https://h", "https://h/mcp", "https://h/.well-known/oauth-protected-resource/mcp"),
            ("https://h/", "https://h/mcp", "https://h/.well-known/oauth-protected-resource/mcp"),
            ("https://h/mcp", "https://h/mcp", "https://h/.well-known/oauth-protected-resource/mcp"),
            (
                "HTTPS://H:8443/api/v1",
                "https://h:8443/api/v1/mcp",
                "https://h:8443/.well-known/oauth-protected-resource/api/v1/mcp",
            ),
            (
                "http://127.0.0.1:5000/mcp/",
                "http://127.0.0.1:5000/mcp",
                "http://127.0.0.1:5000/.well-known/oauth-protected-resource/mcp",
            ),
        ];
        for (input, resource, metadata) in forms {
            assert_eq!(resource_urls(input), Ok((resource.to_string(), metadata.to_string())), "{input}");
        }
        for bad in ["", "/mcp", "http://", "://x", "ftp://h", "https://h/mcp?x=1"] {
            assert!(resource_urls(bad).is_err(), "{bad}");
        }
    }

    fn headers(authorization: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(authorization).unwrap());
        h
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(bearer_token(&headers("Bearer abc.def-ghi")), Ok("abc.def-ghi"));
        assert_eq!(bearer_token(&headers("bearer abc==")), Ok("abc=="));
        assert_eq!(bearer_token(&HeaderMap::new()), Err(Rejection::Unauthorized(None)));
        assert_eq!(bearer_token(&headers("Basic dXNlcjpwYXNz")), Err(Rejection::Unauthorized(None)));
        assert!(matches!(bearer_token(&headers("Bearer")), Err(Rejection::Unauthorized(Some(_)))));
        assert!(matches!(bearer_token(&headers("Bearer a b")), Err(Rejection::Unauthorized(Some(_)))));
        assert!(matches!(bearer_token(&headers("Bearer a\"b")), Err(Rejection::Unauthorized(Some(_)))));
    }
}
