//! The validated model of a `tools.yaml`: what the code generator consumes.
//!
//! Values that may hold credentials (source and auth-service settings) are kept as written, with
//! their `${VAR}` placeholders, and resolved only when the server starts.

use crate::diag::{Pos, Spanned};
use serde_json::Value;

/// A whole configuration file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub sources: Vec<Source>,
    pub auth_services: Vec<AuthService>,
    pub tools: Vec<Tool>,
    /// Toolsets and named groups; both are served at `/mcp/{name}`.
    pub toolsets: Vec<Toolset>,
    pub prompts: Vec<Prompt>,
    /// The description of the nameless default group, served as MCP `instructions`.
    pub instructions: Option<String>,
}

impl Config {
    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.name.value == name)
    }
}

#[derive(Clone, Debug)]
pub struct Source {
    pub name: Spanned<String>,
    pub kind: SourceKind,
}

#[derive(Clone, Debug)]
pub enum SourceKind {
    Sqlite(SqliteSource),
    Postgres(ServerSource),
    Mysql(ServerSource),
    Http(crate::http::HttpSource),
    Redis(crate::redis::RedisSource),
}

impl SourceKind {
    pub fn type_name(&self) -> &'static str {
        self.source_type().type_name()
    }

    pub fn source_type(&self) -> SourceType {
        match self {
            SourceKind::Sqlite(_) => SourceType::Sql(Engine::Sqlite),
            SourceKind::Postgres(_) => SourceType::Sql(Engine::Postgres),
            SourceKind::Mysql(_) => SourceType::Sql(Engine::Mysql),
            SourceKind::Http(_) => SourceType::Http,
            SourceKind::Redis(_) => SourceType::Redis,
        }
    }

    /// The SQL engine, or `None` for a source that is not SQL.
    pub fn engine(&self) -> Option<Engine> {
        self.source_type().engine()
    }
}

/// What a source is; each source type and tool type belongs to one.
///
/// A SQL source's tools run statements that the build describes against its schema. A source
/// that is not SQL is a variant of its own: its tools have no statement, and the generator plans
/// and emits them in a module of their own (`toolbox-codegen`), as the runtime serves them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceType {
    Sql(Engine),
    /// An HTTP API (`type: http`).
    Http,
    /// Redis or Valkey: tools run command templates (`crate::redis`).
    Redis,
}

impl SourceType {
    pub fn type_name(self) -> &'static str {
        match self {
            SourceType::Sql(engine) => engine.type_name(),
            SourceType::Http => "http",
            SourceType::Redis => "redis",
        }
    }

    /// The SQL engine, or `None` for a source that is not SQL.
    pub fn engine(self) -> Option<Engine> {
        match self {
            SourceType::Sql(engine) => Some(engine),
            SourceType::Http => None,
            SourceType::Redis => None,
        }
    }
}

/// A SQL database engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    Sqlite,
    Postgres,
    Mysql,
}

impl Engine {
    pub fn type_name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
        }
    }
}

/// A PostgreSQL or MySQL/MariaDB server. Every setting is kept as written, placeholders
/// included, and resolved when the server starts (and, for the schema check, at build time).
#[derive(Clone, Debug)]
pub struct ServerSource {
    pub host: Spanned<String>,
    pub port: Spanned<String>,
    pub user: Option<Spanned<String>>,
    pub password: Option<Spanned<String>>,
    pub database: Option<Spanned<String>>,
    /// Driver settings appended to the connection URL, e.g. `sslmode: require`.
    pub query_params: Vec<(String, Spanned<String>)>,
    /// Seconds to wait for a connection (PostgreSQL `connectTimeout`).
    pub connect_timeout: Option<Spanned<String>>,
    /// Longest a statement may run, as a duration (`30s`, `500ms`): MySQL's `queryTimeout`, and
    /// our extension for PostgreSQL.
    pub query_timeout: Option<Spanned<String>>,
    /// Our extension: the pool's size (default 4).
    pub max_connections: Option<u32>,
    /// Our extension: every statement runs in a read-only transaction, enforced by the engine.
    pub read_only: bool,
    /// Our extension (PostgreSQL): streaming replicas that serve the statements the build
    /// classified as reads. Empty for a source without replicas.
    pub replicas: Vec<Replica>,
    /// Our extension: how far behind the primary a replica may be and still serve reads
    /// (a duration; see [`crate::model::DEFAULT_MAX_REPLICA_LAG`]).
    pub max_replica_lag: Option<Spanned<String>>,
}

