//! Parser and validator tests on small files: each checks the rendered diagnostics.

use crate::{LoadOptions, load_str};

fn check(yaml: &str) -> (crate::model::Config, Vec<String>) {
    let env = |name: &str| (name == "TABLE").then(|| "flights".to_string());
    let (config, diags) = load_str(yaml, &LoadOptions { env: &env });
    (config, diags.iter().map(|d| d.render("tools.yaml", yaml)).collect())
}

const SOURCE: &str = "kind: source\nname: db\ntype: sqlite\ndatabase: ${DB_PATH:demo.db}\n";

#[test]
fn flat_and_legacy_formats_mix() {
    let yaml = format!(
        "{SOURCE}---\nkind: tool\nname: one\ntype: sqlite-sql\nsource: db\ndescription: d\nstatement: SELECT 1 FROM ${{TABLE}}\n---\ntools:\n  two:\n    kind: sqlite-execute-sql\n    source: db\n    description: run sql\ntoolsets:\n  all: [one, two]\n"
    );
    let (config, diags) = check(&yaml);
    assert_eq!(diags, Vec::<String>::new());
    assert_eq!(config.tools.len(), 2);
    assert_eq!(config.tools[0].statement.as_ref().unwrap().value, "SELECT 1 FROM flights");
    let crate::model::SourceKind::Sqlite(s) = &config.sources[0].kind else { panic!("a sqlite source") };
    assert_eq!(s.database.value, "${DB_PATH:demo.db}", "source settings keep their placeholders until start-up");
    assert_eq!(config.toolsets[0].tools.len(), 2);
}

#[test]
fn every_error_in_a_file_is_reported_with_line_and_column() {
    let yaml = format!(
        "{SOURCE}---\nkind: tool\nname: one\ntype: sqlite-sql\nsource: dbb\ndescription: d\nstatment: SELECT 1\n---\nkind: tool\nname: bad name\ntype: sqlite-sql\nsource: db\ndescription: d\nstatement: SELECT ?\nparameters:\n  - name: n\n    type: integr\n    description: x\n"
    );
    let (_, diags) = check(&yaml);
    assert_eq!(diags.len(), 4, "{diags:#?}");
    assert!(diags[0].starts_with("tools.yaml:9:9: unknown source `dbb`"), "{}", diags[0]);
    assert!(diags[0].contains("did you mean `db`?"));
    assert!(diags[1].starts_with("tools.yaml:11:1: unknown field `statment` in tool `one`"), "{}", diags[1]);
    assert!(diags[1].contains("did you mean `statement`?"), "a misspelt field is reported once, not also as missing");
    assert!(diags[2].starts_with("tools.yaml:14:7: invalid tool name"), "{}", diags[2]);
    assert!(diags[3].starts_with("tools.yaml:21:11: unknown parameter type `integr`"), "{}", diags[3]);
    assert!(diags[3].contains("did you mean `integer`?"));
}

#[test]
fn typed_defaults_and_allowed_values() {
    let yaml = format!(
        "{SOURCE}---\nkind: tool\nname: t\ntype: sqlite-sql\nsource: db\ndescription: d\nstatement: SELECT ?\nparameters:\n  - name: n\n    type: integer\n    description: x\n    default: ten\n    allowedValues: [1, \"2\"]\n"
    );
    let (_, diags) = check(&yaml);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(
        diags[0]
            .starts_with("tools.yaml:16:14: the default \"ten\" of parameter `n` of tool `t` is not of type `integer`"),
        "{}",
        diags[0]
    );
    assert!(diags[1].starts_with("tools.yaml:17:24: \"2\" in `allowedValues`"), "{}", diags[1]);
}

#[test]
fn yaml_syntax_errors_point_at_the_problem() {
    let (_, diags) = check("kind: tool\nname: [unclosed\n");
    assert_eq!(diags.len(), 1);
    assert!(diags[0].starts_with("tools.yaml:3:1: YAML syntax error"), "{}", diags[0]);
}

