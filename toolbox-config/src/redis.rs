//! The arguments of a `redis` tool's command templates, as the build checks them and the server
//! fills them in.
//!
//! Each element of a command (`[SET, "user:{{.id}}", $name]`) is one of:
//! - `$name` or `{{.name}}`, the whole element: the parameter's value. A scalar gives one argument,
//!   an array one argument per element (the reference's expansion), a map one per key and value;
//! - text with `{{.name}}` references in it (`user:{{.id}}`): one argument, scalars only;
//! - anything else: literal text. `$$` at the start stands for a literal `$`.
//!
//! Values are never spliced into a command line: every argument travels as its own
//! length-prefixed RESP string, so no value can become another argument or command.

use crate::diag::{Pos, Spanned};
use crate::template;
use serde_json::Value;

/// A Redis or Valkey server (`type: redis`). Settings are kept as written, placeholders
/// included, and resolved when the server starts.
#[derive(Clone, Debug)]
pub struct RedisSource {
    /// `host:port`; exactly one (the build refuses more: cluster mode is not supported).
    pub address: Spanned<String>,
    pub username: Option<Spanned<String>>,
    pub password: Option<Spanned<String>>,
    /// The database number.
    pub database: Option<Spanned<String>>,
    pub tls: RedisTls,
    pub connect_timeout: Option<Spanned<String>>,
    /// Our extension: the longest one reply may take.
    pub command_timeout: Option<Spanned<String>>,
    /// Our extension: multiplexed connections in the pool (default 2).
    pub max_connections: Option<u32>,
}

#[derive(Clone, Debug, Default)]
pub struct RedisTls {
    pub enabled: bool,
    pub insecure_skip_verify: bool,
    /// Our extension: a PEM file of the CAs to trust instead of the platform's, relative to
    /// `tools.yaml`'s directory.
    pub ca_file: Option<Spanned<String>>,
}

/// One command of a `redis` tool: its elements as written and as read.
#[derive(Clone, Debug)]
pub struct Command {
    pub pos: Pos,
    pub elements: Vec<(Spanned<String>, Arg)>,
    /// An element could not be read (already reported): the command is not checked further.
    pub broken: bool,
}

impl Command {
    /// The command's name (its first element) in upper case, when it is literal text.
    pub fn name(&self) -> Option<String> {
        match self.elements.first() {
            Some((_, Arg::Text(t))) => Some(t.to_ascii_uppercase()),
            _ => None,
        }
    }
}

/// One element of a command template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    /// A whole-element parameter, by index among the tool's parameters.
    Param(usize),
    /// Text with scalar parameters in it: one argument.
    Concat(Vec<Part>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Param(usize),
}

/// Reads one element. `params` are the tool's parameters as `(name, is_scalar)`.
pub fn parse_arg(text: &str, params: &[(&str, bool)]) -> Result<Arg, String> {
    let find = |name: &str| params.iter().position(|(n, _)| *n == name);
    if let Some(rest) = text.strip_prefix("$$") {
        return Ok(Arg::Text(format!("${rest}")));
    }
    if let Some(name) = text.strip_prefix('$')
        && is_name(name)
    {
        return match find(name) {
            Some(i) => Ok(Arg::Param(i)),
            None => Err(format!(
                "`${name}` names no parameter{}; declare it under `parameters`, or write `$${name}` for the literal text",
                did_you_mean(name, params)
            )),
        };
    }
    let refs = template::references(text)?;
    if refs.is_empty() {
        return Ok(Arg::Text(text.to_string()));
    }
    let mut parts = Vec::new();
    let mut copied = 0;
    for r in &refs {
        let Some(i) = find(&r.name) else {
            return Err(format!("`{{{{.{}}}}}` names no parameter{}", r.name, did_you_mean(&r.name, params)));
        };
        if refs.len() == 1 && r.start == 0 && r.end == text.len() {
            return Ok(Arg::Param(i));
        }
        if !params[i].1 {
            return Err(format!(
                "`{{{{.{}}}}}` is an array or a map, which expands to several arguments; make it a whole element of the command",
                r.name
            ));
        }
        if r.start > copied {
            parts.push(Part::Text(text[copied..r.start].to_string()));
        }
        parts.push(Part::Param(i));
        copied = r.end;
    }
    if copied < text.len() {
        parts.push(Part::Text(text[copied..].to_string()));
    }
    Ok(Arg::Concat(parts))
}

/// The parameter names an element mentions, read leniently (for an element with a mistake in it).
pub fn mentioned(text: &str) -> Vec<String> {
    let mut names: Vec<String> = match text.strip_prefix('$') {
        Some(name) if is_name(name) => vec![name.to_string()],
        _ => Vec::new(),
    };
    if let Ok(refs) = template::references(text) {
        names.extend(refs.into_iter().map(|r| r.name));
    }
    names
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn did_you_mean(name: &str, params: &[(&str, bool)]) -> String {
    match crate::diag::suggest(name, params.iter().map(|(n, _)| *n)) {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

impl Arg {
    /// The parameters this element uses.
    pub fn params(&self) -> Vec<usize> {
        match self {
            Arg::Text(_) => Vec::new(),
            Arg::Param(i) => vec![*i],
            Arg::Concat(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    Part::Param(i) => Some(*i),
                    Part::Text(_) => None,
                })
                .collect(),
        }
    }
}

/// The text a scalar value is sent as: strings as they are, numbers in their shortest decimal
/// form, booleans as `true`/`false`; arrays and maps (inside an array or map) as JSON text.
pub fn scalar_text(value: &Value) -> std::borrow::Cow<'_, str> {
    match value {
        Value::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

/// The arguments a whole-element parameter's value expands to (see the module docs).
pub fn expand(value: &Value, mut push: impl FnMut(&str)) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| push(&scalar_text(v))),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            push(k);
            push(&scalar_text(v));
        }),
        other => push(&scalar_text(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &[(&str, bool)] = &[("id", true), ("names", false)];

    #[test]
    fn elements() {
        assert_eq!(parse_arg("GET", P), Ok(Arg::Text("GET".into())));
        assert_eq!(parse_arg("$id", P), Ok(Arg::Param(0)));
        assert_eq!(parse_arg("{{ .names }}", P), Ok(Arg::Param(1)));
        assert_eq!(parse_arg("$$id", P), Ok(Arg::Text("$id".into())));
        assert_eq!(parse_arg("$5", P), Ok(Arg::Text("$5".into())), "not a name: literal, as in the reference");
        assert_eq!(
            parse_arg("user:{{.id}}:x", P),
            Ok(Arg::Concat(vec![Part::Text("user:".into()), Part::Param(0), Part::Text(":x".into())]))
        );
        assert!(parse_arg("$ids", P).unwrap_err().contains("did you mean `id`"));
        assert!(parse_arg("k:{{.names}}", P).unwrap_err().contains("whole element"));
        assert!(parse_arg("{{.nope}}", P).unwrap_err().contains("names no parameter"));
    }

    #[test]
    fn expansion() {
        let mut out = Vec::new();
        expand(&serde_json::json!(["a", 1, 2.5, true, [1]]), |s| out.push(s.to_string()));
        expand(&serde_json::json!({"f": "v", "n": 3}), |s| out.push(s.to_string()));
        expand(&serde_json::json!(-7), |s| out.push(s.to_string()));
        assert_eq!(out, ["a", "1", "2.5", "true", "[1]", "f", "v", "n", "3", "-7"]);
    }
}
