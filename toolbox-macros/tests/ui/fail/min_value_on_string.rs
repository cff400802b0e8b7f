toolbox_macros::toolbox!("min_value_on_string.yaml");

fn main() {}
