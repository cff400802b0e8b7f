//! Redis and Valkey: the `redis` source and the `redis` tool's commands.
//!
//! A tool's commands are compiled into the binary as templates ([`Arg`]); a call fills them in
//! with its checked arguments (each value its own argument, see `toolbox_config::redis`), sends
//! them in one pipeline on one connection, in order, and answers a JSON array with one reply per
//! command ([`reply`]). A command that Redis refuses makes the call an `isError` result naming
//! the source, the command and Redis's words; the commands before and after it still ran, as in
//! the reference. `source.rs` holds the source and its pool.

pub mod reply;
pub mod source;

pub use source::{RedisSource, RedisSourceDef};

use crate::args::{ArgError, Arguments, ClaimSource, ParamDef};
use crate::call::{Failure, ToolOutput};
use crate::db::Source;
use crate::db::encode::MAX_RESPONSE_BYTES;
use serde_json::Value;
use toolbox_config::redis::{expand, scalar_text};

/// One element of a compiled command.
#[derive(Debug)]
pub enum Arg {
    Text(&'static str),
    /// A whole-element parameter, by index into the tool's `PARAMS`: a scalar is one argument,
    /// an array one per element, a map one per key and value; absent (optional), none.
    Param(usize),
    /// Text with scalar parameters in it: one argument (an absent parameter is empty text).
    Concat(&'static [Part]),
}

#[derive(Debug)]
pub enum Part {
    Text(&'static str),
    Param(usize),
}

/// A source's engine as a Redis source.
pub fn source(source: &Source) -> Result<&RedisSource, String> {
    source.engine::<RedisSource>()
}

/// The checked value of each parameter, in `PARAMS` order.
pub fn arguments(
    args: &Arguments,
    params: &[ParamDef],
    claims: &dyn ClaimSource,
) -> Result<Vec<Option<Value>>, ArgError> {
    params.iter().map(|p| args.value(p, claims)).collect()
}

/// The commands with `values` filled in.
fn build(commands: &[&[Arg]], values: &[Option<Value>]) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    for command in commands {
        let mut cmd = redis::Cmd::new();
        for arg in *command {
            match arg {
                Arg::Text(t) => {
                    cmd.arg(*t);
                }
                Arg::Param(i) => {
                    if let Some(v) = &values[*i] {
                        expand(v, |s| {
                            cmd.arg(s);
                        });
                    }
                }
                Arg::Concat(parts) => {
                    let mut text = String::new();
                    for part in *parts {
                        match part {
                            Part::Text(t) => text.push_str(t),
                            Part::Param(i) => {
                                if let Some(v) = &values[*i] {
                                    text.push_str(&scalar_text(v));
                                }
                            }
                        }
                    }
                    cmd.arg(text);
                }
            }
        }
        pipe.add_command(cmd);
    }
    pipe
}

/// Runs a tool's commands and encodes the replies.
pub async fn run(source: &RedisSource, commands: &[&[Arg]], values: &[Option<Value>]) -> ToolOutput {
    let name = source.name();
    let mut connection = match source.connection() {
        Ok(c) => c,
        Err(e) => return ToolOutput::Error(Failure::Unavailable, e),
    };
    let pipe = build(commands, values);
    let replies: redis::Value = match pipe.query_async(&mut connection).await {
        Ok(v) => v,
        Err(e) => {
            return ToolOutput::Error(
                Failure::Unavailable,
                format!("source `{name}` is unavailable: {}", connection_error(&e)),
            );
        }
    };
    let redis::Value::Array(replies) = replies else {
        return ToolOutput::Error(Failure::Database, format!("source `{name}`: unexpected reply {replies:?}"));
    };
    let mut out = Vec::with_capacity(64);
    out.push(b'[');
    for (i, r) in replies.iter().enumerate() {
        if let redis::Value::ServerError(e) = r {
            let command = commands.get(i).and_then(|c| c.first());
            let command = match command {
                Some(Arg::Text(t)) => format!(" (`{t}`)"),
                _ => String::new(),
            };
            let others = if commands.len() > 1 { "; the tool's other commands ran" } else { "" };
            return ToolOutput::Error(
                Failure::Database,
                format!(
                    "source `{name}`: command {} of {}{command} failed: {}{others}",
                    i + 1,
                    commands.len(),
                    reply::error_text(e)
                ),
            );
        }
        if i > 0 {
            out.push(b',');
        }
        reply::write(&mut out, r);
    }
    out.push(b']');
    if out.len() > MAX_RESPONSE_BYTES {
        return ToolOutput::Error(
            Failure::Database,
            format!(
                "source `{name}`: the replies are {} bytes, more than the {MAX_RESPONSE_BYTES} a result may hold; narrow the command (SCAN with COUNT, LRANGE with bounds)",
                out.len()
            ),
        );
    }
    let rows = replies.len() as u64;
    ToolOutput::Rows { json: String::from_utf8(out).unwrap_or_default(), rows, truncated: false }
}

/// A connection-level failure in a few words (never a credential: redis-rs does not echo them).
pub(crate) fn connection_error(e: &redis::RedisError) -> String {
    if e.is_timeout() {
        return "no reply in time (the source's commandTimeout)".into();
    }
    e.to_string()
}
