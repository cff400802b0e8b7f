//! The `http` source and tool type: their model, and the build-time reading of a tool's `path`
//! and `requestBody` templates into parts the runtime fills in (never a text it splices).
//!
//! A `{{.name}}` in the path becomes a path parameter slot, which the runtime percent-encodes as
//! one segment. A reference in the request body becomes a JSON slot: outside a JSON string the
//! value's JSON text, inside one the value escaped as string content, and `{{json .name}}` the
//! value's JSON text wherever it is. The build renders every body with a sample value of each
//! parameter's type and refuses one that is not valid JSON.

use crate::diag::Spanned;
use crate::model::ParamType;
use serde_json::Value;

/// An `http` source. Every setting is kept as written and resolved when the server starts.
#[derive(Clone, Debug)]
pub struct HttpSource {
    pub base_url: Spanned<String>,
    /// Sent with every request of the source's tools (a tool's own `headers` win).
    pub headers: Vec<(String, Spanned<String>)>,
    /// Added to every request's query string.
    pub query_params: Vec<(String, Spanned<String>)>,
    /// The longest a request may take (default 30 s).
    pub timeout: Option<Spanned<String>>,
    pub disable_ssl_verification: bool,
    /// A non-2xx answer's whole body (up to the size cap) goes into the error, not its start.
    pub return_full_error: bool,
}

/// The default of a source's `timeout`.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl HttpMethod {
    pub const ALL: &'static [(&'static str, HttpMethod)] = &[
        ("GET", HttpMethod::Get),
        ("POST", HttpMethod::Post),
        ("PUT", HttpMethod::Put),
        ("PATCH", HttpMethod::Patch),
        ("DELETE", HttpMethod::Delete),
        ("HEAD", HttpMethod::Head),
        ("OPTIONS", HttpMethod::Options),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, m)| *m == self).map(|(n, _)| *n).unwrap_or("GET")
    }

    /// The variant's name, as generated code spells it.
    pub fn variant(self) -> &'static str {
        match self {
            HttpMethod::Get => "Get",
            HttpMethod::Post => "Post",
            HttpMethod::Put => "Put",
            HttpMethod::Patch => "Patch",
            HttpMethod::Delete => "Delete",
            HttpMethod::Head => "Head",
            HttpMethod::Options => "Options",
        }
    }

    /// GET, HEAD and OPTIONS change nothing on the server (RFC 9110's safe methods).
    pub fn is_safe(self) -> bool {
        matches!(self, HttpMethod::Get | HttpMethod::Head | HttpMethod::Options)
    }
}

/// Where a parameter of an `http` tool goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamIn {
    Path,
    Query,
    Body,
    Header,
}

impl ParamIn {
    /// The field that declares parameters of this place.
    pub fn field(self) -> &'static str {
        match self {
            ParamIn::Path => "pathParams",
            ParamIn::Query => "queryParams",
            ParamIn::Body => "bodyParams",
            ParamIn::Header => "headerParams",
        }
    }

    pub fn variant(self) -> &'static str {
        match self {
            ParamIn::Path => "Path",
            ParamIn::Query => "Query",
            ParamIn::Body => "Body",
            ParamIn::Header => "Header",
        }
    }
}

/// A piece of a path: text as written, or a parameter (its index among the tool's parameters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathPart {
    Text(String),
    Param(usize),
}

/// A piece of a request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyPart {
    Text(String),
    /// The parameter's JSON text (`{{.name}}` outside a string, `{{json .name}}`).
    Json(usize),
    /// The parameter escaped as the content of a JSON string (`"{{.name}}"`).
    InString(usize),
}

/// What an `http` tool sends. Its parameters are the tool's `parameters`, in the order
/// `pathParams`, `queryParams`, `bodyParams`, `headerParams`, and `places` says which is which.
#[derive(Clone, Debug)]
pub struct HttpTool {
    pub method: HttpMethod,
    /// The path before any `?`.
    pub path: Vec<PathPart>,
    /// The static query string written after `?` in `path`, if any.
    pub query: Option<String>,
    /// The tool's own headers, kept as written and resolved when the server starts.
    pub headers: Vec<(String, Spanned<String>)>,
    pub places: Vec<ParamIn>,
    pub body: Option<Vec<BodyPart>>,
    /// Our extension: the JSON Schema of the response body, served inside the result's schema.
    pub output_schema: Option<Value>,
}

