//! Documents to model entries: shapes, field names and value types.
//!
//! Both formats of the reference server are read, mixed freely in one file:
//! - flat documents, one definition each, with `kind` (the category), `name` and `type`;
//! - the legacy map format (`sources:`, `tools:`, `toolsets:` ...), where `kind` means the type.
//!
//! Cross-references between definitions are checked afterwards, in [`crate::validate`].

use crate::diag::{Diagnostic, Pos, Spanned, suggest};
use crate::env;
use crate::model::*;
use crate::yaml::{self, Node};
use serde_json::Value;

/// How to read a file.
pub struct LoadOptions<'a> {
    /// Looks up environment variables for placeholders that are resolved at build time
    /// (statements, descriptions). Source and auth settings are never resolved here.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Parses and validates a whole file. The model is returned even when there are diagnostics, so
/// that callers can report everything at once.
pub fn load_str(source: &str, options: &LoadOptions<'_>) -> (Config, Vec<Diagnostic>) {
    let mut reader =
        Reader { diags: Vec::new(), config: Config::default(), env: options.env, default_group_seen: None };
    match yaml::load(source) {
        Ok(documents) => {
            for document in &documents {
                reader.document(document);
            }
        }
        Err(d) => return (Config::default(), vec![Diagnostic { pos: d.pos.within(source), ..d }]),
    }
    let Reader { mut diags, config, .. } = reader;
    crate::validate::validate(&config, &mut diags);
    // Every position inside the text, so that each diagnostic shows its line.
    for d in &mut diags {
        d.pos = d.pos.within(source);
    }
    crate::diag::sort(&mut diags);
    (config, diags)
}

/// The legacy top-level keys and the kinds they hold.
const LEGACY_SECTIONS: &[(&str, &str)] = &[
    ("sources", "source"),
    ("authServices", "authService"),
    ("authSources", "authService"),
    ("tools", "tool"),
    ("toolsets", "toolset"),
    ("groups", "group"),
    ("prompts", "prompt"),
    ("embeddingModels", "embeddingModel"),
];
const KINDS: &[&str] = &["source", "authService", "tool", "toolset", "group", "prompt", "embeddingModel"];

struct Reader<'e> {
    diags: Vec<Diagnostic>,
    config: Config,
    env: &'e dyn Fn(&str) -> Option<String>,
    default_group_seen: Option<Pos>,
}

/// One definition's mapping, with bookkeeping of which keys were read so that the rest can be
/// reported as unknown fields.
struct Obj<'a> {
    what: String,
    pos: Pos,
    entries: Vec<(&'a str, &'a Node, Pos)>,
    used: Vec<bool>,
    known: Vec<&'static str>,
    /// In the legacy format `kind` means `type`.
    legacy: bool,
}

impl<'a> Obj<'a> {
    fn new(node: &'a Node, what: String, legacy: bool, diags: &mut Vec<Diagnostic>) -> Option<Self> {
        let Some(entries) = yaml::entries(node, diags) else {
            diags.push(Diagnostic::new(
                yaml::pos(node),
                format!("{what} must be a mapping, found {}", yaml::describe(node)),
            ));
            return None;
        };
        let used = vec![false; entries.len()];
        Some(Self { what, pos: yaml::pos(node), entries, used, known: Vec::new(), legacy })
    }

    /// How a field is spelt in this format: in the legacy format `type` is written `kind`.
    fn shown(&self, key: &'static str) -> &'static str {
        if self.legacy && key == "type" { "kind" } else { key }
    }

    fn take(&mut self, key: &'static str) -> Option<(&'a Node, Pos)> {
        self.known.push(self.shown(key));
        let alias = if self.legacy && key == "type" { Some("kind") } else { None };
        let index = self.entries.iter().position(|(k, ..)| *k == key || Some(*k) == alias)?;
        self.used[index] = true;
        let (_, node, key_pos) = self.entries[index];
        Some((node, key_pos))
    }

    /// Marks a key as known without reading it.
    fn ignore(&mut self, key: &'static str) {
        self.take(key);
    }

    fn string(&mut self, key: &'static str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<String>> {
        let (node, _) = self.take(key)?;
        match yaml::as_str(node) {
            Some(s) => Some(Spanned::new(s.to_string(), yaml::pos(node))),
            None => {
                // Numbers and booleans are accepted where a string is expected (`port: 5432`).
                match yaml::to_json(node) {
                    Some(Value::Number(n)) => Some(Spanned::new(n.to_string(), yaml::pos(node))),
                    Some(Value::Bool(b)) => Some(Spanned::new(b.to_string(), yaml::pos(node))),
                    _ => {
                        diags.push(Diagnostic::new(
                            yaml::pos(node),
                            format!("`{key}` of {} must be a string, found {}", self.what, yaml::describe(node)),
                        ));
                        None
                    }
                }
            }
        }
    }

    fn required_string(&mut self, key: &'static str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<String>> {
        self.required_choice(key, &[], diags)
    }

    /// A required string; when it is missing, the hint lists `choices` (if any).
    fn required_choice(
        &mut self,
        key: &'static str,
        choices: &[&str],
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<String>> {
        let value = self.string(key, diags);
        let shown = self.shown(key);
        // A misspelt key is reported once, as an unknown field with a suggestion.
        let misspelt = self.entries.iter().any(|(k, ..)| *k != shown && suggest(k, [shown]).is_some());
        if value.is_none() && !self.known_present(key) && !misspelt {
            diags.push(
                Diagnostic::new(self.pos, format!("{} is missing the required field `{shown}`", self.what)).with_hint(
                    if choices.is_empty() {
                        format!("add `{shown}: ...` to this definition")
                    } else {
                        format!("add `{shown}:` with one of: {}", choices.join(", "))
                    },
                ),
            );
        }
        value
    }

    fn known_present(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, ..)| *k == key || (self.legacy && key == "type" && *k == "kind"))
    }

