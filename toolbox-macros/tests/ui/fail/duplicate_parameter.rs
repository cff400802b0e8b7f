toolbox_macros::toolbox!("duplicate_parameter.yaml");

fn main() {}
