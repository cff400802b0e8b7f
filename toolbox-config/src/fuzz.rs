//! Property-based fuzzing of the reader (proptest): whatever `tools.yaml` holds, `load_str`
//! answers diagnostics whose positions lie inside the text and whose excerpts render, and never
//! panics.
//!
//! Random text rarely gets past the YAML parser, so most cases are built from the real vocabulary:
//! flat and legacy documents with the kinds, types and field names the reader knows, nested
//! parameters, `${VAR...}` placeholders and `{{.x}}` references, rendered as block or flow YAML
//! and then mutated (a token inserted, a range deleted, a line duplicated or re-indented).
//!
//! Each property runs a fixed number of cases in `cargo test`; `TOOLBOX_FUZZ_CASES=100000` runs
//! that many instead. A crash found here is fixed and kept as a named test in `regressions`.

use crate::diag::{Diagnostic, Pos};
use crate::{LoadOptions, load_str};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;

/// `cases` per property, or `TOOLBOX_FUZZ_CASES` for a longer run.
fn config(cases: u32) -> Config {
    let cases = std::env::var("TOOLBOX_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    Config { cases, ..Config::default() }
}

/// The build-time environment the reader sees: set, empty, and odd values.
fn env(name: &str) -> Option<String> {
    match name {
        "SET" => Some("value".into()),
        "EMPTY" => Some(String::new()),
        "TABLE" => Some("flights".into()),
        "HUGE" => Some("9".repeat(40) + "h"),
        "YAML" => Some("a: [b, {c: d}]\n- e".into()),
        _ => None,
    }
}

/// The lines of `text` as YAML counts them: `\n`, `\r\n` and a lone `\r` end a line.
fn yaml_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    // The text after the last line break: the line a diagnostic at the end of the file is on.
    lines.push(&text[start..]);
    lines
}

