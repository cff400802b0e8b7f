//! Redis replies to JSON, written straight into the result buffer.
//!
//! Bulk strings that are UTF-8 become JSON strings; others become `{"base64": "..."}` (standard
//! alphabet), so binary values survive and cannot be mistaken for text. Integers and doubles are
//! numbers (a double that is not finite is the string Redis writes for it: `inf`, `-inf`,
//! `nan`), RESP3 big numbers strings of their digits, booleans booleans, nil `null`, arrays,
//! sets and pushes arrays, and maps objects (keys as text; a map with a key that is neither text
//! nor a number is an array of `[key, value]` pairs). An error inside a reply (an element of a
//! script's table, say) is `{"error": "..."}`; an error as a command's whole reply is the call's
//! error, not encoded here. Attributes are left out: only the data they annotate is kept.

use crate::db::encode::write_json_string;
use base64::Engine as _;
use redis::Value;

/// Writes one reply as JSON.
pub fn write(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::Int(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Value::BulkString(bytes) => write_bytes(out, bytes),
        Value::SimpleString(s) => write_json_string(out, s),
        Value::Okay => out.extend_from_slice(b"\"OK\""),
        Value::Array(items) | Value::Set(items) | Value::Push { data: items, .. } => write_array(out, items),
        Value::Map(pairs) => write_map(out, pairs),
        Value::Attribute { data, .. } => write(out, data),
        Value::Double(d) if d.is_finite() => out.extend_from_slice(ryu::Buffer::new().format_finite(*d).as_bytes()),
        Value::Double(d) => {
            let text = if d.is_nan() {
                "nan"
            } else if *d > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            write_json_string(out, text);
        }
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::VerbatimString { text, .. } => write_json_string(out, text),
        Value::BigNumber(digits) => write_bytes(out, digits),
        Value::ServerError(e) => {
            out.extend_from_slice(b"{\"error\":");
            write_json_string(out, &error_text(e));
            out.push(b'}');
        }
        // `Value` is non-exhaustive: a kind added by a later redis-rs is shown by its debug form
        // rather than dropped.
        #[allow(unreachable_patterns)]
        other => write_json_string(out, &format!("{other:?}")),
    }
}

/// A server error as Redis words it: its code, then its message.
pub fn error_text(e: &redis::ServerError) -> String {
    match e.details() {
        Some(detail) => format!("{} {detail}", e.code()),
        None => e.code().to_string(),
    }
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => write_json_string(out, s),
        Err(_) => {
            out.extend_from_slice(b"{\"base64\":\"");
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(bytes).as_bytes());
            out.extend_from_slice(b"\"}");
        }
    }
}

fn write_array(out: &mut Vec<u8>, items: &[Value]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

fn write_map(out: &mut Vec<u8>, pairs: &[(Value, Value)]) {
    let keys: Option<Vec<String>> = pairs.iter().map(|(k, _)| key_text(k)).collect();
    let Some(keys) = keys else {
        out.push(b'[');
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            write(out, k);
            out.push(b',');
            write(out, v);
            out.push(b']');
        }
        out.push(b']');
        return;
    };
    out.push(b'{');
    for (i, (key, (_, v))) in keys.iter().zip(pairs).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(out, key);
        out.push(b':');
        write(out, v);
    }
    out.push(b'}');
}

/// A map key as object key text: strings that are UTF-8, and numbers.
fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::BulkString(b) => std::str::from_utf8(b).ok().map(str::to_string),
        Value::SimpleString(s) | Value::VerbatimString { text: s, .. } => Some(s.clone()),
        Value::Okay => Some("OK".into()),
        Value::Int(n) => Some(n.to_string()),
        Value::Double(d) => Some(d.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: &Value) -> String {
        let mut out = Vec::new();
        write(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_kind() {
        let bulk = |s: &[u8]| Value::BulkString(s.to_vec());
        assert_eq!(json(&Value::Nil), "null");
        assert_eq!(json(&Value::Int(-3)), "-3");
        assert_eq!(json(&bulk(b"h\"i")), r#""h\"i""#);
        assert_eq!(json(&bulk(&[0xff, 0])), r#"{"base64":"/wA="}"#);
        assert_eq!(json(&Value::Okay), r#""OK""#);
        assert_eq!(json(&Value::Double(1.5)), "1.5");
        assert_eq!(json(&Value::Double(f64::NEG_INFINITY)), r#""-inf""#);
        assert_eq!(json(&Value::Boolean(true)), "true");
        assert_eq!(
            json(&Value::BigNumber(b"123456789012345678901234567890".to_vec())),
            r#""123456789012345678901234567890""#
        );
        assert_eq!(
            json(&Value::Map(vec![(bulk(b"a"), Value::Int(1)), (Value::Int(2), Value::Array(vec![Value::Nil]))])),
            r#"{"a":1,"2":[null]}"#
        );
        assert_eq!(json(&Value::Map(vec![(Value::Array(vec![]), Value::Int(1))])), "[[[],1]]");
        assert_eq!(json(&Value::Set(vec![bulk(b"x")])), r#"["x"]"#);
    }
}
