//! A thin, position-keeping view over saphyr's marked YAML tree.

use crate::diag::{Diagnostic, Pos};
use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};
use serde_json::Value;

pub(crate) type Node = MarkedYamlOwned;

/// Parses every document of a YAML stream, or returns the syntax error.
pub(crate) fn load(source: &str) -> Result<Vec<Node>, Diagnostic> {
    Node::load_from_str(source).map_err(|e| {
        let m = e.marker();
        let hint = if e.info().contains("mapping values are not allowed") {
            "a plain value cannot contain `: `; quote it (`description: \"Note: ...\"`), or fix this line's indentation"
        } else if e.info().contains("flow") {
            "a `[` or `{` opened above is not closed (the parser noticed here), or an entry in it is malformed"
        } else {
            "fix the YAML syntax at this position (indentation, a missing `:` or an unclosed quote)"
        };
        Diagnostic::new(Pos::new(m.line() as u32, m.col() as u32 + 1), format!("YAML syntax error: {}", e.info()))
            .with_hint(hint)
    })
}

pub(crate) fn pos(node: &Node) -> Pos {
    Pos::new(node.span.start.line() as u32, node.span.start.col() as u32 + 1)
}

/// The kind of a node as a user would name it, for messages.
pub(crate) fn describe(node: &Node) -> &'static str {
    match &node.data {
        YamlDataOwned::Value(ScalarOwned::Null) => "null",
        YamlDataOwned::Value(ScalarOwned::Boolean(_)) => "a boolean",
        YamlDataOwned::Value(ScalarOwned::Integer(_)) => "an integer",
        YamlDataOwned::Value(ScalarOwned::FloatingPoint(_)) => "a number",
        YamlDataOwned::Value(ScalarOwned::String(_)) => "a string",
        YamlDataOwned::Sequence(_) => "a list",
        YamlDataOwned::Mapping(_) => "a mapping",
        YamlDataOwned::Tagged(..) => "a tagged value",
        YamlDataOwned::Alias(_) => "an alias",
        _ => "an invalid value",
    }
}

pub(crate) fn as_str(node: &Node) -> Option<&str> {
    match &node.data {
        YamlDataOwned::Value(ScalarOwned::String(s)) => Some(s),
        YamlDataOwned::Tagged(_, inner) => as_str(inner),
        _ => None,
    }
}

pub(crate) fn as_bool(node: &Node) -> Option<bool> {
    match &node.data {
        YamlDataOwned::Value(ScalarOwned::Boolean(b)) => Some(*b),
        _ => None,
    }
}

pub(crate) fn as_seq(node: &Node) -> Option<&[Node]> {
    match &node.data {
        YamlDataOwned::Sequence(items) => Some(items),
        _ => None,
    }
}

pub(crate) fn is_null(node: &Node) -> bool {
    matches!(node.data, YamlDataOwned::Value(ScalarOwned::Null))
}

/// The entries of a mapping, in file order, with string keys. A non-string key is reported.
pub(crate) fn entries<'a>(node: &'a Node, diags: &mut Vec<Diagnostic>) -> Option<Vec<(&'a str, &'a Node, Pos)>> {
    let YamlDataOwned::Mapping(map) = &node.data else { return None };
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        match as_str(k) {
            Some(key) => out.push((key, v, pos(k))),
            None => diags.push(Diagnostic::new(pos(k), format!("a key must be a string, found {}", describe(k)))),
        }
    }
    Some(out)
}

/// Converts a YAML value to JSON (for defaults and allowed values).
pub(crate) fn to_json(node: &Node) -> Option<Value> {
    Some(match &node.data {
        YamlDataOwned::Value(ScalarOwned::Null) => Value::Null,
        YamlDataOwned::Value(ScalarOwned::Boolean(b)) => Value::Bool(*b),
        YamlDataOwned::Value(ScalarOwned::Integer(i)) => Value::from(*i),
        YamlDataOwned::Value(ScalarOwned::FloatingPoint(f)) => serde_json::Number::from_f64(f.0).map(Value::Number)?,
        YamlDataOwned::Value(ScalarOwned::String(s)) => Value::String(s.clone()),
        YamlDataOwned::Sequence(items) => Value::Array(items.iter().map(to_json).collect::<Option<_>>()?),
        YamlDataOwned::Mapping(map) => {
            let mut object = serde_json::Map::new();
            for (k, v) in map {
                object.insert(as_str(k)?.to_string(), to_json(v)?);
            }
            Value::Object(object)
        }
        YamlDataOwned::Tagged(_, inner) => to_json(inner)?,
        _ => return None,
    })
}
