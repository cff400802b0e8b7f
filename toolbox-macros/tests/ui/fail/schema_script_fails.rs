toolbox_macros::toolbox!("schema_script_fails.yaml");

fn main() {}
