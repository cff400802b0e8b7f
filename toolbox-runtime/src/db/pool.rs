//! The connection pool of PostgreSQL and MySQL sources: a bounded set of sqlx connections, made
//! on demand. (SQLite has its own, simpler one: see [`crate::db::sqlite::SqlitePool`].)
//!
//! sqlx's own pool checks each connection with a round trip to the database when it is taken
//! and again, in a spawned task, when it is given back. For a one-row lookup that triples the
//! round trips and doubles the work of the database (bench/README.md has the figures). This pool
//! does neither on the hot path, and stays safe because sqlx drains what a connection still owes
//! (`wait_until_ready`) before it runs the next statement:
//!
//! - a lease that ends normally, or with a database error (a constraint, a statement timeout),
//!   puts its connection straight back;
//! - a lease dropped mid-statement (the tool's `queryTimeout`, a client gone) hands its
//!   connection to a task that cancels the statement on the server (PostgreSQL's
//!   `pg_cancel_backend`, MySQL's `KILL QUERY`, from a connection of its own) and waits for it to
//!   end, within [`DRAIN_LIMIT`], before the connection is used again; the slot stays taken
//!   meanwhile;
//! - a lease marked [`Lease::discard`] (client SQL, which may have changed its session) never
//!   goes back: its connection is closed however the lease ends (normally, on an error, when its
//!   call times out or is dropped, or when its task panics), its statement cancelled first if it
//!   was still running;
//! - a connection-level failure (I/O, TLS, protocol) closes the connection;
//! - a connection idle for [`PING_AFTER`] is checked before use (the server may have restarted
//!   while nobody was calling); one idle for [`IDLE_LIMIT`] is closed instead.

use futures_util::future::BoxFuture;
use sqlx::{ConnectOptions, Connection, Database};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long an idle connection is trusted without a check.
pub const PING_AFTER: Duration = Duration::from_secs(30);
/// Idle connections older than this are closed rather than reused.
pub const IDLE_LIMIT: Duration = Duration::from_secs(600);
/// How long an abandoned statement may take to finish before its connection is closed.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// How long cancelling an abandoned statement may take.
pub const CANCEL_LIMIT: Duration = Duration::from_secs(5);

/// Runs once on every new connection (session settings).
pub type Setup<DB> =
    Box<dyn for<'c> Fn(&'c mut <DB as Database>::Connection) -> BoxFuture<'c, Result<(), sqlx::Error>> + Send + Sync>;

/// How the server names a connection's session, and how another session cancels what it runs.
pub struct Cancel<DB: Database> {
    /// Asks a new connection for its session's id (`SELECT pg_backend_pid()`).
    pub identify: for<'c> fn(&'c mut <DB as Database>::Connection) -> BoxFuture<'c, Result<i64, sqlx::Error>>,
    /// Cancels, from another connection, the running statement of session `id` (`KILL QUERY 42`).
    pub cancel: for<'c> fn(&'c mut <DB as Database>::Connection, i64) -> BoxFuture<'c, Result<(), sqlx::Error>>,
}

/// How a pool connects and how many connections it may hold.
pub struct PoolSettings<DB: Database> {
    /// The source's name, for messages.
    pub source: &'static str,
    pub options: <DB::Connection as Connection>::Options,
    pub max_connections: u32,
    /// How many calls may wait for a connection; past it a call fails at once.
    pub max_waiting: usize,
    /// Bounds both the wait for a free slot and the making of a connection.
    pub acquire_timeout: Duration,
    pub setup: Option<Setup<DB>>,
    /// How an abandoned statement is cancelled on the server; without it, it runs to its end.
    pub cancel: Option<Cancel<DB>>,
}

pub struct Pool<DB: Database>(Arc<Shared<DB>>);

impl<DB: Database> Clone for Pool<DB> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

struct Shared<DB: Database> {
    settings: PoolSettings<DB>,
    idle: Mutex<Vec<Idle<DB>>>,
    slots: Arc<Semaphore>,
    closed: AtomicBool,
    /// Calls waiting for a slot.
    waiting: AtomicUsize,
    /// Cancels of abandoned statements under way; [`Pool::close`] waits for them.
    cancelling: AtomicUsize,
    cancelled: tokio::sync::Notify,
}

