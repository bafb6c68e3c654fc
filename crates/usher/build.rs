//! Puts the git commit the binary is built from into `USHER_GIT_COMMIT`, for `usher --version`.
//! A build outside a git checkout (a source archive) says `unknown`, or what `USHER_GIT_COMMIT`
//! in the build's environment says.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=USHER_GIT_COMMIT");
    let commit = std::env::var("USHER_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=USHER_GIT_COMMIT={commit}");
    // Built again when the checkout moves to another commit, and only then. A path that does
    // not exist would make cargo run this every time, so only files that are there are named.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let mut watched = vec![format!("{dir}/HEAD"), format!("{dir}/packed-refs")];
        if let Some(head) = std::fs::read_to_string(format!("{dir}/HEAD"))
            .ok()
            .and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
        {
            watched.push(format!("{dir}/{head}"));
        }
        for path in watched.iter().filter(|p| std::path::Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
