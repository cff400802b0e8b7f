toolbox_macros::toolbox!("unknown_auth_required.yaml");

fn main() {}
