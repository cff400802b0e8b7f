//! Compiles `tools.yaml`, describing its statements against PostgreSQL (or the cache in `.toolbox/`).

fn main() {
    if let Err(e) = toolbox_codegen::Builder::new("tools.yaml").compile() {
        panic!("cannot write the generated code: {e}");
    }
}
