//! Whether a PostgreSQL statement only reads, so that a source's read replicas may run it.
//!
//! Asked only for sources with `replicas:`. The statement is prepared with SQL's `PREPARE` inside
//! a read-only transaction that is rolled back, and its generic plan (`plan_cache_mode =
//! force_generic_plan`, so no parameter value folds a branch away) is read with `EXPLAIN
//! (VERBOSE, FORMAT JSON) EXECUTE`. It reads only when the plan has no `ModifyTable` (an
//! `INSERT`, `UPDATE`, `DELETE` or `MERGE`, data-modifying CTEs included) and no `LockRows`
//! (`FOR UPDATE`/`SHARE`), and calls no function PostgreSQL marks volatile
//! (`pg_proc.provolatile = 'v'`) other than the few in [`HARMLESS_VOLATILE`]. Functions are found
//! by name in the deparsed expressions of the plan (views and SQL functions are expanded there),
//! operators and casts through the catalog. Anything that cannot be planned or is in doubt is a
//! write. A read that still meets a write on a replica is retried on the primary at run time.

use serde_json::Value;
use sqlx::postgres::PgConnection;
use sqlx_core::sql_str::AssertSqlSafe;

/// Where a statement may run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Only reads: a replica may run it.
    Read,
    /// Writes, or may: the primary runs it. The reason, for `toolbox list` and the build.
    Write(String),
}

/// Volatile built-ins (in `pg_catalog`) that change nothing in the database: a replica runs them
/// as well as the primary.
pub const HARMLESS_VOLATILE: &[&str] = &[
    "random",
    "random_normal",
    "gen_random_uuid",
    "clock_timestamp",
    "timeofday",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
];

/// The name of the prepared statement the classification makes (and removes).
const NAME: &str = "toolbox_classify";

/// Classifies `sql`, a statement with `parameters` placeholders that prepared on `c`.
pub async fn classify(c: &mut PgConnection, sql: &str, parameters: usize) -> Result<Access, String> {
    let message = |e: sqlx::Error| crate::describe::message(&e);
    simple(c, "BEGIN TRANSACTION READ ONLY".into()).await.map_err(message)?;
    let plan = plan(c, sql, parameters).await;
    let rolled_back = simple(c, "ROLLBACK".into()).await.map_err(message);
    // A prepared statement outlives the transaction.
    let _ = simple(c, format!("DEALLOCATE {NAME}")).await;
    rolled_back?;
    let plan = match plan {
        Ok(plan) => plan,
        Err(why) => return Ok(Access::Write(why)),
    };
    if let Some(why) = writes_in_plan(&plan) {
        return Ok(Access::Write(why));
    }
    let mut texts = Vec::new();
    strings(&plan, &mut texts);
    let candidates = called_names(&texts);
    let volatile: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT n.nspname::text, p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.provolatile = 'v' AND p.proname = ANY($1) ORDER BY 1, 2",
    )
    .bind(&candidates)
    .fetch_all(&mut *c)
    .await
    .map_err(message)?;
    if let Some((schema, name)) =
        volatile.iter().find(|(schema, name)| !(schema == "pg_catalog" && HARMLESS_VOLATILE.contains(&name.as_str())))
    {
        let shown = if schema == "pg_catalog" { name.clone() } else { format!("{schema}.{name}") };
        return Ok(Access::Write(format!("calls `{shown}()`, which PostgreSQL marks volatile")));
    }
    let operators: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT o.oprname::text FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode WHERE p.provolatile = 'v'",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(message)?;
    if let Some(op) = operators.iter().find(|op| texts.iter().any(|t| t.contains(op.as_str()))) {
        return Ok(Access::Write(format!("may use the operator `{op}`, whose function is volatile")));
    }
    let casts: Vec<(String, bool)> = sqlx::query_as(
        "SELECT format_type(c.casttarget, NULL), c.castcontext <> 'e' FROM pg_cast c JOIN pg_proc p ON p.oid = c.castfunc \
         WHERE p.provolatile = 'v'",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(message)?;
    for (target, implicit) in casts {
        // An implicit cast is not shown in a plan's text at all.
        if implicit || texts.iter().any(|t| t.contains(&format!("::{target}"))) {
            return Ok(Access::Write(format!("may cast to `{target}` through a volatile function")));
        }
    }
    Ok(Access::Read)
}

