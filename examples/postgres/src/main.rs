//! Serves the PostgreSQL example toolbox.

fn main() -> std::process::ExitCode {
    toolbox_runtime::main(&toolbox_example_postgres::TOOLBOX)
}
