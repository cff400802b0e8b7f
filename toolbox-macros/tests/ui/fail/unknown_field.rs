toolbox_macros::toolbox!("unknown_field.yaml");

fn main() {}
