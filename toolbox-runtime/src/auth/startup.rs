//! At start-up: [`Auth`] made from the typed `authServices` table, each setting resolved from
//! the environment, one [`Provider`] per authorization server, and the RFC 9728 document.

use super::introspect::{Flavor, Introspector, Method};
use super::provider::{self, Provider};
use super::request::{McpService, NativeService, Verifier};
use super::{Auth, AuthOptions, GOOGLE_ISSUER, accepted};
use crate::def::{AuthServiceDef, AuthServiceKindDef, IntrospectionMethod, Toolbox};
use crate::setting::{Setting, resolve_setting};
use axum::http::HeaderName;
use std::sync::{Arc, OnceLock};

impl Auth {
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
            let google = toolbox
                .auth_services
                .iter()
                .any(|a| a.name == mcp.name && matches!(a.kind, AuthServiceKindDef::Google { .. }));
            let authorization_server = if google {
                options.google_issuer.trim_end_matches('/').to_string()
            } else {
                mcp.verifier.provider.base.clone()
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
        // A setting resolved from the environment; one that resolves to blank counts as absent.
        let setting = |value: Option<&Setting>| -> Result<Option<String>, String> {
            match value {
                None => Ok(None),
                Some(s) => resolve_setting(toolbox.config_path, &owner, s, lookup)
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
            let p = Provider::new(base, http.clone(), options.timing.clone(), needs_keys, options.counters.clone());
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
        let introspector = |flavor, endpoint, method, param, credentials, audience: &String| {
            let (leeway, cache) = (options.leeway, options.cache.clone());
            Introspector::new(
                flavor,
                endpoint,
                method,
                param,
                credentials,
                audience.clone(),
                leeway,
                cache,
                http.clone(),
                options.counters.clone(),
            )
        };
        let mcp = |verifier, introspector, force_introspection| {
            Built::Mcp(Box::new(McpService {
                name: def.name,
                scopes: def.scopes_required,
                verifier,
                introspector,
                force_introspection,
            }))
        };
        match (&def.kind, def.mcp_enabled) {
            (AuthServiceKindDef::Google { client_id, .. }, false) => {
                let client_id = setting(client_id.as_ref())?.ok_or(format!("{owner}: `clientId` is empty"))?;
                let provider = provider_for(&options.google_issuer, true)?;
                Ok(Built::Native(NativeService {
                    name: def.name,
                    header: token_header(def.name)?,
                    verifier: verifier(provider, google_issuers(), client_id),
                }))
            }
            (AuthServiceKindDef::Generic(generic), false) => {
                let base = setting(Some(&generic.authorization_server))?
                    .ok_or(format!("{owner}: `authorizationServer` is empty"))?;
                let audience = setting(Some(&generic.audience))?.ok_or(format!("{owner}: `audience` is empty"))?;
                let provider = provider_for(&base, true)?;
                Ok(Built::Native(NativeService {
                    name: def.name,
                    header: token_header(def.name)?,
                    verifier: verifier(provider, Vec::new(), audience),
                }))
            }
            (AuthServiceKindDef::Google { client_id, audience }, true) => {
                let audience = match setting(audience.as_ref())? {
                    Some(a) => a,
                    None => {
                        setting(client_id.as_ref())?.ok_or(format!("{owner}: `audience` or `clientId` is required"))?
                    }
                };
                let provider = provider_for(&options.google_issuer, true)?;
                let tokeninfo = Some(options.google_tokeninfo.clone());
                let introspector = introspector(
                    Flavor::GoogleTokenInfo,
                    tokeninfo,
                    Method::Post,
                    "access_token".into(),
                    None,
                    &audience,
                );
                Ok(mcp(verifier(provider, google_issuers(), audience), introspector, false))
            }
            (AuthServiceKindDef::Generic(generic), true) => {
                let base = setting(Some(&generic.authorization_server))?
                    .ok_or(format!("{owner}: `authorizationServer` is empty"))?;
                let audience = setting(Some(&generic.audience))?.ok_or(format!("{owner}: `audience` is empty"))?;
                let introspection = &generic.introspection;
                let force = introspection.force;
                let endpoint = setting(introspection.endpoint.as_ref())?;
                if let Some(e) = &endpoint {
                    provider::check_url(&format!("{owner}: introspectionEndpoint"), e)?;
                }
                let method = match introspection.method {
                    IntrospectionMethod::Get => Method::Get,
                    IntrospectionMethod::Post => Method::Post,
                };
                let param = setting(introspection.param_name.as_ref())?.unwrap_or_else(|| "token".into());
                let credentials = introspection_credentials(
                    &owner,
                    setting(introspection.client_id.as_ref())?,
                    setting(introspection.client_secret.as_ref())?,
                    lookup,
                );
                let provider = provider_for(&base, !force)?;
                let introspector = introspector(Flavor::Rfc7662, endpoint, method, param, credentials, &audience);
                Ok(mcp(verifier(provider, Vec::new(), audience), introspector, force))
            }
        }
    }
}

enum Built {
    Mcp(Box<McpService>),
    Native(NativeService),
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
}
