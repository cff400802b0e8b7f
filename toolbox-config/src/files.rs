//! The files a configuration is read from: `tools.yaml` and every file, folder listing and
//! prebuilt set it includes (`include:`, read by `parse/include.rs`). A [`Pos`] names its file by
//! index into [`Files`], which renders a diagnostic with that file's name and line.

use crate::diag::{Diagnostic, Pos};
use std::path::{Component, Path, PathBuf};

/// One file of the configuration.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// How messages name it: the root as the caller names it, an included file by its path
    /// joined to its includer's (`tools.yaml` includes `more/a.yaml`), a prebuilt set as
    /// `prebuilt:NAME`.
    pub display: String,
    /// Where it is on disk (canonical); `None` for a prebuilt set, compiled into this crate, and
    /// for the text given to `load_str`.
    pub path: Option<PathBuf>,
    /// The directory relative paths written in this file are resolved against: its own
    /// directory, or, for a prebuilt set, the directory of the file that included it.
    pub dir: PathBuf,
    pub text: String,
}

/// Every file read, in the order they were read (index 0 is the root), and the folders whose
/// listings were read (a file added to one changes the configuration).
#[derive(Clone, Debug, Default)]
pub struct Files {
    pub files: Vec<SourceFile>,
    pub folders: Vec<PathBuf>,
}

impl Files {
    /// The file a position is in (the root for an index out of range, which no reader makes).
    pub fn file(&self, pos: Pos) -> &SourceFile {
        self.files.get(pos.file as usize).unwrap_or(&self.files[0])
    }

    /// The directory relative paths at `pos` are resolved against.
    pub fn dir_of(&self, pos: Pos) -> &Path {
        &self.file(pos).dir
    }

    /// `file:line:col: message`, with the excerpt of the file the diagnostic is in.
    pub fn render(&self, d: &Diagnostic) -> String {
        let file = self.file(d.pos);
        d.render(&file.display, &file.text)
    }

    /// The files on disk (the root included), for a build to watch.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().filter_map(|f| f.path.as_deref())
    }
}

/// `base` joined with `relative`, with `.` and `name/..` removed as text (the name a message
/// shows; the file itself is found through the file system).
pub(crate) fn join_display(base: &Path, relative: &str) -> String {
    let joined = base.join(relative);
    let mut parts: Vec<Component<'_>> = Vec::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.iter().collect::<PathBuf>().display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_joined_and_tidied() {
        assert_eq!(join_display(Path::new(""), "a/b.yaml"), "a/b.yaml");
        assert_eq!(join_display(Path::new("conf"), "./x/../y.yaml"), "conf/y.yaml");
        assert_eq!(join_display(Path::new("conf"), "../../y.yaml"), "../y.yaml");
        assert_eq!(join_display(Path::new("/etc/t"), "/abs/z.yml"), "/abs/z.yml");
    }
}
