//! The code of `redis` sources and tools: a source's settings (resolved at start-up), and a
//! tool's module with its command templates, which the runtime fills in with each call's
//! checked arguments (`toolbox_runtime::db::redis`).

use super::tables::setting;
use super::{ToolPlan, index, int, lit, param_def, rt, use_rt};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use toolbox_config::diag::Spanned;
use toolbox_config::redis::{Arg, Part, RedisSource};

/// The multiplexed connections of a source that does not say (`maxConnections`).
const DEFAULT_CONNECTIONS: u32 = 2;

pub(super) fn source_def(name: &str, source: &RedisSource, files: &[String]) -> TokenStream {
    let rt = rt();
    let name = lit(name);
    let optional = |v: &Option<Spanned<String>>| match v {
        Some(v) => {
            let v = setting(v, files);
            quote!(Some(#v))
        }
        None => quote!(None),
    };
    let address = setting(&source.address, files);
    let (username, password, database) =
        (optional(&source.username), optional(&source.password), optional(&source.database));
    let (connect_timeout, command_timeout) = (optional(&source.connect_timeout), optional(&source.command_timeout));
    let (tls, insecure, ca_file) = (source.tls.enabled, source.tls.insecure_skip_verify, optional(&source.tls.ca_file));
    let max_connections = int(source.max_connections.unwrap_or(DEFAULT_CONNECTIONS));
    quote! {
        #rt::SourceDef {
            name: #name,
            kind: #rt::SourceKindDef::Redis(#rt::redis::RedisSourceDef {
                address: #address,
                username: #username,
                password: #password,
                database: #database,
                tls: #tls,
                tls_insecure_skip_verify: #insecure,
                tls_ca_file: #ca_file,
                connect_timeout: #connect_timeout,
                command_timeout: #command_timeout,
                max_connections: #max_connections,
            }),
        }
    }
}

pub(super) fn tool_module(plan: &ToolPlan<'_>, module: &Ident, module_doc: &str) -> TokenStream {
    let rt = rt();
    let use_rt = use_rt();
    let tool = plan.tool;
    let params: Vec<TokenStream> = tool.parameters.iter().map(param_def).collect();
    let count = index(params.len());
    let commands: Vec<TokenStream> = tool
        .commands
        .iter()
        .map(|c| {
            let args = c.elements.iter().map(|(_, arg)| match arg {
                Arg::Text(t) => {
                    let t = lit(t);
                    quote!(#rt::redis::Arg::Text(#t))
                }
                Arg::Param(i) => {
                    let i = index(*i);
                    quote!(#rt::redis::Arg::Param(#i))
                }
                Arg::Concat(parts) => {
                    let parts = parts.iter().map(|p| match p {
                        Part::Text(t) => {
                            let t = lit(t);
                            quote!(#rt::redis::Part::Text(#t))
                        }
                        Part::Param(i) => {
                            let i = index(*i);
                            quote!(#rt::redis::Part::Param(#i))
                        }
                    });
                    quote!(#rt::redis::Arg::Concat(&[#(#parts),*]))
                }
            });
            quote!(&[#(#args),*])
        })
        .collect();
    let command_count = index(commands.len());
    let source_const = super::source_const(plan);
    quote! {
        #[doc = #module_doc]
        pub mod #module {
            #use_rt

            #source_const

            pub static PARAMS: [#rt::ParamDef; #count] = [#(#params),*];

            /// The commands, run in order; `Param(i)` stands for the value of `PARAMS[i]`.
            pub static COMMANDS: [&[#rt::redis::Arg]; #command_count] = [#(#commands),*];

            pub fn handler<'a>(ctx: &'a #rt::CallContext<'a>, args: &'a #rt::Arguments) -> #rt::BoxFuture<'a, #rt::ToolOutput> {
                #rt::Box::pin(async move {
                    let values = match #rt::redis::arguments(args, &PARAMS, ctx.claims) {
                        Ok(values) => values,
                        Err(e) => return #rt::ToolOutput::invalid_arguments(e),
                    };
                    let source = match #rt::redis::source(ctx.sources.get(SOURCE)) {
                        Ok(source) => source,
                        Err(e) => return #rt::ToolOutput::Error(#rt::Failure::Unavailable, e),
                    };
                    #rt::redis::run(source, &COMMANDS, &values).await
                })
            }
        }
    }
}
