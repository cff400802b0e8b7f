//! Repository rules checked by `cargo test`: every Rust source file opens with a `//!` comment
//! saying what it owns, the README keeps its two newcomer commands first, and each example has a
//! README that serves it on the port its binary defaults to.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            // compile-fail fixtures are single macro calls; build output is not ours; the golden
            // generated code opens with its `@generated` line (an `include!`d file cannot hold
            // `//!`).
            if !matches!(name.as_str(), "target" | "ui" | "golden" | ".git" | ".ci" | "node_modules") {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_says_what_it_owns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(root, &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().starts_with("//!"))
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a leading `//!` comment: {missing:?}");
}

#[test]
fn the_readme_opens_with_the_build_and_test_commands() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block = readme.split("```").nth(1).expect("a code block");
    let commands: Vec<&str> = block.lines().skip(1).filter(|l| !l.trim().is_empty()).collect();
    assert!(commands[0].starts_with("cargo run --release"), "{commands:?}");
    assert!(commands[1].starts_with("bash tests/run.sh"), "{commands:?}");
    let ci = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(ci.contains("bash tests/run.sh"), "CI runs the README's test command");
}

/// Each example says how to create its database, build, run and try it, on a port of its own:
/// the one its `main.rs` gives `toolbox_runtime::Options`, which the README's curl commands use.
#[test]
fn each_example_has_a_readme_with_its_own_port() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ports = vec![5000];
    for example in ["postgres", "mysql", "hotels"] {
        let dir = root.join("examples").join(example);
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        let port: u16 = main
            .split("with_port(")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("examples/{example}/src/main.rs sets no port of its own"));
        assert!(!ports.contains(&port), "examples/{example} shares port {port}");
        ports.push(port);
        let readme = std::fs::read_to_string(dir.join("README.md"))
            .unwrap_or_else(|e| panic!("examples/{example}/README.md: {e}"));
        let package = format!("cargo run -p toolbox-example-{example}");
        for needed in [&package[..], &format!("localhost:{port}/mcp"), "## Create the database", "## Try it"] {
            assert!(readme.contains(needed), "examples/{example}/README.md lacks `{needed}`");
        }
    }
}