/// The generic plan of the statement, or why there is none (it is then run on the primary).
async fn plan(c: &mut PgConnection, sql: &str, parameters: usize) -> Result<Value, String> {
    let setup = "SET LOCAL plan_cache_mode = force_generic_plan";
    simple(c, setup.into()).await.map_err(|e| crate::describe::message(&e))?;
    if let Err(e) = simple(c, format!("PREPARE {NAME} AS {sql}")).await {
        return Err(format!("is not a plain query PostgreSQL can plan ({})", crate::describe::message(&e)));
    }
    let nulls = vec!["NULL"; parameters].join(", ");
    let arguments = if parameters == 0 { String::new() } else { format!("({nulls})") };
    let explain = format!("EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {NAME}{arguments}");
    let text: String = match sqlx::raw_sql(AssertSqlSafe(explain)).fetch_one(&mut *c).await {
        Ok(row) => sqlx::Row::try_get_unchecked(&row, 0).map_err(|e| e.to_string())?,
        Err(e) => return Err(format!("cannot be explained ({})", crate::describe::message(&e))),
    };
    serde_json::from_str(&text).map_err(|e| format!("has a plan toolbox cannot read ({e})"))
}

/// Runs a command through the simple protocol (`PREPARE` takes the statement's own `$n`).
async fn simple(c: &mut PgConnection, command: String) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(command)).execute(&mut *c).await.map(|_| ())
}

/// A node of the plan that writes or locks rows, as the reason.
fn writes_in_plan(plan: &Value) -> Option<String> {
    match plan {
        Value::Object(node) => {
            match node.get("Node Type").and_then(Value::as_str) {
                Some("ModifyTable") => {
                    let operation = node.get("Operation").and_then(Value::as_str).unwrap_or("Modify");
                    return Some(format!("writes (`{}`)", operation.to_ascii_uppercase()));
                }
                Some("LockRows") => return Some("locks rows (`FOR UPDATE`/`FOR SHARE`)".into()),
                _ => {}
            }
            node.values().find_map(writes_in_plan)
        }
        Value::Array(items) => items.iter().find_map(writes_in_plan),
        _ => None,
    }
}

/// Every string of the plan: its expressions (`Output`, `Filter`, `Function Call` ...) as
/// PostgreSQL deparses them.
fn strings<'a>(plan: &'a Value, out: &mut Vec<&'a str>) {
    match plan {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(node) => node.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The names written just before a `(` in deparsed expressions: every function a plan calls
/// (and some words that are not functions, which the catalog lookup ignores). A qualified name
/// gives its last part; a quoted one its text. Literals are not skipped: a name inside one can
/// only make a statement run on the primary.
pub fn called_names(texts: &[&str]) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    for text in texts {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '"' {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && chars[end] != '"' {
                    end += 1;
                }
                let name: String = chars[start..end.min(chars.len())].iter().collect();
                i = end + 1;
                if chars.get(i) == Some(&'(') {
                    names.insert(name);
                }
            } else if c.is_alphabetic() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                    i += 1;
                }
                if chars.get(i) == Some(&'(') {
                    names.insert(chars[start..i].iter().collect::<String>().to_lowercase());
                }
            } else {
                i += 1;
            }
        }
    }
    names.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_before_a_parenthesis() {
        let texts = [
            "nextval('s'::regclass)",
            "public.\"MyFunc\"(t.id, lower((t.name)::text))",
            "(t.id = $1)",
            "CASE WHEN (random() < '0.5'::double precision) THEN 1 ELSE 2 END",
        ];
        assert_eq!(called_names(&texts), ["MyFunc", "lower", "nextval", "random"]);
    }

    #[test]
    fn writes_and_locks_anywhere_in_the_plan() {
        let cte: Value = serde_json::json!([{"Plan": {"Node Type": "CTE Scan", "Plans": [
            {"Node Type": "ModifyTable", "Operation": "Insert"}]}}]);
        assert_eq!(writes_in_plan(&cte).as_deref(), Some("writes (`INSERT`)"));
        let lock: Value = serde_json::json!([{"Plan": {"Node Type": "LockRows", "Plans": []}}]);
        assert!(writes_in_plan(&lock).unwrap().contains("FOR UPDATE"));
        let read: Value = serde_json::json!([{"Plan": {"Node Type": "Seq Scan", "Output": ["id"]}}]);
        assert_eq!(writes_in_plan(&read), None);
    }
}
