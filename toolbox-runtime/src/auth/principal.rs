//! A verified caller: the claims of a validated token and the scopes it grants.
//!
//! The claims are kept as the JSON text they arrived in; the map that authenticated parameters
//! read is built only when a parameter asks for a claim, so a call that needs no claim pays for
//! one scope scan and nothing else.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::OnceLock;

pub struct Principal {
    claims: Box<RawValue>,
    /// Granted scopes, separated by single spaces.
    scopes: Box<str>,
    parsed: OnceLock<Map<String, Value>>,
}

/// `scope` (RFC 8693 / RFC 9068: a space-separated string) or `scp` (a list, or a string, as
/// some providers send it).
#[derive(Deserialize)]
struct ScopeClaims<'a> {
    #[serde(borrow, default)]
    scope: Option<Scopes<'a>>,
    #[serde(borrow, default)]
    scp: Option<Scopes<'a>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scopes<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    List(#[serde(borrow)] Vec<Cow<'a, str>>),
    Other(serde::de::IgnoredAny),
}

impl Principal {
    /// Reads the scopes of a claims object (a JSON object, already validated by the caller).
    pub fn new(claims: Box<RawValue>) -> Self {
        let scopes = match serde_json::from_str::<ScopeClaims<'_>>(claims.get()) {
            Ok(c) => match c.scope.or(c.scp) {
                Some(Scopes::Text(s)) => s.split_ascii_whitespace().collect::<Vec<_>>().join(" "),
                // An entry is one scope token (RFC 6749 §3.3: no blanks). An entry with a blank
                // inside (`"read write"`) is not a scope, rather than two: joined as is, it
                // granted both; an empty one made `""` a granted scope. Found by the fuzz suite.
                Some(Scopes::List(list)) => list
                    .iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
                    .collect::<Vec<_>>()
                    .join(" "),
                Some(Scopes::Other(_)) | None => String::new(),
            },
            Err(_) => String::new(),
        };
        Self { claims, scopes: scopes.into_boxed_str(), parsed: OnceLock::new() }
    }

    /// Whether the token grants `scope`. The empty string is never a scope (splitting a token
    /// without scopes yields one empty piece, which granted `""`).
    pub fn has_scope(&self, scope: &str) -> bool {
        !scope.is_empty() && self.scopes.split(' ').any(|s| s == scope)
    }

    /// The granted scopes, space-separated.
    pub fn scopes(&self) -> &str {
        &self.scopes
    }

    /// The claims object as it arrived.
    pub fn claims_json(&self) -> &str {
        self.claims.get()
    }

    /// A top-level claim.
    pub fn claim(&self, field: &str) -> Option<&Value> {
        self.parsed.get_or_init(|| serde_json::from_str(self.claims.get()).unwrap_or_default()).get(field)
    }
}

impl std::fmt::Debug for Principal {
    /// Claims are personal data: only the scopes are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal").field("scopes", &self.scopes).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(json: &str) -> Principal {
        Principal::new(RawValue::from_string(json.to_string()).unwrap())
    }

    #[test]
    fn scopes_from_scope_or_scp() {
        let p = principal(r#"{"scope":"a  b\tc","sub":"x"}"#);
        assert_eq!(p.scopes(), "a b c");
        assert!(p.has_scope("b") && !p.has_scope("d") && !p.has_scope(""));
        assert_eq!(principal(r#"{"scp":["x","y"]}"#).scopes(), "x y");
        assert_eq!(principal(r#"{"scp":"x y"}"#).scopes(), "x y");
        assert_eq!(principal(r#"{"scope":42}"#).scopes(), "");
        assert_eq!(principal(r#"{"sub":"x"}"#).scopes(), "");
    }

    #[test]
    fn claims_are_read_on_demand() {
        let p = principal(r#"{"sub":"u1","email":"a@example.com","n":3}"#);
        assert_eq!(p.claim("email"), Some(&Value::from("a@example.com")));
        assert_eq!(p.claim("n"), Some(&Value::from(3)));
        assert_eq!(p.claim("missing"), None);
    }
}
