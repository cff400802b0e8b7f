//! Running statements on the sqlx engines (PostgreSQL and MySQL), the same for both: a compiled
//! statement gives rows (encoded by the described columns) or an affected count; client SQL gives
//! the rows of every statement, encoded by their run-time types. Each engine supplies only its
//! value encoder. (SQLite runs on rusqlite: see [`crate::db::sqlite`].)

use crate::call::{Failure, ToolOutput};
use crate::db::encode::{ColumnDef, ColumnKind, RowsWriter, write_key};
use crate::db::pool::Pool;
use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use sqlx::{Column, Database, Either, Executor, IntoArguments, Row};
use std::borrow::Cow;

/// Encodes the value of column `index` of a row into the buffer, or says why it cannot.
pub type Encoder<DB> = fn(&mut Vec<u8>, &<DB as Database>::Row, usize, ColumnKind) -> Result<(), String>;

/// The answer for a value that could not be encoded.
fn unencodable(column: &str, problem: String) -> ToolOutput {
    ToolOutput::Error(Failure::Database, format!("column `{column}`: {problem}"))
}

/// A compiled statement and its arguments, bound in placeholder order. The text is only made
/// into sqlx's query when it runs, with the call's SQL comment when there is one.
pub struct Query<DB: Database> {
    sql: &'static str,
    /// The first value that could not be encoded fails the statement, as in sqlx.
    arguments: Result<DB::Arguments, sqlx::error::BoxDynError>,
}

impl<DB: Database> Query<DB> {
    pub fn new(sql: &'static str) -> Self {
        Self { sql, arguments: Ok(DB::Arguments::default()) }
    }

    pub fn bind<T>(mut self, value: T) -> Self
    where
        T: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB> + Send + 'static,
    {
        if let Ok(arguments) = &mut self.arguments
            && let Err(e) = sqlx::Arguments::add(arguments, value)
        {
            self.arguments = Err(e);
        }
        self
    }

    /// The same statement and arguments, to run again elsewhere (a read a replica could not
    /// serve); `None` when binding already failed.
    pub fn try_clone(&self) -> Option<Self>
    where
        DB::Arguments: Clone,
    {
        Some(Self { sql: self.sql, arguments: Ok(self.arguments.as_ref().ok()?.clone()) })
    }
}

/// Tells an error after which another server may run the statement (nothing was answered, and
/// the statement changed nothing): see [`attempt`].
pub type HandBack = fn(&sqlx::Error) -> bool;

/// Runs a compiled statement on a connection of the pool: rows when the build described result
/// columns, else the count of affected rows. `system` names the engine in its span.
pub async fn run<DB>(
    pool: &Pool<DB>,
    system: &'static str,
    query: Query<DB>,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
    encode: Encoder<DB>,
    rows_affected: fn(&DB::QueryResult) -> u64,
) -> ToolOutput
where
    DB: Database + sqlx::database::HasStatementCache,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    match attempt(pool, system, query, columns, max_rows, encode, rows_affected, None).await {
        Ok(output) | Err(output) => output,
    }
}

/// [`run`], except that with `hand_back`, a pool that cannot give a connection, or an error it
/// accepts, is `Err` with the answer it would have been: the caller may run the statement on
/// another server instead (a read replica's primary).
#[allow(clippy::too_many_arguments)]
pub async fn attempt<DB>(
    pool: &Pool<DB>,
    system: &'static str,
    query: Query<DB>,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
    encode: Encoder<DB>,
    rows_affected: fn(&DB::QueryResult) -> u64,
    hand_back: Option<HandBack>,
) -> Result<ToolOutput, ToolOutput>
where
    DB: Database + sqlx::database::HasStatementCache,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut statement = crate::telemetry::statement::begin(system, pool.source(), query.sql);
    let output = match query.arguments {
        Err(e) => Ok(database_error(pool.source(), sqlx::Error::Encode(e))),
        Ok(arguments) => {
            let sqlx_query = match statement.take_sql() {
                Cow::Borrowed(sql) => sqlx::query_with(sql, arguments),
                Cow::Owned(sql) => {
                    sqlx::query_with(sqlx::AssertSqlSafe(sql), arguments).persistent(statement.cacheable())
                }
            };
            run_query(pool, sqlx_query, columns, max_rows, encode, rows_affected, hand_back).await
        }
    };
    match &output {
        Ok(output) | Err(output) => statement.end(output),
    }
    output
}

