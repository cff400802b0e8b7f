//! `redis` tools at build time: each command checked against the server's `COMMAND INFO`
//! ([`info`]): the name exists (and its subcommand, for `CONFIG GET` and the like), the number of
//! arguments fits its arity, a `readOnly` tool uses only commands Redis flags `readonly`, and no
//! command changes or holds the connection, which every call of the source shares.

pub(crate) mod info;

use crate::emit;
use info::{CommandInfo, Commands};
use toolbox_config::diag::Diagnostic;
use toolbox_config::model::{Param, SourceType, Tool};
use toolbox_config::redis::{Arg, Command};

/// Commands that change the state of their connection, or take it over: on a connection that
/// other calls share they would change those calls too (`SELECT`), or stop it serving them.
const CONNECTION_STATE: &[(&str, &str)] = &[
    ("SELECT", "declare another source with `database: N` for another database"),
    ("AUTH", "give the source `username` and `password`"),
    ("HELLO", "the source speaks RESP3 already"),
    ("RESET", "the source manages its connections"),
    ("QUIT", "the source manages its connections"),
    ("MULTI", "a tool's commands run in order in one pipeline; for atomic updates use a Lua script (EVAL)"),
    ("EXEC", "a tool's commands run in order in one pipeline; for atomic updates use a Lua script (EVAL)"),
    ("DISCARD", "transactions are not available on a shared connection"),
    ("WATCH", "transactions are not available on a shared connection"),
    ("UNWATCH", "transactions are not available on a shared connection"),
    ("SUBSCRIBE", "a tool answers once; read with commands that reply"),
    ("PSUBSCRIBE", "a tool answers once; read with commands that reply"),
    ("SSUBSCRIBE", "a tool answers once; read with commands that reply"),
    ("UNSUBSCRIBE", "a tool answers once; read with commands that reply"),
    ("PUNSUBSCRIBE", "a tool answers once; read with commands that reply"),
    ("SUNSUBSCRIBE", "a tool answers once; read with commands that reply"),
    ("MONITOR", "a tool answers once; read with commands that reply"),
    ("SYNC", "replication is not a tool's work"),
    ("PSYNC", "replication is not a tool's work"),
    ("REPLCONF", "replication is not a tool's work"),
    ("READONLY", "cluster mode is not supported"),
    ("READWRITE", "cluster mode is not supported"),
    ("ASKING", "cluster mode is not supported"),
    ("CLIENT REPLY", "replies are what a tool returns"),
    ("CLIENT TRACKING", "the source manages its connections"),
    ("CLIENT CACHING", "the source manages its connections"),
    ("CLIENT SETNAME", "the source manages its connections"),
    ("CLIENT SETINFO", "the source manages its connections"),
    ("CLIENT NO-EVICT", "the source manages its connections"),
    ("CLIENT NO-TOUCH", "the source manages its connections"),
];

/// Checks each tool's commands and records a plan for each that checks out.
pub(crate) fn plan_tools<'a>(
    tools: &[&'a Tool],
    source_index: usize,
    commands: &mut Commands,
    diags: &mut Vec<Diagnostic>,
    plans: &mut Vec<emit::ToolPlan<'a>>,
) {
    for tool in tools {
        let before = diags.len();
        for command in tool.commands.iter().filter(|c| !c.broken) {
            check_command(tool, command, commands, diags);
        }
        if diags.len() == before {
            plans.push(emit::ToolPlan {
                tool,
                source_index,
                variants: Vec::new(),
                source_read_only: false,
                source: SourceType::Redis,
            });
        }
    }
}

