//! The toolsets, with the JSON that `tools/list` and `prompts/list` serve for each, made at
//! build time.

use super::{JsonPlacement, Plan, ToolPlan, index, int, lit, rt};
use crate::schema;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use serde_json::Value;
use toolbox_config::model::*;

/// The protocol generations of `tools/list`, in the order of `ToolsetDef::tools_json`, as they
/// name the files of [`JsonPlacement::Files`].
const TOOL_SHAPES: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2026-07-28"];

/// A JSON string of a toolset: a literal, or a file beside the code and its `include_str!`.
fn json_str(placement: &JsonPlacement, name: String, json: String, files: &mut Vec<(String, String)>) -> TokenStream {
    match placement {
        JsonPlacement::Inline => lit(&json).into_token_stream(),
        JsonPlacement::Files { stem } => {
            let file = format!("{stem}.{name}.json");
            let path = lit(&format!("/{file}"));
            files.push((file, json));
            quote!(include_str!(concat!(env!("OUT_DIR"), #path)))
        }
    }
}

pub(super) fn toolset_defs(
    plan: &Plan<'_>,
    sorted: &[&ToolPlan<'_>],
    prompts: &[&Prompt],
    files: &mut Vec<(String, String)>,
) -> Vec<TokenStream> {
    let rt = rt();
    let entries: Vec<[Value; 4]> = sorted
        .iter()
        .map(|t| {
            let params: Vec<&Param> = t.tool.parameters.iter().chain(&t.tool.template_parameters).collect();
            let output = match (t.source, t.tool.ty.kind) {
                // Every variant of a templated statement has the same shape only by luck; the
                // schema is given only when they agree.
                (SourceType::Sql(engine), ToolKind::Sql | ToolKind::ListTables | ToolKind::SearchObjects) => {
                    let first = &t.variants[0].columns;
                    t.variants
                        .iter()
                        .all(|v| &v.columns == first)
                        .then(|| schema::output_schema(engine, first, t.tool.max_rows.is_some()))
                }
                (SourceType::Sql(_), _) => None,
                (SourceType::Http, _) => t.tool.http.as_deref().map(super::http::output_schema),
                // Replies have the shape of their commands, which is not declared.
                (SourceType::Redis, _) => None,
            };
            let mut annotations = schema::annotations(t.tool, t.source_read_only);
            if t.source == SourceType::Http {
                annotations = super::http::annotations(t.tool, annotations);
            }
            let mut entry = schema::tool_entries(t.tool, &params, output, annotations);
            if t.tool.ty.takes_client_sql() {
                let description = match t.tool.ty.kind {
                    ToolKind::ExplainQuery => "One SQL statement to plan (it is not run).",
                    _ => "The SQL to execute.",
                };
                for e in &mut entry {
                    e["inputSchema"] = serde_json::json!({
                        "type": "object",
                        "properties": {"sql": {"type": "string", "description": description}},
                        "required": ["sql"],
                        "additionalProperties": false
                    });
                }
            }
            entry
        })
        .collect();
    let prompt_entries: Vec<Value> = prompts.iter().map(|p| schema::prompt_entry(p)).collect();
    let mut make = |toolset: usize,
                    name: &str,
                    tools: Option<Vec<usize>>,
                    prompt_list: Option<Vec<usize>>,
                    instructions: Option<&str>,
                    ttl: u64,
                    private: bool| {
        let pick = |shape: usize| -> String {
            let list: Vec<&Value> = match &tools {
                None => entries.iter().map(|e| &e[shape]).collect(),
                Some(ix) => ix.iter().map(|i| &entries[*i][shape]).collect(),
            };
            serde_json::to_string(&list).unwrap_or_default()
        };
        let shapes: Vec<TokenStream> = TOOL_SHAPES
            .iter()
            .enumerate()
            .map(|(shape, generation)| {
                json_str(&plan.json, format!("toolset-{toolset}.tools-{generation}"), pick(shape), files)
            })
            .collect();
        let prompts_json = match &prompt_list {
            None => serde_json::to_string(&prompt_entries),
            Some(ix) => serde_json::to_string(&ix.iter().map(|i| &prompt_entries[*i]).collect::<Vec<_>>()),
        }
        .unwrap_or_default();
        let prompts_json = json_str(&plan.json, format!("toolset-{toolset}.prompts"), prompts_json, files);
        let index_list = |l: &Option<Vec<usize>>| match l {
            None => quote!(None),
            Some(ix) => {
                let ix = ix.iter().map(|i| index(*i));
                quote!(Some(&[#(#ix),*]))
            }
        };
        let (tools_ix, prompts_ix) = (index_list(&tools), index_list(&prompt_list));
        let ttl_ms = int(ttl);
        let name = lit(name);
        let instructions = match instructions {
            Some(i) => {
                let i = lit(i);
                quote!(Some(#i))
            }
            None => quote!(None),
        };
        quote! {
            #rt::ToolsetDef {
                name: #name,
                tools: #tools_ix,
                prompts: #prompts_ix,
                tools_json: [#(#shapes),*],
                prompts_json: #prompts_json,
                instructions: #instructions,
                ttl_ms: #ttl_ms,
                cache_private: #private,
            }
        }
    };
    const DEFAULT_TTL_MS: u64 = 300_000;
    let mut out = vec![make(0, "", None, None, plan.config.instructions.as_deref(), DEFAULT_TTL_MS, false)];
    for (i, ts) in plan.config.toolsets.iter().enumerate() {
        let mut tools: Vec<usize> =
            ts.tools.iter().filter_map(|n| sorted.iter().position(|t| t.tool.name.value == n.value)).collect();
        tools.sort_unstable();
        tools.dedup();
        let mut prompt_ix: Vec<usize> =
            ts.prompts.iter().filter_map(|n| prompts.iter().position(|p| p.name.value == n.value)).collect();
        prompt_ix.sort_unstable();
        prompt_ix.dedup();
        let instructions = ts.description.as_deref().or(plan.config.instructions.as_deref());
        out.push(make(
            i + 1,
            &ts.name.value,
            Some(tools),
            Some(prompt_ix),
            instructions,
            ts.ttl_ms.unwrap_or(DEFAULT_TTL_MS),
            ts.cache_private.unwrap_or(false),
        ));
    }
    out
}
