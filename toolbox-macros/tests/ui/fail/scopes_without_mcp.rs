toolbox_macros::toolbox!("scopes_without_mcp.yaml");

fn main() {}
