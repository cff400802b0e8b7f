//! What the build knows of Redis commands: `COMMAND INFO` of the live server, or the description
//! cache, by the build's [`Mode`] as for SQL statements (`crate::oracle`).
//!
//! The cache holds one file per command name (`.toolbox/redis-<hash>.json`, beside the SQL
//! descriptions, named by [`cache::file`]): its arity, flags and subcommands. Only
//! `TOOLBOX_PREPARE=1` writes them.

use crate::cache;
use crate::oracle::{Mode, PREPARE_COMMAND};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toolbox_config::diag::{Diagnostic, Spanned};
use toolbox_config::env;
use toolbox_config::model::Source;
use toolbox_config::redis::RedisSource;

const ENGINE: &str = "redis";

/// A command as `COMMAND INFO` describes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandInfo {
    /// Arguments including the name: exactly this many when positive, at least `-arity` when
    /// negative.
    pub arity: i64,
    pub flags: Vec<String>,
    /// Lower-case subcommand name (`get` of `config|get`) to its description.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub subcommands: BTreeMap<String, CommandInfo>,
}

impl CommandInfo {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    engine: String,
    command: String,
    /// `None`: the server has no such command.
    description: Option<CommandInfo>,
}

/// Where one Redis source's command descriptions come from.
pub(crate) struct Commands {
    live: Option<redis::Connection>,
    offline_reason: Option<String>,
    dir: PathBuf,
    mode: Mode,
    known: BTreeMap<String, Option<CommandInfo>>,
    pub(crate) cache_files_read: Vec<PathBuf>,
    pub(crate) cache_files_used: Vec<PathBuf>,
    pub(crate) out_of_date: usize,
    pub(crate) cache_write_error: Option<String>,
}

impl Commands {
    pub(crate) fn new(
        source: &Source,
        redis: &RedisSource,
        config_path: &Path,
        mode: Mode,
        env: &dyn Fn(&str) -> Option<String>,
        diags: &mut Vec<Diagnostic>,
        warnings: &mut Vec<String>,
    ) -> Self {
        let mut commands = Commands {
            live: None,
            offline_reason: None,
            dir: cache::dir(config_path),
            mode,
            known: BTreeMap::new(),
            cache_files_read: Vec::new(),
            cache_files_used: Vec::new(),
            out_of_date: 0,
            cache_write_error: None,
        };
        if mode == Mode::Offline {
            commands.offline_reason = Some("TOOLBOX_OFFLINE is set".into());
            return commands;
        }
        match connect(redis, config_path.parent().unwrap_or(Path::new(".")), env) {
            Ok(c) => commands.live = Some(c),
            Err(e) => {
                let reason = format!("source `{}` cannot be reached at build time: {e}", source.name.value);
                let variable = match mode {
                    Mode::Check => Some("TOOLBOX_CHECK"),
                    Mode::Prepare => Some("TOOLBOX_PREPARE"),
                    Mode::Auto | Mode::Offline => None,
                };
                match variable {
                    Some(variable) => diags.push(
                        Diagnostic::new(source.name.pos, format!("{reason} ({variable} needs the server)")).with_hint(
                            format!("start Redis, or build without {variable} to use the description cache"),
                        ),
                    ),
                    None => warnings.push(format!("{reason}; using the description cache")),
                }
                commands.offline_reason = Some(reason);
            }
        }
        commands
    }

    pub(crate) fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// The description of a command (upper or lower case); `Ok(None)` when the server has none.
    pub(crate) fn get(&mut self, name: &str) -> Result<Option<CommandInfo>, String> {
        let name = name.to_ascii_lowercase();
        if let Some(known) = self.known.get(&name) {
            return Ok(known.clone());
        }
        let found = self.lookup(&name)?;
        self.known.insert(name, found.clone());
        Ok(found)
    }

    fn lookup(&mut self, name: &str) -> Result<Option<CommandInfo>, String> {
        let file = cache::file(&self.dir, ENGINE, name, None);
        let cached = read(&file, name);
        self.cache_files_used.push(file.clone());
        let Some(live) = &mut self.live else {
            return match cached {
                Some(info) => {
                    self.cache_files_read.push(file);
                    Ok(info)
                }
                None => Err(format!(
                    "{}, and the description cache (`{}`) has no entry for the command `{}`; refresh it with `{PREPARE_COMMAND}` (Redis reachable)",
                    self.offline_reason.as_deref().unwrap_or("the server is not used"),
                    self.dir.display(),
                    name.to_ascii_uppercase()
                )),
            };
        };
        let described = command_info(live, name)?;
        match (self.mode, &cached) {
            (Mode::Prepare, _) => {
                if let Err(e) = write(&self.dir, &file, name, &described) {
                    self.cache_write_error.get_or_insert(e.to_string());
                }
            }
            (_, Some(c)) if *c == described => {}
            (Mode::Check, Some(_)) => {
                return Err(format!(
                    "the server's `COMMAND INFO {}` no longer matches the description cached in `{}`; refresh it with `{PREPARE_COMMAND}`",
                    name.to_ascii_uppercase(),
                    file.display()
                ));
            }
            (Mode::Check, None) => {
                return Err(format!(
                    "the command `{}` has no entry in the description cache (`{}`); refresh it with `{PREPARE_COMMAND}`",
                    name.to_ascii_uppercase(),
                    self.dir.display()
                ));
            }
            _ => self.out_of_date += 1,
        }
        Ok(described)
    }
}

