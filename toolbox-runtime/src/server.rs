//! The command line and the process: the subcommands (`serve`, the default, and those of
//! [`crate::command`]), logging, sources, HTTP or stdio, graceful shutdown.

use crate::auth::{Auth, AuthOptions};
use crate::command::Command;
use crate::def::Toolbox;
use crate::http::{AppState, HostRule, HttpConfig, OriginRule, Readiness, metrics_router, router};
use crate::mcp::Mcp;
use crate::serve::ConnectionTimeouts;
use crate::telemetry::{Telemetry, TelemetryConfig};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(name = "toolbox", version, about = "An MCP server for databases, with its tools compiled from tools.yaml")]
pub struct Cli {
    /// Address to listen on: an IP address, or a host name such as `localhost`, resolved once at
    /// start-up.
    #[arg(short = 'a', long, default_value = "127.0.0.1", value_parser = parse_address)]
    pub address: IpAddr,
    /// Port to listen on.
    #[arg(short = 'p', long, default_value_t = 5000)]
    pub port: u16,
    /// Serve MCP over stdin and stdout instead of HTTP.
    #[arg(long)]
    pub stdio: bool,
    /// Lowest level of log messages to print (to stderr).
    #[arg(long, value_enum, default_value_t = LogLevel::Info, ignore_case = true)]
    pub log_level: LogLevel,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Standard)]
    pub logging_format: LogFormat,
    /// Host names accepted in the Host header (comma-separated; `*` for any). Default: the
    /// loopback names when bound to a loopback address, any otherwise.
    #[arg(long, value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Origins accepted in the Origin header, as scheme://host[:port] (comma-separated; `*` for
    /// any). Default: loopback origins when bound to a loopback address, any otherwise.
    #[arg(long, value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_request_bytes: usize,
    /// Refuse to start when a compiled statement no longer matches the live schema (by default
    /// the differences are logged as warnings).
    #[arg(long)]
    pub strict_schema: bool,
    /// The server's public URL (e.g. https://toolbox.example.com), used in the protected resource
    /// metadata and the WWW-Authenticate challenges of MCP authorization; the resource is
    /// <URL>/mcp. Default: the `audience` of the `mcpEnabled` auth service, when it is a URL.
    #[arg(long, env = "TOOLBOX_URL")]
    pub toolbox_url: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM: the server's certificate first, then its
    /// intermediates). Needs --tls-key. SIGHUP reloads both files.
    #[arg(long, env = "TOOLBOX_TLS_CERT", value_name = "PEM", requires = "tls_key", conflicts_with = "stdio")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1, unencrypted).
    #[arg(long, env = "TOOLBOX_TLS_KEY", value_name = "PEM", requires = "tls_cert", conflicts_with = "stdio")]
    pub tls_key: Option<PathBuf>,
    /// Accepted for the command lines of Google's MCP Toolbox, where it turns TLS on; here
    /// --tls-cert and --tls-key do, and --tls only insists that they are given.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    pub tls: bool,
    /// The time limit of a call whose tool has no `queryTimeout` (e.g. `90s`, `5m`): a safety net
    /// against runaway statements. The call answers an error at the limit and its statement is
    /// interrupted or cancelled.
    #[arg(long, env = "TOOLBOX_DEFAULT_QUERY_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub default_query_timeout: std::time::Duration,
    /// The default rate limit of a tool without a `rateLimit`, per caller (the token's subject,
    /// else the client's address): calls per period, e.g. `600/m`, `20/s`; `off` for none.
    #[arg(long, env = "TOOLBOX_RATE_LIMIT", default_value = "600/m", value_parser = parse_rate)]
    pub rate_limit: RateFlag,
    /// Worker threads that serve requests. Default: half the CPU cores, at least one; the other
    /// half is left to what a call waits on (SQLite's connection threads, a local database, the
    /// kernel's network work). bench/README.md has the measurements behind this default.
    #[arg(long, env = "TOOLBOX_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Longest a client may take to send a request's head (request line and headers), from its
    /// first byte; on a new connection, from the connection. Then the connection is closed.
    #[arg(long, env = "TOOLBOX_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    pub header_read_timeout: Duration,
    /// Longest a request body may take to arrive; then the request is answered 408 and the
    /// connection closed.
    #[arg(long, env = "TOOLBOX_BODY_READ_TIMEOUT", default_value = "30s", value_parser = positive_duration)]
    pub body_read_timeout: Duration,
    /// Longest a kept-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "TOOLBOX_IDLE_TIMEOUT", default_value = "60s", value_parser = positive_duration)]
    pub idle_timeout: Duration,
    /// On SIGTERM or SIGINT, how long requests in progress get to finish; then the connections
    /// left are closed and the process exits (0).
    #[arg(long, env = "TOOLBOX_SHUTDOWN_TIMEOUT", default_value = "25s", value_parser = duration)]
    pub shutdown_timeout: Duration,
    /// On SIGTERM or SIGINT, how long to go on serving with /readyz answering 503 before the
    /// listener closes, so that a load balancer that polls /readyz stops sending requests first
    /// (e.g. 5s; the default, 0, closes the listener at once).
    #[arg(long, env = "TOOLBOX_DRAIN_DELAY", default_value = "0s", value_parser = duration)]
    pub drain_delay: Duration,
    /// Serve Prometheus metrics at /metrics on the main listener (under the Host and Origin
    /// rules). Off by default, so that a public port does not expose them by accident.
    #[arg(long, env = "TOOLBOX_METRICS")]
    pub metrics: bool,
    /// Serve /metrics on this address of its own (e.g. 127.0.0.1:9464) instead of the main
    /// listener.
    #[arg(long, env = "TOOLBOX_METRICS_ADDRESS", value_name = "IP:PORT")]
    pub metrics_address: Option<SocketAddr>,
    /// Export traces and metrics over OTLP/HTTP to this collector (e.g. http://127.0.0.1:4318;
    /// `/v1/traces` and `/v1/metrics` are added). The standard OTEL_* variables are honoured
    /// (OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER, OTEL_METRIC_EXPORT_INTERVAL, ...); with
    /// OTEL_EXPORTER_OTLP_ENDPOINT set, the flag may be left out.
    #[arg(long, env = "TOOLBOX_TELEMETRY_OTLP", value_name = "URL")]
    pub telemetry_otlp: Option<String>,
    /// `service.name` of the exported telemetry. Default: OTEL_SERVICE_NAME, else `toolbox`.
    #[arg(long)]
    pub telemetry_service_name: Option<String>,
    /// Append the tool's name and the trace context to each statement as a sqlcommenter comment,
    /// so the database's own logs and pg_stat_statements show which tool ran it.
    #[arg(long, env = "TOOLBOX_SQL_COMMENTER")]
    pub sql_commenter: bool,
    /// A source that must answer for /readyz to report ready (repeatable). With --strict-schema,
    /// every source must.
    #[arg(long = "require-source", value_name = "SOURCE")]
    pub require_source: Vec<String>,
    /// Serve a page at /ui to browse and try the tools (under the Host and Origin rules, so on
    /// loopback only by default). Off by default.
    #[arg(long, env = "TOOLBOX_UI", conflicts_with = "stdio")]
    pub ui: bool,
}

