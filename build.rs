//! Compiles `tools.yaml` into `$OUT_DIR/toolbox_generated.rs`, which `app/lib.rs` includes.
//! Mistakes in the file surface as compile errors naming `tools.yaml:line:col`.

fn main() {
    if let Err(e) = toolbox_codegen::Builder::new("tools.yaml").compile() {
        panic!("cannot write the generated code: {e}");
    }
}
