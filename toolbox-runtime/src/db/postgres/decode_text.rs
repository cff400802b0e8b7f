//! PostgreSQL values received as text (client SQL sent with the simple query protocol) to JSON:
//! the same JSON as [`super::decode::binary`] gives for the same value, read from PostgreSQL's
//! text forms and its array and record literals.

use super::decode::{DecodeError, Result, kind, simple_wire, timestamptz_json};
use super::text as pgtext;
use crate::db::encode::{write_base64, write_bool, write_decimal, write_json_string};
use sqlx::postgres::{PgTypeInfo, PgTypeKind};
use toolbox_config::pg::Wire;

/// Writes a value received as text (the simple query protocol) as JSON: the same JSON as
/// [`super::decode::binary`] gives for the same value.
pub fn text(out: &mut Vec<u8>, ty: &PgTypeInfo, s: &str) -> Result {
    let Some(kind) = kind(ty) else {
        // A built-in type by its OID; a type of the database's own (an enum, a composite) that
        // sqlx did not resolve is written as its text.
        return match simple_wire(ty) {
            Ok(wire) => text_scalar(out, wire, s),
            Err(_) if ty.oid().is_some_and(|o| o.0 >= 16384) => {
                write_json_string(out, s);
                Ok(())
            }
            Err(e) => Err(e),
        };
    };
    match kind {
        PgTypeKind::Enum(_) | PgTypeKind::Range(_) => write_json_string(out, s),
        PgTypeKind::Domain(base) => text(out, base, s)?,
        PgTypeKind::Array(element) => {
            let value = literal::array(s).ok_or(DecodeError::Malformed("array literal"))?;
            text_array(out, element, &value)?;
        }
        PgTypeKind::Composite(fields) => {
            let values = literal::record(s).ok_or(DecodeError::Malformed("record literal"))?;
            if values.len() != fields.len() {
                return Err(DecodeError::Malformed("composite with another number of fields"));
            }
            out.push(b'{');
            for (i, ((name, ty), value)) in fields.iter().zip(&values).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_string(out, name);
                out.push(b':');
                match value {
                    Some(v) => text(out, ty, v)?,
                    None => out.extend_from_slice(b"null"),
                }
            }
            out.push(b'}');
        }
        PgTypeKind::Simple | PgTypeKind::Pseudo => text_scalar(out, simple_wire(ty)?, s)?,
    }
    Ok(())
}

fn text_array(out: &mut Vec<u8>, element: &PgTypeInfo, value: &literal::Item) -> Result {
    match value {
        literal::Item::Null => out.extend_from_slice(b"null"),
        literal::Item::Value(s) => text(out, element, s)?,
        literal::Item::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                text_array(out, element, item)?;
            }
            out.push(b']');
        }
    }
    Ok(())
}

fn text_scalar(out: &mut Vec<u8>, wire: Wire, s: &str) -> Result {
    let number =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e'));
    match wire {
        Wire::Bool => write_bool(out, s == "t"),
        Wire::Int2 | Wire::Int4 | Wire::Int8 | Wire::Uint4 | Wire::Uint8 | Wire::Float4 | Wire::Float8 if number(s) => {
            out.extend_from_slice(s.as_bytes())
        }
        Wire::Numeric => write_decimal(out, s),
        Wire::Json | Wire::Jsonb => out.extend_from_slice(s.as_bytes()),
        Wire::Bytea => {
            let hex = s.strip_prefix("\\x").ok_or(DecodeError::Malformed("bytea"))?;
            let bytes: Option<Vec<u8>> =
                (0..hex.len() / 2).map(|i| u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()).collect();
            write_base64(out, &bytes.ok_or(DecodeError::Malformed("bytea"))?);
        }
        Wire::Timestamp => write_json_string(out, &s.replacen(' ', "T", 1)),
        Wire::TimestampTz => write_json_string(out, &timestamptz_text(s)),
        Wire::Interval => match pgtext::parse_interval(s) {
            Some((months, days, micros)) => write_json_string(out, &pgtext::interval(months, days, micros)),
            None => write_json_string(out, s),
        },
        Wire::Void => out.extend_from_slice(b"null"),
        Wire::Vector => {
            out.push(b'[');
            out.extend_from_slice(s.split_whitespace().collect::<Vec<_>>().join(",").as_bytes());
            out.push(b']');
        }
        _ => write_json_string(out, s),
    }
    Ok(())
}

