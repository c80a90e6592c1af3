//! [`Service`]: the one entry point both front ends build — the window's shell and the CLI. It
//! owns every decision between the user's settings and a session: settings → config, the profile
//! in use, the set-up order (resource metadata when there is no instance, registration when there
//! is no client ID, a forgotten registered client replaced), restore-or-sign-in, which sign-in
//! method runs, sign-out, the request in flight, and copy as curl; and it tells the front end
//! what happens through one stream of [`Event`]s.
//!
//! A front end supplies what only it knows: the settings it starts from, where secrets live, what
//! opens a URL, where settings are written, and where events go.

mod events;
mod import;
mod mcp;
mod mcp_check;
mod mcp_memory;
mod setup;
mod variables;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use oauth2::AccessToken;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::api::matrix::{Matrix, MatrixRow, MissingKind};
use crate::api::request::{ApiRequest, Credential, CurlToken};
use crate::clerk::keys::KeyKind;
use crate::engine::{ApiResult, SignInContext, SignInOptions};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::accounts::Accounts;
use crate::session::clerk::{ClerkKeeper, KeysView};
use crate::session::keeper::{SessionKeeper, SignOutOutcome};
use crate::session::renewal::{self, RenewalStats};
use crate::session::state::{Session, SessionSummary};
use crate::session::vault::SecretStore;
use crate::settings::config::{Config, Settings};
use crate::settings::profiles::{Profile, Profiles};
use crate::signin::browser::Browser;
use crate::signin::flow::Progress;
use crate::signin::registration::{self, Registration};
use crate::signin::SignInMethod;

pub use events::{Event, EventSink};
pub use mcp_check::McpCheckOptions;

/// How long one set-up request (metadata, discovery, registration) may take.
const SET_UP_TIMEOUT: Duration = Duration::from_secs(20);

/// Where a front end keeps its settings between runs (the app: its settings file; the CLI keeps
/// none — its flags are the settings). Never given a secret.
pub trait SettingsStore: Send + Sync {
    /// Writes `settings` and the current `profile`. On an error nothing may have changed.
    fn write(&self, settings: &Settings, profile: Option<&str>) -> Result<()>;
}

/// What a front end gives the service.
pub struct ServiceOptions {
    /// The settings to start from (the app: stored, with the sandbox's defaults; the CLI: the
    /// profile's with the flags on top).
    pub settings: Settings,
    /// The profile they belong to, if any (each profile has a session of its own).
    pub profile: Option<String>,
    /// The profiles file shared by the app and the CLI, when there is a config dir.
    pub profiles: Option<Profiles>,
    /// Where sessions and registrations are kept: the OS keychain, or memory without one.
    pub secrets: Arc<dyn SecretStore>,
    /// The keychain service name, named in copied curl commands when it is not the default.
    pub keychain_service: String,
    /// What opens the sign-in URL.
    pub browser: Arc<dyn Browser>,
    /// How long a sign-in waits for the browser (or the other device).
    pub sign_in_timeout: Duration,
    /// Where saved settings go; None keeps them in memory for this run.
    pub settings_store: Option<Arc<dyn SettingsStore>>,
    /// Where events go.
    pub events: EventSink,
    /// A runtime for background work — renewal drivers, session changes as events, restores in
    /// the background — for a front end that lives on (the app). None for one that renews on
    /// use and exits (the CLI).
    pub background: Option<tokio::runtime::Handle>,
    /// Provider endpoints accepted on these other origins than the issuer's.
    pub trusted_endpoint_origins: Vec<Url>,
    /// Plain-http API origins off this machine the token may go to anyway.
    pub cleartext_api_origins: Vec<Url>,
}

/// What a set-up saved, and one sentence about a registration when there was one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetUp {
    /// The settings now in force.
    pub settings: Settings,
    /// A client registered (or replaced), for the user.
    pub note: Option<String>,
}

/// The profiles and which one is current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilesView {
    /// Every profile's name, in the order saved.
    pub names: Vec<String>,
    /// The current profile, if any.
    pub current: Option<String>,
}

/// Where the session of [`Service::session_or_sign_in`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// The stored session, used (and renewed if it was due).
    Stored,
    /// A sign-in just now: nothing was stored, or the stored session had ended.
    SignedIn,
}

/// A request as a curl command: what goes to the clipboard and what the window may show.
#[derive(Debug, Clone, PartialEq)]
pub struct Curl {
    /// The command to copy; holds the literal access token when one was asked for.
    pub copied: Secret,
    /// The same command with the token shown as `<access token>`.
    pub shown: String,
    /// True when `copied` holds the literal token.
    pub literal_token: bool,
}

/// Who sends a request: the OAuth session's keeper (renewal, the with/without comparison) or
/// the Clerk session's.
enum Sender {
    OAuth(Arc<SessionKeeper>),
    Clerk(Arc<ClerkKeeper>),
}

/// The settings in force and their profile.
struct Chosen {
    settings: Settings,
    profile: Option<String>,
}

