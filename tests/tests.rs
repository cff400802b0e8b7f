//! Integration tests of the toolbox compiled from the root `tools.yaml`.

// Shared helpers: an app over a temporary demo database, request builders.
mod util;

// The HTTP router driven in-process (no socket): protocol versions, errors, guards, tools.
mod router;

// Health, readiness and the Prometheus metrics through the router.
mod telemetry;

// The page of `--ui` through the router: served only with the flag, guarded, its tools.json.
mod ui;

// The real binary over HTTP and stdio: start-up, the demo database, shutdown.
mod binary;

// The real binary's command line: subcommands, flags users type, start-up messages, the README's
// stdio client configurations.
mod cli;

// The real binary over HTTPS: a test CA, the certificate reloaded on SIGHUP, stalled handshakes.
mod tls;

// Property-based fuzzing of `Mcp::handle_body`: any body and headers, both transports, every
// protocol version (`TOOLBOX_FUZZ_CASES` sets the number of cases).
mod fuzz;

// The demo's descriptions against its data (every example flight number exists).
mod demo;

// The `toolbox!` macro expanding a configuration (the passing side of its compile-fail tests).
mod expand;

// Repository rules: module comments, the README's first commands.
mod tidy;
