//! Values and types as tokens: constant values, Rust types, column kinds and encoders, and the
//! types PostgreSQL parameters are sent as.

use super::{float, int, lit, rt};
use crate::types::{self, Kind};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;
use toolbox_config::model::*;

pub(super) fn const_value(v: &Value) -> TokenStream {
    let rt = rt();
    match v {
        Value::String(s) => {
            let s = lit(s);
            quote!(#rt::ConstValue::Str(#s))
        }
        Value::Bool(b) => quote!(#rt::ConstValue::Bool(#b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => {
                let i = Literal::i64_unsuffixed(i);
                quote!(#rt::ConstValue::Int(#i))
            }
            None => {
                let f = float(n.as_f64().unwrap_or_default());
                quote!(#rt::ConstValue::Float(#f))
            }
        },
        other => {
            let text = lit(&other.to_string());
            quote!(#rt::ConstValue::Json(#text))
        }
    }
}

pub(super) fn rust_type(t: ParamType) -> TokenStream {
    let rt = rt();
    match t {
        ParamType::String => quote!(String),
        ParamType::Integer => quote!(i64),
        ParamType::Float => quote!(f64),
        ParamType::Boolean => quote!(bool),
        ParamType::Array | ParamType::Map => quote!(#rt::Value),
    }
}

pub(super) fn column_kind(kind: Kind) -> TokenStream {
    let rt = rt();
    let variant = format_ident!("{}", kind.variant());
    match kind {
        Kind::Array(element) => {
            let element = format_ident!("{}", types::element_kind(element).variant());
            quote!(#rt::ColumnKind::Array(#rt::Element::#element))
        }
        _ => quote!(#rt::ColumnKind::#variant),
    }
}

pub(super) fn column_defs(engine: Engine, columns: &[crate::describe::DescribedColumn]) -> TokenStream {
    let rt = rt();
    let defs = columns.iter().map(|c| {
        let key = lit(&format!("{}:", serde_json::to_string(&c.name).unwrap_or_default()));
        let kind = column_kind(c.json_kind(engine));
        quote!(#rt::ColumnDef { key: #key, kind: #kind })
    });
    quote!(&[#(#defs),*])
}

/// The PostgreSQL parameter types of a statement, as the build chose them.
pub(super) fn pg_params(binds: Option<&[String]>) -> TokenStream {
    let rt = rt();
    let params = binds.unwrap_or_default().iter().map(|name| {
        let bind = pg_bind(toolbox_config::pg::Bind::from_name(name));
        let name = lit(name);
        quote!(#rt::postgres::PgParam { bind: #bind, type_name: #name })
    });
    quote!(&[#(#params),*])
}

pub(super) fn pg_bind(bind: toolbox_config::pg::Bind) -> TokenStream {
    use toolbox_config::pg::{Bind, Scalar};
    let rt = rt();
    let scalar = |s: Scalar| match s {
        Scalar::Text(oid) => {
            let oid = int(oid);
            quote!(#rt::PgScalar::Text(#oid))
        }
        other => {
            let v = format_ident!("{}", other.variant());
            quote!(#rt::PgScalar::#v)
        }
    };
    match bind {
        Bind::Text(oid) => {
            let oid = int(oid);
            quote!(#rt::PgBind::Text(#oid))
        }
        Bind::Array(element) => {
            let element = scalar(element);
            quote!(#rt::PgBind::Array(#element))
        }
        other => {
            let v = format_ident!("{}", other.variant());
            quote!(#rt::PgBind::#v)
        }
    }
}
