//! The scripts of SQLite sources: the `schemaFile` and `seedFile` a source names (embedded in
//! the binary, which creates a missing database from them), and the schema its statements are
//! checked against.

use crate::describe::{Describer, SchemaSource};
use std::path::{Path, PathBuf};
use toolbox_config::diag::{Diagnostic, Spanned};
use toolbox_config::env;
use toolbox_config::model::{Source, SqliteSource};

/// The canonical path of a script a source names, tracked as an input of the build; a script
/// that cannot be found is reported at its position.
pub(crate) fn script_path(
    script: &Option<Spanned<String>>,
    base: &Path,
    diags: &mut Vec<Diagnostic>,
    tracked: &mut Vec<PathBuf>,
) -> Option<PathBuf> {
    let script = script.as_ref()?;
    match std::fs::canonicalize(base.join(&script.value)) {
        Ok(path) => {
            tracked.push(path.clone());
            Some(path)
        }
        Err(e) => {
            diags.push(
                Diagnostic::new(script.pos, format!("cannot read `{}`: {e}", script.value))
                    .with_hint("the path is relative to the directory of the configuration file"),
            );
            None
        }
    }
}

/// What a SQLite source's statements are checked against, and how messages name it.
pub(crate) struct SqliteSchema {
    pub(crate) describer: Describer,
    pub(crate) label: String,
    /// The database file, when it exists but the statements are checked against `schemaFile`:
    /// each statement is also prepared against it, and a failure is a warning (the server runs
    /// against that file, which predates the schema).
    pub(crate) existing_file: Option<(Describer, String)>,
}

/// Opens the schema statements are checked against: the source's `schemaFile` when it names one
/// (so the build does not depend on a data file that happens to exist on the machine), else the
/// database file, which must then exist.
pub(crate) fn open_schema(
    source: &Source,
    sqlite: &SqliteSource,
    base: &Path,
    schema: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Vec<Diagnostic>,
    tracked: &mut Vec<PathBuf>,
) -> Option<SqliteSchema> {
    let written = env::resolve(&sqlite.database.value, env).ok().filter(|p| p != ":memory:");
    let database = written.as_ref().map(|p| base.join(p));
    let existing = database.as_ref().filter(|db| db.is_file());
    // Paths as the configuration wrote them.
    let schema_shown = sqlite.schema_file.as_ref().map(|s| s.value.clone()).unwrap_or_default();
    let database_shown = written.clone().unwrap_or_default();
    const SCRIPT_HINT: &str = "statements are checked against an empty in-memory database made by this script, so it must run there without error (try `sqlite3 :memory: < SCRIPT`)";
    let result = match (schema, existing) {
        (Some(schema_path), _) => match std::fs::read_to_string(schema_path) {
            Ok(script) => Describer::open(SchemaSource::Script(&script))
                .map(|d| (d, format!("its schemaFile `{schema_shown}`")))
                .map_err(|e| (format!("the schema script fails: {e}"), SCRIPT_HINT)),
            Err(e) => Err((
                format!("cannot read the schema script: {e}"),
                "the path is relative to the directory of the configuration file",
            )),
        },
        // A `schemaFile` that cannot be read is already reported.
        (None, _) if sqlite.schema_file.is_some() => return None,
        (None, Some(db)) => {
            tracked.push(db.clone());
            Describer::open(SchemaSource::DatabaseFile(db))
                .map(|d| (d, format!("its database file `{database_shown}`")))
                .map_err(|e| {
                    (e, "statements are checked against this file (there is no `schemaFile`): make it readable")
                })
        }
        (None, None) => {
            let shown = database.as_ref().map_or(sqlite.database.value.clone(), |p| p.display().to_string());
            diags.push(
                Diagnostic::new(sqlite.database.pos, format!("source `{}`: cannot check its statements: `{shown}` does not exist and no `schemaFile` is named", source.name.value))
                    .with_hint("create the database before building, or add `schemaFile: schema.sql` (a script that creates the tables)"),
            );
            return None;
        }
    };
    match result {
        Ok((describer, label)) => {
            let existing_file = match (schema, existing) {
                (Some(_), Some(db)) => {
                    tracked.push(db.clone());
                    Describer::open(SchemaSource::DatabaseFile(db)).ok().map(|d| (d, database_shown.clone()))
                }
                _ => None,
            };
            Some(SqliteSchema { describer, label, existing_file })
        }
        Err((e, hint)) => {
            let pos = match (&sqlite.schema_file, existing) {
                (Some(s), _) => s.pos,
                _ => sqlite.database.pos,
            };
            diags.push(Diagnostic::new(pos, format!("source `{}`: {e}", source.name.value)).with_hint(hint));
            None
        }
    }
}
