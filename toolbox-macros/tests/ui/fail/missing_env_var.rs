toolbox_macros::toolbox!("missing_env_var.yaml");

fn main() {}