#[test]
fn missing_build_time_variables_are_errors() {
    let yaml = format!(
        "{SOURCE}---\nkind: tool\nname: t\ntype: sqlite-sql\nsource: db\ndescription: d\nstatement: SELECT * FROM ${{NOPE}}\n"
    );
    let (_, diags) = check(&yaml);
    assert!(diags[0].starts_with("tools.yaml:11:12: environment variable `NOPE` is not set"), "{diags:#?}");
}

#[test]
fn a_definition_with_an_error_does_not_cascade_into_references() {
    let yaml = format!(
        "{SOURCE}---\nkind: tool\nname: t\ntype: sqlite-execute-sql\nsource: db\n---\nkind: toolset\nname: all\ntools: [t]\n"
    );
    let broken = yaml.replace("source: db\n---\nkind: toolset", "---\nkind: toolset");
    let (_, diags) = check(&broken);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(diags[0].contains("missing the required field `description`"));
    assert!(diags[1].contains("missing the required field `source`"));
}

#[test]
fn auth_service_urls_must_be_https_unless_loopback() {
    let service = |url: &str| {
        format!("kind: authService\nname: idp\ntype: generic\naudience: https://t/mcp\nauthorizationServer: {url}\n")
    };
    for ok in [
        "https://auth.example.com",
        "http://127.0.0.1:8080",
        "http://localhost:4000/realms/x",
        "http://[::1]:80",
        "${ISSUER}",
    ] {
        assert_eq!(check(&service(ok)).1, Vec::<String>::new(), "{ok}");
    }
    for bad in ["http://auth.example.com", "ftp://auth.example.com", "auth.example.com", "http://10.0.0.1"] {
        let diags = check(&service(bad)).1;
        assert_eq!(diags.len(), 1, "{bad}: {diags:#?}");
        assert!(diags[0].starts_with("tools.yaml:5:22: authService `idp`: `authorizationServer`"), "{}", diags[0]);
    }
}

#[test]
fn every_prebuilt_set_reads_cleanly_and_can_use_a_source_of_yours() {
    for (name, _) in crate::prebuilt::SETS {
        let (config, diags) = check(&format!("include: prebuilt:{name}\n"));
        assert_eq!(diags, Vec::<String>::new(), "prebuilt:{name}");
        assert_eq!(config.sources.len(), 1, "prebuilt:{name} defines its source");
        assert!(config.tools.len() >= 5, "prebuilt:{name}");
        assert!(config.tools.iter().all(|t| t.source.value == config.sources[0].name.value));
        assert!(config.tools.iter().all(|t| t.name.pos.file == 1), "positions are in the set's file");
        let engine = config.sources[0].kind.type_name();
        let mine = format!(
            "kind: source\nname: mine\ntype: {engine}\n{}",
            match engine {
                "sqlite" => "database: x.db\n",
                _ => "host: localhost\nport: 1\ndatabase: d\nuser: u\npassword: p\n",
            }
        );
        let (config, diags) = check(&format!("{mine}---\ninclude: {{prebuilt: {name}, source: mine}}\n"));
        assert_eq!(diags, Vec::<String>::new(), "prebuilt:{name} on a source of yours");
        assert_eq!(config.sources.len(), 1);
        assert!(config.tools.iter().all(|t| t.source.value == "mine" && t.source.pos.file == 0));
    }
    // Included twice (with the same source): read once.
    let (config, diags) = check("include: [prebuilt:sqlite, prebuilt:sqlite]\n");
    assert_eq!(diags, Vec::<String>::new());
    assert_eq!(config.sources.len(), 1);
    // A source of another engine: each tool says so.
    let (_, diags) = check(
        "kind: source\nname: mine\ntype: sqlite\ndatabase: x.db\n---\ninclude: {prebuilt: postgres, source: mine}\n",
    );
    assert!(!diags.is_empty() && diags.iter().all(|d| d.starts_with("tools.yaml:6:")), "{diags:#?}");
}