/// Why no connection was had.
#[derive(Debug)]
pub enum AcquireError {
    /// Too many calls already wait for the source's connections.
    Busy { source: &'static str, waiting: usize, connections: u32 },
    /// No connection became free in time.
    TimedOut { source: &'static str, after: Duration },
    /// The pool is closed (the server is stopping).
    Closed { source: &'static str },
    /// Connecting failed: the database is down, refuses the credentials, ...
    Unavailable { source: &'static str, error: sqlx::Error },
}

impl std::fmt::Display for AcquireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AcquireError::Busy { source, waiting, connections } => write!(
                f,
                "source `{source}` is busy: {waiting} calls already wait for its {connections} connections; try again shortly"
            ),
            AcquireError::TimedOut { source, after } => {
                write!(f, "source `{source}` had no free connection within {} s", after.as_secs_f64())
            }
            AcquireError::Closed { source } => write!(f, "source `{source}` is closed: the server is stopping"),
            AcquireError::Unavailable { source, error } => {
                let message = match error {
                    sqlx::Error::Database(db) => db.message().to_string(),
                    other => other.to_string(),
                };
                write!(f, "source `{source}` is unavailable: {message}")
            }
        }
    }
}

impl AcquireError {
    /// As sqlx's error, for code that tells a database that is down from a bad statement.
    pub fn into_sqlx(self) -> sqlx::Error {
        match self {
            AcquireError::Unavailable { error, .. } => error,
            AcquireError::Closed { .. } => sqlx::Error::PoolClosed,
            AcquireError::Busy { .. } | AcquireError::TimedOut { .. } => sqlx::Error::PoolTimedOut,
        }
    }
}

struct Idle<DB: Database> {
    connection: DB::Connection,
    /// The server's id of the connection's session, when the pool can cancel.
    session: Option<i64>,
    since: Instant,
}

impl<DB: Database> Pool<DB> {
    /// A pool that has not connected yet; the first lease connects.
    pub fn new(settings: PoolSettings<DB>) -> Self {
        let slots = Arc::new(Semaphore::new(settings.max_connections.max(1) as usize));
        Self(Arc::new(Shared {
            settings,
            idle: Mutex::new(Vec::new()),
            slots,
            closed: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            cancelling: AtomicUsize::new(0),
            cancelled: tokio::sync::Notify::new(),
        }))
    }

    /// The source's name.
    pub fn source(&self) -> &'static str {
        self.0.settings.source
    }

    /// The pool's connections and waiting calls.
    pub fn stats(&self) -> super::PoolStats {
        let shared = &self.0;
        let max = u64::from(shared.settings.max_connections.max(1));
        let idle = shared.idle.lock().map_or(0, |idle| idle.len() as u64);
        super::PoolStats {
            idle,
            used: max.saturating_sub(shared.slots.available_permits() as u64),
            max,
            waiting: shared.waiting.load(Ordering::Relaxed) as u64,
        }
    }

