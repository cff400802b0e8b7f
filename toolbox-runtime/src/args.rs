//! Tool arguments: checking a JSON object against static parameter definitions and extracting
//! typed values for generated argument structs.
//!
//! Differences from the reference server, on purpose: `allowedValues` compare by equality (the
//! reference treats strings as unanchored regular expressions, so `a` allows `cat`), unknown
//! argument names are refused (the reference ignores them, hiding typos in optional names), and
//! every message names the parameter.

use serde_json::{Map, Value};
use std::fmt;

/// A parameter's declared type: the config crate's own enum, so the build and the run time
/// cannot disagree on the set.
pub use toolbox_config::model::ParamType as ParamKind;

/// What a value of `kind` looks like, for messages.
pub(crate) fn expected(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::String => "a string",
        ParamKind::Integer => "an integer",
        ParamKind::Float => "a number",
        ParamKind::Boolean => "true or false",
        ParamKind::Array => "an array",
        ParamKind::Map => "an object",
    }
}

/// Whether a JSON value is of `kind`. Stricter than the build's check of constants: an integer
/// argument must fit `i64`, as it is bound.
fn accepts(kind: ParamKind, value: &Value) -> bool {
    match kind {
        ParamKind::String => value.is_string(),
        ParamKind::Integer => value.is_i64(),
        ParamKind::Float => value.is_number(),
        ParamKind::Boolean => value.is_boolean(),
        ParamKind::Array => value.is_array(),
        ParamKind::Map => value.is_object(),
    }
}

/// A constant from `tools.yaml` (a default or an allowed value).
#[derive(Clone, Copy, Debug)]
pub enum ConstValue {
    Str(&'static str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Arrays and objects, as JSON text.
    Json(&'static str),
}

impl ConstValue {
    pub fn to_value(self) -> Value {
        match self {
            ConstValue::Str(s) => Value::String(s.to_string()),
            ConstValue::Int(i) => Value::from(i),
            ConstValue::Float(f) => Value::from(f),
            ConstValue::Bool(b) => Value::Bool(b),
            ConstValue::Json(j) => serde_json::from_str(j).unwrap_or(Value::Null),
        }
    }

    fn matches(self, value: &Value) -> bool {
        match (self, value) {
            (ConstValue::Str(s), Value::String(v)) => s == v,
            (ConstValue::Int(i), v) => v.as_i64() == Some(i) || v.as_f64() == Some(i as f64),
            (ConstValue::Float(f), v) => v.as_f64() == Some(f),
            (ConstValue::Bool(b), Value::Bool(v)) => b == *v,
            (ConstValue::Json(_), v) => self.to_value() == *v,
            _ => false,
        }
    }
}

/// One declared parameter.
#[derive(Debug)]
pub struct ParamDef {
    pub name: &'static str,
    pub kind: ParamKind,
    pub required: bool,
    pub default: Option<ConstValue>,
    pub allowed: &'static [ConstValue],
    pub excluded: &'static [ConstValue],
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub items: Option<&'static ParamDef>,
    pub value_type: Option<ParamKind>,
    /// `(auth service, claim)` pairs: the value comes from a verified token, never the client.
    pub auth_services: &'static [(&'static str, &'static str)],
    /// Copy the value of this other argument.
    pub value_from: Option<&'static str>,
}

impl ParamDef {
    /// A required parameter with no constraints; the other methods add what `tools.yaml` says.
    pub const fn new(name: &'static str, kind: ParamKind) -> Self {
        Self {
            name,
            kind,
            required: true,
            default: None,
            allowed: &[],
            excluded: &[],
            min: None,
            max: None,
            items: None,
            value_type: None,
            auth_services: &[],
            value_from: None,
        }
    }

    pub const fn optional(self) -> Self {
        Self { required: false, ..self }
    }

    pub const fn default(self, value: ConstValue) -> Self {
        Self { default: Some(value), required: false, ..self }
    }

    pub const fn allowed(self, values: &'static [ConstValue]) -> Self {
        Self { allowed: values, ..self }
    }

    pub const fn excluded(self, values: &'static [ConstValue]) -> Self {
        Self { excluded: values, ..self }
    }

    pub const fn min(self, min: f64) -> Self {
        Self { min: Some(min), ..self }
    }

    pub const fn max(self, max: f64) -> Self {
        Self { max: Some(max), ..self }
    }

    pub const fn items(self, items: &'static ParamDef) -> Self {
        Self { items: Some(items), ..self }
    }

    pub const fn value_type(self, kind: ParamKind) -> Self {
        Self { value_type: Some(kind), ..self }
    }

    pub const fn auth_services(self, services: &'static [(&'static str, &'static str)]) -> Self {
        Self { auth_services: services, ..self }
    }

    pub const fn value_from(self, other: &'static str) -> Self {
        Self { value_from: Some(other), ..self }
    }

    /// Whether a client may send this argument (authenticated and copied ones are not its own).
    pub fn client_supplied(&self) -> bool {
        self.auth_services.is_empty() && self.value_from.is_none()
    }
}

/// Why arguments were refused; shown to the model as an `isError` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    pub param: String,
    pub problem: String,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid argument \"{}\": {}", self.param, self.problem)
    }
}

