//! `prompts/list` (a static string per toolset) and `prompts/get`: arguments checked against the
//! prompt's definition, messages rendered by filling in their argument parts.

use super::Mcp;
use super::reply::ResultWriter;
use super::request::Request;
use crate::args::{Arguments, NoClaims};
use crate::def::PromptPart;
use crate::error::RpcError;
use serde_json::{Map, Value};

pub(super) fn list(request: &Request<'_>, w: &mut ResultWriter) -> Result<(), RpcError> {
    request.params.check_cursor()?;
    w.list("prompts", request.toolset.prompts_json, request.toolset);
    Ok(())
}

pub(super) fn get(mcp: &Mcp, request: &Request<'_>, w: &mut ResultWriter) -> Result<(), RpcError> {
    let params = request.params;
    let name = params.name.as_deref().ok_or_else(|| RpcError::invalid_params("`params.name` is required"))?;
    let (_, prompt) = mcp
        .toolbox
        .prompt(name)
        .filter(|(i, _)| request.toolset.has_prompt(*i))
        .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt `{name}`")))?;
    let arguments = match params.arguments {
        None => Map::new(),
        Some(raw) => serde_json::from_str::<Map<String, Value>>(raw.get())
            .map_err(|_| RpcError::invalid_params("`params.arguments` must be an object of strings"))?,
    };
    let arguments = Arguments::new(arguments);
    arguments.check_names(prompt.arguments).map_err(|e| RpcError::invalid_params(e.to_string()))?;
    let mut values = Vec::with_capacity(prompt.arguments.len());
    for def in prompt.arguments {
        let value = arguments.value(def, &NoClaims).map_err(|e| RpcError::invalid_params(e.to_string()))?;
        values.push(value.map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        }));
    }
    if !prompt.description.is_empty() {
        w.field("description");
        w.string(prompt.description);
    }
    w.field("messages");
    w.raw("[");
    for (i, message) in prompt.messages.iter().enumerate() {
        if i > 0 {
            w.raw(",");
        }
        let mut text = String::new();
        for part in message.parts {
            match part {
                PromptPart::Text(t) => text.push_str(t),
                PromptPart::Argument(a) => text.push_str(values[*a].as_deref().unwrap_or("")),
            }
        }
        w.raw("{\"role\":");
        w.string(message.role);
        w.raw(",\"content\":{\"type\":\"text\",\"text\":");
        w.string(&text);
        w.raw("}}");
    }
    w.raw("]");
    Ok(())
}
