toolbox_macros::toolbox!("redis_commands.yaml");

fn main() {}
