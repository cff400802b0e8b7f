toolbox_macros::toolbox!("unknown_param_auth.yaml");

fn main() {}
