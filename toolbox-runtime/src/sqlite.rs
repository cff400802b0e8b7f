//! SQLite execution: statements run with rusqlite on the calling thread, on a connection of the
//! source's [`SqlitePool`], and rows are encoded straight into a JSON buffer, column by column.
//!
//! Compiled statements (lookups the build described, usually microseconds of work) run inline:
//! handing them to another thread cost more than running them (bench/README.md). A tool's
//! `queryTimeout` interrupts the statement itself through SQLite's progress handler. Client SQL
//! (`sqlite-execute-sql`) can be anything, so it runs on the blocking pool instead.

use crate::call::{Deadline, ToolOutput, timeout_message};
use crate::encode::*;
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Param::Null => ValueRef::Null,
            Param::Integer(v) => ValueRef::Integer(*v),
            Param::Real(v) => ValueRef::Real(*v),
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// The argument types generated handlers bind.
pub trait Bind {
    fn into_param(self) -> Param;
}

impl Bind for i64 {
    fn into_param(self) -> Param {
        Param::Integer(self)
    }
}

impl Bind for f64 {
    fn into_param(self) -> Param {
        Param::Real(self)
    }
}

impl Bind for bool {
    fn into_param(self) -> Param {
        Param::Integer(self.into())
    }
}

impl Bind for String {
    fn into_param(self) -> Param {
        Param::Text(self)
    }
}

impl<T: Bind> Bind for Option<T> {
    fn into_param(self) -> Param {
        self.map_or(Param::Null, Bind::into_param)
    }
}

/// A compiled statement and its arguments, in placeholder order.
#[derive(Debug)]
pub struct Query {
    statement: &'static str,
    params: Vec<Param>,
}

impl Query {
    pub fn bind(mut self, value: impl Bind) -> Self {
        self.params.push(value.into_param());
        self
    }
}

/// Starts a query for a statement compiled into the binary.
pub fn query(statement: &'static str) -> Query {
    Query { statement, params: Vec::new() }
}

/// Makes a new connection of a pool.
pub type Open = Box<dyn Fn() -> rusqlite::Result<Connection> + Send + Sync>;

/// A bounded set of connections to one database. Connections are made on demand and never
/// closed while the pool lives (an in-memory database lives in its one connection).
pub struct SqlitePool {
    idle: Mutex<Vec<Connection>>,
    slots: Semaphore,
    open: Open,
}

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl SqlitePool {
    pub fn new(max_connections: usize, open: Open) -> Self {
        Self { idle: Mutex::new(Vec::new()), slots: Semaphore::new(max_connections.max(1)), open }
    }

    /// Runs `work` on a connection, on this thread.
    pub async fn with_connection<R>(&self, work: impl FnOnce(&mut Connection) -> R) -> Result<R, String> {
        let _slot = self.slot().await?;
        let mut connection = self.take()?;
        let result = work(&mut connection);
        self.give_back(connection);
        Ok(result)
    }

    /// Runs `work` on a connection, on the blocking pool: for SQL of unknown cost.
    pub async fn with_connection_blocking<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, String> {
        let _slot = self.slot().await?;
        let mut connection = self.take()?;
        let (connection, result) = tokio::task::spawn_blocking(move || {
            let result = work(&mut connection);
            (connection, result)
        })
        .await
        .map_err(|e| format!("the statement's thread failed: {e}"))?;
        self.give_back(connection);
        Ok(result)
    }

    /// A round trip to the database (`/healthz`, the start-up check), on the blocking pool: it
    /// may open the first connection, which reads the file and can wait on its locks.
    pub async fn check(&self) -> Result<(), String> {
        self.with_connection_blocking(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await?.map_err(|e| e.to_string())
    }

    /// Closes the idle connections.
    pub fn close(&self) {
        self.slots.close();
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, String> {
        match tokio::time::timeout(ACQUIRE_TIMEOUT, self.slots.acquire()).await {
            Ok(Ok(slot)) => Ok(slot),
            Ok(Err(_)) => Err("the source is closed".to_string()),
            Err(_) => Err(format!("no connection became free within {} s", ACQUIRE_TIMEOUT.as_secs())),
        }
    }

    fn take(&self) -> Result<Connection, String> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(connection) => Ok(connection),
            None => (self.open)().map_err(|e| e.to_string()),
        }
    }

    fn give_back(&self, connection: Connection) {
        if !self.slots.is_closed() {
            self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(connection);
        }
    }
}

