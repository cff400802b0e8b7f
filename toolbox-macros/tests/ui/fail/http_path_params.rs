toolbox_macros::toolbox!("http_path_params.yaml");

fn main() {}
