//! Parameters of tools, template parameters, array items and prompt arguments, with their
//! values checked against their type.

use super::Reader;
use super::obj::Obj;
use crate::diag::{Diagnostic, Spanned};
use crate::model::*;
use crate::yaml::{self, Node};
use serde_json::Value;

impl Reader<'_> {
    pub(super) fn params(&mut self, obj: &mut Obj<'_>, key: &'static str, what: &str, template: bool) -> Vec<Param> {
        let Some((node, _)) = obj.take(key) else { return Vec::new() };
        if yaml::is_null(node) {
            return Vec::new();
        }
        let Some(items) = yaml::as_seq(node) else {
            self.error(
                yaml::pos(node),
                format!("`{key}` of {what} must be a list of parameters, found {}", yaml::describe(node)),
            );
            return Vec::new();
        };
        let legacy = obj.legacy;
        items
            .iter()
            .filter_map(|item| self.param(item, what, legacy, ParamPlace { template, item: false, prompt: false }))
            .collect()
    }

    pub(super) fn param(&mut self, node: &Node, owner: &str, legacy: bool, place: ParamPlace) -> Option<Param> {
        let label = if place.item {
            format!("the `items` of a parameter of {owner}")
        } else {
            format!("a parameter of {owner}")
        };
        let mut obj = Obj::new(node, label, legacy, &mut self.diags)?;
        let name = if place.item {
            obj.string("name", &mut self.diags).unwrap_or_else(|| Spanned::new("item".into(), obj.pos))
        } else {
            obj.required_string("name", &mut self.diags)?
        };
        if !place.item {
            obj.what = format!("parameter `{}` of {owner}", name.value);
        }
        let type_field = obj.string("type", &mut self.diags);
        let ty_pos = type_field.as_ref().map_or(name.pos, |t| t.pos);
        let ty = match type_field {
            Some(t) => {
                self.choose(&t, ParamType::ALL, format!("unknown parameter type `{}` for {}", t.value, obj.what))
            }
            None if place.prompt => Some(ParamType::String),
            None => {
                if !obj.known_present("type") {
                    self.diags.push(
                        Diagnostic::new(obj.pos, format!("{} is missing the required field `type`", obj.what))
                            .with_hint("add `type:` with one of string, integer, float, boolean, array, map"),
                    );
                }
                None
            }
        };
        let description = if place.item || place.prompt {
            obj.string("description", &mut self.diags).map(|d| d.value).unwrap_or_default()
        } else {
            obj.required_string("description", &mut self.diags).map(|d| self.resolve_now(d).value).unwrap_or_default()
        };
        let required = obj.bool("required", &mut self.diags).unwrap_or(true);
        let default =
            obj.take("default").and_then(|(n, _)| if yaml::is_null(n) { None } else { Some(self.json_value(n)) });
        let allowed_values = self.value_list(&mut obj, "allowedValues");
        let excluded_values = self.value_list(&mut obj, "excludedValues");
        let min_value = self.number(&mut obj, "minValue");
        let max_value = self.number(&mut obj, "maxValue");
        let items = match obj.take("items") {
            Some((n, _)) => self.param(n, owner, legacy, ParamPlace { item: true, ..place }).map(Box::new),
            None => None,
        };
        let value_type = match obj.string("valueType", &mut self.diags) {
            Some(t) => match super::obj::lookup(ParamType::ALL, &t.value).filter(|t| t.is_scalar()) {
                Some(v) => Some(v),
                None => {
                    self.diags.push(
                        Diagnostic::new(t.pos, format!("unsupported `valueType` `{}` for {}", t.value, obj.what))
                            .with_hint("use string, integer, float or boolean, or leave it out to accept any value"),
                    );
                    None
                }
            },
            None => None,
        };
        let mut auth_services = Vec::new();
        for key in ["authServices", "authSources"] {
            if let Some((n, _)) = obj.take(key) {
                auth_services.extend(self.param_auth(n, &obj.what));
            }
        }
        let escape = obj
            .string("escape", &mut self.diags)
            .and_then(|e| self.choose(&e, Escape::ALL, format!("unknown `escape` `{}` for {}", e.value, obj.what)));
        let value_from_param = obj.string("valueFromParam", &mut self.diags);
        let mcp_header = obj.string("mcpHeader", &mut self.diags);
        if let Some((n, _)) = obj.take("embeddedBy") {
            self.diags.push(
                Diagnostic::new(
                    yaml::pos(n),
                    format!("{}: `embeddedBy` is not supported (there are no embedding models)", obj.what),
                )
                .with_hint("remove `embeddedBy`"),
            );
        }
        let what = obj.what.clone();
        obj.finish(&mut self.diags);
        // A parameter whose type is missing or unknown (already reported) is kept, as a string, so
        // that it still counts towards the statement's placeholders; its values are not checked
        // against a guessed type.
        let typed = ty.is_some();
        let ty = ty.unwrap_or(ParamType::String);
        let param = Param {
            name,
            ty,
            ty_pos,
            description,
            required,
            default,
            allowed_values,
            excluded_values,
            min_value,
            max_value,
            items,
            value_type,
            auth_services,
            escape,
            value_from_param,
            mcp_header,
        };
        if typed {
            self.check_param_values(&param, &what, place);
        }
        Some(param)
    }

    fn check_param_values(&mut self, p: &Param, what: &str, place: ParamPlace) {
        if let Some(header) = &p.mcp_header {
            let token = !header.value.is_empty()
                && header.value.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
            if !token {
                self.diags.push(
                    Diagnostic::new(
                        header.pos,
                        format!("{what}: `mcpHeader` `{}` is not a valid header name", header.value),
                    )
                    .with_hint("use letters, digits and `-`, e.g. `Region`; the header sent is `Mcp-Param-Region`"),
                );
            }
            let scalar = matches!(p.ty, ParamType::String | ParamType::Integer | ParamType::Boolean);
            if !scalar || place.item || place.template || place.prompt || !p.auth_services.is_empty() {
                self.diags.push(
                    Diagnostic::new(header.pos, format!("{what}: `mcpHeader` applies only to string, integer and boolean tool parameters"))
                        .with_hint("remove `mcpHeader`; template, authenticated, float, array and map parameters cannot be mirrored in a header"),
                );
            }
        }
        let ty = p.ty.type_name();
        let shown = |v: &Value| v.to_string();
        if let Some(d) = &p.default
            && !value_fits(p, &d.value)
        {
            self.diags.push(
                Diagnostic::new(d.pos, format!("the default {} of {what} is not of type `{ty}`", shown(&d.value)))
                    .with_hint(format!("give a default of type `{ty}`, or change the parameter's `type`")),
            );
        }
        for (list, field) in [(&p.allowed_values, "allowedValues"), (&p.excluded_values, "excludedValues")] {
            for v in list {
                if !value_fits(p, &v.value) {
                    self.diags.push(
                        Diagnostic::new(
                            v.pos,
                            format!("{} in `{field}` of {what} is not of type `{ty}`", shown(&v.value)),
                        )
                        .with_hint(format!("every entry of `{field}` must be of type `{ty}`")),
                    );
                }
            }
        }
        for bound in [&p.min_value, &p.max_value].into_iter().flatten() {
            if !matches!(p.ty, ParamType::Integer | ParamType::Float) {
                self.diags.push(
                    Diagnostic::new(
                        bound.pos,
                        format!("{what}: `minValue` and `maxValue` apply only to integer and float parameters"),
                    )
                    .with_hint("remove the bound, or change the parameter's `type`"),
                );
            }
        }
        if let (Some(min), Some(max)) = (&p.min_value, &p.max_value)
            && min.value > max.value
        {
            self.error(max.pos, format!("{what}: `maxValue` {} is below `minValue` {}", max.value, min.value));
        }
        match (p.ty, &p.items) {
            (ParamType::Array, None) => self.diags.push(
                Diagnostic::new(p.name.pos, format!("{what} is an array without `items`"))
                    .with_hint("describe the elements, e.g. `items: {name: id, type: integer, description: an id}`"),
            ),
            (ParamType::Array, Some(items)) if !items.auth_services.is_empty() => {
                self.error(items.name.pos, format!("{what}: array items cannot have `authServices`"))
            }
            (ty, Some(items)) if ty != ParamType::Array => {
                self.error(items.name.pos, format!("{what}: `items` applies only to array parameters"))
            }
            _ => {}
        }
        if p.value_type.is_some() && p.ty != ParamType::Map {
            self.error(p.name.pos, format!("{what}: `valueType` applies only to map parameters"));
        }
        if p.escape.is_some() && !place.template {
            self.diags.push(
                Diagnostic::new(p.name.pos, format!("{what}: `escape` applies only to template parameters")).with_hint(
                    "values of ordinary parameters are bound, never spliced into SQL, so they need no escaping",
                ),
            );
        }
    }

    fn json_value(&mut self, node: &Node) -> Spanned<Value> {
        match yaml::to_json(node) {
            Some(v) => Spanned::new(v, yaml::pos(node)),
            None => {
                self.error(yaml::pos(node), format!("{} cannot be used as a value", yaml::describe(node)));
                Spanned::new(Value::Null, yaml::pos(node))
            }
        }
    }

    fn value_list(&mut self, obj: &mut Obj<'_>, key: &'static str) -> Vec<Spanned<Value>> {
        let Some((node, _)) = obj.take(key) else { return Vec::new() };
        let Some(items) = yaml::as_seq(node) else {
            self.error(yaml::pos(node), format!("`{key}` of {} must be a list", obj.what));
            return Vec::new();
        };
        items.iter().map(|n| self.json_value(n)).collect()
    }

    fn number(&mut self, obj: &mut Obj<'_>, key: &'static str) -> Option<Spanned<f64>> {
        let (node, _) = obj.take(key)?;
        match yaml::to_json(node).as_ref().and_then(Value::as_f64) {
            Some(n) => Some(Spanned::new(n, yaml::pos(node))),
            None => {
                self.error(
                    yaml::pos(node),
                    format!("`{key}` of {} must be a number, found {}", obj.what, yaml::describe(node)),
                );
                None
            }
        }
    }

    fn param_auth(&mut self, node: &Node, what: &str) -> Vec<ParamAuth> {
        let Some(items) = yaml::as_seq(node) else {
            self.error(yaml::pos(node), format!("`authServices` of {what} must be a list of `{{name, field}}`"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(mut obj) = Obj::new(item, format!("an auth service of {what}"), false, &mut self.diags) else {
                continue;
            };
            let service = obj.required_string("name", &mut self.diags);
            let field = obj.required_string("field", &mut self.diags);
            obj.finish(&mut self.diags);
            if let (Some(service), Some(field)) = (service, field) {
                out.push(ParamAuth { service, field: field.value });
            }
        }
        out
    }
}

#[derive(Clone, Copy)]
pub(super) struct ParamPlace {
    pub(super) template: bool,
    pub(super) item: bool,
    pub(super) prompt: bool,
}

/// Whether a configured value (default, allowed value) fits a parameter, elements included.
fn value_fits(p: &Param, value: &Value) -> bool {
    if !p.ty.accepts(value) {
        return false;
    }
    match (p.ty, value) {
        (ParamType::Array, Value::Array(items)) => match &p.items {
            Some(item) => items.iter().all(|v| value_fits(item, v)),
            None => true,
        },
        (ParamType::Map, Value::Object(map)) => match p.value_type {
            Some(t) => map.values().all(|v| t.accepts(v)),
            None => true,
        },
        _ => true,
    }
}
