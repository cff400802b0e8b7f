toolbox_macros::toolbox!("redis_source_settings.yaml");

fn main() {}
