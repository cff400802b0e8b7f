//! From `tools.yaml` to Rust: the code generator behind `build.rs` and `toolbox-macros`.
//!
//! [`generate`] runs the whole pipeline: parse and validate (`toolbox-config`), describe every
//! statement against its source's schema ([`describe`]), then emit code ([`emit`]) with the JSON
//! that `tools/list` serves made in advance ([`schema`]). Every problem found on the way is
//! returned together, rendered as `path:line:col: message` with an excerpt and a hint.
//!
//! [`Builder`] is the `build.rs` entry point: it writes `$OUT_DIR/toolbox_generated.rs`, prints
//! `cargo:rerun-if-changed` / `rerun-if-env-changed` for every input, and on failure writes a file
//! of `compile_error!`s so that rustc reports each problem as an error of its own.

pub mod cache;
pub mod describe;
pub mod emit;
pub mod postgres;
pub mod schema;
pub mod sqlite;
pub mod types;

use describe::{Described, Describer, Problem, SchemaSource, Signature};
use proc_macro2::TokenStream;
use quote::quote;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use toolbox_config::diag::{Diagnostic, Spanned};
use toolbox_config::model::*;
use toolbox_config::{LoadOptions, env, load_str, template};

/// The result of a run, successful or not, with every input it read.
pub struct Output {
    /// The code, or `compile_error!`s when `errors` is not empty.
    pub code: TokenStream,
    pub errors: Vec<String>,
    pub tracked_files: Vec<PathBuf>,
    pub env_vars: BTreeSet<String>,
    /// Things the user should know that do not fail the build (e.g. the cache was used).
    pub warnings: Vec<String>,
}

