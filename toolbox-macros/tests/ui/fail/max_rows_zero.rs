toolbox_macros::toolbox!("max_rows_zero.yaml");

fn main() {}