/// `2025-01-31 11:45:30.5+00` (the session's zone is UTC) as RFC 3339 in UTC:
/// `2025-01-31T11:45:30.5Z`; other offsets are converted.
fn timestamptz_text(s: &str) -> String {
    if let Some(utc) = s.strip_suffix("+00") {
        return format!("{}Z", utc.replacen(' ', "T", 1));
    }
    // PostgreSQL writes `+02`, `+05:30` or `+05:30:15`; chrono reads `+02:00`.
    let zone_start = s.rfind(['+', '-']).filter(|i| *i > 10).unwrap_or(s.len());
    let full = if s.len() - zone_start == 3 { format!("{s}:00") } else { s.to_string() };
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default().and_time(chrono::NaiveTime::MIN);
    match chrono::DateTime::parse_from_str(&full, "%Y-%m-%d %H:%M:%S%.f%:z") {
        Ok(t) => match (t.naive_utc() - epoch).num_microseconds() {
            Some(micros) => timestamptz_json(micros),
            None => s.to_string(),
        },
        Err(_) => s.to_string(),
    }
}

/// PostgreSQL's text literals of arrays (`{1,"a b",NULL}`, `{{1,2},{3,4}}`, `[0:1]={1,2}`) and
/// records (`(1,"a b",,"")`).
mod literal {
    pub enum Item {
        Null,
        Value(String),
        List(Vec<Item>),
    }

    pub fn array(s: &str) -> Option<Item> {
        // A dimension decoration (`[0:1]=`) comes before the braces.
        let s = match s.find('=') {
            Some(i) if s.starts_with('[') => &s[i + 1..],
            _ => s,
        };
        let mut chars = s.chars().peekable();
        let item = list(&mut chars)?;
        chars.next().is_none().then_some(item)
    }

    fn list(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<Item> {
        if chars.next()? != '{' {
            return None;
        }
        let mut items = Vec::new();
        if chars.peek() == Some(&'}') {
            chars.next();
            return Some(Item::List(items));
        }
        loop {
            match chars.peek()? {
                '{' => items.push(list(chars)?),
                '"' => {
                    chars.next();
                    items.push(Item::Value(quoted(chars)?));
                }
                _ => {
                    let mut raw = String::new();
                    while let Some(&c) = chars.peek() {
                        if c == ',' || c == '}' {
                            break;
                        }
                        raw.push(c);
                        chars.next();
                    }
                    let raw = raw.trim().to_string();
                    items.push(if raw.eq_ignore_ascii_case("NULL") { Item::Null } else { Item::Value(raw) });
                }
            }
            match chars.next()? {
                ',' => continue,
                '}' => return Some(Item::List(items)),
                _ => return None,
            }
        }
    }

    /// The rest of a double-quoted element, after its opening quote.
    fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
        let mut s = String::new();
        loop {
            match chars.next()? {
                '\\' => s.push(chars.next()?),
                '"' => return Some(s),
                c => s.push(c),
            }
        }
    }

    pub fn record(s: &str) -> Option<Vec<Option<String>>> {
        let inner = s.strip_prefix('(')?.strip_suffix(')')?;
        let mut fields = Vec::new();
        let mut chars = inner.chars().peekable();
        loop {
            let mut value = String::new();
            let mut quoted_any = false;
            while let Some(&c) = chars.peek() {
                match c {
                    ',' => break,
                    '"' => {
                        quoted_any = true;
                        chars.next();
                        loop {
                            match chars.next()? {
                                '"' if chars.peek() == Some(&'"') => {
                                    chars.next();
                                    value.push('"');
                                }
                                '"' => break,
                                '\\' => value.push(chars.next()?),
                                c => value.push(c),
                            }
                        }
                    }
                    '\\' => {
                        chars.next();
                        value.push(chars.next()?);
                    }
                    c => {
                        value.push(c);
                        chars.next();
                    }
                }
            }
            fields.push(if value.is_empty() && !quoted_any { None } else { Some(value) });
            if chars.next().is_none() {
                return Some(fields);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        let Some(literal::Item::List(items)) = literal::array(r#"{"a b","c\"d",NULL,""}"#) else { panic!() };
        assert!(matches!(&items[1], literal::Item::Value(v) if v == "c\"d"));
        assert!(matches!(&items[2], literal::Item::Null));
        assert!(matches!(&items[3], literal::Item::Value(v) if v.is_empty()));
        assert!(literal::array("[0:1]={1,2}").is_some());
        assert_eq!(
            literal::record(r#"(1,"a b",,"","x""y")"#).unwrap(),
            [Some("1".into()), Some("a b".into()), None, Some(String::new()), Some("x\"y".into())]
        );
    }

    #[test]
    fn timestamptz_text_becomes_rfc_3339() {
        assert_eq!(timestamptz_text("2025-01-31 11:45:30.5+00"), "2025-01-31T11:45:30.5Z");
        assert_eq!(timestamptz_text("2025-01-31 13:45:30+02"), "2025-01-31T11:45:30Z");
    }
}