    /// A connection of the pool, idle or new. When every connection is in use the call waits,
    /// unless [`PoolSettings::max_waiting`] calls already do.
    pub async fn acquire(&self) -> Result<Lease<DB>, AcquireError> {
        let shared = &self.0;
        let source = shared.settings.source;
        if shared.closed.load(Ordering::Acquire) {
            return Err(AcquireError::Closed { source });
        }
        let slot = match shared.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(tokio::sync::TryAcquireError::Closed) => return Err(AcquireError::Closed { source }),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                let waiting = shared.waiting.fetch_add(1, Ordering::AcqRel);
                let _leave = Leave(&shared.waiting);
                if waiting >= shared.settings.max_waiting {
                    let connections = shared.settings.max_connections;
                    return Err(AcquireError::Busy { source, waiting, connections });
                }
                let after = shared.settings.acquire_timeout;
                match tokio::time::timeout(after, shared.slots.clone().acquire_owned()).await {
                    Ok(Ok(slot)) => slot,
                    Ok(Err(_)) => return Err(AcquireError::Closed { source }),
                    Err(_) => return Err(AcquireError::TimedOut { source, after }),
                }
            }
        };
        let (connection, session) = loop {
            let Some(idle) = self.take_idle() else {
                break self.connect().await.map_err(|error| AcquireError::Unavailable { source, error })?;
            };
            let age = idle.since.elapsed();
            if age >= IDLE_LIMIT {
                spawn_detached(idle.connection.close_hard());
                continue;
            }
            let mut connection = idle.connection;
            if age < PING_AFTER || connection.ping().await.is_ok() {
                break (connection, idle.session);
            }
        };
        Ok(Lease {
            connection: Some(connection),
            session,
            pool: self.clone(),
            slot: Some(slot),
            busy: false,
            discard: false,
        })
    }

    fn take_idle(&self) -> Option<Idle<DB>> {
        self.0.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn put_back(&self, connection: DB::Connection, session: Option<i64>) {
        if self.0.closed.load(Ordering::Acquire) {
            spawn_detached(connection.close());
            return;
        }
        self.0.idle.lock().unwrap_or_else(|e| e.into_inner()).push(Idle { connection, session, since: Instant::now() });
    }

    async fn connect(&self) -> Result<(DB::Connection, Option<i64>), sqlx::Error> {
        let settings = &self.0.settings;
        let connecting = async {
            let mut connection = settings.options.connect().await?;
            if let Some(setup) = &settings.setup {
                setup(&mut connection).await?;
            }
            let session = match &settings.cancel {
                Some(cancel) => (cancel.identify)(&mut connection).await.ok(),
                None => None,
            };
            Ok((connection, session))
        };
        tokio::time::timeout(settings.acquire_timeout, connecting).await.unwrap_or(Err(sqlx::Error::PoolTimedOut))
    }

    /// Cancels the running statement of session `id`, from a connection of its own (not one of
    /// the pool's slots: the pool may be full of the very statements to cancel). Best effort,
    /// within [`CANCEL_LIMIT`].
    async fn cancel(&self, session: i64) {
        let settings = &self.0.settings;
        let Some(cancel) = &settings.cancel else { return };
        let cancelling = async {
            let mut connection = settings.options.connect().await?;
            let result = (cancel.cancel)(&mut connection, session).await;
            let _ = connection.close().await;
            result
        };
        match tokio::time::timeout(CANCEL_LIMIT, cancelling).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("cancelling an abandoned statement failed: {e}"),
            Err(_) => tracing::warn!("cancelling an abandoned statement took longer than {CANCEL_LIMIT:?}"),
        }
    }

    /// Closes the idle connections, which a server known to have gone away (a read replica found
    /// unreachable) has broken: the next lease connects afresh instead of failing on one.
    pub fn close_idle(&self) {
        let idle = std::mem::take(&mut *self.0.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for idle in idle {
            spawn_detached(idle.connection.close_hard());
        }
    }

    /// A round trip on a connection of the pool (`/readyz`, the start-up check).
    pub async fn check(&self) -> Result<(), sqlx::Error> {
        let mut lease = self.acquire().await.map_err(AcquireError::into_sqlx)?;
        let result = lease.begin().ping().await;
        lease.end(result.as_ref().err());
        result
    }

    /// Refuses new leases, closes the idle connections and waits for the cancels of abandoned
    /// statements under way (each within [`CANCEL_LIMIT`]): at shutdown, the statements of the
    /// calls cut at the deadline must not outlive the process on the server. Leased connections
    /// close when given back.
    pub async fn close(&self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.slots.close();
        let idle = std::mem::take(&mut *self.0.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for idle in idle {
            let _ = idle.connection.close().await;
        }
        loop {
            let cancelled = self.0.cancelled.notified();
            tokio::pin!(cancelled);
            cancelled.as_mut().enable();
            if self.0.cancelling.load(Ordering::Acquire) == 0 {
                return;
            }
            cancelled.await;
        }
    }
}

/// A connection taken from the pool; it goes back when the lease is dropped.
///
/// Callers mark the span in which a statement is in flight with [`Lease::begin`] and
/// [`Lease::end`]; a lease dropped in between is drained before its connection is reused.
pub struct Lease<DB: Database> {
    connection: Option<DB::Connection>,
    session: Option<i64>,
    pool: Pool<DB>,
    slot: Option<OwnedSemaphorePermit>,
    busy: bool,
    discard: bool,
}

impl<DB: Database> Lease<DB> {
    /// A statement is about to be sent.
    pub fn begin(&mut self) -> &mut DB::Connection {
        self.busy = true;
        self.connection.as_mut().expect("a lease holds its connection until dropped")
    }

    /// The statement is over, with this outcome. A failure of the connection itself closes it.
    pub fn end(&mut self, error: Option<&sqlx::Error>) {
        self.busy = false;
        if error.is_some_and(is_connection_failure) {
            if let Some(connection) = self.connection.take() {
                spawn_detached(connection.close_hard());
            }
        }
    }

    /// The connection will be closed, not given back, however the lease ends (client SQL may
    /// change its session: `SET`, temporary tables, an open transaction).
    pub fn discard(&mut self) {
        self.discard = true;
    }

    /// Closes the connection instead of giving it back, waiting for the close.
    pub async fn close(mut self) {
        if let Some(connection) = self.connection.take() {
            let _ = connection.close().await;
        }
    }
}

impl<DB: Database> Deref for Lease<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        self.connection.as_ref().expect("a lease holds its connection until dropped")
    }
}

