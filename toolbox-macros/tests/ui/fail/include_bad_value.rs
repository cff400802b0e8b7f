toolbox_macros::toolbox!("include_bad_value.yaml");

fn main() {}
