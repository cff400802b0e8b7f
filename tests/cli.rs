//! The real binary's command line: the subcommands (`list`, `invoke`, `check`, `schema`), what
//! users type (`--address localhost`, the reference's `--tools-file`, `--stdio` with a port), the
//! start-up messages (once, without colour in a pipe), a relative SQLite path started from
//! elsewhere, and the README's stdio client configurations run as written.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_toolbox");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The binary with `args`, on a demo database of its own in `dir`, colour left to the binary.
fn toolbox(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command.args(args).env("TOOLBOX_DEMO_DB", dir.join("airline.db")).env_remove("NO_COLOR");
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    toolbox(dir, args).stdin(Stdio::null()).output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes each message to a stdio server started by `command` and reads one answer per message
/// that has an `id`; then closes stdin and returns the answers and the log.
fn over_stdio(command: &mut Command, messages: &[Value]) -> (Vec<Value>, String) {
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut answers = Vec::new();
    for message in messages {
        writeln!(stdin, "{message}").unwrap();
        if message.get("id").is_some() {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            answers.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON-RPC ({e}): {line:?}")));
        }
    }
    drop(stdin);
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(child.wait().unwrap().success(), "{log}");
    (answers, log)
}

fn initialize(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "cli-test", "version": "1"}}})
}

fn tools_call(name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": name, "arguments": arguments}})
}

#[test]
fn list_prints_every_tool_with_its_description() {
    let dir = tempfile::tempdir().unwrap();
    // The server's variables in the environment do not stand in the way of a subcommand.
    let output = toolbox(dir.path(), &["list"]).env("TOOLBOX_RATE_LIMIT", "off").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("Tools (7), served at /mcp:\n"), "{text}");
    let line = text.lines().find(|l| l.trim_start().starts_with("search_flights ")).expect("search_flights listed");
    assert!(line.contains("airline") && line.contains("Find flights between two airports"), "{line}");
    assert!(text.contains("/mcp/traveller") && text.contains("plan_trip"), "{text}");
    assert!(!dir.path().join("airline.db").exists(), "listing opens no database");
}

#[test]
fn invoke_answers_what_tools_call_answers_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        dir.path(),
        &["invoke", "search_flights", "--param", "origin=SFO", "--param", "destination=JFK", "--param", "limit=2"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["structuredContent"]["rows"][0]["flight_number"], "UA0008", "{result}");
    assert_eq!(result["structuredContent"]["rows"].as_array().unwrap().len(), 2);

    // The same call through the stdio server, at the version invoke speaks: the same bytes.
    let arguments = json!({"origin": "SFO", "destination": "JFK", "limit": 2});
    let (answers, _) = over_stdio(
        &mut toolbox(dir.path(), &["--stdio"]),
        &[initialize("2025-11-25"), tools_call("search_flights", arguments)],
    );
    assert_eq!(result, answers[1]["result"]);

    // A JSON object, and the columns in their described order.
    let output = run(dir.path(), &["invoke", "get_flight", r#"{"flight_number": "UA0008"}"#]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(r#"{"flight_number":"UA0008","airline":"UA","origin":"SFO""#),
        "{}",
        stdout(&output)
    );
}