/// Loads `text` and checks every diagnostic: a line and column inside the text (the column may
/// be one past the end of its line, where an unterminated construct is noticed), and a rendering
/// that names the position and shows the line with a caret.
fn check(text: &str) -> Result<(), TestCaseError> {
    let (_, diags) = load_str(text, &LoadOptions { env: &env });
    let lines = yaml_lines(text);
    for d in &diags {
        let Pos { line, col, .. } = d.pos;
        prop_assert!(line >= 1 && line as usize <= lines.len(), "line {line} of {} in {d:?}", lines.len());
        let width = lines[line as usize - 1].chars().count();
        prop_assert!(col >= 1 && col as usize <= width + 1, "column {col} of a line of {width} in {d:?}");
        let rendered = d.render("tools.yaml", text);
        let head = format!("tools.yaml:{line}:{col}: {}", d.message);
        prop_assert!(rendered.starts_with(&head), "{rendered}");
        prop_assert!(rendered.contains(&format!("\n{line} | ")), "no excerpt in {rendered:?}");
        let caret = rendered.lines().find(|l| l.trim_end().ends_with('^'));
        prop_assert!(caret.is_some(), "no caret in {rendered:?}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The vocabulary.

const KINDS: &[&str] = &["source", "authService", "tool", "toolset", "group", "prompt", "embeddingModel", "tools"];
const SECTIONS: &[&str] =
    &["sources", "authServices", "authSources", "tools", "toolsets", "groups", "prompts", "embeddingModels", "tool"];
const TYPES: &[&str] = &[
    "sqlite",
    "postgres",
    "mysql",
    "sqlite-sql",
    "sqlite-execute-sql",
    "postgres-sql",
    "postgres-execute-sql",
    "postgres-list-tables",
    "mysql-sql",
    "mysql-execute-sql",
    "mysql-list-tables",
    "google",
    "generic",
    "custom",
    "cloud-sql-postgres",
    "mariadb",
    "sqlite-sq",
];
const PARAM_TYPES: &[&str] = &["string", "integer", "float", "boolean", "array", "map", "integr", "object"];
const FIELDS: &[&str] = &[
    "name",
    "type",
    "kind",
    "source",
    "description",
    "statement",
    "parameters",
    "templateParameters",
    "database",
    "schemaFile",
    "seedFile",
    "readOnly",
    "host",
    "port",
    "user",
    "password",
    "queryParams",
    "connectTimeout",
    "queryTimeout",
    "queryExecMode",
    "maxConnections",
    "sqlCommenter",
    "mcpEnabled",
    "scopesRequired",
    "clientId",
    "audience",
    "authorizationServer",
    "introspectionEndpoint",
    "introspectionMethod",
    "introspectionParamName",
    "introspectionClientId",
    "introspectionClientSecret",
    "forceIntrospection",
    "tools",
    "prompts",
    "ttlMs",
    "cacheScope",
    "messages",
    "role",
    "content",
    "arguments",
    "required",
    "default",
    "allowedValues",
    "excludedValues",
    "minValue",
    "maxValue",
    "items",
    "valueType",
    "authServices",
    "authSources",
    "field",
    "escape",
    "valueFromParam",
    "mcpHeader",
    "embeddedBy",
    "maxRows",
    "authRequired",
    "annotations",
    "readOnlyHint",
    "destructiveHint",
    "idempotentHint",
    "openWorldHint",
    "statment",
    "tpye",
];
const SCALARS: &[&str] = &[
    "",
    "~",
    "null",
    "true",
    "false",
    "yes",
    "0",
    "-0",
    "1",
    "-1",
    "10",
    "3.5",
    "1e400",
    "-1e400",
    ".nan",
    ".inf",
    "-.inf",
    "0x1F",
    "0o17",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999999",
    "18446744073709551616",
    "30s",
    "500ms",
    "2m",
    "1h",
    "0s",
    "-1s",
    "1e30h",
    "99999999999999999999h",
    "1e308",
    "184467440737095516160s",
    "5d",
    ".5s",
    "1.5.5s",
    "POST",
    "GET",
    "PUT",
    "public",
    "private",
    "user",
    "assistant",
    "system",
    "double-quotes",
    "backticks",
    "brackets",
    "cache_statement",
    "https://auth.example.com",
    "http://127.0.0.1:8080",
    "http://[::1]:80",
    "http://",
    "https://@/x",
    "http://[",
    "ftp://x",
    "SELECT ?",
    "SELECT ?1, ?2",
    "SELECT * FROM flights WHERE id = $1",
    "SELECT {{.table}}",
    "SELECT * FROM {{ .t }} WHERE x = ?",
    "{{if .x}}y{{end}}",
    "{{.x",
    "{{}}",
    "{{.}}",
    "{{.é}}",
    "${SET}",
    "${UNSET}",
    "${EMPTY:?needed}",
    "${UNSET:default}",
    "${UNSET:-x}",
    "${HUGE}",
    "${YAML}",
    "${}",
    "${",
    "${A:",
    "$${SET}",
    "${SET}${UNSET}${",
    "a${é}b",
    "flights",
    "origin",
    "db",
    "airline",
    "bad name",
    "é",
    "日本語",
    "😀",
    "a\tb",
    "Region",
    "Mcp-Param",
    "bad header",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(SCALARS).prop_map(str::to_string),
        2 => select(TYPES).prop_map(str::to_string),
        1 => select(PARAM_TYPES).prop_map(str::to_string),
        1 => select(KINDS).prop_map(str::to_string),
        1 => "[a-z_]{1,8}",
        1 => "\\PC{0,12}",
        1 => (select(SCALARS), select(SCALARS)).prop_map(|(a, b)| format!("{a} {b}")),
        1 => (select(SCALARS), select(SCALARS)).prop_map(|(a, b)| format!("{a}\n{b}")),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(FIELDS).prop_map(str::to_string),
        1 => select(SECTIONS).prop_map(str::to_string),
        1 => "[a-zA-Z_]{1,8}",
        1 => "\\PC{1,6}",
    ]
}

/// A YAML node; `flow` renders a collection as `{..}` / `[..]`.
#[derive(Clone, Debug)]
enum Y {
    Scalar(String),
    Map(Vec<(String, Y)>, bool),
    Seq(Vec<Y>, bool),
}

fn s(text: &str) -> Y {
    Y::Scalar(text.to_string())
}

/// Any tree of vocabulary keys and values.
fn tree() -> impl Strategy<Value = Y> {
    word().prop_map(Y::Scalar).prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            (prop::collection::vec((key(), inner.clone()), 0..6), any::<bool>()).prop_map(|(m, f)| Y::Map(m, f)),
            (prop::collection::vec(inner, 0..5), any::<bool>()).prop_map(|(s, f)| Y::Seq(s, f)),
        ]
    })
}

/// A parameter: name, type, description, and some of the other parameter fields, with `items`
/// nesting further parameters.
fn param() -> impl Strategy<Value = Y> {
    let leaf = param_fields(Just(None).boxed());
    leaf.prop_recursive(3, 12, 1, |inner| param_fields(prop::option::of(inner).boxed()))
}

