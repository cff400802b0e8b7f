//! Per request: the bearer token of the `mcpEnabled` service (a JWT against the JWKS, or an
//! opaque token by introspection) with the server-level scopes, and the `<service>_token`
//! headers; the result is the [`Caller`] tools see.

use super::introspect::{self, Flavor, Introspector};
use super::jwt::{self, Validations};
use super::principal::Principal;
use super::provider::{KeyError, Provider};
use super::{Auth, Rejection, accepted};
use crate::args::ClaimSource;
use axum::http::{HeaderMap, HeaderName, header};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

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
pub(super) struct Verifier {
    pub(super) provider: Arc<Provider>,
    /// Accepted issuers; empty: the discovered one.
    pub(super) issuers: Vec<String>,
    pub(super) audience: String,
    pub(super) leeway: u64,
    pub(super) validation: OnceLock<Validations>,
    pub(super) accepted: accepted::Accepted,
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

pub(super) struct McpService {
    pub(super) name: &'static str,
    pub(super) scopes: &'static [&'static str],
    pub(super) verifier: Verifier,
    pub(super) introspector: Introspector,
    pub(super) force_introspection: bool,
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
pub(super) fn bearer_token(headers: &HeaderMap) -> Result<&str, Rejection> {
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

pub(super) struct NativeService {
    pub(super) name: &'static str,
    pub(super) header: HeaderName,
    pub(super) verifier: Verifier,
}

impl Auth {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
