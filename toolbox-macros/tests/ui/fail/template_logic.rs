toolbox_macros::toolbox!("template_logic.yaml");

fn main() {}
