//! `include:`: files, folders and prebuilt sets read as if their documents were written where
//! the `include:` is.
//!
//! A path is relative to the directory of the file that writes it. A folder includes its
//! `*.yaml` and `*.yml` files (not hidden ones, not sub-folders) in name order. `prebuilt:NAME`
//! (or `{prebuilt: NAME, source: SOURCE}`, which points its tools at a source of your own
//! instead of the one it defines) reads a set from [`crate::prebuilt`].
//!
//! Errors: a path that does not exist, a folder without such files, a file that includes itself
//! (directly or through others), an unknown prebuilt set, a value of another shape. A file (or a
//! prebuilt set with the same `source`) included a second time is read once: the second include
//! is a no-op, so two fragments may both include a shared one.

use super::Reader;
use super::obj::{Obj, unknown_value_hint};
use crate::diag::{Diagnostic, Pos, Spanned};
use crate::files::{SourceFile, join_display};
use crate::yaml::{self, Node};
use std::path::{Path, PathBuf};

/// What one entry of `include:` names.
enum Target {
    Path(Spanned<String>),
    Prebuilt { name: Spanned<String>, source: Option<Spanned<String>> },
}

const SHAPE_HINT: &str = "write a path relative to this file (`include: more.yaml`, or a folder: `include: tools.d`), a list of them, `prebuilt:NAME`, or `{prebuilt: NAME, source: SOURCE}`";

