//! Compile-fail snapshots: each `tests/ui/fail/NAME.rs` compiles `NAME.yaml` with `toolbox!` and
//! must fail with exactly the errors in `NAME.stderr`. The configuration that builds is tested in
//! the root package (`tests/expand/`): trybuild compiles this crate's dev-dependencies into a
//! project of its own; without the runtime among them that project builds far fewer crates.
//! Refresh snapshots with `TRYBUILD=overwrite cargo test -p toolbox-macros --test ui`.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/fail/*.rs");
}

/// Statements checked against the live PostgreSQL and MariaDB of this machine (the
/// `toolbox_example` databases made from `examples/*/schema.sql`, as `.ci/run` does). Without
/// them the snapshots cannot match: the test skips with a reason, except under `CI=true`.
#[test]
fn ui_databases() {
    let reachable = |port: u16| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    if !(reachable(5432) && reachable(3306)) {
        assert!(std::env::var("CI").is_err(), "CI=true and PostgreSQL (5432) or MariaDB (3306) is not reachable");
        eprintln!("skipping: PostgreSQL and MariaDB are needed on 127.0.0.1 for tests/ui/db");
        return;
    }
    trybuild::TestCases::new().compile_fail("tests/ui/db/*.rs");
}

/// `redis` commands checked against the Redis of this machine (`COMMAND INFO`). Without it the
/// snapshots cannot match: the test skips with a reason, except under `CI=true`.
#[test]
fn ui_redis() {
    if std::net::TcpStream::connect(("127.0.0.1", 6379)).is_err() {
        assert!(std::env::var("CI").is_err(), "CI=true and Redis (6379) is not reachable");
        eprintln!("skipping: Redis is needed on 127.0.0.1:6379 for tests/ui/redis");
        return;
    }
    trybuild::TestCases::new().compile_fail("tests/ui/redis/*.rs");
}
