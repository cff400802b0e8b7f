//! A PostgreSQL source's read replicas: a pool per replica, round-robin over the healthy ones,
//! and the calls that run there.
//!
//! Only the statements the build classified as reads come here (`run_read`, and
//! `execute_sql_read` for a `readOnly` client-SQL tool); everything else calls the primary's pool
//! as before, so a source without replicas pays nothing. Which replicas are healthy is decided by
//! the background check in [`super::lag`], never on a call. A call that finds no healthy replica,
//! or whose replica cannot serve it (unreachable, the connection lost, a read that meets a write
//! after all, a recovery conflict), runs on the primary: nothing was answered from the replica,
//! and a read may run again.

use super::lag;
use super::{Query, encode};
use crate::call::{Failure, ToolOutput};
use crate::db::def::{ReplicasDef, ServerSourceDef};
use crate::db::encode::ColumnDef;
use crate::db::pool::Pool;
use crate::db::server::ReplicaSet;
use crate::db::{BoxFuture, Source, execute};
use crate::setting::StartupError;
use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgQueryResult};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One replica: its pool, its connection settings (for the check) and whether it serves reads.
pub(super) struct Member {
    /// `replica 2 of source `pg``, for logs; never its host or credentials.
    pub(super) label: String,
    pub(super) pool: Pool<Postgres>,
    pub(super) options: PgConnectOptions,
    pub(super) healthy: AtomicBool,
}

/// What the call path and the check share.
pub(super) struct Shared {
    pub(super) members: Vec<Member>,
    pub(super) primary: PgConnectOptions,
    pub(super) max_lag: Duration,
    pub(super) source: &'static str,
}

/// A source's replicas.
pub struct Replicas {
    shared: Arc<Shared>,
    next: AtomicUsize,
    started: AtomicBool,
    checker: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Replicas {
    /// Resolves each replica's settings (the source's, where it gives none) into a pool, without
    /// connecting. Every replica starts out skipped until the first check finds it caught up.
    pub fn open(
        config_path: &str,
        name: &'static str,
        source: &ServerSourceDef,
        def: &ReplicasDef,
        primary: PgConnectOptions,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StartupError> {
        let mut members = Vec::with_capacity(def.replicas.len());
        let mut errors = Vec::new();
        for (i, r) in def.replicas.iter().enumerate() {
            let settings = ServerSourceDef {
                host: r.host,
                port: r.port.unwrap_or(source.port),
                user: r.user.or(source.user),
                password: r.password.or(source.password),
                database: r.database.or(source.database),
                statements: &[],
                replicas: None,
                ..*source
            };
            // The pool's name is what its errors and spans name.
            let pool_name: &'static str = Box::leak(format!("{name} (replica {})", i + 1).into_boxed_str());
            match super::source::make_pool(config_path, pool_name, &settings, lookup) {
                Ok((pool, options)) => members.push(Member {
                    label: format!("replica {} of source `{name}`", i + 1),
                    pool,
                    options,
                    healthy: AtomicBool::new(false),
                }),
                Err(e) => errors.push(e.0),
            }
        }
        let max_lag = match def.max_lag {
            Some(setting) => {
                let text = crate::setting::resolve_setting(config_path, &format!("source `{name}`"), &setting, lookup)
                    .map_err(|e| errors.push(e.0))
                    .unwrap_or_default();
                toolbox_config::duration::parse(&text, false).unwrap_or_else(|| {
                    if !text.is_empty() {
                        errors.push(format!(
                            "{config_path}:{}:{}: source `{name}`: `maxReplicaLag` `{text}` is not a duration",
                            setting.line, setting.col
                        ));
                    }
                    Duration::ZERO
                })
            }
            None => toolbox_config::duration::parse(toolbox_config::model::DEFAULT_MAX_REPLICA_LAG, false)
                .unwrap_or(Duration::from_secs(5)),
        };
        if !errors.is_empty() {
            return Err(StartupError(errors.join("\n")));
        }
        Ok(Self {
            shared: Arc::new(Shared { members, primary, max_lag, source: name }),
            next: AtomicUsize::new(0),
            started: AtomicBool::new(false),
            checker: Mutex::new(None),
        })
    }

    /// The next healthy replica, round-robin; `None` when none is.
    fn pick(&self) -> Option<&Member> {
        if !self.started.load(Ordering::Relaxed) {
            self.start();
        }
        let members = &self.shared.members;
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        (0..members.len()).map(|i| &members[(first + i) % members.len()]).find(|m| m.healthy.load(Ordering::Relaxed))
    }

    /// A replica that could not serve a call is skipped until the check finds it well again.
    fn skip(&self, member: &Member, why: &str) {
        member.pool.close_idle();
        if member.healthy.swap(false, Ordering::Relaxed) {
            tracing::warn!(source = self.shared.source, "{} skipped: {why}; reads go elsewhere", member.label);
        }
    }
}

impl ReplicaSet for Replicas {
    fn start(&self) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.started.store(false, Ordering::Release);
            return;
        };
        let task = runtime.spawn(lag::watch(self.shared.clone()));
        *self.checker.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {
            if let Some(task) = self.checker.lock().unwrap_or_else(|e| e.into_inner()).take() {
                task.abort();
            }
            for member in &self.shared.members {
                member.pool.close().await;
            }
        })
    }
}

