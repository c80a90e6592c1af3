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
/// not be reached or did not answer in time, 130 cancelled (Ctrl-C), 141 output pipe closed.
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
    /// Print the current access token (renewed first when due) and nothing else, for scripts:
    /// curl -H "Authorization: Bearer $(keyhole-cli token --profile work)" …
    /// With --token-type session, a Clerk session token minted now (it lives about a minute).
    Token(TokenArgs),
    /// Keep, list or forget the instance's Clerk keys (secret key, API key, machine secret key),
    /// in the system keychain only. Values are read from stdin, never from the command line.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Save or list profiles: named settings shared with the Keyhole app.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Set, list, print or forget a profile's variables, used as {{NAME}} in a request's URL,
    /// query, headers and body. A secret one lives in the system keychain only and is masked.
    #[command(subcommand)]
    Var(VarCommand),
    /// Turn a curl command into a request, or import an OpenAPI 3 document or a Postman
    /// collection v2.1 into the profile's saved requests.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Talk to an MCP server over Streamable HTTP: list its tools, call one. Speaks MCP
    /// 2026-07-28 and falls back to 2025-11-25 / 2025-06-18; when the server asks for a sign-in
    /// (401), its protected-resource metadata (RFC 9728) names the provider and Keyhole signs in
    /// for the server as the resource (RFC 8707). Exit codes as for `call`: 1 also when the tool
    /// answered isError or the server a JSON-RPC error.
    #[command(subcommand)]
    Mcp(McpCommand),
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

