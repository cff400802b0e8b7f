//! PostgreSQL values to JSON, by the type sqlx resolved for the column (built-in types by OID
//! through [`toolbox_config::pg::wire`], enums, domains, composites, arrays and ranges by their
//! structure). Prepared statements send values in binary ([`binary`]); client SQL sent with the
//! simple protocol receives text ([`super::decode_text::text`]); both give the same JSON for the
//! same value.
//!
//! Natural JSON where there is one (numbers, booleans, JSON, arrays, composites as objects), and
//! otherwise PostgreSQL's own text form (`bit`, `inet`, geometric types, ranges, `tsvector`).

use super::text as pgtext;
use crate::db::encode::{write_base64, write_bool, write_decimal, write_i64, write_json_string, write_u64};
use sqlx::TypeInfo;
use sqlx::postgres::{PgTypeInfo, PgTypeKind};
use toolbox_config::pg::{Wire, wire};

/// Why a value could not be written.
#[derive(Debug)]
pub enum DecodeError {
    /// The bytes do not have the type's format.
    Malformed(&'static str),
    /// A type toolbox does not serve (the build refuses it; client SQL can still meet it).
    Unsupported { type_name: String, cast: &'static str },
}

pub(super) type Result<T = ()> = std::result::Result<T, DecodeError>;

/// A reader over a binary value.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(DecodeError::Malformed("value shorter than its type"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap_or_default()))
    }
    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap_or_default()))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap_or_default()))
    }
    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap_or_default()))
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_be_bytes(self.take(8)?.try_into().unwrap_or_default()))
    }
    /// A length-prefixed element (`-1`: NULL).
    fn element(&mut self) -> Result<Option<&'a [u8]>> {
        let len = self.i32()?;
        if len < 0 { Ok(None) } else { self.take(len as usize).map(Some) }
    }
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| DecodeError::Malformed("text that is not UTF-8"))
}

/// The built-in type behind a simple type, or why it is not served.
pub(super) fn simple_wire(ty: &PgTypeInfo) -> Result<Wire> {
    if ty.name().eq_ignore_ascii_case("citext") {
        return Ok(Wire::Text);
    }
    let oid = ty.oid().map(|o| o.0).unwrap_or(0);
    wire(oid).map_err(|refusal| DecodeError::Unsupported { type_name: ty.name().to_string(), cast: refusal.cast })
}

/// The structure of a type, or `None` for one sqlx did not resolve (the simple protocol leaves
/// the types of result columns as bare OIDs; asking sqlx for their kind would panic).
pub(super) fn kind(ty: &PgTypeInfo) -> Option<&PgTypeKind> {
    (ty.name() != "?").then(|| ty.kind())
}

/// Writes a binary value of type `ty` as JSON.
pub fn binary(out: &mut Vec<u8>, ty: &PgTypeInfo, bytes: &[u8]) -> Result {
    let Some(kind) = kind(ty) else { return scalar(out, simple_wire(ty)?, bytes) };
    match kind {
        PgTypeKind::Enum(_) => write_json_string(out, utf8(bytes)?),
        PgTypeKind::Domain(base) => binary(out, base, bytes)?,
        PgTypeKind::Array(element) => array(out, element, bytes)?,
        PgTypeKind::Range(subtype) => {
            let text = range(subtype, bytes)?;
            write_json_string(out, &text);
        }
        PgTypeKind::Composite(fields) => record(out, fields, bytes)?,
        PgTypeKind::Simple | PgTypeKind::Pseudo => scalar(out, simple_wire(ty)?, bytes)?,
    }
    Ok(())
}