impl Reader<'_> {
    /// Reads what an `include:` value names, in order.
    pub(super) fn include(&mut self, value: &Node) {
        let items: Vec<&Node> = match yaml::as_seq(value) {
            Some(items) => items.iter().collect(),
            None => vec![value],
        };
        if items.is_empty() || yaml::is_null(value) {
            self.diags.push(Diagnostic::new(yaml::pos(value), "`include` names nothing").with_hint(SHAPE_HINT));
        }
        for item in items {
            if let Some(target) = self.target(item) {
                self.read_target(target);
            }
        }
    }

    fn target(&mut self, node: &Node) -> Option<Target> {
        let pos = yaml::pos(node);
        if let Some(text) = yaml::as_str(node) {
            return Some(match text.strip_prefix("prebuilt:") {
                Some(name) => Target::Prebuilt { name: Spanned::new(name.trim().to_string(), pos), source: None },
                None => Target::Path(Spanned::new(text.to_string(), pos)),
            });
        }
        if yaml::entries(node, &mut Vec::new()).is_some() {
            let mut obj = Obj::new(node, "this include".into(), false, &mut self.diags)?;
            let name = obj.required_string("prebuilt", &mut self.diags);
            let source = obj.string("source", &mut self.diags);
            obj.finish(&mut self.diags);
            return Some(Target::Prebuilt { name: name?, source });
        }
        self.diags.push(
            Diagnostic::new(
                pos,
                format!("`include` must name a file, a folder or a prebuilt set, found {}", yaml::describe(node)),
            )
            .with_hint(SHAPE_HINT),
        );
        None
    }

    /// The file being read.
    fn current(&self) -> &SourceFile {
        &self.files.files[*self.open.last().unwrap_or(&0) as usize]
    }

    fn read_target(&mut self, target: Target) {
        match target {
            Target::Prebuilt { name, source } => {
                let Some(text) = crate::prebuilt::text(&name.value) else {
                    let names: Vec<&str> = crate::prebuilt::SETS.iter().map(|(n, _)| *n).collect();
                    self.diags.push(
                        Diagnostic::new(name.pos, format!("unknown prebuilt set `{}`", name.value))
                            .with_hint(unknown_value_hint(&name.value, &names)),
                    );
                    return;
                };
                let key = format!("prebuilt:{}:{}", name.value, source.as_ref().map_or("", |s| s.as_str()));
                let file = SourceFile {
                    display: format!("prebuilt:{}", name.value),
                    path: None,
                    dir: self.current().dir.clone(),
                    text: text.to_string(),
                };
                self.read_file(key, file, source);
            }
            Target::Path(path) => {
                let (includer, dir) = (self.current().display.clone(), self.current().dir.clone());
                let shown_dir = Path::new(&includer).parent().unwrap_or(Path::new("")).to_path_buf();
                let shown = join_display(&shown_dir, &path.value);
                let found = match std::fs::canonicalize(dir.join(&path.value)) {
                    Ok(found) => found,
                    Err(e) => {
                        let hint =
                            format!("the path is relative to the folder of `{includer}`, the file that includes it");
                        self.diags.push(
                            Diagnostic::new(path.pos, format!("cannot include `{}`: {e}", path.value)).with_hint(hint),
                        );
                        return;
                    }
                };
                if !found.is_dir() {
                    self.read_path(found, shown, path.pos);
                    return;
                }
                self.files.folders.push(found.clone());
                let names = match yaml_files(&found) {
                    Ok(names) => names,
                    Err(e) => {
                        self.diags
                            .push(Diagnostic::new(path.pos, format!("cannot list the folder `{}`: {e}", path.value)));
                        return;
                    }
                };
                if names.is_empty() {
                    self.diags.push(
                        Diagnostic::new(
                            path.pos,
                            format!("the folder `{}` has no `.yaml` or `.yml` file to include", path.value),
                        )
                        .with_hint("add the files, or remove this include"),
                    );
                }
                for name in names {
                    self.read_path(found.join(&name), join_display(Path::new(&shown), &name), path.pos);
                }
            }
        }
    }

    /// Reads a file found on disk, unless it is being read already (a cycle, an error) or was
    /// read before (a no-op).
    fn read_path(&mut self, found: PathBuf, shown: String, at: Pos) {
        let open_at = self.open.iter().position(|&f| self.files.files[f as usize].path.as_deref() == Some(&found));
        if let Some(first) = open_at {
            let mut chain: Vec<&str> =
                self.open[first..].iter().map(|&f| self.files.files[f as usize].display.as_str()).collect();
            chain.push(&shown);
            let chain = chain.join(" → ");
            self.diags.push(
                Diagnostic::new(at, format!("`{shown}` includes itself: {chain}")).with_hint(
                    "remove one of these includes; a file may be included by several files, but not by itself",
                ),
            );
            return;
        }
        let key = found.display().to_string();
        if self.seen.contains(&key) {
            return;
        }
        let text = match std::fs::read_to_string(&found) {
            Ok(text) => text,
            Err(e) => {
                self.diags.push(Diagnostic::new(at, format!("cannot read `{shown}`: {e}")));
                return;
            }
        };
        let dir = found.parent().map(Path::to_path_buf).unwrap_or_default();
        self.read_file(key, SourceFile { display: shown, path: Some(found), dir, text }, None);
    }

    /// Reads the documents of `file` where the include is. With `source`, the file's sources
    /// are skipped and its tools use that source instead.
    fn read_file(&mut self, key: String, file: SourceFile, source: Option<Spanned<String>>) {
        if self.seen.contains(&key) {
            return;
        }
        self.seen.push(key);
        let Ok(id) = u16::try_from(self.files.files.len()) else {
            self.diags.push(Diagnostic::new(Pos::new(1, 1), "more than 65535 files are included"));
            return;
        };
        let documents = yaml::in_file(id, || yaml::load(&file.text));
        self.files.files.push(file);
        let documents = match documents {
            Ok(documents) => documents,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        self.open.push(id);
        let outer = std::mem::replace(&mut self.source_override, source);
        let first_tool = self.config.tools.len();
        yaml::in_file(id, || {
            for document in &documents {
                self.document(document);
            }
        });
        if let Some(source) = &self.source_override {
            for tool in &mut self.config.tools[first_tool..] {
                tool.source = source.clone();
            }
        }
        self.source_override = outer;
        self.open.pop();
    }
}

/// The `*.yaml` and `*.yml` files of a folder (not hidden ones), in name order.
fn yaml_files(folder: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        if yaml && !name.starts_with('.') && entry.path().is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
