toolbox_macros::toolbox!("bad_tool_name.yaml");

fn main() {}
