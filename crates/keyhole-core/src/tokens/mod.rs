//! Tokens: the token endpoint's grants and revocation, the provider's keys, and the checks every
//! token passes before Keyhole keeps it.

pub(crate) mod grant;
pub(crate) mod jwks;
pub mod jws_crypto;
pub(crate) mod verify;
