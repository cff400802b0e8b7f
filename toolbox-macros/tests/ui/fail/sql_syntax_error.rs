toolbox_macros::toolbox!("sql_syntax_error.yaml");

fn main() {}
