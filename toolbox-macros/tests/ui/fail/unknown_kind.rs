toolbox_macros::toolbox!("unknown_kind.yaml");

fn main() {}
