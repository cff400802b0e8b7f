//! `type: redis`: the Redis source's settings, and a `redis` tool's `commands`, read into
//! [`crate::redis`]'s templates (each element checked against the tool's parameters here; the
//! commands themselves against `COMMAND INFO` by the generator).

use super::Reader;
use super::obj::Obj;
use crate::diag::{Diagnostic, Spanned};
use crate::model::{Param, Source, SourceKind};
use crate::redis::{Command, RedisSource, RedisTls, parse_arg};
use crate::yaml;
use serde_json::Value;

impl Reader<'_> {
    pub(super) fn redis_source(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        let addresses = obj.string_list("address", &mut self.diags);
        if !obj.known_present("address") {
            self.diags.push(
                Diagnostic::new(obj.pos, format!("{} needs `address`", obj.what))
                    .with_hint("a list with one `host:port`, e.g. `address: [\"127.0.0.1:6379\"]`"),
            );
        }
        if let Some(extra) = addresses.get(1) {
            self.diags.push(
                Diagnostic::new(extra.pos, format!("{} lists more than one address", obj.what))
                    .with_hint("a standalone server has one `host:port`; cluster mode is not supported here"),
            );
        }
        let username = obj.string("username", &mut self.diags);
        let password = obj.string("password", &mut self.diags);
        let database = obj.string("database", &mut self.diags);
        for (field, hint) in [
            ("useGCPIAM", "IAM authentication to Memorystore is not supported here; use `password` (an AUTH string)"),
            ("clusterEnabled", "Redis Cluster is not supported here; point `address` at one standalone server"),
        ] {
            let at = obj.take(field).map(|(n, _)| (yaml::as_bool(n), yaml::pos(n)));
            match at {
                Some((Some(false), _)) | None => {}
                Some((Some(true), pos)) => self.diags.push(
                    Diagnostic::new(pos, format!("`{field}: true` is not supported ({})", obj.what)).with_hint(hint),
                ),
                Some((None, pos)) => self.error(pos, format!("`{field}` of {} must be true or false", obj.what)),
            }
        }
        let tls = match obj.take("tls") {
            Some((node, _)) => self.redis_tls(node, &obj.what),
            None => RedisTls::default(),
        };
        let connect_timeout = obj.string("connectTimeout", &mut self.diags);
        let command_timeout = obj.string("commandTimeout", &mut self.diags);
        let max_connections = obj.take("maxConnections").and_then(|(n, _)| {
            match yaml::to_json(n).as_ref().and_then(Value::as_u64).filter(|v| (1..=64).contains(v)) {
                Some(v) => Some(v as u32),
                None => {
                    self.diags.push(
                        Diagnostic::new(yaml::pos(n), "`maxConnections` must be a whole number from 1 to 64")
                            .with_hint("multiplexed connections to Redis; the default is 2"),
                    );
                    None
                }
            }
        });
        obj.finish(&mut self.diags);
        if let Some(d) = &database
            && crate::env::placeholders(&d.value).is_empty()
            && d.value.trim().parse::<u32>().is_err()
        {
            self.error(d.pos, format!("`database` must be a database number (0, 1, ...), found `{}`", d.value));
        }
        for (field, value) in [("connectTimeout", &connect_timeout), ("commandTimeout", &command_timeout)] {
            if let Some(v) = value
                && crate::env::placeholders(&v.value).is_empty()
                && crate::duration::parse(&v.value, true).is_none()
            {
                self.diags.push(
                    Diagnostic::new(v.pos, format!("`{field}` `{}` is not a duration", v.value))
                        .with_hint("write a number of seconds (`5`) or a duration such as `5s`, `500ms`"),
                );
            }
        }
        let address = addresses.into_iter().next().unwrap_or_else(|| Spanned::new(String::new(), name.pos));
        let source = RedisSource {
            address,
            username,
            password,
            database,
            tls,
            connect_timeout,
            command_timeout,
            max_connections,
        };
        for value in [Some(&source.address), source.username.as_ref(), source.password.as_ref()]
            .into_iter()
            .flatten()
            .chain(source.database.as_ref())
            .chain(source.tls.ca_file.as_ref())
        {
            self.check_deferred(value);
        }
        self.config.sources.push(Source { name, kind: SourceKind::Redis(source) });
    }

    fn redis_tls(&mut self, node: &yaml::Node, what: &str) -> RedisTls {
        let Some(mut obj) = Obj::new(node, format!("the `tls` of {what}"), false, &mut self.diags) else {
            return RedisTls::default();
        };
        let tls = RedisTls {
            enabled: obj.bool("enabled", &mut self.diags).unwrap_or(false),
            insecure_skip_verify: obj.bool("insecureSkipVerify", &mut self.diags).unwrap_or(false),
            ca_file: obj.string("caFile", &mut self.diags),
        };
        obj.finish(&mut self.diags);
        tls
    }

    /// A `redis` tool's `commands`: a list of commands, each a list of strings.
    pub(super) fn redis_commands(&mut self, obj: &mut Obj<'_>, what: &str, params: &[Param]) -> Vec<Command> {
        let Some((node, _)) = obj.take("commands") else {
            self.diags.push(
                Diagnostic::new(obj.pos, format!("{what} needs `commands`"))
                    .with_hint("a list of commands, each a list of strings: `commands: [[GET, $key]]`"),
            );
            return Vec::new();
        };
        let named: Vec<(&str, bool)> = params.iter().map(|p| (p.name.value.as_str(), p.ty.is_scalar())).collect();
        let shape = "each command is a list of strings, e.g. `[HGET, $key, name]`";
        let Some(list) = yaml::as_seq(node).filter(|l| !l.is_empty()) else {
            self.diags.push(
                Diagnostic::new(yaml::pos(node), format!("`commands` of {what} must be a list of commands"))
                    .with_hint(shape),
            );
            return Vec::new();
        };
        let mut commands = Vec::new();
        // Parameters named in elements that could not be read: not reported as unused too.
        let mut mentioned = std::collections::BTreeSet::new();
        for item in list {
            let pos = yaml::pos(item);
            let Some(elements) = yaml::as_seq(item).filter(|e| !e.is_empty()) else {
                self.diags.push(
                    Diagnostic::new(
                        pos,
                        format!("a command of {what} must be a list of strings, found {}", yaml::describe(item)),
                    )
                    .with_hint(shape),
                );
                continue;
            };
            let mut read = Vec::new();
            let mut broken = false;
            for element in elements {
                let text = match yaml::to_json(element) {
                    Some(Value::String(s)) => s,
                    Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
                    _ => {
                        self.error(yaml::pos(element), format!("an element of a command of {what} must be a string"));
                        broken = true;
                        continue;
                    }
                };
                let text = Spanned::new(text, yaml::pos(element));
                match parse_arg(&text.value, &named) {
                    Ok(arg) => read.push((text, arg)),
                    Err(e) => {
                        self.error(text.pos, format!("in a command of {what}: {e}"));
                        for name in crate::redis::mentioned(&text.value) {
                            mentioned.insert(name);
                        }
                        broken = true;
                    }
                }
            }
            if let Some((first, arg)) = read.first()
                && !matches!(arg, crate::redis::Arg::Text(_))
            {
                self.diags.push(
                    Diagnostic::new(first.pos, format!("a command of {what} must start with the command's name"))
                        .with_hint("the name is checked against the server's `COMMAND INFO` at build time; it cannot come from a parameter"),
                );
            }
            commands.push(Command { pos, elements: read, broken });
        }
        for (i, p) in params.iter().enumerate() {
            let used = commands.iter().any(|c| c.elements.iter().any(|(_, a)| a.params().contains(&i)));
            if !used && !mentioned.contains(&p.name.value) {
                self.diags.push(
                    Diagnostic::new(
                        p.name.pos,
                        format!("parameter `{}` of {what} is not used by any command", p.name.value),
                    )
                    .with_hint(format!(
                        "refer to it as `${0}` or `{{{{.{0}}}}}` in `commands`, or remove it",
                        p.name.value
                    )),
                );
            }
        }
        commands
    }
}
