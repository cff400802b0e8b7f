toolbox_macros::toolbox!("http_body_params.yaml");

fn main() {}
