toolbox_macros::toolbox!("server_source_missing_fields.yaml");

fn main() {}
