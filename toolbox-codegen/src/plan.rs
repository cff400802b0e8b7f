//! Template planning: every variant of a tool's statement (one per combination of template
//! values), each described, and everything found wrong with it as a diagnostic at its position.

use crate::describe::{Described, Problem, Signature};
use crate::emit;
use crate::oracle::{DescribeError, Oracle, PREPARE_COMMAND};
use crate::types;
use std::collections::BTreeSet;
use toolbox_config::diag::Diagnostic;
use toolbox_config::model::*;
use toolbox_config::template;

/// PostgreSQL keeps one prepared statement per text on each connection, with the parameter types
/// it was first prepared with. Where two tools of a source run the same text with parameters sent
/// as different types, each other one gets a comment naming its types in front, so that each is
/// prepared (and cached) as its own statement.
pub(crate) fn distinguish_statements(plans: &mut [emit::ToolPlan<'_>]) {
    let mut first: std::collections::HashMap<(usize, String), Option<Vec<String>>> = Default::default();
    for plan in plans.iter_mut().filter(|p| p.source == SourceType::Sql(Engine::Postgres)) {
        for variant in &mut plan.variants {
            let key = (plan.source_index, variant.sql.clone());
            match first.get(&key) {
                None => {
                    first.insert(key, variant.binds.clone());
                }
                Some(binds) if *binds == variant.binds => {}
                Some(_) => {
                    let types = variant.binds.iter().flatten().map(|b| b.to_ascii_lowercase()).collect::<Vec<_>>();
                    variant.sql = format!("/* toolbox: parameters sent as {} */ {}", types.join(", "), variant.sql);
                }
            }
        }
    }
}

/// Describes the statements of a SQL source's tools and records a plan for each that checks out.
pub(crate) fn plan_tools<'a>(
    tools: &[&'a Tool],
    source_index: usize,
    engine: Engine,
    source_read_only: bool,
    oracle: &mut Oracle,
    diags: &mut Vec<Diagnostic>,
    plans: &mut Vec<emit::ToolPlan<'a>>,
) {
    for tool in tools {
        let Some(variants) = plan_variants(tool, engine, oracle, diags) else { continue };
        plans.push(emit::ToolPlan { tool, source_index, variants, source_read_only, source: SourceType::Sql(engine) });
    }
}

/// Renders and describes each variant of a tool's statement.
fn plan_variants(
    tool: &Tool,
    engine: Engine,
    oracle: &mut Oracle,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<emit::Variant>> {
    let Some(statement) = &tool.statement else {
        return Some(vec![emit::Variant { sql: String::new(), columns: None, binds: None }]);
    };
    // A statement with a problem of its own (an unset variable, a bad template reference) is
    // already reported at its position; preparing it would only add a confusing SQL error.
    if diags.iter().any(|d| d.pos == statement.pos) {
        return None;
    }
    if oracle.live.is_none() && oracle.cache_dir.is_none() {
        // No SQLite schema could be opened; that is already reported.
        return None;
    }
    let refs = template::references(&statement.value).ok()?;
    if !refs.iter().all(|r| tool.template_parameters.iter().any(|p| p.name.value == r.name)) {
        return None;
    }
    // Every combination of template values, last parameter varying fastest.
    let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
    for t in &tool.template_parameters {
        combos = combos
            .into_iter()
            .flat_map(|c| (0..t.allowed_values.len()).map(move |i| [c.clone(), vec![i]].concat()))
            .collect();
    }
    let mut variants = Vec::with_capacity(combos.len());
    let mut failed = false;
    for combo in combos {
        let sql = template::render(&statement.value, &refs, |name| {
            // Every reference names a template parameter (checked above).
            let Some((index, param)) = tool.template_parameters.iter().enumerate().find(|(_, p)| p.name.value == name)
            else {
                return String::new();
            };
            let value = param.allowed_values[combo[index]].value.as_str().unwrap_or_default();
            param.escape.unwrap_or(Escape::DoubleQuotes).quote(value)
        });
        let chosen: Vec<String> = tool
            .template_parameters
            .iter()
            .zip(&combo)
            .map(|(p, i)| format!("{}={}", p.name.value, p.allowed_values[*i].value))
            .collect();
        let which = if chosen.is_empty() { String::new() } else { format!(" (with {})", chosen.join(", ")) };
        let signature: Vec<Signature> =
            tool.parameters.iter().map(|p| Signature { ty: p.ty, items: p.items.as_ref().map(|i| i.ty) }).collect();
        match oracle.describe(&sql, &signature) {
            Ok(Described { parameters, parameter_types, binds, mut columns, problems }) => {
                if tool.ty.kind == ToolKind::ListTables {
                    // The built-in statement builds this column as JSON; MariaDB types it as text.
                    for c in columns.iter_mut().filter(|c| c.name == "object_details") {
                        c.type_name = if engine == Engine::Postgres { "JSONB".into() } else { "JSON".into() };
                        // SQLite has no JSON type: the kind says its text is JSON.
                        c.kind = (engine == Engine::Sqlite).then(|| toolbox_config::types::Kind::Json.code());
                    }
                }
                let declared = tool.parameters.len();
                if parameters != declared {
                    let hint = match engine {
                        Engine::Postgres => {
                            "parameters bind to `$1`, `$2` ... in the order they are declared: declare one per number"
                        }
                        Engine::Mysql => {
                            "parameters bind to the `?` placeholders in the order they are declared: declare one per `?`"
                        }
                        Engine::Sqlite => {
                            "parameters bind to the placeholders in the order they are declared: declare one per `?`, or use `?NNN` to reuse one"
                        }
                    };
                    diags.push(
                        Diagnostic::new(statement.pos, format!("the statement of tool `{}`{which} has {parameters} placeholder(s) but {declared} parameter(s) are declared", tool.name.value))
                            .with_hint(hint),
                    );
                    failed = true;
                }
                for problem in &problems {
                    failed = true;
                    diags.push(match problem {
                        Problem::Parameter { index, bind, message } => {
                            let param = &tool.parameters[*index];
                            let inferred = parameter_types.as_ref().and_then(|t| t.get(*index)).map_or("?", String::as_str);
                            Diagnostic::new(
                                param.ty_pos,
                                format!(
                                    "parameter `{}` of tool `{}`{which} is declared `{}`, so its value is sent as `{}`, but the statement uses ${} as `{}` and does not prepare with it: {message}",
                                    param.name.value,
                                    tool.name.value,
                                    param.ty.type_name(),
                                    bind.to_ascii_lowercase(),
                                    index + 1,
                                    inferred.to_ascii_lowercase(),
                                ),
                            )
                            .with_hint(types::parameter_hint(param, inferred, index + 1))
                        }
                        Problem::Column { name, message } => Diagnostic::new(
                            statement.pos,
                            format!("column `{name}` of the statement of tool `{}`{which} is {message}", tool.name.value),
                        )
                        .with_hint(format!("cast it in the statement, and keep its name with `AS {name}`")),
                        Problem::Statement { message, hint } => Diagnostic::new(
                            statement.pos,
                            format!("the statement of tool `{}`{which} {message}", tool.name.value),
                        )
                        .with_hint(hint.clone()),
                    });
                }
                let mut seen = BTreeSet::new();
                for c in &columns {
                    if !seen.insert(c.name.as_str()) {
                        diags.push(
                            Diagnostic::new(
                                statement.pos,
                                format!(
                                    "the statement of tool `{}` returns two columns named `{}`",
                                    tool.name.value, c.name
                                ),
                            )
                            .with_hint(
                                "give one of them another name with `AS`; rows are JSON objects keyed by column name",
                            ),
                        );
                        failed = true;
                    }
                }
                variants.push(emit::Variant {
                    sql,
                    columns: if columns.is_empty() { None } else { Some(columns) },
                    binds,
                });
            }
            Err(DescribeError::Unavailable(e)) => {
                diags.push(
                    Diagnostic::new(
                        statement.pos,
                        format!("the statement of tool `{}`{which} cannot be checked: {e}", tool.name.value),
                    )
                    .with_hint(format!("with the database reachable, run `{PREPARE_COMMAND}` to write the description to the cache, and commit `.toolbox/` so builds without the database work")),
                );
                failed = true;
            }
            Err(DescribeError::Cache(e)) => {
                diags.push(
                    Diagnostic::new(statement.pos, format!("the statement of tool `{}`{which} {e}", tool.name.value))
                        .with_hint(format!(
                            "run `{PREPARE_COMMAND}` to refresh the description cache, and commit `.toolbox/`"
                        )),
                );
                failed = true;
            }
            Err(DescribeError::Statement(e)) => {
                diags.push(
                    Diagnostic::new(
                        statement.pos,
                        format!(
                            "the statement of tool `{}`{which} does not prepare against {} (source `{}`): {e}",
                            tool.name.value, oracle.label, tool.source.value
                        ),
                    )
                    .with_hint(if e.contains("toolbox does not encode") {
                        "cast the column in the statement"
                    } else {
                        "check table and column names and the SQL syntax against the schema"
                    })
                    .with_focus(named_in(&e).unwrap_or_default()),
                );
                failed = true;
            }
        }
    }
    (!failed).then_some(variants)
}

/// The word of the statement a database's refusal names (a column, a table, where a syntax error
/// starts), in the words of SQLite, PostgreSQL and MySQL/MariaDB, for the diagnostic's caret.
fn named_in(error: &str) -> Option<String> {
    let after = |prefix: &str| error.split_once(prefix).map(|(_, rest)| rest);
    let quoted =
        |rest: &str, quote: char| rest.strip_prefix(quote).and_then(|r| r.split(quote).next()).map(str::to_string);
    let word = |rest: &str| rest.split(|c: char| c.is_whitespace() || c == ',' || c == ')').next().map(str::to_string);
    // SQLite: `no such column: f.x`, `no such table: x`, `near "x": syntax error`.
    if let Some(rest) = after("no such column: ").or_else(|| after("no such table: ")) {
        return word(rest);
    }
    if let Some(rest) = after("near \"") {
        return rest.split('"').next().map(str::to_string);
    }
    // PostgreSQL: `column "x" does not exist`, `column f.x does not exist`, `relation "x" does not
    // exist`, `syntax error at or near "x"`.
    for prefix in ["column ", "relation ", "syntax error at or near "] {
        if let Some(rest) = after(prefix).filter(|_| error.contains("does not exist") || prefix.starts_with("syntax")) {
            return quoted(rest, '"').or_else(|| word(rest));
        }
    }
    // MySQL and MariaDB: `Unknown column 'x' in 'field list'`, `Table 'db.x' doesn't exist`,
    // `... near 'x ...' at line 1`.
    if let Some(rest) = after("Unknown column ") {
        return quoted(rest, '\'');
    }
    if let Some(rest) = after("Table ").filter(|_| error.contains("doesn't exist")) {
        return quoted(rest, '\'').map(|t| t.rsplit('.').next().unwrap_or(&t).to_string());
    }
    if let Some(rest) = after("near '") {
        return word(rest);
    }
    None
}

#[cfg(test)]
mod named_tests {
    use super::named_in;

    #[test]
    fn the_word_each_engine_names() {
        let cases = [
            ("no such column: f.flight_numbr", "f.flight_numbr"),
            ("no such table: flight", "flight"),
            ("near \"SELEC\": syntax error", "SELEC"),
            ("column \"flight_numbr\" does not exist", "flight_numbr"),
            ("column f.flight_numbr does not exist", "f.flight_numbr"),
            ("relation \"flight\" does not exist", "flight"),
            ("syntax error at or near \"SELEC\"", "SELEC"),
            ("Unknown column 'flight_numbr' in 'field list'", "flight_numbr"),
            ("Table 'toolbox_example.flight' doesn't exist", "flight"),
            (
                "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'SELEC flight_number FROM flights' at line 1",
                "SELEC",
            ),
        ];
        for (error, word) in cases {
            assert_eq!(named_in(error).as_deref(), Some(word), "{error}");
        }
        assert_eq!(named_in("datatype mismatch"), None);
    }
}
