//! Which encoder a result column gets, from the engine and the type the build described: one
//! declarative table shared by the code generator (which compiles the choice into each tool) and
//! the runtime (which uses it for `*-execute-sql`, whose columns are only known at run time).

use crate::model::Engine;

/// How a column is encoded into JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Integer,
    UnsignedInteger,
    Real,
    Decimal,
    Boolean,
    Text,
    Blob,
    Json,
    Uuid,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    /// A PostgreSQL array of this element kind.
    Array(Element),
    /// Encoded by the stored value (SQLite expressions without a declared type).
    Any,
    /// The engine's text form (enums and types without a dedicated encoder).
    Raw,
}

/// The element kinds PostgreSQL arrays are decoded with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    Integer,
    Real,
    Decimal,
    Boolean,
    Text,
    Blob,
    Uuid,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Json,
    Raw,
}

impl Kind {
    /// The runtime's variant name.
    pub fn variant(self) -> &'static str {
        match self {
            Kind::Integer => "Integer",
            Kind::UnsignedInteger => "UnsignedInteger",
            Kind::Real => "Real",
            Kind::Decimal => "Decimal",
            Kind::Boolean => "Boolean",
            Kind::Text => "Text",
            Kind::Blob => "Blob",
            Kind::Json => "Json",
            Kind::Uuid => "Uuid",
            Kind::Date => "Date",
            Kind::Time => "Time",
            Kind::Timestamp => "Timestamp",
            Kind::TimestampTz => "TimestampTz",
            Kind::Interval => "Interval",
            Kind::Array(_) => "Array",
            Kind::Any => "Any",
            Kind::Raw => "Raw",
        }
    }
}

impl Kind {
    /// The kind as text, for the description cache: the variant name, `Array(Integer)`.
    pub fn code(self) -> String {
        match self {
            Kind::Array(e) => format!("Array({})", element_kind(e).variant()),
            other => other.variant().to_string(),
        }
    }

    /// Reads [`Kind::code`].
    pub fn from_code(code: &str) -> Option<Kind> {
        if let Some(inner) = code.strip_prefix("Array(").and_then(|c| c.strip_suffix(')')) {
            return Some(Kind::Array(crate::pg::element(Kind::from_code(inner)?)));
        }
        const SCALARS: [Kind; 16] = [
            Kind::Integer,
            Kind::UnsignedInteger,
            Kind::Real,
            Kind::Decimal,
            Kind::Boolean,
            Kind::Text,
            Kind::Blob,
            Kind::Json,
            Kind::Uuid,
            Kind::Date,
            Kind::Time,
            Kind::Timestamp,
            Kind::TimestampTz,
            Kind::Interval,
            Kind::Any,
            Kind::Raw,
        ];
        SCALARS.into_iter().find(|k| k.variant() == code)
    }
}

pub fn element_kind(e: Element) -> Kind {
    match e {
        Element::Integer => Kind::Integer,
        Element::Real => Kind::Real,
        Element::Decimal => Kind::Decimal,
        Element::Boolean => Kind::Boolean,
        Element::Text => Kind::Text,
        Element::Blob => Kind::Blob,
        Element::Uuid => Kind::Uuid,
        Element::Date => Kind::Date,
        Element::Time => Kind::Time,
        Element::Interval => Kind::Interval,
        Element::Timestamp => Kind::Timestamp,
        Element::TimestampTz => Kind::TimestampTz,
        Element::Json => Kind::Json,
        Element::Raw => Kind::Raw,
    }
}

/// The encoder for a described column.
pub fn column_kind(engine: Engine, type_name: &str) -> Kind {
    match engine {
        Engine::Sqlite => match type_name {
            "INTEGER" => Kind::Integer,
            "REAL" => Kind::Real,
            "TEXT" => Kind::Text,
            "BLOB" => Kind::Blob,
            "BOOLEAN" => Kind::Boolean,
            _ => Kind::Any,
        },
        Engine::Postgres => {
            if let Some(element) = type_name.strip_suffix("[]") {
                return Kind::Array(crate::pg::element(postgres_scalar(element)));
            }
            postgres_scalar(type_name)
        }
        Engine::Mysql => {
            let unsigned = type_name.ends_with(" UNSIGNED");
            match type_name.trim_end_matches(" UNSIGNED") {
                "BOOLEAN" => Kind::Boolean,
                "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" if unsigned => Kind::UnsignedInteger,
                "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => Kind::Integer,
                "FLOAT" | "DOUBLE" => Kind::Real,
                "DECIMAL" => Kind::Decimal,
                // BIT(n): its bits as an unsigned integer.
                "BIT" => Kind::UnsignedInteger,
                "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET" | "INET4"
                | "INET6" => Kind::Text,
                "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => Kind::Blob,
                "UUID" => Kind::Uuid,
                "JSON" => Kind::Json,
                "DATE" => Kind::Date,
                "TIME" => Kind::Time,
                "DATETIME" => Kind::Timestamp,
                "TIMESTAMP" => Kind::TimestampTz,
                "NULL" => Kind::Any,
                _ => Kind::Raw,
            }
        }
    }
}

fn postgres_scalar(type_name: &str) -> Kind {
    match type_name {
        "INT2" | "INT4" | "INT8" | "OID" => Kind::Integer,
        "FLOAT4" | "FLOAT8" => Kind::Real,
        "NUMERIC" => Kind::Decimal,
        "BOOL" => Kind::Boolean,
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "\"CHAR\"" | "CITEXT" => Kind::Text,
        "BYTEA" => Kind::Blob,
        "JSON" | "JSONB" => Kind::Json,
        "UUID" => Kind::Uuid,
        "DATE" => Kind::Date,
        "TIME" => Kind::Time,
        "TIMESTAMP" => Kind::Timestamp,
        "TIMESTAMPTZ" => Kind::TimestampTz,
        "INTERVAL" => Kind::Interval,
        "VOID" => Kind::Any,
        _ => Kind::Raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_kinds() {
        assert_eq!(column_kind(Engine::Postgres, "INT8[]"), Kind::Array(Element::Integer));
        assert_eq!(column_kind(Engine::Postgres, "mood"), Kind::Raw);
        assert_eq!(column_kind(Engine::Mysql, "BIGINT UNSIGNED"), Kind::UnsignedInteger);
        assert_eq!(column_kind(Engine::Mysql, "BOOLEAN"), Kind::Boolean);
        assert_eq!(column_kind(Engine::Mysql, "BIT"), Kind::UnsignedInteger);
        assert_eq!(column_kind(Engine::Mysql, "UUID"), Kind::Uuid);
        assert_eq!(column_kind(Engine::Sqlite, "NULL"), Kind::Any);
    }

    #[test]
    fn kinds_round_trip_as_text() {
        for kind in [Kind::Decimal, Kind::Array(Element::Timestamp), Kind::Raw] {
            assert_eq!(Kind::from_code(&kind.code()), Some(kind));
        }
        assert_eq!(Kind::from_code("Nope"), None);
    }
}
