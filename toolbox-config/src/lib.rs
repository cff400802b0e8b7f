//! The `tools.yaml` language: raw YAML in, a checked [`model::Config`] out.
//!
//! This crate is shared by `build.rs` (through `toolbox-codegen`), the proc-macros and unit tests,
//! so it has no `syn`, no `quote` and no database code. Its pipeline, in order:
//!
//! 1. [`yaml`] reads the file into a node tree that keeps every node's line and column, and
//!    `parse/include.rs` the files it includes ([`files`] keeps them all, for messages);
//! 2. [`parse`] turns documents (flat `kind:`/`type:` documents and the legacy map format, mixed
//!    freely) into model entries, checking shapes, field names and value types;
//! 3. [`validate`] cross-checks the entries: names, duplicates, references, placeholders.
//!
//! Every step collects [`diag::Diagnostic`]s instead of stopping at the first one, so a user sees
//! every mistake in a file in one build.
//!
//! The runtime links this crate with the `yaml` feature off, for what both sides must agree on:
//! [`env`] resolves `${VAR}` placeholders (source settings at start-up, which keeps credentials
//! out of the binary), [`url`] makes a server source's connection URL, [`duration`], [`rate`],
//! [`pg`] and [`types`] are the tables both the build and the server read.

pub mod builtin;
pub mod diag;
pub mod duration;
pub mod env;
#[cfg(feature = "yaml")]
pub mod files;
pub mod http;
pub mod model;
pub mod names;
#[cfg(feature = "yaml")]
pub mod parse;
pub mod pg;
#[cfg(feature = "yaml")]
pub mod prebuilt;
pub mod rate;
pub mod redis;
pub mod search;
pub mod template;
pub mod types;
pub mod url;
#[cfg(feature = "yaml")]
pub mod validate;
#[cfg(feature = "yaml")]
mod yaml;

#[cfg(feature = "yaml")]
pub use parse::{LoadOptions, load, load_str};

#[cfg(all(test, feature = "yaml"))]
mod tests;

// Property-based fuzzing of the reader (proptest); `TOOLBOX_FUZZ_CASES` sets the number of cases.
#[cfg(all(test, feature = "yaml"))]
mod fuzz;
