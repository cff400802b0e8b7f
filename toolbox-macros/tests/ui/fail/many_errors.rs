toolbox_macros::toolbox!("many_errors.yaml");

fn main() {}