#[derive(Debug, Subcommand)]
pub enum VarCommand {
    /// Set a variable. A secret one's value is read from stdin (never the command line); a
    /// plain one's is VALUE, or stdin when VALUE is left out.
    Set {
        /// The name: a letter or _, then letters, digits, _, - or .
        name: String,
        /// The value of a plain variable.
        value: Option<String>,
        /// Keep it in the system keychain only, masked wherever shown.
        #[arg(long)]
        secret: bool,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// List the profile's variables, secret values masked.
    List {
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Print a variable's value (a secret one's too: you asked for it).
    Get {
        /// The name.
        name: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Forget a variable (a secret one leaves the keychain).
    Forget {
        /// The name.
        name: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Print the request a curl command makes (a bearer token in it is dropped: Keyhole sends
    /// its own), or save it with --save NAME.
    Curl {
        /// The whole command, quoted: 'curl -H "…" https://…'.
        command: String,
        /// Save it in the profile under this name.
        #[arg(long, value_name = "NAME")]
        save: Option<String>,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Import an OpenAPI 3 document (JSON or YAML), one saved request per operation.
    Openapi {
        /// A file, or an http(s) URL.
        source: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Import a Postman collection v2.1 (JSON), one saved request per request; its variables
    /// become the profile's.
    Postman {
        /// A file, or an http(s) URL.
        source: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Keep a key for the instance, read from stdin (paste it, then Ctrl-D; or pipe it in).
    Set {
        /// Which key.
        #[arg(value_enum)]
        kind: KeyName,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// List the kept keys, masked.
    List {
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Forget a kept key.
    Forget {
        /// Which key.
        #[arg(value_enum)]
        kind: KeyName,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Create an API key for a user (user_…) with the secret key, and keep it.
    CreateApiKey {
        /// The user (or organization) the key is for.
        #[arg(long, value_name = "USER_ID")]
        subject: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

/// The Clerk keys Keyhole keeps.
// The names are what users type (`secret-key`, `api-key`, `machine-key`), as Clerk calls them.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyName {
    /// The instance's secret key (sk_test_… or sk_live_…).
    SecretKey,
    /// A Clerk API key (ak_…).
    ApiKey,
    /// A machine secret key (ak_…), to mint M2M tokens.
    MachineKey,
}

impl From<KeyName> for keyhole_core::KeyKind {
    fn from(name: KeyName) -> Self {
        match name {
            KeyName::SecretKey => keyhole_core::KeyKind::SecretKey,
            KeyName::ApiKey => keyhole_core::KeyKind::ApiKey,
            KeyName::MachineKey => keyhole_core::KeyKind::MachineKey,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Save the given settings (flags or environment) as profile NAME, replacing one of that name.
    Save {
        /// The profile's name (letters, digits, -, _ or .).
        name: String,
        #[command(flatten)]
        settings: Box<SettingsArgs>,
        /// The API URL the profile calls by default.
        #[arg(long, env = "KEYHOLE_API_URL", value_name = "URL")]
        api_url: Option<String>,
    },
    /// List the profiles, one a line: name, instance, API URL.
    List,
    /// List the requests saved in profile NAME (in the app), one a line: name, method, URL.
    /// Send one with `keyhole-cli call --profile NAME --saved REQUEST`.
    Requests {
        /// The profile's name.
        name: String,
    },
}

/// `keyhole-cli mcp …`.
#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// List the server's tools (every page) and say which MCP revision was spoken.
    Tools(McpArgs),
    /// List the server's resources (name, URI, description), or say it offers none.
    Resources(McpArgs),
    /// List the server's prompts (name, description), or say it offers none.
    Prompts(McpArgs),
    /// Call a tool with JSON arguments and print its result (content items as text, structured
    /// content as JSON).
    Call {
        #[command(flatten)]
        mcp: McpArgs,
        /// The tool's name, exactly as `mcp tools` lists it.
        tool: String,
        /// The arguments: a JSON object, e.g. '{"text": "hello"}'. Checked before anything is
        /// sent (exit 2 when it is not JSON).
        #[arg(long, default_value = "{}", value_name = "JSON")]
        args: String,
    },
    /// Grade the server's and its provider's authorization against the MCP spec, check by check
    /// (pass / fail / not offered / not checked, with the spec section). Lists tools only; calls
    /// none. Exit 1 when any check fails.
    Check {
        #[command(flatten)]
        mcp: McpArgs,
        /// Seconds the check may wait for the access token to expire, to send it expired and
        /// see it refused (0: not checked unless the token is already that old) [default: 0].
        #[arg(long, value_name = "SECONDS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=3600))]
        expiry_wait: u64,
    },
}

/// What every `mcp` subcommand takes.
#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub sign_in: SignInArgs,
    /// The MCP server's endpoint, e.g. https://example.com/mcp.
    #[arg(long, env = "KEYHOLE_MCP_URL", value_name = "URL")]
    pub url: String,
    /// Print the whole answer as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Seconds each MCP request may take (1–600) [default: 30].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub max_time: Option<u64>,
    /// When the server answers 403 insufficient_scope, sign in again asking for the scopes it
    /// names too (a step-up) and send once more. Without it, Keyhole says which and stops.
    #[arg(long)]
    pub step_up: bool,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    pub sign_in: SignInArgs,
    /// The protected API to call (default: the profile's).
    #[arg(long, env = "KEYHOLE_API_URL", value_name = "URL")]
    pub api_url: Option<String>,
    /// Send the request saved under this name in the profile (`--profile`); the flags given
    /// here override its parts (-X its method, --api-url its URL, -H adds or replaces a header,
    /// -d its body, --no-token, --max-time).
    #[arg(long, value_name = "REQUEST")]
    pub saved: Option<String>,
    /// The method: GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS [default: GET, or the saved
    /// request's].
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// A header to send, as 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The body, or @FILE to read it from a file. Sent as JSON when it parses as JSON, else as
    /// text; a Content-Type header of your own wins.
    #[arg(short = 'd', long = "data", value_name = "DATA|@FILE")]
    pub data: Option<String>,
    /// Send the request without the token, as a signed-out caller would (no sign-in needed);
    /// the same as --token-type none.
    #[arg(long, conflicts_with = "token_type")]
    pub no_token: bool,
    /// Send the same request once per kind of token Keyhole holds (session, oauth, api-key, m2m;
    /// and none, always) and
    /// print which kinds the API let in, with the acceptsToken setting that would let each
    /// refused kind in (a table, or JSON with --json). Signs nothing in.
    #[arg(long, conflicts_with_all = ["token_type", "no_token", "curl"])]
    pub every_token_type: bool,
    /// Print the status line and the response headers before the body.
    #[arg(short = 'i', long = "include")]
    pub include: bool,
    /// Print the whole answer as JSON on stdout: status, headers, body, timings, size,
    /// diagnosis, warnings and the session.
    #[arg(long)]
    pub json: bool,
    /// Print the equivalent curl command and send nothing. The token comes from
    /// `$(keyhole-cli token …)`, never the value itself.
    #[arg(long)]
    pub curl: bool,
    /// Seconds the API may take before the call is given up as timed out (1–600) [default: 30,
    /// or the saved request's].
    #[arg(long, value_name = "SECONDS")]
    pub max_time: Option<u64>,
}

#[derive(Debug, Args)]
pub struct SignInArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Run this command with the sign-in URL as its last argument instead of the system browser.
    #[arg(long, env = "KEYHOLE_BROWSER", value_name = "COMMAND")]
    pub browser_command: Option<String>,
    /// Seconds to wait for the browser to come back (or for the code to be entered).
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
    /// Sign in with a code entered on another device (RFC 8628), for machines with no browser.
    /// Offered by itself when no display and no browser command is found.
    #[arg(long, env = "KEYHOLE_DEVICE")]
    pub device: bool,
    /// The token to send (call) or to sign in for (sign-in): `oauth` (the OAuth access token,
    /// the default), `session` (a Clerk session token minted for each call from a Clerk session,
    /// what the tutorial's backend reads; the sign-in goes through Clerk's own sign-in), or
    /// `none`.
    #[arg(long, env = "KEYHOLE_TOKEN_TYPE", value_enum, value_name = "TYPE")]
    pub token_type: Option<TokenType>,
    /// sign-in: instead of a sign-in, make an impersonated test session for this Clerk user
    /// (user_…) with the instance's secret key (`keyhole-cli key set secret-key`), as Clerk's
    /// testing guide does. Development instances (sk_test_) only, unless --allow-production.
    #[arg(long, value_name = "USER_ID")]
    pub test_user: Option<String>,
    /// With --test-user: allow a production secret key (sk_live_); the session acts as a real
    /// user of a live app.
    #[arg(long, requires = "test_user")]
    pub allow_production: bool,
}

/// `--m2m-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum M2mFormat {
    /// `mt_…`, checked by the backend with Clerk.
    Opaque,
    /// A JWT signed by the instance.
    Jwt,
}

impl M2mFormat {
    fn as_str(self) -> &'static str {
        match self {
            M2mFormat::Opaque => "opaque",
            M2mFormat::Jwt => "jwt",
        }
    }
}

/// `--token-type`: the kinds of token Keyhole sends ([`keyhole_core::Credential`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenType {
    /// A Clerk session token, minted for the call.
    Session,
    /// The OAuth access token.
    Oauth,
    /// The Clerk API key kept for the instance.
    ApiKey,
    /// An M2M token minted from the machine secret key.
    M2m,
    /// No token.
    None,
}

impl From<TokenType> for keyhole_core::Credential {
    fn from(kind: TokenType) -> Self {
        match kind {
            TokenType::Session => keyhole_core::Credential::Session,
            TokenType::Oauth => keyhole_core::Credential::OAuth,
            TokenType::ApiKey => keyhole_core::Credential::ApiKey,
            TokenType::M2m => keyhole_core::Credential::M2m,
            TokenType::None => keyhole_core::Credential::None,
        }
    }
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// The token to print: `oauth` (default), `session` (minted now), `api-key` or `m2m` (minted
    /// now).
    #[arg(long, env = "KEYHOLE_TOKEN_TYPE", value_enum, value_name = "TYPE")]
    pub token_type: Option<TokenType>,
}

/// The configuration fields every command needs, each also readable from the environment, and
/// each defaulting to the profile's when `--profile` names one.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Use the settings of this saved profile (flags given here override them).
    #[arg(long, env = "KEYHOLE_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Clerk instance: Frontend API URL (https://clerk.example.com) or publishable key (pk_…).
    /// `call` may leave it out: the API's protected-resource metadata (RFC 9728) names it.
    #[arg(long, env = "KEYHOLE_INSTANCE", value_name = "URL_OR_KEY")]
    pub instance: Option<String>,
    /// Client ID of the Clerk OAuth application (a public client with PKCE). Optional when the
    /// instance allows dynamic client registration (RFC 7591): Keyhole registers itself once.
    #[arg(long, env = "KEYHOLE_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Space-separated scopes [default: openid profile email offline_access].
    #[arg(long, env = "KEYHOLE_SCOPES")]
    pub scopes: Option<String>,
    /// Loopback port for the redirect to http://127.0.0.1:<port>/callback; 0 = any free port.
    #[arg(long, env = "KEYHOLE_REDIRECT_PORT")]
    pub redirect_port: Option<u16>,
    /// Your Client ID Metadata Document (an https URL you host): with no client ID, it is the
    /// client ID at a provider that accepts such documents, before any registration. Set
    /// --redirect-port to the port its redirect_uris name (providers match them exactly).
    #[arg(long, env = "KEYHOLE_CLIENT_METADATA_URL", value_name = "URL")]
    pub client_metadata_url: Option<String>,
    /// Keychain service name the session is stored under (the app uses the default too).
    #[arg(long, env = "KEYHOLE_KEYCHAIN_SERVICE", default_value = keyhole_core::Keychain::SERVICE)]
    pub keychain_service: String,
    /// Accept provider endpoints (token, keys, revocation, userinfo) on this other origin than
    /// the issuer's. Refused by default: your code and tokens would go there.
    #[arg(long, env = "KEYHOLE_TRUST_ENDPOINT_ORIGIN", value_name = "URL")]
    pub trust_endpoint_origin: Vec<String>,
    /// Clerk's Backend API, for test sessions, API keys and M2M tokens [default:
    /// https://api.clerk.com].
    #[arg(long, env = "KEYHOLE_BACKEND_API", value_name = "URL")]
    pub backend_api: Option<String>,
    /// The M2M tokens `--token-type m2m` mints: opaque (mt_…, checked by the backend with Clerk)
    /// or jwt (signed by the instance, checked networklessly) [default: opaque].
    #[arg(long, env = "KEYHOLE_M2M_FORMAT", value_enum, value_name = "FORMAT")]
    pub m2m_format: Option<M2mFormat>,
    /// Send the access token to this plain-http API origin even though it is not on this machine
    /// (anyone on the network could read it). Refused by default.
    #[arg(long, env = "KEYHOLE_ALLOW_CLEARTEXT_API", value_name = "URL")]
    pub allow_cleartext_api: Vec<String>,
}

impl SettingsArgs {
    /// The settings: the profile's (when one is named) with the flags given here on top.
    pub fn to_settings(
        &self,
        profile: Option<&keyhole_core::Profile>,
        api_url: Option<&str>,
    ) -> keyhole_core::Settings {
        let base = profile
            .map(|p| p.settings.clone())
            .unwrap_or_else(|| keyhole_core::Settings {
                scopes: keyhole_core::DEFAULT_SCOPES.to_owned(),
                ..keyhole_core::Settings::default()
            });
        keyhole_core::Settings {
            instance: self.instance.clone().unwrap_or(base.instance),
            client_id: self.client_id.clone().unwrap_or(base.client_id),
            scopes: self.scopes.clone().unwrap_or(base.scopes),
            redirect_port: self.redirect_port.unwrap_or(base.redirect_port),
            api_url: api_url.map(str::to_owned).unwrap_or(base.api_url),
            resource: base.resource,
            backend_api: self.backend_api.clone().unwrap_or(base.backend_api),
            m2m_format: self
                .m2m_format
                .map(|f| f.as_str().to_owned())
                .unwrap_or(base.m2m_format),
            client_metadata_url: self
                .client_metadata_url
                .clone()
                .unwrap_or(base.client_metadata_url),
        }
    }
}
