toolbox_macros::toolbox!("bad_rate_limit.yaml");

fn main() {}
