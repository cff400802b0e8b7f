toolbox_macros::toolbox!("include_cycle.yaml");

fn main() {}
