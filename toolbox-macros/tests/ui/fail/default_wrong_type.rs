toolbox_macros::toolbox!("default_wrong_type.yaml");

fn main() {}
