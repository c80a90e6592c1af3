//! What the user sets: the settings validated into a [`Config`](config::Config), and the named
//! profiles shared by the app and the CLI.

pub(crate) mod config;
pub(crate) mod profiles;
