//! The subcommands besides `serve`: `list` (what the binary serves), `invoke` (one tool call
//! without a server, through the same method layer as `tools/call`), `check` (every compiled
//! statement prepared against the live databases, as `--strict-schema` does at start-up) and
//! `schema` (the `tools/list` JSON).
//!
//! Exit statuses: 0 when it worked; 1 when the tool answered `isError`, a statement differs from
//! the live schema, a source is unreachable or cannot be set up; 2 for a command line that cannot
//! be run (an unknown tool, parameter or toolset, a value that is not of its parameter's type).

use crate::args::{NoClaims, ParamKind};
use crate::def::{ToolDef, ToolShape, Toolbox, ToolsetDef};
use crate::mcp::{Mcp, Transport};
use crate::protocol::{SUPPORTED_VERSIONS, Version};
use crate::server::{Cli, LogFormat, LogLevel, init_logging, report_error};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::process::ExitCode;
use std::sync::Arc;

/// A subcommand.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Serve MCP over HTTP, or stdio with --stdio (what toolbox does without a subcommand).
    Serve(Box<Cli>),
    /// List the toolsets, tools and prompts compiled into this binary.
    List(ListArgs),
    /// Run one tool without a server and print its result as JSON (exit status 1 when the tool
    /// answers an error).
    Invoke(InvokeArgs),
    /// Prepare every compiled statement against the live databases, as --strict-schema does at
    /// start-up, and exit 1 on any difference or unreachable source.
    Check(CheckArgs),
    /// Print the tools/list result of a toolset as JSON.
    Schema(SchemaArgs),
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {}

#[derive(clap::Args, Debug)]
pub struct InvokeArgs {
    /// The tool to run (`toolbox list` names them).
    pub tool: String,
    /// The arguments as one JSON object, e.g. '{"origin":"SFO","destination":"JFK"}'.
    #[arg(value_name = "JSON")]
    pub arguments: Option<String>,
    /// One argument, NAME=VALUE (repeatable; it overrides the same name in JSON). VALUE is taken
    /// as it is for a string parameter, and read as JSON for the others: limit=5, ratio=0.5,
    /// paid=true, ids='[1,2]', filter='{"a":1}'.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Lowest level of log messages to print (to stderr).
    #[arg(long, value_enum, default_value_t = LogLevel::Error, ignore_case = true)]
    pub log_level: LogLevel,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Lowest level of log messages to print (to stderr).
    #[arg(long, value_enum, default_value_t = LogLevel::Error, ignore_case = true)]
    pub log_level: LogLevel,
}

#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// The toolset whose tools to print (served at /mcp/NAME); by default every tool, as /mcp
    /// serves them.
    #[arg(long, value_name = "NAME")]
    pub toolset: Option<String>,
    /// The protocol version whose tools/list shape to print.
    #[arg(long, default_value = "2025-11-25", value_parser = clap::builder::PossibleValuesParser::new(SUPPORTED_VERSIONS))]
    pub protocol_version: String,
}

/// Runs a subcommand other than `serve`.
pub fn run(toolbox: &'static Toolbox, command: Command) -> ExitCode {
    match command {
        Command::Serve(_) => unreachable!("`serve` is the server's"),
        Command::List(_) => list(toolbox),
        Command::Invoke(args) => invoke(toolbox, args),
        Command::Check(args) => check(toolbox, args),
        Command::Schema(args) => schema(toolbox, args),
    }
}

/// A command line that cannot be run: said on stderr, exit status 2.
fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// The tools of a toolset as `tools/list` describes them at `shape`.
fn tools_json(toolset: &ToolsetDef, shape: usize) -> Vec<Value> {
    serde_json::from_str(toolset.tools_json[shape]).unwrap_or_default()
}

/// One line of text: runs of whitespace (a description's line breaks) as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn list(toolbox: &'static Toolbox) -> ExitCode {
    let Some(default) = toolbox.toolset(None) else { return ExitCode::SUCCESS };
    let tools = tools_json(default, ToolShape::V20250618 as usize);
    let name_width = toolbox.tools.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let source_width = toolbox.sources.iter().map(|s| s.name.len()).max().unwrap_or(0);
    println!("Tools ({}), served at /mcp:", toolbox.tools.len());
    for tool in toolbox.tools {
        let entry = tools.iter().find(|t| t["name"] == tool.name);
        let description = entry.and_then(|t| t["description"].as_str()).map(one_line).unwrap_or_default();
        let source = toolbox.sources.get(tool.source).map_or("", |s| s.name);
        println!("  {:name_width$}  {:source_width$}  {description}", tool.name, source);
    }
    let named: Vec<&ToolsetDef> = toolbox.toolsets.iter().skip(1).collect();
    if !named.is_empty() {
        println!("Toolsets:");
        let width = named.iter().map(|t| t.name.len()).max().unwrap_or(0) + "/mcp/".len();
        for toolset in named {
            let tools: Vec<&str> =
                toolbox.tools.iter().enumerate().filter(|(i, _)| toolset.has_tool(*i)).map(|(_, t)| t.name).collect();
            println!("  {:width$}  {}", format!("/mcp/{}", toolset.name), tools.join(", "));
        }
    }
    if !toolbox.prompts.is_empty() {
        println!("Prompts ({}):", toolbox.prompts.len());
        let width = toolbox.prompts.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for prompt in toolbox.prompts {
            println!("  {:width$}  {}", prompt.name, one_line(prompt.description));
        }
    }
    ExitCode::SUCCESS
}

