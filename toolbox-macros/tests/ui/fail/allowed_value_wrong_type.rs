toolbox_macros::toolbox!("allowed_value_wrong_type.yaml");

fn main() {}
