toolbox_macros::toolbox!("replicas_settings.yaml");

fn main() {}
