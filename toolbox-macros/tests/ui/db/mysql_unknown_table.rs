toolbox_macros::toolbox!("mysql_unknown_table.yaml");

fn main() {}