async fn run_query<DB>(
    pool: &Pool<DB>,
    query: sqlx::query::Query<'static, DB, DB::Arguments>,
    columns: Option<&'static [ColumnDef]>,
    max_rows: Option<u64>,
    encode: Encoder<DB>,
    rows_affected: fn(&DB::QueryResult) -> u64,
    hand_back: Option<HandBack>,
) -> Result<ToolOutput, ToolOutput>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let failed = |e: sqlx::Error| {
        let handed_back = hand_back.is_some_and(|h| h(&e));
        let output = database_error(pool.source(), e);
        if handed_back { Err(output) } else { Ok(output) }
    };
    let mut lease = match pool.acquire().await {
        Ok(lease) => lease,
        Err(e) => {
            let output = ToolOutput::Error(Failure::Unavailable, e.to_string());
            return if hand_back.is_some() { Err(output) } else { Ok(output) };
        }
    };
    let Some(columns) = columns else {
        let done = query.execute(lease.begin()).await;
        lease.end(done.as_ref().err());
        return match done {
            Ok(done) => Ok(ToolOutput::Affected { rows_affected: rows_affected(&done) }),
            Err(e) => failed(e),
        };
    };
    let mut w = RowsWriter::new(max_rows);
    let mut rows = query.fetch(lease.begin());
    let outcome = 'rows: loop {
        match rows.try_next().await {
            Ok(Some(row)) => {
                if !w.begin_row() {
                    // Rows past `maxRows` are left unread: the lease stays busy, so its
                    // connection is drained in the background before it is used again.
                    break None;
                }
                for (i, column) in columns.iter().enumerate() {
                    w.column(i, column.key);
                    if let Err(problem) = encode(&mut w.out, &row, i, column.kind) {
                        // The rest of the rows are left unread, as above.
                        let name = column.key.trim_end_matches(':');
                        let name = serde_json::from_str::<String>(name).unwrap_or_default();
                        break 'rows Some(Err(Unencodable(unencodable(&name, problem))));
                    }
                }
                w.end_row();
            }
            Ok(None) => break Some(Ok(())),
            Err(e) => break Some(Err(Failed(e))),
        }
    };
    drop(rows);
    match outcome {
        Some(Err(Failed(e))) => {
            lease.end(Some(&e));
            failed(e)
        }
        Some(Err(Unencodable(output))) => Ok(output),
        Some(Ok(())) => {
            lease.end(None);
            Ok(w.finish())
        }
        None => Ok(w.finish()),
    }
}

/// How reading a compiled statement's rows stopped early.
enum Stop {
    Failed(sqlx::Error),
    Unencodable(ToolOutput),
}
use Stop::{Failed, Unencodable};

/// Encodes the results of client SQL: the rows of every statement, each column by the kind its
/// run-time type maps to; a script without rows answers the number of affected rows. An error of
/// the database is returned for the caller to answer (or to try the script another way).
pub async fn collect<DB: Database>(
    mut stream: BoxStream<'_, Result<Either<DB::QueryResult, DB::Row>, sqlx::Error>>,
    max_rows: Option<u64>,
    kind_of: fn(&DB::Column) -> ColumnKind,
    encode: Encoder<DB>,
    rows_affected: fn(&DB::QueryResult) -> u64,
) -> Result<ToolOutput, sqlx::Error> {
    let mut w = RowsWriter::new(max_rows);
    let mut any_rows = false;
    let mut affected = 0;
    loop {
        match stream.try_next().await {
            Ok(Some(Either::Left(done))) => affected += rows_affected(&done),
            Ok(Some(Either::Right(row))) => {
                any_rows = true;
                if w.is_truncated() || !w.begin_row() {
                    continue;
                }
                for (i, column) in row.columns().iter().enumerate() {
                    write_key(&mut w.out, i, column.name());
                    if let Err(problem) = encode(&mut w.out, &row, i, kind_of(column)) {
                        return Ok(unencodable(column.name(), problem));
                    }
                }
                w.end_row();
            }
            Ok(None) => break,
            Err(e) => return Err(e),
        }
    }
    if !any_rows && affected > 0 {
        return Ok(ToolOutput::Affected { rows_affected: affected });
    }
    Ok(w.finish())
}

