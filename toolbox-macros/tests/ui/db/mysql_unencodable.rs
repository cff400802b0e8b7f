toolbox_macros::toolbox!("mysql_unencodable.yaml");

fn main() {}
