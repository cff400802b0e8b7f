//! `toolbox!("tools.yaml")`: compiles a configuration file into the calling module, exactly as
//! the build script does. A thin shim: all the work is in `toolbox-codegen`.
//!
//! The path is relative to the file that invokes the macro, like `include_str!`. Problems in the
//! configuration become compile errors naming `file:line:col` (the included file's, for an error
//! in one), placed on the path literal. Included files are inputs like the file itself, but a
//! macro cannot watch a folder: a file added to an included folder is read at the next
//! expansion (touch the including file). Set
//! `TOOLBOX_PRINT_GENERATED=1` to have the generated code printed while compiling.
//!
//! The description cache of PostgreSQL and MySQL sources (`.toolbox/` beside the file) is read
//! as the build script reads it, and written only under `TOOLBOX_PREPARE=1`. A proc-macro has
//! no warnings on stable Rust, so a cache out of date with a reachable database is not reported
//! here: `TOOLBOX_CHECK=1` makes it an error.

use proc_macro::TokenStream;

#[proc_macro]
pub fn toolbox(input: TokenStream) -> TokenStream {
    let literal = syn::parse_macro_input!(input as syn::LitStr);
    let relative = literal.value();
    let caller = proc_macro::Span::call_site().local_file();
    let path = match caller.as_ref().and_then(|f| f.parent()) {
        Some(dir) => dir.join(&relative),
        None => std::path::PathBuf::from(&relative),
    };
    let output = toolbox_codegen::generate(&path, &relative, &|name| std::env::var(name).ok());
    if std::env::var_os("TOOLBOX_PRINT_GENERATED").is_some() {
        eprintln!("{}", toolbox_codegen::format_file(&output.code));
    }
    // Cargo expands the macro again when a variable the run looked up changes.
    let tracked = toolbox_codegen::env_tokens(&output.env_vars);
    if output.errors.is_empty() {
        return proc_macro2::TokenStream::from_iter([output.code, tracked]).into();
    }
    let errors = output.errors.iter().map(|e| syn::Error::new(literal.span(), e).to_compile_error());
    proc_macro2::TokenStream::from_iter(errors.chain([tracked])).into()
}
