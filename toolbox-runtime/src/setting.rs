//! Settings from `tools.yaml` that may hold `${VAR}` placeholders, and their resolution at
//! start-up (never at build time, so no credential is compiled in). A leaf: sources and auth
//! services both resolve their settings here.

/// A setting from `tools.yaml` that may hold `${VAR}` placeholders, resolved at start-up.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    pub raw: &'static str,
    /// The file it is written in: `tools.yaml`, a file it includes, or `prebuilt:NAME`.
    pub file: &'static str,
    pub line: u32,
    pub col: u32,
}

impl Setting {
    /// `file:line:col`, where messages about the setting point.
    pub fn at(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.col)
    }
}

/// A placeholder that could not be resolved at start-up; the server refuses to start.
#[derive(Debug)]
pub struct StartupError(pub String);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Resolves a setting's placeholders with `lookup` (the process environment, in the server).
/// Messages name the setting's own file (`_config_path` is kept for callers' sake).
pub fn resolve_setting(
    _config_path: &str,
    owner: &str,
    setting: &Setting,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, StartupError> {
    toolbox_config::env::resolve(setting.raw, lookup).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("{}: {owner}: {}", setting.at(), e.message)).collect();
        StartupError(lines.join("\n"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_names_itself_and_its_line() {
        let setting =
            Setting { raw: "${SECRET_PATH:?set it to the database file}", file: "tools.yaml", line: 4, col: 11 };
        let error = resolve_setting("tools.yaml", "source `db`", &setting, &|_| None).unwrap_err();
        assert_eq!(
            error.0,
            "tools.yaml:4:11: source `db`: required environment variable `SECRET_PATH` is not set: set it to the database file"
        );
        let resolved = resolve_setting("tools.yaml", "source `db`", &setting, &|_| Some("/data/x.db".into())).unwrap();
        assert_eq!(resolved, "/data/x.db");
    }
}