/// The default `maxReplicaLag`: an agent's next call comes seconds after its last (the model
/// reads and thinks in between), so a replica within 5 s rarely shows it stale data, while a
/// healthy streaming replica is milliseconds behind and one 5 s behind is in trouble.
pub const DEFAULT_MAX_REPLICA_LAG: &str = "5s";

/// One read replica of a server source: its own host and port; the other settings are the
/// source's unless it gives its own. Kept as written, resolved at start-up.
#[derive(Clone, Debug)]
pub struct Replica {
    pub pos: Pos,
    pub host: Spanned<String>,
    /// The source's port when not given.
    pub port: Option<Spanned<String>>,
    pub user: Option<Spanned<String>>,
    pub password: Option<Spanned<String>>,
    pub database: Option<Spanned<String>>,
}

impl ServerSource {
    /// The settings that make the connection URL (see [`crate::url::resolve_url`]).
    pub fn url_fields(&self) -> crate::url::ServerFields<'_, Spanned<String>> {
        crate::url::ServerFields {
            host: &self.host,
            port: &self.port,
            user: self.user.as_ref(),
            password: self.password.as_ref(),
            database: self.database.as_ref(),
            query_params: self.query_params.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct SqliteSource {
    /// The database file path, as written (may hold placeholders).
    pub database: Spanned<String>,
    /// Our extension: a SQL script that creates the schema. The build checks statements against
    /// it when the database file does not exist, and the server runs it (then `seedFile`) to
    /// create the database when the file is missing at start-up. Relative to `tools.yaml`.
    pub schema_file: Option<Spanned<String>>,
    /// Our extension: a SQL script run after `schemaFile` when the server creates the database.
    pub seed_file: Option<Spanned<String>>,
    /// Open the database read-only; writes fail in the engine.
    pub read_only: bool,
}

#[derive(Clone, Debug)]
pub struct AuthService {
    pub name: Spanned<String>,
    pub kind: AuthServiceKind,
    pub mcp_enabled: bool,
    pub scopes_required: Vec<Spanned<String>>,
}

/// An auth service's type and its settings. Settings are as written: placeholders are
/// resolved at start-up.
#[derive(Clone, Debug)]
pub enum AuthServiceKind {
    /// Google: ID tokens for `clientId` (`<name>_token` headers), or, with `mcpEnabled`, access
    /// tokens for `audience` (else `clientId`), checked by Google's tokeninfo when opaque.
    Google { client_id: Option<Spanned<String>>, audience: Option<Spanned<String>> },
    /// Any OpenID provider, found by discovery at `authorizationServer`.
    Generic(GenericAuth),
}

#[derive(Clone, Debug)]
pub struct GenericAuth {
    pub authorization_server: Spanned<String>,
    pub audience: Spanned<String>,
    /// With `mcpEnabled`: how opaque tokens are introspected (RFC 7662).
    pub introspection: Introspection,
}

#[derive(Clone, Debug, Default)]
pub struct Introspection {
    /// Else the one discovery names.
    pub endpoint: Option<Spanned<String>>,
    pub method: IntrospectionMethod,
    /// The form field that carries the token (default `token`).
    pub param_name: Option<Spanned<String>>,
    pub client_id: Option<Spanned<String>>,
    pub client_secret: Option<Spanned<String>>,
    /// Introspect every token, JWTs included.
    pub force: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IntrospectionMethod {
    #[default]
    Post,
    Get,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    Google,
    Generic,
}

impl AuthKind {
    pub fn type_name(self) -> &'static str {
        match self {
            AuthKind::Google => "google",
            AuthKind::Generic => "generic",
        }
    }
}

impl AuthServiceKind {
    pub fn kind(&self) -> AuthKind {
        match self {
            AuthServiceKind::Google { .. } => AuthKind::Google,
            AuthServiceKind::Generic(_) => AuthKind::Generic,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToolType {
    /// The type of source the tool runs against.
    pub source: SourceType,
    pub kind: ToolKind,
}

/// What a tool does. `*-list-tables` tools are `Sql` tools whose statement and parameters are
/// built in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolKind {
    /// A statement from `tools.yaml`, with parameters.
    Sql,
    /// SQL text sent by the client.
    ExecuteSql,
    /// A built-in statement listing tables and their columns.
    ListTables,
    /// A built-in statement finding schema objects by a pattern ([`crate::search`]).
    SearchObjects,
    /// SQL text sent by the client, planned by the engine and never run.
    ExplainQuery,
    /// An HTTP request from `tools.yaml` (see [`crate::http`]).
    Http,
    /// Redis command templates (`commands:`).
    Redis,
}

impl ToolType {
    pub const ALL: &'static [(&'static str, ToolType)] = &[
        ("sqlite-sql", ToolType::sql(Engine::Sqlite, ToolKind::Sql)),
        ("sqlite-execute-sql", ToolType::sql(Engine::Sqlite, ToolKind::ExecuteSql)),
        ("sqlite-list-tables", ToolType::sql(Engine::Sqlite, ToolKind::ListTables)),
        ("sqlite-search-objects", ToolType::sql(Engine::Sqlite, ToolKind::SearchObjects)),
        ("sqlite-explain-query", ToolType::sql(Engine::Sqlite, ToolKind::ExplainQuery)),
        ("postgres-sql", ToolType::sql(Engine::Postgres, ToolKind::Sql)),
        ("postgres-execute-sql", ToolType::sql(Engine::Postgres, ToolKind::ExecuteSql)),
        ("postgres-list-tables", ToolType::sql(Engine::Postgres, ToolKind::ListTables)),
        ("postgres-search-objects", ToolType::sql(Engine::Postgres, ToolKind::SearchObjects)),
        ("postgres-explain-query", ToolType::sql(Engine::Postgres, ToolKind::ExplainQuery)),
        ("mysql-sql", ToolType::sql(Engine::Mysql, ToolKind::Sql)),
        ("mysql-execute-sql", ToolType::sql(Engine::Mysql, ToolKind::ExecuteSql)),
        ("mysql-list-tables", ToolType::sql(Engine::Mysql, ToolKind::ListTables)),
        ("mysql-search-objects", ToolType::sql(Engine::Mysql, ToolKind::SearchObjects)),
        ("mysql-explain-query", ToolType::sql(Engine::Mysql, ToolKind::ExplainQuery)),
        ("http", ToolType { source: SourceType::Http, kind: ToolKind::Http }),
        ("redis", ToolType { source: SourceType::Redis, kind: ToolKind::Redis }),
    ];

    pub fn type_name(self) -> &'static str {
        Self::ALL.iter().find(|(_, t)| *t == self).map(|(n, _)| *n).unwrap_or("?")
    }

    const fn sql(engine: Engine, kind: ToolKind) -> ToolType {
        ToolType { source: SourceType::Sql(engine), kind }
    }

    /// The source type this tool runs against.
    pub fn source_type(self) -> &'static str {
        self.source.type_name()
    }