/// How client SQL runs on an engine.
pub struct ClientSql<DB: Database> {
    /// Run first, then exactly one statement, for a read-only tool.
    pub read_only_setup: Option<&'static str>,
    /// Where the engine can: the error that says the text holds several statements. Such an
    /// engine runs one statement as a prepared statement (its values typed, as compiled
    /// statements' are) and only a script of several through the simple protocol.
    pub several_statements: Option<fn(&sqlx::Error) -> bool>,
    pub kind_of: fn(&DB::Column) -> ColumnKind,
    pub encode: Encoder<DB>,
    pub rows_affected: fn(&DB::QueryResult) -> u64,
}

/// Runs SQL text sent by the client on a connection of its own, closed afterwards: whatever the
/// SQL changes in its session (`SET`, temporary tables, an open transaction) ends with it and no
/// other call sees it. With `read_only`, `read_only_setup` runs first and then exactly one
/// statement (the prepared protocol refuses several), so the setup cannot be undone before a
/// write; without it the text may hold several statements.
pub async fn client_sql<DB>(pool: &Pool<DB>, sql: String, max_rows: Option<u64>, how: &ClientSql<DB>) -> ToolOutput
where
    DB: Database + sqlx::database::HasStatementCache,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut lease = match pool.acquire().await {
        Ok(lease) => lease,
        Err(e) => return ToolOutput::Error(Failure::Unavailable, e.to_string()),
    };
    // Closed however the call ends, even when it is dropped mid-statement (a timeout, a client
    // gone): the SQL may have changed the session.
    lease.discard();
    let connection = lease.begin();
    let (kind_of, encode, rows_affected) = (how.kind_of, how.encode, how.rows_affected);
    let output = match (how.read_only_setup, how.several_statements) {
        (Some(setup), _) => match sqlx::raw_sql(setup).execute(&mut *connection).await {
            Ok(_) => prepared(&mut *connection, sql, max_rows, how).await,
            Err(e) => Err(e),
        },
        (None, Some(several)) => match prepared(&mut *connection, sql.clone(), max_rows, how).await {
            Err(e) if several(&e) => {
                let stream = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_many(&mut *connection);
                collect::<DB>(stream, max_rows, kind_of, encode, rows_affected).await
            }
            other => other,
        },
        (None, None) => {
            let stream = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_many(&mut *connection);
            collect::<DB>(stream, max_rows, kind_of, encode, rows_affected).await
        }
    };
    lease.end(None);
    lease.close().await;
    output.unwrap_or_else(|e| database_error(pool.source(), e))
}

/// Runs one statement of client SQL as a prepared statement. A named one: sqlx resolves the
/// types of the database's own (an enum column) with queries of its own between preparing and
/// running, which would replace an unnamed statement. The connection is closed afterwards.
async fn prepared<DB>(
    connection: &mut DB::Connection,
    sql: String,
    max_rows: Option<u64>,
    how: &ClientSql<DB>,
) -> Result<ToolOutput, sqlx::Error>
where
    DB: Database + sqlx::database::HasStatementCache,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let statement = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql)).persistent(true);
    collect::<DB>(Executor::fetch_many(connection, statement), max_rows, how.kind_of, how.encode, how.rows_affected)
        .await
}

/// The database's own message, which names the problem without any credential. A connection
/// that broke (the server restarted, the connection was terminated) is the source's failure, not
/// the statement's, and names the source, as a source that cannot be reached does.
pub fn database_error(source: &str, e: sqlx::Error) -> ToolOutput {
    match &e {
        sqlx::Error::Database(db) if db.code().is_some_and(|c| connection_lost(&c)) => {
            ToolOutput::Error(Failure::Unavailable, format!("source `{source}` is unavailable: {}", db.message()))
        }
        sqlx::Error::Database(db) => ToolOutput::Error(Failure::Database, format!("database error: {}", db.message())),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            ToolOutput::Error(Failure::Unavailable, format!("source `{source}` is unavailable: {e}"))
        }
        other => ToolOutput::Error(Failure::Database, format!("database error: {other}")),
    }
}

/// SQLSTATEs that say the connection itself is gone: class 08 (connection exception) and
/// PostgreSQL's operator intervention (`57P01` terminated by an administrator, `57P02` crash
/// shutdown, `57P03` cannot connect now).
fn connection_lost(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03")
}
