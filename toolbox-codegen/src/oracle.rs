//! Where a statement's description comes from: the schema of a SQLite source, or the live
//! database or the description cache of a server source, as the build's [`Mode`] says.
//!
//! Only [`Mode::Prepare`] writes the cache (`.toolbox/` beside `tools.yaml`, outside `OUT_DIR`),
//! as `cargo sqlx prepare` writes `.sqlx/`: an ordinary build changes nothing in the source tree.

use crate::cache;
use crate::describe::{Described, Describer, Signature};
use std::path::{Path, PathBuf};
use toolbox_config::diag::{Diagnostic, Spanned};
use toolbox_config::env;
use toolbox_config::model::{ServerSource, Source};

/// The command that writes the description cache, named by every message that needs it.
pub const PREPARE_COMMAND: &str = "TOOLBOX_PREPARE=1 cargo build";

/// How statements of server sources are described at build time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Describe against the server when it can be reached, else use the cache. Nothing is
    /// written: a live description that the cache lacks or contradicts is a warning.
    Auto,
    /// `TOOLBOX_PREPARE=1`: the server must be reached; every description is written to the
    /// cache, and the files no statement uses are removed.
    Prepare,
    /// `TOOLBOX_OFFLINE=1`: use the cache only.
    Offline,
    /// `TOOLBOX_CHECK=1`: the server must be reached, and every cached description must match it.
    Check,
}

impl Mode {
    /// The mode the environment selects; `TOOLBOX_CHECK` wins over `TOOLBOX_PREPARE`, which wins
    /// over `TOOLBOX_OFFLINE`.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let on = |name: &str| env(name).is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        if on("TOOLBOX_CHECK") {
            Mode::Check
        } else if on("TOOLBOX_PREPARE") {
            Mode::Prepare
        } else if on("TOOLBOX_OFFLINE") {
            Mode::Offline
        } else {
            Mode::Auto
        }
    }

    /// The variable that selects a mode that needs the database.
    fn needs_database(self) -> Option<&'static str> {
        match self {
            Mode::Check => Some("TOOLBOX_CHECK"),
            Mode::Prepare => Some("TOOLBOX_PREPARE"),
            Mode::Auto | Mode::Offline => None,
        }
    }
}

/// Why a statement has no description to build with.
pub(crate) enum DescribeError {
    /// Neither the database nor the cache can describe it.
    Unavailable(String),
    /// Under `TOOLBOX_CHECK`: the cache lacks it, or describes it otherwise than the database.
    Cache(String),
    /// It does not prepare.
    Statement(String),
}

/// Where descriptions come from for one source.
pub(crate) struct Oracle {
    engine: &'static str,
    pub(crate) live: Option<Describer>,
    /// What statements are checked against, for messages (`its schemaFile `schema.sql``).
    pub(crate) label: String,
    /// SQLite: an existing database file also checked, for warnings (see
    /// [`crate::scripts::SqliteSchema`]).
    existing_file: Option<(Describer, String)>,
    pub(crate) warnings: Vec<String>,
    /// Why the server was not used, for messages.
    offline_reason: Option<String>,
    pub(crate) cache_dir: Option<PathBuf>,
    mode: Mode,
    /// Files whose descriptions were used instead of the database's.
    pub(crate) cache_files_read: Vec<PathBuf>,
    /// Files that hold (or, once prepared, will hold) a description of a statement.
    pub(crate) cache_files_used: Vec<PathBuf>,
    /// [`Mode::Auto`]: live descriptions the cache lacks or contradicts.
    pub(crate) out_of_date: usize,
    /// [`Mode::Prepare`]: the cache could not be written; reported once.
    pub(crate) cache_write_error: Option<String>,
    /// The source has read replicas: each statement is also classified read or write
    /// ([`crate::access`]), and the classification is part of its cached description.
    classify: bool,
}

