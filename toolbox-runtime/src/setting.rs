//! Settings from `tools.yaml` that may hold `${VAR}` placeholders, and their resolution at
//! start-up (never at build time, so no credential is compiled in). A leaf: sources and auth
//! services both resolve their settings here.

/// A setting from `tools.yaml` that may hold `${VAR}` placeholders, resolved at start-up.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    pub raw: &'static str,
    pub line: u32,
    pub col: u32,
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
pub fn resolve_setting(
    config_path: &str,
    owner: &str,
    setting: &Setting,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, StartupError> {
    toolbox_config::env::resolve(setting.raw, lookup).map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("{config_path}:{}:{}: {owner}: {}", setting.line, setting.col, e.message))
            .collect();
        StartupError(lines.join("\n"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_names_itself_and_its_line() {
        let setting = Setting { raw: "${SECRET_PATH:?set it to the database file}", line: 4, col: 11 };
        let error = resolve_setting("tools.yaml", "source `db`", &setting, &|_| None).unwrap_err();
        assert_eq!(
            error.0,
            "tools.yaml:4:11: source `db`: required environment variable `SECRET_PATH` is not set: set it to the database file"
        );
        let resolved = resolve_setting("tools.yaml", "source `db`", &setting, &|_| Some("/data/x.db".into())).unwrap();
        assert_eq!(resolved, "/data/x.db");
    }
}
