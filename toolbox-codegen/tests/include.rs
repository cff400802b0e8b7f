//! `include:` end to end on files in a temporary folder: what is read, in which order, what the
//! build tracks, how relative paths resolve, and how each error names its file and line.

use std::path::Path;
use toolbox_codegen::{format_file, generate};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn tool(name: &str, source: &str) -> String {
    format!(
        "kind: tool\nname: {name}\ntype: sqlite-sql\nsource: {source}\ndescription: d\nstatement: SELECT id FROM t\n"
    )
}

/// The names of the files a run tracks, relative to `dir`.
fn tracked(dir: &Path, out: &toolbox_codegen::Output) -> Vec<String> {
    let dir = std::fs::canonicalize(dir).unwrap();
    out.tracked_files
        .iter()
        .map(|p| {
            let p = std::fs::canonicalize(p).unwrap_or(p.clone());
            p.strip_prefix(&dir).unwrap_or(&p).display().to_string()
        })
        .collect()
}

#[test]
fn files_and_folders_are_read_in_order_and_tracked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "tools.yaml", "include: [conf/source.yaml, tools.d]\n---\ntoolsets:\n  all: [a, b, c]\n");
    // The source's schemaFile is relative to the file that declares it.
    write(d, "conf/source.yaml", "kind: source\nname: db\ntype: sqlite\ndatabase: app.db\nschemaFile: schema.sql\n");
    write(d, "conf/schema.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);");
    // Name order; `common.yaml` is included twice (by b and by c) and read once.
    write(d, "tools.d/b.yaml", &format!("{}---\ninclude: ../common.yaml\n", tool("b", "db")));
    write(d, "tools.d/a.yml", &tool("a", "db"));
    write(d, "tools.d/c.yaml", &format!("include: ../common.yaml\n---\n{}", tool("c", "db")));
    write(d, "tools.d/notes.txt", "not yaml");
    write(d, "tools.d/.hidden.yaml", "not: read");
    write(d, "common.yaml", "kind: toolset\nname: common\ntools: [a]\n");
    let out = generate(&d.join("tools.yaml"), "tools.yaml", &|_| None);
    assert_eq!(out.errors, Vec::<String>::new());
    assert_eq!(
        tracked(d, &out),
        [
            "tools.yaml",
            "conf/source.yaml",
            "tools.d/a.yml",
            "tools.d/b.yaml",
            "common.yaml",
            "tools.d/c.yaml",
            "conf/schema.sql",
            "tools.d"
        ],
        "every file read, then the folder whose listing was read"
    );
    let code = format_file(&out.code);
    let dir_text = std::fs::canonicalize(d.join("conf")).unwrap().display().to_string();
    assert!(
        code.contains(&format!("dir: {dir_text:?}")),
        "a relative database is resolved beside conf/source.yaml: {code}"
    );
    assert!(code.contains("file: \"conf/source.yaml\",\n"), "settings name their own file: {code}");
}

#[test]
fn an_error_in_an_included_file_names_that_file_and_shows_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "schema.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);");
    write(
        d,
        "tools.yaml",
        "kind: source\nname: db\ntype: sqlite\ndatabase: app.db\nschemaFile: schema.sql\n---\ninclude: more/tools.yaml\n",
    );
    write(d, "more/tools.yaml", &format!("{}---\n{}", tool("a", "db"), tool("a", "db").replace("id FROM", "idd FROM")));
    let out = generate(&d.join("tools.yaml"), "tools.yaml", &|_| None);
    assert_eq!(out.errors.len(), 2, "{:#?}", out.errors);
    assert!(out.errors[0].starts_with("more/tools.yaml:9:7: tool `a` is declared more than once"), "{}", out.errors[0]);
    assert!(out.errors[0].contains("the first declaration is at line 2"), "{}", out.errors[0]);
    assert!(out.errors[1].starts_with("more/tools.yaml:13:19: the statement of tool `a`"), "{}", out.errors[1]);
    assert!(
        out.errors[1].contains("13 | statement: SELECT idd FROM t"),
        "the excerpt is that file's line: {}",
        out.errors[1]
    );
}

