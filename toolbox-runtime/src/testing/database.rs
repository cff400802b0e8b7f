//! Throw-away databases on the PostgreSQL and MariaDB of the machine: made from a schema for
//! one test and dropped when it ends.

use sqlx::Connection;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A server engine a test database lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL at 127.0.0.1:5432, user `postgres`, trust authentication.
    Postgres,
    /// MariaDB or MySQL at 127.0.0.1:3306, user `root` without a password.
    Mysql,
}

impl Engine {
    fn admin_url(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres://postgres@127.0.0.1:5432/postgres",
            Engine::Mysql => "mysql://root@127.0.0.1:3306",
        }
    }

    fn url(self, database: &str) -> String {
        match self {
            Engine::Postgres => format!("postgres://postgres@127.0.0.1:5432/{database}"),
            Engine::Mysql => format!("mysql://root@127.0.0.1:3306/{database}"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MariaDB",
        }
    }
}

/// A database made for one test, dropped when the test ends.
pub struct TestDb {
    pub engine: Engine,
    /// The database's name, unique to the test.
    pub name: String,
}

impl TestDb {
    /// Makes a database and runs `schema` in it. `None` (with the reason printed) when the
    /// engine is not reachable, except under `CI=true`, where that fails the test.
    pub async fn create(engine: Engine, schema: &str) -> Option<TestDb> {
        let admin = match engine {
            Engine::Postgres => sqlx::PgConnection::connect(engine.admin_url()).await.map(Admin::Postgres),
            Engine::Mysql => sqlx::MySqlConnection::connect(engine.admin_url()).await.map(Admin::Mysql),
        };
        let mut admin = match admin {
            Ok(admin) => admin,
            Err(e) => {
                let (service, url) = (engine.name(), engine.admin_url());
                assert!(std::env::var("CI").is_err(), "CI=true and {service} is not reachable ({url}): {e}");
                eprintln!("skipping: {service} is not reachable ({url}): {e}");
                return None;
            }
        };
        let name = format!("toolbox_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        admin.run(&format!("DROP DATABASE IF EXISTS {name}")).await.expect("drop an old test database");
        // PostgreSQL's CREATE DATABASE copies template1 and fails while another copy runs.
        let mut attempts = 0;
        while let Err(e) = admin.run(&format!("CREATE DATABASE {name}")).await {
            attempts += 1;
            assert!(attempts < 20, "cannot create {name}: {e}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let db = TestDb { engine, name };
        db.connect().await.run(schema).await.expect("the schema runs");
        Some(db)
    }
}

impl TestDb {
    /// The URL of the database, for a test's own connection.
    pub fn url(&self) -> String {
        self.engine.url(&self.name)
    }

    /// Waits until no statement whose text contains `text` runs on the server (an abandoned
    /// statement must be cancelled, not left to run), failing the test after `limit`.
    pub async fn assert_stopped(&self, text: &str, limit: std::time::Duration) {
        let pattern = format!("%{text}%");
        let started = std::time::Instant::now();
        let mut admin = self.connect().await;
        loop {
            let running: i64 = match &mut admin {
                Admin::Postgres(c) => sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND query LIKE $1 AND state = 'active' AND pid <> pg_backend_pid()",
                )
                .bind(&pattern)
                .fetch_one(c)
                .await
                .unwrap(),
                Admin::Mysql(c) => sqlx::query_scalar(
                    "SELECT count(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()",
                )
                .bind(&pattern)
                .fetch_one(c)
                .await
                .unwrap(),
            };
            if running == 0 {
                return;
            }
            assert!(started.elapsed() < limit, "statements containing `{text}` still run after {limit:?}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The client ports of the other TCP connections to this database, as the server sees them
    /// (to find a pool's connections among this process's sockets).
    pub async fn client_ports(&self) -> Vec<u16> {
        match &mut self.connect().await {
            Admin::Postgres(c) => sqlx::query_scalar::<_, i32>(
                "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND client_port > 0",
            )
            .fetch_all(c)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|p| u16::try_from(p).ok())
            .collect(),
            Admin::Mysql(c) => sqlx::query_scalar::<_, String>(
                "SELECT HOST FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()",
            )
            .fetch_all(c)
            .await
            .unwrap()
            .iter()
            .filter_map(|host| host.rsplit_once(':')?.1.parse().ok())
            .collect(),
        }
    }

    async fn connect(&self) -> Admin {
        match self.engine {
            Engine::Postgres => Admin::Postgres(sqlx::PgConnection::connect(&self.url()).await.unwrap()),
            Engine::Mysql => Admin::Mysql(sqlx::MySqlConnection::connect(&self.url()).await.unwrap()),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (engine, name) = (self.engine, self.name.clone());
        let drop = match engine {
            Engine::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            Engine::Mysql => format!("DROP DATABASE IF EXISTS {name}"),
        };
        // A runtime of its own: the test's may be shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let admin = match engine {
                    Engine::Postgres => sqlx::PgConnection::connect(engine.admin_url()).await.map(Admin::Postgres),
                    Engine::Mysql => sqlx::MySqlConnection::connect(engine.admin_url()).await.map(Admin::Mysql),
                };
                if let Ok(mut admin) = admin {
                    let _ = admin.run(&drop).await;
                }
            })
        })
        .join();
    }
}

/// A connection to either engine, for scripts.
enum Admin {
    Postgres(sqlx::PgConnection),
    Mysql(sqlx::MySqlConnection),
}

impl Admin {
    async fn run(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self {
            Admin::Postgres(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
            Admin::Mysql(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
        }
    }
}
