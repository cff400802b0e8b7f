toolbox_macros::toolbox!("mysql_placeholder_count.yaml");

fn main() {}
