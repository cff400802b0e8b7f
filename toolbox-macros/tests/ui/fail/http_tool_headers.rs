toolbox_macros::toolbox!("http_tool_headers.yaml");

fn main() {}
