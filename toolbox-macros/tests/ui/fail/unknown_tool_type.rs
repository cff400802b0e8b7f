toolbox_macros::toolbox!("unknown_tool_type.yaml");

fn main() {}
