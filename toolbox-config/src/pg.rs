//! PostgreSQL's built-in types as toolbox serves them, one table shared by the build and the
//! runtime so that they agree by construction:
//!
//! - [`wire`]: how a result value of a built-in type arrives (PostgreSQL sends every value of a
//!   prepared statement in its binary form) and so which decoder writes it as JSON; the build
//!   refuses a column whose type is not in the table, naming a cast, and the runtime decodes
//!   exactly what the table lists.
//! - [`Bind`]: the type a parameter is sent as. The build chooses it from the declared type and
//!   the type PostgreSQL inferred for the placeholder, and checks the statement prepares with it;
//!   the runtime declares exactly that type, so a statement prepared earlier on a connection
//!   (sqlx caches them by text) always has the parameter types the values are encoded for.

use crate::model::ParamType;
use crate::types::{Element, Kind};

/// The binary format of a result value, by the built-in type it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Bool,
    Int2,
    Int4,
    Int8,
    /// `oid`, `xid`, `cid`: an unsigned 32-bit integer.
    Uint4,
    /// `xid8`: an unsigned 64-bit integer.
    Uint8,
    Float4,
    Float8,
    Numeric,
    /// UTF-8 text as it is: `text`, `varchar`, `bpchar`, `name`, `xml`, `refcursor`, `unknown`,
    /// and (through their kind, not their OID) enum labels.
    Text,
    /// `"char"`: one byte.
    Char,
    Bytea,
    Json,
    /// A version byte, then JSON text.
    Jsonb,
    /// A version byte, then the path's text.
    Jsonpath,
    Uuid,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    /// `bit` and `varbit`.
    Bit,
    /// `inet` and `cidr`.
    Inet,
    MacAddr,
    MacAddr8,
    Point,
    Line,
    Lseg,
    Box,
    Path,
    Polygon,
    Circle,
    Tid,
    PgLsn,
    /// `txid_snapshot` and `pg_snapshot`.
    Snapshot,
    TsVector,
    /// `int2vector` and `oidvector`: an array, written as PostgreSQL does (`1 2 3`).
    Vector,
    Void,
}

/// Why a built-in type is not served, and the cast that serves it instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub why: &'static str,
    pub cast: &'static str,
}

/// How a value of the built-in type `oid` arrives, or why toolbox does not serve it.
pub fn wire(oid: u32) -> Result<Wire, Refusal> {
    const TEXT_CAST: Refusal = Refusal { why: "its binary form is not decoded", cast: "text" };
    Ok(match oid {
        16 => Wire::Bool,
        17 => Wire::Bytea,
        18 => Wire::Char,
        19 | 25 | 142 | 705 | 1042 | 1043 | 1790 => Wire::Text,
        20 => Wire::Int8,
        21 => Wire::Int2,
        22 | 30 => Wire::Vector,
        23 => Wire::Int4,
        26 | 28 | 29 => Wire::Uint4,
        27 => Wire::Tid,
        114 => Wire::Json,
        600 => Wire::Point,
        601 => Wire::Lseg,
        602 => Wire::Path,
        603 => Wire::Box,
        604 => Wire::Polygon,
        628 => Wire::Line,
        650 | 869 => Wire::Inet,
        700 => Wire::Float4,
        701 => Wire::Float8,
        718 => Wire::Circle,
        774 => Wire::MacAddr8,
        829 => Wire::MacAddr,
        1082 => Wire::Date,
        1083 => Wire::Time,
        1114 => Wire::Timestamp,
        1184 => Wire::TimestampTz,
        1186 => Wire::Interval,
        1266 => Wire::TimeTz,
        1560 | 1562 => Wire::Bit,
        1700 => Wire::Numeric,
        2278 => Wire::Void,
        2950 => Wire::Uuid,
        2970 | 5038 => Wire::Snapshot,
        3220 => Wire::PgLsn,
        3614 => Wire::TsVector,
        3802 => Wire::Jsonb,
        4072 => Wire::Jsonpath,
        5069 => Wire::Uint8,
        790 => {
            return Err(Refusal { why: "its text depends on the server's lc_monetary", cast: "numeric" });
        }
        24 | 2202 | 2203 | 2204 | 2205 | 2206 | 3734 | 3769 | 4089 | 4096 | 4191 => {
            return Err(Refusal { why: "its value is an OID whose name only the catalog knows", cast: "text" });
        }
        1033 => return Err(Refusal { why: "PostgreSQL has no binary form for it", cast: "text" }),
        _ => return Err(TEXT_CAST),
    })
}

