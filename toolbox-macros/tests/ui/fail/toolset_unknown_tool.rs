toolbox_macros::toolbox!("toolset_unknown_tool.yaml");

fn main() {}
