//! Compiles `crates/rocker-init/init.c` (the `--init` PID 1) into a static binary in
//! OUT_DIR, which `src/init.rs` embeds with `include_bytes!`. Static, so it runs in any
//! image (no libc needed inside the container).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let src = manifest.join("../rocker-init/init.c");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("rocker-init");
    println!("cargo:rerun-if-changed={}", src.display());
    println!("cargo:rerun-if-env-changed=CC");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let result = Command::new(&cc)
        .args(["-static", "-Os", "-s", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&out)
        .arg(&src)
        .status();
    match result {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "compiling {} with `{cc} -static` failed ({s}); building the --init binary needs \
             a C compiler and static glibc (Debian: apt-get install gcc libc6-dev; see \
             scripts/deps.sh)",
            src.display()
        ),
        Err(e) => panic!(
            "running the C compiler `{cc}` for {} failed: {e}; building the --init binary \
             needs a C compiler and static glibc (Debian: apt-get install gcc libc6-dev; see \
             scripts/deps.sh)",
            src.display()
        ),
    }
}