impl Wire {
    /// The JSON shape of a value (for `outputSchema`).
    pub fn kind(self) -> Kind {
        match self {
            Wire::Bool => Kind::Boolean,
            Wire::Int2 | Wire::Int4 | Wire::Int8 | Wire::Uint4 | Wire::Uint8 => Kind::Integer,
            Wire::Float4 | Wire::Float8 => Kind::Real,
            Wire::Numeric => Kind::Decimal,
            Wire::Bytea => Kind::Blob,
            Wire::Json | Wire::Jsonb => Kind::Json,
            Wire::Uuid => Kind::Uuid,
            Wire::Date => Kind::Date,
            Wire::Time => Kind::Time,
            Wire::Timestamp => Kind::Timestamp,
            Wire::TimestampTz => Kind::TimestampTz,
            Wire::Interval => Kind::Interval,
            Wire::Void => Kind::Any,
            Wire::Text | Wire::Char => Kind::Text,
            _ => Kind::Raw,
        }
    }

    /// Whether a range of this subtype is served (its bounds are written in PostgreSQL's text).
    pub fn is_range_subtype(self) -> bool {
        matches!(
            self,
            Wire::Int2
                | Wire::Int4
                | Wire::Int8
                | Wire::Float4
                | Wire::Float8
                | Wire::Numeric
                | Wire::Date
                | Wire::Timestamp
                | Wire::TimestampTz
        )
    }
}

/// The element kind of an array of this shape.
pub fn element(kind: Kind) -> Element {
    match kind {
        Kind::Integer | Kind::UnsignedInteger => Element::Integer,
        Kind::Real => Element::Real,
        Kind::Decimal => Element::Decimal,
        Kind::Boolean => Element::Boolean,
        Kind::Text => Element::Text,
        Kind::Blob => Element::Blob,
        Kind::Uuid => Element::Uuid,
        Kind::Date => Element::Date,
        Kind::Time => Element::Time,
        Kind::Interval => Element::Interval,
        Kind::Timestamp => Element::Timestamp,
        Kind::TimestampTz => Element::TimestampTz,
        Kind::Json => Element::Json,
        _ => Element::Raw,
    }
}

/// The type a parameter is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    Bool,
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float8,
    Numeric,
    /// The bytes of a string, as the built-in text type with this OID (`text`, `varchar`,
    /// `bpchar`, `name`).
    Text(u32),
    Json,
    Jsonb,
    /// The bytes of a string, as a type of the database's own (an enum, `citext`, a domain over
    /// text) that each connection resolves by name.
    Named,
    /// A one-dimensional array of a built-in scalar.
    Array(Scalar),
}

/// The element of an array parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Text(u32),
    Json,
    Jsonb,
}

const TEXT: u32 = 25;

impl Scalar {
    /// The variant's name, for generated code.
    pub fn variant(self) -> &'static str {
        match self {
            Scalar::Bool => "Bool",
            Scalar::Int2 => "Int2",
            Scalar::Int4 => "Int4",
            Scalar::Int8 => "Int8",
            Scalar::Float4 => "Float4",
            Scalar::Float8 => "Float8",
            Scalar::Numeric => "Numeric",
            Scalar::Text(_) => "Text",
            Scalar::Json => "Json",
            Scalar::Jsonb => "Jsonb",
        }
    }

    /// The element's own type.
    pub fn bind(self) -> Bind {
        match self {
            Scalar::Bool => Bind::Bool,
            Scalar::Int2 => Bind::Int2,
            Scalar::Int4 => Bind::Int4,
            Scalar::Int8 => Bind::Int8,
            Scalar::Float4 => Bind::Float4,
            Scalar::Float8 => Bind::Float8,
            Scalar::Numeric => Bind::Numeric,
            Scalar::Text(oid) => Bind::Text(oid),
            Scalar::Json => Bind::Json,
            Scalar::Jsonb => Bind::Jsonb,
        }
    }

    /// The OID of the element type.
    pub fn oid(self) -> u32 {
        self.bind().oid().unwrap_or(TEXT)
    }

    /// The OID of the array type.
    pub fn array_oid(self) -> u32 {
        match self {
            Scalar::Bool => 1000,
            Scalar::Int2 => 1005,
            Scalar::Int4 => 1007,
            Scalar::Int8 => 1016,
            Scalar::Float4 => 1021,
            Scalar::Float8 => 1022,
            Scalar::Numeric => 1231,
            Scalar::Text(19) => 1003,
            Scalar::Text(1042) => 1014,
            Scalar::Text(1043) => 1015,
            Scalar::Text(_) => 1009,
            Scalar::Json => 199,
            Scalar::Jsonb => 3807,
        }
    }
}

