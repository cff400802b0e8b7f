toolbox_macros::toolbox!("pg_string_needs_cast.yaml");

fn main() {}