/// Generates the code for the configuration at `path`. `display` is how messages name the file.
pub fn generate(path: &Path, display: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Output {
    let used_vars = RefCell::new(BTreeSet::new());
    let env = |name: &str| {
        used_vars.borrow_mut().insert(name.to_string());
        lookup(name)
    };
    let mut tracked_files = vec![path.to_path_buf()];
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let errors = vec![format!("{display}: cannot read the configuration: {e}")];
            return Output {
                code: error_tokens(&errors),
                errors,
                tracked_files,
                env_vars: BTreeSet::new(),
                warnings: Vec::new(),
            };
        }
    };
    let (config, mut diags) = load_str(&text, &LoadOptions { env: &env });
    let base = path.parent().unwrap_or(Path::new("."));
    let mut tool_plans = Vec::new();
    let mut scripts = Vec::new();
    // Database files read for their schema: a change re-runs the build script, but they are
    // not `include_str!`ed into the code (they are binary and may be large).
    let mut watched_databases = Vec::new();
    let mut warnings = Vec::new();
    let mode = Mode::from_env(&env);
    // Cache files that describe this configuration's statements, and whether every server
    // source was described live (only then are other files in the cache known to be stale).
    let mut cache_files_used: Vec<PathBuf> = Vec::new();
    let mut all_live = true;
    for (source_index, source) in config.sources.iter().enumerate() {
        let tools: Vec<&Tool> = config.tools.iter().filter(|t| t.source.value == source.name.value).collect();
        let server = match &source.kind {
            SourceKind::Sqlite(_) => None,
            SourceKind::Postgres(s) | SourceKind::Mysql(s) => Some(s),
        };
        if let Some(server) = server {
            scripts.push((None, None));
            if tools.is_empty() {
                continue;
            }
            let mut oracle = Oracle::for_server(source, server, path, mode, &env, &mut diags, &mut warnings);
            plan_tools(&tools, source_index, source, server.read_only, &mut oracle, &mut diags, &mut tool_plans);
            all_live &= oracle.live.is_some();
            cache_files_used.extend(oracle.cache_files_written.iter().cloned());
            cache_files_used.extend(oracle.cache_files_read.iter().cloned());
            tracked_files.extend(oracle.cache_files_read);
            if let Some(e) = oracle.cache_write_error {
                warnings.push(format!("source `{}`: cannot write the description cache: {e}", source.name.value));
            }
            continue;
        }
        let SourceKind::Sqlite(sqlite) = &source.kind else { continue };
        let script_path = |s: &Option<Spanned<String>>, diags: &mut Vec<Diagnostic>, tracked: &mut Vec<PathBuf>| {
            let s = s.as_ref()?;
            let full = base.join(&s.value);
            match std::fs::canonicalize(&full) {
                Ok(p) => {
                    tracked.push(p.clone());
                    Some(p)
                }
                Err(e) => {
                    diags.push(
                        Diagnostic::new(s.pos, format!("cannot read `{}`: {e}", s.value))
                            .with_hint("the path is relative to the directory of the configuration file"),
                    );
                    None
                }
            }
        };
        let schema = script_path(&sqlite.schema_file, &mut diags, &mut tracked_files);
        let seed = script_path(&sqlite.seed_file, &mut diags, &mut tracked_files);
        scripts
            .push((schema.as_ref().map(|p| p.display().to_string()), seed.as_ref().map(|p| p.display().to_string())));
        if tools.is_empty() {
            continue;
        }
        let schema = open_schema(source, sqlite, base, schema.as_deref(), &env, &mut diags, &mut watched_databases);
        let mut oracle = Oracle::sqlite(schema);
        plan_tools(&tools, source_index, source, sqlite.read_only, &mut oracle, &mut diags, &mut tool_plans);
        warnings.append(&mut oracle.warnings);
    }
    let env_vars = used_vars.into_inner();
    let code_inputs = tracked_files.clone();
    tracked_files.extend(watched_databases);
    if !diags.is_empty() {
        toolbox_config::diag::sort(&mut diags);
        let errors: Vec<String> = diags.iter().map(|d| d.render(display, &text)).collect();
        return Output { code: error_tokens(&errors), errors, tracked_files, env_vars, warnings };
    }
    if mode == Mode::Auto && all_live && !cache_files_used.is_empty() {
        let engines: Vec<&str> = config
            .sources
            .iter()
            .filter(|s| !matches!(s.kind, SourceKind::Sqlite(_)))
            .map(|s| s.kind.type_name())
            .collect();
        cache::prune(&cache::dir(path), &cache_files_used, &engines);
    }
    distinguish_statements(&mut tool_plans);
    let tracked: Vec<String> =
        code_inputs.iter().filter_map(|p| std::fs::canonicalize(p).ok()).map(|p| p.display().to_string()).collect();
    let plan = emit::Plan {
        config: &config,
        display_path: display.to_string(),
        tools: tool_plans,
        tracked_files: tracked,
        scripts,
    };
    Output { code: emit::emit(&plan), errors: Vec::new(), tracked_files, env_vars, warnings }
}

/// PostgreSQL keeps one prepared statement per text on each connection, with the parameter types
/// it was first prepared with. Where two tools of a source run the same text with parameters sent
/// as different types, each other one gets a comment naming its types in front, so that each is
/// prepared (and cached) as its own statement.
fn distinguish_statements(plans: &mut [emit::ToolPlan<'_>]) {
    let mut first: std::collections::HashMap<(usize, String), Option<Vec<String>>> = Default::default();
    for plan in plans.iter_mut().filter(|p| p.engine == Engine::Postgres) {
        for variant in &mut plan.variants {
            let key = (plan.source_index, variant.sql.clone());
            match first.get(&key) {
                None => {
                    first.insert(key, variant.binds.clone());
                }
                Some(binds) if *binds == variant.binds => {}
                Some(_) => {
                    let types = variant.binds.iter().flatten().map(|b| b.to_ascii_lowercase()).collect::<Vec<_>>();
                    variant.sql = format!("/* toolbox: parameters sent as {} */ {}", types.join(", "), variant.sql);
                }
            }
        }
    }
}

/// Describes the statements of a source's tools and records a plan for each that checks out.
fn plan_tools<'a>(
    tools: &[&'a Tool],
    source_index: usize,
    source: &Source,
    source_read_only: bool,
    oracle: &mut Oracle,
    diags: &mut Vec<Diagnostic>,
    plans: &mut Vec<emit::ToolPlan<'a>>,
) {
    for tool in tools {
        let Some(variants) = plan_variants(tool, oracle, diags) else { continue };
        plans.push(emit::ToolPlan { tool, source_index, variants, source_read_only, engine: source.kind.engine() });
    }
}

/// How statements of server sources are described at build time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Describe against the server when it can be reached (refreshing the cache), else use the cache.
    Auto,
    /// `TOOLBOX_OFFLINE=1`: use the cache only.
    Offline,
    /// `TOOLBOX_CHECK=1`: the server must be reached, and every cached description must match it.
    Check,
}