#[test]
fn invoke_exits_1_on_an_error_result_and_2_on_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let failed = run(dir.path(), &["invoke", "execute_sql", "--param", "sql=SELECT nope FROM flights"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let result: Value = serde_json::from_str(&stdout(&failed)).unwrap();
    assert_eq!(result["isError"], true);
    assert_eq!(result["content"][0]["text"], "database error: no such column: nope");

    let wrong_type = run(dir.path(), &["invoke", "get_flight", r#"{"flight_number": 8}"#]);
    assert_eq!(wrong_type.status.code(), Some(1), "the tool's own check answers: {}", stdout(&wrong_type));

    for (args, message) in [
        (&["invoke", "search_flights", "--param", "limit=ten"][..], "`limit` is an integer, and `ten` is not one"),
        (&["invoke", "get_flight", "--param", "flight=UA0008"], "tool `get_flight` has no parameter `flight`"),
        (&["invoke", "no_such_tool"], "there is no tool `no_such_tool` in this binary"),
        (&["invoke", "get_flight", "[1]"], "the arguments must be one JSON object"),
        (&["schema", "--toolset", "nope"], "there is no toolset `nope` (the toolsets: traveller, operations)"),
    ] {
        let output = run(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(message), "{args:?}: {}", stderr(&output));
        assert_eq!(stdout(&output), "", "{args:?}");
    }
}

#[test]
fn schema_prints_the_tools_list_of_a_toolset() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["schema"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let (answers, _) = over_stdio(
        &mut toolbox(dir.path(), &["--stdio"]),
        &[initialize("2025-11-25"), json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})],
    );
    let schema: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(schema, answers[1]["result"], "schema is tools/list at 2025-11-25");

    let output = run(dir.path(), &["schema", "--toolset", "traveller", "--protocol-version", "2024-11-05"]);
    let schema: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let tools = schema["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 4);
    assert!(tools.iter().all(|t| t.get("outputSchema").is_none()), "2024-11-05 has no output schemas");
}

#[test]
fn check_passes_on_the_demo_and_names_each_difference() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).starts_with("ok: 9 statements of 1 source prepare"), "{}", stdout(&output));

    // A database file made before the tables were added.
    let stale = tempfile::tempdir().unwrap();
    std::fs::write(stale.path().join("airline.db"), b"").unwrap();
    let output = run(stale.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    let report = stdout(&output);
    assert!(
        report.contains(
            "differs: source `airline`, tool `search_flights`: the statement no longer prepares: no such table: flights"
        ),
        "{report}"
    );
    assert_eq!(report.lines().count(), 9, "one line per statement: {report}");
    assert!(stderr(&output).contains("9 problems"), "{}", stderr(&output));
}

#[test]
fn the_reference_flags_and_stdio_with_a_port_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["--tools-file", "tools.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("compiles its configuration into the binary"), "{message}");
    assert!(message.contains("`cargo build --release`") && !message.contains("similar argument"), "{message}");

    let output = run(dir.path(), &["--stdio", "--port", "5001"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--port has no use with --stdio"), "{}", stderr(&output));
}

/// Reads stderr up to the line that says where the server listens.
fn listening_line(stderr: &mut impl BufRead) -> String {
    let mut line = String::new();
    while !line.contains("serving MCP") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the server exited before listening");
    }
    line
}

#[test]
fn address_localhost_listens_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = toolbox(dir.path(), &["serve", "--address", "localhost", "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = listening_line(&mut BufReader::new(child.stderr.take().unwrap()));
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("serving MCP at http://127.0.0.1:"), "{line}");
}

/// A start-up error is said once, without colour in a pipe: `error: ...` in the standard format,
/// one JSON line in the JSON format.
#[test]
fn a_start_up_error_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["--require-source", "nope"]);
    assert_eq!(output.status.code(), Some(1));
    let log = stderr(&output);
    assert_eq!(log.matches("--require-source nope").count(), 1, "{log}");
    assert!(log.trim_end().lines().last().unwrap().starts_with("error: --require-source nope"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a pipe: {log:?}");

    let output = run(dir.path(), &["--require-source", "nope", "--logging-format", "json"]);
    let log = stderr(&output);
    assert_eq!(log.matches("--require-source nope").count(), 1, "{log}");
    let line: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(line["level"], "ERROR");
}

/// A port in use stops the start with that one message: the comparison with the database, which
/// runs once the server listens, does not follow it with complaints of its own.
#[test]
fn a_port_in_use_is_the_only_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["--port", &port]);
    assert_eq!(output.status.code(), Some(1));
    let log = stderr(&output);
    assert_eq!(log.matches("cannot listen on").count(), 1, "{log}");
    assert!(log.contains("(choose another with --port)"), "{log}");
    assert!(!log.contains("WARN") && !log.contains("unavailable"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a pipe: {log:?}");
}

/// `path` as written relative to `base`: `../..` up to the root, then the path.
fn relative_to(base: &Path, path: &Path) -> PathBuf {
    let mut relative = PathBuf::new();
    for _ in base.components().skip(1) {
        relative.push("..");
    }
    relative.join(path.strip_prefix("/").unwrap())
}

/// A relative `database` is resolved against the directory of `tools.yaml`, wherever the client
/// starts the server: nothing is created in the working directory, and the path is logged.
#[test]
fn a_relative_database_path_does_not_depend_on_the_working_directory() {
    let data = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(ROOT).unwrap();
    let data_dir = std::fs::canonicalize(data.path()).unwrap();
    let relative = relative_to(&root, &data_dir.join("airline.db"));
    assert!(relative.is_relative());
    let mut command = Command::new(BINARY);
    command.args(["--stdio"]).current_dir(elsewhere.path()).env("TOOLBOX_DEMO_DB", &relative).env_remove("NO_COLOR");
    let (answers, log) = over_stdio(
        &mut command,
        &[initialize("2025-11-25"), tools_call("get_flight", json!({"flight_number": "UA0008"}))],
    );
    assert_eq!(answers[1]["result"]["structuredContent"]["rows"][0]["flight_number"], "UA0008", "{}", answers[1]);
    assert!(data_dir.join("airline.db").exists());
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0, "a file appeared in the working directory");
    let path = data_dir.join("airline.db").display().to_string();
    assert!(log.contains(&format!("SQLite database {path}")), "the absolute path is logged:\n{log}");
}