impl Oracle {
    pub(crate) fn sqlite(schema: Option<crate::scripts::SqliteSchema>) -> Self {
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
            cache_files_used: Vec::new(),
            out_of_date: 0,
            cache_write_error: None,
            classify: false,
        }
    }

    pub(crate) fn for_server(
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
            cache_files_used: Vec::new(),
            out_of_date: 0,
            cache_write_error: None,
            classify: !server.replicas.is_empty(),
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
                match mode.needs_database() {
                    Some(variable) => diags.push(
                        Diagnostic::new(source.name.pos, format!("{reason} ({variable} needs the database)"))
                            .with_hint(format!(
                                "start the database, or build without {variable} to use the description cache"
                            )),
                    ),
                    None => warnings.push(format!("{reason}; using the description cache")),
                }
                oracle.offline_reason = Some(reason);
            }
        }
        oracle
    }

    /// Whether statements are classified read or write (the source has read replicas).
    pub(crate) fn classifies(&self) -> bool {
        self.classify
    }

    pub(crate) fn describe(&mut self, sql: &str, signature: &[Signature]) -> Result<Described, DescribeError> {
        let Some(dir) = self.cache_dir.clone() else {
            return self.describe_sqlite(sql, signature);
        };
        let key = cache::key(self.engine, signature);
        let key = key.as_deref();
        let classify = self.classify;
        let Some(live) = &mut self.live else {
            return match cache::read(&dir, self.engine, sql, key) {
                Some((file, described)) if classify && described.access.is_none() => {
                    Err(DescribeError::Unavailable(format!(
                        "{}, and its description in the cache (`{}`) says nothing of whether it only reads, which a source with `replicas` needs",
                        self.offline_reason.as_deref().unwrap_or("the database is not used"),
                        file.display()
                    )))
                }
                Some((file, mut described)) => {
                    self.cache_files_read.push(file.clone());
                    self.cache_files_used.push(file);
                    if !classify {
                        described.access = None;
                    }
                    Ok(described)
                }
                None => Err(DescribeError::Unavailable(format!(
                    "{} and the description cache (`{}`) has no entry for this statement",
                    self.offline_reason.as_deref().unwrap_or("the database is not used"),
                    dir.display()
                ))),
            };
        };
        let mut described = live.describe(sql, signature).map_err(DescribeError::Statement)?;
        if !described.problems.is_empty() {
            // Reported by the caller; a description that does not build is not cached.
            return Ok(described);
        }
        if classify {
            described.access = Some(live.classify(sql, described.parameters).map_err(DescribeError::Statement)?);
        }
        let mut cached = cache::read(&dir, self.engine, sql, key);
        self.cache_files_used.push(cache::file(&dir, self.engine, sql, key));
        // A source without replicas neither needs a classification nor drops one that a source
        // with replicas, running the same statement, keeps in the same file.
        let kept = match (&mut cached, classify) {
            (Some((_, cached)), false) => cached.access.take(),
            _ => None,
        };
        match (self.mode, cached) {
            (Mode::Prepare, _) => {
                let written = Described { access: kept.or_else(|| described.access.clone()), ..described.clone() };
                if let Err(e) = cache::write(&dir, self.engine, sql, key, &written) {
                    self.cache_write_error.get_or_insert(e.to_string());
                }
            }
            (_, Some((_, cached))) if cached == described => {}
            (Mode::Check, Some((file, _))) => {
                return Err(DescribeError::Cache(format!(
                    "no longer matches its description cached in `{}`",
                    file.display()
                )));
            }
            (Mode::Check, None) => {
                return Err(DescribeError::Cache(format!(
                    "has no entry in the description cache (`{}`)",
                    dir.display()
                )));
            }
            (_, _) => self.out_of_date += 1,
        }
        Ok(described)
    }

    /// A SQLite statement, against its schema and, for a warning, the existing database file.
    fn describe_sqlite(&mut self, sql: &str, signature: &[Signature]) -> Result<Described, DescribeError> {
        let described = match &mut self.live {
            Some(d) => d.describe(sql, signature),
            None => Err("no schema to check against".into()),
        };
        if let (Ok(_), Some((file, shown))) = (&described, &mut self.existing_file)
            && let Err(e) = file.describe(sql, signature)
        {
            self.warnings.push(format!(
                "the statement `{}` prepares against {} but not against the database file `{shown}`, which exists and is what the server will open: {e}. The schema script only creates a missing file: migrate the file, or delete it so the server re-creates it from the schema (and seed)",
                sql.split_whitespace().collect::<Vec<_>>().join(" "),
                self.label
            ));
        }
        described.map_err(DescribeError::Statement)
    }
}

/// The connection URL and timeout of a server source, with the build's environment. The URL is
/// made as the server makes it ([`toolbox_config::url::resolve_url`]); the first setting that
/// cannot be resolved is the reason given.
fn server_url(
    source: &Source,
    server: &ServerSource,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, std::time::Duration), String> {
    let resolve = |v: &Spanned<String>| {
        env::resolve(&v.value, env).map_err(|e| e.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "))
    };
    let url = toolbox_config::url::resolve_url(source.kind.type_name(), &server.url_fields(), resolve)
        .map_err(|mut errors| errors.swap_remove(0))?;
    let timeout = server
        .connect_timeout
        .as_ref()
        .map(resolve)
        .transpose()?
        .and_then(|t| toolbox_config::duration::parse(&t, true))
        .unwrap_or(std::time::Duration::from_secs(5))
        .min(std::time::Duration::from_secs(5));
    Ok((url, timeout))
}
