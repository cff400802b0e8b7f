toolbox_macros::toolbox!("tool_name_too_long.yaml");

fn main() {}