impl Bind {
    /// The variant's name, for generated code.
    pub fn variant(self) -> &'static str {
        match self {
            Bind::Bool => "Bool",
            Bind::Int2 => "Int2",
            Bind::Int4 => "Int4",
            Bind::Int8 => "Int8",
            Bind::Oid => "Oid",
            Bind::Float4 => "Float4",
            Bind::Float8 => "Float8",
            Bind::Numeric => "Numeric",
            Bind::Text(_) => "Text",
            Bind::Json => "Json",
            Bind::Jsonb => "Jsonb",
            Bind::Named => "Named",
            Bind::Array(_) => "Array",
        }
    }

    /// A built-in type by the name sqlx gives it (`INT4`, `TEXT[]`); anything else is a type of
    /// the database's own, sent by name.
    pub fn from_name(name: &str) -> Bind {
        if let Some(element) = name.strip_suffix("[]") {
            return match Bind::from_name(element) {
                Bind::Bool => Bind::Array(Scalar::Bool),
                Bind::Int2 => Bind::Array(Scalar::Int2),
                Bind::Int4 => Bind::Array(Scalar::Int4),
                Bind::Int8 => Bind::Array(Scalar::Int8),
                Bind::Float4 => Bind::Array(Scalar::Float4),
                Bind::Float8 => Bind::Array(Scalar::Float8),
                Bind::Numeric => Bind::Array(Scalar::Numeric),
                Bind::Text(oid) => Bind::Array(Scalar::Text(oid)),
                Bind::Json => Bind::Array(Scalar::Json),
                Bind::Jsonb => Bind::Array(Scalar::Jsonb),
                _ => Bind::Named,
            };
        }
        match name {
            "BOOL" => Bind::Bool,
            "INT2" => Bind::Int2,
            "INT4" => Bind::Int4,
            "INT8" => Bind::Int8,
            "OID" => Bind::Oid,
            "FLOAT4" => Bind::Float4,
            "FLOAT8" => Bind::Float8,
            "NUMERIC" => Bind::Numeric,
            "TEXT" | "UNKNOWN" => Bind::Text(TEXT),
            "VARCHAR" => Bind::Text(1043),
            "BPCHAR" => Bind::Text(1042),
            "NAME" => Bind::Text(19),
            "JSON" => Bind::Json,
            "JSONB" => Bind::Jsonb,
            _ => Bind::Named,
        }
    }

    /// The name sqlx gives the type; `None` for [`Bind::Named`], whose name is the statement's.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Bind::Bool => "BOOL",
            Bind::Int2 => "INT2",
            Bind::Int4 => "INT4",
            Bind::Int8 => "INT8",
            Bind::Oid => "OID",
            Bind::Float4 => "FLOAT4",
            Bind::Float8 => "FLOAT8",
            Bind::Numeric => "NUMERIC",
            Bind::Text(19) => "NAME",
            Bind::Text(1042) => "BPCHAR",
            Bind::Text(1043) => "VARCHAR",
            Bind::Text(_) => "TEXT",
            Bind::Json => "JSON",
            Bind::Jsonb => "JSONB",
            Bind::Named => return None,
            Bind::Array(Scalar::Bool) => "BOOL[]",
            Bind::Array(Scalar::Int2) => "INT2[]",
            Bind::Array(Scalar::Int4) => "INT4[]",
            Bind::Array(Scalar::Int8) => "INT8[]",
            Bind::Array(Scalar::Float4) => "FLOAT4[]",
            Bind::Array(Scalar::Float8) => "FLOAT8[]",
            Bind::Array(Scalar::Numeric) => "NUMERIC[]",
            Bind::Array(Scalar::Text(19)) => "NAME[]",
            Bind::Array(Scalar::Text(1042)) => "BPCHAR[]",
            Bind::Array(Scalar::Text(1043)) => "VARCHAR[]",
            Bind::Array(Scalar::Text(_)) => "TEXT[]",
            Bind::Array(Scalar::Json) => "JSON[]",
            Bind::Array(Scalar::Jsonb) => "JSONB[]",
        })
    }

    /// The OID of a built-in type; `None` for [`Bind::Named`].
    pub fn oid(self) -> Option<u32> {
        Some(match self {
            Bind::Bool => 16,
            Bind::Int2 => 21,
            Bind::Int4 => 23,
            Bind::Int8 => 20,
            Bind::Oid => 26,
            Bind::Float4 => 700,
            Bind::Float8 => 701,
            Bind::Numeric => 1700,
            Bind::Text(oid) => oid,
            Bind::Json => 114,
            Bind::Jsonb => 3802,
            Bind::Named => return None,
            Bind::Array(element) => element.array_oid(),
        })
    }
}

