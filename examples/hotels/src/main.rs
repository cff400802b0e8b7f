//! Serves the hotels quickstart toolbox.

fn main() -> std::process::ExitCode {
    // A port of its own, so that it can run beside the demo (5000) and the other examples.
    toolbox_runtime::main_with(&toolbox_example_hotels::TOOLBOX, toolbox_runtime::Options::default().with_port(5001))
}
