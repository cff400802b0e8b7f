toolbox_macros::toolbox!("include_error_inside.yaml");

fn main() {}