    /// The SQL engine, or `None` for a tool of a source that is not SQL.
    pub fn engine(self) -> Option<Engine> {
        self.source.engine()
    }

    /// Whether the tool runs a statement compiled into the binary (with parameters).
    pub fn has_statement(self) -> bool {
        self.engine().is_some() && !self.takes_client_sql()
    }

    /// Whether the client sends the SQL (`sql` is the one parameter).
    pub fn takes_client_sql(self) -> bool {
        matches!(self.kind, ToolKind::ExecuteSql | ToolKind::ExplainQuery)
    }
}

#[derive(Clone, Debug)]
pub struct Tool {
    pub name: Spanned<String>,
    pub ty: ToolType,
    pub source: Spanned<String>,
    pub description: String,
    pub title: Option<String>,
    /// For `*-sql` tools; `None` for `*-execute-sql`.
    pub statement: Option<Spanned<String>>,
    pub parameters: Vec<Param>,
    pub template_parameters: Vec<Param>,
    pub auth_required: Vec<Spanned<String>>,
    pub scopes_required: Vec<Spanned<String>>,
    pub annotations: Annotations,
    /// Our extension (the reference's newest builds have it too): at most this many rows are
    /// returned; the result says when more were left out.
    pub max_rows: Option<u64>,
    /// Our extension: the longest a call may take, in milliseconds. Past it the call answers an
    /// error and its connection is dropped rather than reused.
    pub query_timeout_ms: Option<u64>,
    /// Our extension: at most this many calls per period, per caller (`rateLimit: 30/m`).
    pub rate_limit: Option<crate::rate::Rate>,
    /// Our extension, for `*-execute-sql`: run in a read-only transaction, enforced by the engine.
    /// For `redis`: every command must be one Redis flags `readonly` (checked at build time).
    pub read_only: bool,
    /// For `http` tools: the request (its parameters are `parameters`).
    pub http: Option<Box<crate::http::HttpTool>>,
    /// `redis` tools: the command templates.
    pub commands: Vec<crate::redis::Command>,
}

