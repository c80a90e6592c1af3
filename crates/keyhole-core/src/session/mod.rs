//! The session that lives on: the verified tokens, their record in the OS keychain, renewal across
//! processes under a lock, and sign-out.

pub(crate) mod accounts;
pub(crate) mod clerk;
pub(crate) mod keeper;
#[cfg(target_os = "linux")]
pub(crate) mod keychain_reads;
pub(crate) mod lock;
pub(crate) mod record;
pub mod renewal;
pub(crate) mod state;
pub(crate) mod vault;
