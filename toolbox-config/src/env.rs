//! `${VAR}` placeholders, with the reference server's four forms:
//!
//! | form | unset | set to "" | set |
//! |---|---|---|---|
//! | `${X}` | error | "" | value |
//! | `${X:default}` | default | "" | value |
//! | `${X:-default}` | default | default | value |
//! | `${X:?message}` | error with message | error with message | value |
//!
//! Names are `[A-Za-z0-9_]+`. A `$` not followed by a well-formed placeholder is literal text.
//! Placeholders are resolved per YAML scalar, after parsing, so a value can never inject YAML
//! structure and placeholders inside comments are ignored.

/// What to do when the variable is unset or empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// `${X}`: unset is an error.
    None,
    /// `${X:default}`: used when unset.
    IfUnset(String),
    /// `${X:-default}`: used when unset or empty.
    IfUnsetOrEmpty(String),
    /// `${X:?message}`: unset or empty is an error with this message.
    Required(String),
}

/// One placeholder found in a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    pub fallback: Fallback,
    /// Byte offset of the `$` in the string.
    pub offset: usize,
    /// Byte length of the whole placeholder.
    pub len: usize,
}

/// A placeholder that could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvError {
    pub name: String,
    /// Byte offset of the placeholder in the string it came from.
    pub offset: usize,
    pub message: String,
}

/// Finds the placeholders in `text`, in order.
pub fn placeholders(text: &str) -> Vec<Placeholder> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            if let Some(p) = parse_one(text, i) {
                i += p.len;
                found.push(p);
                continue;
            }
        }
        i += 1;
    }
    found
}

fn parse_one(text: &str, start: usize) -> Option<Placeholder> {
    let rest = &text[start + 2..];
    let name_len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    if name_len == 0 {
        return None;
    }
    let name = &rest[..name_len];
    let after = &rest[name_len..];
    let close = after.find('}')?;
    let body = &after[..close];
    let fallback = if body.is_empty() {
        Fallback::None
    } else if let Some(d) = body.strip_prefix(":-") {
        Fallback::IfUnsetOrEmpty(d.to_string())
    } else if let Some(m) = body.strip_prefix(":?") {
        Fallback::Required(m.to_string())
    } else if let Some(d) = body.strip_prefix(':') {
        Fallback::IfUnset(d.to_string())
    } else {
        return None;
    };
    Some(Placeholder { name: name.to_string(), fallback, offset: start, len: 2 + name_len + close + 1 })
}

/// Replaces every placeholder in `text` using `lookup`. All failures are returned together.
pub fn resolve(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, Vec<EnvError>> {
    let found = placeholders(text);
    if found.is_empty() {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut copied = 0;
    for p in &found {
        out.push_str(&text[copied..p.offset]);
        copied = p.offset + p.len;
        let value = lookup(&p.name);
        let error = |message: String| EnvError { name: p.name.clone(), offset: p.offset, message };
        match (&p.fallback, value) {
            (Fallback::Required(msg), Some(v)) if v.is_empty() => {
                errors.push(error(format!("required environment variable `{}` is empty: {msg}", p.name)))
            }
            (Fallback::IfUnsetOrEmpty(d), Some(v)) if v.is_empty() => out.push_str(d),
            (_, Some(v)) => out.push_str(&v),
            (Fallback::None, None) => errors.push(error(format!("environment variable `{}` is not set", p.name))),
            (Fallback::Required(msg), None) => {
                errors.push(error(format!("required environment variable `{}` is not set: {msg}", p.name)))
            }
            (Fallback::IfUnset(d) | Fallback::IfUnsetOrEmpty(d), None) => out.push_str(d),
        }
    }
    out.push_str(&text[copied..]);
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Resolves against the process environment.
pub fn resolve_from_process(text: &str) -> Result<String, Vec<EnvError>> {
    resolve(text, |name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn the_four_forms_follow_the_reference_table() {
        let cases = [
            ("${SET}", Ok("value")),
            ("${EMPTY}", Ok("")),
            ("${UNSET:d}", Ok("d")),
            ("${EMPTY:d}", Ok("")),
            ("${SET:d}", Ok("value")),
            ("${UNSET:-d}", Ok("d")),
            ("${EMPTY:-d}", Ok("d")),
            ("${SET:-d}", Ok("value")),
            ("${SET:?need it}", Ok("value")),
            ("${UNSET}", Err("environment variable `UNSET` is not set")),
            ("${UNSET:?need it}", Err("required environment variable `UNSET` is not set: need it")),
            ("${EMPTY:?need it}", Err("required environment variable `EMPTY` is empty: need it")),
        ];
        for (input, expected) in cases {
            let got = resolve(input, env).map_err(|e| e[0].message.clone());
            assert_eq!(got.as_deref().map_err(String::as_str), expected, "{input}");
        }
    }

    #[test]
    fn text_around_placeholders_is_kept_and_malformed_ones_are_literal() {
        assert_eq!(resolve("a ${SET} b ${UNSET:x:y} c", env).unwrap(), "a value b x:y c");
        assert_eq!(
            resolve("cost $5 and ${ not} and $SET and ${-x}", env).unwrap(),
            "cost $5 and ${ not} and $SET and ${-x}"
        );
    }

    #[test]
    fn every_missing_variable_is_reported_with_its_offset() {
        let errors = resolve("x${A} ${B}", env).unwrap_err();
        assert_eq!(errors.iter().map(|e| (e.name.as_str(), e.offset)).collect::<Vec<_>>(), [("A", 1), ("B", 6)]);
    }
}