    fn bool(&mut self, key: &'static str, diags: &mut Vec<Diagnostic>) -> Option<bool> {
        let (node, _) = self.take(key)?;
        let value = yaml::as_bool(node);
        if value.is_none() {
            diags.push(Diagnostic::new(
                yaml::pos(node),
                format!("`{key}` of {} must be true or false, found {}", self.what, yaml::describe(node)),
            ));
        }
        value
    }

    fn string_list(&mut self, key: &'static str, diags: &mut Vec<Diagnostic>) -> Vec<Spanned<String>> {
        let Some((node, _)) = self.take(key) else { return Vec::new() };
        string_list(node, &format!("`{key}` of {}", self.what), diags)
    }

    /// Reports every key that no reader asked for.
    fn finish(self, diags: &mut Vec<Diagnostic>) {
        self.report_unknown(false, diags);
    }

    /// For a definition whose type is missing: the fields allowed depend on the type, so only
    /// keys that look like a misspelling of a field read so far (`tpye`) are reported.
    fn finish_untyped(self, diags: &mut Vec<Diagnostic>) {
        self.report_unknown(true, diags);
    }

    fn report_unknown(self, only_misspelt: bool, diags: &mut Vec<Diagnostic>) {
        for (i, (key, _, key_pos)) in self.entries.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let suggestion = suggest(key, self.known.iter().copied());
            if only_misspelt && suggestion.is_none() {
                continue;
            }
            let d = Diagnostic::new(*key_pos, format!("unknown field `{key}` in {}", self.what));
            diags.push(match suggestion {
                Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                None => d.with_hint(format!("the fields allowed here are: {}", self.known.join(", "))),
            });
        }
    }
}

