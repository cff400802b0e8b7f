toolbox_macros::toolbox!("legacy_unknown_top_level.yaml");

fn main() {}