/// One `{{ ... }}` of a template: the parameter it names, whether it is `{{json .name}}`, and
/// its byte range.
struct Slot<'a> {
    name: &'a str,
    json: bool,
    start: usize,
    end: usize,
}

fn slots(text: &str) -> Result<Vec<Slot<'_>>, String> {
    let found = crate::template::scan(text, |inner| {
        let (json, reference) = match inner.strip_prefix("json") {
            Some(r) if r.starts_with(char::is_whitespace) => (true, r.trim_start()),
            _ => (false, inner),
        };
        crate::template::parameter_name(reference).map(|name| (name, json)).ok_or_else(|| {
            format!("`{{{{{inner}}}}}` is not supported; only `{{{{.name}}}}` and `{{{{json .name}}}}` are")
        })
    })?;
    Ok(found.into_iter().map(|((name, json), start, end)| Slot { name, json, start, end }).collect())
}

/// The index of a parameter by name, or the message for a reference to an undeclared one.
fn index_of(name: &str, params: &[(&str, ParamIn)], place: ParamIn) -> Result<usize, String> {
    match params.iter().position(|(n, p)| *n == name && *p == place) {
        Some(i) => Ok(i),
        None => match params.iter().find(|(n, _)| *n == name) {
            Some((_, other)) => Err(format!(
                "`{{{{.{name}}}}}` names a parameter of `{}`; declare it under `{}` to use it here",
                other.field(),
                place.field()
            )),
            None => Err(format!("`{{{{.{name}}}}}` names no parameter; declare `{name}` under `{}`", place.field())),
        },
    }
}

/// Reads a tool's `path`: text and path parameters before `?`, and the static query after it.
/// `params` are the tool's parameters by name and place.
pub fn path_template(path: &str, params: &[(&str, ParamIn)]) -> Result<(Vec<PathPart>, Option<String>), String> {
    if path.contains('#') {
        return Err("a path cannot have a fragment (`#`)".into());
    }
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    if query.is_some_and(|q| q.contains("{{")) {
        return Err("the query string of `path` is static; declare parameters under `queryParams` instead".into());
    }
    if path.contains("://") || path.starts_with("//") {
        return Err("`path` is the path under the source's `baseUrl`, not a URL".into());
    }
    let mut parts = Vec::new();
    let mut copied = 0;
    let with_slash = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    let path = with_slash.as_str();
    for slot in slots(path)? {
        if slot.json {
            return Err("`{{json ...}}` is for the request body; write `{{.name}}` in the path".into());
        }
        if slot.start > copied {
            parts.push(PathPart::Text(path[copied..slot.start].to_string()));
        }
        parts.push(PathPart::Param(index_of(slot.name, params, ParamIn::Path)?));
        copied = slot.end;
    }
    if copied < path.len() {
        parts.push(PathPart::Text(path[copied..].to_string()));
    }
    Ok((parts, query.filter(|q| !q.is_empty()).map(str::to_string)))
}

/// Reads a `requestBody`: literal JSON text and slots, each slot's mode decided by whether it
/// stands inside a JSON string.
pub fn body_template(body: &str, params: &[(&str, ParamIn)]) -> Result<Vec<BodyPart>, String> {
    let mut parts = Vec::new();
    let mut in_string = false;
    let mut copied = 0;
    // Whether the text ends inside a JSON string (an escaped quote does not end one).
    let scan = |text: &str, in_string: &mut bool| {
        let mut escaped = false;
        for c in text.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' if *in_string => escaped = true,
                '"' => *in_string = !*in_string,
                _ => {}
            }
        }
    };
    for slot in slots(body)? {
        let text = &body[copied..slot.start];
        scan(text, &mut in_string);
        if !text.is_empty() {
            parts.push(BodyPart::Text(text.to_string()));
        }
        let index = index_of(slot.name, params, ParamIn::Body)?;
        parts.push(if in_string && !slot.json { BodyPart::InString(index) } else { BodyPart::Json(index) });
        copied = slot.end;
    }
    if copied < body.len() {
        parts.push(BodyPart::Text(body[copied..].to_string()));
    }
    Ok(parts)
}

/// The parameters a set of parts uses.
pub fn used_in_path(parts: &[PathPart]) -> impl Iterator<Item = usize> + '_ {
    parts.iter().filter_map(|p| match p {
        PathPart::Param(i) => Some(*i),
        PathPart::Text(_) => None,
    })
}

