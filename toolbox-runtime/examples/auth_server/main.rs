//! A toolbox under MCP authorization, for docs/auth.md: `tools.yaml` beside this file, compiled by
//! the `toolbox!` macro, served by the same `main` as the toolbox binary.
//!
//!   ISSUER_URL=http://127.0.0.1:4000 INTROSPECTION_CLIENT_ID=toolbox-rs \
//!   INTROSPECTION_CLIENT_SECRET=toolbox-rs-secret \
//!   cargo run -p toolbox-runtime --example auth_server -- --toolbox-url http://127.0.0.1:5000

toolbox_macros::toolbox!("tools.yaml");

fn main() -> std::process::ExitCode {
    toolbox_runtime::main(&TOOLBOX)
}
