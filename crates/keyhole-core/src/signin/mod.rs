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

use serde::{Deserialize, Serialize};

/// How the user signs in: the one choice a front end makes. A new method is a variant here plus
/// its flow module, dispatched in the engine's `Keyhole::sign_in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// Authorization code with PKCE in the system browser, redirected to the loopback listener
    /// (RFC 8252).
    #[default]
    Browser,
    /// A code entered on another device (RFC 8628), for machines without a browser.
    Device,
    /// Clerk's own sign-in (its Frontend API as a native client, an SSO connection in the system
    /// browser, back to the loopback listener): a Clerk session, whose session tokens are what
    /// the tutorial's backend reads. Needs no OAuth client.
    Clerk,
}
