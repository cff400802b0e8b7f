toolbox_macros::toolbox!("http_param_types.yaml");

fn main() {}
