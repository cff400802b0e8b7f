//! A thin, position-keeping view over saphyr's marked YAML tree.

use crate::diag::{Diagnostic, Pos};
use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};
use serde_json::Value;

pub(crate) type Node = MarkedYamlOwned;

thread_local! {
    /// The file whose nodes are being read (see [`Pos::file`]): saphyr's markers know only a
    /// line and a column, and positions are made from them in many places of the reader.
    static FILE: std::cell::Cell<u16> = const { std::cell::Cell::new(0) };
}

/// Runs `read` with the positions of nodes (and syntax errors) placed in file `file`.
pub(crate) fn in_file<R>(file: u16, read: impl FnOnce() -> R) -> R {
    let outer = FILE.with(|f| f.replace(file));
    let result = read();
    FILE.with(|f| f.set(outer));
    result
}

fn at(line: usize, col: usize) -> Pos {
    Pos::new(line as u32, col as u32 + 1).in_file(FILE.with(|f| f.get()))
}

/// The deepest nesting of sequences and mappings a file may have. Real files nest a few levels
/// (a parameter's `items` of `items`); saphyr's loader recurses once per level, and so do
/// [`to_json`] and the reader, so a deeper file would overflow the stack of the build instead of
/// failing it (`- - - ... x` on one line, found by the fuzz suite).
pub(crate) const MAX_DEPTH: usize = 64;

/// Where a file nests deeper than [`MAX_DEPTH`], read from the parser's events one by one (no
/// recursion). An alias counts as deep as its anchor. A syntax error ends the scan: the loader
/// reports it.
fn too_deep(source: &str) -> Option<Diagnostic> {
    use saphyr_parser::{Event, Parser};
    // Per open collection: its anchor, and the deepest level reached inside it.
    let mut open: Vec<(usize, usize)> = Vec::new();
    // Per anchor: how many levels its value spans.
    let mut heights: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for event in Parser::new_from_str(source) {
        let Ok((event, span)) = event else { return None };
        let reached = match event {
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, open.len() + 1));
                open.len()
            }
            Event::Alias(anchor) => open.len() + heights.get(&anchor).copied().unwrap_or(0),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, deepest)) = open.pop() {
                    if anchor != 0 {
                        heights.insert(anchor, deepest - open.len());
                    }
                }
                continue;
            }
            _ => continue,
        };
        if reached > MAX_DEPTH {
            let at = at(span.start.line(), span.start.col());
            return Some(
                Diagnostic::new(at, format!("the file nests lists and mappings more than {MAX_DEPTH} levels deep"))
                    .with_hint("tools.yaml needs a few levels; this is likely a stray run of `- ` or `[`"),
            );
        }
        for frame in &mut open {
            frame.1 = frame.1.max(reached);
        }
    }
    None
}

/// Parses every document of a YAML stream, or returns the syntax error.
pub(crate) fn load(source: &str) -> Result<Vec<Node>, Diagnostic> {
    if let Some(d) = too_deep(source) {
        return Err(d);
    }
    Node::load_from_str(source).map_err(|e| {
        let m = e.marker();
        let hint = if e.info().contains("mapping values are not allowed") {
            "a plain value cannot contain `: `; quote it (`description: \"Note: ...\"`), or fix this line's indentation"
        } else if e.info().contains("flow") {
            "a `[` or `{` opened above is not closed (the parser noticed here), or an entry in it is malformed"
        } else {
            "fix the YAML syntax at this position (indentation, a missing `:` or an unclosed quote)"
        };
        Diagnostic::new(at(m.line(), m.col()), format!("YAML syntax error: {}", e.info())).with_hint(hint)
    })
}

pub(crate) fn pos(node: &Node) -> Pos {
    at(node.span.start.line(), node.span.start.col())
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
