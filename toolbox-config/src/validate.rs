//! Cross-checks between definitions: names, duplicates and references.

use crate::diag::{Diagnostic, Pos, Spanned, suggest};
use crate::model::*;
use crate::names::{check_tool_name, is_sql_identifier};
use crate::template;
use serde_json::Value;
use std::collections::HashMap;

/// The most statement variants that template parameters may produce; each is checked at build.
pub const MAX_TEMPLATE_VARIANTS: usize = 64;

/// Cross-checks `config`; `files` names the files positions refer to (see `crate::files`).
pub fn validate(config: &Config, files: &[&str], diags: &mut Vec<Diagnostic>) {
    duplicates("source", "", config.sources.iter().map(|s| &s.name), files, diags);
    duplicates("auth service", "", config.auth_services.iter().map(|s| &s.name), files, diags);
    duplicates("tool", "", config.tools.iter().map(|t| &t.name), files, diags);
    duplicates("toolset or group", "", config.toolsets.iter().map(|t| &t.name), files, diags);
    duplicates("prompt", "", config.prompts.iter().map(|p| &p.name), files, diags);

    let mcp_services: Vec<&AuthService> = config.auth_services.iter().filter(|a| a.mcp_enabled).collect();
    if let [first, rest @ ..] = mcp_services.as_slice() {
        for other in rest {
            diags.push(
                Diagnostic::new(
                    other.name.pos,
                    format!("auth service `{}` is a second service with `mcpEnabled: true`", other.name.value),
                )
                .with_hint(format!("only one MCP authorization server is possible; `{}` already is", first.name.value)),
            );
        }
    }
    let auth_names: Vec<&str> = config.auth_services.iter().map(|a| a.name.value.as_str()).collect();

    for tool in &config.tools {
        name_rules("tool", &tool.name, diags);
        let what = format!("tool `{}`", tool.name.value);
        match config.source(&tool.source.value) {
            // A missing `source` field is already reported.
            None if tool.source.value.is_empty() => {}
            None => diags.push(unknown_reference(
                "source",
                &tool.source,
                config.sources.iter().map(|s| s.name.value.as_str()),
            )),
            Some(source) if source.kind.type_name() != tool.ty.source_type() => diags.push(
                Diagnostic::new(
                    tool.source.pos,
                    format!(
                        "{what} of type `{}` cannot use source `{}` of type `{}`",
                        tool.ty.type_name(),
                        source.name.value,
                        source.kind.type_name()
                    ),
                )
                .with_hint(format!("point it at a `{}` source", tool.ty.source_type())),
            ),
            Some(_) => {}
        }
        for service in &tool.auth_required {
            if !auth_names.contains(&service.value.as_str()) {
                diags.push(unknown_reference("auth service", service, auth_names.iter().copied()));
            }
        }
        if let Some(scope) = tool.scopes_required.first() {
            if mcp_services.is_empty() {
                diags.push(
                    Diagnostic::new(scope.pos, format!("{what} has `scopesRequired`, but no auth service has `mcpEnabled: true`"))
                        .with_hint("tool scopes are checked against MCP access tokens: declare an auth service with `mcpEnabled: true`"),
                );
            }
        }
        params(&what, &tool.parameters, &tool.template_parameters, &auth_names, diags);
        if let Some(statement) = &tool.statement {
            statement_templates(&what, statement, &tool.template_parameters, diags);
        }
    }

    let tool_names: Vec<&str> = config.tools.iter().map(|t| t.name.value.as_str()).collect();
    let prompt_names: Vec<&str> = config.prompts.iter().map(|p| p.name.value.as_str()).collect();
    for toolset in &config.toolsets {
        name_rules("toolset", &toolset.name, diags);
        for tool in &toolset.tools {
            if !tool_names.contains(&tool.value.as_str()) {
                diags.push(unknown_reference("tool", tool, tool_names.iter().copied()));
            }
        }
        for prompt in &toolset.prompts {
            if !prompt_names.contains(&prompt.value.as_str()) {
                diags.push(unknown_reference("prompt", prompt, prompt_names.iter().copied()));
            }
        }
    }

    for prompt in &config.prompts {
        name_rules("prompt", &prompt.name, diags);
        let what = format!("prompt `{}`", prompt.name.value);
        params(&what, &prompt.arguments, &[], &auth_names, diags);
        for argument in &prompt.arguments {
            if argument.ty != ParamType::String {
                diags.push(
                    Diagnostic::new(
                        argument.name.pos,
                        format!(
                            "argument `{}` of {what} must be a string (MCP prompt arguments are strings)",
                            argument.name.value
                        ),
                    )
                    .with_hint("remove `type`, or set it to `string`"),
                );
            }
        }
        for message in &prompt.messages {
            match template::references(&message.content.value) {
                Ok(refs) => {
                    for r in refs {
                        if !prompt.arguments.iter().any(|a| a.name.value == r.name) {
                            diags.push(
                                Diagnostic::new(
                                    message.content.pos,
                                    format!(
                                        "{what} refers to `{{{{.{}}}}}`, which is not one of its arguments",
                                        r.name
                                    ),
                                )
                                .with_hint(format!("declare an argument named `{}`, or fix the reference", r.name)),
                            );
                        }
                    }
                }
                Err(e) => diags.push(Diagnostic::new(message.content.pos, format!("in {what}: {e}"))),
            }
        }
    }
}

fn name_rules(kind: &str, name: &Spanned<String>, diags: &mut Vec<Diagnostic>) {
    if let Err(e) = check_tool_name(&name.value) {
        diags.push(
            Diagnostic::new(name.pos, format!("invalid {kind} name: {e}"))
                .with_hint("MCP names are 1 to 64 characters of A-Z, a-z, 0-9, `_`, `.`, `-` and `/`"),
        );
    }
}

