//! The static description of a toolbox that generated code fills in: sources, tools, toolsets,
//! prompts and auth services. Everything here is `'static` data made at build time; nothing is
//! parsed or allocated to serve it.

use crate::args::{Arguments, ParamDef};
use crate::call::{CallContext, ToolOutput};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, as returned by generated tool handlers.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Everything the server serves.
pub struct Toolbox {
    /// Absolute path of the `tools.yaml` this was built from, for messages.
    pub config_path: &'static str,
    pub server_name: &'static str,
    pub server_version: &'static str,
    pub sources: &'static [SourceDef],
    /// Sorted by name (binary search on the hot path).
    pub tools: &'static [ToolDef],
    /// The default toolset (every tool and prompt) comes first.
    pub toolsets: &'static [ToolsetDef],
    /// Sorted by name.
    pub prompts: &'static [PromptDef],
    pub auth_services: &'static [AuthServiceDef],
}

impl Toolbox {
    pub fn tool(&self, name: &str) -> Option<(usize, &'static ToolDef)> {
        let tools: &'static [ToolDef] = self.tools;
        tools.binary_search_by(|t| t.name.cmp(name)).ok().map(|i| (i, &tools[i]))
    }

    pub fn prompt(&self, name: &str) -> Option<(usize, &'static PromptDef)> {
        let prompts: &'static [PromptDef] = self.prompts;
        prompts.binary_search_by(|p| p.name.cmp(name)).ok().map(|i| (i, &prompts[i]))
    }

    /// A toolset by URL segment; `None` selects the default one.
    pub fn toolset(&self, name: Option<&str>) -> Option<&'static ToolsetDef> {
        let toolsets: &'static [ToolsetDef] = self.toolsets;
        match name {
            None => toolsets.first(),
            Some(name) => toolsets.iter().skip(1).find(|t| t.name == name),
        }
    }
}

/// A setting from `tools.yaml` that may hold `${VAR}` placeholders, resolved at start-up.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    pub raw: &'static str,
    pub line: u32,
    pub col: u32,
}

pub struct SourceDef {
    pub name: &'static str,
    pub kind: SourceKindDef,
}

pub enum SourceKindDef {
    Sqlite(SqliteSourceDef),
    Postgres(ServerSourceDef),
    Mysql(ServerSourceDef),
}

/// A PostgreSQL or MySQL/MariaDB server; every setting is resolved at start-up.
pub struct ServerSourceDef {
    pub host: Setting,
    pub port: Setting,
    pub user: Option<Setting>,
    pub password: Option<Setting>,
    pub database: Option<Setting>,
    pub query_params: &'static [(&'static str, Setting)],
    pub connect_timeout: Option<Setting>,
    pub query_timeout: Option<Setting>,
    pub max_connections: u32,
    pub read_only: bool,
    /// Every compiled statement of the source, for the start-up comparison with the live schema.
    pub statements: &'static [CompiledStatement],
}

/// A statement as the build described it.
pub struct CompiledStatement {
    pub tool: &'static str,
    pub sql: &'static str,
    /// `(name, type)` of each result column.
    pub columns: &'static [(&'static str, &'static str)],
    /// PostgreSQL: the types the parameters are sent as, which the comparison prepares it with.
    pub pg_params: &'static [crate::postgres::PgParam],
}

/// One statement of a tool (one per combination of template values).
pub struct Statement {
    pub sql: &'static str,
    /// The result columns, or `None` for a statement that returns no rows.
    pub columns: Option<&'static [crate::encode::ColumnDef]>,
    /// PostgreSQL: the type each parameter is sent as.
    pub pg_params: &'static [crate::postgres::PgParam],
}

pub struct SqliteSourceDef {
    pub database: Setting,
    /// Run to create the database file when it is missing at start-up.
    pub schema_sql: Option<&'static str>,
    pub seed_sql: Option<&'static str>,
    pub read_only: bool,
    /// Every compiled statement of the source, for the start-up comparison with the database.
    pub statements: &'static [CompiledStatement],
}

/// A generated tool handler: checks the arguments, runs the statement, encodes the rows.
pub type ToolHandler = for<'a> fn(&'a CallContext<'a>, &'a Arguments) -> BoxFuture<'a, ToolOutput>;

pub struct ToolDef {
    pub name: &'static str,
    pub source: usize,
    pub params: &'static [ParamDef],
    /// Any one of these auth services must have verified the caller (enforced by the auth layer).
    pub auth_required: &'static [&'static str],
    /// Every one of these scopes must be granted (enforced by the auth layer).
    pub scopes_required: &'static [&'static str],
    /// `(parameter, header)`: parameters mirrored in `Mcp-Param-<header>` (lower case).
    pub header_params: &'static [(&'static str, &'static str)],
    /// The tool's `queryTimeout`; without one, the server's default applies.
    pub query_timeout_ms: Option<u64>,
    /// The tool's `rateLimit` (per caller); without one, the server's default applies.
    pub rate_limit: Option<toolbox_config::rate::Rate>,
    pub handler: ToolHandler,
}

/// How `tools/list` entries look in each protocol generation. Each also carries the
/// `toolbox/authParam` / `toolbox/authInvoke` `_meta` of a tool that takes tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolShape {
    /// 2024-11-05: name, description, inputSchema.
    V20241105 = 0,
    /// 2025-03-26: plus annotations.
    V20250326 = 1,
    /// 2025-06-18 and 2025-11-25: plus title and outputSchema.
    V20250618 = 2,
    /// 2026-07-28: the same, with the auth `_meta` also under the `com.google.cloud/` keys.
    V20260728 = 3,
}

pub struct ToolsetDef {
    pub name: &'static str,
    /// `None`: every tool (the default toolset).
    pub tools: Option<&'static [u16]>,
    /// `None`: every prompt.
    pub prompts: Option<&'static [u16]>,
    /// The JSON array of `tools/list`, per [`ToolShape`].
    pub tools_json: [&'static str; 4],
    /// The JSON array of `prompts/list`.
    pub prompts_json: &'static str,
    pub instructions: Option<&'static str>,
    pub ttl_ms: u64,
    pub cache_private: bool,
}

impl ToolsetDef {
    pub fn has_tool(&self, index: usize) -> bool {
        self.tools.is_none_or(|t| t.contains(&(index as u16)))
    }

    pub fn has_prompt(&self, index: usize) -> bool {
        self.prompts.is_none_or(|p| p.contains(&(index as u16)))
    }
}

pub struct PromptDef {
    pub name: &'static str,
    pub description: &'static str,
    pub arguments: &'static [ParamDef],
    pub messages: &'static [PromptMessageDef],
}

pub struct PromptMessageDef {
    pub role: &'static str,
    pub parts: &'static [PromptPart],
}

/// A piece of a prompt message: literal text, or the value of the argument at this index.
pub enum PromptPart {
    Text(&'static str),
    Argument(usize),
}

pub struct AuthServiceDef {
    pub name: &'static str,
    pub kind: &'static str,
    pub mcp_enabled: bool,
    pub scopes_required: &'static [&'static str],
    pub settings: &'static [(&'static str, Setting)],
}