/// What a value of `kind` looks like on the command line: as in a call, written as JSON when
/// it is an array or an object.
fn expected(kind: ParamKind) -> String {
    let what = crate::args::expected(kind);
    match kind {
        ParamKind::Array | ParamKind::Map => format!("{what} written as JSON"),
        _ => what.to_string(),
    }
}

/// The arguments of an `invoke`: the JSON object, then each `--param NAME=VALUE`, read by the
/// parameter's declared type. The values are checked by the tool itself, as on `tools/call`.
pub fn arguments(tool: &ToolDef, json: Option<&str>, params: &[String]) -> Result<Map<String, Value>, String> {
    let mut arguments = match json.map(serde_json::from_str::<Value>) {
        None => Map::new(),
        Some(Ok(Value::Object(object))) => object,
        Some(Ok(_)) => return Err("the arguments must be one JSON object, e.g. '{\"name\": \"value\"}'".into()),
        Some(Err(e)) => return Err(format!("the arguments are not JSON: {e}")),
    };
    let names = || tool.params.iter().map(|p| p.name).collect::<Vec<_>>().join(", ");
    for param in params {
        let Some((name, text)) = param.split_once('=') else {
            return Err(format!("--param `{param}`: write it as NAME=VALUE"));
        };
        let Some(def) = tool.params.iter().find(|p| p.name == name) else {
            return Err(match tool.params.is_empty() {
                true => format!("--param `{param}`: tool `{}` takes no parameters", tool.name),
                false => {
                    format!("--param `{param}`: tool `{}` has no parameter `{name}` (it has: {})", tool.name, names())
                }
            });
        };
        let value = match def.kind {
            ParamKind::String => Value::String(text.to_string()),
            kind => serde_json::from_str::<Value>(text)
                .ok()
                .filter(|v| match kind {
                    ParamKind::Integer => v.is_i64() || v.is_u64(),
                    ParamKind::Float => v.is_number(),
                    ParamKind::Boolean => v.is_boolean(),
                    ParamKind::Array => v.is_array(),
                    ParamKind::Map => v.is_object(),
                    ParamKind::String => true,
                })
                .ok_or_else(|| format!("--param `{param}`: `{name}` is {}, and `{text}` is not one", expected(kind)))?,
        };
        arguments.insert(name.to_string(), value);
    }
    Ok(arguments)
}

/// A runtime for one subcommand: the calling thread, plus the blocking pool SQLite uses.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn invoke(toolbox: &'static Toolbox, args: InvokeArgs) -> ExitCode {
    let Some((_, tool)) = toolbox.tool(&args.tool) else {
        let names: Vec<&str> = toolbox.tools.iter().map(|t| t.name).collect();
        return usage(format!("there is no tool `{}` in this binary (its tools: {})", args.tool, names.join(", ")));
    };
    let arguments = match arguments(tool, args.arguments.as_deref(), &args.params) {
        Ok(arguments) => arguments,
        Err(message) => return usage(message),
    };
    init_logging(args.log_level, LogFormat::Standard);
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(message) => return failure(&message),
    };
    let reply = runtime.block_on(async {
        let sources = Arc::new(toolbox.resolve_sources().map_err(|e| e.to_string())?);
        let mcp = Mcp::new(toolbox, sources.clone()).with_default_rate_limit(None);
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool.name, "arguments": arguments}});
        let toolset = toolbox.toolset(None).expect("the default toolset always exists");
        let transport = Transport::Stdio { negotiated: Some(Version::LATEST_LEGACY) };
        let reply = mcp.handle_body(toolset, body.to_string().as_bytes(), transport, &NoClaims).await;
        sources.close().await;
        Ok::<_, String>(reply.body.unwrap_or_default())
    });
    runtime.shutdown_background();
    let body = match reply {
        Ok(body) => body,
        Err(message) => return failure(&message),
    };
    let reply: Reply<'_> = match serde_json::from_slice(&body) {
        Ok(reply) => reply,
        Err(e) => return failure(&format!("the answer is not JSON-RPC: {e}")),
    };
    let (result, error) = (reply.result, reply.error);
    let Some(result) = result else {
        return failure(error.as_ref().map_or("the call failed", |e| e.message.as_str()));
    };
    // As the server sent it: the columns in their described order.
    println!("{}", result.get());
    let failed = serde_json::from_str::<Value>(result.get()).is_ok_and(|r| r["isError"] == true);
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// A JSON-RPC answer, its result kept as the server wrote it.
#[derive(serde::Deserialize)]
struct Reply<'a> {
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    error: Option<RpcErrorBody>,
}

#[derive(serde::Deserialize)]
struct RpcErrorBody {
    message: String,
}