fn arg_error(param: &str, problem: impl Into<String>) -> ArgError {
    ArgError { param: param.to_string(), problem: problem.into() }
}

/// Verified token claims by auth service name; the auth layer fills it.
pub trait ClaimSource: Sync {
    fn claim(&self, service: &str, field: &str) -> Option<&Value>;

    /// Whether a token of this auth service was verified for this request.
    fn verified(&self, _service: &str) -> bool {
        false
    }

    /// Whether the request's MCP access token grants this scope.
    fn has_scope(&self, _scope: &str) -> bool {
        false
    }

    /// Who the verified token says the caller is (`iss` and `sub`), for per-caller limits.
    fn subject(&self) -> Option<String> {
        None
    }
}

/// No verified tokens.
pub struct NoClaims;

impl ClaimSource for NoClaims {
    fn claim(&self, _: &str, _: &str) -> Option<&Value> {
        None
    }
}

/// The `arguments` object of a `tools/call`.
#[derive(Debug, Default)]
pub struct Arguments {
    map: Map<String, Value>,
}

impl Arguments {
    pub fn new(map: Map<String, Value>) -> Self {
        Self { map }
    }

    /// Refuses arguments that no parameter takes. A value sent for an authenticated parameter is
    /// accepted and ignored (the schema says so): [`Arguments::value`] reads the claim instead.
    pub fn check_names(&self, params: &[ParamDef]) -> Result<(), ArgError> {
        for name in self.map.keys() {
            if !params.iter().any(|p| p.name == name && p.value_from.is_none()) {
                let accepted: Vec<&str> = params.iter().filter(|p| p.client_supplied()).map(|p| p.name).collect();
                let problem = if accepted.is_empty() {
                    "this tool takes no arguments".to_string()
                } else {
                    format!("no such parameter; this tool takes: {}", accepted.join(", "))
                };
                return Err(arg_error(name, problem));
            }
        }
        Ok(())
    }

    /// The checked value of a parameter, or `None` when it is absent and has no default.
    pub fn value(&self, def: &ParamDef, claims: &dyn ClaimSource) -> Result<Option<Value>, ArgError> {
        let given = if !def.auth_services.is_empty() {
            let claim = def.auth_services.iter().find_map(|(service, field)| claims.claim(service, field));
            match claim {
                Some(v) => Some(v.clone()),
                None => {
                    let services: Vec<&str> = def.auth_services.iter().map(|(s, _)| *s).collect();
                    return Err(arg_error(def.name, format!("needs a verified token from {}", services.join(" or "))));
                }
            }
        } else {
            let key = def.value_from.unwrap_or(def.name);
            self.map.get(key).filter(|v| !v.is_null()).cloned()
        };
        let value = match given.or_else(|| def.default.map(ConstValue::to_value)) {
            Some(v) => v,
            None if def.required => return Err(arg_error(def.name, "is required")),
            None => return Ok(None),
        };
        check(def, &value).map_err(|problem| arg_error(def.name, problem))?;
        Ok(Some(value))
    }