/// The whole command line: a subcommand, or the flags of `serve` without one (so that
/// `toolbox --port 5001` is `toolbox serve --port 5001`).
#[derive(Parser, Debug)]
#[command(
    name = "toolbox",
    version,
    about = "An MCP server for databases, with its tools compiled from tools.yaml",
    args_conflicts_with_subcommands = true,
    after_help = "Without a subcommand, toolbox serves (the flags above are those of `toolbox serve`)."
)]
pub struct CommandLine {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: Cli,
}

/// What a binary built on the runtime may choose for its own command line.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The default of `--port`.
    pub port: u16,
}

impl Default for Options {
    fn default() -> Self {
        Options { port: 5000 }
    }
}

impl Options {
    /// The default of `--port` (5000 otherwise).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// The flags of Google's MCP Toolbox that name a configuration to read at run time. Here the
/// configuration is compiled in, so each is answered with how to change it instead.
const RUNTIME_CONFIG_FLAGS: &[&str] =
    &["--tools-file", "--tools-files", "--tools-folder", "--config", "--configs", "--config-folder", "--prebuilt"];

/// Parses the command line of a binary with these `options`. Errors are clap's, printed as clap
/// prints them (`--help` and `--version` too, with exit status 0).
pub fn parse_command_line<I, T>(args: I, options: &Options) -> Result<CommandLine, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // A default made at run time; clap keeps it for the life of the process anyway.
    let port: &'static str = Box::leak(options.port.to_string().into_boxed_str());
    let mut command = CommandLine::command()
        .mut_arg("port", |a| a.default_value(port))
        .mut_subcommand("serve", |s| s.mut_arg("port", |a| a.default_value(port)));
    let mut matches = command.try_get_matches_from_mut(args).map_err(explain_runtime_config_flag)?;
    let serve = matches.subcommand_matches("serve").unwrap_or(&matches);
    let given = |id: &str| serve.value_source(id) == Some(ValueSource::CommandLine);
    if serve.get_flag("stdio") && (given("port") || given("address")) {
        let flag = if given("port") { "--port" } else { "--address" };
        let in_serve = matches.subcommand_name() == Some("serve");
        let command = match command.find_subcommand_mut("serve") {
            Some(serve) if in_serve => serve,
            _ => &mut command,
        };
        return Err(command.error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{flag} has no use with --stdio: over stdio the server listens on no address or port (leave out {flag}, or --stdio to serve HTTP)"),
        ));
    }
    CommandLine::from_arg_matches_mut(&mut matches).map_err(|e| e.with_cmd(&command))
}

