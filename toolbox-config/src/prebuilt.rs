//! The prebuilt toolsets shipped with toolbox (`include: prebuilt:postgres`): fragments of
//! `tools.yaml` compiled into this crate, so that a configuration outside this repository can
//! include them. Each defines a source from environment placeholders (the reference's names),
//! its tools and a toolset; `parse/include.rs` reads them like a file.

/// Every prebuilt set: its name and its text.
pub const SETS: &[(&str, &str)] = &[
    ("mysql", include_str!("../prebuilt/mysql.yaml")),
    ("postgres", include_str!("../prebuilt/postgres.yaml")),
    ("sqlite", include_str!("../prebuilt/sqlite.yaml")),
];

/// The text of the prebuilt set `name`.
pub fn text(name: &str) -> Option<&'static str> {
    SETS.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}
