//! The page of `--ui`: a browser page at `/ui/` that lists the toolsets and tools, shows each
//! tool's form, the SQL it runs, its output columns and the authorization it needs, and runs it
//! through `/mcp` at protocol 2026-07-28, as any client would.
//!
//! The page is plain HTML, CSS and JavaScript in this directory, compiled into the binary with
//! `include_str!`: no framework and no build step, because it is small enough to read whole,
//! there is nothing to rebuild or to audit beyond these files, and nothing is fetched from a
//! network at run time. Its routes sit behind the same Host and Origin guard as `/mcp`
//! ([`crate::http`]), so it is served on loopback only unless `--allowed-hosts` allows more.
//! Every answer carries `Content-Security-Policy: default-src 'self'` (no inline script or
//! style, nothing from another origin; `frame-ancestors 'none'` too, as a page that runs
//! statements must not be framed by another site) and `X-Content-Type-Options: nosniff`.
//!
//! What `tools/list` does not say, the page reads from `GET /ui/tools.json`, made from the
//! static tables: each tool's compiled statements (one per combination of template values) with
//! their described columns, its source, its auth services and scopes, and the parameters filled
//! from tokens. It is behind the same credentials as `/mcp`: with MCP authorization on, it needs
//! the bearer token a `tools/list` would.

use crate::db::def::{CompiledStatement, SourceDef};
use crate::def::{AuthServiceKindDef, ToolDef, Toolbox};
use crate::http::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::sync::Arc;

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const STYLE_CSS: &str = include_str!("style.css");
const ICON_SVG: &str = include_str!("icon.svg");

/// The policy of every answer under `/ui`: only this origin's files, no inline code, no framing.
const CSP: &str = "default-src 'self'; frame-ancestors 'none'";

/// The routes of the page, to be merged under the Host and Origin guard.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }))
        .route("/ui/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }))
        .route("/ui/style.css", get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }))
        .route("/ui/icon.svg", get(|| async { asset("image/svg+xml", ICON_SVG) }))
        .route("/ui/tools.json", get(tools_json))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    secure(&mut response);
    response
}

/// The headers every answer under `/ui` carries.
fn secure(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

/// `GET /ui/tools.json`: what the page shows beside `tools/list`. Credentials are checked as
/// for `/mcp`, so with MCP authorization on the statements are shown only to a caller who could
/// list the tools.
async fn tools_json(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let mut response = match state.auth.authenticate(request.headers()).await {
        Ok(_) => {
            let body = describe(state.mcp.toolbox, state.auth.mcp_enabled()).to_string();
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Err(rejection) => state.auth.reject(&rejection),
    };
    secure(&mut response);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The JSON of `/ui/tools.json` for `toolbox`.
pub fn describe(toolbox: &'static Toolbox, mcp_auth: bool) -> Value {
    let services: Vec<Value> = toolbox
        .auth_services
        .iter()
        .map(|s| {
            let kind = match s.kind {
                AuthServiceKindDef::Google { .. } => "google",
                AuthServiceKindDef::Generic(_) => "generic",
            };
            // An MCP service reads the bearer token; the others their own header.
            let header = (!s.mcp_enabled).then(|| format!("{}_token", s.name.to_ascii_lowercase()));
            json!({"name": s.name, "type": kind, "mcpEnabled": s.mcp_enabled, "header": header, "scopesRequired": s.scopes_required})
        })
        .collect();
    let toolsets: Vec<Value> = toolbox
        .toolsets
        .iter()
        .map(|t| {
            let tools: Vec<&str> =
                toolbox.tools.iter().enumerate().filter(|(i, _)| t.has_tool(*i)).map(|(_, tool)| tool.name).collect();
            let path = if t.name.is_empty() { "/mcp".to_string() } else { format!("/mcp/{}", t.name) };
            json!({"name": t.name, "path": path, "instructions": t.instructions, "tools": tools})
        })
        .collect();
    let tools: Vec<Value> = toolbox.tools.iter().map(|t| tool(toolbox, t)).collect();
    json!({
        "server": {"name": toolbox.server_name, "version": toolbox.server_version},
        "mcpAuth": mcp_auth,
        "authServices": services,
        "toolsets": toolsets,
        "tools": tools,
    })
}

fn engine(source: &SourceDef) -> (&'static str, &'static [CompiledStatement]) {
    (source.kind.type_name(), source.kind.statements())
}

fn tool(toolbox: &Toolbox, t: &ToolDef) -> Value {
    let source = &toolbox.sources[t.source];
    let (engine, compiled) = engine(source);
    let first_template = t.params.len().saturating_sub(t.template_params);
    let templates = &t.params[first_template..];
    let params: Vec<Value> = t
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let claims: Vec<Value> = p.auth_services.iter().map(|(s, c)| json!({"service": s, "claim": c})).collect();
            json!({
                "name": p.name,
                "type": p.kind.type_name(),
                "required": p.required,
                "template": i >= first_template,
                "fromToken": claims,
                "copiedFrom": p.value_from,
            })
        })
        .collect();
    // The source's statements of this tool are its variants, in the order the handler indexes.
    let statements: Vec<Value> = compiled
        .iter()
        .filter(|s| s.tool == t.name)
        .enumerate()
        .map(|(variant, s)| {
            let columns: Vec<Value> = s.columns.iter().map(|(name, ty)| json!({"name": name, "type": ty})).collect();
            json!({"template": template_values(templates, variant), "sql": s.sql, "columns": columns})
        })
        .collect();
    let headers: Vec<Value> =
        t.header_params.iter().map(|(param, header)| json!({"param": param, "header": header})).collect();
    let rate = t.rate_limit.map(|r| json!({"calls": r.calls, "periodMs": r.period.as_millis() as u64}));
    json!({
        "name": t.name,
        "source": source.name,
        "engine": engine,
        // A tool without a compiled statement runs the SQL its caller sends (`*-execute-sql`).
        "clientSql": statements.is_empty(),
        "authRequired": t.auth_required,
        "scopesRequired": t.scopes_required,
        "params": params,
        "headerParams": headers,
        "queryTimeoutMs": t.query_timeout_ms,
        "rateLimit": rate,
        "statements": statements,
    })
}

/// The template values that select `variant`: mixed radix over the template parameters'
/// allowed values, the last parameter fastest (as the generated handler computes it).
fn template_values(templates: &[crate::args::ParamDef], mut variant: usize) -> Value {
    let mut chosen = Vec::with_capacity(templates.len());
    for p in templates.iter().rev() {
        let radix = p.allowed.len().max(1);
        let value = p.allowed.get(variant % radix).map_or(Value::Null, |v| v.to_value());
        chosen.push((p.name.to_string(), value));
        variant /= radix;
    }
    Value::Object(chosen.into_iter().rev().collect())
}
