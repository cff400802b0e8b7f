//! Parameters to PostgreSQL: every value is sent as the type the build chose for its placeholder
//! ([`toolbox_config::pg::Bind`]), declared by OID (or, for a type of the database's own, by
//! name) with the binary form of that type. A statement is therefore prepared with the same
//! parameter types on every connection, whoever prepared it first (a call, or the start-up
//! comparison with the live schema), and a value is never read as another type's bytes.

use crate::args::ArgError;
use serde_json::Value;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};
use sqlx::{Encode, Postgres, Type};
pub use toolbox_config::pg::{Bind, Scalar};

/// The type of one placeholder, as the build chose it.
#[derive(Debug)]
pub struct PgParam {
    pub bind: Bind,
    /// The type's name: for [`Bind::Named`], the database's own type the value is sent as.
    pub type_name: &'static str,
}

impl PgParam {
    pub fn type_info(&self) -> PgTypeInfo {
        match self.bind.oid() {
            Some(oid) => PgTypeInfo::with_oid(Oid(oid)),
            None => PgTypeInfo::with_name(self.type_name),
        }
    }
}

/// A value encoded for its placeholder (`None`: NULL).
pub struct PgValue {
    type_info: PgTypeInfo,
    bytes: Option<Vec<u8>>,
}

impl Type<Postgres> for PgValue {
    /// Never used: [`Encode::produces`] names each value's type.
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(25))
    }
}

impl Encode<'_, Postgres> for PgValue {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match &self.bytes {
            Some(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(self.type_info.clone())
    }
}

/// A typed argument of a generated argument struct.
pub trait PgArg {
    /// Appends the binary form of the value as `bind`, or says why it does not fit.
    fn encode_as(&self, bind: Bind, out: &mut Vec<u8>) -> Result<(), String>;
}

/// Encodes an argument for its placeholder. A value that does not fit the placeholder's type
/// (an integer beyond `int4`) is refused with a message naming the parameter.
pub fn value<T: PgArg>(param: &PgParam, name: &str, value: Option<&T>) -> Result<PgValue, ArgError> {
    let bytes = match value {
        None => None,
        Some(v) => {
            let mut out = Vec::with_capacity(16);
            v.encode_as(param.bind, &mut out).map_err(|problem| ArgError { param: name.to_string(), problem })?;
            Some(out)
        }
    };
    Ok(PgValue { type_info: param.type_info(), bytes })
}

fn type_label(bind: Bind) -> &'static str {
    match bind {
        Bind::Int2 => "smallint (-32768 to 32767)",
        Bind::Int4 => "integer (-2147483648 to 2147483647)",
        Bind::Oid => "oid (0 to 4294967295)",
        _ => bind.name().unwrap_or("the placeholder's type"),
    }
}

fn out_of_range(v: impl std::fmt::Display, bind: Bind) -> String {
    format!("{v} is out of range for the statement's {}", type_label(bind))
}

fn mismatch(bind: Bind, what: &str) -> String {
    format!("{what} cannot be sent as {}", bind.name().unwrap_or("the placeholder's type"))
}

impl PgArg for i64 {
    fn encode_as(&self, bind: Bind, out: &mut Vec<u8>) -> Result<(), String> {
        let v = *self;
        match bind {
            Bind::Int2 => out.extend(i16::try_from(v).map_err(|_| out_of_range(v, bind))?.to_be_bytes()),
            Bind::Int4 => out.extend(i32::try_from(v).map_err(|_| out_of_range(v, bind))?.to_be_bytes()),
            Bind::Int8 => out.extend(v.to_be_bytes()),
            Bind::Oid => out.extend(u32::try_from(v).map_err(|_| out_of_range(v, bind))?.to_be_bytes()),
            Bind::Float4 => out.extend((v as f32).to_be_bytes()),
            Bind::Float8 => out.extend((v as f64).to_be_bytes()),
            Bind::Numeric => numeric(&v.to_string(), out).ok_or_else(|| mismatch(bind, "the integer"))?,
            _ => return Err(mismatch(bind, "an integer")),
        }
        Ok(())
    }
}

impl PgArg for f64 {
    fn encode_as(&self, bind: Bind, out: &mut Vec<u8>) -> Result<(), String> {
        let v = *self;
        match bind {
            Bind::Float4 => {
                let narrow = v as f32;
                if narrow.is_infinite() && v.is_finite() {
                    return Err(out_of_range(v, bind));
                }
                out.extend(narrow.to_be_bytes())
            }
            Bind::Float8 => out.extend(v.to_be_bytes()),
            // The shortest decimal that reads back as the same double: what the client wrote.
            Bind::Numeric => numeric(ryu::Buffer::new().format(v), out).ok_or_else(|| mismatch(bind, "the number"))?,
            _ => return Err(mismatch(bind, "a number")),
        }
        Ok(())
    }
}

impl PgArg for bool {
    fn encode_as(&self, bind: Bind, out: &mut Vec<u8>) -> Result<(), String> {
        match bind {
            Bind::Bool => out.push(*self as u8),
            _ => return Err(mismatch(bind, "a boolean")),
        }
        Ok(())
    }
}

impl PgArg for String {
    fn encode_as(&self, bind: Bind, out: &mut Vec<u8>) -> Result<(), String> {
        text(self, bind, out)
    }
}

fn text(s: &str, bind: Bind, out: &mut Vec<u8>) -> Result<(), String> {
    match bind {
        Bind::Text(_) | Bind::Named | Bind::Json => out.extend_from_slice(s.as_bytes()),
        Bind::Jsonb => {
            out.push(1);
            out.extend_from_slice(s.as_bytes());
        }
        _ => return Err(mismatch(bind, "a string")),
    }
    Ok(())
}