fn scalar(out: &mut Vec<u8>, wire: Wire, bytes: &[u8]) -> Result {
    let mut b = Bytes(bytes);
    match wire {
        Wire::Bool => write_bool(out, b.u8()? != 0),
        Wire::Int2 => write_i64(out, b.u16()? as i16 as i64),
        Wire::Int4 => write_i64(out, b.i32()? as i64),
        Wire::Int8 => write_i64(out, b.i64()?),
        Wire::Uint4 => write_u64(out, b.u32()? as u64),
        Wire::Uint8 => write_u64(out, b.i64()? as u64),
        Wire::Float4 => {
            let v = f32::from_be_bytes(b.take(4)?.try_into().unwrap_or_default());
            write_float(out, v.is_finite(), || pgtext::float4(v));
        }
        Wire::Float8 => {
            let v = b.f64()?;
            write_float(out, v.is_finite(), || pgtext::float8(v));
        }
        Wire::Numeric => write_decimal(out, &pgtext::numeric(bytes).ok_or(DecodeError::Malformed("numeric"))?),
        Wire::Text => write_json_string(out, utf8(bytes)?),
        Wire::Char => write_json_string(out, &char_text(bytes)),
        Wire::Bytea => write_base64(out, bytes),
        Wire::Json => out.extend_from_slice(utf8(bytes)?.as_bytes()),
        Wire::Jsonb => {
            b.u8()?;
            out.extend_from_slice(utf8(b.0)?.as_bytes());
        }
        Wire::Jsonpath => {
            b.u8()?;
            write_json_string(out, utf8(b.0)?);
        }
        Wire::Void => out.extend_from_slice(b"null"),
        Wire::Vector => vector(out, bytes)?,
        Wire::Timestamp => write_json_string(out, &pgtext::timestamp(b.i64()?, 'T')),
        Wire::TimestampTz => write_json_string(out, &timestamptz_json(b.i64()?)),
        _ => write_json_string(out, &scalar_text(wire, bytes)?),
    }
    Ok(())
}

/// Finite floats as JSON numbers in PostgreSQL's digits; NaN and infinities as strings.
fn write_float(out: &mut Vec<u8>, finite: bool, text: impl FnOnce() -> String) {
    if finite {
        out.extend_from_slice(text().as_bytes());
    } else {
        write_json_string(out, &text());
    }
}

/// `"char"`: its byte, or `\ooo` for a byte that is not ASCII, as PostgreSQL prints it.
fn char_text(bytes: &[u8]) -> String {
    match bytes.first() {
        None | Some(0) => String::new(),
        Some(b) if b.is_ascii() => (*b as char).to_string(),
        Some(b) => format!("\\{b:03o}"),
    }
}

