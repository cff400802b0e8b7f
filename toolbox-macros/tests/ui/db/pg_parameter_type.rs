toolbox_macros::toolbox!("pg_parameter_type.yaml");

fn main() {}
