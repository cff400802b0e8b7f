toolbox_macros::toolbox!("schema_file_not_found.yaml");

fn main() {}
