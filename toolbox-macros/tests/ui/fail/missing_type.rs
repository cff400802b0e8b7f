toolbox_macros::toolbox!("missing_type.yaml");

fn main() {}
