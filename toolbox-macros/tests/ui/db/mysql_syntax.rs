toolbox_macros::toolbox!("mysql_syntax.yaml");

fn main() {}
