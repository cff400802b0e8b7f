//! `type: http` sources and tools: their fields, and the build's checks of a tool's method,
//! path, parameters, headers and request body (see [`crate::http`]).

use super::Reader;
use super::obj::Obj;
use crate::diag::{Diagnostic, Spanned};
use crate::env;
use crate::http::*;
use crate::model::*;
use crate::yaml;
use serde_json::Value;

impl Reader<'_> {
    pub(super) fn http_source(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        let what = obj.what.clone();
        let base_url = obj.required_string("baseUrl", &mut self.diags);
        let headers = self.http_map(&mut obj, "headers", &what);
        let query_params = self.http_map(&mut obj, "queryParams", &what);
        let timeout = obj.string("timeout", &mut self.diags);
        let disable_ssl_verification = obj.bool("disableSslVerification", &mut self.diags).unwrap_or(false);
        let return_full_error = obj.bool("returnFullError", &mut self.diags).unwrap_or(false);
        obj.finish(&mut self.diags);
        if let Some(url) = &base_url {
            self.check_deferred(url);
            if env::placeholders(&url.value).is_empty()
                && let Err(e) = check_base_url(&url.value)
            {
                self.diags.push(Diagnostic::new(url.pos, e).with_hint("write e.g. `https://api.example.com/v1`"));
            }
        }
        self.http_headers(&headers, &what);
        for (_, v) in &query_params {
            self.check_deferred(v);
        }
        if let Some(t) = &timeout
            && env::placeholders(&t.value).is_empty()
            && crate::duration::parse(&t.value, false).is_none_or(|d| d.is_zero())
        {
            self.diags.push(
                Diagnostic::new(
                    t.pos,
                    format!("`timeout` of {what} must be a duration above zero, found `{}`", t.value),
                )
                .with_hint("write e.g. `30s` or `500ms`"),
            );
        }
        let base_url = base_url.unwrap_or_else(|| Spanned::new(String::new(), name.pos));
        let source =
            HttpSource { base_url, headers, query_params, timeout, disable_ssl_verification, return_full_error };
        self.config.sources.push(Source { name, kind: SourceKind::Http(source) });
    }

    /// An `http` tool's own fields. Its parameters (path, query, body and header parameters, in
    /// that order) are returned apart, as the tool's `parameters`.
    pub(super) fn http_tool(&mut self, obj: &mut Obj<'_>, what: &str) -> (Vec<Param>, Option<HttpTool>) {
        let method = obj.required_string("method", &mut self.diags).and_then(|m| {
            let upper = Spanned::new(m.value.to_ascii_uppercase(), m.pos);
            self.choose(&upper, HttpMethod::ALL, format!("`{}` is not an HTTP method", m.value))
        });
        let path = obj.required_string("path", &mut self.diags).map(|p| self.resolve_now(p));
        let headers = self.http_map(obj, "headers", what);
        let body = obj.string("requestBody", &mut self.diags).map(|b| self.resolve_now(b));
        let mut params = Vec::new();
        let mut places = Vec::new();
        for place in [ParamIn::Path, ParamIn::Query, ParamIn::Body, ParamIn::Header] {
            let declared = self.params(obj, place.field(), what, false);
            places.extend(std::iter::repeat_n(place, declared.len()));
            params.extend(declared);
        }
        let output_schema = obj.take("outputSchema").and_then(|(node, _)| match yaml::to_json(node) {
            Some(schema @ Value::Object(_)) => Some(schema),
            _ => {
                self.error(yaml::pos(node), format!("`outputSchema` of {what} must be a JSON Schema object"));
                None
            }
        });
        self.http_headers(&headers, what);
        self.http_param_types(&params, &places, what);
        let named: Vec<(&str, ParamIn)> =
            params.iter().zip(&places).map(|(p, w)| (p.name.value.as_str(), *w)).collect();
        let mut used = vec![false; params.len()];
        let (path_parts, query) = match &path {
            Some(path) => match path_template(&path.value, &named) {
                Ok((parts, query)) => {
                    used_in_path(&parts).for_each(|i| used[i] = true);
                    (parts, query)
                }
                Err(e) => {
                    self.diags.push(Diagnostic::new(path.pos, format!("`path` of {what}: {e}")));
                    used.iter_mut().zip(&places).filter(|(_, w)| **w == ParamIn::Path).for_each(|(u, _)| *u = true);
                    (Vec::new(), None)
                }
            },
            None => (Vec::new(), None),
        };
        let body_parts = body.as_ref().and_then(|body| match body_template(&body.value, &named) {
            Ok(parts) => {
                used_in_body(&parts).for_each(|i| used[i] = true);
                self.check_body_json(body, &parts, &params, what);
                Some(parts)
            }
            Err(e) => {
                self.diags.push(Diagnostic::new(body.pos, format!("`requestBody` of {what}: {e}")));
                used.iter_mut().zip(&places).filter(|(_, w)| **w == ParamIn::Body).for_each(|(u, _)| *u = true);
                None
            }
        });
        for ((p, place), used) in params.iter().zip(&places).zip(&used) {
            let hint = match place {
                ParamIn::Path => format!("write `{{{{.{}}}}}` in `path`, or remove the parameter", p.name.value),
                ParamIn::Body if body.is_none() => {
                    format!("write a `requestBody` with `{{{{.{}}}}}` where its value goes", p.name.value)
                }
                ParamIn::Body => format!("write `{{{{.{}}}}}` in `requestBody`, or remove the parameter", p.name.value),
                ParamIn::Query | ParamIn::Header => continue,
            };
            if !used {
                self.diags.push(
                    Diagnostic::new(p.name.pos, format!("{} `{}` of {what} is not used", place.field(), p.name.value))
                        .with_hint(hint),
                );
            }
        }
        let tool = method.zip(path).map(|(method, _)| HttpTool {
            method,
            path: path_parts,
            query,
            headers,
            places,
            body: body_parts,
            output_schema,
        });
        (params, tool)
    }

    fn http_map(&mut self, obj: &mut Obj<'_>, key: &'static str, what: &str) -> Vec<(String, Spanned<String>)> {
        match obj.take(key) {
            Some((node, _)) => self.string_map(node, &format!("`{key}` of {what}")),
            None => Vec::new(),
        }
    }

    /// Header names must be tokens; values are sent as written (placeholders resolved at
    /// start-up), so they cannot hold a line break or a template.
    fn http_headers(&mut self, headers: &[(String, Spanned<String>)], what: &str) {
        for (name, value) in headers {
            self.check_deferred(value);
            if !is_header_name(name) {
                self.diags.push(
                    Diagnostic::new(value.pos, format!("`{name}` in `headers` of {what} is not a valid header name"))
                        .with_hint("a header name is letters, digits and `-` (e.g. `X-Api-Key`)"),
                );
            }
            if value.value.contains(['\r', '\n', '\0']) {
                self.error(value.pos, format!("header `{name}` of {what} has a line break"));
            }
            if value.value.contains("{{") {
                self.diags.push(
                    Diagnostic::new(value.pos, format!("header `{name}` of {what} is sent as written"))
                        .with_hint("a header whose value a call gives is declared under `headerParams`"),
                );
            }
        }
    }

    /// Path and header parameters take one scalar; query parameters a scalar or an array of
    /// them (one `key=value` each); a header parameter's name is the header's.
    fn http_param_types(&mut self, params: &[Param], places: &[ParamIn], what: &str) {
        for (p, place) in params.iter().zip(places) {
            let scalar_items = p.items.as_ref().is_none_or(|i| i.ty.is_scalar());
            let fits = match place {
                ParamIn::Path | ParamIn::Header => p.ty.is_scalar(),
                ParamIn::Query => p.ty.is_scalar() || (p.ty == ParamType::Array && scalar_items),
                ParamIn::Body => true,
            };
            if !fits {
                let takes = if *place == ParamIn::Query { "a scalar or an array of scalars" } else { "a scalar" };
                self.diags.push(
                    Diagnostic::new(
                        p.ty_pos,
                        format!(
                            "{} `{}` of {what} cannot be of type `{}`",
                            place.field(),
                            p.name.value,
                            p.ty.type_name()
                        ),
                    )
                    .with_hint(format!("it takes {takes} (string, integer, float or boolean)")),
                );
            }
            if *place == ParamIn::Header && !is_header_name(&p.name.value) {
                self.diags.push(
                    Diagnostic::new(
                        p.name.pos,
                        format!("header parameter `{}` of {what} is not a valid header name", p.name.value),
                    )
                    .with_hint("the parameter's name is the header's: letters, digits and `-` (e.g. `X-Request-Id`)"),
                );
            }
        }
    }

    /// Renders the body with a sample of each parameter's type, then with the optional ones
    /// left out, and requires valid JSON each time.
    fn check_body_json(&mut self, body: &Spanned<String>, parts: &[BodyPart], params: &[Param], what: &str) {
        let all = render_body(parts, |i| Some(sample(params[i].ty)));
        let fewest = render_body(parts, |i| params[i].is_required().then(|| sample(params[i].ty)));
        for (rendered, case) in [(all, "with a value for each parameter"), (fewest, "without its optional parameters")]
        {
            if let Err(e) = serde_json::from_str::<Value>(&rendered) {
                self.diags.push(
                    Diagnostic::new(body.pos, format!("`requestBody` of {what} is not valid JSON {case}: {e}"))
                        .with_hint("write `{{.name}}` where a JSON value goes, or inside quotes for text in a string; `{{json .name}}` in quotes doubles them"),
                );
                return;
            }
        }
    }
}
