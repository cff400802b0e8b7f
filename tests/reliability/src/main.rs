//! The fault tests' server: `reliability.yaml` compiled by the `toolbox!` macro and served as the
//! real binary serves a toolbox.

mod toolbox {
    toolbox_macros::toolbox!("../reliability.yaml");
}

fn main() -> std::process::ExitCode {
    toolbox_runtime::main(&toolbox::TOOLBOX)
}
