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
        let what = obj.what.clone();
        let pos = obj.pos;
        let kind = match kind {
            AuthKind::Google => {
                let client_id = self.setting(&mut obj, "clientId");
                let audience = self.setting(&mut obj, "audience");
                obj.finish(&mut self.diags);
                let mut require = |ok: bool, at: Pos, message: String, hint: &str| self.require(ok, at, message, hint);
                require(
                    mcp_enabled || client_id.is_some(),
                    pos,
                    format!("{what} needs `clientId` when `mcpEnabled` is false"),
                    "add the OAuth client id whose ID tokens this service accepts",
                );
                require(
                    mcp_enabled || audience.is_none(),
                    audience.as_ref().map_or(pos, |a| a.pos),
                    format!("{what}: `audience` is only allowed with `mcpEnabled: true`"),
                    "remove `audience`, or set `mcpEnabled: true`",
                );
                require(
                    !mcp_enabled || audience.is_some() || client_id.is_some(),
                    pos,
                    format!("{what} needs `audience` or `clientId` when `mcpEnabled` is true"),
                    "add `audience:` with this server's URL",
                );
                AuthServiceKind::Google { client_id, audience }
            }
            AuthKind::Generic => {
                let audience = self.setting(&mut obj, "audience");
                let authorization_server = self.setting(&mut obj, "authorizationServer");
                let endpoint = self.setting(&mut obj, "introspectionEndpoint");
                let method = obj.string("introspectionMethod", &mut self.diags);
                let param_name = self.setting(&mut obj, "introspectionParamName");
                let client_id = self.setting(&mut obj, "introspectionClientId");
                let client_secret = self.setting(&mut obj, "introspectionClientSecret");
                let force = obj.bool("forceIntrospection", &mut self.diags);
                obj.finish(&mut self.diags);
                let mut require = |ok: bool, at: Pos, message: String, hint: &str| self.require(ok, at, message, hint);
                require(
                    audience.is_some(),
                    pos,
                    format!("{what} is missing the required field `audience`"),
                    "add `audience: ...`",
                );
                require(
                    authorization_server.is_some(),
                    pos,
                    format!("{what} is missing the required field `authorizationServer`"),
                    "add the issuer URL, e.g. `authorizationServer: https://auth.example.com`",
                );
                for (key, at) in [
                    ("introspectionEndpoint", endpoint.as_ref().map(|v| v.pos)),
                    ("introspectionMethod", method.as_ref().map(|v| v.pos)),
                    ("introspectionParamName", param_name.as_ref().map(|v| v.pos)),
                ] {
                    require(
                        mcp_enabled || at.is_none(),
                        at.unwrap_or(pos),
                        format!("{what}: `{key}` is only allowed with `mcpEnabled: true`"),
                        "remove it, or set `mcpEnabled: true`",
                    );
                }
                let method = match method.as_ref().map(|m| m.value.as_str()) {
                    None | Some("POST") => IntrospectionMethod::Post,
                    Some("GET") => IntrospectionMethod::Get,
                    Some(other) => {
                        let at = method.as_ref().map_or(pos, |m| m.pos);
                        require(
                            false,
                            at,
                            format!("{what}: `introspectionMethod` must be POST or GET, found `{other}`"),
                            "use POST (the default) or GET",
                        );
                        IntrospectionMethod::Post
                    }
                };
                require(
                    mcp_enabled || force != Some(true),
                    pos,
                    format!("{what}: `forceIntrospection` is only allowed with `mcpEnabled: true`"),
                    "remove it, or set `mcpEnabled: true`",
                );
                for (key, value) in
                    [("authorizationServer", &authorization_server), ("introspectionEndpoint", &endpoint)]
                {
                    self.check_auth_url(&what, key, value.as_ref());
                }
                // A missing required field was reported above; the entry is kept so that later
                // checks still run, and the build fails on the diagnostic.
                let missing = || Spanned::new(String::new(), pos);
                AuthServiceKind::Generic(GenericAuth {
                    authorization_server: authorization_server.unwrap_or_else(missing),
                    audience: audience.unwrap_or_else(missing),
                    introspection: Introspection {
                        endpoint,
                        method,
                        param_name,
                        client_id,
                        client_secret,
                        force: force.unwrap_or(false),
                    },
                })
            }
        };
        if !mcp_enabled && let Some(first) = scopes_required.first() {
            self.diags.push(
                Diagnostic::new(first.pos, format!("{what}: `scopesRequired` is only allowed with `mcpEnabled: true`"))
                    .with_hint("set `mcpEnabled: true`, or put the scopes on the tools that need them"),
            );
        }
        self.config.auth_services.push(AuthService { name, kind, mcp_enabled, scopes_required });
    }

    /// A setting that may hold `${VAR}` placeholders, resolved at start-up.
    fn setting(&mut self, obj: &mut Obj<'_>, key: &'static str) -> Option<Spanned<String>> {
        let value = obj.string(key, &mut self.diags)?;
        self.check_deferred(&value);
        Some(value)
    }

    fn require(&mut self, ok: bool, at: Pos, message: String, hint: &str) {
        if !ok {
            self.diags.push(Diagnostic::new(at, message).with_hint(hint.to_string()));
        }
    }

    /// An authorization server or introspection URL must be https (http for loopback only).
    /// Placeholders are resolved at start-up, where the same rule is applied again.
    fn check_auth_url(&mut self, what: &str, key: &str, value: Option<&Spanned<String>>) {
        let Some(value) = value.filter(|v| !v.value.contains("${")) else { return };
        if let Some(problem) = auth_url_problem(&value.value) {
            self.diags.push(
                Diagnostic::new(value.pos, format!("{what}: `{key}` {problem}"))
                    .with_hint("tokens and keys must travel over TLS: use https (plain http is accepted for localhost and 127.0.0.1 only)"),
            );
        }
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
