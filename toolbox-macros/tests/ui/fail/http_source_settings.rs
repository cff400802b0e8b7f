toolbox_macros::toolbox!("http_source_settings.yaml");

fn main() {}
