//! Serves the MySQL example toolbox.

fn main() -> std::process::ExitCode {
    toolbox_runtime::main(&toolbox_example_mysql::TOOLBOX)
}