pub fn used_in_body(parts: &[BodyPart]) -> impl Iterator<Item = usize> + '_ {
    parts.iter().filter_map(|p| match p {
        BodyPart::Json(i) | BodyPart::InString(i) => Some(*i),
        BodyPart::Text(_) => None,
    })
}

/// A value of each type for the build's check of a body, with a quote, a backslash and a line
/// break in the string so that escaping is exercised too.
pub fn sample(ty: ParamType) -> Value {
    match ty {
        ParamType::String => Value::String("a \"quoted\" \\ value\n".into()),
        ParamType::Integer => Value::from(42),
        ParamType::Float => Value::from(1.5),
        ParamType::Boolean => Value::Bool(true),
        ParamType::Array => serde_json::json!(["a", 1]),
        ParamType::Map => serde_json::json!({"k": "v"}),
    }
}

/// Renders a body with the value of each parameter (`None`: absent). This is what the runtime
/// does too; the build runs it on samples.
pub fn render_body(parts: &[BodyPart], value: impl Fn(usize) -> Option<Value>) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            BodyPart::Text(t) => out.push_str(t),
            BodyPart::Json(i) => out.push_str(&value(*i).unwrap_or(Value::Null).to_string()),
            BodyPart::InString(i) => out.push_str(&string_content(value(*i).as_ref())),
        }
    }
    out
}

/// A value as the content of a JSON string: a string escaped, anything else its JSON text
/// escaped, nothing for an absent value.
pub fn string_content(value: Option<&Value>) -> String {
    let quoted = match value {
        None | Some(Value::Null) => return String::new(),
        Some(Value::String(s)) => Value::String(s.clone()).to_string(),
        Some(other) => Value::String(other.to_string()).to_string(),
    };
    quoted[1..quoted.len() - 1].to_string()
}

/// Whether `name` is a valid header name (RFC 9110's `token`).
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks a base URL: absolute, `http` or `https`, with a host, and no query or fragment (the
/// source's `queryParams` hold those).
pub fn check_base_url(text: &str) -> Result<(), String> {
    let url = ::url::Url::parse(text).map_err(|e| format!("`baseUrl` `{text}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`baseUrl` must be an http or https URL, found scheme `{}`", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`baseUrl` `{text}` has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("`baseUrl` cannot have a query string or fragment; put query parameters under `queryParams`".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("`baseUrl` cannot hold credentials; send them in `headers`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: &[(&str, ParamIn)] =
        &[("id", ParamIn::Path), ("q", ParamIn::Query), ("name", ParamIn::Body), ("n", ParamIn::Body)];

    #[test]
    fn path_parts_and_static_query() {
        let (parts, query) = path_template("/users/{{.id}}/posts?lang=en", PARAMS).unwrap();
        assert_eq!(parts, [PathPart::Text("/users/".into()), PathPart::Param(0), PathPart::Text("/posts".into())]);
        assert_eq!(query.as_deref(), Some("lang=en"));
        assert!(path_template("/x?a={{.id}}", PARAMS).unwrap_err().contains("queryParams"));
        assert!(path_template("/x/{{.q}}", PARAMS).unwrap_err().contains("`queryParams`"));
        assert!(path_template("/x/{{.zz}}", PARAMS).unwrap_err().contains("names no parameter"));
        assert!(path_template("https://evil.example/x", PARAMS).is_err());
    }

    #[test]
    fn body_slots_know_whether_they_are_in_a_string() {
        let parts = body_template(r#"{"a": "x {{.name}}", "b": {{.n}}, "c": "\"{{json .n}}"}"#, PARAMS).unwrap();
        let modes: Vec<&BodyPart> = parts.iter().filter(|p| !matches!(p, BodyPart::Text(_))).collect();
        assert_eq!(modes, [&BodyPart::InString(2), &BodyPart::Json(3), &BodyPart::Json(3)]);
        let body = render_body(&parts[..4], |i| Some(if i == 2 { sample(ParamType::String) } else { Value::from(7) }));
        assert_eq!(body, r#"{"a": "x a \"quoted\" \\ value\n", "b": 7"#);
    }

    #[test]
    fn base_urls() {
        assert!(check_base_url("https://api.example.com/v1").is_ok());
        assert!(check_base_url("ftp://x").unwrap_err().contains("http or https"));
        assert!(check_base_url("not a url").is_err());
        assert!(check_base_url("https://x/?k=1").unwrap_err().contains("queryParams"));
    }
}
