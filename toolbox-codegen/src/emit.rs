//! Rust code for a checked configuration: one module per tool (typed argument struct, parameter
//! table, statements, handler), then the static tables the runtime serves. Every path into the
//! runtime goes through `rt`, a private alias of `::toolbox_runtime::__private` declared in each
//! module, and the code reads as a person would write it: unsuffixed literals, doc comments,
//! named constants. The JSON that `tools/list` and `prompts/list` serve is either kept in the
//! code or put in files beside it ([`JsonPlacement`]).
//!
//! This file has the tool modules and the top level; `tables.rs` the sources, auth services and
//! prompts; `toolsets.rs` the toolsets and their JSON; `values.rs` values, types and encoders.

pub(crate) mod http;
mod redis;
mod replicas;
mod tables;
mod toolsets;
mod values;

use crate::schema::Columns;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{ToTokens, format_ident, quote};
use std::collections::HashSet;
use tables::{StatementColumns, auth_def, prompt_def, source_def};
use toolbox_config::model::*;
use toolbox_config::names::rust_ident;
use toolsets::toolset_defs;
use values::{column_defs, const_value, pg_params, rust_type};

/// A tool with everything the build learned about it.
pub struct ToolPlan<'a> {
    pub tool: &'a Tool,
    pub source_index: usize,
    /// One statement per combination of template values (one when there are none).
    pub variants: Vec<Variant>,
    pub source_read_only: bool,
    pub source: SourceType,
}

/// One statement of a tool, as described.
pub struct Variant {
    pub sql: String,
    pub columns: Columns,
    /// PostgreSQL: the type each parameter is sent as (see [`toolbox_config::pg::Bind`]).
    pub binds: Option<Vec<String>>,
    /// On a source with read replicas: whether it only reads (see [`crate::access`]).
    pub access: Option<crate::access::Access>,
}

/// Where the JSON that `tools/list` and `prompts/list` serve goes.
#[derive(Clone, Debug, Default)]
pub enum JsonPlacement {
    /// In the code, as string literals. The macro's choice: a proc-macro has no `OUT_DIR` to put
    /// files in.
    #[default]
    Inline,
    /// In files beside the code, named `{stem}.*.json`, pulled in with
    /// `include_str!(concat!(env!("OUT_DIR"), ...))`: the build script's choice, which keeps big
    /// strings out of the Rust file.
    Files { stem: String },
}

/// The generated code, and the files it includes from `OUT_DIR` ([`JsonPlacement::Files`]).
pub struct Emitted {
    pub code: TokenStream,
    /// `(file name, contents)`.
    pub files: Vec<(String, String)>,
}

pub struct Plan<'a> {
    pub config: &'a Config,
    pub json: JsonPlacement,
    pub display_path: String,
    /// The absolute directory of the configuration file, against which the server resolves a
    /// relative SQLite `database`.
    pub config_dir: String,
    pub tools: Vec<ToolPlan<'a>>,
    pub tracked_files: Vec<String>,
    /// Schema and seed scripts per source, as absolute paths.
    pub scripts: Vec<(Option<String>, Option<String>)>,
    /// How messages name each file of the configuration (`tools.yaml` and what it includes),
    /// by the index positions carry.
    pub files: Vec<String>,
    /// Per source, the absolute directory of the file that declares it, against which the
    /// server resolves a relative SQLite `database`.
    pub source_dirs: Vec<String>,
}

fn rt() -> TokenStream {
    quote!(rt)
}

/// The alias every module of the generated code declares for the runtime's paths.
fn use_rt() -> TokenStream {
    quote!(
        use ::toolbox_runtime::__private as rt;
    )
}

fn lit(s: &str) -> Literal {
    Literal::string(s)
}

/// An unsuffixed integer literal (`5`, not `5u64`): each stands where its type is known.
fn int(n: impl Into<u64>) -> Literal {
    Literal::u64_unsuffixed(n.into())
}

