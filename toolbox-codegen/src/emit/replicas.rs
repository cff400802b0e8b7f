//! Read replicas in the generated code: a source's `ReplicasDef` (its replicas' settings, the
//! lag it tolerates, where each of its tools runs), and how a tool's handler picks its pool.
//! Sources without replicas get `replicas: None` and handlers exactly as before.

use super::{ToolPlan, lit, rt, tables::setting};
use crate::access::Access;
use proc_macro2::TokenStream;
use quote::quote;
use toolbox_config::diag::Spanned;
use toolbox_config::model::{ServerSource, ToolKind};

/// Where a tool's statements run.
pub(super) enum Placement {
    /// Every variant on the primary (a source without replicas, or a write).
    Primary,
    /// Every variant only reads: on a replica.
    Replicas,
    /// Template values choose: `true` where the variant reads.
    ByVariant(Vec<bool>),
}

/// Where a tool runs, from its variants' classification (absent on a source without replicas).
pub(super) fn placement(plan: &ToolPlan<'_>) -> Placement {
    let reads: Vec<bool> = plan.variants.iter().map(|v| v.access == Some(Access::Read)).collect();
    if reads.iter().all(|r| *r) && !reads.is_empty() {
        Placement::Replicas
    } else if reads.iter().any(|r| *r) && plan.tool.ty.kind != ToolKind::ExecuteSql {
        Placement::ByVariant(reads)
    } else {
        Placement::Primary
    }
}

/// The source's `replicas` field: `None`, or its replicas with the route of each of its tools.
pub(super) fn replicas_def(server: &ServerSource, tools: &[&ToolPlan<'_>], files: &[String]) -> TokenStream {
    let rt = rt();
    if server.replicas.is_empty() {
        return quote!(None);
    }
    let optional = |v: &Option<Spanned<String>>| match v {
        Some(v) => {
            let v = setting(v, files);
            quote!(Some(#v))
        }
        None => quote!(None),
    };
    let replicas = server.replicas.iter().map(|r| {
        let host = setting(&r.host, files);
        let (port, user, password, database) =
            (optional(&r.port), optional(&r.user), optional(&r.password), optional(&r.database));
        quote!(#rt::ReplicaDef { host: #host, port: #port, user: #user, password: #password, database: #database })
    });
    let max_lag = optional(&server.max_replica_lag);
    let routes = tools.iter().map(|plan| {
        let name = lit(&plan.tool.name.value);
        let route = match placement(plan) {
            Placement::Replicas => quote!(#rt::Route::Replicas),
            Placement::ByVariant(_) => quote!(#rt::Route::ByTemplate),
            Placement::Primary => {
                let why = plan.variants.iter().find_map(|v| match &v.access {
                    Some(Access::Write(why)) => Some(why.clone()),
                    _ => None,
                });
                let why = lit(&why.unwrap_or_else(|| "runs on the primary".into()));
                quote!(#rt::Route::Primary(#why))
            }
        };
        quote!((#name, #route))
    });
    quote! {
        Some(&#rt::ReplicasDef {
            replicas: &[#(#replicas),*],
            max_lag: #max_lag,
            routes: &[#(#routes),*],
        })
    }
}

/// The `ON_REPLICA` table of a tool whose template values choose where it runs.
pub(super) fn variant_table(placement: &Placement) -> TokenStream {
    match placement {
        Placement::ByVariant(reads) => {
            let count = super::index(reads.len());
            quote! {
                /// Whether each statement only reads, and so runs on a replica.
                pub static ON_REPLICA: [bool; #count] = [#(#reads),*];
            }
        }
        _ => quote!(),
    }
}

/// The expression that runs a PostgreSQL tool's bound `query` where it belongs.
pub(super) fn run_postgres(placement: &Placement, max_rows: &TokenStream) -> TokenStream {
    let rt = rt();
    let primary = quote!(#rt::postgres::run(pool, query, statement.columns, #max_rows).await);
    let replica =
        quote!(#rt::postgres::run_read(ctx.sources.get(SOURCE), pool, query, statement.columns, #max_rows).await);
    match placement {
        Placement::Primary => primary,
        Placement::Replicas => replica,
        Placement::ByVariant(_) => quote!(if ON_REPLICA[variant] { #replica } else { #primary }),
    }
}