/// MCP tool annotations; `None` means "not stated".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotations {
    pub read_only_hint: Option<bool>,
    pub destructive_hint: Option<bool>,
    pub idempotent_hint: Option<bool>,
    pub open_world_hint: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    Float,
    Boolean,
    Array,
    Map,
}

impl ParamType {
    pub const ALL: &'static [(&'static str, ParamType)] = &[
        ("string", ParamType::String),
        ("integer", ParamType::Integer),
        ("float", ParamType::Float),
        ("boolean", ParamType::Boolean),
        ("array", ParamType::Array),
        ("map", ParamType::Map),
    ];

    pub fn type_name(self) -> &'static str {
        Self::ALL.iter().find(|(_, t)| *t == self).map(|(n, _)| *n).unwrap_or("?")
    }

    /// The variant's name, as generated code spells it (`ParamKind::Integer`).
    pub fn variant(self) -> &'static str {
        match self {
            ParamType::String => "String",
            ParamType::Integer => "Integer",
            ParamType::Float => "Float",
            ParamType::Boolean => "Boolean",
            ParamType::Array => "Array",
            ParamType::Map => "Map",
        }
    }

    /// The JSON Schema type.
    pub fn json_type(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Float => "number",
            ParamType::Boolean => "boolean",
            ParamType::Array => "array",
            ParamType::Map => "object",
        }
    }

    pub fn is_scalar(self) -> bool {
        !matches!(self, ParamType::Array | ParamType::Map)
    }

    /// Whether a JSON value has this type (integers are numbers without a fraction).
    pub fn accepts(self, value: &Value) -> bool {
        match self {
            ParamType::String => value.is_string(),
            ParamType::Integer => value.is_i64() || value.is_u64(),
            ParamType::Float => value.is_number(),
            ParamType::Boolean => value.is_boolean(),
            ParamType::Array => value.is_array(),
            ParamType::Map => value.is_object(),
        }
    }
}

/// How a template parameter's value is quoted when it is spliced into a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    DoubleQuotes,
    Backticks,
    SquareBrackets,
    SingleQuotes,
}