/// The type a parameter declared `declared` (with `items` for an array) is sent as, given the
/// type PostgreSQL inferred for its placeholder (`described`, as sqlx names it; `enum_like`: a
/// type of the database's own whose values are written as text, such as an enum).
///
/// A value is sent as the inferred type whenever the declared type converts to it exactly (an
/// integer to `int4`, with a range check; a number to `numeric`; a string to `varchar` or an
/// enum); otherwise as the declared type's own (`text`, `int8`, `float8`, `bool`, `jsonb`), and
/// the build then checks that the statement prepares with it, which is where an explicit cast
/// (`$1::date`, `CAST($1 AS uuid)`) is needed.
pub fn bind(declared: ParamType, items: Option<ParamType>, described: &str, enum_like: bool) -> Bind {
    let inferred = Bind::from_name(described);
    match declared {
        ParamType::Integer => match inferred {
            Bind::Int2 | Bind::Int4 | Bind::Int8 | Bind::Oid | Bind::Float4 | Bind::Float8 | Bind::Numeric => inferred,
            _ => Bind::Int8,
        },
        ParamType::Float => match inferred {
            Bind::Float4 | Bind::Float8 | Bind::Numeric => inferred,
            _ => Bind::Float8,
        },
        ParamType::Boolean => Bind::Bool,
        ParamType::String => match inferred {
            Bind::Text(_) | Bind::Json | Bind::Jsonb => inferred,
            Bind::Named if enum_like => Bind::Named,
            _ => Bind::Text(TEXT),
        },
        ParamType::Map => match inferred {
            Bind::Json => Bind::Json,
            _ => Bind::Jsonb,
        },
        ParamType::Array => {
            let element = match inferred {
                Bind::Array(e) => Some(e),
                _ => None,
            };
            match (items, element) {
                (_, None) if matches!(inferred, Bind::Json | Bind::Jsonb) => inferred,
                (Some(ParamType::Integer), Some(e)) => match e {
                    Scalar::Int2 | Scalar::Int4 | Scalar::Int8 | Scalar::Float4 | Scalar::Float8 | Scalar::Numeric => {
                        Bind::Array(e)
                    }
                    _ => Bind::Array(Scalar::Int8),
                },
                (Some(ParamType::Integer), None) => Bind::Array(Scalar::Int8),
                (Some(ParamType::Float), Some(e @ (Scalar::Float4 | Scalar::Float8 | Scalar::Numeric))) => {
                    Bind::Array(e)
                }
                (Some(ParamType::Float), _) => Bind::Array(Scalar::Float8),
                (Some(ParamType::Boolean), _) => Bind::Array(Scalar::Bool),
                (Some(ParamType::String), Some(e @ (Scalar::Text(_) | Scalar::Json | Scalar::Jsonb))) => Bind::Array(e),
                (Some(ParamType::String), _) => Bind::Array(Scalar::Text(TEXT)),
                (Some(ParamType::Map), Some(e @ (Scalar::Json | Scalar::Jsonb))) => Bind::Array(e),
                // Arrays of maps or of arrays: the whole value as one `jsonb`.
                _ => Bind::Jsonb,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_take_the_inferred_width() {
        assert_eq!(bind(ParamType::Integer, None, "INT4", false), Bind::Int4);
        assert_eq!(bind(ParamType::Integer, None, "NUMERIC", false), Bind::Numeric);
        assert_eq!(bind(ParamType::Integer, None, "TEXT", false), Bind::Int8);
        assert_eq!(bind(ParamType::Float, None, "FLOAT4", false), Bind::Float4);
        assert_eq!(bind(ParamType::Float, None, "INT4", false), Bind::Float8);
    }

    #[test]
    fn strings_are_text_unless_the_placeholder_is_text_like() {
        assert_eq!(bind(ParamType::String, None, "VARCHAR", false), Bind::Text(1043));
        assert_eq!(bind(ParamType::String, None, "DATE", false), Bind::Text(25));
        assert_eq!(bind(ParamType::String, None, "mood", true), Bind::Named);
        assert_eq!(bind(ParamType::String, None, "mood", false), Bind::Text(25));
        assert_eq!(bind(ParamType::String, None, "JSONB", false), Bind::Jsonb);
    }

    #[test]
    fn arrays_follow_their_items() {
        assert_eq!(bind(ParamType::Array, Some(ParamType::Integer), "INT4[]", false), Bind::Array(Scalar::Int4));
        assert_eq!(bind(ParamType::Array, Some(ParamType::String), "UUID[]", false), Bind::Array(Scalar::Text(25)));
        assert_eq!(bind(ParamType::Array, Some(ParamType::Map), "JSONB", false), Bind::Jsonb);
        assert_eq!(Bind::from_name("TEXT[]").name(), Some("TEXT[]"));
        assert_eq!(Bind::Array(Scalar::Text(1043)).oid(), Some(1015));
    }

    #[test]
    fn refused_types_name_a_cast() {
        assert_eq!(wire(790).unwrap_err().cast, "numeric");
        assert_eq!(wire(2205).unwrap_err().cast, "text");
        assert_eq!(wire(23), Ok(Wire::Int4));
    }
}
