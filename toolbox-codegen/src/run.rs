//! The run: read the file, parse and validate it, describe each source's statements, emit the
//! code. Every problem found on the way is returned together.

use crate::oracle::{Mode, Oracle, PREPARE_COMMAND};
use crate::plan::{distinguish_statements, plan_tools};
use crate::scripts::{open_schema, script_path};
use crate::{cache, emit};
use proc_macro2::TokenStream;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use toolbox_config::diag::Diagnostic;
use toolbox_config::files::SourceFile;
use toolbox_config::model::*;
use toolbox_config::{LoadOptions, load};

/// The result of a run, successful or not, with every input it read.
pub struct Output {
    /// The code, or `compile_error!`s when `errors` is not empty.
    pub code: TokenStream,
    pub errors: Vec<String>,
    pub tracked_files: Vec<PathBuf>,
    pub env_vars: BTreeSet<String>,
    /// Things the user should know that do not fail the build (e.g. the cache was used).
    pub warnings: Vec<String>,
    /// Files the code includes from `OUT_DIR`, `(name, contents)` (see [`emit::JsonPlacement`]).
    pub files: Vec<(String, String)>,
}

/// Generates the code for the configuration at `path`, with the JSON that `tools/list` serves
/// kept in the code. `display` is how messages name the file.
pub fn generate(path: &Path, display: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Output {
    generate_with(path, display, lookup, emit::JsonPlacement::Inline)
}

/// [`generate`], with the JSON placed as `json` says.
pub fn generate_with(
    path: &Path,
    display: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    json: emit::JsonPlacement,
) -> Output {
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
                code: crate::error_tokens(&errors),
                errors,
                tracked_files,
                env_vars: BTreeSet::new(),
                warnings: Vec::new(),
                files: Vec::new(),
            };
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let root = SourceFile {
        display: display.to_string(),
        path: std::fs::canonicalize(path).ok(),
        dir: base.to_path_buf(),
        text,
    };
    let (config, mut diags, files) = load(root, &LoadOptions { env: &env });
    // Every included file is an input of the code; a folder's listing is watched too.
    tracked_files.extend(files.paths().skip(1).map(Path::to_path_buf));
    let watched_folders = files.folders.clone();
    let mut tool_plans = Vec::new();
    let mut scripts = Vec::new();
    // Database files read for their schema: a change re-runs the build script, but they are
    // not `include_str!`ed into the code (they are binary and may be large).
    let mut watched_databases = Vec::new();
    let mut warnings = Vec::new();
    let mode = Mode::from_env(&env);
    // Cache files that describe this configuration's statements, and whether every server
    // source was described live (only then are other files in the cache known to be unused).
    let mut cache_files_used: Vec<PathBuf> = Vec::new();
    let mut all_live = true;
    for (source_index, source) in config.sources.iter().enumerate() {
        let tools: Vec<&Tool> = config.tools.iter().filter(|t| t.source.value == source.name.value).collect();
        let sqlite = match &source.kind {
            SourceKind::Sqlite(sqlite) => sqlite,
            SourceKind::Http(_) => {
                scripts.push((None, None));
                emit::http::plan_tools(&tools, source_index, &mut tool_plans);
                continue;
            }
            SourceKind::Redis(redis) => {
                scripts.push((None, None));
                if tools.is_empty() {
                    continue;
                }
                let mut commands =
                    crate::redis::info::Commands::new(source, redis, path, mode, &env, &mut diags, &mut warnings);
                crate::redis::plan_tools(&tools, source_index, &mut commands, &mut diags, &mut tool_plans);
                all_live &= commands.is_live();
                cache_files_used.append(&mut commands.cache_files_used);
                tracked_files.append(&mut commands.cache_files_read);
                let what = ("command", "Redis reachable");
                report_cache(source, what, commands.out_of_date, commands.cache_write_error, &mut warnings, &mut diags);
                continue;
            }
            SourceKind::Postgres(server) | SourceKind::Mysql(server) => {
                let engine =
                    if matches!(source.kind, SourceKind::Postgres(_)) { Engine::Postgres } else { Engine::Mysql };
                scripts.push((None, None));
                if tools.is_empty() {
                    continue;
                }
                let mut oracle = Oracle::for_server(source, server, path, mode, &env, &mut diags, &mut warnings);
                plan_tools(&tools, source_index, engine, server.read_only, &mut oracle, &mut diags, &mut tool_plans);
                all_live &= oracle.live.is_some();
                cache_files_used.append(&mut oracle.cache_files_used);
                tracked_files.append(&mut oracle.cache_files_read);
                let what = ("statement", "the database reachable");
                report_cache(source, what, oracle.out_of_date, oracle.cache_write_error, &mut warnings, &mut diags);
                continue;
            }
        };
        // Relative paths are relative to the file that declares the source.
        let base = files.dir_of(source.name.pos);
        let schema = script_path(&sqlite.schema_file, base, &mut diags, &mut tracked_files);
        let seed = script_path(&sqlite.seed_file, base, &mut diags, &mut tracked_files);
        scripts
            .push((schema.as_ref().map(|p| p.display().to_string()), seed.as_ref().map(|p| p.display().to_string())));
        if tools.is_empty() {
            continue;
        }
        let schema = open_schema(source, sqlite, base, schema.as_deref(), &env, &mut diags, &mut watched_databases);
        let mut oracle = Oracle::sqlite(schema);
        plan_tools(&tools, source_index, Engine::Sqlite, sqlite.read_only, &mut oracle, &mut diags, &mut tool_plans);
        warnings.append(&mut oracle.warnings);
    }
    let env_vars = used_vars.into_inner();
    let code_inputs = tracked_files.clone();
    tracked_files.extend(watched_databases);
    tracked_files.extend(watched_folders);
    if !diags.is_empty() {
        toolbox_config::diag::sort(&mut diags);
        let errors: Vec<String> = diags.iter().map(|d| files.render(d)).collect();
        return Output {
            code: crate::error_tokens(&errors),
            errors,
            tracked_files,
            env_vars,
            warnings,
            files: Vec::new(),
        };
    }
    if all_live && !cache_files_used.is_empty() && matches!(mode, Mode::Auto | Mode::Prepare) {
        let engines: Vec<&str> = config
            .sources
            .iter()
            .filter(|s| matches!(s.kind, SourceKind::Postgres(_) | SourceKind::Mysql(_) | SourceKind::Redis(_)))
            .map(|s| s.kind.type_name())
            .collect();
        let dir = cache::dir(path);
        if mode == Mode::Prepare {
            cache::prune(&dir, &cache_files_used, &engines);
        } else {
            let unused = cache::unused(&dir, &cache_files_used, &engines);
            if !unused.is_empty() {
                warnings.push(format!(
                    "{} file(s) in the description cache `{}` describe no statement of {display}; `{PREPARE_COMMAND}` removes them",
                    unused.len(),
                    dir.display()
                ));
            }
        }
    }
    distinguish_statements(&mut tool_plans);
    let tracked: Vec<String> =
        code_inputs.iter().filter_map(|p| std::fs::canonicalize(p).ok()).map(|p| p.display().to_string()).collect();
    let absolute = |dir: &Path| std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()).display().to_string();
    let config_dir = absolute(base);
    let source_dirs = config.sources.iter().map(|s| absolute(files.dir_of(s.name.pos))).collect();
    let plan = emit::Plan {
        config: &config,
        json,
        display_path: display.to_string(),
        config_dir,
        tools: tool_plans,
        tracked_files: tracked,
        scripts,
        files: files.files.iter().map(|f| f.display.clone()).collect(),
        source_dirs,
    };
    let emit::Emitted { code, files } = emit::emit(&plan);
    Output { code, errors: Vec::new(), tracked_files, env_vars, warnings, files }
}

/// What a source's description cache needs saying after its tools were described: entries out of
/// date (a warning naming the refresh command) and a cache that could not be written (an error).
/// `what` is the kind of description and what the refresh needs (`("statement", "the database
/// reachable")`).
fn report_cache(
    source: &Source,
    (kind, needs): (&str, &str),
    out_of_date: usize,
    write_error: Option<String>,
    warnings: &mut Vec<String>,
    diags: &mut Vec<Diagnostic>,
) {
    let name = &source.name.value;
    if out_of_date > 0 {
        warnings.push(format!(
            "source `{name}`: {out_of_date} {kind} description(s) are missing from the description cache or differ from it; refresh it with `{PREPARE_COMMAND}` ({needs}) and commit `.toolbox/`"
        ));
    }
    if let Some(e) = write_error {
        diags.push(Diagnostic::new(
            source.name.pos,
            format!("source `{name}`: cannot write the description cache: {e}"),
        ));
    }
}
