//! Row encoding shared by every engine: result columns as the build described them, and the
//! buffer rows are written into, with the `maxRows` and response-size limits.

use crate::call::ToolOutput;

pub use toolbox_config::types::{Element, Kind as ColumnKind};

/// One described result column. `key` is the JSON object key, quoted and escaped, with the colon.
#[derive(Debug)]
pub struct ColumnDef {
    pub key: &'static str,
    pub kind: ColumnKind,
}

/// The largest result a call returns; rows past it are left out and the result says so.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// A JSON array of row objects, written as rows arrive.
pub struct RowsWriter {
    pub out: Vec<u8>,
    rows: u64,
    max_rows: Option<u64>,
    truncated: bool,
}

impl RowsWriter {
    pub fn new(max_rows: Option<u64>) -> Self {
        let mut out = Vec::with_capacity(256);
        out.push(b'[');
        Self { out, rows: 0, max_rows, truncated: false }
    }

    /// Starts a row, or returns `false` (and marks the result truncated) when a limit is reached.
    pub fn begin_row(&mut self) -> bool {
        if self.max_rows.is_some_and(|m| self.rows >= m) || self.out.len() > MAX_RESPONSE_BYTES {
            self.truncated = true;
            return false;
        }
        if self.rows > 0 {
            self.out.push(b',');
        }
        self.rows += 1;
        self.out.push(b'{');
        true
    }

    /// Starts a column, after the first: the separator.
    pub fn column(&mut self, index: usize, key: &str) {
        if index > 0 {
            self.out.push(b',');
        }
        self.out.extend_from_slice(key.as_bytes());
    }

    pub fn end_row(&mut self) {
        self.out.push(b'}');
    }

    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    pub fn finish(mut self) -> ToolOutput {
        self.out.push(b']');
        ToolOutput::Rows {
            json: String::from_utf8(self.out).unwrap_or_default(),
            rows: self.rows,
            truncated: self.truncated,
        }
    }
}

/// Writes `s` as a JSON string literal.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // Serialising a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes a JSON object key (a column name decided at run time) with its colon.
pub fn write_key(out: &mut Vec<u8>, index: usize, name: &str) {
    if index > 0 {
        out.push(b',');
    }
    write_json_string(out, name);
    out.push(b':');
}

pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Finite floats as numbers; NaN and infinities, which JSON lacks, as strings.
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        write_json_string(
            out,
            if v.is_nan() {
                "NaN"
            } else if v > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            },
        );
    }
}

pub fn write_bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

pub fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    use base64::Engine as _;
    out.push(b'"');
    out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(bytes).as_bytes());
    out.push(b'"');
}

/// Bytes of unknown meaning: text when they are UTF-8, base64 otherwise.
pub fn write_raw(out: &mut Vec<u8>, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => write_json_string(out, text),
        Err(_) => write_base64(out, bytes),
    }
}

/// An exact decimal: its digits as a JSON number, keeping the scale (`49.00`); values JSON
/// cannot hold as numbers (NaN, infinities) as strings.
pub fn write_decimal(out: &mut Vec<u8>, text: &str) {
    let numeric = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.'));
    if numeric {
        out.extend_from_slice(text.as_bytes());
    } else {
        write_json_string(out, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_mark_the_result_truncated() {
        let mut w = RowsWriter::new(Some(1));
        assert!(w.begin_row());
        w.column(0, "\"a\":");
        write_i64(&mut w.out, 1);
        w.end_row();
        assert!(!w.begin_row());
        assert_eq!(w.finish(), ToolOutput::Rows { json: "[{\"a\":1}]".into(), rows: 1, truncated: true });
    }

    #[test]
    fn numbers_and_specials() {
        let mut out = Vec::new();
        write_f64(&mut out, f64::NAN);
        write_decimal(&mut out, "179.10");
        write_raw(&mut out, &[0xff]);
        assert_eq!(String::from_utf8(out).unwrap(), "\"NaN\"179.10\"/w==\"");
    }
}