fn index(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

fn float(f: f64) -> TokenStream {
    if f.is_finite() { Literal::f64_unsuffixed(f).into_token_stream() } else { quote!(#f) }
}

/// A doc comment's text, with the space that follows `///`.
fn doc(text: &str) -> String {
    format!(" {text}")
}

/// A unique identifier per name, made from the name.
fn unique(names: impl Iterator<Item = String>, make: fn(&str) -> String) -> Vec<String> {
    let mut seen = HashSet::new();
    names
        .map(|n| {
            let base = make(&n);
            let mut candidate = base.clone();
            let mut i = 2;
            while !seen.insert(candidate.clone()) {
                candidate = format!("{base}_{i}");
                i += 1;
            }
            candidate
        })
        .collect()
}

pub fn emit(plan: &Plan<'_>) -> Emitted {
    let rt = rt();
    let use_rt = use_rt();
    let mut sorted: Vec<&ToolPlan<'_>> = plan.tools.iter().collect();
    sorted.sort_by(|a, b| a.tool.name.value.cmp(&b.tool.name.value));
    let modules = unique(sorted.iter().map(|t| t.tool.name.value.clone()), rust_ident);
    // A tool's slot: its place among its source's tools (an `http` source's table of headers).
    let slot = |i: usize| sorted[..i].iter().filter(|t| t.source_index == sorted[i].source_index).count();
    let tool_modules: Vec<TokenStream> = sorted
        .iter()
        .zip(&modules)
        .enumerate()
        .map(|(i, (t, m))| tool_module(t, &format_ident!("{}", m), slot(i), &plan.files))
        .collect();
    let tool_defs: Vec<TokenStream> = sorted
        .iter()
        .zip(&modules)
        .map(|(t, m)| {
            let m = format_ident!("{}", m);
            let name = lit(&t.tool.name.value);
            let templates = index(t.tool.template_parameters.len());
            let auth: Vec<Literal> = t.tool.auth_required.iter().map(|a| lit(&a.value)).collect();
            let scopes: Vec<Literal> = t.tool.scopes_required.iter().map(|a| lit(&a.value)).collect();
            let headers: Vec<TokenStream> = t
                .tool
                .parameters
                .iter()
                .filter_map(|p| {
                    let header = p.mcp_header.as_ref()?;
                    let (name, header) = (lit(&p.name.value), lit(&header.value.to_ascii_lowercase()));
                    Some(quote!((#name, #header)))
                })
                .collect();
            let timeout = match t.tool.query_timeout_ms {
                Some(ms) => {
                    let ms = int(ms);
                    quote!(Some(#ms))
                }
                None => quote!(None),
            };
            let rate = match t.tool.rate_limit {
                Some(r) => {
                    let (calls, ms) = (int(r.calls), int(r.period.as_millis() as u64));
                    quote!(Some(#rt::Rate { calls: #calls, period: #rt::Duration::from_millis(#ms) }))
                }
                None => quote!(None),
            };
            quote! {
                #rt::ToolDef {
                    name: #name,
                    source: tools::#m::SOURCE,
                    params: &tools::#m::PARAMS,
                    template_params: #templates,
                    auth_required: &[#(#auth),*],
                    scopes_required: &[#(#scopes),*],
                    header_params: &[#(#headers),*],
                    query_timeout_ms: #timeout,
                    rate_limit: #rate,
                    handler: tools::#m::handler,
                }
            }
        })
        .collect();
    let tool_count = index(tool_defs.len());

    let mut prompts: Vec<&Prompt> = plan.config.prompts.iter().collect();
    prompts.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    let prompt_defs: Vec<TokenStream> = prompts.iter().map(|p| prompt_def(p)).collect();
    let prompt_count = index(prompt_defs.len());

    let sources: Vec<TokenStream> = plan
        .config
        .sources
        .iter()
        .enumerate()
        .zip(&plan.scripts)
        .map(|((index, s), scripts)| {
            let statements: Vec<StatementColumns> = plan
                .tools
                .iter()
                .filter(|t| t.source_index == index && t.tool.ty.has_statement())
                .flat_map(|t| {
                    t.variants.iter().map(|v| {
                        let columns =
                            v.columns.iter().flatten().map(|c| (c.name.clone(), c.type_name.clone())).collect();
                        (t.tool.name.value.clone(), v.sql.clone(), columns, v.binds.clone())
                    })
                })
                .collect();
            let replicas = match &s.kind {
                SourceKind::Postgres(server) => {
                    let tools: Vec<&ToolPlan<'_>> = plan.tools.iter().filter(|t| t.source_index == index).collect();
                    replicas::replicas_def(server, &tools, &plan.files)
                }
                _ => quote!(None),
            };
            let http_headers: Vec<TokenStream> = sorted
                .iter()
                .zip(&modules)
                .filter(|(t, _)| t.source_index == index)
                .map(|(_, m)| {
                    let m = format_ident!("{}", m);
                    quote!(&tools::#m::HEADERS)
                })
                .collect();
            let dir = plan.source_dirs.get(index).map_or(plan.config_dir.as_str(), String::as_str);
            source_def(s, scripts, &statements, &http_headers, &plan.files, dir, replicas)
        })
        .collect();
    let source_count = index(sources.len());

    let auth_defs: Vec<TokenStream> = plan.config.auth_services.iter().map(|a| auth_def(a, &plan.files)).collect();
    let auth_count = index(auth_defs.len());

    let mut files = Vec::new();
    let toolsets = toolset_defs(plan, &sorted, &prompts, &mut files);
    let toolset_count = index(toolsets.len());
    let display = lit(&plan.display_path);
    let config_dir = lit(&plan.config_dir);
    let tracked: Vec<Literal> = plan.tracked_files.iter().map(|f| lit(f)).collect();

    let code = quote! {
        #use_rt

        // Each file this code was made from, so that rustc rebuilds when one changes.
        #(const _: &str = include_str!(#tracked);)*

        /// One module per tool: its typed arguments, parameter table, statements and handler.
        #[allow(clippy::all, dead_code, non_snake_case, unused_variables)]
        pub mod tools {
            #(#tool_modules)*
        }

        pub static SOURCES: [#rt::SourceDef; #source_count] = [#(#sources),*];
        /// Sorted by name.
        pub static TOOLS: [#rt::ToolDef; #tool_count] = [#(#tool_defs),*];
        /// Sorted by name.
        pub static PROMPTS: [#rt::PromptDef; #prompt_count] = [#(#prompt_defs),*];
        /// The default toolset (everything) first, then the named toolsets and groups.
        pub static TOOLSETS: [#rt::ToolsetDef; #toolset_count] = [#(#toolsets),*];
        pub static AUTH_SERVICES: [#rt::AuthServiceDef; #auth_count] = [#(#auth_defs),*];

        /// The whole toolbox, as the runtime serves it.
        pub static TOOLBOX: #rt::Toolbox = #rt::Toolbox {
            config_path: #display,
            config_dir: #config_dir,
            server_name: "toolbox",
            server_version: env!("CARGO_PKG_VERSION"),
            sources: &SOURCES,
            tools: &TOOLS,
            toolsets: &TOOLSETS,
            prompts: &PROMPTS,
            auth_services: &AUTH_SERVICES,
        };
    };
    Emitted { code, files }
}

fn param_kind(t: ParamType) -> TokenStream {
    let rt = rt();
    let v = format_ident!("{}", t.variant());
    quote!(#rt::ParamKind::#v)
}

fn param_def(p: &Param) -> TokenStream {
    let rt = rt();
    let name = lit(&p.name.value);
    let kind = param_kind(p.ty);
    let mut def = quote!(#rt::ParamDef::new(#name, #kind));
    if let Some(d) = &p.default {
        let v = const_value(&d.value);
        def = quote!(#def.default(#v));
    } else if !p.is_required() {
        def = quote!(#def.optional());
    }
    if !p.allowed_values.is_empty() {
        let values = p.allowed_values.iter().map(|v| const_value(&v.value));
        def = quote!(#def.allowed(&[#(#values),*]));
    }
    if !p.excluded_values.is_empty() {
        let values = p.excluded_values.iter().map(|v| const_value(&v.value));
        def = quote!(#def.excluded(&[#(#values),*]));
    }
    if let Some(min) = &p.min_value {
        let v = float(min.value);
        def = quote!(#def.min(#v));
    }
    if let Some(max) = &p.max_value {
        let v = float(max.value);
        def = quote!(#def.max(#v));
    }
    if let Some(item) = &p.items {
        let item = param_def(item);
        def = quote!(#def.items(&#item));
    }
    if let Some(t) = p.value_type {
        let t = param_kind(t);
        def = quote!(#def.value_type(#t));
    }
    if !p.auth_services.is_empty() {
        let pairs = p.auth_services.iter().map(|a| {
            let (s, f) = (lit(&a.service.value), lit(&a.field));
            quote!((#s, #f))
        });
        def = quote!(#def.auth_services(&[#(#pairs),*]));
    }
    if let Some(v) = &p.value_from_param {
        let v = lit(&v.value);
        def = quote!(#def.value_from(#v));
    }
    def
}

/// The expression that binds one argument, in the form the engine takes it. PostgreSQL values
/// are encoded for the type the build chose for their placeholder (`index`), which may refuse
/// them (an integer beyond `int4`).
fn bind_expr(engine: Engine, p: &Param, field: &Ident, optional: bool, index: usize) -> TokenStream {
    let rt = rt();
    if engine == Engine::Postgres {
        let name = lit(&p.name.value);
        let value = if optional { quote!(a.#field.as_ref()) } else { quote!(Some(&a.#field)) };
        let index = self::index(index);
        return quote!(.bind(#rt::postgres::value(&statement.pg_params[#index], #name, #value)?));
    }
    let convert = match p.ty {
        ParamType::String | ParamType::Integer | ParamType::Float | ParamType::Boolean => None,
        // SQLite and MySQL take arrays and maps as JSON text (`json_each(?)`, `JSON_TABLE`).
        ParamType::Array | ParamType::Map => Some(()),
    };
    match (convert, optional) {
        (None, _) => quote!(.bind(a.#field)),
        (Some(()), false) => quote!(.bind(a.#field.to_string())),
        (Some(()), true) => quote!(.bind(a.#field.map(|v| v.to_string()))),
    }
}

/// A tool module's `SOURCE`: the index of its source in `SOURCES`, every tool type's first item.
fn source_const(plan: &ToolPlan<'_>) -> TokenStream {
    let source = index(plan.source_index);
    let source_doc = doc(&format!("The index of its source, `{}`, in `SOURCES`.", plan.tool.source.value));
    quote! {
        #[doc = #source_doc]
        pub const SOURCE: usize = #source;
    }
}

/// A tool's module: `SOURCE`, `Args`, `PARAMS` and `handler`, as every tool type has them.
fn tool_module(plan: &ToolPlan<'_>, module: &Ident, slot: usize, files: &[String]) -> TokenStream {
    let tool = plan.tool;
    let module_doc = doc(&format!(
        "`{}` ({}): {}",
        tool.name.value,
        tool.ty.type_name(),
        tool.description.lines().next().unwrap_or("")
    ));
    match plan.source {
        SourceType::Sql(engine) => sql_tool_module(plan, engine, module, &module_doc),
        SourceType::Http => http::tool_module(plan, module, &module_doc, slot, files),
        SourceType::Redis => redis::tool_module(plan, module, &module_doc),
    }
}

/// The module of a SQL tool: its statements too.
fn sql_tool_module(plan: &ToolPlan<'_>, engine: Engine, module: &Ident, module_doc: &str) -> TokenStream {
    let rt = rt();
    let use_rt = use_rt();
    let tool = plan.tool;
    let all: Vec<&Param> = tool.parameters.iter().chain(&tool.template_parameters).collect();
    let engine_module = format_ident!("{}", engine.type_name());
    let max_rows = match tool.max_rows {
        Some(n) => {
            let n = int(n);
            quote!(Some(#n))
        }
        None => quote!(None),
    };
    let placement = replicas::placement(plan);
    let (params_tokens, count, fields, init, variant_expr, run) = match tool.ty.kind {
        ToolKind::ExecuteSql | ToolKind::ExplainQuery => {
            let read_only = tool.read_only;
            let sql_param = quote!(#rt::ParamDef::new("sql", #rt::ParamKind::String));
            let run = match placement {
                _ if tool.ty.kind == ToolKind::ExplainQuery => {
                    quote!(#rt::#engine_module::explain_query(pool, a.sql).await)
                }
                replicas::Placement::Replicas => {
                    quote!(#rt::postgres::execute_sql_read(ctx.sources.get(SOURCE), pool, a.sql, #max_rows).await)
                }
                _ => quote!(#rt::#engine_module::execute_sql(pool, a.sql, #max_rows, #read_only).await),
            };
            (
                vec![sql_param],
                index(1),
                vec![quote!(pub sql: String)],
                vec![quote!(sql: args.get(&PARAMS[0], claims)?)],
                quote!(0),
                run,
            )
        }
        // `tool_module` sends http and redis tools to their own modules.
        ToolKind::Http => unreachable!("an http tool is not a SQL tool"),
        ToolKind::Redis => unreachable!("a redis tool is not a SQL tool"),
        ToolKind::Sql | ToolKind::ListTables | ToolKind::SearchObjects => {
            let field_names = unique(all.iter().map(|p| p.name.value.clone()), rust_ident);
            let mut fields = Vec::new();
            let mut init = Vec::new();
            let mut bind = Vec::new();
            for (i, (p, f)) in all.iter().zip(&field_names).enumerate() {
                let f = format_ident!("{}", f);
                let is_template = i >= tool.parameters.len();
                let doc = doc(&format!("`{}`: {}", p.name.value, p.description));
                let at = index(i);
                if is_template {
                    let choice = " The index of the chosen value in `allowedValues`.";
                    fields.push(quote!(#[doc = #doc] #[doc = ""] #[doc = #choice] pub #f: usize));
                    init.push(quote!(#f: args.choice(&PARAMS[#at], claims)?));
                    continue;
                }
                let ty = rust_type(p.ty);
                if p.is_required() {
                    fields.push(quote!(#[doc = #doc] pub #f: #ty));
                    init.push(quote!(#f: args.get(&PARAMS[#at], claims)?));
                } else {
                    fields.push(quote!(#[doc = #doc] pub #f: Option<#ty>));
                    init.push(quote!(#f: args.get_opt(&PARAMS[#at], claims)?));
                }
                bind.push(bind_expr(engine, p, &f, !p.is_required(), i));
            }
            // Mixed-radix index of the chosen template values, last parameter fastest.
            let mut variant: Option<TokenStream> = None;
            for (i, f) in field_names.iter().enumerate().skip(tool.parameters.len()) {
                let f = format_ident!("{}", f);
                let radix = index(all[i].allowed_values.len());
                variant = Some(match variant {
                    None => quote!(a.#f),
                    Some(v) => quote!((#v) * #radix + a.#f),
                });
            }
            let variant = variant.unwrap_or_else(|| quote!(0));
            // A search's `limit` argument is its row cap: the statement reads one row more, so
            // the answer says when rows were left out.
            let max_rows = match all.iter().position(|p| p.name.value == toolbox_config::search::LIMIT_PARAM) {
                Some(i) if tool.ty.kind == ToolKind::SearchObjects => {
                    let f = format_ident!("{}", field_names[i]);
                    quote!(a.#f.map(|limit| limit as u64))
                }
                _ => max_rows,
            };
            let params: Vec<TokenStream> = all.iter().map(|p| param_def(p)).collect();
            let count = index(params.len());
            let run_postgres = replicas::run_postgres(&placement, &max_rows);
            (
                params,
                count,
                fields,
                init,
                variant,
                if engine == Engine::Postgres {
                    quote!({
                        let statement = &STATEMENTS[variant];
                        let query = (|| -> Result<_, #rt::ArgError> {
                            Ok(#rt::postgres::query(statement.sql) #(#bind)*)
                        })();
                        match query {
                            Ok(query) => #run_postgres,
                            Err(e) => #rt::ToolOutput::invalid_arguments(e),
                        }
                    })
                } else {
                    quote!({
                        let statement = &STATEMENTS[variant];
                        #rt::#engine_module::run(pool, #rt::#engine_module::query(statement.sql) #(#bind)*, statement.columns, #max_rows).await
                    })
                },
            )
        }
    };
    let statements: Vec<TokenStream> = plan
        .variants
        .iter()
        .map(|v| {
            let sql = lit(&v.sql);
            let columns = match &v.columns {
                Some(c) => {
                    let c = column_defs(engine, c);
                    quote!(Some(#c))
                }
                None => quote!(None),
            };
            let params = pg_params(v.binds.as_deref());
            quote!(#rt::Statement { sql: #sql, columns: #columns, pg_params: #params })
        })
        .collect();
    let variant_count = index(statements.len());
    let source_const = source_const(plan);
    let args_doc = doc(&format!("The checked arguments of `{}`.", tool.name.value));
    // SQLite's pool opens on first use (and creates the database); a server's is made at start-up.
    let pool = match engine {
        Engine::Sqlite => quote!(#rt::#engine_module::pool(ctx.sources.get(SOURCE)).await),
        Engine::Postgres | Engine::Mysql => quote!(#rt::#engine_module::pool(ctx.sources.get(SOURCE))),
    };
    let on_replica = replicas::variant_table(&placement);
    let statements_item = if tool.ty.has_statement() {
        quote! {
            /// The statement (one per combination of template values), its described columns
            /// and (PostgreSQL) the types its parameters are sent as.
            pub static STATEMENTS: [#rt::Statement; #variant_count] = [#(#statements),*];

            #on_replica
        }
    } else {
        quote!()
    };
    quote! {
        #[doc = #module_doc]
        pub mod #module {
            #use_rt

            #source_const

            #[doc = #args_doc]
            #[derive(Debug)]
            pub struct Args {
                #(#fields,)*
            }

            impl Args {
                /// Checks and converts the arguments of a call.
                pub fn from_arguments(args: &#rt::Arguments, claims: &dyn #rt::ClaimSource) -> Result<Self, #rt::ArgError> {
                    Ok(Self { #(#init,)* })
                }
            }

            pub static PARAMS: [#rt::ParamDef; #count] = [#(#params_tokens),*];

            #statements_item

            pub fn handler<'a>(ctx: &'a #rt::CallContext<'a>, args: &'a #rt::Arguments) -> #rt::BoxFuture<'a, #rt::ToolOutput> {
                #rt::Box::pin(async move {
                    let a = match Args::from_arguments(args, ctx.claims) {
                        Ok(a) => a,
                        Err(e) => return #rt::ToolOutput::invalid_arguments(e),
                    };
                    let variant = #variant_expr;
                    let pool = match #pool {
                        Ok(pool) => pool,
                        Err(e) => return #rt::ToolOutput::Error(#rt::Failure::Unavailable, e),
                    };
                    #run
                })
            }
        }
    }
}
