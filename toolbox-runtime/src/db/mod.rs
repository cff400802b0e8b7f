//! The databases: every source of the toolbox, the engines that serve them, and running
//! statements and encoding their rows.
//!
//! - [`def`]: the static description generated code fills in (sources, compiled statements);
//! - [`Sources`]: start-up resolution of each source's `${VAR}` settings, the start-up
//!   comparison with the live schema, health and closing, over the [`Engine`] each source has;
//! - [`http`]: HTTP APIs, a source that is not SQL (a request per call, no pool);
//! - one module per engine ([`sqlite`], [`postgres`], [`mysql`]): its source (settings to a
//!   pool), its values, and `run`/`execute_sql` for generated handlers; [`server`] is what the
//!   two server engines share, [`pool`] their connection pool, [`execute`] their statement loop;
//! - [`encode`]: the JSON rows buffer every engine writes into.
//!
//! A new engine is a module here with a source type that implements [`Engine`], one arm in
//! [`open`], and its arm in the generator (`toolbox-codegen/src/emit.rs`). A source that is not
//! SQL is added the same way: its `compare` checks what it can without statements, and its
//! [`def::SourceKindDef`] variant has no compiled statements.
//!
//! A source that cannot be opened does not stop the server: its tools answer an `isError`
//! result naming the source, and the next call tries again.

pub mod def;
pub mod encode;
pub mod execute;
pub mod explain;
pub mod http;
pub mod mysql;
pub mod pool;
pub mod postgres;
pub mod redis;
pub mod server;
pub mod sqlite;

use crate::setting::StartupError;
use def::{SourceDef, SourceKindDef};
use std::any::Any;

/// A boxed future, as the [`Engine`] methods return.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What every engine's source does for the server as a whole. Running statements is not here:
/// generated handlers call their engine's module directly, with its own typed pool.
pub trait Engine: Any + Send + Sync {
    /// The engine's name, as [`Sources::health`] reports it.
    fn kind(&self) -> &'static str;
    /// Opens the source and prepares each of its compiled statements, pushing to `drift` what
    /// differs from the build's description; an error means the database cannot be reached. A
    /// source without statements only checks that it can be reached.
    fn compare<'a>(&'a self, drift: &'a mut Vec<String>) -> BoxFuture<'a, Result<(), String>>;
    /// One round trip to the database (`/readyz`, [`Sources::health`]).
    fn ping(&self) -> BoxFuture<'_, Result<(), String>>;
    /// Refuses new work, closes idle connections and stops what still runs.
    fn close(&self) -> BoxFuture<'_, ()>;
    /// The pool's connections and waiting calls, for the metrics; `None` before it opens.
    fn stats(&self) -> Option<PoolStats>;
}

/// A pool's state at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections waiting for a call.
    pub idle: u64,
    /// Connections a call holds.
    pub used: u64,
    /// The most connections the pool opens.
    pub max: u64,
    /// Calls waiting for a connection.
    pub waiting: u64,
}

/// Makes a source's engine from its definition, resolving its settings; nothing connects yet.
fn open(
    config_path: &str,
    config_dir: &str,
    def: &'static SourceDef,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn Engine>, StartupError> {
    Ok(match &def.kind {
        SourceKindDef::Sqlite(d) => Box::new(sqlite::SqliteSource::open(config_path, config_dir, def.name, d, lookup)?),
        SourceKindDef::Postgres(d) => Box::new(postgres::PostgresSource::open(config_path, def.name, d, lookup)?),
        SourceKindDef::Mysql(d) => Box::new(mysql::MysqlSource::open(config_path, def.name, d, lookup)?),
        SourceKindDef::Http(d) => Box::new(http::HttpSource::open(config_path, def.name, d, lookup)?),
        SourceKindDef::Redis(d) => Box::new(redis::RedisSource::open(config_path, config_dir, def.name, d, lookup)?),
    })
}

