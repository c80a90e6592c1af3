//! Command-line definitions.

use clap::{Args, Parser, Subcommand};

/// Keyhole: sign in to a Clerk application through your browser and see what a protected API answers.
///
/// The API's answer goes to stdout; what happened goes to stderr.
/// Exit codes: 0 the API answered 2xx, 1 it answered another status, 2 bad settings,
/// 3 the sign-in failed, 4 the API could not be reached, 130 cancelled (Ctrl-C).
#[derive(Debug, Parser)]
#[command(name = "keyhole-cli", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in through the browser, then call the API once with the access token.
    Call(CallArgs),
}

#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Run this command with the sign-in URL as its last argument instead of the system browser.
    #[arg(long, env = "KEYHOLE_BROWSER", value_name = "COMMAND")]
    pub browser_command: Option<String>,
    /// Seconds to wait for the browser to come back.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
    /// Print the whole result (status, headers, body, diagnosis, session) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Every configuration field, each also readable from the environment.
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
    /// The protected API to call.
    #[arg(long, env = "KEYHOLE_API_URL", value_name = "URL")]
    pub api_url: String,
}

impl SettingsArgs {
    pub fn to_settings(&self) -> keyhole_core::Settings {
        keyhole_core::Settings {
            instance: self.instance.clone(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
            redirect_port: self.redirect_port,
            api_url: self.api_url.clone(),
        }
    }
}
