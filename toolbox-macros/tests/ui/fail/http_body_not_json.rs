toolbox_macros::toolbox!("http_body_not_json.yaml");

fn main() {}
