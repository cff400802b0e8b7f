//! Compile-fail snapshots: each `tests/ui/{fail,db,redis}/NAME.rs` invokes `toolbox!` on
//! `NAME.yaml` and must fail to compile with exactly the diagnostics in `NAME.stderr`, as rustc
//! prints them (the configuration's own `file:line:col` report, then rustc's span on the macro's
//! argument). `TOOLBOX_BLESS=1 cargo test -p toolbox-macros --test ui` rewrites the snapshots.
//!
//! Each fixture is compiled by rustc directly, with this crate's proc-macro as cargo built it for
//! this test run, found beside the test binary. trybuild, which this replaced, compiles the
//! crate's dependencies once more in a target of its own and with flags of its own (about 200 s of
//! a fresh test run on two cores); here nothing is built twice, and a fixture takes ~0.1 s.
//! The configuration that builds is tested in the root package (`tests/expand/`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The fixtures that need no service.
#[test]
fn ui() {
    check("tests/ui/fail");
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
    check("tests/ui/db");
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
    check("tests/ui/redis");
}

/// Compiles every fixture of `dir` (relative to this crate) and compares, or with
/// `TOOLBOX_BLESS` set writes, its snapshot; panics listing every fixture that differs.
fn check(dir: &str) {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(crate_dir.join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| Path::new(dir).join(path.file_name().expect("a file name")))
        .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty(), "{dir} has no fixtures");
    let (rustc, proc_macro) = (rustc(), proc_macro());
    let bless = std::env::var_os("TOOLBOX_BLESS").is_some();

    // Fixtures are independent: a few rustc processes at a time (the database fixtures mostly
    // wait on their database).
    let next = Mutex::new(fixtures.iter());
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some(fixture) = next.lock().unwrap().next() else { return };
                    if let Err(failure) = check_one(crate_dir, fixture, &rustc, &proc_macro, bless) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures in {dir} differ from their snapshots (TOOLBOX_BLESS=1 rewrites them; \
         proc-macro: {}):\n\n{}",
        failures.len(),
        fixtures.len(),
        proc_macro.display(),
        failures.join("\n\n")
    );
}

/// Compiles one fixture; an error describes how its output differs from the snapshot.
fn check_one(crate_dir: &Path, fixture: &Path, rustc: &Path, proc_macro: &Path, bless: bool) -> Result<(), String> {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let output = Command::new(rustc)
        .current_dir(crate_dir)
        .args(["--edition", "2024", "--crate-type", "bin", "--emit", "metadata"])
        .args(["--color", "never", "--diagnostic-width", "140", "--error-format", "human"])
        .arg("--out-dir")
        .arg(&out_dir)
        .arg("--extern")
        .arg(format!("toolbox_macros={}", proc_macro.display()))
        .arg(fixture)
        .output()
        .map_err(|e| format!("{}: rustc did not run: {e}", fixture.display()))?;
    let stderr = normalize(&String::from_utf8_lossy(&output.stderr), crate_dir);
    if output.status.success() {
        return Err(format!("{}: compiled, but must fail with its snapshot\n{stderr}", fixture.display()));
    }
    let snapshot = crate_dir.join(fixture.with_extension("stderr"));
    if bless {
        return std::fs::write(&snapshot, &stderr).map_err(|e| format!("{}: {e}", snapshot.display()));
    }
    let expected = std::fs::read_to_string(&snapshot)
        .map_err(|e| format!("{}: no snapshot ({e}); it fails with:\n{stderr}", fixture.display()))?;
    if normalize(&expected, crate_dir) == stderr {
        Ok(())
    } else {
        Err(format!("{}: expected\n{expected}\n--- but it fails with\n{stderr}", fixture.display()))
    }
}

/// rustc's output as a snapshot holds it: this crate's directory spelled `$DIR`, without the
/// closing summary lines and trailing blank lines.
fn normalize(stderr: &str, crate_dir: &Path) -> String {
    let stderr = stderr.replace("\r\n", "\n").replace(&*crate_dir.to_string_lossy(), "$DIR");
    let kept: Vec<&str> = stderr
        .lines()
        .filter(|line| {
            !(line.starts_with("error: aborting due to")
                || line.starts_with("For more information about")
                || line.starts_with("Some errors have detailed explanations"))
        })
        .map(str::trim_end)
        .collect();
    let mut text = kept.join("\n").trim_end().to_string();
    text.push('\n');
    text
}

/// The compiler cargo runs: `$RUSTC`, else the rustc beside `$CARGO` (the toolchain of this
/// build; a proc-macro loads only into the compiler that built it), else `rustc`.
fn rustc() -> PathBuf {
    if let Some(rustc) = std::env::var_os("RUSTC") {
        return rustc.into();
    }
    std::env::var_os("CARGO")
        .map(|cargo| Path::new(&cargo).with_file_name("rustc"))
        .filter(|rustc| rustc.is_file())
        .unwrap_or_else(|| "rustc".into())
}

/// This crate's proc-macro library as built for this test: the newest `libtoolbox_macros-*.so`
/// in the directory of the test binary. Several can be there (builds with other feature sets);
/// the one cargo just checked or rebuilt for this run is the newest.
fn proc_macro() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("the test binary's directory");
    let (prefix, suffix) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    let name = format!("{prefix}toolbox_macros-");
    std::fs::read_dir(deps)
        .expect("the test binary's directory")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_str().is_some_and(|n| n.starts_with(&name) && n.ends_with(suffix)))
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .max()
        .map(|(_, path)| path)
        .unwrap_or_else(|| panic!("no {name}*{suffix} in {} (cargo builds it for this test)", deps.display()))
}
