//! Clerk's own APIs, beyond its OAuth server: the Frontend API as a native client (a Clerk
//! session, and the session tokens the tutorial's backend reads) — and the Backend API with a
//! secret key (test sessions, API keys, M2M tokens), with the keys it needs.

pub(crate) mod bapi;
pub(crate) mod fapi;
pub(crate) mod keys;
pub(crate) mod native;
