toolbox_macros::toolbox!("redis_shared_connection.yaml");

fn main() {}
