//! The benchmark's server (bench/run.sh): two toolboxes compiled into one binary, so that the
//! JWT workload differs from the plain one by the authorization alone.
//!
//! `BENCH_AUTH=1` serves `bench-auth.yaml` (MCP authorization against `BENCH_ISSUER`, a tool scope
//! on each tool); otherwise `bench.yaml`. Everything else (flags, environment) is the toolbox's.

mod plain {
    toolbox_macros::toolbox!("../bench.yaml");
}

mod authorized {
    toolbox_macros::toolbox!("../bench-auth.yaml");
}

fn main() -> std::process::ExitCode {
    let toolbox =
        if std::env::var_os("BENCH_AUTH").is_some_and(|v| v == "1") { &authorized::TOOLBOX } else { &plain::TOOLBOX };
    toolbox_runtime::main(toolbox)
}
