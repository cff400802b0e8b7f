//! The hotels quickstart toolbox, generated from `tools.yaml` by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/toolbox_generated.rs"));
