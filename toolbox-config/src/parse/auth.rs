//! `kind: authService`: Google and generic (OIDC) authorization services.

use super::Reader;
use super::obj::Obj;
use crate::diag::Pos;
use crate::diag::{Diagnostic, Spanned};
use crate::model::*;

impl Reader<'_> {
    pub(super) fn auth_service(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        let Some(ty) = obj.required_choice("type", &["google", "generic"], &mut self.diags) else {
            obj.finish_untyped(&mut self.diags);
            return;
        };
        let kinds = [("google", AuthKind::Google), ("generic", AuthKind::Generic)];
        let Some(kind) = self.choose(&ty, &kinds, format!("unknown auth service type `{}`", ty.value)) else {
            return;
        };
        let mcp_enabled = obj.bool("mcpEnabled", &mut self.diags).unwrap_or(false);
        let scopes_required = obj.string_list("scopesRequired", &mut self.diags);
        let fields: &[&'static str] = match kind {
            AuthKind::Google => &["clientId", "audience"],
            AuthKind::Generic => &[
                "audience",
                "authorizationServer",
                "introspectionEndpoint",
                "introspectionMethod",
                "introspectionParamName",
                "introspectionClientId",
                "introspectionClientSecret",
            ],
        };
        let mut settings = Vec::new();
        for field in fields {
            if let Some(value) = obj.string(field, &mut self.diags) {
                self.check_deferred(&value);
                settings.push((field.to_string(), value));
            }
        }
        let force = if kind == AuthKind::Generic { obj.bool("forceIntrospection", &mut self.diags) } else { None };
        let what = obj.what.clone();
        let pos = obj.pos;
        obj.finish(&mut self.diags);
        let has = |key: &str| settings.iter().any(|(k, _)| k == key);
        let setting_pos = |key: &str| settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.pos).unwrap_or(pos);
        let mut require = |ok: bool, at: Pos, message: String, hint: &str| {
            if !ok {
                self.diags.push(Diagnostic::new(at, message).with_hint(hint.to_string()));
            }
        };
        match kind {
            AuthKind::Google => {
                require(
                    mcp_enabled || has("clientId"),
                    pos,
                    format!("{what} needs `clientId` when `mcpEnabled` is false"),
                    "add the OAuth client id whose ID tokens this service accepts",
                );
                require(
                    mcp_enabled || !has("audience"),
                    setting_pos("audience"),
                    format!("{what}: `audience` is only allowed with `mcpEnabled: true`"),
                    "remove `audience`, or set `mcpEnabled: true`",
                );
                require(
                    !mcp_enabled || has("audience") || has("clientId"),
                    pos,
                    format!("{what} needs `audience` or `clientId` when `mcpEnabled` is true"),
                    "add `audience:` with this server's URL",
                );
            }
            AuthKind::Generic => {
                require(
                    has("audience"),
                    pos,
                    format!("{what} is missing the required field `audience`"),
                    "add `audience: ...`",
                );
                require(
                    has("authorizationServer"),
                    pos,
                    format!("{what} is missing the required field `authorizationServer`"),
                    "add the issuer URL, e.g. `authorizationServer: https://auth.example.com`",
                );
                for key in ["introspectionEndpoint", "introspectionMethod", "introspectionParamName"] {
                    require(
                        mcp_enabled || !has(key),
                        setting_pos(key),
                        format!("{what}: `{key}` is only allowed with `mcpEnabled: true`"),
                        "remove it, or set `mcpEnabled: true`",
                    );
                }
                if let Some(method) = settings.iter().find(|(k, _)| k == "introspectionMethod").map(|(_, v)| v.clone())
                {
                    require(
                        matches!(method.value.as_str(), "POST" | "GET"),
                        method.pos,
                        format!("{what}: `introspectionMethod` must be POST or GET, found `{}`", method.value),
                        "use POST (the default) or GET",
                    );
                }
                require(
                    mcp_enabled || force != Some(true),
                    pos,
                    format!("{what}: `forceIntrospection` is only allowed with `mcpEnabled: true`"),
                    "remove it, or set `mcpEnabled: true`",
                );
            }
        }
        if !mcp_enabled && let Some(first) = scopes_required.first() {
            self.diags.push(
                Diagnostic::new(first.pos, format!("{what}: `scopesRequired` is only allowed with `mcpEnabled: true`"))
                    .with_hint("set `mcpEnabled: true`, or put the scopes on the tools that need them"),
            );
        }
        for (key, value) in settings.iter().filter(|(k, _)| k == "authorizationServer" || k == "introspectionEndpoint")
        {
            // Placeholders are resolved at start-up, where the same rule is applied again.
            if value.value.contains("${") {
                continue;
            }
            if let Some(problem) = auth_url_problem(&value.value) {
                self.diags.push(
                    Diagnostic::new(value.pos, format!("{what}: `{key}` {problem}"))
                        .with_hint("tokens and keys must travel over TLS: use https (plain http is accepted for localhost and 127.0.0.1 only)"),
                );
            }
        }
        if let Some(force) = force {
            settings.push(("forceIntrospection".into(), Spanned::new(force.to_string(), pos)));
        }
        self.config.auth_services.push(AuthService { name, kind, mcp_enabled, scopes_required, settings });
    }
}

/// Why an authorization server or introspection URL is refused: not an absolute http(s) URL, or
/// plain http to a host that is not a loopback address.
fn auth_url_problem(url: &str) -> Option<String> {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => return Some(format!("must be an absolute https URL, found `{url}`")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Some(format!("has no host: `{url}`"));
    }
    let host = host.to_ascii_lowercase();
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match scheme.as_str() {
        "https" => None,
        "http" if loopback => None,
        "http" => Some(format!("must use https, found `{url}`")),
        _ => Some(format!("must be an https URL, found `{url}`")),
    }
}
