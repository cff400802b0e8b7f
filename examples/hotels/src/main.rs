//! Serves the hotels quickstart toolbox.

fn main() -> std::process::ExitCode {
    toolbox_runtime::main(&toolbox_example_hotels::TOOLBOX)
}
