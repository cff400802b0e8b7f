toolbox_macros::toolbox!("array_without_items.yaml");

fn main() {}
