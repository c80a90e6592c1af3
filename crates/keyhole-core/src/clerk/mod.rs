//! Clerk's own APIs, beyond its OAuth server: the Frontend API as a native client (a Clerk
//! session, and the session tokens the tutorial's backend reads).

pub(crate) mod fapi;
pub(crate) mod native;
