toolbox_macros::toolbox!("unknown_table.yaml");

fn main() {}
