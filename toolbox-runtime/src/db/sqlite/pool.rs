//! SQLite's connection pool: a bounded set of rusqlite connections, made on demand, and the
//! blocking pool's part in running statements (slots held until the thread is done, interrupts
//! when a caller goes away or the pool closes).

use rusqlite::{Connection, InterruptHandle};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What a new connection is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenFor {
    /// A connection of the pool: compiled statements.
    Pool,
    /// A connection of its own for one call of client SQL, closed afterwards; `read_only` opens
    /// the file read-only.
    ClientSql { read_only: bool },
}

/// Makes a new connection.
pub type Open = Box<dyn Fn(OpenFor) -> rusqlite::Result<Connection> + Send + Sync>;

/// How long a statement waits for another connection's lock, on the blocking pool.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a compiled statement may run on the calling thread before it is stopped and run again
/// on the blocking pool. A lookup takes microseconds; this bounds how long a worker thread (which
/// also serves `/readyz` and other sources' calls) can be held by one SQLite statement.
pub const INLINE_BUDGET: Duration = Duration::from_millis(2);

/// A bounded set of connections to one database. Connections are made on demand and never
/// closed while the pool lives (an in-memory database lives in its one connection).
///
/// Compiled statements first run on the calling thread without waiting for any lock and for at
/// most [`INLINE_BUDGET`]; one that meets a lock or runs longer is stopped (SQLite rolls it back)
/// and run again on the blocking pool, where it may wait [`BUSY_TIMEOUT`] for the lock. Work on
/// the blocking pool keeps its slot until its thread is done, is interrupted when its caller
/// goes away (a timeout, a client gone) and when the pool closes (shutdown).
pub struct SqlitePool(Arc<Inner>);

struct Inner {
    /// The source's name, for messages.
    source: &'static str,
    idle: Mutex<Vec<Connection>>,
    slots: Arc<Semaphore>,
    max_connections: usize,
    /// Calls waiting for a slot, and how many may.
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
    open: Open,
    /// Statements running on the blocking pool, to interrupt at shutdown.
    running: Mutex<Vec<Weak<Running>>>,
    in_memory: bool,
}

/// A statement running on the blocking pool: its interrupt handle while it runs.
struct Running(Mutex<Option<InterruptHandle>>);

