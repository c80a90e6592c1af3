//! Command-line definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `0.1.0 (commit 1234abcdef)`: the version and the commit it was built from (build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KEYHOLE_COMMIT"),
    ")"
);

/// Keyhole: sign in to a Clerk application through your browser and see what a protected API answers.
///
/// The API's answer goes to stdout; what happened goes to stderr. The session's refresh token is
/// kept in the system keychain (shared with the Keyhole app), so later runs need no browser.
///
/// Exit codes: 0 success (the API answered 2xx), 1 the API answered another status (or `status`
/// found no session), 2 bad settings, 3 the sign-in failed or the session ended, 4 the API could
/// not be reached, 130 cancelled (Ctrl-C).
#[derive(Debug, Parser)]
#[command(name = "keyhole-cli", version = VERSION)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call the API with the stored session's access token; signs in through the browser first
    /// when there is no session.
    Call(CallArgs),
    /// Sign in through the browser and store the session.
    SignIn(SignInArgs),
    /// Show the stored session (renewing it if it is about to expire).
    Status(SettingsArgs),
    /// Revoke the session at the provider and remove it from the keychain.
    SignOut(SettingsArgs),
    /// Print a shell completion script to stdout.
    ///
    /// For example: `keyhole-cli completions bash > ~/.local/share/bash-completion/completions/keyhole-cli`.
    /// The packages install bash, zsh and fish completions.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout.
    ///
    /// `keyhole-cli man | man -l -` reads it. With --out-dir, writes keyhole-cli.1 and one page per
    /// subcommand (keyhole-cli-call.1, …) instead; the packages install those.
    Man {
        /// Write keyhole-cli.1 and keyhole-cli-<subcommand>.1 here instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    pub sign_in: SignInArgs,
    /// The protected API to call.
    #[arg(long, env = "KEYHOLE_API_URL", value_name = "URL")]
    pub api_url: String,
    /// Print the whole result (status, headers, body, diagnosis, session) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SignInArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Run this command with the sign-in URL as its last argument instead of the system browser.
    #[arg(long, env = "KEYHOLE_BROWSER", value_name = "COMMAND")]
    pub browser_command: Option<String>,
    /// Seconds to wait for the browser to come back.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
}

/// The configuration fields every command needs, each also readable from the environment.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Clerk instance: Frontend API URL (https://clerk.example.com) or publishable key (pk_…).
    #[arg(long, env = "KEYHOLE_INSTANCE", value_name = "URL_OR_KEY")]
    pub instance: String,
    /// Client ID of the Clerk OAuth application (a public client with PKCE).
    #[arg(long, env = "KEYHOLE_CLIENT_ID")]
    pub client_id: String,
    /// Space-separated scopes.
    #[arg(long, env = "KEYHOLE_SCOPES", default_value = keyhole_core::DEFAULT_SCOPES)]
    pub scopes: String,
    /// Loopback port for the redirect to http://127.0.0.1:<port>/callback; 0 = any free port.
    #[arg(long, env = "KEYHOLE_REDIRECT_PORT", default_value_t = 0)]
    pub redirect_port: u16,
    /// Keychain service name the session is stored under (the app uses the default too).
    #[arg(long, env = "KEYHOLE_KEYCHAIN_SERVICE", default_value = keyhole_core::Keychain::SERVICE)]
    pub keychain_service: String,
    /// Accept provider endpoints (token, keys, revocation, userinfo) on this other origin than
    /// the issuer's. Refused by default: your code and tokens would go there.
    #[arg(long, env = "KEYHOLE_TRUST_ENDPOINT_ORIGIN", value_name = "URL")]
    pub trust_endpoint_origin: Vec<String>,
    /// Send the access token to this plain-http API origin even though it is not on this machine
    /// (anyone on the network could read it). Refused by default.
    #[arg(long, env = "KEYHOLE_ALLOW_CLEARTEXT_API", value_name = "URL")]
    pub allow_cleartext_api: Vec<String>,
}

impl SettingsArgs {
    pub fn to_settings(&self, api_url: Option<&str>) -> keyhole_core::Settings {
        keyhole_core::Settings {
            instance: self.instance.clone(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
            redirect_port: self.redirect_port,
            api_url: api_url.unwrap_or_default().to_owned(),
        }
    }
}