/// The replicas of a PostgreSQL source, if it has any.
fn replicas_of(source: &Source) -> Option<&Replicas> {
    let set: &dyn std::any::Any = source.engine::<super::PostgresSource>().ok()?.replicas()?;
    set.downcast_ref::<Replicas>()
}

/// Errors after which the primary runs the read instead: the replica's connection is gone
/// (class 08, `57P01` ...), it refused a write the build did not see (`25006`, a function marked
/// stable that writes), or recovery cancelled the statement (`40001`). Each leaves nothing done.
fn hand_back(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "25006" | "40001")
        }),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        _ => false,
    }
}

/// Whether an unavailable replica is gone (it cannot be connected to, or its connection broke),
/// rather than busy: the wording of [`crate::db::pool::AcquireError`] and
/// [`execute::database_error`].
fn lost(why: &str) -> bool {
    why.contains("is unavailable")
}

/// Runs a compiled read on a healthy replica, else (or when the replica cannot serve it) on
/// `primary`, the source's pool.
pub async fn run_read(
    source: &Source,
    primary: &Pool<Postgres>,
    query: Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    let Some((replicas, member)) = replicas_of(source).and_then(|r| Some((r, r.pick()?))) else {
        return super::run(primary, query, columns, max_rows).await;
    };
    let Some(again) = query.try_clone() else {
        // Binding failed: the primary gives the same answer without a replica.
        return super::run(primary, query, columns, max_rows).await;
    };
    let affected = PgQueryResult::rows_affected;
    let tried =
        execute::attempt(&member.pool, "postgresql", query, columns, max_rows, encode, affected, Some(hand_back));
    match tried.await {
        Ok(output) => output,
        Err(output) => {
            if let ToolOutput::Error(Failure::Unavailable, why) = &output
                && lost(why)
            {
                replicas.skip(member, why);
            }
            super::run(primary, again, columns, max_rows).await
        }
    }
}

/// Runs client SQL of a `readOnly` tool on a healthy replica (in a read-only transaction, as on
/// the primary), else on `primary`; a replica that cannot be reached hands the call to the
/// primary.
pub async fn execute_sql_read(
    source: &Source,
    primary: &Pool<Postgres>,
    sql: String,
    max_rows: Option<u64>,
) -> ToolOutput {
    let Some((replicas, member)) = replicas_of(source).and_then(|r| Some((r, r.pick()?))) else {
        return super::execute_sql(primary, sql, max_rows, true).await;
    };
    match super::execute_sql(&member.pool, sql.clone(), max_rows, true).await {
        ToolOutput::Error(Failure::Unavailable, why) => {
            if lost(&why) {
                replicas.skip(member, &why);
            }
            super::execute_sql(primary, sql, max_rows, true).await
        }
        output => output,
    }
}
