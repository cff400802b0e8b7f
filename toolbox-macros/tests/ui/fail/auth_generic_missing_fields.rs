toolbox_macros::toolbox!("auth_generic_missing_fields.yaml");

fn main() {}
