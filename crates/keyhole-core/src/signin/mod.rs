//! Signing in: finding the provider (discovery, RFC 9728 resource metadata), getting a client
//! (RFC 7591 registration), and the flows that end in tokens (loopback PKCE, RFC 8628 device code).

pub(crate) mod browser;
pub(crate) mod device;
pub(crate) mod discovery;
pub(crate) mod flow;
pub(crate) mod loopback;
pub(crate) mod oauth_error;
pub(crate) mod provider;
pub mod registration;
pub mod resource;
