toolbox_macros::toolbox!("template_without_allowed_values.yaml");

fn main() {}
