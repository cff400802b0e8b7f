toolbox_macros::toolbox!("legacy_tools_list.yaml");

fn main() {}