fn failure(message: &str) -> ExitCode {
    report_error(LogFormat::Standard, message);
    ExitCode::FAILURE
}

fn check(toolbox: &'static Toolbox, args: CheckArgs) -> ExitCode {
    init_logging(args.log_level, LogFormat::Standard);
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(message) => return failure(&message),
    };
    let comparison = runtime.block_on(async {
        let sources = toolbox.resolve_sources().map_err(|e| e.to_string())?;
        let comparison = sources.connect_all().await;
        sources.close().await;
        Ok::<_, String>(comparison)
    });
    runtime.shutdown_background();
    let comparison = match comparison {
        Ok(comparison) => comparison,
        Err(message) => return failure(&message),
    };
    for unavailable in &comparison.unavailable {
        println!("unreachable: {unavailable}");
    }
    for difference in &comparison.drift {
        println!("differs: {difference}");
    }
    let statements: usize = toolbox.sources.iter().map(|s| s.kind.statements().len()).sum();
    let problems = comparison.unavailable.len() + comparison.drift.len();
    if problems == 0 {
        let sources = toolbox.sources.len();
        println!(
            "ok: {statements} statement{} of {sources} source{} prepare against the live databases as the binary was built",
            if statements == 1 { "" } else { "s" },
            if sources == 1 { "" } else { "s" },
        );
        ExitCode::SUCCESS
    } else {
        let s = if problems == 1 { "" } else { "s" };
        eprintln!("error: {problems} problem{s}: the live databases are not what this binary was built against");
        ExitCode::FAILURE
    }
}

fn schema(toolbox: &'static Toolbox, args: SchemaArgs) -> ExitCode {
    let Some(toolset) = toolbox.toolset(args.toolset.as_deref()) else {
        let names: Vec<&str> = toolbox.toolsets.iter().skip(1).map(|t| t.name).collect();
        return usage(match names.is_empty() {
            true => format!(
                "there is no toolset `{}`: this binary has none besides the default",
                args.toolset.unwrap_or_default()
            ),
            false => format!(
                "there is no toolset `{}` (the toolsets: {})",
                args.toolset.unwrap_or_default(),
                names.join(", ")
            ),
        });
    };
    let version = Version::parse(&args.protocol_version).unwrap_or(Version::LATEST_LEGACY);
    // As `tools/list` serves it, the properties in their order.
    println!("{{\"tools\":{}}}", toolset.tools_json[version.tool_shape()]);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::ParamDef;
    use crate::call::ToolOutput;

    static PARAMS: [ParamDef; 6] = [
        ParamDef::new("name", ParamKind::String),
        ParamDef::new("limit", ParamKind::Integer),
        ParamDef::new("ratio", ParamKind::Float),
        ParamDef::new("paid", ParamKind::Boolean),
        ParamDef::new("ids", ParamKind::Array),
        ParamDef::new("filter", ParamKind::Map),
    ];

    static TOOL: ToolDef = ToolDef {
        name: "t",
        source: 0,
        params: &PARAMS,
        auth_required: &[],
        scopes_required: &[],
        header_params: &[],
        query_timeout_ms: None,
        rate_limit: None,
        template_params: 0,
        handler: |_, _| Box::pin(async { ToolOutput::Affected { rows_affected: 0 } }),
    };

    fn params(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn param_values_are_read_by_their_declared_type() {
        let given =
            params(&["name=42", "limit=5", "ratio=0.5", "paid=true", "ids=[1,2]", r#"filter={"a":1}"#, "name=a=b"]);
        let arguments = arguments(&TOOL, None, &given).unwrap();
        assert_eq!(
            Value::Object(arguments),
            json!({"name": "a=b", "limit": 5, "ratio": 0.5, "paid": true, "ids": [1, 2], "filter": {"a": 1}})
        );
    }

    #[test]
    fn params_are_added_to_the_json_object() {
        let arguments = arguments(&TOOL, Some(r#"{"name": "x", "limit": 1}"#), &params(&["limit=2"])).unwrap();
        assert_eq!(Value::Object(arguments), json!({"name": "x", "limit": 2}));
    }

    #[test]
    fn what_cannot_be_an_argument_is_a_usage_error() {
        let error = |json: Option<&str>, list: &[&str]| arguments(&TOOL, json, &params(list)).unwrap_err();
        assert_eq!(error(None, &["limit=abc"]), "--param `limit=abc`: `limit` is an integer, and `abc` is not one");
        assert_eq!(error(None, &["limit=1.5"]), "--param `limit=1.5`: `limit` is an integer, and `1.5` is not one");
        assert_eq!(error(None, &["paid=yes"]), "--param `paid=yes`: `paid` is true or false, and `yes` is not one");
        assert_eq!(
            error(None, &["nope=1"]),
            "--param `nope=1`: tool `t` has no parameter `nope` (it has: name, limit, ratio, paid, ids, filter)"
        );
        assert_eq!(error(None, &["limit"]), "--param `limit`: write it as NAME=VALUE");
        assert!(error(Some("[1]"), &[]).starts_with("the arguments must be one JSON object"));
        assert!(error(Some("{"), &[]).starts_with("the arguments are not JSON"));
    }
}
