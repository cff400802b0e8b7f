//! SQLite execution: statements run with rusqlite on the calling thread, on a connection of the
//! source's [`SqlitePool`], and rows are encoded straight into a JSON buffer, column by column.
//!
//! Compiled statements (lookups the build described, usually microseconds of work) run inline:
//! handing them to another thread cost more than running them (bench/README.md). A tool's
//! `queryTimeout` interrupts the statement itself through SQLite's progress handler. Client SQL
//! (`sqlite-execute-sql`) can be anything, so it runs on the blocking pool instead.

use crate::call::{Deadline, Failure, ToolOutput};
use crate::db::encode::*;
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod explain;
mod pool;
mod source;

pub use explain::explain_query;
pub use pool::{BUSY_TIMEOUT, INLINE_BUDGET, Open, OpenFor, SqlitePool};
pub use source::{SqliteSource, pool};

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

/// How a compiled statement's first attempt, on the calling thread, ended.
enum Inline {
    Done(ToolOutput),
    /// It met a lock or ran past [`INLINE_BUDGET`]: run it on the blocking pool.
    Again,
}

/// Runs a compiled statement: rows when the build described result columns, else the count of
/// affected rows. On the calling thread first; on the blocking pool when that would wait.
pub async fn run(
    pool: &SqlitePool,
    query: Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    let mut statement = crate::telemetry::statement::begin("sqlite", pool.source(), query.statement);
    let text = Text { sql: statement.take_sql(), cacheable: statement.cacheable() };
    let output = run_observed(pool, query, text, columns, max_rows).await;
    statement.end(&output);
    output
}

/// The text a statement runs with: the compiled one, or it with the call's SQL comment.
#[derive(Clone)]
struct Text {
    sql: std::borrow::Cow<'static, str>,
    /// The same text on every call: its prepared form is kept in the connection's cache.
    cacheable: bool,
}