fn param_fields(items: BoxedStrategy<Option<Y>>) -> impl Strategy<Value = Y> {
    let extra = prop::collection::vec((select(PARAM_FIELDS), tree()), 0..4);
    let values = prop::collection::vec(word().prop_map(Y::Scalar), 0..4);
    (select(PARAM_NAMES), select(PARAM_TYPES), word(), extra, items, prop::option::of(values), any::<bool>()).prop_map(
        |(name, ty, description, extra, items, allowed, flow)| {
            let mut m =
                vec![("name".into(), s(name)), ("type".into(), s(ty)), ("description".into(), Y::Scalar(description))];
            m.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
            if let Some(items) = items {
                m.push(("items".into(), items));
            }
            if let Some(values) = allowed {
                m.push(("allowedValues".into(), Y::Seq(values, flow)));
            }
            Y::Map(m, flow)
        },
    )
}

const PARAM_NAMES: &[&str] = &["origin", "limit", "n", "x", "item", "bad name", "${SET}", ""];
const PARAM_FIELDS: &[&str] = &[
    "required",
    "default",
    "allowedValues",
    "excludedValues",
    "minValue",
    "maxValue",
    "valueType",
    "authServices",
    "escape",
    "valueFromParam",
    "mcpHeader",
    "embeddedBy",
    "items",
];

/// Values of settings: durations, counts and flags around their limits.
fn setting() -> impl Strategy<Value = Y> {
    prop_oneof![
        "[0-9]{1,25}(\\.[0-9]{0,3})?(ms|s|m|h|)",
        "-?[0-9]{1,20}",
        "-?[0-9]\\.[0-9]e[+-]?[0-9]{1,3}(ms|s|h|)",
        select(&["true", "false", "0", "1", "1000", "1001", "-1", "${SET}", "${HUGE}"][..]).prop_map(str::to_string),
    ]
    .prop_map(Y::Scalar)
}

/// Fields whose values are settings.
const SETTINGS: &[&str] = &[
    "queryTimeout",
    "connectTimeout",
    "maxRows",
    "maxConnections",
    "ttlMs",
    "readOnly",
    "mcpEnabled",
    "forceIntrospection",
    "port",
    "required",
    "minValue",
    "maxValue",
    "default",
];

/// Kinds with the types they take, so that most definitions get past the type check.
const KIND_TYPES: &[(&str, &str)] = &[
    ("source", "sqlite"),
    ("source", "postgres"),
    ("source", "mysql"),
    ("tool", "sqlite-sql"),
    ("tool", "sqlite-execute-sql"),
    ("tool", "postgres-sql"),
    ("tool", "postgres-execute-sql"),
    ("tool", "postgres-list-tables"),
    ("tool", "mysql-sql"),
    ("tool", "mysql-list-tables"),
    ("authService", "google"),
    ("authService", "generic"),
    ("prompt", "custom"),
    ("toolset", ""),
    ("group", ""),
];

/// The body of one definition: `type` and fields, parameters and template parameters.
fn body(legacy: bool) -> impl Strategy<Value = Y> {
    (
        select(TYPES),
        prop::collection::vec(
            prop_oneof![(key(), tree()), (select(SETTINGS).prop_map(str::to_string), setting())],
            0..6,
        ),
        prop::option::of(prop::collection::vec(param(), 0..4)),
        prop::option::of(prop::collection::vec(param(), 0..2)),
        prop::option::of(word()),
    )
        .prop_map(move |(ty, fields, params, templates, statement)| {
            let mut m = vec![((if legacy { "kind" } else { "type" }).to_string(), s(ty))];
            m.extend(fields);
            if let Some(p) = params {
                m.push(("parameters".into(), Y::Seq(p, false)));
            }
            if let Some(t) = templates {
                m.push(("templateParameters".into(), Y::Seq(t, false)));
            }
            if let Some(st) = statement {
                m.push(("statement".into(), Y::Scalar(st)));
            }
            m
        })
        .prop_map(|m| Y::Map(m, false))
}

