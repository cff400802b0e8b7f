toolbox_macros::toolbox!("two_mcp_auth_services.yaml");

fn main() {}
