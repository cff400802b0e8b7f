toolbox_macros::toolbox!("legacy_missing_kind.yaml");

fn main() {}
