//! `kind: tool`: a tool's type, source, statement, limits and annotations (its parameters are
//! read in [`super::param`]).

use super::Reader;
use super::obj::Obj;
use crate::diag::{Diagnostic, Spanned};
use crate::model::*;
use crate::yaml::{self, Node};
use serde_json::Value;

impl Reader<'_> {
    pub(super) fn tool(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        let tool_types: Vec<&str> = ToolType::ALL.iter().map(|(n, _)| *n).collect();
        let Some(ty_name) = obj.required_choice("type", &tool_types, &mut self.diags) else {
            obj.finish_untyped(&mut self.diags);
            return;
        };
        let Some(ty) = self.choose(&ty_name, ToolType::ALL, format!("unknown tool type `{}`", ty_name.value)) else {
            return;
        };
        let source = obj.required_string("source", &mut self.diags);
        let description = obj.required_string("description", &mut self.diags).map(|d| self.resolve_now(d).value);
        let what = obj.what.clone();
        let mut http = None;
        let (statement, parameters, template_parameters) = match ty.kind {
            ToolKind::Sql => (
                obj.required_string("statement", &mut self.diags).map(|s| self.resolve_now(s)),
                self.params(&mut obj, "parameters", &what, false),
                self.params(&mut obj, "templateParameters", &what, true),
            ),
            ToolKind::ExecuteSql | ToolKind::ExplainQuery => (None, Vec::new(), Vec::new()),
            ToolKind::Redis => (None, self.params(&mut obj, "parameters", &what, false), Vec::new()),
            ToolKind::ListTables => match ty.engine() {
                Some(engine) => {
                    let (statement, params) = crate::builtin::list_tables(engine, ty_name.pos);
                    (Some(statement), params, Vec::new())
                }
                None => (None, Vec::new(), Vec::new()),
            },
            ToolKind::Http => {
                let (parameters, tool) = self.http_tool(&mut obj, &what);
                http = tool.map(Box::new);
                (None, parameters, Vec::new())
            }
            ToolKind::SearchObjects => match ty.engine() {
                Some(engine) => {
                    let (statement, params, templates) = crate::search::search_objects(engine, ty_name.pos);
                    (Some(statement), params, templates)
                }
                None => (None, Vec::new(), Vec::new()),
            },
        };
        let query_timeout_ms = obj.string("queryTimeout", &mut self.diags).and_then(|t| {
            match crate::duration::parse(&t.value, false).filter(|d| !d.is_zero()) {
                // Saturating: `as` would wrap a duration of more than u64::MAX ms to a
                // short timeout.
                Some(d) => Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                None => {
                    self.diags.push(
                        Diagnostic::new(
                            t.pos,
                            format!("`queryTimeout` of {what} must be a duration above zero, found `{}`", t.value),
                        )
                        .with_hint("write e.g. `5s` or `500ms`"),
                    );
                    None
                }
            }
        });
        let rate_limit = obj.string("rateLimit", &mut self.diags).and_then(|r| match crate::rate::parse(&r.value) {
            Some(rate) => Some(rate),
            None => {
                self.diags.push(
                    Diagnostic::new(
                        r.pos,
                        format!("`rateLimit` of {what} must be calls per period, found `{}`", r.value),
                    )
                    .with_hint("write e.g. `30/m` (30 calls a minute per caller), `5/s` or `100/10m`"),
                );
                None
            }
        });
        // A built-in statement's rows are bounded by the statement (or, for search-objects, by
        // its `limit` argument); an http tool's answer by the response size limit.
        let max_rows =
            if matches!(ty.kind, ToolKind::ListTables | ToolKind::SearchObjects | ToolKind::Http | ToolKind::Redis) {
                None
            } else {
                obj.take("maxRows").and_then(|(n, _)| {
                    match yaml::to_json(n).as_ref().and_then(Value::as_u64).filter(|v| *v > 0) {
                        Some(v) => Some(v),
                        None => {
                            self.diags.push(
                                Diagnostic::new(
                                    yaml::pos(n),
                                    format!("`maxRows` of {what} must be a whole number above 0"),
                                )
                                .with_hint("the most rows a call returns; the result says when rows were left out"),
                            );
                            None
                        }
                    }
                })
            };
        let commands =
            if ty.kind == ToolKind::Redis { self.redis_commands(&mut obj, &what, &parameters) } else { Vec::new() };
        let read_only = match ty.kind {
            ToolKind::ExecuteSql | ToolKind::Redis => obj.bool("readOnly", &mut self.diags).unwrap_or(false),
            // A plan is always made in a read-only transaction or session.
            ToolKind::ExplainQuery => true,
            _ => false,
        };
        let auth_required = obj.string_list("authRequired", &mut self.diags);
        let scopes_required = obj.string_list("scopesRequired", &mut self.diags);
        let annotations = match obj.take("annotations") {
            Some((node, _)) => self.annotations(node, &what),
            None => Annotations::default(),
        };
        obj.finish(&mut self.diags);
        // A tool missing a required field is kept (the error is already reported), so that
        // toolsets naming it do not report it as unknown too.
        let source = source.unwrap_or_else(|| Spanned::new(String::new(), name.pos));
        let description = description.unwrap_or_default();
        self.config.tools.push(Tool {
            name,
            ty,
            source,
            description,
            title: None,
            statement,
            parameters,
            template_parameters,
            auth_required,
            scopes_required,
            annotations,
            max_rows,
            query_timeout_ms,
            rate_limit,
            read_only,
            http,
            commands,
        });
    }

    /// A mapping of names to string values (numbers and booleans are taken as their text).
    pub(super) fn string_map(&mut self, node: &Node, what: &str) -> Vec<(String, Spanned<String>)> {
        let Some(entries) = yaml::entries(node, &mut self.diags) else {
            self.error(yaml::pos(node), format!("{what} must be a mapping of names to values"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value, _) in entries {
            match yaml::to_json(value) {
                Some(Value::String(s)) => out.push((key.to_string(), Spanned::new(s, yaml::pos(value)))),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    out.push((key.to_string(), Spanned::new(v.to_string(), yaml::pos(value))))
                }
                _ => self.error(yaml::pos(value), format!("{what}: the value of `{key}` must be a string")),
            }
        }
        out
    }

    fn annotations(&mut self, node: &Node, what: &str) -> Annotations {
        let Some(mut obj) = Obj::new(node, format!("the annotations of {what}"), false, &mut self.diags) else {
            return Annotations::default();
        };
        let a = Annotations {
            read_only_hint: obj.bool("readOnlyHint", &mut self.diags),
            destructive_hint: obj.bool("destructiveHint", &mut self.diags),
            idempotent_hint: obj.bool("idempotentHint", &mut self.diags),
            open_world_hint: obj.bool("openWorldHint", &mut self.diags),
        };
        obj.finish(&mut self.diags);
        a
    }
}
