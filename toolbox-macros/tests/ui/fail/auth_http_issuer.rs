toolbox_macros::toolbox!("auth_http_issuer.yaml");

fn main() {}
