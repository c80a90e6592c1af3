//! The lock every Keyhole process (the app, the CLI, a second window) takes before it refreshes,
//! stores or signs out a session, so that a rotating refresh token is never used twice and a
//! sign-out cannot be undone by a refresh that finishes after it.
//!
//! It is an advisory lock on a file per account, in a directory only this user can write
//! (`$XDG_RUNTIME_DIR/keyhole`, else `<temp>/keyhole-<uid>`), opened without following links: a
//! file or link planted there by someone else is refused, never written through.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Held while the account's session is being changed; released on drop.
#[derive(Debug)]
pub(crate) struct AccountLock {
    _file: File,
}

/// Why the lock could not be had.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Another process held it for longer than the wait.
    Busy,
    /// The lock file or its directory could not be used.
    Unusable(Error),
}

impl From<LockError> for Error {
    fn from(error: LockError) -> Error {
        match error {
            LockError::Busy => Error::Busy,
            LockError::Unusable(error) => error,
        }
    }
}

/// Takes the lock of `account`, waiting at most `wait` for another process to release it.
pub(crate) async fn acquire(account: &str, wait: Duration) -> Result<AccountLock, LockError> {
    let path = lock_path(account);
    tokio::task::spawn_blocking(move || acquire_blocking(&path, wait))
        .await
        .unwrap_or_else(|e| {
            Err(LockError::Unusable(Error::lock(
                "the lock task failed",
                std::io::Error::other(e),
            )))
        })
}

fn acquire_blocking(path: &Path, wait: Duration) -> Result<AccountLock, LockError> {
    let file = open(path).map_err(LockError::Unusable)?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(AccountLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(LockError::Busy),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(LockError::Unusable(Error::lock(
                    &format!("could not lock {}", path.display()),
                    e,
                )))
            }
        }
    }
}

/// The lock file of `account`: its name is a hash, so it says nothing about the account.
pub(crate) fn lock_path(account: &str) -> PathBuf {
    // FNV-1a: a stable, dependency-free file name.
    let hash = account.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    lock_dir().join(format!("refresh-{hash:016x}.lock"))
}

#[cfg(unix)]
fn lock_dir() -> PathBuf {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(runtime) if runtime.is_absolute() && runtime.is_dir() => runtime.join("keyhole"),
        _ => std::env::temp_dir().join(format!("keyhole-{uid}")),
    }
}

#[cfg(not(unix))]
fn lock_dir() -> PathBuf {
    // Per-user already on Windows (%LOCALAPPDATA%\Temp).
    std::env::temp_dir().join("keyhole")
}

#[cfg(unix)]
fn open(path: &Path) -> Result<File> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};

    let dir = path.parent().unwrap_or(Path::new("/"));
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(Error::lock(
                &format!("could not create the lock directory {}", dir.display()),
                e,
            ))
        }
    }
    // The directory must be ours and closed to others, and not a link to somewhere else.
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| Error::lock(&format!("could not inspect {}", dir.display()), e))?;
    // SAFETY: as above.
    let uid = unsafe { libc::geteuid() };
    if !meta.file_type().is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o022 != 0 {
        return Err(Error::lock(
            &format!(
                "the lock directory {} is not a private directory of this user; remove it and try again",
                dir.display()
            ),
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        ));
    }
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            Error::lock(
                &format!(
                    "could not open the lock file {} (a link there is refused)",
                    path.display()
                ),
                e,
            )
        })
}

#[cfg(not(unix))]
fn open(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::lock(&format!("could not create {}", dir.display()), e))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::lock(&format!("could not open {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_gets_its_own_lock_file() {
        assert_ne!(lock_path("a@https://x.test"), lock_path("b@https://x.test"));
        assert_eq!(lock_path("a@https://x.test"), lock_path("a@https://x.test"));
    }

    #[tokio::test]
    async fn a_second_holder_waits_and_then_gives_up_as_busy() {
        let account = format!("lock-test-{}@https://x.test", std::process::id());
        let first = acquire(&account, Duration::from_secs(1))
            .await
            .expect("free lock");
        let second = acquire(&account, Duration::from_millis(100)).await;
        assert!(matches!(second, Err(LockError::Busy)), "{second:?}");
        drop(first);
        acquire(&account, Duration::from_secs(1))
            .await
            .expect("free again after the first is dropped");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_lock_path_is_not_followed() {
        let account = format!("link-test-{}@https://x.test", std::process::id());
        let path = lock_path(&account);
        let _ = open(&path); // creates the private directory
        let _ = std::fs::remove_file(&path);
        let target =
            std::env::temp_dir().join(format!("keyhole-link-target-{}", std::process::id()));
        let _ = std::fs::remove_file(&target);
        std::os::unix::fs::symlink(&target, &path).expect("plant a link");
        let error = open(&path).expect_err("a link is refused");
        let _ = std::fs::remove_file(&path);
        assert!(
            error.to_string().contains("a link there is refused"),
            "{error}"
        );
        assert!(!target.exists(), "nothing was created through the link");
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_directory_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile_dir();
        let shared = dir.join("keyhole");
        std::fs::create_dir(&shared).expect("dir");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let error = open(&shared.join("x.lock")).expect_err("refused");
        assert!(
            error.to_string().contains("not a private directory"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "keyhole-lock-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