/// What the start-up comparison found.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Statements whose columns differ from the build's description, or that no longer prepare.
    pub drift: Vec<String>,
    /// Sources that could not be reached, with the reason (never a credential).
    pub unavailable: Vec<String>,
}

impl Comparison {
    /// Whether every source answered and every statement matched.
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty() && self.unavailable.is_empty()
    }
}

/// Every source of the toolbox, by index.
pub struct Sources {
    entries: Vec<Source>,
}

/// One source: its definition and its engine.
pub struct Source {
    pub def: &'static SourceDef,
    engine: Box<dyn Engine>,
}

impl Source {
    /// The source's engine as the type `E` generated code expects; a source of another engine
    /// (which the build rules out) is an error naming it.
    pub fn engine<E: Engine>(&self) -> Result<&E, String> {
        let engine: &dyn Any = self.engine.as_ref();
        engine.downcast_ref::<E>().ok_or_else(|| {
            format!(
                "source `{}` is a {} source, not the engine this tool was built for",
                self.def.name,
                self.engine.kind()
            )
        })
    }
}

/// A source's state, as [`Sources::health`] reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceHealth {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Sources {
    /// Resolves the settings of every source of `config_path` with `lookup` (the process
    /// environment, in the server: see [`crate::Toolbox::resolve_sources`]), relative SQLite
    /// paths against `config_dir`. Nothing is opened yet; see [`Sources::connect_all`].
    pub fn resolve(
        config_path: &str,
        config_dir: &str,
        sources: &'static [SourceDef],
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let mut entries = Vec::with_capacity(sources.len());
        let mut errors = Vec::new();
        for def in sources {
            match open(config_path, config_dir, def, lookup) {
                Ok(engine) => entries.push(Source { def, engine }),
                Err(e) => errors.push(e.0),
            }
        }
        if errors.is_empty() { Ok(Self { entries }) } else { Err(StartupError(errors.join("\n"))) }
    }

    /// Opens every source once and prepares each of its compiled statements, comparing the
    /// result columns with what the build described. Failures are logged and returned; the
    /// server decides whether to start anyway (it does, unless `--strict-schema`).
    pub async fn connect_all(&self) -> Comparison {
        let mut comparison = Comparison::default();
        for entry in &self.entries {
            match entry.engine.compare(&mut comparison.drift).await {
                Ok(()) => tracing::info!(source = entry.def.name, "source ready"),
                Err(e) => {
                    tracing::warn!(source = entry.def.name, "source unavailable, will retry on use: {e}");
                    comparison.unavailable.push(format!("source `{}`: {e}", entry.def.name));
                }
            }
        }
        comparison
    }

    pub fn get(&self, index: usize) -> &Source {
        &self.entries[index]
    }

    pub async fn health(&self) -> Vec<SourceHealth> {
        let mut out = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            let (up, error) = match entry.engine.ping().await {
                Ok(()) => (true, None),
                Err(e) => (false, Some(e)),
            };
            out.push(SourceHealth { name: entry.def.name, kind: entry.engine.kind(), up, error });
        }
        out
    }

    /// Each source's pool state, by source name (sources whose pool has not opened are left out).
    pub fn stats(&self) -> Vec<(&'static str, PoolStats)> {
        self.entries.iter().filter_map(|e| Some((e.def.name, e.engine.stats()?))).collect()
    }

    /// Whether the named sources answer a round trip; those that do not, by name.
    pub async fn unreachable(&self, names: &[String]) -> Vec<&'static str> {
        let mut down = Vec::new();
        for entry in self.entries.iter().filter(|e| names.iter().any(|n| n == e.def.name)) {
            if entry.engine.ping().await.is_err() {
                down.push(entry.def.name);
            }
        }
        down
    }

    /// The names of every source.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|e| e.def.name)
    }

    pub async fn close(&self) {
        for entry in &self.entries {
            entry.engine.close().await;
        }
    }
}