impl Running {
    fn interrupt(&self) {
        if let Some(handle) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            handle.interrupt();
        }
    }

    /// The statement is over: no interrupt may reach the connection any more.
    fn finish(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// Interrupts the statement when the call that waits for it is dropped.
struct InterruptOnDrop(Arc<Running>);

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        self.0.interrupt();
    }
}

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl SqlitePool {
    /// `in_memory`: the database lives in its one connection, which client SQL shares.
    /// `max_waiting` calls may wait for a connection; past it a call fails at once.
    pub fn new(source: &'static str, max_connections: usize, max_waiting: usize, in_memory: bool, open: Open) -> Self {
        Self(Arc::new(Inner {
            source,
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
            max_connections: max_connections.max(1),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            max_waiting,
            open,
            running: Mutex::new(Vec::new()),
            in_memory,
        }))
    }

    /// Runs `work` on a connection of the pool, on this thread.
    pub async fn with_connection<R>(&self, work: impl FnOnce(&mut Connection) -> R) -> Result<R, String> {
        let _slot = self.0.slot().await?;
        let mut connection = self.0.take()?;
        let result = work(&mut connection);
        self.0.give_back(connection);
        Ok(result)
    }

    /// Runs `work` on a connection of the pool, on the blocking pool: for work that may wait.
    pub async fn with_connection_blocking<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, String> {
        self.blocking(None, work).await
    }

    /// Runs `work` on a connection of its own (closed afterwards), on the blocking pool: for
    /// client SQL, which may change its session. An in-memory database has only its one
    /// connection, which is lent instead.
    pub async fn with_own_connection<R: Send + 'static>(
        &self,
        read_only: bool,
        work: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, String> {
        self.blocking(Some(OpenFor::ClientSql { read_only }), work).await
    }

    async fn blocking<R: Send + 'static>(
        &self,
        own: Option<OpenFor>,
        work: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, String> {
        let slot = self.0.slot().await?;
        let inner = self.0.clone();
        let running = Arc::new(Running(Mutex::new(None)));
        self.0.running.lock().unwrap_or_else(|e| e.into_inner()).push(Arc::downgrade(&running));
        let _interrupt = InterruptOnDrop(running.clone());
        let task = tokio::task::spawn_blocking(move || {
            // The slot is held until this thread is done, whatever happens to the caller.
            let _slot = slot;
            let (mut connection, own) = match own.filter(|_| !inner.in_memory) {
                Some(purpose) => {
                    let opened = (inner.open)(purpose);
                    (opened.map_err(|e| format!("source `{}` is unavailable: {e}", inner.source))?, true)
                }
                None => (inner.take()?, false),
            };
            *running.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(connection.get_interrupt_handle());
            let result = work(&mut connection);
            running.finish();
            if !own {
                inner.give_back(connection);
            }
            inner.forget_finished();
            Ok(result)
        });
        task.await.map_err(|e| format!("the statement's thread failed: {e}"))?
    }

    /// A round trip to the database (`/readyz`, the start-up check), on the blocking pool: it
    /// may open the first connection, which reads the file and can wait on its locks.
    pub async fn check(&self) -> Result<(), String> {
        self.with_connection_blocking(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await?.map_err(|e| e.to_string())
    }

    /// The source's name.
    pub fn source(&self) -> &'static str {
        self.0.source
    }

    /// The pool's connections and waiting calls.
    pub fn stats(&self) -> crate::db::PoolStats {
        let inner = &self.0;
        let max = inner.max_connections.max(1) as u64;
        crate::db::PoolStats {
            idle: inner.idle.lock().map_or(0, |idle| idle.len() as u64),
            used: max.saturating_sub(inner.slots.available_permits() as u64),
            max,
            waiting: inner.waiting.load(std::sync::atomic::Ordering::Relaxed) as u64,
        }
    }

    /// Refuses new work, interrupts what runs on the blocking pool and closes the idle
    /// connections.
    pub fn close(&self) {
        self.0.slots.close();
        for running in self.0.running.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            if let Some(running) = running.upgrade() {
                running.interrupt();
            }
        }
        self.0.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Inner {
    async fn slot(&self) -> Result<OwnedSemaphorePermit, String> {
        use std::sync::atomic::Ordering;
        let source = self.source;
        match self.slots.clone().try_acquire_owned() {
            Ok(slot) => return Ok(slot),
            Err(tokio::sync::TryAcquireError::Closed) => {
                return Err(format!("source `{source}` is closed: the server is stopping"));
            }
            Err(tokio::sync::TryAcquireError::NoPermits) => {}
        }
        let waiting = self.waiting.fetch_add(1, Ordering::AcqRel);
        let result = if waiting >= self.max_waiting {
            Err(format!(
                "source `{source}` is busy: {waiting} calls already wait for its {} connections; try again shortly",
                self.max_connections
            ))
        } else {
            match tokio::time::timeout(ACQUIRE_TIMEOUT, self.slots.clone().acquire_owned()).await {
                Ok(Ok(slot)) => Ok(slot),
                Ok(Err(_)) => Err(format!("source `{source}` is closed: the server is stopping")),
                Err(_) => {
                    Err(format!("source `{source}` had no free connection within {} s", ACQUIRE_TIMEOUT.as_secs()))
                }
            }
        };
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        result
    }

    fn take(&self) -> Result<Connection, String> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(connection) => Ok(connection),
            None => (self.open)(OpenFor::Pool).map_err(|e| format!("source `{}` is unavailable: {e}", self.source)),
        }
    }

    fn give_back(&self, connection: Connection) {
        if !self.slots.is_closed() {
            self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(connection);
        }
    }

    fn forget_finished(&self) {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).retain(|r| r.strong_count() > 0);
    }
}
