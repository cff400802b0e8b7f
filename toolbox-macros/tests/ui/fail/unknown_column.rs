toolbox_macros::toolbox!("unknown_column.yaml");

fn main() {}
