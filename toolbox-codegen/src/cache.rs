//! The description cache: one JSON file per statement, committed next to `tools.yaml`, so that a
//! build without the database still checks and generates everything.
//!
//! Files live in `<dir of tools.yaml>/.toolbox/`, named by a hash of the engine, the statement
//! text and (PostgreSQL, whose parameters are sent as types chosen from them) the declared
//! parameter types. Each holds those (to catch hash collisions) and the description,
//! pretty-printed with a trailing newline so diffs stay readable. Nothing secret is written.
//!
//! Only a build that asks (`TOOLBOX_PREPARE=1`, see [`crate::oracle::Mode`]) writes or prunes
//! these files; every other build only reads them.

use crate::describe::{Described, Signature};
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
    /// The declared parameter types (`integer,array<string>`), where they shape the description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parameters_declared: Option<String>,
    description: Described,
}

/// The declared parameter types that key a PostgreSQL description; `None` for other engines.
pub fn key(engine: &str, signature: &[Signature]) -> Option<String> {
    (engine == "postgres").then(|| {
        signature
            .iter()
            .map(|s| match s.items {
                Some(items) => format!("{}<{}>", s.ty.type_name(), items.type_name()),
                None => s.ty.type_name().to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The file that holds a statement's description.
pub fn file(dir: &Path, engine: &str, statement: &str, declared: Option<&str>) -> PathBuf {
    let mut hash = Sha256::new();
    hash.update(engine.as_bytes());
    hash.update([0]);
    hash.update(statement.as_bytes());
    if let Some(declared) = declared {
        hash.update([0]);
        hash.update(declared.as_bytes());
    }
    let hex: String = hash.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{engine}-{hex}.json"))
}

/// The cached description of a statement, if there is one (and it is for this exact text and
/// these declared parameter types).
pub fn read(dir: &Path, engine: &str, statement: &str, declared: Option<&str>) -> Option<(PathBuf, Described)> {
    let path = file(dir, engine, statement, declared);
    let text = std::fs::read_to_string(&path).ok()?;
    let entry: Entry = serde_json::from_str(&text).ok()?;
    (entry.engine == engine && entry.statement == statement && entry.parameters_declared.as_deref() == declared)
        .then_some((path, entry.description))
}

/// Writes a description, only when it changed. Returns the file.
pub fn write(
    dir: &Path,
    engine: &str,
    statement: &str,
    declared: Option<&str>,
    description: &Described,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = file(dir, engine, statement, declared);
    let entry = Entry {
        engine: engine.to_string(),
        statement: statement.to_string(),
        parameters_declared: declared.map(str::to_string),
        description: description.clone(),
    };
    let text = serde_json::to_string_pretty(&entry).map_err(std::io::Error::other)? + "\n";
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        // Written whole, then renamed, so a concurrent build never reads half a file.
        let temporary = path.with_extension(format!("json.{}", std::process::id()));
        std::fs::write(&temporary, &text)?;
        std::fs::rename(&temporary, &path)?;
    }
    Ok(path)
}

/// The cache files of `engines` that no statement of the configuration uses. Files of other
/// engines are left out: they may belong to another configuration in the same directory (two
/// configurations of one engine in one directory share its files, and should each have a
/// directory of their own).
pub fn unused(dir: &Path, used: &[PathBuf], engines: &[&str]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut unused: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let of_engine = engines.iter().any(|e| name.strip_prefix(e).is_some_and(|rest| rest.starts_with('-')));
            of_engine && path.extension().is_some_and(|e| e == "json") && !used.contains(&path)
        })
        .map(|entry| entry.path())
        .collect();
    unused.sort();
    unused
}

/// Removes the [`unused`] cache files.
pub fn prune(dir: &Path, used: &[PathBuf], engines: &[&str]) {
    for path in unused(dir, used, engines) {
        let _ = std::fs::remove_file(&path);
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
            binds: Some(vec!["INT4".into()]),
            columns: vec![DescribedColumn {
                name: "id".into(),
                type_name: "INT4".into(),
                nullable: Some(false),
                kind: Some("Integer".into()),
            }],
            access: None,
            problems: Vec::new(),
        };
        let sql = "SELECT $1::int4 AS id";
        let path = write(dir.path(), "postgres", sql, Some("integer"), &d).unwrap();
        assert!(path.file_name().unwrap().to_string_lossy().starts_with("postgres-"));
        assert_eq!(read(dir.path(), "postgres", sql, Some("integer")).unwrap().1, d);
        assert!(read(dir.path(), "postgres", sql, Some("float")).is_none(), "keyed by the declared types");
        assert!(read(dir.path(), "mysql", sql, None).is_none(), "keyed by engine too");
        assert!(read(dir.path(), "postgres", "SELECT 2", Some("")).is_none());
    }

    #[test]
    fn pruning_leaves_other_engines_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let d = Described {
            parameters: 0,
            parameter_types: None,
            binds: None,
            columns: Vec::new(),
            access: None,
            problems: Vec::new(),
        };
        let kept = write(dir.path(), "postgres", "SELECT 1", Some(""), &d).unwrap();
        let stale = write(dir.path(), "postgres", "SELECT 2", Some(""), &d).unwrap();
        let other = write(dir.path(), "mysql", "SELECT 2", None, &d).unwrap();
        prune(dir.path(), std::slice::from_ref(&kept), &["postgres"]);
        assert!(kept.exists() && !stale.exists());
        assert!(other.exists(), "another configuration's engine");
    }
}