/// clap's "unexpected argument" for a flag of [`RUNTIME_CONFIG_FLAGS`] replaced by what to do
/// (clap's own would suggest a flag that merely looks alike); any other error as it is.
fn explain_runtime_config_flag(error: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return error;
    }
    let Some(ContextValue::String(argument)) = error.get(ContextKind::InvalidArg) else { return error };
    let flag = argument.split('=').next().unwrap_or_default();
    if !RUNTIME_CONFIG_FLAGS.contains(&flag) {
        return error;
    }
    clap::Error::raw(
        ErrorKind::UnknownArgument,
        format!(
            "{flag} names a configuration to read when the server starts, as Google's MCP Toolbox does; this toolbox \
             compiles its configuration into the binary when it is built, so there is nothing to read at run time.\n\
             To change the tools, edit tools.yaml and rebuild: `cargo build --release` (the binary is \
             target/release/toolbox); a mistake in the file fails that build with its line and column.\n\
             `toolbox list` prints what this binary serves.\n"
        ),
    )
}

/// `--address`: an IP address, `localhost`, or a host name the system resolves (its first IPv4
/// address, else its first address).
fn parse_address(text: &str) -> Result<IpAddr, String> {
    let text = text.trim();
    if let Ok(ip) = text.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Ok(ip);
    }
    if text.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::from([127, 0, 0, 1]));
    }
    let addresses: Vec<IpAddr> = (text, 0)
        .to_socket_addrs()
        .map_err(|e| format!("`{text}` is neither an IP address nor a host name this machine resolves ({e})"))?
        .map(|a| a.ip())
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| format!("the host name `{text}` resolves to no address"))
}

/// A duration flag: `10s`, `500ms`, `2m`, or a number of seconds, as in tools.yaml.
fn duration(text: &str) -> Result<Duration, String> {
    toolbox_config::duration::parse(text, true)
        .ok_or_else(|| format!("`{text}` is not a duration (e.g. 10s, 500ms, 2m, or a number of seconds)"))
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    duration(text).and_then(|d| if d.is_zero() { Err("the timeout must be above zero".to_string()) } else { Ok(d) })
}