fn string_list(node: &Node, what: &str, diags: &mut Vec<Diagnostic>) -> Vec<Spanned<String>> {
    let Some(items) = yaml::as_seq(node) else {
        diags.push(Diagnostic::new(
            yaml::pos(node),
            format!("{what} must be a list of strings, found {}", yaml::describe(node)),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        match yaml::as_str(item) {
            Some(s) => out.push(Spanned::new(s.to_string(), yaml::pos(item))),
            None => diags.push(Diagnostic::new(
                yaml::pos(item),
                format!("{what} must be a list of strings, found {} in it", yaml::describe(item)),
            )),
        }
    }
    out
}

fn lookup<T: Copy>(table: &[(&'static str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

fn unknown_value_hint(value: &str, table: &[&str]) -> String {
    match suggest(value, table.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("use one of: {}", table.join(", ")),
    }
}

impl Reader<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(pos, message));
    }

    /// Resolves build-time placeholders in a value that shapes the generated code.
    fn resolve_now(&mut self, value: Spanned<String>) -> Spanned<String> {
        match env::resolve(&value.value, self.env) {
            Ok(resolved) => Spanned::new(resolved, value.pos),
            Err(errors) => {
                for e in errors {
                    self.diags.push(
                        Diagnostic::new(value.pos, e.message)
                            .with_hint("set the variable when building, or give a default with `${NAME:default}`"),
                    );
                }
                value
            }
        }
    }

    /// Checks the placeholders of a value resolved at start-up (they are kept as written).
    fn check_deferred(&mut self, value: &Spanned<String>) {
        for p in env::placeholders(&value.value) {
            if p.name.is_empty() {
                self.error(value.pos, "empty placeholder name");
            }
        }
    }

    fn document(&mut self, document: &Node) {
        if yaml::is_null(document) {
            return;
        }
        let Some(entries) = yaml::entries(document, &mut self.diags) else {
            self.error(
                yaml::pos(document),
                format!("a document must be a mapping, found {}", yaml::describe(document)),
            );
            return;
        };
        if let Some((_, kind_node, _)) = entries.iter().find(|(k, ..)| *k == "kind") {
            let Some(kind) = yaml::as_str(kind_node) else {
                self.error(yaml::pos(kind_node), "`kind` must be a string");
                return;
            };
            if !KINDS.contains(&kind) {
                // A flat document whose `kind` is a legacy type name is the most likely mistake.
                self.diags.push(
                    Diagnostic::new(yaml::pos(kind_node), format!("unknown kind `{kind}`"))
                        .with_hint(unknown_value_hint(kind, KINDS)),
                );
                return;
            }
            let Some(mut obj) = Obj::new(document, format!("this {kind}"), false, &mut self.diags) else { return };
            obj.ignore("kind");
            let name = obj.string("name", &mut self.diags);
            if name.is_none() && kind != "group" && !obj.known_present("name") {
                self.diags.push(
                    Diagnostic::new(obj.pos, format!("this {kind} is missing the required field `name`"))
                        .with_hint("add `name: ...`"),
                );
                return;
            }
            if let Some(name) = &name {
                obj.what = format!("{kind} `{}`", name.value);
            }
            self.definition(kind, name, obj);
        } else {
            for (key, value, key_pos) in entries {
                let Some(kind) = lookup(LEGACY_SECTIONS, key) else {
                    let names: Vec<&str> = LEGACY_SECTIONS.iter().map(|(k, _)| *k).collect();
                    let hint = match suggest(key, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "a document is either flat (with `kind:`, `name:` and `type:`) or a map of sections: sources, authServices, tools, toolsets, groups, prompts".to_string(),
                    };
                    self.diags.push(Diagnostic::new(key_pos, format!("unknown top-level key `{key}`")).with_hint(hint));
                    continue;
                };
                if yaml::is_null(value) {
                    continue;
                }
                let Some(items) = yaml::entries(value, &mut self.diags) else {
                    let hint = if yaml::as_seq(value).is_some() {
                        format!(
                            "key each definition by its name, as in `{key}: {{my_name: {{...}}}}`; a list of definitions with `name:` fields is the flat format instead: one `kind: {kind}` document each, separated by `---`"
                        )
                    } else {
                        format!("key each definition by its name, as in `{key}: {{my_name: {{...}}}}`")
                    };
                    self.diags.push(
                        Diagnostic::new(
                            yaml::pos(value),
                            format!(
                                "`{key}` must be a mapping of names to definitions, found {}",
                                yaml::describe(value)
                            ),
                        )
                        .with_hint(hint),
                    );
                    continue;
                };
                for (name, body, name_pos) in items {
                    let name = Spanned::new(name.to_string(), name_pos);
                    if kind == "toolset" && yaml::as_seq(body).is_some() {
                        let tools = string_list(body, &format!("toolset `{}`", name.value), &mut self.diags);
                        self.config.toolsets.push(Toolset {
                            name,
                            tools,
                            prompts: Vec::new(),
                            description: None,
                            ttl_ms: None,
                            cache_private: None,
                        });
                        continue;
                    }
                    let Some(obj) = Obj::new(body, format!("{kind} `{}`", name.value), true, &mut self.diags) else {
                        continue;
                    };
                    self.definition(kind, Some(name), obj);
                }
            }
        }
    }

    fn definition(&mut self, kind: &str, name: Option<Spanned<String>>, obj: Obj<'_>) {
        match (kind, name) {
            ("group", None) => self.default_group(obj),
            (_, None) => {}
            ("source", Some(name)) => self.source(name, obj),
            ("authService", Some(name)) => self.auth_service(name, obj),
            ("tool", Some(name)) => self.tool(name, obj),
            ("toolset", Some(name)) => self.toolset(name, obj, false),
            ("group", Some(name)) => self.toolset(name, obj, true),
            ("prompt", Some(name)) => self.prompt(name, obj),
            (_, Some(name)) => self.diags.push(
                Diagnostic::new(name.pos, format!("{kind} `{}`: embedding models are not supported", name.value))
                    .with_hint("remove this definition; parameters cannot use `embeddedBy` here"),
            ),
        }
    }

    fn default_group(&mut self, mut obj: Obj<'_>) {
        if let Some(first) = self.default_group_seen.replace(obj.pos) {
            self.diags.push(
                Diagnostic::new(obj.pos, "more than one default (nameless) group")
                    .with_hint(format!("merge it with the one at line {}", first.line)),
            );
        }
        obj.what = "the default group".into();
        if let Some(d) = obj.string("description", &mut self.diags) {
            self.config.instructions = Some(self.resolve_now(d).value);
        }
        obj.finish(&mut self.diags);
    }

    fn source(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        let Some(ty) = obj.required_choice("type", &["sqlite", "postgres", "mysql"], &mut self.diags) else {
            obj.finish_untyped(&mut self.diags);
            return;
        };
        match ty.value.as_str() {
            "sqlite" => {
                let database = obj.required_string("database", &mut self.diags);
                let schema_file = obj.string("schemaFile", &mut self.diags).map(|s| self.resolve_now(s));
                let seed_file = obj.string("seedFile", &mut self.diags).map(|s| self.resolve_now(s));
                let read_only = obj.bool("readOnly", &mut self.diags).unwrap_or(false);
                obj.ignore("sqlCommenter");
                obj.finish(&mut self.diags);
                if let Some(seed) = &seed_file {
                    if schema_file.is_none() {
                        self.diags.push(
                            Diagnostic::new(seed.pos, "`seedFile` needs a `schemaFile`")
                                .with_hint("name the schema script with `schemaFile:`; the seed runs after it"),
                        );
                    }
                }
                // Kept even without `database` (already reported), so tools naming it do not
                // report an unknown source too.
                let database = database.unwrap_or_else(|| Spanned::new(String::new(), name.pos));
                self.check_deferred(&database);
                self.config.sources.push(Source {
                    name,
                    kind: SourceKind::Sqlite(SqliteSource { database, schema_file, seed_file, read_only }),
                });
            }
            engine @ ("postgres" | "mysql") => {
                let postgres = engine == "postgres";
                let host = obj.required_string("host", &mut self.diags);
                let port = obj.required_string("port", &mut self.diags);
                // PostgreSQL needs all three; MySQL may take them from its defaults.
                let (user, password, database) = if postgres {
                    (
                        obj.required_string("user", &mut self.diags),
                        obj.required_string("password", &mut self.diags),
                        obj.required_string("database", &mut self.diags),
                    )
                } else {
                    (
                        obj.string("user", &mut self.diags),
                        obj.string("password", &mut self.diags),
                        obj.string("database", &mut self.diags),
                    )
                };
                let query_params = match obj.take("queryParams") {
                    Some((node, _)) => self.string_map(node, &format!("`queryParams` of {}", obj.what)),
                    None => Vec::new(),
                };
                let connect_timeout = if postgres { obj.string("connectTimeout", &mut self.diags) } else { None };
                let query_timeout = obj.string("queryTimeout", &mut self.diags);
                if let Some(mode) = if postgres { obj.string("queryExecMode", &mut self.diags) } else { None } {
                    let modes = ["cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"];
                    if !modes.contains(&mode.value.as_str()) {
                        self.diags.push(
                            Diagnostic::new(mode.pos, format!("unknown `queryExecMode` `{}`", mode.value))
                                .with_hint(unknown_value_hint(&mode.value, &modes)),
                        );
                    }
                }
                let max_connections = obj.take("maxConnections").and_then(|(n, _)| {
                    match yaml::to_json(n).as_ref().and_then(Value::as_u64).filter(|v| (1..=1000).contains(v)) {
                        Some(v) => Some(v as u32),
                        None => {
                            self.diags.push(
                                Diagnostic::new(yaml::pos(n), "`maxConnections` must be a whole number from 1 to 1000")
                                    .with_hint("the pool's size; the default is 4"),
                            );
                            None
                        }
                    }
                });
                let read_only = obj.bool("readOnly", &mut self.diags).unwrap_or(false);
                obj.ignore("sqlCommenter");
                obj.finish(&mut self.diags);
                let missing = || Spanned::new(String::new(), name.pos);
                let server = ServerSource {
                    host: host.unwrap_or_else(missing),
                    port: port.unwrap_or_else(missing),
                    user,
                    password,
                    database,
                    query_params,
                    connect_timeout,
                    query_timeout,
                    max_connections,
                    read_only,
                };
                for value in [
                    Some(&server.host),
                    Some(&server.port),
                    server.user.as_ref(),
                    server.password.as_ref(),
                    server.database.as_ref(),
                ]
                .into_iter()
                .flatten()
                .chain(server.query_params.iter().map(|(_, v)| v))
                {
                    self.check_deferred(value);
                }
                for (field, value) in
                    [("connectTimeout", &server.connect_timeout), ("queryTimeout", &server.query_timeout)]
                {
                    if let Some(v) = value {
                        if env::placeholders(&v.value).is_empty()
                            && crate::duration::parse(&v.value, field == "connectTimeout").is_none()
                        {
                            self.diags.push(
                                Diagnostic::new(v.pos, format!("`{field}` `{}` is not a duration", v.value)).with_hint(
                                    "write a number of seconds (`30`) or a duration such as `30s`, `500ms`, `2m`",
                                ),
                            );
                        }
                    }
                }
                let kind = if postgres { SourceKind::Postgres(server) } else { SourceKind::Mysql(server) };
                self.config.sources.push(Source { name, kind });
            }
            other => {
                let supported = ["sqlite", "postgres", "mysql"];
                let hint = if matches!(other, "cloud-sql-postgres" | "alloydb-postgres" | "cockroachdb" | "yugabytedb")
                {
                    "use `postgres` (PostgreSQL-compatible engines work through it)".to_string()
                } else if matches!(other, "cloud-sql-mysql" | "mariadb") {
                    "use `mysql` (MariaDB works through it)".to_string()
                } else {
                    unknown_value_hint(other, &supported)
                };
                self.diags.push(Diagnostic::new(ty.pos, format!("unknown source type `{other}`")).with_hint(hint));
            }
        }
    }

    fn auth_service(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        let Some(ty) = obj.required_choice("type", &["google", "generic"], &mut self.diags) else {
            obj.finish_untyped(&mut self.diags);
            return;
        };
        let Some(kind) = lookup(&[("google", AuthKind::Google), ("generic", AuthKind::Generic)], &ty.value) else {
            self.diags.push(
                Diagnostic::new(ty.pos, format!("unknown auth service type `{}`", ty.value))
                    .with_hint(unknown_value_hint(&ty.value, &["google", "generic"])),
            );
            return;
        };
        let mcp_enabled = obj.bool("mcpEnabled", &mut self.diags).unwrap_or(false);
        let scopes_required = obj.string_list("scopesRequired", &mut self.diags);
        let fields: &[&'static str] = match kind {
            AuthKind::Google => &["clientId", "audience"],
            AuthKind::Generic => &[
                "audience",
                "authorizationServer",
                "introspectionEndpoint",
                "introspectionMethod",
                "introspectionParamName",
                "introspectionClientId",
                "introspectionClientSecret",
            ],
        };
        let mut settings = Vec::new();
        for field in fields {
            if let Some(value) = obj.string(field, &mut self.diags) {
                self.check_deferred(&value);
                settings.push((field.to_string(), value));
            }
        }
        let force = if kind == AuthKind::Generic { obj.bool("forceIntrospection", &mut self.diags) } else { None };
        let what = obj.what.clone();
        let pos = obj.pos;
        obj.finish(&mut self.diags);
        let has = |key: &str| settings.iter().any(|(k, _)| k == key);
        let setting_pos = |key: &str| settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.pos).unwrap_or(pos);
        let mut require = |ok: bool, at: Pos, message: String, hint: &str| {
            if !ok {
                self.diags.push(Diagnostic::new(at, message).with_hint(hint.to_string()));
            }
        };
        match kind {
            AuthKind::Google => {
                require(
                    mcp_enabled || has("clientId"),
                    pos,
                    format!("{what} needs `clientId` when `mcpEnabled` is false"),
                    "add the OAuth client id whose ID tokens this service accepts",
                );
                require(
                    mcp_enabled || !has("audience"),
                    setting_pos("audience"),
                    format!("{what}: `audience` is only allowed with `mcpEnabled: true`"),
                    "remove `audience`, or set `mcpEnabled: true`",
                );
                require(
                    !mcp_enabled || has("audience") || has("clientId"),
                    pos,
                    format!("{what} needs `audience` or `clientId` when `mcpEnabled` is true"),
                    "add `audience:` with this server's URL",
                );
            }
            AuthKind::Generic => {
                require(
                    has("audience"),
                    pos,
                    format!("{what} is missing the required field `audience`"),
                    "add `audience: ...`",
                );
                require(
                    has("authorizationServer"),
                    pos,
                    format!("{what} is missing the required field `authorizationServer`"),
                    "add the issuer URL, e.g. `authorizationServer: https://auth.example.com`",
                );
                for key in ["introspectionEndpoint", "introspectionMethod", "introspectionParamName"] {
                    require(
                        mcp_enabled || !has(key),
                        setting_pos(key),
                        format!("{what}: `{key}` is only allowed with `mcpEnabled: true`"),
                        "remove it, or set `mcpEnabled: true`",
                    );
                }
                if let Some(method) = settings.iter().find(|(k, _)| k == "introspectionMethod").map(|(_, v)| v.clone())
                {
                    require(
                        matches!(method.value.as_str(), "POST" | "GET"),
                        method.pos,
                        format!("{what}: `introspectionMethod` must be POST or GET, found `{}`", method.value),
                        "use POST (the default) or GET",
                    );
                }
                require(
                    mcp_enabled || force != Some(true),
                    pos,
                    format!("{what}: `forceIntrospection` is only allowed with `mcpEnabled: true`"),
                    "remove it, or set `mcpEnabled: true`",
                );
            }
        }
        if !mcp_enabled {
            if let Some(first) = scopes_required.first() {
                self.diags.push(
                    Diagnostic::new(
                        first.pos,
                        format!("{what}: `scopesRequired` is only allowed with `mcpEnabled: true`"),
                    )
                    .with_hint("set `mcpEnabled: true`, or put the scopes on the tools that need them"),
                );
            }
        }
        for (key, value) in settings.iter().filter(|(k, _)| k == "authorizationServer" || k == "introspectionEndpoint")
        {
            // Placeholders are resolved at start-up, where the same rule is applied again.
            if value.value.contains("${") {
                continue;
            }
            if let Some(problem) = auth_url_problem(&value.value) {
                self.diags.push(
                    Diagnostic::new(value.pos, format!("{what}: `{key}` {problem}"))
                        .with_hint("tokens and keys must travel over TLS: use https (plain http is accepted for localhost and 127.0.0.1 only)"),
                );
            }
        }
        if let Some(force) = force {
            settings.push(("forceIntrospection".into(), Spanned::new(force.to_string(), pos)));
        }
        self.config.auth_services.push(AuthService { name, kind, mcp_enabled, scopes_required, settings });
    }

    fn tool(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        let tool_types: Vec<&str> = ToolType::ALL.iter().map(|(n, _)| *n).collect();
        let Some(ty_name) = obj.required_choice("type", &tool_types, &mut self.diags) else {
            obj.finish_untyped(&mut self.diags);
            return;
        };
        let Some(ty) = lookup(ToolType::ALL, &ty_name.value) else {
            let names: Vec<&str> = ToolType::ALL.iter().map(|(n, _)| *n).collect();
            let hint = unknown_value_hint(&ty_name.value, &names);
            self.diags
                .push(Diagnostic::new(ty_name.pos, format!("unknown tool type `{}`", ty_name.value)).with_hint(hint));
            return;
        };
        let source = obj.required_string("source", &mut self.diags);
        let description = obj.required_string("description", &mut self.diags).map(|d| self.resolve_now(d).value);
        let what = obj.what.clone();
        let (statement, parameters, template_parameters) = match ty.kind {
            ToolKind::Sql => (
                obj.required_string("statement", &mut self.diags).map(|s| self.resolve_now(s)),
                self.params(&mut obj, "parameters", &what, false),
                self.params(&mut obj, "templateParameters", &what, true),
            ),
            ToolKind::ExecuteSql => (None, Vec::new(), Vec::new()),
            ToolKind::ListTables => {
                let (statement, params) = crate::builtin::list_tables(ty.engine, ty_name.pos);
                (Some(statement), params, Vec::new())
            }
        };
        let query_timeout_ms = obj.string("queryTimeout", &mut self.diags).and_then(|t| {
            match crate::duration::parse(&t.value, false).filter(|d| !d.is_zero()) {
                // Saturating: `as` would wrap a duration of more than u64::MAX ms to a
                // short timeout.
                Some(d) => Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                None => {
                    self.diags.push(
                        Diagnostic::new(
                            t.pos,
                            format!("`queryTimeout` of {what} must be a duration above zero, found `{}`", t.value),
                        )
                        .with_hint("write e.g. `5s` or `500ms`"),
                    );
                    None
                }
            }
        });
        let rate_limit = obj.string("rateLimit", &mut self.diags).and_then(|r| match crate::rate::parse(&r.value) {
            Some(rate) => Some(rate),
            None => {
                self.diags.push(
                    Diagnostic::new(
                        r.pos,
                        format!("`rateLimit` of {what} must be calls per period, found `{}`", r.value),
                    )
                    .with_hint("write e.g. `30/m` (30 calls a minute per caller), `5/s` or `100/10m`"),
                );
                None
            }
        });
        let max_rows = if ty.kind == ToolKind::ListTables {
            None
        } else {
            obj.take("maxRows").and_then(|(n, _)| {
                match yaml::to_json(n).as_ref().and_then(Value::as_u64).filter(|v| *v > 0) {
                    Some(v) => Some(v),
                    None => {
                        self.diags.push(
                            Diagnostic::new(
                                yaml::pos(n),
                                format!("`maxRows` of {what} must be a whole number above 0"),
                            )
                            .with_hint("the most rows a call returns; the result says when rows were left out"),
                        );
                        None
                    }
                }
            })
        };
        let read_only = if ty.kind == ToolKind::ExecuteSql {
            obj.bool("readOnly", &mut self.diags).unwrap_or(false)
        } else {
            false
        };
        let auth_required = obj.string_list("authRequired", &mut self.diags);
        let scopes_required = obj.string_list("scopesRequired", &mut self.diags);
        let annotations = match obj.take("annotations") {
            Some((node, _)) => self.annotations(node, &what),
            None => Annotations::default(),
        };
        obj.finish(&mut self.diags);
        // A tool missing a required field is kept (the error is already reported), so that
        // toolsets naming it do not report it as unknown too.
        let source = source.unwrap_or_else(|| Spanned::new(String::new(), name.pos));
        let description = description.unwrap_or_default();
        self.config.tools.push(Tool {
            name,
            ty,
            source,
            description,
            title: None,
            statement,
            parameters,
            template_parameters,
            auth_required,
            scopes_required,
            annotations,
            max_rows,
            query_timeout_ms,
            rate_limit,
            read_only,
        });
    }

    /// A mapping of names to string values (numbers and booleans are taken as their text).
    fn string_map(&mut self, node: &Node, what: &str) -> Vec<(String, Spanned<String>)> {
        let Some(entries) = yaml::entries(node, &mut self.diags) else {
            self.error(yaml::pos(node), format!("{what} must be a mapping of names to values"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value, _) in entries {
            match yaml::to_json(value) {
                Some(Value::String(s)) => out.push((key.to_string(), Spanned::new(s, yaml::pos(value)))),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    out.push((key.to_string(), Spanned::new(v.to_string(), yaml::pos(value))))
                }
                _ => self.error(yaml::pos(value), format!("{what}: the value of `{key}` must be a string")),
            }
        }
        out
    }

    fn annotations(&mut self, node: &Node, what: &str) -> Annotations {
        let Some(mut obj) = Obj::new(node, format!("the annotations of {what}"), false, &mut self.diags) else {
            return Annotations::default();
        };
        let a = Annotations {
            read_only_hint: obj.bool("readOnlyHint", &mut self.diags),
            destructive_hint: obj.bool("destructiveHint", &mut self.diags),
            idempotent_hint: obj.bool("idempotentHint", &mut self.diags),
            open_world_hint: obj.bool("openWorldHint", &mut self.diags),
        };
        obj.finish(&mut self.diags);
        a
    }

    fn params(&mut self, obj: &mut Obj<'_>, key: &'static str, what: &str, template: bool) -> Vec<Param> {
        let Some((node, _)) = obj.take(key) else { return Vec::new() };
        if yaml::is_null(node) {
            return Vec::new();
        }
        let Some(items) = yaml::as_seq(node) else {
            self.error(
                yaml::pos(node),
                format!("`{key}` of {what} must be a list of parameters, found {}", yaml::describe(node)),
            );
            return Vec::new();
        };
        let legacy = obj.legacy;
        items
            .iter()
            .filter_map(|item| self.param(item, what, legacy, ParamPlace { template, item: false, prompt: false }))
            .collect()
    }

    fn param(&mut self, node: &Node, owner: &str, legacy: bool, place: ParamPlace) -> Option<Param> {
        let label = if place.item {
            format!("the `items` of a parameter of {owner}")
        } else {
            format!("a parameter of {owner}")
        };
        let mut obj = Obj::new(node, label, legacy, &mut self.diags)?;
        let name = if place.item {
            obj.string("name", &mut self.diags).unwrap_or_else(|| Spanned::new("item".into(), obj.pos))
        } else {
            obj.required_string("name", &mut self.diags)?
        };
        if !place.item {
            obj.what = format!("parameter `{}` of {owner}", name.value);
        }
        let type_field = obj.string("type", &mut self.diags);
        let ty_pos = type_field.as_ref().map_or(name.pos, |t| t.pos);
        let ty = match type_field {
            Some(t) => match lookup(ParamType::ALL, &t.value) {
                Some(ty) => Some(ty),
                None => {
                    let names: Vec<&str> = ParamType::ALL.iter().map(|(n, _)| *n).collect();
                    self.diags.push(
                        Diagnostic::new(t.pos, format!("unknown parameter type `{}` for {}", t.value, obj.what))
                            .with_hint(unknown_value_hint(&t.value, &names)),
                    );
                    None
                }
            },
            None if place.prompt => Some(ParamType::String),
            None => {
                if !obj.known_present("type") {
                    self.diags.push(
                        Diagnostic::new(obj.pos, format!("{} is missing the required field `type`", obj.what))
                            .with_hint("add `type:` with one of string, integer, float, boolean, array, map"),
                    );
                }
                None
            }
        };
        let description = if place.item || place.prompt {
            obj.string("description", &mut self.diags).map(|d| d.value).unwrap_or_default()
        } else {
            obj.required_string("description", &mut self.diags).map(|d| self.resolve_now(d).value).unwrap_or_default()
        };
        let required = obj.bool("required", &mut self.diags).unwrap_or(true);
        let default =
            obj.take("default").and_then(|(n, _)| if yaml::is_null(n) { None } else { Some(self.json_value(n)) });
        let allowed_values = self.value_list(&mut obj, "allowedValues");
        let excluded_values = self.value_list(&mut obj, "excludedValues");
        let min_value = self.number(&mut obj, "minValue");
        let max_value = self.number(&mut obj, "maxValue");
        let items = match obj.take("items") {
            Some((n, _)) => self.param(n, owner, legacy, ParamPlace { item: true, ..place }).map(Box::new),
            None => None,
        };
        let value_type = match obj.string("valueType", &mut self.diags) {
            Some(t) => match lookup(ParamType::ALL, &t.value).filter(|t| t.is_scalar()) {
                Some(v) => Some(v),
                None => {
                    self.diags.push(
                        Diagnostic::new(t.pos, format!("unsupported `valueType` `{}` for {}", t.value, obj.what))
                            .with_hint("use string, integer, float or boolean, or leave it out to accept any value"),
                    );
                    None
                }
            },
            None => None,
        };
        let mut auth_services = Vec::new();
        for key in ["authServices", "authSources"] {
            if let Some((n, _)) = obj.take(key) {
                auth_services.extend(self.param_auth(n, &obj.what));
            }
        }
        let escape = match obj.string("escape", &mut self.diags) {
            Some(e) => match lookup(Escape::ALL, &e.value) {
                Some(escape) => Some(escape),
                None => {
                    let names: Vec<&str> = Escape::ALL.iter().map(|(n, _)| *n).collect();
                    self.diags.push(
                        Diagnostic::new(e.pos, format!("unknown `escape` `{}` for {}", e.value, obj.what))
                            .with_hint(unknown_value_hint(&e.value, &names)),
                    );
                    None
                }
            },
            None => None,
        };
        let value_from_param = obj.string("valueFromParam", &mut self.diags);
        let mcp_header = obj.string("mcpHeader", &mut self.diags);
        if let Some((n, _)) = obj.take("embeddedBy") {
            self.diags.push(
                Diagnostic::new(
                    yaml::pos(n),
                    format!("{}: `embeddedBy` is not supported (there are no embedding models)", obj.what),
                )
                .with_hint("remove `embeddedBy`"),
            );
        }
        let what = obj.what.clone();
        obj.finish(&mut self.diags);
        // A parameter whose type is missing or unknown (already reported) is kept, as a string, so
        // that it still counts towards the statement's placeholders; its values are not checked
        // against a guessed type.
        let typed = ty.is_some();
        let ty = ty.unwrap_or(ParamType::String);
        let param = Param {
            name,
            ty,
            ty_pos,
            description,
            required,
            default,
            allowed_values,
            excluded_values,
            min_value,
            max_value,
            items,
            value_type,
            auth_services,
            escape,
            value_from_param,
            mcp_header,
        };
        if typed {
            self.check_param_values(&param, &what, place);
        }
        Some(param)
    }

    fn check_param_values(&mut self, p: &Param, what: &str, place: ParamPlace) {
        if let Some(header) = &p.mcp_header {
            let token = !header.value.is_empty()
                && header.value.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
            if !token {
                self.diags.push(
                    Diagnostic::new(
                        header.pos,
                        format!("{what}: `mcpHeader` `{}` is not a valid header name", header.value),
                    )
                    .with_hint("use letters, digits and `-`, e.g. `Region`; the header sent is `Mcp-Param-Region`"),
                );
            }
            let scalar = matches!(p.ty, ParamType::String | ParamType::Integer | ParamType::Boolean);
            if !scalar || place.item || place.template || place.prompt || !p.auth_services.is_empty() {
                self.diags.push(
                    Diagnostic::new(header.pos, format!("{what}: `mcpHeader` applies only to string, integer and boolean tool parameters"))
                        .with_hint("remove `mcpHeader`; template, authenticated, float, array and map parameters cannot be mirrored in a header"),
                );
            }
        }
        let ty = p.ty.type_name();
        let shown = |v: &Value| v.to_string();
        if let Some(d) = &p.default {
            if !value_fits(p, &d.value) {
                self.diags.push(
                    Diagnostic::new(d.pos, format!("the default {} of {what} is not of type `{ty}`", shown(&d.value)))
                        .with_hint(format!("give a default of type `{ty}`, or change the parameter's `type`")),
                );
            }
        }
        for (list, field) in [(&p.allowed_values, "allowedValues"), (&p.excluded_values, "excludedValues")] {
            for v in list {
                if !value_fits(p, &v.value) {
                    self.diags.push(
                        Diagnostic::new(
                            v.pos,
                            format!("{} in `{field}` of {what} is not of type `{ty}`", shown(&v.value)),
                        )
                        .with_hint(format!("every entry of `{field}` must be of type `{ty}`")),
                    );
                }
            }
        }
        for bound in [&p.min_value, &p.max_value].into_iter().flatten() {
            if !matches!(p.ty, ParamType::Integer | ParamType::Float) {
                self.diags.push(
                    Diagnostic::new(
                        bound.pos,
                        format!("{what}: `minValue` and `maxValue` apply only to integer and float parameters"),
                    )
                    .with_hint("remove the bound, or change the parameter's `type`"),
                );
            }
        }
        if let (Some(min), Some(max)) = (&p.min_value, &p.max_value) {
            if min.value > max.value {
                self.error(max.pos, format!("{what}: `maxValue` {} is below `minValue` {}", max.value, min.value));
            }
        }
        match (p.ty, &p.items) {
            (ParamType::Array, None) => self.diags.push(
                Diagnostic::new(p.name.pos, format!("{what} is an array without `items`"))
                    .with_hint("describe the elements, e.g. `items: {name: id, type: integer, description: an id}`"),
            ),
            (ParamType::Array, Some(items)) if !items.auth_services.is_empty() => {
                self.error(items.name.pos, format!("{what}: array items cannot have `authServices`"))
            }
            (ty, Some(items)) if ty != ParamType::Array => {
                self.error(items.name.pos, format!("{what}: `items` applies only to array parameters"))
            }
            _ => {}
        }
        if p.value_type.is_some() && p.ty != ParamType::Map {
            self.error(p.name.pos, format!("{what}: `valueType` applies only to map parameters"));
        }
        if p.escape.is_some() && !place.template {
            self.diags.push(
                Diagnostic::new(p.name.pos, format!("{what}: `escape` applies only to template parameters")).with_hint(
                    "values of ordinary parameters are bound, never spliced into SQL, so they need no escaping",
                ),
            );
        }
    }

    fn json_value(&mut self, node: &Node) -> Spanned<Value> {
        match yaml::to_json(node) {
            Some(v) => Spanned::new(v, yaml::pos(node)),
            None => {
                self.error(yaml::pos(node), format!("{} cannot be used as a value", yaml::describe(node)));
                Spanned::new(Value::Null, yaml::pos(node))
            }
        }
    }

    fn value_list(&mut self, obj: &mut Obj<'_>, key: &'static str) -> Vec<Spanned<Value>> {
        let Some((node, _)) = obj.take(key) else { return Vec::new() };
        let Some(items) = yaml::as_seq(node) else {
            self.error(yaml::pos(node), format!("`{key}` of {} must be a list", obj.what));
            return Vec::new();
        };
        items.iter().map(|n| self.json_value(n)).collect()
    }

    fn number(&mut self, obj: &mut Obj<'_>, key: &'static str) -> Option<Spanned<f64>> {
        let (node, _) = obj.take(key)?;
        match yaml::to_json(node).as_ref().and_then(Value::as_f64) {
            Some(n) => Some(Spanned::new(n, yaml::pos(node))),
            None => {
                self.error(
                    yaml::pos(node),
                    format!("`{key}` of {} must be a number, found {}", obj.what, yaml::describe(node)),
                );
                None
            }
        }
    }

    fn param_auth(&mut self, node: &Node, what: &str) -> Vec<ParamAuth> {
        let Some(items) = yaml::as_seq(node) else {
            self.error(yaml::pos(node), format!("`authServices` of {what} must be a list of `{{name, field}}`"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(mut obj) = Obj::new(item, format!("an auth service of {what}"), false, &mut self.diags) else {
                continue;
            };
            let service = obj.required_string("name", &mut self.diags);
            let field = obj.required_string("field", &mut self.diags);
            obj.finish(&mut self.diags);
            if let (Some(service), Some(field)) = (service, field) {
                out.push(ParamAuth { service, field: field.value });
            }
        }
        out
    }

    fn toolset(&mut self, name: Spanned<String>, mut obj: Obj<'_>, group: bool) {
        let tools = obj.string_list("tools", &mut self.diags);
        let description = obj.string("description", &mut self.diags).map(|d| self.resolve_now(d).value);
        let (prompts, ttl_ms, cache_private) = if group {
            let prompts = obj.string_list("prompts", &mut self.diags);
            let ttl = obj.take("ttlMs").and_then(|(n, _)| match yaml::to_json(n).as_ref().and_then(Value::as_u64) {
                Some(v) => Some(v),
                None => {
                    self.error(yaml::pos(n), "`ttlMs` must be a whole number of milliseconds, 0 or more");
                    None
                }
            });
            let scope = obj.string("cacheScope", &mut self.diags).and_then(|s| match s.value.as_str() {
                "public" => Some(false),
                "private" => Some(true),
                other => {
                    self.diags.push(
                        Diagnostic::new(s.pos, format!("`cacheScope` must be `public` or `private`, found `{other}`"))
                            .with_hint("use `private` when what the group lists depends on who asks"),
                    );
                    None
                }
            });
            (prompts, ttl, scope)
        } else {
            (Vec::new(), None, None)
        };
        obj.finish(&mut self.diags);
        self.config.toolsets.push(Toolset { name, tools, prompts, description, ttl_ms, cache_private });
    }

    fn prompt(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        if let Some(ty) = obj.string("type", &mut self.diags) {
            if ty.value != "custom" {
                self.diags.push(
                    Diagnostic::new(ty.pos, format!("unknown prompt type `{}`", ty.value))
                        .with_hint("use `custom`, or leave `type` out"),
                );
            }
        }
        let description =
            obj.string("description", &mut self.diags).map(|d| self.resolve_now(d).value).unwrap_or_default();
        let what = obj.what.clone();
        let mut messages = Vec::new();
        match obj.take("messages") {
            Some((node, _)) => match yaml::as_seq(node) {
                Some(items) => {
                    for item in items {
                        let Some(mut m) = Obj::new(item, format!("a message of {what}"), false, &mut self.diags) else {
                            continue;
                        };
                        let role =
                            m.string("role", &mut self.diags).unwrap_or_else(|| Spanned::new("user".into(), m.pos));
                        let content = m.required_string("content", &mut self.diags);
                        m.finish(&mut self.diags);
                        if !matches!(role.value.as_str(), "user" | "assistant") {
                            self.diags.push(
                                Diagnostic::new(role.pos, format!("unknown message role `{}` in {what}", role.value))
                                    .with_hint("use `user` or `assistant`"),
                            );
                        }
                        if let Some(content) = content {
                            messages.push(PromptMessage { role: role.value, content });
                        }
                    }
                }
                None => self.error(yaml::pos(node), format!("`messages` of {what} must be a list")),
            },
            None => self.diags.push(
                Diagnostic::new(obj.pos, format!("{what} is missing the required field `messages`"))
                    .with_hint("add `messages:` with at least one `{role, content}`"),
            ),
        }
        let arguments = match obj.take("arguments") {
            Some((node, _)) => match yaml::as_seq(node) {
                Some(items) => items
                    .iter()
                    .filter_map(|i| {
                        self.param(i, &what, false, ParamPlace { template: false, item: false, prompt: true })
                    })
                    .collect(),
                None => {
                    self.error(yaml::pos(node), format!("`arguments` of {what} must be a list"));
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        obj.finish(&mut self.diags);
        self.config.prompts.push(Prompt { name, description, title: None, messages, arguments });
    }
}

#[derive(Clone, Copy)]
struct ParamPlace {
    template: bool,
    item: bool,
    prompt: bool,
}

/// Whether a configured value (default, allowed value) fits a parameter, elements included.
fn value_fits(p: &Param, value: &Value) -> bool {
    if !p.ty.accepts(value) {
        return false;
    }
    match (p.ty, value) {
        (ParamType::Array, Value::Array(items)) => match &p.items {
            Some(item) => items.iter().all(|v| value_fits(item, v)),
            None => true,
        },
        (ParamType::Map, Value::Object(map)) => match p.value_type {
            Some(t) => map.values().all(|v| t.accepts(v)),
            None => true,
        },
        _ => true,
    }
}

/// Why an authorization server or introspection URL is refused: not an absolute http(s) URL, or
/// plain http to a host that is not a loopback address.
fn auth_url_problem(url: &str) -> Option<String> {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => return Some(format!("must be an absolute https URL, found `{url}`")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Some(format!("has no host: `{url}`"));
    }
    let host = host.to_ascii_lowercase();
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match scheme.as_str() {
        "https" => None,
        "http" if loopback => None,
        "http" => Some(format!("must use https, found `{url}`")),
        _ => Some(format!("must be an https URL, found `{url}`")),
    }
}
