toolbox_macros::toolbox!("missing_schema.yaml");

fn main() {}