/// Runs a compiled statement: rows when the build described result columns, else the count of
/// affected rows.
pub async fn run(
    pool: &SqlitePool,
    query: Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    let deadline = crate::call::deadline();
    let outcome = pool.with_connection(|connection| {
        let _interrupt = deadline.map(|d| Interrupt::at(connection, d.at));
        run_statement(connection, &query, columns, max_rows)
    });
    output(outcome.await, deadline)
}

/// The answer to a statement's outcome: its rows or count, the tool's timeout message when the
/// progress handler stopped it at the deadline, else SQLite's own message.
fn output(outcome: Result<rusqlite::Result<ToolOutput>, String>, deadline: Option<Deadline>) -> ToolOutput {
    match outcome {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => match deadline {
            Some(d) if is_interrupt(&e) => ToolOutput::Error(timeout_message(d.ms)),
            _ => database_error(&e),
        },
        Err(e) => ToolOutput::Error(format!("database error: {e}")),
    }
}

fn run_statement(
    connection: &Connection,
    query: &Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> rusqlite::Result<ToolOutput> {
    let mut statement = connection.prepare_cached(query.statement)?;
    for (i, param) in query.params.iter().enumerate() {
        statement.raw_bind_parameter(i + 1, param)?;
    }
    let Some(columns) = columns else {
        statement.raw_execute()?;
        return Ok(ToolOutput::Affected { rows_affected: connection.changes() });
    };
    let mut w = RowsWriter::new(max_rows);
    let mut rows = statement.raw_query();
    while let Some(row) = rows.next()? {
        if !w.begin_row() {
            break;
        }
        for (i, column) in columns.iter().enumerate() {
            w.column(i, column.key);
            encode_value(&mut w.out, row.get_ref(i)?, column.kind);
        }
        w.end_row();
    }
    Ok(w.finish())
}

/// Runs SQL text sent by the client (the `sqlite-execute-sql` tools), every statement of it, on
/// the blocking pool. Rows are encoded by their stored values; a script without rows answers the
/// number of affected rows.
///
/// With `read_only`, SQLite itself refuses any change to the database (`PRAGMA query_only`). A
/// transaction the script leaves open is rolled back, so it cannot hold the write lock or leak
/// into the next call on the connection.
pub async fn execute_sql(pool: &SqlitePool, sql: String, max_rows: Option<u64>, read_only: bool) -> ToolOutput {
    let deadline = crate::call::deadline();
    let outcome = pool
        .with_connection_blocking(move |connection| {
            if read_only {
                connection.pragma_update(None, "query_only", true)?;
            }
            let result = {
                // Only the script is interrupted at the deadline, never the clean-up below.
                let _interrupt = deadline.map(|d| Interrupt::at(connection, d.at));
                run_script(connection, &sql, max_rows)
            };
            if !connection.is_autocommit() {
                let _ = connection.execute_batch("ROLLBACK");
            }
            if read_only {
                connection.pragma_update(None, "query_only", false)?;
            }
            result
        })
        .await;
    output(outcome, deadline)
}

fn run_script(connection: &Connection, sql: &str, max_rows: Option<u64>) -> rusqlite::Result<ToolOutput> {
    let mut w = RowsWriter::new(max_rows);
    let mut any_rows = false;
    let mut affected = 0;
    let mut batch = rusqlite::Batch::new(connection, sql);
    while let Some(mut statement) = batch.next()? {
        if statement.column_count() == 0 {
            statement.raw_execute()?;
            affected += connection.changes();
            continue;
        }
        let names: Vec<String> = statement.column_names().into_iter().map(str::to_string).collect();
        // A column declared BOOLEAN answers its integers as booleans, as a compiled statement's.
        let kinds: Vec<ColumnKind> = statement.columns().iter().map(|c| declared_kind(c.decl_type())).collect();
        let mut rows = statement.raw_query();
        while let Some(row) = rows.next()? {
            any_rows = true;
            if w.is_truncated() || !w.begin_row() {
                continue;
            }
            for (i, name) in names.iter().enumerate() {
                write_key(&mut w.out, i, name);
                encode_value(&mut w.out, row.get_ref(i)?, kinds[i]);
            }
            w.end_row();
        }
    }
    if !any_rows && affected > 0 {
        return Ok(ToolOutput::Affected { rows_affected: affected });
    }
    Ok(w.finish())
}

/// The kind client SQL encodes a column by: BOOLEAN (or BOOL) as the build reads a declared type,
/// else by the stored value.
fn declared_kind(declared: Option<&str>) -> ColumnKind {
    match declared {
        Some(d) if d.eq_ignore_ascii_case("boolean") || d.eq_ignore_ascii_case("bool") => ColumnKind::Boolean,
        _ => ColumnKind::Any,
    }
}

/// SQLite is dynamically typed, so the stored value's class decides between number, text and
/// blob; the described type adds what the class lacks (a `BOOLEAN` column's 0/1 is false/true).
fn encode_value(out: &mut Vec<u8>, value: ValueRef<'_>, kind: ColumnKind) {
    match value {
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::Integer(v) if kind == ColumnKind::Boolean => write_bool(out, v != 0),
        ValueRef::Integer(v) => write_i64(out, v),
        ValueRef::Real(v) => write_f64(out, v),
        ValueRef::Text(bytes) => write_json_string(out, &String::from_utf8_lossy(bytes)),
        ValueRef::Blob(bytes) => write_base64(out, bytes),
    }
}

/// Interrupts the connection's statements once `deadline` passes, until dropped.
struct Interrupt<'c>(&'c Connection);