struct Inner {
    options: ServiceOptions,
    chosen: Mutex<Chosen>,
    /// The settings [`Service::prepare`] just completed, so the sign-in after it does not repeat
    /// the set-up; taken by that sign-in.
    set_up: Mutex<Option<Settings>>,
    accounts: Accounts,
    renewals: Arc<RenewalStats>,
    restoring: AtomicBool,
    /// Says when a background restore ends, for [`Service::restore_settled`].
    restore_ended: tokio::sync::Notify,
    keychain_notice_given: AtomicBool,
    /// For set-up requests; built on first use, so a run that only calls the API never builds it.
    http: std::sync::OnceLock<reqwest::Client>,
    calls: AtomicU64,
    request_in_flight: Mutex<Option<(u64, CancellationToken)>>,
    /// The Clerk session's keeper for the instance in force, once one was needed.
    clerk: tokio::sync::Mutex<Option<Arc<ClerkKeeper>>>,
    /// Cancels the Clerk sign-in in progress; a new one replaces (and cancels) it.
    clerk_sign_in: Mutex<Option<CancellationToken>>,
    /// The MCP servers talked to, one client each.
    mcp: mcp::McpClients,
}

/// The front ends' one service. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Held only for a copy or a swap; a poisoned lock still holds a consistent value.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Service {
    /// A service over `options`. Nothing touches the network, the keychain or a file yet.
    pub fn new(options: ServiceOptions) -> Service {
        let chosen = Chosen {
            settings: options.settings.clone(),
            profile: options.profile.clone(),
        };
        Service {
            inner: Arc::new(Inner {
                accounts: Accounts::new(Arc::clone(&options.secrets)),
                options,
                chosen: Mutex::new(chosen),
                set_up: Mutex::new(None),
                renewals: Arc::default(),
                restoring: AtomicBool::new(false),
                restore_ended: tokio::sync::Notify::new(),
                keychain_notice_given: AtomicBool::new(false),
                http: std::sync::OnceLock::new(),
                calls: AtomicU64::new(0),
                request_in_flight: Mutex::new(None),
                clerk: tokio::sync::Mutex::new(None),
                clerk_sign_in: Mutex::new(None),
                mcp: mcp::McpClients::default(),
            }),
        }
    }

    fn http(&self) -> &reqwest::Client {
        self.inner
            .http
            .get_or_init(|| crate::http::client(SET_UP_TIMEOUT))
    }

    fn emit(&self, event: Event) {
        (self.inner.options.events)(event);
    }

    fn notice(&self, text: impl Into<String>) {
        self.emit(Event::Notice(text.into()));
    }

    // --- settings and profiles -----------------------------------------------------------------

    /// The settings in force.
    pub fn settings(&self) -> Settings {
        lock(&self.inner.chosen).settings.clone()
    }

    /// The profile in use, if any.
    pub fn profile(&self) -> Option<String> {
        lock(&self.inner.chosen).profile.clone()
    }

    /// The settings in force, validated, in their profile, with the origins the front end
    /// allowed; or the first invalid setting.
    pub fn config(&self) -> Result<Config> {
        self.config_with(Settings::validate)
    }

    /// The API URL in force, validated; needs no OAuth client (a request may carry a Clerk
    /// session token, an API key or nothing).
    pub fn api_url(&self) -> Result<Url> {
        self.config_with(Settings::validate_without_client)?
            .require_api_url()
            .cloned()
    }

    fn config_with(&self, validate: impl Fn(&Settings) -> Result<Config>) -> Result<Config> {
        let mut config = {
            let chosen = lock(&self.inner.chosen);
            let config = validate(&chosen.settings)?;
            match &chosen.profile {
                Some(name) => config.in_profile(name),
                None => config,
            }
        };
        for url in &self.inner.options.trusted_endpoint_origins {
            config = config.trust_endpoint_origin(url);
        }
        for url in &self.inner.options.cleartext_api_origins {
            config = config.allow_cleartext_api(url);
        }
        Ok(config)
    }

    /// Validates and normalizes `input`, writes it (and into the current profile, so the other
    /// front end sees the edit), and makes it current. Bad input or a failed write changes
    /// nothing. Another instance or client switches to that one's session.
    pub fn save_settings(&self, input: &Settings) -> Result<Settings> {
        let settings = input.normalized()?;
        let profile = self.profile();
        if let Some(name) = &profile {
            self.profiles_file()?.save(Profile {
                name: name.clone(),
                settings: settings.clone(),
                requests: Vec::new(),
            })?;
        }
        self.choose(settings.clone(), profile)?;
        tracing::info!(issuer = %settings.instance, "settings saved");
        Ok(settings)
    }

    /// Writes and adopts `settings` in `profile`, then follows a change of account.
    fn choose(&self, settings: Settings, profile: Option<String>) -> Result<()> {
        if let Some(store) = &self.inner.options.settings_store {
            store.write(&settings, profile.as_deref())?;
        }
        *lock(&self.inner.chosen) = Chosen { settings, profile };
        self.follow_account();
        Ok(())
    }

    /// Another sign-in configuration means another session: that one's, restored from the
    /// keychain if it was kept.
    fn follow_account(&self) {
        if let Ok(config) = self.config() {
            if self.inner.accounts.would_switch(&config) {
                tracing::info!("the account changed: switching session");
                self.restore_in_background();
            }
        }
    }

    /// "Set up from this API": instance, client ID and resource from the API's protected-resource
    /// metadata (RFC 9728; registering when no client ID is given), saved. A failure saves
    /// nothing.
    pub async fn set_up_from_api(&self, input: &Settings) -> Result<SetUp> {
        let setup = crate::signin::resource::set_up_from_api(
            self.http(),
            &self.inner.options.secrets,
            &input.api_url,
            input,
        )
        .await?;
        self.save_completed(&setup.settings, setup.note)
    }

    /// Settings with an instance but no client ID: Keyhole registers itself (RFC 7591), or reuses
    /// the client it registered before, and saves the client ID. A provider that offers no
    /// registration is a `clientId` error and nothing is saved.
    pub async fn register_client(&self, input: &Settings) -> Result<SetUp> {
        let (settings, how) = crate::signin::registration::complete_settings(
            self.http(),
            &self.inner.options.secrets,
            input,
        )
        .await?;
        let note = how.note(settings.instance.trim());
        self.save_completed(&settings, note)
    }

    fn save_completed(&self, settings: &Settings, note: Option<String>) -> Result<SetUp> {
        let settings = self.save_settings(settings)?;
        if let Some(note) = &note {
            tracing::info!(issuer = %settings.instance, "{note}");
        }
        Ok(SetUp { settings, note })
    }

    fn profiles_file(&self) -> Result<&Profiles> {
        self.inner.options.profiles.as_ref().ok_or_else(|| {
            Error::setting(
                "profile",
                "Keyhole could not find your config directory, where profiles are kept; set KEYHOLE_CONFIG_DIR to one.",
            )
        })
    }

    /// The profiles and the current one.
    pub fn profiles(&self) -> Result<ProfilesView> {
        let names = match &self.inner.options.profiles {
            Some(profiles) => profiles.list()?.into_iter().map(|p| p.name).collect(),
            None => Vec::new(),
        };
        Ok(ProfilesView {
            names,
            current: self.profile(),
        })
    }

    /// Makes profile `name` current (its settings become the ones in force); None leaves
    /// profiles, keeping the settings as they are. Its own session is restored; the others stay
    /// signed in.
    pub fn switch_profile(&self, name: Option<&str>) -> Result<()> {
        let settings = match name {
            Some(name) => self.profiles_file()?.get(name)?.settings,
            None => self.settings(),
        };
        self.choose(settings, name.map(str::to_owned))?;
        tracing::info!(profile = name.unwrap_or("(none)"), "profile switched");
        Ok(())
    }

    /// Saves the settings in force as profile `name` (its saved requests are kept) and makes it
    /// current. The profile's session is its own.
    pub fn save_profile(&self, name: &str) -> Result<()> {
        let settings = self.settings();
        self.profiles_file()?.save(Profile {
            name: name.to_owned(),
            settings: settings.clone(),
            requests: Vec::new(),
        })?;
        self.choose(settings, Some(name.to_owned()))
    }

    /// The requests saved in the current profile (none without a profile).
    pub fn saved_requests(&self) -> Result<Vec<ApiRequest>> {
        match self.profile() {
            Some(name) => Ok(self.profiles_file()?.get(&name)?.requests),
            None => Ok(Vec::new()),
        }
    }

    /// The request saved as `name` in the current profile.
    pub fn saved_request(&self, name: &str) -> Result<ApiRequest> {
        let profile = self
            .require_profile("saved requests belong to a profile; name it with --profile NAME.")?;
        self.profiles_file()?.request(&profile, name)
    }

    /// Saves `request` as `name` in the current profile, its credentials blanked. Returns the
    /// profile's saved requests.
    pub fn save_request(&self, name: &str, request: &ApiRequest) -> Result<Vec<ApiRequest>> {
        let profile = self.require_profile(
            "Requests are saved in a profile: save these settings as a profile first.",
        )?;
        self.profiles_file()?.save_request(&profile, name, request)
    }

    /// Deletes the request saved as `name` in the current profile. Returns the ones left.
    pub fn delete_saved_request(&self, name: &str) -> Result<Vec<ApiRequest>> {
        let profile = self.require_profile(
            "Requests are saved in a profile: save these settings as a profile first.",
        )?;
        self.profiles_file()?.remove_request(&profile, name)
    }

    fn require_profile(&self, why: &str) -> Result<String> {
        self.profile()
            .ok_or_else(|| Error::setting("savedRequest", why.to_owned()))
    }

    // --- the session ---------------------------------------------------------------------------

    /// The keeper for the settings in force; a new one gets its renewal driver and its changes
    /// sent as events, when the service runs in the background.
    fn keeper(&self) -> Result<Arc<SessionKeeper>> {
        let (keeper, new) = self.inner.accounts.for_config(self.config()?);
        if new {
            if let Some(runtime) = &self.inner.options.background {
                runtime.spawn(renewal::drive(
                    Arc::downgrade(&keeper),
                    Arc::clone(&self.inner.renewals),
                ));
                let mut changes = keeper.watch();
                let events = Arc::clone(&self.inner.options.events);
                runtime.spawn(async move {
                    while changes.changed().await.is_ok() {
                        let update = changes.borrow_and_update().clone();
                        events(Event::Session(update));
                    }
                });
            }
        }
        Ok(keeper)
    }

    /// The keeper of a session that may exist: with no client ID, the client Keyhole registered
    /// before with the instance (a keychain read; never a registration). Err
    /// [`Error::NotRegistered`] when there is none, so there can be no session.
    async fn stored_keeper(&self) -> Result<Arc<SessionKeeper>> {
        let settings = self.settings();
        if settings.client_id.trim().is_empty() {
            setup::require_instance(&settings)?;
            let settings = setup::stored(&self.inner.options.secrets, &settings).await?;
            lock(&self.inner.chosen).settings = settings;
        }
        self.keeper()
    }

    /// The keeper of the Clerk session of the instance in force (made, and its session read from
    /// the keychain, on first use). Needs only the instance: no OAuth client.
    async fn clerk_keeper(&self) -> Result<Arc<ClerkKeeper>> {
        setup::require_instance(&self.settings())?;
        let config = self.config_with(Settings::validate_without_client)?;
        let mut slot = self.inner.clerk.lock().await;
        // The API URL may change freely; what the Clerk side is made of may not.
        if let Some(keeper) = slot.as_ref().filter(|k| {
            let kept = k.config();
            kept.issuer == config.issuer
                && kept.cleartext_api_origins == config.cleartext_api_origins
                && kept.backend_api == config.backend_api
                && kept.m2m_format == config.m2m_format
                && kept.redirect_port == config.redirect_port
        }) {
            return Ok(Arc::clone(keeper));
        }
        let keeper = Arc::new(ClerkKeeper::new(
            config,
            Arc::clone(&self.inner.options.secrets),
        )?);
        keeper.restore().await?;
        *slot = Some(Arc::clone(&keeper));
        Ok(keeper)
    }

    /// The Clerk session of the instance in force, if one is kept (a keychain read, nothing
    /// sent).
    pub async fn clerk_session(&self) -> Result<Option<SessionSummary>> {
        let keeper = self.clerk_keeper().await?;
        Ok(keeper.summary().await)
    }

    /// Keeps `pasted` as the instance's key of `kind`, in the keychain only (checked first:
    /// one plain sentence, and nothing stored, when it is not such a key).
    pub async fn save_clerk_key(&self, kind: KeyKind, pasted: &str) -> Result<KeysView> {
        let keeper = self.clerk_keeper().await?;
        keeper.save_key(kind, pasted)?;
        self.check_keychain();
        keeper.keys_view()
    }

    /// Forgets the instance's key of `kind`.
    pub async fn forget_clerk_key(&self, kind: KeyKind) -> Result<KeysView> {
        let keeper = self.clerk_keeper().await?;
        keeper.forget_key(kind)?;
        keeper.keys_view()
    }

    /// Which keys are kept for the instance, masked.
    pub async fn clerk_keys(&self) -> Result<KeysView> {
        self.clerk_keeper().await?.keys_view()
    }

    /// An impersonated test session for `user_id`, made with the instance's secret key
    /// (Backend API), kept as its Clerk session: requests with [`Credential::Session`] then
    /// carry that user's session tokens. Development keys only unless `allow_production`.
    pub async fn start_test_session(
        &self,
        user_id: &str,
        allow_production: bool,
    ) -> Result<SessionSummary> {
        let summary = self
            .clerk_keeper()
            .await?
            .start_test_session(user_id, allow_production)
            .await?;
        tracing::info!(subject = %user_id.trim(), "test session started");
        Ok(summary)
    }

    /// Creates an API key for `subject` with the secret key and keeps it; the masked key.
    pub async fn create_api_key(&self, subject: &str) -> Result<String> {
        self.clerk_keeper().await?.create_api_key(subject).await
    }

    /// The session now, without waiting for a renewal in progress.
    pub fn summary(&self) -> Option<SessionSummary> {
        self.inner.accounts.current().and_then(|k| k.summary())
    }

    /// True while a stored session is being resumed in the background.
    pub fn is_restoring(&self) -> bool {
        self.inner.restoring.load(Ordering::SeqCst)
    }

    /// True while a sign-in is running.
    pub fn is_signing_in(&self) -> bool {
        self.inner
            .accounts
            .current()
            .is_some_and(|k| k.is_signing_in())
    }

    /// What the background renewal has done (for diagnostics and tests).
    pub fn renewals(&self) -> &RenewalStats {
        &self.inner.renewals
    }

    /// Says once that secrets cannot outlive this process, when no keychain was available.
    fn check_keychain(&self) {
        if let Some(reason) = self.inner.options.secrets.unavailable() {
            if !self
                .inner
                .keychain_notice_given
                .swap(true, Ordering::SeqCst)
            {
                tracing::warn!(%reason, "no system keychain: the session is kept in memory only");
                // `reason` reads "the system keychain is not available (…)".
                self.notice(format!(
                    "{}. You will stay signed in only until Keyhole closes.",
                    crate::error::capitalize(&reason)
                ));
            }
        }
    }

    /// Resumes the stored session of the settings in force in the background (at launch, and
    /// after switching account): [`Event::Restoring`] before and after, a [`Event::Notice`] when
    /// it fails. Without a background runtime, or without valid settings, does nothing.
    pub fn restore_in_background(&self) {
        let Some(runtime) = self.inner.options.background.clone() else {
            return;
        };
        let Ok(keeper) = self.keeper() else {
            return; // No valid settings yet: nothing to restore.
        };
        self.inner.restoring.store(true, Ordering::SeqCst);
        self.emit(Event::Restoring(true));
        let service = self.clone();
        runtime.spawn(async move {
            match keeper.restore().await {
                Ok(Some(_)) => tracing::info!("session restored"),
                Ok(None) => {}
                // The keeper's watchers heard why (Event::Session with `ended`).
                Err(Error::SessionEnded(_)) => {}
                Err(error) => {
                    tracing::info!(kind = error.kind(), %error, "could not restore the session");
                    service.notice(format!(
                        "Could not restore your session: {}. You can sign in again.",
                        error.report()
                    ));
                }
            }
            // Notices first, so whoever sees the restore end sees them too.
            service.check_keychain();
            service.inner.restoring.store(false, Ordering::SeqCst);
            service.inner.restore_ended.notify_waiters();
            service.emit(Event::Restoring(false));
        });
    }

    /// Waits until the background restore ([`Service::restore_in_background`]) has ended, for at
    /// most `limit`: true when none runs any more. A restore from the keychain usually ends within
    /// milliseconds, so a front end can show its outcome in its first frame instead of a
    /// "restoring" state that lasts one frame; one that renews over the network may take longer.
    pub async fn restore_settled(&self, limit: Duration) -> bool {
        let ended = self.inner.restore_ended.notified();
        tokio::pin!(ended);
        // Registered before the flag is read, so an end between the two is not missed.
        ended.as_mut().enable();
        if !self.is_restoring() {
            return true;
        }
        tokio::time::timeout(limit, ended).await.is_ok() || !self.is_restoring()
    }

    /// The stored session, resumed (renewed if due): Ok(None) when none is kept.
    pub async fn restore(&self) -> Result<Option<Session>> {
        let session = self.stored_keeper().await?.restore().await;
        self.check_keychain();
        session
    }

    /// A session whose access token is fresh, renewing it first when due.
    pub async fn fresh_session(&self) -> Result<Session> {
        let session = self.stored_keeper().await?.fresh_session().await;
        self.check_keychain();
        session
    }

    /// The set-up order, before each sign-in: see [`setup`]. A registered client is checked with
    /// the provider every time, except right after [`Service::prepare`] checked it.
    async fn set_up(&self, for_the_next_sign_in: bool) -> Result<()> {
        let settings = self.settings();
        // Just done by `prepare` for these settings: not again for the sign-in that follows.
        if lock(&self.inner.set_up).take().as_ref() == Some(&settings) {
            return Ok(());
        }
        let completed = setup::complete(
            self.http(),
            &self.inner.options.secrets,
            &settings,
            &|text| self.notice(text),
        )
        .await?;
        if completed != settings {
            // The app keeps what its set-up found; the CLI only for this run.
            let profile = self.profile();
            self.choose(completed.clone(), profile)?;
        }
        if for_the_next_sign_in {
            *lock(&self.inner.set_up) = Some(completed);
        }
        Ok(())
    }

    /// Signs in with `method` (the newest sign-in wins) after the set-up order, and keeps the
    /// session. [`SignInMethod::Browser`] becomes [`SignInMethod::Device`] when no browser can
    /// be opened here and the provider offers it (said in an [`Event::Notice`]). When the
    /// provider answers `invalid_client` for a client Keyhole registered, Keyhole registers once
    /// more and signs in again.
    ///
    /// [`SignInMethod::Clerk`] signs in to Clerk's Frontend API instead (no OAuth client, no
    /// set-up): a Clerk session, whose session tokens requests with [`Credential::Session`] carry.
    pub async fn sign_in(&self, method: SignInMethod) -> Result<SessionSummary> {
        match method {
            SignInMethod::Clerk => self.sign_in_to_clerk().await,
            SignInMethod::Browser | SignInMethod::Device => {
                Ok(self.sign_in_oauth(method).await?.summary())
            }
        }
    }

    async fn sign_in_to_clerk(&self) -> Result<SessionSummary> {
        let keeper = self.clerk_keeper().await?;
        tracing::info!(issuer = %keeper.config().issuer, "Clerk sign-in started");
        let cancel = CancellationToken::new();
        if let Some(replaced) = lock(&self.inner.clerk_sign_in).replace(cancel.clone()) {
            tracing::info!("a new sign-in replaces the pending one");
            replaced.cancel();
        }
        let options = self.sign_in_options(cancel);
        let progress = self.progress_events();
        let context = SignInContext::new(self.inner.options.browser.as_ref(), &options, &progress);
        let summary = keeper
            .sign_in(keeper.config().redirect_port, None, &context)
            .await
            .inspect_err(
                |error| tracing::info!(kind = error.kind(), %error, "Clerk sign-in ended"),
            )?;
        self.check_keychain();
        tracing::info!(
            subject = summary.subject.as_deref().unwrap_or("?"),
            "signed in to Clerk"
        );
        Ok(summary)
    }

    async fn sign_in_oauth(&self, method: SignInMethod) -> Result<Session> {
        self.set_up(false).await?;
        let keeper = self.keeper()?;
        let method = self.method_for(&keeper, method).await?;
        tracing::info!(issuer = %keeper.keyhole().config().issuer, ?method, "sign-in started");
        let outcome = match self.sign_in_with(&keeper, method).await {
            Err(error) if error.is_invalid_client() => {
                let config = keeper.keyhole().config().clone();
                let secrets = &self.inner.options.secrets;
                match registration::replace(self.http(), secrets, &config).await? {
                    None => Err(error),
                    Some(client_id) => {
                        if let Some(note) = Registration::Replaced.note(&config.issuer) {
                            self.notice(note);
                        }
                        let settings = Settings {
                            client_id,
                            ..self.settings()
                        };
                        self.choose(settings, self.profile())?;
                        self.sign_in_with(&*self.keeper()?, method).await
                    }
                }
            }
            other => other,
        };
        let session = outcome
            .inspect_err(|error| tracing::info!(kind = error.kind(), %error, "sign-in ended"))?;
        self.check_keychain();
        tracing::info!(
            subject = session.summary().subject.as_deref().unwrap_or("?"),
            "signed in"
        );
        Ok(session)
    }

    async fn sign_in_with(&self, keeper: &SessionKeeper, method: SignInMethod) -> Result<Session> {
        let options = self.sign_in_options(CancellationToken::new());
        let progress = self.progress_events();
        let context = SignInContext::new(self.inner.options.browser.as_ref(), &options, &progress);
        keeper.sign_in(method, &context).await
    }

    /// The front end's sign-in timeout, with `cancel`.
    fn sign_in_options(&self, cancel: CancellationToken) -> SignInOptions {
        SignInOptions {
            timeout: self.inner.options.sign_in_timeout,
            cancel,
        }
    }

    /// A sign-in's progress, as events to the front end.
    fn progress_events(&self) -> impl Fn(Progress) + Send + Sync + '_ {
        let events = &self.inner.options.events;
        move |progress| events(Event::SignIn(progress))
    }

    /// The method that can work here: the browser's, unless none can be opened on this machine
    /// and the provider offers the device flow.
    async fn method_for(
        &self,
        keeper: &SessionKeeper,
        asked: SignInMethod,
    ) -> Result<SignInMethod> {
        if asked != SignInMethod::Browser || self.inner.options.browser.available() {
            return Ok(asked);
        }
        if keeper.keyhole().offers_device_flow().await? {
            self.notice("No display or browser here, so Keyhole signs in with a code you enter on another device.");
            return Ok(SignInMethod::Device);
        }
        self.notice("No display or browser here, and the provider offers no sign-in with a code: open the URL below in a browser that can reach this machine's 127.0.0.1, or pass a browser command (--browser-command).");
        Ok(SignInMethod::Browser)
    }

    /// Settings that name no instance or no client ID are completed by the set-up order now
    /// (the API's metadata, a registration); complete ones are left as they are.
    pub async fn prepare(&self) -> Result<()> {
        let settings = self.settings();
        if settings.instance.trim().is_empty() || settings.client_id.trim().is_empty() {
            self.set_up(true).await?;
        }
        Ok(())
    }

    /// The stored session, or a sign-in with `method` when none is kept or it ended (the reason
    /// is told as an [`Event::Notice`] first).
    pub async fn session_or_sign_in(&self, method: SignInMethod) -> Result<(Session, Resumed)> {
        self.prepare().await?;
        match self.restore().await {
            Ok(Some(session)) => return Ok((session, Resumed::Stored)),
            Ok(None) => {}
            Err(error @ Error::SessionEnded(_)) => self.notice(error.to_string()),
            Err(error) => return Err(error),
        }
        Ok((self.sign_in_oauth(method).await?, Resumed::SignedIn))
    }

    /// What a request with `credential` needs, made ready: the session it uses (kept, or a
    /// sign-in now — with `method` for the OAuth session, Clerk's own for a Clerk session), or
    /// None for a request that sends no token.
    pub async fn ready_for(
        &self,
        credential: Credential,
        method: SignInMethod,
    ) -> Result<Option<(SessionSummary, Resumed)>> {
        match credential {
            // Kept keys need no sign-in; a missing one is said when the request goes.
            Credential::None | Credential::ApiKey | Credential::M2m => Ok(None),
            Credential::OAuth => {
                let (session, resumed) = self.session_or_sign_in(method).await?;
                Ok(Some((session.summary(), resumed)))
            }
            Credential::Session => match self.clerk_session().await? {
                Some(summary) => Ok(Some((summary, Resumed::Stored))),
                None => Ok(Some((self.sign_in_to_clerk().await?, Resumed::SignedIn))),
            },
        }
    }

    /// Cancels the pending sign-in, if any; its [`Service::sign_in`] fails with
    /// [`Error::Cancelled`].
    pub fn cancel_sign_in(&self) {
        if let Some(clerk) = lock(&self.inner.clerk_sign_in).take() {
            clerk.cancel();
        }
        if let Some(keeper) = self.inner.accounts.current() {
            tracing::info!("sign-in cancelled by the user");
            keeper.cancel_sign_in();
        }
    }

    /// Opens the pending sign-in's URL in the browser again.
    pub fn open_browser_again(&self) -> Result<()> {
        let keeper = self
            .inner
            .accounts
            .current()
            .filter(|k| k.is_signing_in())
            .ok_or(Error::NoSignIn)?;
        let url = keeper
            .pending_sign_in_url()
            .ok_or_else(|| Error::Browser("the sign-in URL is not ready yet".into()))?;
        self.inner
            .options
            .browser
            .open(&url)
            .map_err(Error::Browser)
    }

    /// Ends the session: revoked at the provider, removed from the keychain and memory. The local
    /// part happens even when the provider cannot be reached; the outcome says so. Err
    /// [`Error::NotRegistered`] when no client could have a session.
    ///
    /// A Clerk session of the same instance ends too (at Clerk, `POST …/sessions/{id}/end`): signing
    /// out leaves Keyhole holding nothing for the instance.
    pub async fn sign_out(&self) -> Result<SignOutOutcome> {
        let clerk = match self.clerk_keeper().await {
            Ok(keeper) => Some(keeper.sign_out().await),
            Err(_) => None,
        };
        // The current keeper when it serves these settings (`Accounts::for_config`).
        let mut outcome = match (self.stored_keeper().await, &clerk) {
            (Ok(keeper), _) => keeper.sign_out().await,
            // Only a Clerk session was held: its outcome is the whole outcome.
            (Err(Error::NotRegistered { .. }), Some(_)) => SignOutOutcome {
                revoked: true,
                message: None,
            },
            (Err(error), _) => return Err(error),
        };
        if let Some(Err(error)) = clerk {
            outcome.revoked = false;
            let said = format!("Clerk could not be told to end the session ({error}); it ends there on its own when it expires.");
            outcome.message = Some(match outcome.message.take() {
                Some(first) => format!("{first} {said}"),
                None => said,
            });
        }
        tracing::info!(revoked = outcome.revoked, "signed out");
        Ok(outcome)
    }

    /// A token of kind `credential` to hand to another program (`keyhole-cli token`): the OAuth
    /// access token (fresh), or a session token minted now. Err [`Error::NotSignedIn`] when
    /// nothing of that kind is held; none for [`Credential::None`].
    pub async fn token(&self, credential: Credential) -> Result<Secret> {
        match credential {
            Credential::OAuth => Ok(Secret::new(
                self.fresh_session()
                    .await?
                    .tokens
                    .access_token
                    .secret()
                    .to_owned(),
            )),
            Credential::Session => Ok(self.clerk_keeper().await?.token().await?.token),
            Credential::ApiKey => self.clerk_keeper().await?.api_key(),
            Credential::M2m => self.clerk_keeper().await?.m2m_token().await,
            Credential::None => Err(Error::setting(
                "tokenType",
                "The token type none has no token to print; choose session, oauth, api-key or m2m.",
            )),
        }
    }

    // --- the API -------------------------------------------------------------------------------

    /// Sends `request` (with the credential it asks for: the session's access token, renewed
    /// if due and once more on a 401, or none) until it is answered, times out, or
    /// [`Service::cancel_request`] is called. A new request cancels the one in flight.
    ///
    /// Its `{{name}}` variables are resolved first (an unknown one is an error and nothing is
    /// sent); a secret variable's value is blanked from the answer, the error and the log.
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiResult> {
        let vars = self.variables_for(request)?;
        let resolved = vars.resolve(request)?;
        let outcome = self
            .send_resolved(&resolved)
            .await
            .map(|result| vars.redact_result(result))
            .map_err(|error| vars.redact_error(error));
        match &outcome {
            Ok(result) => tracing::info!(
                method = %result.response.method,
                status = result.response.status,
                elapsed_ms = result.response.elapsed_ms,
                url = %result.response.url,
                "API answered"
            ),
            Err(error) => tracing::info!(kind = error.kind(), %error, "request failed"),
        }
        outcome
    }

    /// Save body for an answer longer than the kept 50 MB: sends `request` again (as
    /// [`Service::send`] does) and streams its whole body into the file at `path` as it comes,
    /// secret values blanked; answers the result (its body capped as usual) and the bytes written.
    /// The request's timeout still holds. A file that cannot be written is [`Error::SaveBody`].
    pub async fn save_body(
        &self,
        request: &ApiRequest,
        path: &std::path::Path,
    ) -> Result<(ApiResult, u64)> {
        let vars = self.variables_for(request)?;
        let resolved = vars.resolve(request)?;
        let cannot = |e: std::io::Error| {
            Error::SaveBody(format!(
                "Could not write {}: {e}. Choose another file.",
                path.display()
            ))
        };
        let file = std::fs::File::create(path).map_err(cannot)?;
        let sink = Arc::new(crate::api::probe::BodySink::new(file, vars.body_redactor()));
        let outcome = crate::api::probe::with_sink(sink.clone(), self.send_resolved(&resolved))
            .await
            .map(|result| vars.redact_result(result))
            .map_err(|error| vars.redact_error(error));
        let result = match outcome {
            Ok(result) => result,
            Err(error) => {
                // Nothing whole was written: no half file is left behind.
                drop(sink);
                let _ = std::fs::remove_file(path);
                return Err(error);
            }
        };
        let written = sink.finish().map_err(cannot)?;
        tracing::info!(
            status = result.response.status,
            bytes = written,
            "answer body saved"
        );
        Ok((result, written))
    }

    async fn send_resolved(&self, request: &ApiRequest) -> Result<ApiResult> {
        let sender = match request.credential() {
            Credential::OAuth => Sender::OAuth(self.stored_keeper().await?),
            Credential::None => match self.keeper() {
                Ok(keeper) => Sender::OAuth(keeper),
                // No OAuth client needed to send nothing: the Clerk side's sender will do.
                Err(_) => Sender::Clerk(self.clerk_keeper().await?),
            },
            Credential::Session | Credential::ApiKey | Credential::M2m => {
                Sender::Clerk(self.clerk_keeper().await?)
            }
        };
        let cancel = CancellationToken::new();
        let call = self.inner.calls.fetch_add(1, Ordering::SeqCst);
        if let Some((_, previous)) =
            lock(&self.inner.request_in_flight).replace((call, cancel.clone()))
        {
            previous.cancel();
        }
        let outcome = match sender {
            Sender::OAuth(keeper) => keeper.send(request, &cancel).await,
            Sender::Clerk(keeper) => match request.prepare() {
                Ok(prepared) => keeper.send(&prepared, &cancel).await,
                Err(error) => Err(error),
            },
        };
        {
            let mut in_flight = lock(&self.inner.request_in_flight);
            if in_flight.as_ref().is_some_and(|(id, _)| *id == call) {
                *in_flight = None;
            }
        }
        outcome
    }

    /// "Try every token type": sends `request` once per kind of token held (a Clerk session's
    /// session token, the OAuth access token, none), one after another, and says for each
    /// whether the API let it in and, when not, the `acceptsToken` setting that would. A kind that
    /// fails (a mint refused, no answer) is a failed row; the other rows still run. Nothing is
    /// signed in for it: kinds not held are listed with how to get one.
    pub async fn try_every_token_type(&self, request: &ApiRequest) -> Result<Matrix> {
        let vars = self.variables_for(request)?;
        let request = &vars.resolve(request)?;
        let prepared = request.prepare().map_err(|e| vars.redact_error(e))?;
        let target = vars.redact(&format!(
            "{} {}",
            prepared.method().as_str(),
            prepared.url()
        ));
        let mut held = Vec::new();
        let mut missing = Vec::new();
        match self.clerk_session().await {
            Ok(Some(_)) => held.push(Credential::Session),
            _ => missing.push(MissingKind {
                credential: Credential::Session,
                how: "sign in with Clerk's own sign-in (keyhole-cli sign-in --token-type session, or Sign in with Clerk in the window)".into(),
            }),
        }
        let oauth_held = match self.summary() {
            Some(_) => true,
            None => matches!(self.restore().await, Ok(Some(_))),
        };
        if oauth_held {
            held.push(Credential::OAuth);
        } else {
            missing.push(MissingKind {
                credential: Credential::OAuth,
                how: "sign in through the OAuth application (keyhole-cli sign-in)".into(),
            });
        }
        let clerk = self.clerk_keeper().await.ok();
        for (credential, kind, how) in [
            (Credential::ApiKey, KeyKind::ApiKey, "paste an API key or create one with the secret key (keyhole-cli key set api-key, key create-api-key)"),
            (Credential::M2m, KeyKind::MachineKey, "paste a machine secret key (keyhole-cli key set machine-key)"),
        ] {
            if clerk.as_ref().is_some_and(|c| c.has_key(kind)) {
                held.push(credential);
            } else {
                missing.push(MissingKind {
                    credential,
                    how: how.into(),
                });
            }
        }
        held.push(Credential::None);
        let mut rows = Vec::new();
        for credential in held {
            let one = ApiRequest {
                token_type: Some(credential),
                ..request.clone()
            };
            rows.push(match self.send_resolved(&one).await {
                Ok(result) => MatrixRow::answered(credential, &vars.redact_result(result).response),
                Err(error @ Error::CallCancelled) => return Err(error),
                Err(error) => MatrixRow::failed(credential, vars.redact_error(error).to_string()),
            });
        }
        Ok(Matrix {
            target,
            rows,
            missing,
        })
    }

    /// Cancels the request in flight (an API request, or an MCP operation and the sign-in its
    /// server's `401` started); its [`Service::send`] or `mcp_*` fails with
    /// [`Error::CallCancelled`].
    pub fn cancel_request(&self) {
        if let Some((_, pending)) = lock(&self.inner.request_in_flight).take() {
            tracing::info!("request cancelled by the user");
            pending.cancel();
        }
    }

    /// `request` as a curl command. The token comes from `$(keyhole-cli token …)` for this
    /// session, or is the literal access token (fresh) when `literal_token` and the request sends
    /// one — only when the user asked for it.
    pub async fn curl(&self, request: &ApiRequest, literal_token: bool) -> Result<Curl> {
        let credential = request.credential();
        let config = match credential {
            Credential::OAuth => self.config()?,
            _ => self.config_with(Settings::validate_without_client)?,
        };
        let literal_token = literal_token && credential.sends_token();
        let vars = self.variables_for(request)?;
        let var_get = self.var_get_command(&config);
        let render = |token: &CurlToken| vars.to_curl(request, token, &var_get);
        if !literal_token {
            let command = render(&CurlToken::command_for(
                &config,
                &self.inner.options.keychain_service,
                credential,
            ))?;
            return Ok(Curl {
                copied: Secret::new(command.clone()),
                shown: command,
                literal_token,
            });
        }
        let token = self.token(credential).await?;
        let placeholder = match credential {
            Credential::Session => "<session token>",
            Credential::ApiKey => "<API key>",
            Credential::M2m => "<M2M token>",
            Credential::OAuth | Credential::None => "<access token>",
        };
        Ok(Curl {
            copied: Secret::new(render(&CurlToken::Literal(AccessToken::new(
                token.secret().to_owned(),
            )))?),
            shown: render(&CurlToken::Literal(AccessToken::new(placeholder.into())))?,
            literal_token,
        })
    }
}
