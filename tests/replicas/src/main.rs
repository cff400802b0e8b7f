//! The replica tests' server: `replicas.yaml` (a PostgreSQL source with a streaming replica)
//! compiled by the `toolbox!` macro and served as the real binary serves a toolbox.

mod toolbox {
    toolbox_macros::toolbox!("../replicas.yaml");
}

fn main() -> std::process::ExitCode {
    toolbox_runtime::main(&toolbox::TOOLBOX)
}