/// A duration flag: `500ms`, `30s`, `5m`, `1h`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    toolbox_config::duration::parse(text, false)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{text}` is not a duration such as 500ms, 30s or 5m"))
}

/// A rate flag's value: a rate, or none (`off`).
#[derive(Clone, Copy, Debug)]
pub struct RateFlag(pub Option<toolbox_config::rate::Rate>);

/// A rate flag: `600/m`, `20/s`, or `off`.
fn parse_rate(text: &str) -> Result<RateFlag, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(RateFlag(None));
    }
    toolbox_config::rate::parse(text)
        .map(|r| RateFlag(Some(r)))
        .ok_or_else(|| format!("`{text}` is not a rate such as 600/m, 20/s or off"))
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum LogFormat {
    Standard,
    Json,
}

fn log_drift(drift: &[String]) {
    for difference in drift {
        tracing::warn!("the schema changed since the build: {difference}");
    }
}

/// Half the available cores, rounded up.
fn default_worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2))
}

/// The binary's whole `main`: parses the command line and serves `toolbox` (or runs a
/// subcommand), with the default [`Options`].
pub fn main(toolbox: &'static Toolbox) -> ExitCode {
    main_with(toolbox, Options::default())
}

/// [`main`] with the binary's own [`Options`] (an example's default port).
pub fn main_with(toolbox: &'static Toolbox, options: Options) -> ExitCode {
    let line = match parse_command_line(std::env::args_os(), &options) {
        Ok(line) => line,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    match line.command {
        None => serve(toolbox, line.serve),
        Some(Command::Serve(cli)) => serve(toolbox, *cli),
        Some(command) => crate::command::run(toolbox, command),
    }
}

/// Serves until stdin closes (stdio) or a signal stops the server (HTTP).
fn serve(toolbox: &'static Toolbox, cli: Cli) -> ExitCode {
    init_logging(cli.log_level, cli.logging_format);
    let format = cli.logging_format;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.worker_threads(cli.threads.map_or_else(default_worker_threads, usize::from));
    let runtime = match runtime.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            report_error(format, &format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(toolbox, cli));
    // Not the runtime's drop, which waits for every blocking task: a statement of a call cut at
    // the shutdown deadline may still be running on one.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            report_error(format, &message);
            ExitCode::FAILURE
        }
    }
}

/// Says once why the process stops: a JSON log line in the JSON format (what a log pipeline
/// reads), else `error: ...` for the person at the terminal.
pub(crate) fn report_error(format: LogFormat, message: &str) {
    match format {
        LogFormat::Json => tracing::error!("{message}"),
        LogFormat::Standard => eprintln!("error: {message}"),
    }
}

/// Whether log lines may carry ANSI colours: only to a terminal, and never with `NO_COLOR` set
/// (<https://no-color.org>).
fn colour(stderr_is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

pub(crate) fn init_logging(level: LogLevel, format: LogFormat) {
    let level = match level {
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Error => tracing::Level::ERROR,
    };
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::WARN)
        .with_target("toolbox", level)
        .with_target("toolbox_runtime", level);
    use std::io::IsTerminal as _;
    let ansi = colour(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR"));
    let builder = tracing_subscriber::fmt().with_writer(|| LossyStderr).with_max_level(level).with_ansi(ansi);
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let result = match format {
        LogFormat::Standard => builder.finish().with(filter).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).finish().with(filter).try_init(),
    };
    let _ = result;
}

