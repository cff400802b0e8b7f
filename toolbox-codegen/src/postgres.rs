//! What the build checks of a PostgreSQL statement beyond preparing it: the type each parameter
//! is sent as ([`toolbox_config::pg::bind`], then the statement prepared again with exactly those
//! types, so a placeholder that needs a cast is found now), and a JSON encoding for the type of
//! every result column ([`column_kind`], by the table the runtime decodes with).

use crate::describe::{Described, DescribedColumn, Problem, Signature, message};
use sqlx::postgres::{PgConnection, PgTypeInfo, PgTypeKind};
use sqlx::{Column, Connection, Executor, Statement, TypeInfo};
use sqlx_core::sql_str::{AssertSqlSafe, SqlSafeStr};
use toolbox_config::pg::{self, Bind};
use toolbox_config::types::Kind;

/// The JSON shape of a column of type `ty`, or what to write in the statement instead.
pub fn column_kind(ty: &PgTypeInfo) -> Result<Kind, String> {
    match ty.kind() {
        PgTypeKind::Enum(_) => Ok(Kind::Text),
        PgTypeKind::Domain(base) => column_kind(base),
        PgTypeKind::Array(element) => Ok(Kind::Array(pg::element(column_kind(element)?))),
        PgTypeKind::Range(subtype) => {
            let mut subtype = subtype;
            while let PgTypeKind::Domain(base) = subtype.kind() {
                subtype = base;
            }
            let served = subtype.oid().is_some_and(|oid| pg::wire(oid.0).is_ok_and(pg::Wire::is_range_subtype));
            if served {
                Ok(Kind::Raw)
            } else {
                Err(format!("a range of `{}`, which toolbox does not encode: cast it (`::text`)", subtype.name()))
            }
        }
        PgTypeKind::Composite(fields) => {
            for (name, field) in fields.iter() {
                column_kind(field).map_err(|e| format!("of a composite type whose field `{name}` is {e}"))?;
            }
            Ok(Kind::Json)
        }
        PgTypeKind::Simple | PgTypeKind::Pseudo => {
            if ty.name().eq_ignore_ascii_case("citext") {
                return Ok(Kind::Text);
            }
            let oid = ty.oid().map(|o| o.0).unwrap_or(0);
            if oid == 2249 {
                return Err(
                    "an anonymous record, which has no field names: select its fields as columns, or use `row_to_json(...)`"
                        .into(),
                );
            }
            match pg::wire(oid) {
                Ok(wire) => Ok(wire.kind()),
                Err(refusal) => Err(format!(
                    "of type `{}`, which toolbox does not encode ({}): cast it (`::{}`)",
                    ty.name(),
                    refusal.why,
                    refusal.cast
                )),
            }
        }
    }
}

/// Whether a value of this type is written as text, so a `string` parameter can be sent as it.
fn text_like(ty: &PgTypeInfo) -> bool {
    matches!(ty.kind(), PgTypeKind::Enum(_)) || ty.name().eq_ignore_ascii_case("citext")
}

/// Describes a statement whose parameters are declared `signature`: the types PostgreSQL infers,
/// the types values will be sent as (checked by preparing the statement with them), and the
/// result columns with their JSON kinds.
pub async fn describe(c: &mut PgConnection, sql: &str, signature: &[Signature]) -> Result<Described, String> {
    let statement = || AssertSqlSafe(sql.to_string()).into_sql_str();
    let described = c.describe(statement()).await.map_err(|e| explain(&message(&e)))?;
    let inferred: Vec<PgTypeInfo> = match &described.parameters {
        Some(sqlx::Either::Left(types)) => types.clone(),
        _ => Vec::new(),
    };
    let mut out = Described {
        parameters: inferred.len(),
        parameter_types: Some(inferred.iter().map(|t| t.name().to_string()).collect()),
        binds: None,
        columns: Vec::new(),
        access: None,
        problems: Vec::new(),
    };
    let mut column_types: Vec<PgTypeInfo> = described.columns.iter().map(|c| c.type_info().clone()).collect();
    if inferred.len() == signature.len() {
        let binds: Vec<Bind> =
            signature.iter().zip(&inferred).map(|(s, t)| pg::bind(s.ty, s.items, t.name(), text_like(t))).collect();
        let declared = |i: usize, bind: Bind| -> PgTypeInfo {
            match bind.oid() {
                Some(oid) => PgTypeInfo::with_oid(sqlx::postgres::types::Oid(oid)),
                None => inferred[i].clone(),
            }
        };
        let all: Vec<PgTypeInfo> = binds.iter().enumerate().map(|(i, b)| declared(i, *b)).collect();
        c.clear_cached_statements().await.map_err(|e| message(&e))?;
        match c.prepare_with(statement(), &all).await {
            Ok(prepared) => column_types = prepared.columns().iter().map(|c| c.type_info().clone()).collect(),
            Err(sqlx::Error::Database(e)) => {
                // Find the parameters whose type alone makes the statement fail.
                for (i, bind) in binds.iter().enumerate() {
                    if Bind::from_name(inferred[i].name()) == *bind {
                        continue;
                    }
                    let mut one: Vec<PgTypeInfo> = inferred.clone();
                    one[i] = declared(i, *bind);
                    c.clear_cached_statements().await.map_err(|e| message(&e))?;
                    if let Err(sqlx::Error::Database(e)) = c.prepare_with(statement(), &one).await {
                        out.problems.push(Problem::Parameter {
                            index: i,
                            bind: bind.name().unwrap_or(inferred[i].name()).to_string(),
                            message: e.message().to_string(),
                        });
                    }
                }
                if out.problems.is_empty() {
                    return Err(format!("with the parameter types toolbox sends: {}", e.message()));
                }
            }
            Err(e) => return Err(message(&e)),
        }
        c.clear_cached_statements().await.map_err(|e| message(&e))?;
        let names = binds.iter().enumerate().map(|(i, b)| b.name().unwrap_or(inferred[i].name()).to_string());
        out.binds = Some(names.collect());
    }
    for (i, column) in described.columns.iter().enumerate() {
        let ty = column_types.get(i).unwrap_or(column.type_info());
        let kind = match column_kind(ty) {
            Ok(kind) => Some(kind.code()),
            Err(problem) => {
                out.problems.push(Problem::Column { name: column.name().to_string(), message: problem });
                None
            }
        };
        out.columns.push(DescribedColumn {
            name: column.name().to_string(),
            type_name: ty.name().to_string(),
            nullable: described.nullable.get(i).copied().flatten(),
            kind,
        });
    }
    Ok(out)
}

/// sqlx cannot describe a multirange column; say what to do instead.
fn explain(message: &str) -> String {
    if message.contains("unknown type code 109") {
        "a result column is of a multirange type, which toolbox does not encode: cast it (`::text`)".into()
    } else {
        message.to_string()
    }
}
