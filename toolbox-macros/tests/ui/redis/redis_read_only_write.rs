toolbox_macros::toolbox!("redis_read_only_write.yaml");

fn main() {}
