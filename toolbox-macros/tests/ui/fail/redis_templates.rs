toolbox_macros::toolbox!("redis_templates.yaml");

fn main() {}