/// The client configurations of the README's "Connecting a client over stdio": `(client, command,
/// args)`, as written.
fn readme_clients() -> Vec<(String, String, Vec<String>)> {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let start = readme.find("\n## Connecting a client over stdio").expect("the README's client section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut clients = Vec::new();
    let blocks: Vec<&str> = section.split("```").collect();
    for pair in blocks[1..].chunks(2) {
        let (language, body) = pair[0].split_once('\n').unwrap();
        match language {
            "json" => {
                let config: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
                let (key, servers) = match config.get("mcpServers") {
                    Some(servers) => ("mcpServers", servers),
                    None => ("servers", &config["servers"]),
                };
                for (name, server) in servers.as_object().unwrap_or_else(|| panic!("no servers in {body}")) {
                    if let Some(kind) = server.get("type") {
                        assert_eq!(kind, "stdio", "{body}");
                    }
                    let args = server["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string());
                    clients.push((
                        format!("{key}.{name}"),
                        server["command"].as_str().unwrap().to_string(),
                        args.collect(),
                    ));
                }
            }
            "sh" => {
                for line in body.lines().filter(|l| l.starts_with("claude mcp add")) {
                    let (_, command) = line.split_once(" -- ").expect("claude mcp add NAME -- COMMAND ARGS");
                    let mut words = command.split_whitespace().map(str::to_string);
                    clients.push(("claude mcp add".into(), words.next().unwrap(), words.collect()));
                }
            }
            _ => {}
        }
    }
    clients
}

/// Each configuration of the README, run as written (the binary's path aside) from `/`, as the
/// clients do: initialize, tools/list, and a call that finds the demo's data.
#[test]
fn the_readme_client_configurations_serve_the_demo_over_stdio() {
    let clients = readme_clients();
    assert_eq!(clients.len(), 4, "Claude Desktop, Claude Code, VS Code, Gemini CLI: {clients:?}");
    for (client, command, args) in clients {
        let binary = match command.as_str() {
            "/path/to/toolbox/target/release/toolbox" | "${workspaceFolder}/target/release/toolbox" => BINARY,
            other => panic!("{client}: the README runs `{other}`; teach this test where that is"),
        };
        let started = Instant::now();
        let mut command = Command::new(binary);
        command.args(&args).current_dir("/").env_remove("TOOLBOX_DEMO_DB");
        let (answers, log) = over_stdio(
            &mut command,
            &[
                initialize("2025-06-18"),
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
                tools_call("get_flight", json!({"flight_number": "UA0008"})),
            ],
        );
        assert_eq!(answers[0]["result"]["protocolVersion"], "2025-06-18", "{client}");
        assert_eq!(answers[1]["result"]["tools"].as_array().map(Vec::len), Some(7), "{client}: {}", answers[1]);
        assert_eq!(
            answers[2]["result"]["structuredContent"]["rows"][0]["flight_number"], "UA0008",
            "{client}: the demo database is found from `/`: {}",
            answers[2]
        );
        let demo = std::fs::canonicalize(ROOT).unwrap().join("demo/airline.db");
        assert!(log.contains(&format!("SQLite database {}", demo.display())), "{client}:\n{log}");
        assert!(started.elapsed() < Duration::from_secs(60));
    }
}