fn read(file: &Path, name: &str) -> Option<Option<CommandInfo>> {
    let text = std::fs::read_to_string(file).ok()?;
    let entry: Entry = serde_json::from_str(&text).ok()?;
    (entry.engine == ENGINE && entry.command == name).then_some(entry.description)
}

fn write(dir: &Path, file: &Path, name: &str, description: &Option<CommandInfo>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let entry = Entry { engine: ENGINE.into(), command: name.into(), description: description.clone() };
    let text = serde_json::to_string_pretty(&entry).map_err(std::io::Error::other)? + "\n";
    if std::fs::read_to_string(file).ok().as_deref() != Some(text.as_str()) {
        let temporary = file.with_extension(format!("json.{}", std::process::id()));
        std::fs::write(&temporary, &text)?;
        std::fs::rename(&temporary, file)?;
    }
    Ok(())
}

/// Connects with the build's environment, as the server will (address, credentials, database,
/// TLS), within 5 seconds.
fn connect(
    source: &RedisSource,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<redis::Connection, String> {
    let resolve = |v: &Spanned<String>| {
        env::resolve(&v.value, env).map_err(|e| e.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "))
    };
    let address = resolve(&source.address)?;
    let (host, port) = match address.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.starts_with('[') => (
            h.trim_matches(|c| c == '[' || c == ']').to_string(),
            p.parse().map_err(|_| format!("bad port in `{address}`"))?,
        ),
        _ => (address.trim_matches(|c| c == '[' || c == ']').to_string(), 6379),
    };
    let mut settings = redis::RedisConnectionInfo::default();
    if let Some(u) = &source.username {
        settings = settings.set_username(resolve(u)?);
    }
    if let Some(p) = &source.password {
        let p = resolve(p)?;
        if !p.is_empty() {
            settings = settings.set_password(p);
        }
    }
    if let Some(d) = &source.database {
        settings = settings.set_db(resolve(d)?.trim().parse().map_err(|_| "`database` is not a number".to_string())?);
    }
    let addr = if source.tls.enabled {
        redis::ConnectionAddr::TcpTls { host, port, insecure: source.tls.insecure_skip_verify, tls_params: None }
    } else {
        redis::ConnectionAddr::Tcp(host, port)
    };
    let info =
        redis::IntoConnectionInfo::into_connection_info(addr).map_err(|e| e.to_string())?.set_redis_settings(settings);
    let client = match &source.tls.ca_file {
        Some(f) => {
            let path = base.join(resolve(f)?);
            let pem = std::fs::read(&path).map_err(|e| format!("cannot read the CA file `{}`: {e}", path.display()))?;
            redis::Client::build_with_tls(info, redis::TlsCertificates { client_tls: None, root_cert: Some(pem) })
        }
        None => redis::Client::open(info),
    }
    .map_err(|e| e.to_string())?;
    let timeout = Duration::from_secs(5);
    let connection = client.get_connection_with_timeout(timeout).map_err(|e| e.to_string())?;
    connection.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    Ok(connection)
}

/// `COMMAND INFO name`, read into a [`CommandInfo`].
fn command_info(connection: &mut redis::Connection, name: &str) -> Result<Option<CommandInfo>, String> {
    let reply: redis::Value = redis::cmd("COMMAND")
        .arg("INFO")
        .arg(name)
        .query(connection)
        .map_err(|e| format!("`COMMAND INFO {name}` failed: {e}"))?;
    match reply {
        redis::Value::Array(mut entries) if entries.len() == 1 => Ok(parse(&entries.remove(0))),
        other => Err(format!("`COMMAND INFO {name}` answered {other:?}")),
    }
}

/// One entry of `COMMAND INFO`: `[name, arity, flags, first key, last key, step, categories,
/// tips, key specs, subcommands]` (subcommands since Redis 7).
fn parse(entry: &redis::Value) -> Option<CommandInfo> {
    use redis::Value;
    let Value::Array(fields) = entry else { return None };
    let text = |v: &Value| match v {
        Value::SimpleString(s) => Some(s.clone()),
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::Okay => Some("ok".into()),
        _ => None,
    };
    let arity = match fields.get(1)? {
        Value::Int(n) => *n,
        _ => return None,
    };
    let flags = match fields.get(2) {
        Some(Value::Array(f) | Value::Set(f)) => f.iter().filter_map(text).collect(),
        _ => Vec::new(),
    };
    let mut subcommands = BTreeMap::new();
    if let Some(Value::Array(subs)) = fields.get(9) {
        for sub in subs {
            let Value::Array(sub_fields) = sub else { continue };
            let Some(full) = sub_fields.first().and_then(text) else { continue };
            let Some(info) = parse(sub) else { continue };
            let short = full.split_once('|').map(|(_, s)| s).unwrap_or(&full).to_ascii_lowercase();
            subcommands.insert(short, info);
        }
    }
    Some(CommandInfo { arity, flags, subcommands })
}