async fn run_observed(
    pool: &SqlitePool,
    query: Query,
    text: Text,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> ToolOutput {
    let deadline = crate::call::deadline();
    let inline = pool.with_connection(|connection| {
        let budget = Instant::now() + INLINE_BUDGET;
        let stop = deadline.map_or(budget, |d| d.at.min(budget));
        let outcome = {
            let _interrupt = Interrupt::at(connection, stop);
            run_statement(connection, &text, &query, columns, max_rows)
        };
        match outcome {
            Err(e) if is_interrupt(&e) && deadline.is_none_or(|d| Instant::now() < d.at) => Inline::Again,
            Err(e) if is_busy(&e) => Inline::Again,
            other => Inline::Done(output(Ok(other), deadline)),
        }
    });
    match inline.await {
        Ok(Inline::Done(output)) => return output,
        Ok(Inline::Again) => {}
        Err(e) => return ToolOutput::Error(Failure::Unavailable, e),
    }
    let outcome = pool
        .with_connection_blocking(move |connection| {
            connection.busy_timeout(BUSY_TIMEOUT)?;
            let outcome = {
                let _interrupt = deadline.map(|d| Interrupt::at(connection, d.at));
                run_statement(connection, &text, &query, columns, max_rows)
            };
            // Back to never waiting, for the next statement that runs inline.
            connection.busy_timeout(Duration::ZERO)?;
            outcome
        })
        .await;
    output(outcome, deadline)
}

/// The answer to a statement's outcome: its rows or count, the tool's timeout message when the
/// progress handler stopped it at the deadline, else SQLite's own message.
fn output(outcome: Result<rusqlite::Result<ToolOutput>, String>, deadline: Option<Deadline>) -> ToolOutput {
    match outcome {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => match deadline {
            Some(d) if is_interrupt(&e) => ToolOutput::Error(Failure::Timeout, d.message()),
            _ => database_error(&e),
        },
        // The pool's own messages name the source.
        Err(e) => ToolOutput::Error(Failure::Unavailable, e),
    }
}

fn run_statement(
    connection: &Connection,
    text: &Text,
    query: &Query,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
) -> rusqlite::Result<ToolOutput> {
    // A text with a trace context in its comment is unique to its call: prepared, not cached.
    let (mut cached, mut plain);
    let statement: &mut rusqlite::Statement<'_> = if text.cacheable {
        cached = connection.prepare_cached(&text.sql)?;
        &mut cached
    } else {
        plain = connection.prepare(&text.sql)?;
        &mut plain
    };
    for (i, param) in query.params.iter().enumerate() {
        statement.raw_bind_parameter(i + 1, param)?;
    }
    let Some(columns) = columns else {
        return Ok(ToolOutput::Affected { rows_affected: execute_counting(connection, statement)? });
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
/// a connection of its own that is closed afterwards, on the blocking pool. Rows are encoded by
/// their stored values; a script without rows answers the number of affected rows.
///
/// SQLite's authorizer refuses `ATTACH` and `DETACH` (and so `VACUUM INTO`), which would reach
/// other files of the server's file system. With `read_only`, the connection is opened read-only
/// and the authorizer allows only reading: no write, no DDL, no `PRAGMA` that sets anything (so
/// nothing can switch read-only off). A transaction the script leaves open is rolled back.
pub async fn execute_sql(pool: &SqlitePool, sql: String, max_rows: Option<u64>, read_only: bool) -> ToolOutput {
    let deadline = crate::call::deadline();
    let outcome = pool
        .with_own_connection(read_only, move |connection| {
            // On an in-memory database's one connection, shared with compiled statements,
            // `query_only` stands in for opening the file read-only; it is set before the
            // authorizer, which then refuses any PRAGMA that would unset it.
            if read_only {
                connection.pragma_update(None, "query_only", true)?;
            }
            let refused = Arc::new(Mutex::new(None));
            connection.authorizer(Some(client_sql_authorizer(read_only, refused.clone())))?;
            let result = {
                // Only the script is interrupted at the deadline, never the clean-up below.
                let _interrupt = deadline.map(|d| Interrupt::at(connection, d.at));
                run_script(connection, &sql, max_rows)
            };
            // SQLite says only "not authorized"; say what was refused and why.
            let result = result.map_err(|e| match refused.lock().unwrap_or_else(|e| e.into_inner()).take() {
                Some(why) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::AuthorizationForStatementDenied) => {
                    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_AUTH), Some(why))
                }
                _ => e,
            });
            connection.authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
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

/// What client SQL may do: never reach another file (`ATTACH`, `DETACH`, `VACUUM INTO`); when
/// read-only, only read. Why something was refused goes to `refused`.
fn client_sql_authorizer(
    read_only: bool,
    refused: Arc<Mutex<Option<String>>>,
) -> impl FnMut(AuthContext<'_>) -> Authorization + Send + 'static {
    move |context| {
        let why = match context.action {
            AuthAction::Attach { .. } | AuthAction::Detach { .. } => {
                "ATTACH, DETACH and VACUUM INTO are refused: client SQL may not reach other database files"
            }
            _ if !read_only => return Authorization::Allow,
            AuthAction::Select
            | AuthAction::Read { .. }
            | AuthAction::Function { .. }
            | AuthAction::Recursive
            | AuthAction::Transaction { .. }
            | AuthAction::Savepoint { .. }
            | AuthAction::Pragma { pragma_value: None, .. } => return Authorization::Allow,
            AuthAction::Pragma { .. } => "this tool is read-only: a PRAGMA that sets a value is refused",
            _ => "this tool is read-only: only reading statements are allowed",
        };
        *refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.to_string());
        Authorization::Deny
    }
}

fn run_script(connection: &Connection, sql: &str, max_rows: Option<u64>) -> rusqlite::Result<ToolOutput> {
    let mut w = RowsWriter::new(max_rows);
    let mut any_rows = false;
    let mut affected = 0;
    let mut batch = rusqlite::Batch::new(connection, sql);
    while let Some(mut statement) = batch.next()? {
        if statement.column_count() == 0 {
            affected += execute_counting(connection, &mut statement)?;
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

/// Runs a statement without result columns and counts the rows it changed. SQLite's `changes()`
/// still holds the count of an earlier statement after one that changes nothing (`BEGIN`, DDL),
/// so it is read only when the connection's total moved.
fn execute_counting(connection: &Connection, statement: &mut rusqlite::Statement<'_>) -> rusqlite::Result<u64> {
    let before = connection.total_changes();
    statement.raw_execute()?;
    Ok(if connection.total_changes() != before { connection.changes() } else { 0 })
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
        // Text the build knows to be JSON (a built-in statement's `json_object`), if it parses.
        ValueRef::Text(bytes)
            if kind == ColumnKind::Json && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() =>
        {
            out.extend_from_slice(bytes)
        }
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

/// Another connection holds the lock the statement needs.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// SQLite's own message, which names the problem (a missing table, a constraint).
fn database_error(e: &rusqlite::Error) -> ToolOutput {
    let message = match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    };
    ToolOutput::Error(Failure::Database, format!("database error: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{Limit, timeout_message};

    fn memory_pool(schema: &'static str) -> SqlitePool {
        SqlitePool::new(
            "test",
            1,
            8,
            true,
            Box::new(move |_| {
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
            ToolOutput::Rows { json: r#"[{"n":2,"ok":false},{"n":3,"ok":null}]"#.into(), rows: 2, truncated: false }
        );
        let output = run(&pool, query("UPDATE t SET ok = ? WHERE n < ?").bind(true).bind(Some(3i64)), None, None).await;
        assert_eq!(output, ToolOutput::Affected { rows_affected: 2 });
        let output = run(&pool, query("SELECT nope FROM t"), Some(COLUMNS), None).await;
        assert_eq!(output, ToolOutput::Error(Failure::Database, "database error: no such column: nope".into()));
    }

    #[tokio::test]
    async fn a_script_answers_rows_or_the_affected_count() {
        let pool = memory_pool("CREATE TABLE t (x);");
        let output =
            execute_sql(&pool, "INSERT INTO t VALUES (1); INSERT INTO t VALUES (x'00ff');".into(), None, false).await;
        assert_eq!(output, ToolOutput::Affected { rows_affected: 2 });
        let output = execute_sql(&pool, "SELECT x, 1.5 AS f, 'é' AS s FROM t".into(), Some(1), false).await;
        assert_eq!(output, ToolOutput::Rows { json: r#"[{"x":1,"f":1.5,"s":"é"}]"#.into(), rows: 1, truncated: true });
    }

    #[tokio::test]
    async fn read_only_client_sql_cannot_write_and_open_transactions_end_with_the_call() {
        let pool = memory_pool("CREATE TABLE t (x); INSERT INTO t VALUES (1);");
        let refused = execute_sql(&pool, "DELETE FROM t".into(), None, true).await;
        assert_eq!(
            refused,
            ToolOutput::Error(
                Failure::Database,
                "database error: this tool is read-only: only reading statements are allowed".into()
            )
        );
        // Nothing switches read-only off, and no other file is reached, whatever the tool.
        let refused = execute_sql(&pool, "PRAGMA query_only = 0; DELETE FROM t".into(), None, true).await;
        assert_eq!(
            refused,
            ToolOutput::Error(
                Failure::Database,
                "database error: this tool is read-only: a PRAGMA that sets a value is refused".into()
            )
        );
        for (sql, read_only) in
            [("ATTACH 'other.db' AS o", false), ("VACUUM INTO 'copy.db'", false), ("ATTACH ':memory:' AS m", true)]
        {
            let refused = execute_sql(&pool, sql.into(), None, read_only).await;
            assert_eq!(
                refused,
                ToolOutput::Error(Failure::Database, "database error: ATTACH, DETACH and VACUUM INTO are refused: client SQL may not reach other database files".into()),
                "{sql}"
            );
        }
        assert!(!std::path::Path::new("copy.db").exists());
        let read = execute_sql(&pool, "SELECT count(*) AS n FROM t".into(), None, true).await;
        assert_eq!(read, ToolOutput::Rows { json: r#"[{"n":1}]"#.into(), rows: 1, truncated: false });
        // The same connection writes again once the read-only call is over.
        let left_open = execute_sql(&pool, "BEGIN; DELETE FROM t;".into(), None, false).await;
        assert_eq!(left_open, ToolOutput::Affected { rows_affected: 1 });
        let after = execute_sql(&pool, "SELECT count(*) AS n FROM t".into(), None, false).await;
        assert_eq!(after, ToolOutput::Rows { json: r#"[{"n":1}]"#.into(), rows: 1, truncated: false }, "rolled back");
    }

    /// A call dropped while its statement runs on the blocking pool (a client gone) interrupts
    /// the statement, and its slot stays taken until the statement's thread is done, so the
    /// pool's bound holds; closing the pool interrupts what still runs.
    #[tokio::test]
    async fn abandoned_statements_are_interrupted_and_keep_their_slot_until_they_stop() {
        let pool = SqlitePool::new("test", 1, 8, false, Box::new(|_| Connection::open_in_memory()));
        let endless = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c";
        let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = stopped.clone();
        let call = pool.with_connection_blocking(move |c| {
            let outcome = c.query_row(endless, [], |_| Ok(()));
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
            outcome
        });
        assert!(tokio::time::timeout(Duration::from_millis(200), call).await.is_err(), "still running");
        // The next call waits for the one slot, which the interrupted statement gives back.
        let started = Instant::now();
        let next = pool.with_connection_blocking(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))).await;
        assert_eq!(next.unwrap().unwrap(), 1);
        assert!(
            stopped.load(std::sync::atomic::Ordering::SeqCst),
            "the slot came back only after the statement stopped"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "the statement was interrupted, not run on");
        // Closing the pool interrupts a statement that is still running.
        let pool = Arc::new(SqlitePool::new("test", 1, 8, false, Box::new(|_| Connection::open_in_memory())));
        let running = {
            let pool = pool.clone();
            tokio::spawn(
                async move { pool.with_connection_blocking(move |c| c.query_row(endless, [], |_| Ok(()))).await },
            )
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        pool.close();
        let outcome = tokio::time::timeout(Duration::from_secs(2), running).await.expect("interrupted at close");
        assert!(is_interrupt(&outcome.unwrap().unwrap().unwrap_err()));
    }

    #[tokio::test]
    async fn a_query_timeout_interrupts_the_statement() {
        let pool = memory_pool("");
        let endless = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c";
        let started = Instant::now();
        let output =
            crate::call::with_timeout(50, Limit::Tool, run(&pool, query(endless), Some(&COLUMNS[..1]), None)).await;
        assert_eq!(output, ToolOutput::Error(Failure::Timeout, timeout_message(50, Limit::Tool)));
        assert!(started.elapsed() < Duration::from_secs(5), "interrupted, not run to the end");
        let output = crate::call::with_timeout(50, Limit::Tool, execute_sql(&pool, endless.into(), None, false)).await;
        assert_eq!(output, ToolOutput::Error(Failure::Timeout, timeout_message(50, Limit::Tool)));
        // A script stopped at the deadline inside a transaction leaves nothing behind.
        let script = format!("CREATE TABLE t (x); BEGIN; INSERT INTO t VALUES (1); {endless};");
        let output = crate::call::with_timeout(50, Limit::Tool, execute_sql(&pool, script, None, false)).await;
        assert_eq!(output, ToolOutput::Error(Failure::Timeout, timeout_message(50, Limit::Tool)));
        let left = execute_sql(&pool, "SELECT count(*) AS n FROM t".into(), None, false).await;
        assert_eq!(left, ToolOutput::Rows { json: r#"[{"n":0}]"#.into(), rows: 1, truncated: false }, "rolled back");
        // The connection is usable afterwards and no handler is left behind.
        let output = run(&pool, query("SELECT 7"), Some(&COLUMNS[..1]), None).await;
        assert_eq!(output, ToolOutput::Rows { json: r#"[{"n":7}]"#.into(), rows: 1, truncated: false });
    }
}