/// One document: flat (`kind`, `name`, then a body), legacy (sections of named bodies), or any tree.
fn document() -> impl Strategy<Value = Y> {
    let kind_type = prop_oneof![
        3 => select(KIND_TYPES).prop_map(|(k, t)| (k, Some(t))),
        1 => select(KINDS).prop_map(|k| (k, None)),
    ];
    let flat = (kind_type, word(), body(false)).prop_map(|((kind, ty), name, body)| {
        let Y::Map(fields, flow) = body else { unreachable!() };
        let mut m = vec![("kind".into(), s(kind)), ("name".into(), Y::Scalar(name))];
        if let Some(ty) = ty {
            // Comes before the body's own `type`, so it is the one kept.
            m.push(("type".into(), s(ty)));
        }
        m.extend(fields);
        Y::Map(m, flow)
    });
    let legacy = prop::collection::vec(
        (select(SECTIONS), prop::collection::vec((word(), prop_oneof![body(true), tree()]), 0..3)),
        1..3,
    )
    .prop_map(|sections| {
        Y::Map(sections.into_iter().map(|(k, defs)| (k.to_string(), Y::Map(defs, false))).collect(), false)
    });
    prop_oneof![4 => flat, 2 => legacy, 1 => tree()]
}

// ---------------------------------------------------------------------------------------------
// Rendering YAML text.

/// A scalar as YAML: plain when that reads back as the same text, else double-quoted (JSON
/// escapes are YAML escapes), and sometimes a literal block for multi-line text.
fn scalar(text: &str, indent: usize, out: &mut String) {
    let plain = !text.is_empty()
        && !text.starts_with(|c: char| c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !text.ends_with(char::is_whitespace)
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(':')
        && !text.chars().any(|c| c.is_control() || c == '\u{feff}' || "{}[],".contains(c));
    if plain {
        out.push_str(text);
    } else if text.contains('\n')
        && !text.starts_with([' ', '\n'])
        && !text.chars().any(|c| c.is_control() && c != '\n')
    {
        out.push_str("|-\n");
        for line in text.split('\n') {
            out.push_str(&" ".repeat(indent + 2));
            out.push_str(line);
            out.push('\n');
        }
        out.pop();
    } else {
        out.push_str(&serde_json::to_string(text).unwrap_or_default());
    }
}

/// The entries of a mapping without repeated keys (a repeated key is a YAML error, and the
/// point of these documents is to get past the parser).
fn unique(entries: &[(String, Y)]) -> impl Iterator<Item = &(String, Y)> {
    entries.iter().enumerate().filter(|(i, (k, _))| !entries[..*i].iter().any(|(seen, _)| seen == k)).map(|(_, e)| e)
}

fn flow(y: &Y, out: &mut String) {
    match y {
        Y::Scalar(t) => out.push_str(&serde_json::to_string(t).unwrap_or_default()),
        Y::Map(m, _) => {
            out.push('{');
            for (i, (k, v)) in unique(m).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push_str(": ");
                flow(v, out);
            }
            out.push('}');
        }
        Y::Seq(s, _) => {
            out.push('[');
            for (i, v) in s.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(v, out);
            }
            out.push(']');
        }
    }
}

/// Writes a value that follows `key:` or `-`.
fn value(y: &Y, indent: usize, out: &mut String) {
    match y {
        Y::Scalar(t) => {
            out.push(' ');
            scalar(t, indent, out);
            out.push('\n');
        }
        Y::Map(m, f) if *f || m.is_empty() => {
            out.push(' ');
            flow(y, out);
            out.push('\n');
        }
        Y::Seq(s, f) if *f || s.is_empty() => {
            out.push(' ');
            flow(y, out);
            out.push('\n');
        }
        _ => {
            out.push('\n');
            block(y, indent + 2, out);
        }
    }
}

fn block(y: &Y, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match y {
        Y::Map(m, _) => {
            for (k, v) in unique(m) {
                out.push_str(&pad);
                if k.contains('\n') {
                    // A key is one line: quoted.
                    out.push_str(&serde_json::to_string(k).unwrap_or_default());
                } else {
                    scalar(k, indent, out);
                }
                out.push(':');
                value(v, indent, out);
            }
        }
        Y::Seq(s, _) => {
            for v in s {
                out.push_str(&pad);
                out.push('-');
                value(v, indent, out);
            }
        }
        Y::Scalar(_) => {
            out.push_str(&pad);
            value(y, indent, out);
        }
    }
}

fn yaml(documents: &[Y]) -> String {
    let mut out = String::new();
    for (i, d) in documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        match d {
            Y::Map(m, _) if !m.is_empty() => block(d, 0, &mut out),
            _ => {
                flow(d, &mut out);
                out.push('\n');
            }
        }
    }
    out
}