    /// A required value, converted.
    pub fn get<T: FromArg>(&self, def: &ParamDef, claims: &dyn ClaimSource) -> Result<T, ArgError> {
        match self.value(def, claims)? {
            Some(v) => Ok(T::from_arg(v)),
            None => Err(arg_error(def.name, "is required")),
        }
    }

    /// An optional value, converted.
    pub fn get_opt<T: FromArg>(&self, def: &ParamDef, claims: &dyn ClaimSource) -> Result<Option<T>, ArgError> {
        Ok(self.value(def, claims)?.map(T::from_arg))
    }

    /// For template parameters: the index of the value in `allowed`.
    pub fn choice(&self, def: &ParamDef, claims: &dyn ClaimSource) -> Result<usize, ArgError> {
        let value = self.value(def, claims)?.ok_or_else(|| arg_error(def.name, "is required"))?;
        def.allowed.iter().position(|a| a.matches(&value)).ok_or_else(|| arg_error(def.name, not_allowed(def, &value)))
    }
}

fn not_allowed(def: &ParamDef, value: &Value) -> String {
    let list: Vec<String> = def.allowed.iter().map(|a| a.to_value().to_string()).collect();
    format!("{value} is not one of the allowed values: {}", list.join(", "))
}

fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 { format!("{}...", &text[..text.floor_char_boundary(77)]) } else { text }
}

/// Checks a value against a definition: type, elements, bounds, allowed and excluded values.
fn check(def: &ParamDef, value: &Value) -> Result<(), String> {
    if !accepts(def.kind, value) {
        return Err(format!("expected {}, got {}", expected(def.kind), shown(value)));
    }
    match value {
        Value::Array(items) => {
            if let Some(item) = def.items {
                for (i, v) in items.iter().enumerate() {
                    check(item, v).map_err(|p| format!("element {i}: {p}"))?;
                }
            }
        }
        Value::Object(map) => {
            if let Some(kind) = def.value_type {
                for (k, v) in map {
                    if !accepts(kind, v) {
                        return Err(format!("value of \"{k}\": expected {}, got {}", expected(kind), shown(v)));
                    }
                }
            }
        }
        _ => {}
    }
    if let Some(n) = value.as_f64() {
        if def.min.is_some_and(|min| n < min) {
            return Err(format!("{n} is below the minimum {}", def.min.unwrap_or_default()));
        }
        if def.max.is_some_and(|max| n > max) {
            return Err(format!("{n} is above the maximum {}", def.max.unwrap_or_default()));
        }
    }
    if !def.allowed.is_empty() && !def.allowed.iter().any(|a| a.matches(value)) {
        return Err(not_allowed(def, value));
    }
    if def.excluded.iter().any(|a| a.matches(value)) {
        return Err(format!("{} is an excluded value", shown(value)));
    }
    Ok(())
}

/// Conversion from a checked JSON value to a typed field of an argument struct.
pub trait FromArg: Sized {
    fn from_arg(value: Value) -> Self;
}