impl Mode {
    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let on = |name: &str| env(name).is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        if on("TOOLBOX_CHECK") {
            Mode::Check
        } else if on("TOOLBOX_OFFLINE") {
            Mode::Offline
        } else {
            Mode::Auto
        }
    }
}

/// Marks an error that says no description could be had at all (not an SQL error).
const NO_DESCRIPTION: &str = "\u{0}no description: ";

/// Where descriptions come from for one source.
struct Oracle {
    engine: &'static str,
    live: Option<Describer>,
    /// What statements are checked against, for messages (`its schemaFile `schema.sql``).
    label: String,
    /// SQLite: an existing database file also checked, for warnings (see [`SqliteSchema`]).
    existing_file: Option<(Describer, String)>,
    warnings: Vec<String>,
    /// Why the server was not used, for messages.
    offline_reason: Option<String>,
    cache_dir: Option<PathBuf>,
    mode: Mode,
    cache_files_read: Vec<PathBuf>,
    cache_files_written: Vec<PathBuf>,
    /// The cache could not be written; reported once.
    cache_write_error: Option<String>,
}

impl Oracle {
    fn sqlite(schema: Option<SqliteSchema>) -> Self {
        let (live, label, existing_file) = match schema {
            Some(s) => (Some(s.describer), s.label, s.existing_file),
            None => (None, String::new(), None),
        };
        Oracle {
            engine: "sqlite",
            live,
            label,
            existing_file,
            warnings: Vec::new(),
            offline_reason: None,
            cache_dir: None,
            mode: Mode::Auto,
            cache_files_read: Vec::new(),
            cache_files_written: Vec::new(),
            cache_write_error: None,
        }
    }

    fn for_server(
        source: &Source,
        server: &ServerSource,
        config_path: &Path,
        mode: Mode,
        env: &dyn Fn(&str) -> Option<String>,
        diags: &mut Vec<Diagnostic>,
        warnings: &mut Vec<String>,
    ) -> Self {
        let engine = source.kind.type_name();
        let mut oracle = Oracle {
            engine,
            live: None,
            label: "the live database".into(),
            existing_file: None,
            warnings: Vec::new(),
            offline_reason: None,
            cache_dir: Some(cache::dir(config_path)),
            mode,
            cache_files_read: Vec::new(),
            cache_files_written: Vec::new(),
            cache_write_error: None,
        };
        if mode == Mode::Offline {
            oracle.label = "the description cache (TOOLBOX_OFFLINE)".into();
            oracle.offline_reason = Some("TOOLBOX_OFFLINE is set".into());
            return oracle;
        }
        let result = server_url(source, server, env).and_then(|(url, timeout)| Describer::connect(&url, timeout));
        match result {
            Ok(d) => oracle.live = Some(d),
            Err(e) => {
                let reason = format!("source `{}` cannot be reached at build time: {e}", source.name.value);
                oracle.label = "the description cache (the database could not be reached)".into();
                if mode == Mode::Check {
                    diags.push(
                        Diagnostic::new(source.name.pos, format!("{reason} (TOOLBOX_CHECK needs the database)"))
                            .with_hint(
                                "start the database, or build without TOOLBOX_CHECK to use the description cache",
                            ),
                    );
                } else {
                    warnings.push(format!("{reason}; using the description cache"));
                }
                oracle.offline_reason = Some(reason);
            }
        }
        oracle
    }