/// Edits that break a well-formed file in the ways a hand-edited one breaks.
#[derive(Clone, Debug)]
enum Mutation {
    Insert(usize, &'static str),
    Delete(usize, usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Indent(usize, usize),
    Dedent(usize),
}

const TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "'",
    "\"",
    "#",
    "---\n",
    "...\n",
    "${",
    "${X",
    "{{",
    "}}",
    "{{.",
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "!custom ",
    "? ",
    "|",
    ">",
    "%YAML 1.2\n",
    "\u{feff}",
    "é",
    "😀",
    "\0",
    "\u{85}",
    "\u{2028}",
    "<<: *a\n",
    "- - - ",
    "\\",
    "\\u",
    "%",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), select(TOKENS)).prop_map(|(at, t)| Mutation::Insert(at, t)),
        2 => (any::<usize>(), 1..12usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (any::<usize>(), 1..4usize).prop_map(|(l, n)| Mutation::Indent(l, n)),
        1 => any::<usize>().prop_map(Mutation::Dedent),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for m in mutations {
        let text: String = chars.iter().collect();
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        let n = lines.len();
        match *m {
            Mutation::Insert(at, token) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, token.chars());
                continue;
            }
            Mutation::Delete(at, len) => {
                if chars.is_empty() {
                    continue;
                }
                let at = at % chars.len();
                chars.drain(at..(at + len).min(chars.len()));
                continue;
            }
            Mutation::DuplicateLine(l) => {
                let line = lines[l % n].clone();
                lines.insert(l % n, line);
            }
            Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
            Mutation::Indent(l, k) => lines[l % n].insert_str(0, &" ".repeat(k)),
            Mutation::Dedent(l) => {
                let line = &mut lines[l % n];
                if line.starts_with(' ') {
                    line.remove(0);
                }
            }
        }
        chars = lines.join("\n").chars().collect();
    }
    chars.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config(256))]

    /// Any text at all.
    #[test]
    fn any_text_gives_positioned_diagnostics(text in "\\PC{0,200}|(\\PC|[\\r\\n\\t:#\\-\\[\\]{}'\"]){0,200}") {
        check(&text)?;
    }

    /// Any bytes, read as a file would be (invalid UTF-8 replaced).
    #[test]
    fn any_bytes_give_positioned_diagnostics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

}

proptest! {
    // Each of these cases builds, renders and reads a whole file of several documents.
    #![proptest_config(config(128))]

    /// Well-formed YAML from the real vocabulary: gets past the parser into every check.
    #[test]
    fn vocabulary_documents_give_positioned_diagnostics(documents in prop::collection::vec(document(), 1..4)) {
        check(&yaml(&documents))?;
    }

    /// The same documents, then broken by edits.
    #[test]
    fn mutated_documents_give_positioned_diagnostics(
        documents in prop::collection::vec(document(), 1..3),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        check(&mutate(&yaml(&documents), &mutations))?;
    }

}

proptest! {
    #![proptest_config(config(256))]

    /// Rendering any position against any text (a diagnostic made elsewhere, a stale position).
    #[test]
    fn rendering_any_position_never_panics(
        line in prop_oneof![0..6u32, any::<u32>()],
        col in prop_oneof![0..12u32, any::<u32>()],
        text in "(\\PC|[\\r\\n\\t]){0,80}",
        hint in prop::option::of("\\PC{0,10}"),
    ) {
        let mut d = Diagnostic::new(Pos::new(line, col), "m");
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        let rendered = d.render("tools.yaml", &text);
        let head = format!("tools.yaml:{line}:{col}: m");
        prop_assert!(rendered.starts_with(&head));
    }

    /// Placeholders: resolving any text never panics, and with every variable set to a value
    /// without placeholders, nothing is left to resolve.
    #[test]
    fn placeholders_resolve_any_text(text in "(\\PC|\\$\\{|[A-Z_:?\\-}]){0,60}") {
        let _ = crate::env::resolve(&text, env);
        for p in crate::env::placeholders(&text) {
            prop_assert!(text.is_char_boundary(p.offset) && text.is_char_boundary(p.offset + p.len));
            prop_assert!(text[p.offset..].starts_with("${"), "{:?} at {}", text, p.offset);
        }
        let resolved = crate::env::resolve(&text, |_| Some("v".into()));
        if let Ok(r) = resolved {
            prop_assert!(crate::env::placeholders(&r).len() <= crate::env::placeholders(&text).len());
        }
    }

    /// `{{.x}}` references: any text is read or refused without a panic, and each reference
    /// found spans `{{ ... }}` in the text.
    #[test]
    fn template_references_in_any_text(text in "(\\PC|\\{\\{|\\}\\}|\\.[a-z]|[{}. ]){0,60}") {
        if let Ok(refs) = crate::template::references(&text) {
            for r in &refs {
                prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                let span = &text[r.start..r.end];
                prop_assert!(span.starts_with("{{") && span.ends_with("}}"), "{:?}", span);
            }
            let _ = crate::template::render(&text, &refs, |n| n.to_uppercase());
        }
    }

    /// Durations (`queryTimeout`, `connectTimeout`): any text is a duration or `None`.
    #[test]
    fn durations_parse_any_text(
        text in "[0-9]{0,25}(\\.[0-9]{0,3})?(ms|s|m|h|d|)|[0-9.e+\\-]{0,30}(ms|s|m|h|d|)|\\PC{0,20}",
        bare in any::<bool>(),
    ) {
        let _ = crate::duration::parse(&text, bare);
    }
}

