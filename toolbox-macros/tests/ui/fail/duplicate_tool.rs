toolbox_macros::toolbox!("duplicate_tool.yaml");

fn main() {}
