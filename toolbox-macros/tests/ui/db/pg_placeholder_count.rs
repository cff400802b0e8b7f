toolbox_macros::toolbox!("pg_placeholder_count.yaml");

fn main() {}