/// A check on the generator itself: most vocabulary documents must parse as YAML, or the
/// properties above would only exercise the syntax error path.
#[test]
fn vocabulary_documents_are_mostly_valid_yaml() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = prop::collection::vec(document(), 1..4);
    let (mut syntax_errors, total) = (0, 100);
    for _ in 0..total {
        let documents = strategy.new_tree(&mut runner).expect("a case").current();
        let text = yaml(&documents);
        if crate::yaml::load(&text).is_err() {
            syntax_errors += 1;
        }
    }
    assert!(syntax_errors * 20 < total, "{syntax_errors} of {total} generated documents are not YAML");
}

/// Inputs that crashed the reader once, kept as they were found.
mod regressions {
    use super::check;
    use crate::diag::Pos;

    fn run(text: &str) {
        check(text).unwrap_or_else(|e| panic!("{e}"));
    }

    /// A syntax error at the end of a file without a final line break was placed on a line
    /// after the last, which no excerpt could show.
    #[test]
    fn an_error_at_the_end_of_the_last_line() {
        run("{\u{1daa1}");
        let (_, diags) = crate::load_str("{a", &crate::LoadOptions { env: &|_| None });
        assert_eq!(diags[0].pos, Pos::new(1, 3), "one past the end of the only line: {diags:?}");
    }

    /// A lone `\r` ends a line for YAML, not for `str::lines`: the excerpt of a diagnostic on the
    /// line after it was missing.
    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        run("\u{1}\u{1}\r\0\0");
        let text = "kind: tool\rname: a\0b\rtype: x\r";
        let (_, diags) = crate::load_str(text, &crate::LoadOptions { env: &|_| None });
        assert_eq!(diags[0].pos.line, 2, "{diags:?}");
        assert!(diags[0].render("tools.yaml", text).contains("\n2 | name: a\0b\n"), "{diags:?}");
    }

    /// `queryTimeout: 20000000000000000000000ms` is beyond `Duration`'s range: the reader
    /// panicked converting it.
    #[test]
    fn a_duration_beyond_range() {
        run(
            "kind: tool\nname: t\ntype: sqlite-sql\nsource: s\ndescription: d\nstatement: SELECT 1\nqueryTimeout: 20000000000000000000000ms\n",
        );
    }

    /// `- - - ... x`: saphyr's loader recursed once per level and overflowed the stack.
    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for depth in [65, 1_000, 100_000] {
            for text in [
                format!("{}x\n", "- ".repeat(depth)),
                format!("a:\n  {}x\n", "- ".repeat(depth)),
                format!("{}1{}", "[".repeat(depth.min(250)), "]".repeat(depth.min(250))),
                format!("kind: tool\nname: t\ndefault:\n  {}1\n", "- ".repeat(depth)),
                // An alias counts as deep as its anchor.
                format!("a: &a {}1{}\nb:\n{}*a\n", "[".repeat(40), "]".repeat(40), "- ".repeat(depth.min(40))),
            ] {
                run(&text);
                let (_, diags) = crate::load_str(&text, &crate::LoadOptions { env: &|_| None });
                assert!(diags.iter().any(|d| d.message.contains("levels deep")), "{diags:?}");
            }
        }
        let (_, diags) = crate::load_str(&format!("{}x\n", "- ".repeat(64)), &crate::LoadOptions { env: &|_| None });
        assert!(diags.iter().all(|d| !d.message.contains("levels deep")), "64 levels are allowed");
    }
}