    fn describe(&mut self, sql: &str, signature: &[Signature]) -> Result<Described, String> {
        let Some(dir) = self.cache_dir.clone() else {
            let described = match &mut self.live {
                Some(d) => d.describe(sql, signature),
                None => Err("no schema to check against".into()),
            };
            if let (Ok(_), Some((file, shown))) = (&described, &mut self.existing_file) {
                if let Err(e) = file.describe(sql, signature) {
                    self.warnings.push(format!(
                        "the statement `{}` prepares against {} but not against the database file `{shown}`, which exists and is what the server will open: {e}. The schema script only creates a missing file: migrate the file, or delete it so the server re-creates it from the schema (and seed)",
                        sql.split_whitespace().collect::<Vec<_>>().join(" "),
                        self.label
                    ));
                }
            }
            return described;
        };
        let key = cache::key(self.engine, signature);
        let key = key.as_deref();
        match &mut self.live {
            Some(live) => {
                let described = live.describe(sql, signature)?;
                if !described.problems.is_empty() {
                    // Reported by the caller; a description that does not build is not cached.
                } else if self.mode == Mode::Check {
                    match cache::read(&dir, self.engine, sql, key) {
                        Some((_, cached)) if cached == described => {}
                        Some((file, _)) => {
                            return Err(format!(
                                "the database no longer matches the description cached in `{}`; build once with the database reachable (without TOOLBOX_CHECK) to refresh it, and commit the change",
                                file.display()
                            ));
                        }
                        None => {
                            return Err("the description cache has no entry for this statement; build once with the database reachable (without TOOLBOX_CHECK) and commit `.toolbox/`".into());
                        }
                    }
                } else {
                    match cache::write(&dir, self.engine, sql, key, &described) {
                        Ok(file) => self.cache_files_written.push(file),
                        Err(e) => {
                            self.cache_write_error.get_or_insert(e.to_string());
                        }
                    }
                }
                Ok(described)
            }
            None => match cache::read(&dir, self.engine, sql, key) {
                Some((file, described)) => {
                    self.cache_files_read.push(file);
                    Ok(described)
                }
                None => Err(format!(
                    "{}{} and the description cache (`{}`) has no entry for this statement",
                    NO_DESCRIPTION,
                    self.offline_reason.as_deref().unwrap_or("the database is not used"),
                    dir.display()
                )),
            },
        }
    }
}