/// Arrays and maps: a PostgreSQL array of the placeholder's element type, or JSON.
impl PgArg for Value {
    fn encode_as(&self, bind: Bind, out: &mut Vec<u8>) -> Result<(), String> {
        match bind {
            Bind::Json | Bind::Jsonb | Bind::Text(_) => text(&self.to_string(), bind, out),
            Bind::Array(element) => array(self.as_array().map(Vec::as_slice).unwrap_or_default(), element, out),
            Bind::Int2 | Bind::Int4 | Bind::Int8 | Bind::Oid | Bind::Float4 | Bind::Float8 | Bind::Numeric => {
                match (self.as_i64(), self.as_f64()) {
                    (Some(i), _) => i.encode_as(bind, out),
                    (None, Some(f)) => f.encode_as(bind, out),
                    _ => Err(mismatch(bind, "the value")),
                }
            }
            Bind::Bool => self.as_bool().ok_or_else(|| mismatch(bind, "the value"))?.encode_as(bind, out),
            Bind::Named => text(self.as_str().unwrap_or_default(), bind, out),
        }
    }
}

/// A one-dimensional array in PostgreSQL's binary form: dimensions, a NULL flag, the element
/// type, then each element with its length.
fn array(items: &[Value], element: Scalar, out: &mut Vec<u8>) -> Result<(), String> {
    let dimensions: i32 = if items.is_empty() { 0 } else { 1 };
    out.extend(dimensions.to_be_bytes());
    out.extend((items.iter().any(Value::is_null) as i32).to_be_bytes());
    out.extend(element.oid().to_be_bytes());
    if items.is_empty() {
        return Ok(());
    }
    out.extend((items.len() as i32).to_be_bytes());
    out.extend(1i32.to_be_bytes());
    let scalar = element.bind();
    for (i, item) in items.iter().enumerate() {
        if item.is_null() {
            out.extend((-1i32).to_be_bytes());
            continue;
        }
        let at = out.len();
        out.extend(0i32.to_be_bytes());
        let encoded = match item {
            Value::String(s) => text(s, scalar, out),
            other => other.encode_as(scalar, out),
        };
        encoded.map_err(|problem| format!("element {i}: {problem}"))?;
        let len = (out.len() - at - 4) as i32;
        out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

/// Appends a decimal number (`-249.90`, `1e-7`) in the binary `numeric` form: digit count,
/// weight of the first base-10000 digit, sign, display scale, then the base-10000 digits.
fn numeric(text: &str, out: &mut Vec<u8>) -> Option<()> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    // Where the decimal point falls in `digits`, moved inside them by padding with zeros.
    let mut point = int.len() as i64 + exponent;
    if point.unsigned_abs() > 1000 {
        return None;
    }
    if point < 0 {
        digits.splice(0..0, std::iter::repeat_n(0, point.unsigned_abs() as usize));
        point = 0;
    }
    let point = point as usize;
    if point > digits.len() {
        digits.resize(point, 0);
    }
    let scale = u16::try_from(digits.len() - point).ok()?;
    // Pad so the point falls on a base-10000 boundary and the digits fill whole groups.
    let lead = (4 - point % 4) % 4;
    let mut padded = vec![0u8; lead];
    padded.extend(&digits);
    padded.resize(padded.len().div_ceil(4) * 4, 0);
    let mut groups: Vec<i16> = padded.chunks(4).map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + *d as i16)).collect();
    let mut weight = ((point + lead) / 4) as i64 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    out.extend((groups.len() as i16).to_be_bytes());
    out.extend((i16::try_from(weight).ok()?).to_be_bytes());
    out.extend((if negative && !groups.is_empty() { 0x4000u16 } else { 0 }).to_be_bytes());
    out.extend(scale.to_be_bytes());
    for g in groups {
        out.extend(g.to_be_bytes());
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_text(text: &str) -> String {
        let mut out = Vec::new();
        numeric(text, &mut out).unwrap();
        super::super::text::numeric(&out).unwrap()
    }

    #[test]
    fn numerics_round_trip() {
        for (input, expected) in [
            ("249.99", "249.99"),
            ("-249.90", "-249.90"),
            ("0", "0"),
            ("10000", "10000"),
            ("123456789.0001", "123456789.0001"),
            ("1e-7", "0.0000001"),
            ("1.5e20", "150000000000000000000"),
            ("0.00120", "0.00120"),
            ("9007199254740993", "9007199254740993"),
        ] {
            assert_eq!(numeric_text(input), expected, "{input}");
        }
    }

    #[test]
    fn integers_check_the_placeholder_width() {
        let mut out = Vec::new();
        assert!(40_000i64.encode_as(Bind::Int2, &mut out).unwrap_err().contains("out of range"));
        assert!(40_000i64.encode_as(Bind::Int4, &mut out).is_ok());
        assert_eq!(out, 40_000i32.to_be_bytes());
        assert!((1i64 << 40).encode_as(Bind::Int4, &mut out).is_err());
        assert!(1e39f64.encode_as(Bind::Float4, &mut out).is_err());
    }

    #[test]
    fn arrays_carry_their_element_type() {
        let mut out = Vec::new();
        serde_json::json!([1, null, 3]).encode_as(Bind::Array(Scalar::Int4), &mut out).unwrap();
        assert_eq!(&out[..12], [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 23]);
        assert_eq!(out.len(), 12 + 8 + (4 + 4) + 4 + (4 + 4));
    }
}
