toolbox_macros::toolbox!("include_unknown_prebuilt.yaml");

fn main() {}
