toolbox_macros::toolbox!("pg_unencodable_columns.yaml");

fn main() {}
