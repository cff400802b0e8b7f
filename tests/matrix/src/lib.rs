//! The toolboxes of the type matrices, compiled from the generated configurations beside this
//! crate (`gen_*.py` writes them; `tests/` runs them against the engines).

/// PostgreSQL: `postgres.yaml`, described against the `toolbox_matrix` database made from
/// `postgres.sql` (or the committed `.toolbox/` cache).
pub mod postgres {
    toolbox_macros::toolbox!("../postgres.yaml");
}

/// MySQL/MariaDB: `mysql.yaml`, described against the `toolbox_matrix` database made from
/// `mysql.sql` (or the committed `.toolbox/` cache).
pub mod mysql {
    toolbox_macros::toolbox!("../mysql.yaml");
}

/// SQLite: `sqlite.yaml`, described against `sqlite.sql` (the test points the source at a
/// database file it makes in a temporary directory).
pub mod sqlite {
    toolbox_macros::toolbox!("../sqlite.yaml");
}
