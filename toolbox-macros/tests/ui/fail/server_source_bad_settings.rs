toolbox_macros::toolbox!("server_source_bad_settings.yaml");

fn main() {}