impl FromArg for String {
    fn from_arg(value: Value) -> Self {
        match value {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

impl FromArg for i64 {
    fn from_arg(value: Value) -> Self {
        value.as_i64().unwrap_or_default()
    }
}

impl FromArg for f64 {
    fn from_arg(value: Value) -> Self {
        value.as_f64().unwrap_or_default()
    }
}

impl FromArg for bool {
    fn from_arg(value: Value) -> Self {
        value.as_bool().unwrap_or_default()
    }
}

/// Arrays and maps stay JSON; they are bound to SQL as JSON text.
impl FromArg for Value {
    fn from_arg(value: Value) -> Self {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const fn def(name: &'static str, kind: ParamKind) -> ParamDef {
        ParamDef::new(name, kind)
    }

    fn args(v: Value) -> Arguments {
        Arguments::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn types_defaults_and_required() {
        let limit = ParamDef { default: Some(ConstValue::Int(10)), ..def("limit", ParamKind::Integer) };
        assert_eq!(args(json!({})).get::<i64>(&limit, &NoClaims), Ok(10));
        assert_eq!(args(json!({"limit": 3})).get::<i64>(&limit, &NoClaims), Ok(3));
        assert_eq!(
            args(json!({"limit": "three"})).get::<i64>(&limit, &NoClaims).unwrap_err().to_string(),
            "invalid argument \"limit\": expected an integer, got \"three\""
        );
        assert!(args(json!({"limit": 2.5})).get::<i64>(&limit, &NoClaims).is_err());
        let name = def("name", ParamKind::String);
        assert_eq!(args(json!({"name": null})).get::<String>(&name, &NoClaims).unwrap_err().problem, "is required");
        let optional = ParamDef { required: false, ..def("note", ParamKind::String) };
        assert_eq!(args(json!({})).get_opt::<String>(&optional, &NoClaims), Ok(None));
    }

    #[test]
    fn allowed_excluded_bounds_and_elements() {
        static ITEM: ParamDef = def("id", ParamKind::Integer);
        let ids = ParamDef { items: Some(&ITEM), ..def("ids", ParamKind::Array) };
        assert!(args(json!({"ids": [1, 2]})).get::<Value>(&ids, &NoClaims).is_ok());
        assert_eq!(
            args(json!({"ids": [1, "x"]})).get::<Value>(&ids, &NoClaims).unwrap_err().problem,
            "element 1: expected an integer, got \"x\""
        );
        let status = ParamDef {
            allowed: &[ConstValue::Str("delayed"), ConstValue::Str("landed")],
            ..def("status", ParamKind::String)
        };
        assert!(args(json!({"status": "landed"})).get::<String>(&status, &NoClaims).is_ok());
        assert_eq!(
            args(json!({"status": "land"})).get::<String>(&status, &NoClaims).unwrap_err().problem,
            "\"land\" is not one of the allowed values: \"delayed\", \"landed\""
        );
        let n = ParamDef {
            min: Some(1.0),
            max: Some(5.0),
            excluded: &[ConstValue::Int(3)],
            ..def("n", ParamKind::Integer)
        };
        assert_eq!(args(json!({"n": 0})).get::<i64>(&n, &NoClaims).unwrap_err().problem, "0 is below the minimum 1");
        assert_eq!(args(json!({"n": 3})).get::<i64>(&n, &NoClaims).unwrap_err().problem, "3 is an excluded value");
    }

    #[test]
    fn unknown_names_and_claims() {
        let params = [
            def("a", ParamKind::String),
            ParamDef { auth_services: &[("google", "email")], ..def("email", ParamKind::String) },
        ];
        assert_eq!(
            args(json!({"b": 1})).check_names(&params).unwrap_err().to_string(),
            "invalid argument \"b\": no such parameter; this tool takes: a"
        );
        let sent = args(json!({"email": "x"}));
        assert!(sent.check_names(&params).is_ok(), "a value sent for an authenticated parameter is ignored");
        assert_eq!(
            sent.get::<String>(&params[1], &NoClaims).unwrap_err().problem,
            "needs a verified token from google",
            "authenticated values never come from the client"
        );
        struct Claims(Value);
        impl ClaimSource for Claims {
            fn claim(&self, service: &str, field: &str) -> Option<&Value> {
                (service == "google" && field == "email").then_some(&self.0)
            }
        }
        assert_eq!(sent.get::<String>(&params[1], &Claims(json!("a@example.com"))).unwrap(), "a@example.com");
    }
}
