toolbox_macros::toolbox!("undeclared_template_param.yaml");

fn main() {}
