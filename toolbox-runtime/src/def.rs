//! The static description of a toolbox that generated code fills in: sources, tools, toolsets,
//! prompts and auth services. Everything here is `'static` data made at build time; nothing is
//! parsed or allocated to serve it.

use crate::args::{Arguments, ClaimSource, ParamDef};
use crate::call::ToolOutput;
use crate::db::Sources;
use crate::db::def::SourceDef;
use crate::setting::{Setting, StartupError};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, as returned by generated tool handlers.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Everything the server serves.
pub struct Toolbox {
    /// The path of the `tools.yaml` this was built from, as the build named it, for messages.
    pub config_path: &'static str,
    /// The absolute directory of that `tools.yaml` on the machine that built the binary: a
    /// relative SQLite `database` is resolved against it (see `db::sqlite::source`).
    pub config_dir: &'static str,
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

    /// The toolbox's sources, their settings resolved from the process environment; nothing is
    /// opened yet.
    pub fn resolve_sources(&'static self) -> Result<Sources, StartupError> {
        self.resolve_sources_with(&|name| std::env::var(name).ok())
    }

    /// Like [`Toolbox::resolve_sources`], with another environment (tests).
    pub fn resolve_sources_with(
        &'static self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Sources, StartupError> {
        Sources::resolve(self.config_path, self.config_dir, self.sources, lookup)
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

/// What a tool handler gets: the sources, and the caller's verified claims.
pub struct CallContext<'a> {
    pub sources: &'a Sources,
    pub claims: &'a dyn ClaimSource,
}

/// A generated tool handler: checks the arguments, runs the statement, encodes the rows.
pub type ToolHandler = for<'a> fn(&'a CallContext<'a>, &'a Arguments) -> BoxFuture<'a, ToolOutput>;

pub struct ToolDef {
    pub name: &'static str,
    pub source: usize,
    pub params: &'static [ParamDef],
    /// How many of `params`, at the end, are template parameters: their values choose the
    /// statement (among the source's compiled statements of this tool, in mixed-radix order of
    /// their indices in `allowedValues`, the last parameter fastest).
    pub template_params: usize,
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
    pub kind: AuthServiceKindDef,
    pub mcp_enabled: bool,
    pub scopes_required: &'static [&'static str],
}

/// An auth service's type and settings, as the build checked them; settings are resolved at
/// start-up.
pub enum AuthServiceKindDef {
    Google { client_id: Option<Setting>, audience: Option<Setting> },
    Generic(GenericAuthDef),
}

pub struct GenericAuthDef {
    pub authorization_server: Setting,
    pub audience: Setting,
    pub introspection: IntrospectionDef,
}

/// How opaque tokens are introspected (RFC 7662), for an MCP auth service.
pub struct IntrospectionDef {
    pub endpoint: Option<Setting>,
    pub method: IntrospectionMethod,
    pub param_name: Option<Setting>,
    pub client_id: Option<Setting>,
    pub client_secret: Option<Setting>,
    pub force: bool,
}

pub use toolbox_config::model::IntrospectionMethod;
