toolbox_macros::toolbox!("http_method.yaml");

fn main() {}
