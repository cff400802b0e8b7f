//! The description cache: one JSON file per statement, committed next to `tools.yaml`, so that a
//! build without the database still checks and generates everything.
//!
//! Files live in `<dir of tools.yaml>/.toolbox/`, named by a hash of the engine and the statement
//! text. Each holds the engine, the statement (to catch hash collisions) and its description,
//! pretty-printed with a trailing newline so diffs stay readable. Nothing secret is written.

use crate::describe::Described;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The directory of the cache for a configuration file.
pub fn dir(config: &Path) -> PathBuf {
    config.parent().unwrap_or(Path::new(".")).join(".toolbox")
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    engine: String,
    statement: String,
    description: Described,
}

fn file(dir: &Path, engine: &str, statement: &str) -> PathBuf {
    let mut hash = Sha256::new();
    hash.update(engine.as_bytes());
    hash.update([0]);
    hash.update(statement.as_bytes());
    let hex: String = hash.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{engine}-{hex}.json"))
}

/// The cached description of a statement, if there is one (and it is for this exact text).
pub fn read(dir: &Path, engine: &str, statement: &str) -> Option<(PathBuf, Described)> {
    let path = file(dir, engine, statement);
    let text = std::fs::read_to_string(&path).ok()?;
    let entry: Entry = serde_json::from_str(&text).ok()?;
    (entry.engine == engine && entry.statement == statement).then_some((path, entry.description))
}

/// Writes a description, only when it changed. Returns the file.
pub fn write(dir: &Path, engine: &str, statement: &str, description: &Described) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = file(dir, engine, statement);
    let entry =
        Entry { engine: engine.to_string(), statement: statement.to_string(), description: description.clone() };
    let text = serde_json::to_string_pretty(&entry).map_err(std::io::Error::other)? + "\n";
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        // Written whole, then renamed, so a concurrent build never reads half a file.
        let temporary = path.with_extension(format!("json.{}", std::process::id()));
        std::fs::write(&temporary, &text)?;
        std::fs::rename(&temporary, &path)?;
    }
    Ok(path)
}

/// Removes cache files that no statement of the configuration uses any more.
pub fn prune(dir: &Path, used: &[PathBuf]) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") && !used.contains(&path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::DescribedColumn;

    #[test]
    fn round_trip_and_collision_check() {
        let dir = tempfile::tempdir().unwrap();
        let d = Described {
            parameters: 1,
            parameter_types: Some(vec!["INT4".into()]),
            columns: vec![DescribedColumn { name: "id".into(), type_name: "INT4".into(), nullable: Some(false) }],
        };
        let path = write(dir.path(), "postgres", "SELECT $1::int4 AS id", &d).unwrap();
        assert!(path.file_name().unwrap().to_string_lossy().starts_with("postgres-"));
        assert_eq!(read(dir.path(), "postgres", "SELECT $1::int4 AS id").unwrap().1, d);
        assert!(read(dir.path(), "mysql", "SELECT $1::int4 AS id").is_none(), "keyed by engine too");
        assert!(read(dir.path(), "postgres", "SELECT 2").is_none());
    }
}
