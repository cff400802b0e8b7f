toolbox_macros::toolbox!("auth_google_needs_client_id.yaml");

fn main() {}