/// Standard error that never fails: a log line that cannot be written (stderr closed by the
/// supervisor, a full pipe) is dropped. tracing-subscriber reports a failed write with
/// `eprintln!`, which panics when stderr itself is the problem; this writer gives it no failure to
/// report.
struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Builds the HTTP settings from the command line.
pub fn http_config(cli: &Cli) -> HttpConfig {
    let loopback = cli.address.is_loopback();
    let allowed_hosts = match (cli.allowed_hosts.is_empty(), loopback) {
        (false, _) => HostRule::parse_list(&cli.allowed_hosts),
        (true, true) => HostRule::Loopback,
        (true, false) => HostRule::Any,
    };
    let allowed_origins = match (cli.allowed_origins.is_empty(), loopback) {
        (false, _) => OriginRule::parse_list(&cli.allowed_origins),
        (true, true) => OriginRule::Loopback,
        (true, false) => OriginRule::Any,
    };
    HttpConfig {
        allowed_hosts,
        allowed_origins,
        max_body_bytes: cli.max_request_bytes,
        body_read_timeout: cli.body_read_timeout,
    }
}

/// The telemetry the command line asks for.
fn telemetry_config(cli: &Cli) -> TelemetryConfig {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    TelemetryConfig {
        otlp_endpoint: cli.telemetry_otlp.clone().filter(|e| !e.trim().is_empty()),
        otlp_from_env: env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some(),
        no_otlp_traces: env("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none")),
        no_otlp_metrics: env("OTEL_METRICS_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none")),
        service_name: cli
            .telemetry_service_name
            .clone()
            .or_else(|| env("OTEL_SERVICE_NAME"))
            .unwrap_or_else(|| "toolbox".to_string()),
        prometheus: cli.metrics || cli.metrics_address.is_some(),
        sql_commenter: cli.sql_commenter,
        call_log_info: matches!(cli.logging_format, LogFormat::Json)
            && matches!(cli.log_level, LogLevel::Debug | LogLevel::Info),
    }
}

/// The sources `/readyz` waits for: every one with `--strict-schema`, else those named by
/// `--require-source`, each of which must exist.
fn required_sources(cli: &Cli, sources: &crate::db::Sources) -> Result<Vec<String>, String> {
    let names: Vec<&str> = sources.names().collect();
    if let Some(unknown) = cli.require_source.iter().find(|n| !names.contains(&n.as_str())) {
        return Err(format!(
            "--require-source {unknown}: there is no such source (the sources are: {})",
            names.join(", ")
        ));
    }
    Ok(if cli.strict_schema { names.iter().map(|n| n.to_string()).collect() } else { cli.require_source.clone() })
}