impl<'c> Interrupt<'c> {
    fn at(connection: &'c Connection, deadline: Instant) -> Self {
        // Checked every 1,000 virtual machine instructions: microseconds apart.
        let _ = connection.progress_handler(1000, Some(move || Instant::now() >= deadline));
        Interrupt(connection)
    }
}

impl Drop for Interrupt<'_> {
    fn drop(&mut self) {
        let _ = self.0.progress_handler(0, None::<fn() -> bool>);
    }
}

fn is_interrupt(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted)
}

/// SQLite's own message, which names the problem (a missing table, a constraint).
fn database_error(e: &rusqlite::Error) -> ToolOutput {
    let message = match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    };
    ToolOutput::Error(format!("database error: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory_pool(schema: &'static str) -> SqlitePool {
        SqlitePool::new(
            1,
            Box::new(move || {
                let c = Connection::open_in_memory()?;
                c.execute_batch(schema)?;
                Ok(c)
            }),
        )
    }

    const COLUMNS: &[ColumnDef] = &[
        ColumnDef { key: "\"n\":", kind: ColumnKind::Integer },
        ColumnDef { key: "\"ok\":", kind: ColumnKind::Boolean },
    ];

    #[tokio::test]
    async fn binds_and_encodes_by_stored_class_and_described_kind() {
        let pool =
            memory_pool("CREATE TABLE t (n INTEGER, ok BOOLEAN); INSERT INTO t VALUES (1, 1), (2, 0), (3, NULL);");
        let output =
            run(&pool, query("SELECT n, ok FROM t WHERE n >= ? ORDER BY n").bind(2i64), Some(COLUMNS), None).await;
        assert_eq!(
            output,
            ToolOutput::Rows { json: r#"[{"n":2,"ok":false},{"n":3,"ok":null}]"#.into(), truncated: false }
        );
        let output = run(&pool, query("UPDATE t SET ok = ? WHERE n < ?").bind(true).bind(Some(3i64)), None, None).await;
        assert_eq!(output, ToolOutput::Affected { rows_affected: 2 });
        let output = run(&pool, query("SELECT nope FROM t"), Some(COLUMNS), None).await;
        assert_eq!(output, ToolOutput::Error("database error: no such column: nope".into()));
    }

    #[tokio::test]
    async fn a_script_answers_rows_or_the_affected_count() {
        let pool = memory_pool("CREATE TABLE t (x);");
        let output =
            execute_sql(&pool, "INSERT INTO t VALUES (1); INSERT INTO t VALUES (x'00ff');".into(), None, false).await;
        assert_eq!(output, ToolOutput::Affected { rows_affected: 2 });
        let output = execute_sql(&pool, "SELECT x, 1.5 AS f, 'é' AS s FROM t".into(), Some(1), false).await;
        assert_eq!(output, ToolOutput::Rows { json: r#"[{"x":1,"f":1.5,"s":"é"}]"#.into(), truncated: true });
    }

    #[tokio::test]
    async fn read_only_client_sql_cannot_write_and_open_transactions_end_with_the_call() {
        let pool = memory_pool("CREATE TABLE t (x); INSERT INTO t VALUES (1);");
        let refused = execute_sql(&pool, "DELETE FROM t".into(), None, true).await;
        assert_eq!(refused, ToolOutput::Error("database error: attempt to write a readonly database".into()));
        let read = execute_sql(&pool, "SELECT count(*) AS n FROM t".into(), None, true).await;
        assert_eq!(read, ToolOutput::Rows { json: r#"[{"n":1}]"#.into(), truncated: false });
        // The same connection writes again once the read-only call is over.
        let left_open = execute_sql(&pool, "BEGIN; DELETE FROM t;".into(), None, false).await;
        assert_eq!(left_open, ToolOutput::Affected { rows_affected: 1 });
        let after = execute_sql(&pool, "SELECT count(*) AS n FROM t".into(), None, false).await;
        assert_eq!(after, ToolOutput::Rows { json: r#"[{"n":1}]"#.into(), truncated: false }, "rolled back");
    }

    #[tokio::test]
    async fn a_query_timeout_interrupts_the_statement() {
        let pool = memory_pool("");
        let endless = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c";
        let started = Instant::now();
        let output = crate::call::with_timeout(50, run(&pool, query(endless), Some(&COLUMNS[..1]), None)).await;
        assert_eq!(output, ToolOutput::Error(timeout_message(50)));
        assert!(started.elapsed() < Duration::from_secs(5), "interrupted, not run to the end");
        let output = crate::call::with_timeout(50, execute_sql(&pool, endless.into(), None, false)).await;
        assert_eq!(output, ToolOutput::Error(timeout_message(50)));
        // A script stopped at the deadline inside a transaction leaves nothing behind.
        let script = format!("CREATE TABLE t (x); BEGIN; INSERT INTO t VALUES (1); {endless};");
        let output = crate::call::with_timeout(50, execute_sql(&pool, script, None, false)).await;
        assert_eq!(output, ToolOutput::Error(timeout_message(50)));
        let left = execute_sql(&pool, "SELECT count(*) AS n FROM t".into(), None, false).await;
        assert_eq!(left, ToolOutput::Rows { json: r#"[{"n":0}]"#.into(), truncated: false }, "rolled back");
        // The connection is usable afterwards and no handler is left behind.
        let output = run(&pool, query("SELECT 7"), Some(&COLUMNS[..1]), None).await;
        assert_eq!(output, ToolOutput::Rows { json: r#"[{"n":7}]"#.into(), truncated: false });
    }
}