/// PostgreSQL's text form of a value of a built-in type with no natural JSON encoding (also
/// used for range bounds, where numbers and dates appear as PostgreSQL writes them).
fn scalar_text(wire: Wire, bytes: &[u8]) -> Result<String> {
    let mut b = Bytes(bytes);
    Ok(match wire {
        Wire::Int2 => (b.u16()? as i16).to_string(),
        Wire::Int4 => b.i32()?.to_string(),
        Wire::Int8 => b.i64()?.to_string(),
        Wire::Float4 => pgtext::float4(f32::from_be_bytes(b.take(4)?.try_into().unwrap_or_default())),
        Wire::Float8 => pgtext::float8(b.f64()?),
        Wire::Numeric => pgtext::numeric(bytes).ok_or(DecodeError::Malformed("numeric"))?,
        Wire::Uuid => {
            let b = b.take(16)?;
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
        }
        Wire::Date => pgtext::date(b.i32()?),
        Wire::Time => pgtext::time(b.i64()?),
        Wire::TimeTz => {
            let micros = b.i64()?;
            // The zone is stored in seconds west of UTC.
            format!("{}{}", pgtext::time(micros), pgtext::offset(-b.i32()?))
        }
        Wire::Timestamp => pgtext::timestamp(b.i64()?, ' '),
        Wire::TimestampTz => match b.i64()? {
            v @ (i64::MAX | i64::MIN) => pgtext::timestamp(v, ' '),
            v => format!("{}+00", pgtext::timestamp(v, ' ')),
        },
        Wire::Interval => {
            let micros = b.i64()?;
            let days = b.i32()?;
            pgtext::interval(b.i32()?, days, micros)
        }
        Wire::Bit => {
            let len = b.i32()?.max(0) as usize;
            let data = b.take(len.div_ceil(8))?;
            (0..len).map(|i| if data[i / 8] & (0x80 >> (i % 8)) != 0 { '1' } else { '0' }).collect()
        }
        Wire::Inet => inet(&mut b)?,
        Wire::MacAddr => hex_pairs(b.take(6)?),
        Wire::MacAddr8 => hex_pairs(b.take(8)?),
        Wire::Point => point(&mut b)?,
        Wire::Lseg => format!("[{},{}]", point(&mut b)?, point(&mut b)?),
        Wire::Box => format!("{},{}", point(&mut b)?, point(&mut b)?),
        Wire::Line => {
            let (a, bb, c) = (b.f64()?, b.f64()?, b.f64()?);
            format!("{{{},{},{}}}", pgtext::float8(a), pgtext::float8(bb), pgtext::float8(c))
        }
        Wire::Circle => {
            let center = point(&mut b)?;
            format!("<{center},{}>", pgtext::float8(b.f64()?))
        }
        Wire::Path => {
            let closed = b.u8()? != 0;
            let points = points(&mut b)?;
            if closed { format!("({points})") } else { format!("[{points}]") }
        }
        Wire::Polygon => format!("({})", points(&mut b)?),
        Wire::Tid => {
            let block = b.u32()?;
            format!("({block},{})", b.u16()?)
        }
        Wire::PgLsn => {
            let v = b.i64()? as u64;
            format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF)
        }
        Wire::Snapshot => {
            let count = b.i32()?.max(0) as usize;
            let (xmin, xmax) = (b.i64()?, b.i64()?);
            let running: Vec<String> = (0..count).map(|_| b.i64().map(|x| x.to_string())).collect::<Result<_>>()?;
            format!("{xmin}:{xmax}:{}", running.join(","))
        }
        Wire::TsVector => tsvector(&mut b)?,
        Wire::Bool
        | Wire::Uint4
        | Wire::Uint8
        | Wire::Text
        | Wire::Char
        | Wire::Bytea
        | Wire::Json
        | Wire::Jsonb
        | Wire::Jsonpath
        | Wire::Vector
        | Wire::Void => {
            let mut out = Vec::new();
            scalar(&mut out, wire, bytes)?;
            let value: serde_json::Value =
                serde_json::from_slice(&out).map_err(|_| DecodeError::Malformed("scalar"))?;
            match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }
        }
    })
}

