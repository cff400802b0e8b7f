toolbox_macros::toolbox!("unknown_param_type.yaml");

fn main() {}
