toolbox_macros::toolbox!("auth_bad_introspection_method.yaml");

fn main() {}
