//! Shared by the app's and the CLI's build scripts (`#[path]`-included): sets `KEYHOLE_COMMIT`
//! for `env!` to the commit being built, so `--version` and the About line name it.

use std::path::Path;
use std::process::Command;

/// `KEYHOLE_COMMIT` from the environment (a source tarball's builder can say it), else
/// `git rev-parse --short=10 HEAD` (the commit checked out; uncommitted edits are not flagged:
/// that would need a rerun on every save), else `unknown`:
/// a build without git or outside a checkout still succeeds.
pub fn emit(manifest_dir: &Path) {
    println!("cargo:rerun-if-env-changed=KEYHOLE_COMMIT");
    let commit = std::env::var("KEYHOLE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| from_git(manifest_dir))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=KEYHOLE_COMMIT={}", commit.trim());
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn from_git(dir: &Path) -> Option<String> {
    let hash = git(dir, &["rev-parse", "--short=10", "HEAD"])?;
    // Rebuild when HEAD moves: HEAD itself (checkout), the branch it names (commit), packed refs.
    // `--git-path` resolves them inside worktrees too. Only existing files: cargo reruns a build
    // script on every build while a watched path is missing.
    let mut watch = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    watch.extend(git(dir, &["symbolic-ref", "-q", "HEAD"]));
    for name in &watch {
        if let Some(p) = git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-path", name],
        ) {
            if Path::new(&p).exists() {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
    Some(hash)
}