impl Escape {
    pub const ALL: &'static [(&'static str, Escape)] = &[
        ("double-quotes", Escape::DoubleQuotes),
        ("backticks", Escape::Backticks),
        ("square-brackets", Escape::SquareBrackets),
        ("single-quotes", Escape::SingleQuotes),
    ];

    /// Quotes an identifier that `names::is_sql_identifier` accepted.
    pub fn quote(self, identifier: &str) -> String {
        match self {
            Escape::DoubleQuotes => format!("\"{identifier}\""),
            Escape::Backticks => format!("`{identifier}`"),
            Escape::SquareBrackets => format!("[{identifier}]"),
            Escape::SingleQuotes => format!("'{identifier}'"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: Spanned<String>,
    pub ty: ParamType,
    /// Where the `type:` value is (the name's position when the type is implicit).
    pub ty_pos: crate::diag::Pos,
    pub description: String,
    /// As written; see [`Param::is_required`].
    pub required: bool,
    pub default: Option<Spanned<Value>>,
    pub allowed_values: Vec<Spanned<Value>>,
    pub excluded_values: Vec<Spanned<Value>>,
    pub min_value: Option<Spanned<f64>>,
    pub max_value: Option<Spanned<f64>>,
    /// The element type of an `array`.
    pub items: Option<Box<Param>>,
    /// The value type of a `map` (`None`: any JSON value).
    pub value_type: Option<ParamType>,
    /// Authenticated parameters take their value from a verified token's claim.
    pub auth_services: Vec<ParamAuth>,
    /// Template parameters only: how the value is quoted.
    pub escape: Option<Escape>,
    /// Copy the value of another parameter (hidden from the schema).
    pub value_from_param: Option<Spanned<String>>,
    /// Our extension for 2026-07-28 clients: the value is also sent in the `Mcp-Param-<name>`
    /// header (the schema's `x-mcp-header`), and the server checks that the two agree.
    pub mcp_header: Option<Spanned<String>>,
}

impl Param {
    /// An optional parameter of a built-in tool (`*-list-tables`, `*-search-objects`) with
    /// nothing else said: callers set its default and allowed values with struct update syntax.
    pub fn builtin(name: &str, ty: ParamType, description: &str, pos: Pos) -> Param {
        Param {
            name: Spanned::new(name.to_string(), pos),
            ty,
            ty_pos: pos,
            description: description.to_string(),
            required: false,
            default: None,
            allowed_values: Vec::new(),
            excluded_values: Vec::new(),
            min_value: None,
            max_value: None,
            items: None,
            value_type: None,
            auth_services: Vec::new(),
            escape: None,
            value_from_param: None,
            mcp_header: None,
        }
    }

    /// A parameter is required unless it says `required: false` or has a default.
    pub fn is_required(&self) -> bool {
        self.required && self.default.is_none() && self.value_from_param.is_none()
    }
}

#[derive(Clone, Debug)]
pub struct ParamAuth {
    pub service: Spanned<String>,
    pub field: String,
}

/// A toolset (`kind: toolset`, a list of tools) or a group (`kind: group`, tools and prompts).
#[derive(Clone, Debug)]
pub struct Toolset {
    pub name: Spanned<String>,
    pub tools: Vec<Spanned<String>>,
    pub prompts: Vec<Spanned<String>>,
    pub description: Option<String>,
    pub ttl_ms: Option<u64>,
    pub cache_private: Option<bool>,
}

#[derive(Clone, Debug)]
pub struct Prompt {
    pub name: Spanned<String>,
    pub description: String,
    pub title: Option<String>,
    pub messages: Vec<PromptMessage>,
    pub arguments: Vec<Param>,
}

#[derive(Clone, Debug)]
pub struct PromptMessage {
    pub role: String,
    /// Text with `{{.argument}}` references.
    pub content: Spanned<String>,
}

/// The position of a definition's name, for messages that refer to it.
pub trait Named {
    fn name(&self) -> &str;
    fn pos(&self) -> Pos;
}

macro_rules! impl_named {
    ($($t:ty),*) => {$(
        impl Named for $t {
            fn name(&self) -> &str { &self.name.value }
            fn pos(&self) -> Pos { self.name.pos }
        }
    )*};
}
impl_named!(Source, AuthService, Tool, Toolset, Prompt, Param);
