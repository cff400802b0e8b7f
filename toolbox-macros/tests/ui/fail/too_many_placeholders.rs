toolbox_macros::toolbox!("too_many_placeholders.yaml");

fn main() {}