impl<DB: Database> DerefMut for Lease<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.connection.as_mut().expect("a lease holds its connection until dropped")
    }
}

impl<DB: Database> Drop for Lease<DB> {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else { return };
        let (session, discard) = (self.session, self.discard);
        if !self.busy {
            if discard {
                spawn_detached(connection.close());
            } else {
                self.pool.put_back(connection, session);
            }
            return;
        }
        // Dropped mid-statement: cancel the statement on the server, holding the slot; then close
        // a discarded connection, or wait for the statement to end (a ping answers after it) and
        // give the connection back, closing it if that takes too long.
        let pool = self.pool.clone();
        let slot = self.slot.take();
        let cancelling = session.filter(|_| pool.0.settings.cancel.is_some()).map(|session| {
            pool.0.cancelling.fetch_add(1, Ordering::AcqRel);
            Cancelling { pool: pool.clone(), session }
        });
        spawn_detached(async move {
            if let Some(cancelling) = cancelling {
                cancelling.run().await;
            }
            if discard {
                let _ = connection.close_hard().await;
            } else {
                match tokio::time::timeout(DRAIN_LIMIT, connection.ping()).await {
                    Ok(Ok(())) => pool.put_back(connection, session),
                    _ => {
                        let _ = connection.close_hard().await;
                    }
                }
            }
            drop(slot);
        });
    }
}

/// A cancel under way, counted until it ends (or is dropped with its task at exit).
struct Cancelling<DB: Database> {
    pool: Pool<DB>,
    session: i64,
}

impl<DB: Database> Cancelling<DB> {
    async fn run(self) {
        self.pool.cancel(self.session).await;
    }
}

impl<DB: Database> Drop for Cancelling<DB> {
    fn drop(&mut self) {
        self.pool.0.cancelling.fetch_sub(1, Ordering::AcqRel);
        self.pool.0.cancelled.notify_waiters();
    }
}

/// Leaves the count of waiting calls when dropped.
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Spawns work nobody waits for; outside a runtime (a lease dropped at exit) it is dropped, which
/// closes the socket.
fn spawn_detached<F: std::future::Future + Send + 'static>(work: F)
where
    F::Output: Send + 'static,
{
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(work);
    }
}

/// Failures after which the connection cannot be trusted; a database error (a constraint, a
/// cancelled statement) leaves it usable.
fn is_connection_failure(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_))
}

