//! The runtime of a compiled toolbox: what the code generated from `tools.yaml` links against.
//!
//! - [`def`]: the static tables generated code fills in (tools, toolsets, prompts, sources);
//! - [`args`]: argument checking against parameter definitions;
//! - [`db`]: the sources and their engines: settings resolved at start-up, pools, running
//!   statements and encoding rows; [`setting`] and [`call`] are the leaves it shares with the
//!   layers above (a setting's resolution; a call's output and deadline);
//! - [`mcp`]: the JSON-RPC and MCP method layer shared by both transports, over [`protocol`]
//!   (versions and methods) and [`error`] (the JSON-RPC error and its one writer);
//! - [`auth`]: bearer tokens (MCP authorization), `<service>_token` headers, tool scopes;
//! - [`telemetry`]: traces, metrics (OTLP and `/metrics`), the call log and SQL comments;
//! - [`http`] and [`stdio`]: the transports; [`serve`]: HTTP connections, their timeouts and
//!   the graceful shutdown; [`tls`]: HTTPS on the listener and its certificate reload; [`ui`]:
//!   the page of `--ui`, to browse and try the tools;
//!   [`server`]: the command line and process; [`command`]: the subcommands besides `serve`
//!   (`list`, `invoke`, `check`, `schema`).

pub mod args;
pub mod auth;
pub mod call;
pub mod command;
pub mod db;
pub mod def;
pub mod error;
pub mod http;
pub mod mcp;
pub mod protocol;
pub mod rate;
pub mod serve;
pub mod server;
pub mod setting;
pub mod stdio;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tls;
pub mod ui;

pub use def::Toolbox;

// Property-based fuzzing of header decoding and argument checking (proptest); the strategies and
// the case count (`TOOLBOX_FUZZ_CASES`) are shared with `auth/fuzz.rs`.
#[cfg(test)]
mod fuzz;

/// Every binary that links the runtime allocates through mimalloc (see Cargo.toml). Not in the
/// crate's own unit tests, which also link the crate as a dev-dependency (for `testing`), whose
/// allocator is the one used.
#[cfg(all(feature = "mimalloc", not(test)))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
pub use server::{Options, main, main_with};

/// Paths used by generated code. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::args::{ArgError, Arguments, ClaimSource, ConstValue, ParamDef, ParamKind};
    pub use crate::call::{Failure, ToolOutput};
    pub use crate::db::def::*;
    pub use crate::db::encode::{ColumnDef, ColumnKind, Element};
    pub use crate::db::{http, mysql, postgres, redis, sqlite};
    pub use crate::def::*;
    pub use crate::setting::Setting;
    pub use serde_json::Value;
    pub use std::boxed::Box;
    pub use std::time::Duration;
    pub use toolbox_config::pg::{Bind as PgBind, Scalar as PgScalar};
    pub use toolbox_config::rate::Rate;
}
