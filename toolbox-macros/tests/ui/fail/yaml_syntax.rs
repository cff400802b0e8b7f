toolbox_macros::toolbox!("yaml_syntax.yaml");

fn main() {}