#[test]
fn include_errors_are_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "tools.yaml", "include: [a.yaml, missing.yaml, empty, 7, prebuilt:postgress]\n");
    write(d, "a.yaml", "include: b.yaml\n");
    write(d, "b.yaml", "include: [../DIR/a.yaml]\n".replace("../DIR/", "").as_str());
    std::fs::create_dir(d.join("empty")).unwrap();
    let out = generate(&d.join("tools.yaml"), "tools.yaml", &|_| None);
    let firsts: Vec<&str> = out.errors.iter().map(|e| e.lines().next().unwrap()).collect();
    assert_eq!(
        firsts,
        [
            "tools.yaml:1:19: cannot include `missing.yaml`: No such file or directory (os error 2)",
            "tools.yaml:1:33: the folder `empty` has no `.yaml` or `.yml` file to include",
            "tools.yaml:1:40: `include` must name a file, a folder or a prebuilt set, found an integer",
            "tools.yaml:1:43: unknown prebuilt set `postgress`",
            "b.yaml:1:11: `a.yaml` includes itself: a.yaml → b.yaml → a.yaml",
        ]
    );
    assert!(out.errors[3].contains("did you mean `postgres`?"), "{}", out.errors[3]);
    let out = generate(&d.join("a.yaml"), "a.yaml", &|_| None);
    assert!(
        out.errors[0].starts_with("b.yaml:1:11: `a.yaml` includes itself: a.yaml → b.yaml → a.yaml"),
        "{:?}",
        out.errors
    );
}

#[test]
fn a_prebuilt_set_has_its_own_source_or_uses_yours() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "schema.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);");
    // Its own source needs SQLITE_DATABASE to name an existing file when building.
    write(d, "tools.yaml", "include: prebuilt:sqlite\n");
    let out = generate(&d.join("tools.yaml"), "tools.yaml", &|_| None);
    assert_eq!(out.errors.len(), 1, "{:#?}", out.errors);
    assert!(
        out.errors[0].starts_with("prebuilt:sqlite:9:11: source `sqlite-source`: cannot check its statements"),
        "{}",
        out.errors[0]
    );
    assert!(out.errors[0].contains("9 | database: ${SQLITE_DATABASE}"), "{}", out.errors[0]);
    std::fs::write(d.join("app.db"), "").unwrap();
    let out =
        generate(&d.join("tools.yaml"), "tools.yaml", &|name| (name == "SQLITE_DATABASE").then(|| "app.db".into()));
    assert_eq!(out.errors, Vec::<String>::new());
    let code = format_file(&out.code);
    assert!(code.contains("file: \"prebuilt:sqlite\""), "{code}");
    assert!(code.contains("name: \"sqlite_database_tools\""));
    // Pointed at a source of yours: its own source is not defined.
    write(
        d,
        "tools.yaml",
        "kind: source\nname: mine\ntype: sqlite\ndatabase: app.db\nschemaFile: schema.sql\n---\ninclude: {prebuilt: sqlite, source: mine}\n",
    );
    let out = generate(&d.join("tools.yaml"), "tools.yaml", &|_| None);
    assert_eq!(out.errors, Vec::<String>::new());
    let code = format_file(&out.code);
    assert!(!code.contains("sqlite-source"), "{code}");
    assert_eq!(code.matches("rt::SourceDef {").count(), 1);
    // A source that is not declared is reported where the include names it.
    write(d, "tools.yaml", "include:\n  - prebuilt: sqlite\n    source: nope\n");
    let out = generate(&d.join("tools.yaml"), "tools.yaml", &|_| None);
    assert!(out.errors.iter().all(|e| e.starts_with("tools.yaml:3:13: unknown source `nope`")), "{:#?}", out.errors);
}
