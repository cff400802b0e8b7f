//! The static tables of sources, auth services and prompts.

use super::values::pg_params;
use super::{index, int, lit, param_def, rt};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use toolbox_config::model::*;

/// A setting as written, with the file (by its name in `files`), line and column it was read
/// from, which start-up messages name.
pub(super) fn setting(value: &toolbox_config::diag::Spanned<String>, files: &[String]) -> TokenStream {
    let rt = rt();
    let raw = lit(&value.value);
    let file = lit(files.get(value.pos.file as usize).map_or("tools.yaml", String::as_str));
    let (line, col) = (int(value.pos.line), int(value.pos.col));
    quote!(#rt::Setting { raw: #raw, file: #file, line: #line, col: #col })
}

/// A compiled statement, its described columns (name, type) and PostgreSQL parameter types, for
/// the start-up drift check.
pub(super) type StatementColumns = (String, String, Vec<(String, String)>, Option<Vec<String>>);

pub(super) fn source_def(
    source: &Source,
    scripts: &(Option<String>, Option<String>),
    statements: &[StatementColumns],
    http_headers: &[TokenStream],
    files: &[String],
    dir: &str,
    replicas: TokenStream,
) -> TokenStream {
    let rt = rt();
    let name = lit(&source.name.value);
    let script = |p: &Option<String>| match p {
        Some(path) => {
            let path = lit(path);
            quote!(Some(include_str!(#path)))
        }
        None => quote!(None),
    };
    let (schema, seed) = (script(&scripts.0), script(&scripts.1));
    let statements = statements.iter().map(|(tool, sql, columns, binds)| {
        let (tool, sql) = (lit(tool), lit(sql));
        let columns = columns.iter().map(|(n, t)| {
            let (n, t) = (lit(n), lit(t));
            quote!((#n, #t))
        });
        let params = pg_params(binds.as_deref());
        quote!(#rt::CompiledStatement { tool: #tool, sql: #sql, columns: &[#(#columns),*], pg_params: #params })
    });
    match &source.kind {
        SourceKind::Redis(redis) => super::redis::source_def(&source.name.value, redis, files),
        SourceKind::Sqlite(s) => {
            let database = setting(&s.database, files);
            let dir = lit(dir);
            let read_only = s.read_only;
            quote! {
                #rt::SourceDef {
                    name: #name,
                    kind: #rt::SourceKindDef::Sqlite(#rt::SqliteSourceDef {
                        database: #database,
                        dir: #dir,
                        schema_sql: #schema,
                        seed_sql: #seed,
                        read_only: #read_only,
                        statements: &[#(#statements),*],
                    }),
                }
            }
        }
        SourceKind::Http(http) => super::http::source_def(&source.name.value, http, http_headers, files),
        SourceKind::Postgres(server) | SourceKind::Mysql(server) => {
            let optional = |v: &Option<toolbox_config::diag::Spanned<String>>| match v {
                Some(v) => {
                    let v = setting(v, files);
                    quote!(Some(#v))
                }
                None => quote!(None),
            };
            let (host, port) = (setting(&server.host, files), setting(&server.port, files));
            let (user, password, database) =
                (optional(&server.user), optional(&server.password), optional(&server.database));
            let (connect_timeout, query_timeout) = (optional(&server.connect_timeout), optional(&server.query_timeout));
            let params = server.query_params.iter().map(|(k, v)| {
                let (k, v) = (lit(k), setting(v, files));
                quote!((#k, #v))
            });
            let max_connections = int(server.max_connections.unwrap_or(4));
            let read_only = server.read_only;
            let variant =
                format_ident!("{}", if matches!(source.kind, SourceKind::Postgres(_)) { "Postgres" } else { "Mysql" });
            quote! {
                #rt::SourceDef {
                    name: #name,
                    kind: #rt::SourceKindDef::#variant(#rt::ServerSourceDef {
                        host: #host,
                        port: #port,
                        user: #user,
                        password: #password,
                        database: #database,
                        query_params: &[#(#params),*],
                        connect_timeout: #connect_timeout,
                        query_timeout: #query_timeout,
                        max_connections: #max_connections,
                        read_only: #read_only,
                        statements: &[#(#statements),*],
                        replicas: #replicas,
                    }),
                }
            }
        }
    }
}

pub(super) fn auth_def(a: &AuthService, files: &[String]) -> TokenStream {
    let rt = rt();
    let name = lit(&a.name.value);
    let mcp = a.mcp_enabled;
    let scopes: Vec<Literal> = a.scopes_required.iter().map(|s| lit(&s.value)).collect();
    let optional = |value: &Option<toolbox_config::diag::Spanned<String>>| match value {
        Some(v) => {
            let v = setting(v, files);
            quote!(Some(#v))
        }
        None => quote!(None),
    };
    let kind = match &a.kind {
        AuthServiceKind::Google { client_id, audience } => {
            let (client_id, audience) = (optional(client_id), optional(audience));
            quote!(#rt::AuthServiceKindDef::Google { client_id: #client_id, audience: #audience })
        }
        AuthServiceKind::Generic(g) => {
            let server = setting(&g.authorization_server, files);
            let audience = setting(&g.audience, files);
            let i = &g.introspection;
            let endpoint = optional(&i.endpoint);
            let method = match i.method {
                IntrospectionMethod::Post => quote!(#rt::IntrospectionMethod::Post),
                IntrospectionMethod::Get => quote!(#rt::IntrospectionMethod::Get),
            };
            let param_name = optional(&i.param_name);
            let client_id = optional(&i.client_id);
            let client_secret = optional(&i.client_secret);
            let force = i.force;
            quote! {
                #rt::AuthServiceKindDef::Generic(#rt::GenericAuthDef {
                    authorization_server: #server,
                    audience: #audience,
                    introspection: #rt::IntrospectionDef {
                        endpoint: #endpoint,
                        method: #method,
                        param_name: #param_name,
                        client_id: #client_id,
                        client_secret: #client_secret,
                        force: #force,
                    },
                })
            }
        }
    };
    quote! {
        #rt::AuthServiceDef { name: #name, kind: #kind, mcp_enabled: #mcp, scopes_required: &[#(#scopes),*] }
    }
}

pub(super) fn prompt_def(p: &Prompt) -> TokenStream {
    let rt = rt();
    let name = lit(&p.name.value);
    let description = lit(&p.description);
    let arguments: Vec<TokenStream> = p.arguments.iter().map(param_def).collect();
    let messages: Vec<TokenStream> = p
        .messages
        .iter()
        .map(|m| {
            let role = lit(&m.role);
            let text = &m.content.value;
            let refs = toolbox_config::template::references(text).unwrap_or_default();
            let mut parts = Vec::new();
            let mut copied = 0;
            for r in &refs {
                if r.start > copied {
                    let t = lit(&text[copied..r.start]);
                    parts.push(quote!(#rt::PromptPart::Text(#t)));
                }
                let index = index(p.arguments.iter().position(|a| a.name.value == r.name).unwrap_or(0));
                parts.push(quote!(#rt::PromptPart::Argument(#index)));
                copied = r.end;
            }
            if copied < text.len() {
                let t = lit(&text[copied..]);
                parts.push(quote!(#rt::PromptPart::Text(#t)));
            }
            quote!(#rt::PromptMessageDef { role: #role, parts: &[#(#parts),*] })
        })
        .collect();
    quote! {
        #rt::PromptDef { name: #name, description: #description, arguments: &[#(#arguments),*], messages: &[#(#messages),*] }
    }
}