fn check_command(tool: &Tool, command: &Command, commands: &mut Commands, diags: &mut Vec<Diagnostic>) {
    let what = format!("tool `{}`", tool.name.value);
    // A command without a literal name was reported when it was read.
    let (Some(name), Some((name_at, _))) = (command.name(), command.elements.first()) else { return };
    let described = match commands.get(&name) {
        Ok(Some(d)) => d,
        Ok(None) => {
            diags.push(
                Diagnostic::new(name_at.pos, format!("Redis has no command `{name}` (a command of {what})")).with_hint(
                    "the server's `COMMAND INFO` does not know it; check the spelling, or the module that provides it",
                ),
            );
            return;
        }
        Err(e) => {
            diags.push(Diagnostic::new(name_at.pos, format!("cannot check the command `{name}` of {what}: {e}")));
            return;
        }
    };
    // A container command (`CONFIG`, `CLIENT`, `XINFO` ...) is described by its subcommand.
    let (shown, info): (String, &CommandInfo) = if described.subcommands.is_empty() {
        (name.clone(), &described)
    } else {
        let mut names: Vec<String> = described.subcommands.keys().map(|s| s.to_ascii_uppercase()).collect();
        names.sort();
        let sub = match command.elements.get(1) {
            Some((at, Arg::Text(t))) => Some((at, t.to_ascii_lowercase())),
            _ => None,
        };
        let Some((sub_at, sub)) = sub else {
            diags.push(
                Diagnostic::new(name_at.pos, format!("`{name}` of {what} needs its subcommand as the second element"))
                    .with_hint(format!("write one of: {}", names.join(", "))),
            );
            return;
        };
        match described.subcommands.get(&sub) {
            Some(info) => (format!("{name} {}", sub.to_ascii_uppercase()), info),
            None => {
                diags.push(
                    Diagnostic::new(
                        sub_at.pos,
                        format!("Redis has no command `{name} {}` (a command of {what})", sub.to_ascii_uppercase()),
                    )
                    .with_hint(format!("`{name}` takes one of: {}", names.join(", "))),
                );
                return;
            }
        }
    };
    if let Some((_, hint)) = CONNECTION_STATE.iter().find(|(n, _)| *n == shown || *n == name) {
        diags.push(
            Diagnostic::new(
                name_at.pos,
                format!("`{shown}` (a command of {what}) changes or holds its connection, which every call of the source shares"),
            )
            .with_hint(*hint),
        );
        return;
    }
    if info.has_flag("blocking") {
        diags.push(
            Diagnostic::new(
                name_at.pos,
                format!(
                    "`{shown}` (a command of {what}) may block its connection, which every call of the source shares"
                ),
            )
            .with_hint("use the command's non-blocking form (LPOP for BLPOP, XRANGE for XREAD ...)"),
        );
        return;
    }
    if tool.read_only && !info.has_flag("readonly") {
        diags.push(
            Diagnostic::new(
                name_at.pos,
                format!(
                    "{what} is `readOnly`, but Redis does not flag `{shown}` readonly (its flags: {})",
                    info.flags.join(", ")
                ),
            )
            .with_hint("use only commands that read, or remove `readOnly: true`"),
        );
    }
    check_arity(tool, command, &shown, info.arity, &what, diags);
}

/// The number of arguments (the name included) a command can send: `(least, most)`, `None`
/// for no upper bound (an array or map parameter).
fn argument_counts(command: &Command, params: &[Param]) -> (usize, Option<usize>) {
    let (mut least, mut most) = (0usize, Some(0usize));
    for (_, arg) in &command.elements {
        let (l, m) = match arg {
            Arg::Text(_) | Arg::Concat(_) => (1, Some(1)),
            Arg::Param(i) => match &params[*i] {
                p if !p.ty.is_scalar() => (0, None),
                p if p.is_required() => (1, Some(1)),
                _ => (0, Some(1)),
            },
        };
        least += l;
        most = most.zip(m).map(|(a, b)| a + b);
    }
    (least, most)
}

fn check_arity(tool: &Tool, command: &Command, shown: &str, arity: i64, what: &str, diags: &mut Vec<Diagnostic>) {
    let (least, most) = argument_counts(command, &tool.parameters);
    let needed = arity.unsigned_abs() as usize;
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let fits =
        if arity >= 0 { least <= needed && most.is_none_or(|m| m >= needed) } else { most.is_none_or(|m| m >= needed) };
    if fits {
        return;
    }
    let takes = if arity >= 0 {
        format!("exactly {} {}", needed - 1, plural(needed - 1))
    } else {
        format!("at least {} {}", needed - 1, plural(needed - 1))
    };
    let gives = match most {
        Some(m) if m == least => format!("{} {}", least - 1, plural(least - 1)),
        Some(m) => format!("{} to {} arguments", least.saturating_sub(1), m.saturating_sub(1)),
        None => format!("at least {} {}", least.saturating_sub(1), plural(least.saturating_sub(1))),
    };
    diags.push(
        Diagnostic::new(
            command.pos,
            format!("`{shown}` takes {takes} after its name, but this command of {what} gives {gives}"),
        )
        .with_hint("count the elements after the name (an optional parameter may give none, an array any number)"),
    );
}
