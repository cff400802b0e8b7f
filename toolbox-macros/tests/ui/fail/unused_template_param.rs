toolbox_macros::toolbox!("unused_template_param.yaml");

fn main() {}
