toolbox_macros::toolbox!("pg_unreachable_without_cache.yaml");

fn main() {}