fn hex_pairs(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn point(b: &mut Bytes<'_>) -> Result<String> {
    let (x, y) = (b.f64()?, b.f64()?);
    Ok(format!("({},{})", pgtext::float8(x), pgtext::float8(y)))
}

fn points(b: &mut Bytes<'_>) -> Result<String> {
    let count = b.i32()?.max(0);
    Ok((0..count).map(|_| point(b)).collect::<Result<Vec<_>>>()?.join(","))
}

/// `inet` and `cidr`: family, mask bits, is-cidr flag, address length, address.
fn inet(b: &mut Bytes<'_>) -> Result<String> {
    let (family, bits, is_cidr, len) = (b.u8()?, b.u8()?, b.u8()? != 0, b.u8()? as usize);
    let address = b.take(len)?;
    let (text, max_bits) = match family {
        2 if len == 4 => (address.iter().map(u8::to_string).collect::<Vec<_>>().join("."), 32),
        3 if len == 16 => (ipv6(address), 128),
        _ => return Err(DecodeError::Malformed("inet")),
    };
    Ok(if is_cidr || bits != max_bits { format!("{text}/{bits}") } else { text })
}

/// An IPv6 address as PostgreSQL writes it: the longest run of two or more zero groups as
/// `::`, and a trailing IPv4 address for IPv4-compatible and IPv4-mapped addresses.
fn ipv6(address: &[u8]) -> String {
    let words: Vec<u16> = address.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
    let (mut best, mut best_len, mut run, mut run_len) = (None::<usize>, 0, 0, 0);
    for (i, w) in words.iter().enumerate() {
        if *w == 0 {
            if run_len == 0 {
                run = i;
            }
            run_len += 1;
            if run_len > best_len {
                (best, best_len) = (Some(run), run_len);
            }
        } else {
            run_len = 0;
        }
    }
    if best_len < 2 {
        best = None;
    }
    let mut s = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some(base) = best.filter(|b| i >= *b && i < b + best_len) {
            if i == base {
                s.push(':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            s.push(':');
        }
        if i == 6 && best == Some(0) && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            s.push_str(&address[12..].iter().map(u8::to_string).collect::<Vec<_>>().join("."));
            return s;
        }
        s.push_str(&format!("{:x}", words[i]));
        i += 1;
    }
    if best.is_some_and(|b| b + best_len == 8) {
        s.push(':');
    }
    s
}

/// A `tsvector`: lexemes in single quotes, each with its positions and weights (`'fat':2,4A`).
fn tsvector(b: &mut Bytes<'_>) -> Result<String> {
    let count = b.i32()?.max(0);
    let mut parts = Vec::new();
    for _ in 0..count {
        let end = b.0.iter().position(|c| *c == 0).ok_or(DecodeError::Malformed("tsvector"))?;
        let lexeme = utf8(b.take(end)?)?.replace('\'', "''").replace('\\', "\\\\");
        b.take(1)?;
        let positions = b.u16()?;
        let mut part = format!("'{lexeme}'");
        for n in 0..positions {
            let p = b.u16()?;
            part.push(if n == 0 { ':' } else { ',' });
            part.push_str(&(p & 0x3FFF).to_string());
            match p >> 14 {
                3 => part.push('A'),
                2 => part.push('B'),
                1 => part.push('C'),
                _ => {}
            }
        }
        parts.push(part);
    }
    Ok(parts.join(" "))
}

/// The header of a binary array: its dimensions and element OID, then the elements.
fn array_header<'a>(bytes: &'a [u8]) -> Result<(Vec<usize>, Bytes<'a>)> {
    let mut b = Bytes(bytes);
    let dimensions = b.i32()?.max(0) as usize;
    let _has_nulls = b.i32()?;
    let _element_oid = b.u32()?;
    let mut sizes = Vec::with_capacity(dimensions);
    for _ in 0..dimensions {
        sizes.push(b.i32()?.max(0) as usize);
        let _lower_bound = b.i32()?;
    }
    Ok((sizes, b))
}

/// An array as nested JSON arrays (lower bounds other than 1 are not kept).
fn array(out: &mut Vec<u8>, element: &PgTypeInfo, bytes: &[u8]) -> Result {
    let (sizes, mut b) = array_header(bytes)?;
    fn level(out: &mut Vec<u8>, element: &PgTypeInfo, sizes: &[usize], b: &mut Bytes<'_>) -> Result {
        out.push(b'[');
        let Some((&size, inner)) = sizes.split_first() else {
            out.push(b']');
            return Ok(());
        };
        for i in 0..size {
            if i > 0 {
                out.push(b',');
            }
            if inner.is_empty() {
                match b.element()? {
                    Some(value) => binary(out, element, value)?,
                    None => out.extend_from_slice(b"null"),
                }
            } else {
                level(out, element, inner, b)?;
            }
        }
        out.push(b']');
        Ok(())
    }
    level(out, element, &sizes, &mut b)
}

