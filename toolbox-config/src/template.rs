//! `{{.name}}` references, in statements (template parameters) and prompt messages.
//!
//! Only the plain reference form is supported. The reference server runs a full Go template with
//! no quoting, which lets any value reach the SQL text; here a statement's template parameters must
//! be identifiers from a fixed list, so every variant of the statement is known, quoted and checked
//! at build time.

/// A `{{.name}}` found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    /// Byte range of the whole `{{ ... }}`.
    pub start: usize,
    pub end: usize,
}

/// Finds every `{{ ... }}` in `text`; anything but `{{.name}}` (spaces allowed) is an error.
pub fn references(text: &str) -> Result<Vec<Reference>, String> {
    scan(text, |inner| {
        parameter_name(inner)
            .ok_or_else(|| format!("`{{{{{inner}}}}}` is not supported; only `{{{{.name}}}}` references are"))
    })
    .map(|found| found.into_iter().map(|(name, start, end)| Reference { name: name.to_string(), start, end }).collect())
}

/// Each `{{ ... }}` of `text`: what `read` makes of its trimmed inside, and its byte range. The
/// one scanner of `{{` templates; readers differ in what they accept inside.
pub fn scan<'a, T>(
    text: &'a str,
    read: impl Fn(&'a str) -> Result<T, String>,
) -> Result<Vec<(T, usize, usize)>, String> {
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(open) = text[rest..].find("{{") {
        let start = rest + open;
        let Some(close) = text[start..].find("}}") else {
            return Err("an unclosed `{{`".into());
        };
        let end = start + close + 2;
        found.push((read(text[start + 2..end - 2].trim())?, start, end));
        rest = end;
    }
    Ok(found)
}

/// The `name` of `.name` (letters, digits, `_`), or `None`.
pub fn parameter_name(reference: &str) -> Option<&str> {
    reference.strip_prefix('.').filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Replaces each reference with `value(name)`.
pub fn render(text: &str, refs: &[Reference], value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for r in refs {
        out.push_str(&text[copied..r.start]);
        out.push_str(&value(&r.name));
        copied = r.end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plain_references_and_rejects_logic() {
        let refs = references("SELECT * FROM {{ .table }} WHERE {{.col}} = ?").unwrap();
        assert_eq!(refs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["table", "col"]);
        assert_eq!(render("a {{.x}} b", &references("a {{.x}} b").unwrap(), |n| format!("<{n}>")), "a <x> b");
        assert!(references("{{if .x}}y{{end}}").unwrap_err().contains("not supported"));
        assert!(references("{{.x").is_err());
    }
}
