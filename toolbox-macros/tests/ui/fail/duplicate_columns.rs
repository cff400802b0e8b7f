toolbox_macros::toolbox!("duplicate_columns.yaml");

fn main() {}
