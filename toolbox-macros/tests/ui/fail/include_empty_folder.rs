toolbox_macros::toolbox!("include_empty_folder.yaml");

fn main() {}
