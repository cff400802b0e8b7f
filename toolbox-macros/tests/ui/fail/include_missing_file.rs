toolbox_macros::toolbox!("include_missing_file.yaml");

fn main() {}
