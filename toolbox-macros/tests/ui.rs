//! Compile-fail snapshots: each `tests/ui/fail/NAME.rs` compiles `NAME.yaml` with `toolbox!` and
//! must fail with exactly the errors in `NAME.stderr`. `tests/ui/pass` must build and run.
//! Refresh snapshots with `TRYBUILD=overwrite cargo test -p toolbox-macros --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
