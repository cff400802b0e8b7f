toolbox_macros::toolbox!("auth_mcp_only_settings.yaml");

fn main() {}
