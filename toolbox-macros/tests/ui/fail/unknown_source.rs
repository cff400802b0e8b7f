toolbox_macros::toolbox!("unknown_source.yaml");

fn main() {}
