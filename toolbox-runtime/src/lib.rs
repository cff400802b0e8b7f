//! The runtime of a compiled toolbox: what the code generated from `tools.yaml` links against.
//!
//! - [`def`]: the static tables generated code fills in (tools, toolsets, prompts, sources);
//! - [`args`]: argument checking against parameter definitions;
//! - [`sources`]: start-up resolution of `${VAR}` settings, health; [`pool`]: the connection pools;
//!   [`execute`] with [`sqlite`], [`postgres`] and [`mysql`]: running statements, encoding rows;
//! - [`mcp`]: the JSON-RPC and MCP method layer shared by both transports, over [`protocol`]
//!   (versions and methods) and [`error`] (the JSON-RPC error and its one writer);
//! - [`auth`]: bearer tokens (MCP authorization), `<service>_token` headers, tool scopes;
//! - [`http`] and [`stdio`]: the transports; [`serve`]: HTTP connections, their timeouts and
//!   the graceful shutdown; [`server`]: the command line and process.

pub mod args;
pub mod auth;
pub mod call;
pub mod def;
pub mod encode;
pub mod error;
pub mod execute;
pub mod http;
pub mod mcp;
pub mod mysql;
pub mod pool;
pub mod postgres;
pub mod protocol;
pub mod rate;
pub mod serve;
pub mod server;
pub mod server_pool;
pub mod sources;
pub mod sqlite;
pub mod stdio;

pub use def::Toolbox;

// Property-based fuzzing of header decoding and argument checking (proptest); the strategies and
// the case count (`TOOLBOX_FUZZ_CASES`) are shared with `auth/fuzz.rs`.
#[cfg(test)]
mod fuzz;

/// Every binary that links the runtime allocates through mimalloc (see Cargo.toml).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
pub use server::main;

/// Paths used by generated code. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::args::{ArgError, Arguments, ClaimSource, ConstValue, ParamDef, ParamKind};
    pub use crate::call::{CallContext, ToolOutput};
    pub use crate::def::*;
    pub use crate::encode::{ColumnDef, ColumnKind, Element};
    pub use crate::{mysql, postgres, sqlite};
    pub use serde_json::Value;
    pub use std::boxed::Box;
    pub use std::time::Duration;
    pub use toolbox_config::pg::{Bind as PgBind, Scalar as PgScalar};
    pub use toolbox_config::rate::Rate;
}
