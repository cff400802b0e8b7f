toolbox_macros::toolbox!("missing_field.yaml");

fn main() {}