/// The connection URL and timeout of a server source, with the build's environment.
fn server_url(
    source: &Source,
    server: &ServerSource,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, std::time::Duration), String> {
    let resolve = |v: &Spanned<String>| {
        env::resolve(&v.value, env).map_err(|e| e.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "))
    };
    let optional = |v: &Option<Spanned<String>>| v.as_ref().map(resolve).transpose();
    let host = resolve(&server.host)?;
    let port = resolve(&server.port)?;
    let (user, password, database) =
        (optional(&server.user)?, optional(&server.password)?, optional(&server.database)?);
    let params: Vec<(String, String)> =
        server.query_params.iter().map(|(k, v)| Ok((k.clone(), resolve(v)?))).collect::<Result<_, String>>()?;
    let settings = toolbox_config::url::ServerSettings {
        host: &host,
        port: &port,
        user: user.as_deref(),
        password: password.as_deref(),
        database: database.as_deref(),
        query_params: &params,
    };
    let timeout = optional(&server.connect_timeout)?
        .and_then(|t| toolbox_config::duration::parse(&t, true))
        .unwrap_or(std::time::Duration::from_secs(5))
        .min(std::time::Duration::from_secs(5));
    Ok((toolbox_config::url::connection_url(source.kind.type_name(), &settings), timeout))
}

/// What a SQLite source's statements are checked against, and how messages name it.
struct SqliteSchema {
    describer: Describer,
    label: String,
    /// The database file, when it exists but the statements are checked against `schemaFile`:
    /// each statement is also prepared against it, and a failure is a warning (the server runs
    /// against that file, which predates the schema).
    existing_file: Option<(Describer, String)>,
}

/// Opens the schema statements are checked against: the source's `schemaFile` when it names one
/// (so the build does not depend on a data file that happens to exist on the machine), else the
/// database file, which must then exist.
fn open_schema(
    source: &Source,
    sqlite: &SqliteSource,
    base: &Path,
    schema: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Vec<Diagnostic>,
    tracked: &mut Vec<PathBuf>,
) -> Option<SqliteSchema> {
    let written = env::resolve(&sqlite.database.value, env).ok().filter(|p| p != ":memory:");
    let database = written.as_ref().map(|p| base.join(p));
    let existing = database.as_ref().filter(|db| db.is_file());
    // Paths as the configuration wrote them.
    let schema_shown = sqlite.schema_file.as_ref().map(|s| s.value.clone()).unwrap_or_default();
    let database_shown = written.clone().unwrap_or_default();
    const SCRIPT_HINT: &str = "statements are checked against an empty in-memory database made by this script, so it must run there without error (try `sqlite3 :memory: < SCRIPT`)";
    let result = match (schema, existing) {
        (Some(schema_path), _) => match std::fs::read_to_string(schema_path) {
            Ok(script) => Describer::open(SchemaSource::Script(&script))
                .map(|d| (d, format!("its schemaFile `{schema_shown}`")))
                .map_err(|e| (format!("the schema script fails: {e}"), SCRIPT_HINT)),
            Err(e) => Err((
                format!("cannot read the schema script: {e}"),
                "the path is relative to the directory of the configuration file",
            )),
        },
        // A `schemaFile` that cannot be read is already reported.
        (None, _) if sqlite.schema_file.is_some() => return None,
        (None, Some(db)) => {
            tracked.push(db.clone());
            Describer::open(SchemaSource::DatabaseFile(db))
                .map(|d| (d, format!("its database file `{database_shown}`")))
                .map_err(|e| {
                    (e, "statements are checked against this file (there is no `schemaFile`): make it readable")
                })
        }
        (None, None) => {
            let shown = database.as_ref().map_or(sqlite.database.value.clone(), |p| p.display().to_string());
            diags.push(
                Diagnostic::new(sqlite.database.pos, format!("source `{}`: cannot check its statements: `{shown}` does not exist and no `schemaFile` is named", source.name.value))
                    .with_hint("create the database before building, or add `schemaFile: schema.sql` (a script that creates the tables)"),
            );
            return None;
        }
    };
    match result {
        Ok((describer, label)) => {
            let existing_file = match (schema, existing) {
                (Some(_), Some(db)) => {
                    tracked.push(db.clone());
                    Describer::open(SchemaSource::DatabaseFile(db)).ok().map(|d| (d, database_shown.clone()))
                }
                _ => None,
            };
            Some(SqliteSchema { describer, label, existing_file })
        }
        Err((e, hint)) => {
            let pos = match (&sqlite.schema_file, existing) {
                (Some(s), _) => s.pos,
                _ => sqlite.database.pos,
            };
            diags.push(Diagnostic::new(pos, format!("source `{}`: {e}", source.name.value)).with_hint(hint));
            None
        }
    }
}

/// Renders and describes each variant of a tool's statement.
fn plan_variants(tool: &Tool, oracle: &mut Oracle, diags: &mut Vec<Diagnostic>) -> Option<Vec<emit::Variant>> {
    let Some(statement) = &tool.statement else {
        return Some(vec![emit::Variant { sql: String::new(), columns: None, binds: None }]);
    };
    // A statement with a problem of its own (an unset variable, a bad template reference) is
    // already reported at its position; preparing it would only add a confusing SQL error.
    if diags.iter().any(|d| d.pos == statement.pos) {
        return None;
    }
    if oracle.live.is_none() && oracle.cache_dir.is_none() {
        // No SQLite schema could be opened; that is already reported.
        return None;
    }
    let refs = template::references(&statement.value).ok()?;
    if !refs.iter().all(|r| tool.template_parameters.iter().any(|p| p.name.value == r.name)) {
        return None;
    }
    // Every combination of template values, last parameter varying fastest.
    let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
    for t in &tool.template_parameters {
        combos = combos
            .into_iter()
            .flat_map(|c| (0..t.allowed_values.len()).map(move |i| [c.clone(), vec![i]].concat()))
            .collect();
    }
    let mut variants = Vec::with_capacity(combos.len());
    let mut failed = false;
    for combo in combos {
        let sql = template::render(&statement.value, &refs, |name| {
            // Every reference names a template parameter (checked above).
            let Some((index, param)) = tool.template_parameters.iter().enumerate().find(|(_, p)| p.name.value == name)
            else {
                return String::new();
            };
            let value = param.allowed_values[combo[index]].value.as_str().unwrap_or_default();
            param.escape.unwrap_or(Escape::DoubleQuotes).quote(value)
        });
        let chosen: Vec<String> = tool
            .template_parameters
            .iter()
            .zip(&combo)
            .map(|(p, i)| format!("{}={}", p.name.value, p.allowed_values[*i].value))
            .collect();
        let which = if chosen.is_empty() { String::new() } else { format!(" (with {})", chosen.join(", ")) };
        let signature: Vec<Signature> =
            tool.parameters.iter().map(|p| Signature { ty: p.ty, items: p.items.as_ref().map(|i| i.ty) }).collect();
        match oracle.describe(&sql, &signature) {
            Ok(Described { parameters, parameter_types, binds, mut columns, problems }) => {
                if tool.ty.kind == ToolKind::ListTables {
                    // The built-in statement builds this column as JSON; MariaDB types it as text.
                    for c in columns.iter_mut().filter(|c| c.name == "object_details") {
                        c.type_name = if tool.ty.engine == Engine::Postgres { "JSONB".into() } else { "JSON".into() };
                        c.kind = None;
                    }
                }
                let declared = tool.parameters.len();
                if parameters != declared {
                    let hint = match tool.ty.engine {
                        Engine::Postgres => {
                            "parameters bind to `$1`, `$2` ... in the order they are declared: declare one per number"
                        }
                        Engine::Mysql => {
                            "parameters bind to the `?` placeholders in the order they are declared: declare one per `?`"
                        }
                        Engine::Sqlite => {
                            "parameters bind to the placeholders in the order they are declared: declare one per `?`, or use `?NNN` to reuse one"
                        }
                    };
                    diags.push(
                        Diagnostic::new(statement.pos, format!("the statement of tool `{}`{which} has {parameters} placeholder(s) but {declared} parameter(s) are declared", tool.name.value))
                            .with_hint(hint),
                    );
                    failed = true;
                }
                for problem in &problems {
                    failed = true;
                    diags.push(match problem {
                        Problem::Parameter { index, bind, message } => {
                            let param = &tool.parameters[*index];
                            let inferred = parameter_types.as_ref().and_then(|t| t.get(*index)).map_or("?", String::as_str);
                            Diagnostic::new(
                                param.ty_pos,
                                format!(
                                    "parameter `{}` of tool `{}`{which} is declared `{}`, so its value is sent as `{}`, but the statement uses ${} as `{}` and does not prepare with it: {message}",
                                    param.name.value,
                                    tool.name.value,
                                    param.ty.type_name(),
                                    bind.to_ascii_lowercase(),
                                    index + 1,
                                    inferred.to_ascii_lowercase(),
                                ),
                            )
                            .with_hint(types::parameter_hint(param, inferred, index + 1))
                        }
                        Problem::Column { name, message } => Diagnostic::new(
                            statement.pos,
                            format!("column `{name}` of the statement of tool `{}`{which} is {message}", tool.name.value),
                        )
                        .with_hint(format!("cast it in the statement, and keep its name with `AS {name}`")),
                        Problem::Statement { message, hint } => Diagnostic::new(
                            statement.pos,
                            format!("the statement of tool `{}`{which} {message}", tool.name.value),
                        )
                        .with_hint(hint.clone()),
                    });
                }
                let mut seen = BTreeSet::new();
                for c in &columns {
                    if !seen.insert(c.name.as_str()) {
                        diags.push(
                            Diagnostic::new(
                                statement.pos,
                                format!(
                                    "the statement of tool `{}` returns two columns named `{}`",
                                    tool.name.value, c.name
                                ),
                            )
                            .with_hint(
                                "give one of them another name with `AS`; rows are JSON objects keyed by column name",
                            ),
                        );
                        failed = true;
                    }
                }
                variants.push(emit::Variant {
                    sql,
                    columns: if columns.is_empty() { None } else { Some(columns) },
                    binds,
                });
            }
            Err(e) if e.starts_with(NO_DESCRIPTION) => {
                diags.push(
                    Diagnostic::new(
                        statement.pos,
                        format!("the statement of tool `{}`{which} cannot be checked: {}", tool.name.value, &e[NO_DESCRIPTION.len()..]),
                    )
                    .with_hint("start the database and build once: the description is written to the cache, which you commit so builds without the database work"),
                );
                failed = true;
            }
            Err(e) => {
                diags.push(
                    Diagnostic::new(
                        statement.pos,
                        format!(
                            "the statement of tool `{}`{which} does not prepare against {} (source `{}`): {e}",
                            tool.name.value, oracle.label, tool.source.value
                        ),
                    )
                    .with_hint(if e.contains("toolbox does not encode") {
                        "cast the column in the statement"
                    } else {
                        "check table and column names and the SQL syntax against the schema"
                    }),
                );
                failed = true;
            }
        }
    }
    (!failed).then_some(variants)
}

/// One `compile_error!` per message.
pub fn error_tokens(errors: &[String]) -> TokenStream {
    let errors = errors.iter();
    quote! { #(::core::compile_error!(#errors);)* }
}

/// Formats generated code into a readable file.
pub fn format_file(code: &TokenStream) -> String {
    let header = "// @generated by toolbox-codegen from tools.yaml. Do not edit: change tools.yaml and rebuild.\n\n";
    match syn::parse2::<syn::File>(code.clone()) {
        Ok(file) => format!("{header}{}", prettyplease::unparse(&file)),
        Err(_) => format!("{header}{code}\n"),
    }
}

/// The `build.rs` entry point, in the prost-build style.
pub struct Builder {
    config: PathBuf,
    out_file: String,
}

impl Builder {
    /// `config` is relative to the package root (`CARGO_MANIFEST_DIR`).
    pub fn new(config: impl Into<PathBuf>) -> Self {
        Self { config: config.into(), out_file: "toolbox_generated.rs".into() }
    }

    /// Generates, writes `$OUT_DIR/<out_file>` (only when it changed) and prints the
    /// `cargo:` lines. Problems in the configuration become `compile_error!`s in that file.
    pub fn compile(&self) -> std::io::Result<()> {
        let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
        let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
        let path = manifest.join(&self.config);
        let display = self.config.display().to_string();
        let output = generate(&path, &display, &|name| std::env::var(name).ok());
        for file in &output.tracked_files {
            println!("cargo:rerun-if-changed={}", file.display());
        }
        for var in &output.env_vars {
            println!("cargo:rerun-if-env-changed={var}");
        }
        println!("cargo:rerun-if-env-changed=TOOLBOX_PRINT_GENERATED");
        for warning in &output.warnings {
            println!("cargo:warning={warning}");
        }
        let text = format_file(&output.code);
        let target = out_dir.join(&self.out_file);
        if std::fs::read_to_string(&target).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&target, &text)?;
        }
        if std::env::var_os("TOOLBOX_PRINT_GENERATED").is_some() {
            println!("cargo:warning=generated code: {}", target.display());
        }
        Ok(())
    }
}
