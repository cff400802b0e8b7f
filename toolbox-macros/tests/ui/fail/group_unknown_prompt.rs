toolbox_macros::toolbox!("group_unknown_prompt.yaml");

fn main() {}
