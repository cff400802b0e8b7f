//! The toolbox compiled from the root `tools.yaml`: the generated tool modules and tables.
//!
//! `build.rs` writes the code into `OUT_DIR`; set `TOOLBOX_PRINT_GENERATED=1` while building to
//! have cargo print where the file is.

include!(concat!(env!("OUT_DIR"), "/toolbox_generated.rs"));
