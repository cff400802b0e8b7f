toolbox_macros::toolbox!("auth_unknown_type.yaml");

fn main() {}
