toolbox_macros::toolbox!("unknown_source_type.yaml");

fn main() {}
