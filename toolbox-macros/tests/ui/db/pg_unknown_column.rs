toolbox_macros::toolbox!("pg_unknown_column.yaml");

fn main() {}