#[cfg(test)]
impl<DB: Database> Shared<DB>
where
    <DB::Connection as Connection>::Options: Clone,
{
    /// The settings of a pool, copied (cancel and setup left out), to make another in tests.
    fn settings_for_test(&self) -> PoolSettings<DB> {
        let s = &self.settings;
        PoolSettings {
            source: s.source,
            options: s.options.clone(),
            max_connections: s.max_connections,
            max_waiting: s.max_waiting,
            acquire_timeout: s.acquire_timeout,
            setup: None,
            cancel: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{Executor, Sqlite};

    fn pool(dir: &tempfile::TempDir, max_connections: u32) -> Pool<Sqlite> {
        let options = SqliteConnectOptions::new().filename(dir.path().join("pool.db")).create_if_missing(true);
        Pool::new(PoolSettings {
            source: "test",
            options,
            max_connections,
            max_waiting: 4,
            acquire_timeout: Duration::from_millis(300),
            setup: None,
            cancel: None,
        })
    }

    /// Whether the connection is the one that made the temporary table `marker`.
    async fn has_marker(lease: &mut Lease<Sqlite>) -> bool {
        let connection = lease.begin();
        let found = connection.fetch_optional("SELECT 1 FROM temp.sqlite_master WHERE name = 'marker'").await;
        lease.end(found.as_ref().err());
        found.unwrap().is_some()
    }

    #[tokio::test]
    async fn a_connection_given_back_is_reused_without_a_new_connect() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 1);
        let mut lease = pool.acquire().await.unwrap();
        lease.begin().execute("CREATE TEMP TABLE marker (x)").await.unwrap();
        lease.end(None);
        drop(lease);
        let mut again = pool.acquire().await.unwrap();
        assert!(has_marker(&mut again).await, "the same connection came back");
    }

    #[tokio::test]
    async fn the_pool_is_bounded_and_a_wait_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 2);
        let first = pool.acquire().await.unwrap();
        let _second = pool.acquire().await.unwrap();
        assert!(matches!(pool.acquire().await, Err(AcquireError::TimedOut { .. })));
        drop(first);
        assert!(pool.acquire().await.is_ok(), "a slot given back is taken by the next caller");
    }

    #[tokio::test]
    async fn a_lease_dropped_mid_statement_is_drained_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 1);
        let mut lease = pool.acquire().await.unwrap();
        lease.begin().execute("CREATE TEMP TABLE marker (x)").await.unwrap();
        // `begin` without `end`: as if the call were dropped by its timeout.
        let _ = lease.begin();
        drop(lease);
        let mut again = pool.acquire().await.expect("the slot is given back after the drain");
        assert!(has_marker(&mut again).await, "a drained connection is reused, not replaced");
    }

    #[tokio::test]
    async fn a_connection_failure_closes_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 1);
        let mut lease = pool.acquire().await.unwrap();
        lease.begin().execute("CREATE TEMP TABLE marker (x)").await.unwrap();
        lease.end(Some(&sqlx::Error::Protocol("the stream broke".into())));
        drop(lease);
        let mut again = pool.acquire().await.unwrap();
        assert!(!has_marker(&mut again).await, "a new connection replaced the failed one");
        // A database error (here a syntax error) leaves the connection in the pool.
        let failed = again.begin().execute("SELEC 1").await.unwrap_err();
        again.end(Some(&failed));
        again.begin().execute("CREATE TEMP TABLE marker (x)").await.unwrap();
        again.end(None);
        drop(again);
        assert!(has_marker(&mut pool.acquire().await.unwrap()).await);
    }

    #[tokio::test]
    async fn a_discarded_lease_never_goes_back_however_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 1);
        // Ended normally.
        let mut lease = pool.acquire().await.unwrap();
        lease.discard();
        lease.begin().execute("CREATE TEMP TABLE marker (x)").await.unwrap();
        lease.end(None);
        drop(lease);
        let mut again = pool.acquire().await.unwrap();
        assert!(!has_marker(&mut again).await, "a new connection, not the discarded one");
        drop(again);
        // Dropped mid-statement (a timeout, a client gone).
        let mut lease = pool.acquire().await.unwrap();
        lease.discard();
        lease.begin().execute("CREATE TEMP TABLE marker (x)").await.unwrap();
        let _ = lease.begin();
        drop(lease);
        let mut again = pool.acquire().await.expect("the slot is given back once the connection is closed");
        assert!(!has_marker(&mut again).await, "a new connection, not the discarded one");
    }

    /// A bounded number of calls wait for a connection; the next one fails at once, saying so.
    #[tokio::test]
    async fn past_the_waiting_bound_a_call_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool::new(PoolSettings {
            max_waiting: 1,
            acquire_timeout: Duration::from_secs(5),
            ..pool(&dir, 1).0.settings_for_test()
        });
        let held = pool.acquire().await.unwrap();
        let waiter = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.acquire().await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let refused = pool.acquire().await.err().expect("refused");
        assert!(started.elapsed() < Duration::from_millis(100), "at once, not after the timeout");
        assert_eq!(
            refused.to_string(),
            "source `test` is busy: 1 calls already wait for its 1 connections; try again shortly"
        );
        drop(held);
        assert!(waiter.await.unwrap(), "the waiting call got the connection");
    }

    #[tokio::test]
    async fn a_closed_pool_refuses_leases() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 1);
        drop(pool.acquire().await.unwrap());
        pool.close().await;
        assert!(matches!(pool.acquire().await, Err(AcquireError::Closed { .. })));
    }
}
