//! Link-time set-up for the `nas` binary.
//!
//! tch hands its rpath only to its own C++ shim, so a binary linked with it does
//! not find libtorch at run time. torch-sys exports the libtorch lib folder as
//! `DEP_TCH_LIBTORCH_LIB` (its `links = "tch"`), visible here because we depend on
//! torch-sys directly; we turn it into an rpath. The folder is canonicalised so
//! that the binary keeps working when the `.libtorch` symlink is moved.
//! `--disable-new-dtags` writes DT_RPATH, which (unlike DT_RUNPATH) also serves
//! libtorch's own dependencies (libcudart, libcupti in the same folder).
use std::path::PathBuf;

fn main() {
    // sqlx::migrate! embeds this folder; a new migration must rebuild the crate.
    println!("cargo:rerun-if-changed=src/store/migrations");
    println!("cargo:rerun-if-changed=src/store/migrations_postgres");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        println!(
            "cargo:warning=DEP_TCH_LIBTORCH_LIB not set: the binary will need LD_LIBRARY_PATH"
        );
        return;
    };
    let lib = PathBuf::from(&lib)
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(&lib));
    println!("cargo:rustc-link-arg=-Wl,--disable-new-dtags");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    // A CUDA libtorch (`scripts/setup.sh --cuda`): nothing in our code calls
    // into libtorch_cuda.so, so the linker's as-needed default drops it and
    // CUDA reads as unavailable; keep it.
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-search=native={}", lib.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
