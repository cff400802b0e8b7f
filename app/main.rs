//! The `toolbox` binary: serves the toolbox compiled from `tools.yaml`.

fn main() -> std::process::ExitCode {
    toolbox_runtime::main(&toolbox::TOOLBOX)
}
