toolbox_macros::toolbox!("prompt_unknown_argument.yaml");

fn main() {}
