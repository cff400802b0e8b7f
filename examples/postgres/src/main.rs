//! Serves the PostgreSQL example toolbox.

fn main() -> std::process::ExitCode {
    // A port of its own, so that it can run beside the demo (5000) and the other examples.
    toolbox_runtime::main_with(&toolbox_example_postgres::TOOLBOX, toolbox_runtime::Options::default().with_port(5002))
}
