//! The toolbox the reference's own SDKs are tested against (tests/peers/toolbox_sdks.py):
//! `tools.yaml` beside this file, compiled by the `toolbox!` macro, served by the toolbox's `main`.
//! Open tools, tools with authenticated parameters and `authRequired`, two toolsets, and two
//! native auth services (`corp`, `partner`) verified against `${SDK_ISSUER}`.
//!
//!   SDK_ISSUER=http://127.0.0.1:4000 SDK_PEER_DB=/tmp/sdk-peer.db \
//!   cargo run -p toolbox-runtime --example sdk_peer -- --port 5000

toolbox_macros::toolbox!("tools.yaml");

fn main() -> std::process::ExitCode {
    toolbox_runtime::main(&TOOLBOX)
}