/// `owner` follows the name in messages: `parameter `x` of tool `t``.
fn duplicates<'a>(
    kind: &str,
    owner: &str,
    names: impl Iterator<Item = &'a Spanned<String>>,
    files: &[&str],
    diags: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<&str, Pos> = HashMap::new();
    for name in names {
        if let Some(first) = seen.get(name.value.as_str()) {
            let at = match files.get(first.file as usize) {
                Some(file) if first.file != name.pos.file => format!("`{file}`, line {}", first.line),
                _ => format!("line {}", first.line),
            };
            diags.push(
                Diagnostic::new(name.pos, format!("{kind} `{}`{owner} is declared more than once", name.value))
                    .with_hint(format!("the first declaration is at {at}; rename or remove one")),
            );
        } else {
            seen.insert(&name.value, name.pos);
        }
    }
}

fn unknown_reference<'a>(
    kind: &str,
    name: &Spanned<String>,
    known: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let d = Diagnostic::new(name.pos, format!("unknown {kind} `{}`", name.value));
    match suggest(&name.value, known.clone()) {
        Some(s) => d.with_hint(format!("did you mean `{s}`?")),
        None => {
            let list: Vec<&str> = known.collect();
            if list.is_empty() {
                d.with_hint(format!("no {kind} is declared in this file"))
            } else {
                d.with_hint(format!("declared: {}", list.join(", ")))
            }
        }
    }
}

fn params(what: &str, parameters: &[Param], templates: &[Param], auth_names: &[&str], diags: &mut Vec<Diagnostic>) {
    let all: Vec<&Param> = parameters.iter().chain(templates).collect();
    duplicates("parameter", &format!(" of {what}"), all.iter().map(|p| &p.name), &[], diags);
    for p in &all {
        for auth in &p.auth_services {
            if !auth_names.contains(&auth.service.value.as_str()) {
                diags.push(unknown_reference("auth service", &auth.service, auth_names.iter().copied()));
            }
        }
        if let Some(source) = &p.value_from_param {
            if source.value == p.name.value {
                diags.push(Diagnostic::new(
                    source.pos,
                    format!("parameter `{}` of {what} copies its value from itself", p.name.value),
                ));
            } else if !all.iter().any(|q| q.name.value == source.value) {
                diags.push(unknown_reference("parameter", source, all.iter().map(|q| q.name.value.as_str())));
            }
        }
    }
    let mut headers: HashMap<String, Pos> = HashMap::new();
    for header in all.iter().filter_map(|p| p.mcp_header.as_ref()) {
        if let Some(first) = headers.insert(header.value.to_ascii_lowercase(), header.pos) {
            diags.push(
                Diagnostic::new(header.pos, format!("{what}: two parameters use the header name `{}`", header.value))
                    .with_hint(format!("header names are case-insensitive; the other one is at line {}", first.line)),
            );
        }
    }
    for t in templates {
        let ok_values = !t.allowed_values.is_empty()
            && t.allowed_values.iter().all(|v| matches!(&v.value, Value::String(s) if is_sql_identifier(s)));
        if t.ty != ParamType::String || !ok_values {
            diags.push(
                Diagnostic::new(t.name.pos, format!("template parameter `{}` of {what} must be a string with `allowedValues` that are SQL identifiers", t.name.value))
                    .with_hint("template values are spliced into the statement; list every allowed table or column name (letters, digits, `_`) so each variant is quoted and checked at build time, and bind ordinary values with `parameters`"),
            );
        }
        if !t.auth_services.is_empty() || t.value_from_param.is_some() {
            diags.push(Diagnostic::new(
                t.name.pos,
                format!(
                    "template parameter `{}` of {what} cannot use `authServices` or `valueFromParam`",
                    t.name.value
                ),
            ));
        }
    }
}

fn statement_templates(what: &str, statement: &Spanned<String>, templates: &[Param], diags: &mut Vec<Diagnostic>) {
    let refs = match template::references(&statement.value) {
        Ok(refs) => refs,
        Err(e) => {
            diags.push(
                Diagnostic::new(statement.pos, format!("in the statement of {what}: {e}"))
                    .with_hint("declare a template parameter and write `{{.name}}`"),
            );
            return;
        }
    };
    for r in &refs {
        if !templates.iter().any(|t| t.name.value == r.name) {
            diags.push(
                Diagnostic::new(
                    statement.pos,
                    format!(
                        "the statement of {what} refers to `{{{{.{}}}}}`, which is not a template parameter",
                        r.name
                    ),
                )
                .with_hint(format!("declare `{}` under `templateParameters`", r.name)),
            );
        }
    }
    for t in templates {
        if !refs.iter().any(|r| r.name == t.name.value) {
            diags.push(
                Diagnostic::new(
                    t.name.pos,
                    format!("template parameter `{}` of {what} is not used in the statement", t.name.value),
                )
                .with_hint(format!("write `{{{{.{}}}}}` where the value goes, or remove the parameter", t.name.value)),
            );
        }
    }
    let variants: usize = templates.iter().map(|t| t.allowed_values.len().max(1)).product();
    if variants > MAX_TEMPLATE_VARIANTS {
        diags.push(
            Diagnostic::new(statement.pos, format!("the template parameters of {what} allow {variants} statements; at most {MAX_TEMPLATE_VARIANTS} are checked and compiled"))
                .with_hint("shorten the `allowedValues` lists, or split the tool"),
        );
    }
}
