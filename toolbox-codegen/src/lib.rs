//! From `tools.yaml` to Rust: the code generator behind `build.rs` and `toolbox-macros`.
//!
//! [`generate`] runs the whole pipeline ([`run`]): parse and validate (`toolbox-config`), plan
//! every variant of each tool's statement (`plan.rs`) and describe it against its source's schema
//! ([`describe`]), from the live database or the description cache as the build's [`Mode`] says
//! ([`oracle`], [`cache`]), then emit code ([`emit`]) with the JSON that `tools/list` serves made
//! in advance ([`schema`]). Every problem found on the way is returned together, rendered as
//! `path:line:col: message` with an excerpt and a hint.
//!
//! [`Builder`] is the `build.rs` entry point ([`builder`]): it writes
//! `$OUT_DIR/toolbox_generated.rs`, prints `cargo:rerun-if-changed` / `rerun-if-env-changed` for
//! every input, and on failure writes a file of `compile_error!`s so that rustc reports each
//! problem as an error of its own. Nothing is written outside `OUT_DIR` unless the build asks
//! for it with `TOOLBOX_PREPARE=1`.

pub mod access;
pub mod builder;
pub mod cache;
pub mod describe;
pub mod emit;
pub mod oracle;
mod plan;
pub mod postgres;
mod redis;
pub mod run;
pub mod schema;
mod scripts;
pub mod sqlite;
pub mod types;

pub use builder::{Builder, env_tokens, error_tokens, format_file};
pub use oracle::{Mode, PREPARE_COMMAND};
pub use run::{Output, generate, generate_with};
