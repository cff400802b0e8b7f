//! `http` sources and tools: the source's table entry, each tool's module (its parameters, its
//! own headers, its request as the build checked it, and a handler that sends it), and the
//! schema and annotations `tools/list` gives it.

use super::tables::setting;
use super::{ToolPlan, index, lit, param_def, rt, use_rt};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde_json::{Value, json};
use toolbox_config::http::{BodyPart, HttpSource, HttpTool, PathPart};
use toolbox_config::model::*;

/// A plan for each `http` tool of a source: nothing to describe, and "read-only" when its method
/// is safe (GET, HEAD, OPTIONS), which the annotations say unless `tools.yaml` does.
pub(crate) fn plan_tools<'a>(tools: &[&'a Tool], source_index: usize, plans: &mut Vec<ToolPlan<'a>>) {
    for tool in tools {
        let Some(http) = &tool.http else { continue };
        plans.push(ToolPlan {
            tool,
            source_index,
            variants: Vec::new(),
            source_read_only: http.method.is_safe(),
            source: SourceType::Http,
        });
    }
}

/// The source's entry; `tool_headers` are its tools' `HEADERS`, in slot order.
pub(super) fn source_def(
    name: &str,
    source: &HttpSource,
    tool_headers: &[TokenStream],
    files: &[String],
) -> TokenStream {
    let rt = rt();
    let name = lit(name);
    let pairs = |map: &[(String, toolbox_config::diag::Spanned<String>)]| -> Vec<TokenStream> {
        map.iter()
            .map(|(k, v)| {
                let (k, v) = (lit(k), setting(v, files));
                quote!((#k, #v))
            })
            .collect()
    };
    let (headers, query) = (pairs(&source.headers), pairs(&source.query_params));
    let base_url = setting(&source.base_url, files);
    let timeout = match &source.timeout {
        Some(t) => {
            let t = setting(t, files);
            quote!(Some(#t))
        }
        None => quote!(None),
    };
    let (insecure, full_error) = (source.disable_ssl_verification, source.return_full_error);
    quote! {
        #rt::SourceDef {
            name: #name,
            kind: #rt::SourceKindDef::Http(#rt::http::HttpSourceDef {
                base_url: #base_url,
                headers: &[#(#headers),*],
                query_params: &[#(#query),*],
                timeout: #timeout,
                disable_ssl_verification: #insecure,
                return_full_error: #full_error,
                tool_headers: &[#(#tool_headers),*],
            }),
        }
    }
}

pub(super) fn tool_module(
    plan: &ToolPlan<'_>,
    module: &Ident,
    module_doc: &str,
    slot: usize,
    files: &[String],
) -> TokenStream {
    let (rt, use_rt) = (rt(), use_rt());
    let tool = plan.tool;
    let Some(http) = &tool.http else { return quote!() };
    let params: Vec<TokenStream> = tool.parameters.iter().map(param_def).collect();
    let count = index(params.len());
    let headers: Vec<TokenStream> = http
        .headers
        .iter()
        .map(|(k, v)| {
            let (k, v) = (lit(k), setting(v, files));
            quote!((#k, #v))
        })
        .collect();
    let header_count = index(headers.len());
    let request = request(http, &tool.name.value, slot);
    let source_const = super::source_const(plan);
    quote! {
        #[doc = #module_doc]
        pub mod #module {
            #use_rt

            #source_const

            /// Path, query, body and header parameters, in that order.
            pub static PARAMS: [#rt::ParamDef; #count] = [#(#params),*];

            /// Its own `headers`, resolved at start-up over its source's.
            pub static HEADERS: [(&str, #rt::Setting); #header_count] = [#(#headers),*];

            /// The request, as the build checked it.
            pub static REQUEST: #rt::http::Request = #request;

            pub fn handler<'a>(ctx: &'a #rt::CallContext<'a>, args: &'a #rt::Arguments) -> #rt::BoxFuture<'a, #rt::ToolOutput> {
                #rt::Box::pin(async move {
                    let source = match #rt::http::source(ctx.sources.get(SOURCE)) {
                        Ok(source) => source,
                        Err(e) => return #rt::ToolOutput::Error(#rt::Failure::Unavailable, e),
                    };
                    #rt::http::call(source, &REQUEST, &PARAMS, args, ctx.claims).await
                })
            }
        }
    }
}

fn request(http: &HttpTool, tool: &str, slot: usize) -> TokenStream {
    let rt = rt();
    let method = format_ident!("{}", http.method.variant());
    let path = http.path.iter().map(|p| match p {
        PathPart::Text(t) => {
            let t = lit(t);
            quote!(#rt::http::PathPart::Text(#t))
        }
        PathPart::Param(i) => {
            let i = index(*i);
            quote!(#rt::http::PathPart::Param(#i))
        }
    });
    let query = lit(http.query.as_deref().unwrap_or(""));
    let places = http.places.iter().map(|p| {
        let p = format_ident!("{}", p.variant());
        quote!(#rt::http::ParamIn::#p)
    });
    let body = match &http.body {
        Some(parts) => {
            let parts = parts.iter().map(|p| match p {
                BodyPart::Text(t) => {
                    let t = lit(t);
                    quote!(#rt::http::BodyPart::Text(#t))
                }
                BodyPart::Json(i) => {
                    let i = index(*i);
                    quote!(#rt::http::BodyPart::Json(#i))
                }
                BodyPart::InString(i) => {
                    let i = index(*i);
                    quote!(#rt::http::BodyPart::InString(#i))
                }
            });
            quote!(Some(&[#(#parts),*]))
        }
        None => quote!(None),
    };
    let (tool, slot, json_body) = (lit(tool), index(slot), http.output_schema.is_some());
    quote! {
        #rt::http::Request {
            tool: #tool,
            method: #rt::http::Method::#method,
            path: &[#(#path),*],
            query: #query,
            places: &[#(#places),*],
            body: #body,
            slot: #slot,
            json_body: #json_body,
        }
    }
}

/// The `outputSchema` of an `http` tool: the answer's status, content type and body (as the
/// tool's `outputSchema` declares it, else anything), and `truncated` when the size cap cut it.
pub(super) fn output_schema(http: &HttpTool) -> Value {
    let body = http.output_schema.clone().unwrap_or_else(|| json!({}));
    json!({
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "contentType": {"type": "string"},
            "body": body,
            "truncated": {"type": "boolean"}
        },
        "required": ["status", "contentType", "body"]
    })
}

/// An `http` tool reaches a service outside the toolbox: open-world unless `tools.yaml` says.
pub(super) fn annotations(tool: &Tool, mut annotations: Value) -> Value {
    if tool.annotations.open_world_hint.is_none() {
        annotations["openWorldHint"] = json!(true);
    }
    annotations
}