async fn run(toolbox: &'static Toolbox, cli: Cli) -> Result<(), String> {
    let started = Instant::now();
    let sources = Arc::new(toolbox.resolve_sources().map_err(|e| e.to_string())?);
    let required = required_sources(&cli, &sources)?;
    let telemetry_config = telemetry_config(&cli);
    let telemetry = Telemetry::start(&telemetry_config, sources.clone())?;
    if let Some(endpoint) = &telemetry_config.otlp_endpoint {
        tracing::info!(
            service = telemetry_config.service_name,
            "exporting traces and metrics over OTLP/HTTP to {endpoint}"
        );
    } else if telemetry_config.otlp_from_env {
        tracing::info!(
            service = telemetry_config.service_name,
            "exporting traces and metrics over OTLP/HTTP (OTEL_EXPORTER_OTLP_* endpoint)"
        );
    }
    if cli.strict_schema {
        // The comparison decides whether to start at all, so it comes first: every statement
        // prepared against a live database, or no start.
        let comparison = sources.connect_all().await;
        log_drift(&comparison.drift);
        if !comparison.is_clean() {
            let problems: Vec<String> = comparison
                .unavailable
                .iter()
                .map(|u| format!("{u} (--strict-schema needs every source reachable)"))
                .chain(comparison.drift.iter().cloned())
                .collect();
            return Err(format!(
                "the live schema could not be confirmed to be the one the binary was built against (--strict-schema):\n{}",
                problems.join("\n")
            ));
        }
    }
    // Otherwise it only informs, once the server listens (so that a start-up that fails, a port
    // in use, is not followed by the comparison's own complaints): a slow or absent database does
    // not hold up the start.
    let compare_in_background = || {
        if !cli.strict_schema {
            let sources = sources.clone();
            tokio::spawn(async move { log_drift(&sources.connect_all().await.drift) });
        }
    };
    let mcp = Arc::new(
        Mcp::new(toolbox, sources.clone())
            .with_default_query_timeout(cli.default_query_timeout)
            .with_default_rate_limit(cli.rate_limit.0)
            .with_telemetry(telemetry),
    );
    if cli.stdio {
        // stdio carries no HTTP headers, so no token: tools that need one are refused.
        let guarded =
            toolbox.tools.iter().filter(|t| !t.auth_required.is_empty() || !t.scopes_required.is_empty()).count();
        if guarded > 0 {
            tracing::warn!(
                "{guarded} tools require authorization (authRequired or scopesRequired); stdio carries no tokens, so they are refused here"
            );
        }
        tracing::info!(tools = toolbox.tools.len(), "serving MCP over stdio");
        compare_in_background();
        let result =
            crate::stdio::serve(mcp.clone(), cli.max_request_bytes).await.map_err(|e| format!("stdio failed: {e}"));
        sources.close().await;
        flush_telemetry(move || mcp.telemetry.shutdown()).await;
        return result;
    }
    let tls = crate::tls::from_flags(cli.tls_cert.as_deref(), cli.tls_key.as_deref())?;
    crate::tls::reload_on_hangup(tls.clone());
    let options = AuthOptions {
        toolbox_url: cli.toolbox_url.clone(),
        counters: mcp.telemetry.auth_counters(),
        ..AuthOptions::default()
    };
    let auth = Auth::new(toolbox, &|name| std::env::var(name).ok(), options)?;
    auth.start();
    if auth.mcp_enabled() {
        tracing::info!("MCP authorization on: resource {}, metadata at {}", auth.resource(), auth.metadata_url());
    }
    let config = http_config(&cli);
    if !cli.address.is_loopback() && (cli.allowed_hosts.is_empty() || cli.allowed_origins.is_empty()) {
        tracing::warn!(
            "listening on a non-loopback address with no --allowed-hosts/--allowed-origins: any Host and Origin are accepted"
        );
    }
    let mcp = Arc::try_unwrap(mcp).map_err(|_| "internal error: the MCP server is shared".to_string())?;
    let readiness = Readiness::new(required);
    let metrics_here = cli.metrics && cli.metrics_address.is_none();
    let state = Arc::new(AppState { mcp, config, auth, readiness, metrics_here, ui: cli.ui });
    let app = router(state.clone());
    // The shutdown signal, seen by the main listener and the metrics listener; /readyz turns to
    // 503 as soon as it arrives.
    let (stopping, _) = tokio::sync::watch::channel(false);
    let metrics_server = match cli.metrics_address {
        Some(address) => Some(serve_metrics(address, state.clone(), &cli, stopping.subscribe()).await?),
        None => None,
    };
    let address = SocketAddr::new(cli.address, cli.port);
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
        format!(
            "cannot listen on {address}: {e}{}",
            if e.kind() == std::io::ErrorKind::AddrInUse { " (choose another with --port)" } else { "" }
        )
    })?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    compare_in_background();
    let shutdown = {
        let signal = shutdown_signal();
        let state = state.clone();
        let delay = cli.drain_delay;
        async move {
            signal.await;
            state.readiness.drain();
            if !delay.is_zero() {
                tracing::info!(
                    "not ready (/readyz answers 503); closing the listener in {} ms (--drain-delay)",
                    delay.as_millis()
                );
                tokio::time::sleep(delay).await;
            }
            let _ = stopping.send(true);
        }
    };
    tracing::info!(
        tools = toolbox.tools.len(),
        workers = tokio::runtime::Handle::current().metrics().num_workers(),
        startup_ms = started.elapsed().as_millis() as u64,
        "serving MCP at {scheme}://{local}/mcp (health at {scheme}://{local}/healthz, readiness at {scheme}://{local}/readyz)",
        scheme = if tls.is_some() { "https" } else { "http" },
    );
    if state.metrics_here {
        tracing::info!("metrics at {}://{local}/metrics", if tls.is_some() { "https" } else { "http" });
    }
    if state.ui {
        tracing::info!("the tools' page at {}://{local}/ui/", if tls.is_some() { "https" } else { "http" });
    }
    let timeouts = ConnectionTimeouts { header_read: cli.header_read_timeout, idle: cli.idle_timeout };
    let acceptor = tls.as_ref().map(|tls| tls.acceptor());
    let stopped = crate::serve::serve(listener, app, timeouts, acceptor, shutdown, cli.shutdown_timeout).await;
    if stopped.cut > 0 {
        tracing::warn!(
            "closed {} connections still open at the shutdown deadline ({} ms, --shutdown-timeout)",
            stopped.cut,
            cli.shutdown_timeout.as_millis()
        );
    }
    // Idle database connections are closed politely (SQLite's at once) and the statements of
    // calls cut at the deadline are cancelled on their servers, within what is left of the
    // deadline but never less than CLOSE_GRACE, so that a cut statement does not outlive the
    // process on the database. A database that does not answer is left to the exit.
    let until = stopped.deadline.max(tokio::time::Instant::now() + CLOSE_GRACE);
    if tokio::time::timeout_at(until, sources.close()).await.is_err() {
        tracing::warn!("the database connections were not closed by the shutdown deadline");
    }
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    flush_telemetry(move || state.mcp.telemetry.shutdown()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Sends the telemetry still buffered, on a blocking thread (the exporters block), for at most
/// [`CLOSE_GRACE`].
async fn flush_telemetry(shutdown: impl FnOnce() + Send + 'static) {
    let _ = tokio::time::timeout(CLOSE_GRACE, tokio::task::spawn_blocking(shutdown)).await;
}

/// Serves `/metrics` alone on `address`, until `stopping` turns true.
async fn serve_metrics(
    address: SocketAddr,
    state: Arc<AppState>,
    cli: &Cli,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address} for metrics (--metrics-address): {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("metrics at http://{local}/metrics");
    let timeouts = ConnectionTimeouts { header_read: cli.header_read_timeout, idle: cli.idle_timeout };
    let shutdown_timeout = cli.shutdown_timeout;
    Ok(tokio::spawn(async move {
        let stop = async move {
            let _ = stopping.wait_for(|s| *s).await;
        };
        crate::serve::serve(listener, metrics_router(state), timeouts, None, stop, shutdown_timeout).await;
    }))
}

/// At shutdown, the least time given to closing the databases' connections and cancelling the
/// statements of cut calls, even when the shutdown deadline has passed.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that arrives right after start-up is not fatal.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()).ok(), signal(SignalKind::terminate()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = signals;
            let wait = |s: &mut Option<tokio::signal::unix::Signal>| {
                let s = s.take();
                async move {
                    match s {
                        Some(mut s) => {
                            s.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                }
            };
            tokio::select! {
                () = wait(&mut interrupt) => {},
                () = wait(&mut terminate) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CommandLine, clap::Error> {
        parse_command_line(std::iter::once("toolbox").chain(args.iter().copied()), &Options::default())
    }

    #[test]
    fn the_server_flags_work_with_serve_and_without() {
        let bare = parse(&["--port", "5001", "--rate-limit", "off"]).unwrap();
        assert!(bare.command.is_none());
        assert_eq!(bare.serve.port, 5001);
        match parse(&["serve", "--port", "5001"]).unwrap().command {
            Some(Command::Serve(cli)) => assert_eq!(cli.port, 5001),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse(&[]).unwrap().serve.port, 5000);
        let mixed = parse(&["--port", "5001", "list"]).unwrap_err();
        assert_eq!(mixed.kind(), clap::error::ErrorKind::ArgumentConflict, "{mixed}");
    }

    #[test]
    fn a_binary_chooses_its_default_port() {
        let options = Options { port: 5002 };
        assert_eq!(parse_command_line(["toolbox"], &options).unwrap().serve.port, 5002);
        match parse_command_line(["toolbox", "serve"], &options).unwrap().command {
            Some(Command::Serve(cli)) => assert_eq!(cli.port, 5002),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_command_line(["toolbox", "-p", "7"], &options).unwrap().serve.port, 7);
    }

    #[test]
    fn the_address_may_be_a_host_name() {
        let address = |a: &str| parse(&["--address", a]).map(|l| l.serve.address);
        assert_eq!(address("localhost").unwrap(), IpAddr::from([127, 0, 0, 1]));
        assert_eq!(address("LOCALHOST").unwrap(), IpAddr::from([127, 0, 0, 1]));
        assert_eq!(address("0.0.0.0").unwrap(), IpAddr::from([0, 0, 0, 0]));
        assert_eq!(address("[::1]").unwrap(), "::1".parse::<IpAddr>().unwrap());
        let error = address("no-such-host.invalid").unwrap_err().to_string();
        assert!(error.contains("neither an IP address nor a host name this machine resolves"), "{error}");
    }

    #[test]
    fn stdio_refuses_a_port_or_an_address() {
        for args in [
            &["--stdio", "--port", "5001"][..],
            &["serve", "--stdio", "-p", "5001"],
            &["--address", "localhost", "--stdio"],
        ] {
            let error = parse(args).unwrap_err();
            assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
            assert!(
                error
                    .to_string()
                    .contains("has no use with --stdio: over stdio the server listens on no address or port"),
                "{error}"
            );
        }
        assert!(parse(&["--stdio"]).unwrap().serve.stdio);
    }

    #[test]
    fn the_reference_flags_say_that_the_configuration_is_compiled() {
        for flag in RUNTIME_CONFIG_FLAGS {
            for args in [vec![*flag, "tools.yaml"], vec!["serve", flag], vec![&format!("{flag}=x")[..]]] {
                let error = parse(&args).unwrap_err().to_string();
                assert!(error.starts_with(&format!("error: {flag} names a configuration")), "{error}");
                assert!(error.contains("edit tools.yaml and rebuild: `cargo build --release`"), "{error}");
                assert!(!error.contains("similar argument"), "{error}");
            }
        }
        // Other unknown flags keep clap's message.
        assert!(parse(&["--tool-url", "x"]).unwrap_err().to_string().contains("similar argument exists"));
    }

    #[test]
    fn the_subcommands_parse() {
        let invoke = parse(&["invoke", "get_flight", r#"{"a":1}"#, "--param", "flight_number=UA0008"]).unwrap();
        match invoke.command {
            Some(Command::Invoke(args)) => {
                assert_eq!((args.tool.as_str(), args.arguments.as_deref()), ("get_flight", Some(r#"{"a":1}"#)));
                assert_eq!(args.params, ["flight_number=UA0008"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(&["list"]).unwrap().command, Some(Command::List(_))));
        assert!(matches!(parse(&["check"]).unwrap().command, Some(Command::Check(_))));
        match parse(&["schema", "--toolset", "ops", "--protocol-version", "2024-11-05"]).unwrap().command {
            Some(Command::Schema(args)) => assert_eq!(args.toolset.as_deref(), Some("ops")),
            other => panic!("{other:?}"),
        }
        assert!(parse(&["schema", "--protocol-version", "1999-01-01"]).is_err());
    }

    #[test]
    fn colour_goes_only_to_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("".into())), "an empty NO_COLOR does not count (no-color.org)");
        assert!(!colour(true, Some("1".into())));
        assert!(!colour(false, None));
    }
}
