//! `completion/complete`: prompt arguments completed from their allowed values.

use super::Mcp;
use super::reply::ResultWriter;
use super::request::Request;
use crate::error::RpcError;
use serde_json::Value;

pub(super) fn complete(mcp: &Mcp, request: &Request<'_>, w: &mut ResultWriter) -> Result<(), RpcError> {
    let (Some(reference), Some(argument)) = (&request.params.reference, &request.params.argument) else {
        return Err(RpcError::invalid_params("`ref` and `argument` are required"));
    };
    let mut values: Vec<String> = Vec::new();
    match reference.kind.as_ref() {
        "ref/prompt" => {
            // Completions are advisory: a prompt or argument this toolset does not have simply
            // has no suggestions (the conformance suite asks about a prompt of its own).
            let name = reference.name.as_deref().unwrap_or_default();
            let prompt = mcp.toolbox.prompt(name).filter(|(i, _)| request.toolset.has_prompt(*i)).map(|(_, p)| p);
            if let Some(def) = prompt.and_then(|p| p.arguments.iter().find(|a| a.name == argument.name)) {
                values = def
                    .allowed
                    .iter()
                    .filter_map(|a| match a.to_value() {
                        Value::String(s) if s.starts_with(argument.value.as_ref()) => Some(s),
                        _ => None,
                    })
                    .collect();
            }
        }
        "ref/resource" => {}
        other => return Err(RpcError::invalid_params(format!("unknown reference type `{other}`"))),
    }
    values.truncate(100);
    w.field("completion");
    w.raw(&serde_json::json!({"values": values, "total": values.len(), "hasMore": false}).to_string());
    Ok(())
}
