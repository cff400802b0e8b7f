toolbox_macros::toolbox!("mcp_header_invalid.yaml");

fn main() {}