/// `int2vector` and `oidvector`: arrays of integers.
fn vector(out: &mut Vec<u8>, bytes: &[u8]) -> Result {
    let (sizes, mut b) = array_header(bytes)?;
    out.push(b'[');
    for i in 0..sizes.first().copied().unwrap_or(0) {
        if i > 0 {
            out.push(b',');
        }
        let value = b.element()?.ok_or(DecodeError::Malformed("vector"))?;
        match value.len() {
            2 => write_i64(out, i16::from_be_bytes([value[0], value[1]]) as i64),
            4 => write_u64(out, u32::from_be_bytes(value.try_into().unwrap_or_default()) as u64),
            _ => return Err(DecodeError::Malformed("vector")),
        }
    }
    out.push(b']');
    Ok(())
}

/// A range in PostgreSQL's text form: `[1,10)`, `(,5]`, `empty`, bounds quoted when they hold
/// spaces or punctuation (`["2025-01-01 00:00:00","2025-02-01 00:00:00")`).
fn range(subtype: &PgTypeInfo, bytes: &[u8]) -> Result<String> {
    let mut subtype = subtype;
    while let Some(PgTypeKind::Domain(base)) = kind(subtype) {
        subtype = base;
    }
    let wire = simple_wire(subtype)?;
    if !wire.is_range_subtype() {
        return Err(DecodeError::Unsupported { type_name: format!("range of {}", subtype.name()), cast: "text" });
    }
    let mut b = Bytes(bytes);
    let flags = b.u8()?;
    if flags & 0x01 != 0 {
        return Ok("empty".into());
    }
    let mut bound = |infinite: bool| -> Result<String> {
        if infinite {
            return Ok(String::new());
        }
        let value = b.element()?.ok_or(DecodeError::Malformed("range"))?;
        let text = scalar_text(wire, value)?;
        let needs_quotes = text.is_empty()
            || text.chars().any(|c| matches!(c, '"' | '\\' | '(' | ')' | '[' | ']' | ',') || c.is_whitespace());
        Ok(if needs_quotes { format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")) } else { text })
    };
    let lower = bound(flags & 0x08 != 0)?;
    let upper = bound(flags & 0x10 != 0)?;
    let open = if flags & 0x02 != 0 { '[' } else { '(' };
    let close = if flags & 0x04 != 0 { ']' } else { ')' };
    Ok(format!("{open}{lower},{upper}{close}"))
}

/// A composite value as a JSON object keyed by its field names.
fn record(out: &mut Vec<u8>, fields: &[(String, PgTypeInfo)], bytes: &[u8]) -> Result {
    let mut b = Bytes(bytes);
    let count = b.i32()?.max(0) as usize;
    if count != fields.len() {
        return Err(DecodeError::Malformed("composite with another number of fields"));
    }
    out.push(b'{');
    for (i, (name, ty)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(out, name);
        out.push(b':');
        let _oid = b.u32()?;
        match b.element()? {
            Some(value) => binary(out, ty, value)?,
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b'}');
    Ok(())
}

/// Writes a binary `timestamptz` as JSON: RFC 3339 in UTC (`2025-01-31T11:45:30.5Z`).
pub(super) fn timestamptz_json(micros: i64) -> String {
    match micros {
        i64::MAX | i64::MIN => pgtext::timestamp(micros, 'T'),
        _ => format!("{}Z", pgtext::timestamp(micros, 'T')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv6_of(text: &str) -> String {
        ipv6(&text.parse::<std::net::Ipv6Addr>().unwrap().octets())
    }

    #[test]
    fn ipv6_as_postgres_writes_it() {
        assert_eq!(ipv6_of("::2"), "::2");
        assert_eq!(ipv6_of("::1"), "::1");
        assert_eq!(ipv6_of("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(ipv6_of("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(ipv6_of("2001:db8::1"), "2001:db8::1");
        assert_eq!(ipv6_of("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
        assert_eq!(ipv6_of("::"), "::");
        assert_eq!(ipv6_of("1::"), "1::");
    }
}
