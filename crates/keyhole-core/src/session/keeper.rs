//! [`SessionKeeper`]: the session of one account (instance + client) that lives on — signed in
//! (the newest sign-in wins), kept as one record in the keychain, used without any request to the
//! provider while its access token is fresh, renewed once per lifetime across every Keyhole
//! process, pinned to the identity it started with, and ended for good by a sign-out.
//!
//! Refresh tokens rotate (Clerk revokes the whole login when an old one is reused), so whatever
//! changes the stored record — a refresh, a sign-in, a sign-out — runs under the account's
//! cross-process [`lock`](crate::session::lock) and reads the record again after taking it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use oauth2::{AccessToken, RefreshToken, StandardRevocableToken};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::api::diagnosis::{compare_answers, AnswerDigest};
use crate::api::request::{ApiRequest, Credential, Prepared};
use crate::engine::{ApiResult, Bearer, Keyhole, SignInContext, SignInOptions};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::lock;
use crate::session::record::{Record, Stored};
use crate::session::state::{Session, SessionSummary};
use crate::session::vault::SecretStore;
use crate::signin::flow::Progress;
use crate::signin::SignInMethod;
use crate::tokens::grant;

/// How long a refresh or sign-in waits for another Keyhole process to finish with the session.
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// How long a sign-out waits for it before going ahead anyway (its marker stops the other one).
const SIGN_OUT_LOCK_WAIT: Duration = Duration::from_secs(10);

/// Why a session ended, for the user.
const SIGNED_OUT_ELSEWHERE: &str = "you signed out in another Keyhole window or terminal";

/// How a sign-out went. The local session is always gone afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOutOutcome {
    /// True when the provider confirmed the revocation of every token held.
    pub revoked: bool,
    /// Why revocation could not be confirmed, when it could not.
    pub message: Option<String>,
}

/// What watchers of a keeper hear on every change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionUpdate {
    /// The session now, if any.
    pub session: Option<SessionSummary>,
    /// Set when the session just ended for a reason the user did not choose (renewal refused,
    /// signed out elsewhere, another identity): what to tell them.
    pub ended: Option<String>,
}

/// The sign-in in progress: the newest one wins, an older one is cancelled and never stored.
struct Pending {
    id: u64,
    cancel: CancellationToken,
    url: Option<Url>,
}

/// The latest answer of one request with the token, and without it.
type AnswerPair = (Option<AnswerDigest>, Option<AnswerDigest>);

/// Owns the session of one account and keeps it usable.
pub struct SessionKeeper {
    keyhole: Keyhole,
    store: Arc<dyn SecretStore>,
    account: String,
    current: tokio::sync::Mutex<Option<Session>>,
    published: tokio::sync::watch::Sender<SessionUpdate>,
    refreshes: AtomicU32,
    pending: Mutex<Option<Pending>>,
    next_sign_in: AtomicU64,
    /// The latest answer per request (method and URL), with and without the token.
    answers: Mutex<HashMap<String, AnswerPair>>,
}

impl SessionKeeper {
    /// A keeper for `keyhole`'s account that keeps the session record in `store`.
    pub fn new(keyhole: Keyhole, store: Arc<dyn SecretStore>) -> SessionKeeper {
        let account = keyhole.config().account();
        SessionKeeper {
            keyhole,
            store,
            account,
            current: tokio::sync::Mutex::new(None),
            published: tokio::sync::watch::Sender::new(SessionUpdate::default()),
            refreshes: AtomicU32::new(0),
            pending: Mutex::new(None),
            next_sign_in: AtomicU64::new(1),
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// What a UI shows about the current session, without waiting for a refresh in progress.
    pub fn summary(&self) -> Option<SessionSummary> {
        self.published.borrow().session.clone()
    }

    /// Hears every change of the session: sign-in, renewal, restore, sign-out, and its end.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<SessionUpdate> {
        self.published.subscribe()
    }

    /// The engine.
    pub fn keyhole(&self) -> &Keyhole {
        &self.keyhole
    }

    /// The store the session record is kept in.
    #[cfg(any(test, feature = "test-support"))]
    pub fn store(&self) -> &Arc<dyn SecretStore> {
        &self.store
    }

    /// How many refresh grants this keeper has made.
    pub fn refresh_count(&self) -> u32 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// The current session in memory, if any (no network, no keychain).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn current(&self) -> Option<Session> {
        self.current.lock().await.clone()
    }

    /// When the current session is due for renewal (exact), if it can be renewed.
    pub async fn next_renewal(&self) -> Option<SystemTime> {
        self.current
            .lock()
            .await
            .as_ref()
            .and_then(Session::refresh_due)
    }

    fn set(&self, slot: &mut Option<Session>, session: Option<Session>, ended: Option<String>) {
        self.published.send_replace(SessionUpdate {
            session: session.as_ref().map(Session::summary),
            ended,
        });
        *slot = session;
    }

    /// Ends the in-memory session for `reason` and tells the watchers.
    fn end(&self, slot: &mut Option<Session>, reason: &str) -> Error {
        let error = Error::SessionEnded(reason.to_owned());
        self.set(slot, None, Some(error.to_string()));
        error
    }

    // --- signing in ----------------------------------------------------------------------------

    /// Signs in with `method` (see [`Keyhole::sign_in`]) and keeps the session. A sign-in started
    /// while another is pending replaces it, whichever method either uses: the older one fails
    /// with [`Error::Cancelled`] and stores nothing. [`SessionKeeper::pending_sign_in_url`] gives
    /// the URL the pending one shows (the authorization URL, or the device verification URL with
    /// the code when offered), to open again on request.
    pub async fn sign_in(
        &self,
        method: SignInMethod,
        context: &SignInContext<'_>,
    ) -> Result<Session> {
        let (id, options) = self.begin_sign_in(context.options);
        let record_url = |p: Progress| {
            self.note_progress(id, &p);
            (context.progress)(p);
        };
        let outcome = self
            .keyhole
            .sign_in(
                method,
                &SignInContext::new(context.browser, &options, &record_url),
            )
            .await;
        self.finish_sign_in(id, outcome).await
    }

    /// Registers a new pending sign-in, cancelling the one it replaces.
    fn begin_sign_in(&self, options: &SignInOptions) -> (u64, SignInOptions) {
        let id = self.next_sign_in.fetch_add(1, Ordering::Relaxed);
        let cancel = options.cancel.child_token();
        if let Some(stale) = self.pending().replace(Pending {
            id,
            cancel: cancel.clone(),
            url: None,
        }) {
            tracing::info!("a new sign-in replaces the pending one");
            stale.cancel.cancel();
        }
        (
            id,
            SignInOptions {
                timeout: options.timeout,
                cancel,
            },
        )
    }

    /// Remembers the URL a pending sign-in shows, to open again or copy.
    fn note_progress(&self, id: u64, progress: &Progress) {
        let url = match progress {
            Progress::OpeningBrowser { url } => url.as_str(),
            Progress::DeviceCode(code) => code.url(),
            _ => return,
        };
        if let Some(pending) = self.pending().as_mut().filter(|p| p.id == id) {
            pending.url = Url::parse(url).ok();
        }
    }

    /// Stores the outcome of sign-in `id`, unless a newer one replaced it.
    async fn finish_sign_in(&self, id: u64, outcome: Result<Session>) -> Result<Session> {
        let still_current = {
            let mut pending = self.pending();
            let mine = pending.as_ref().is_some_and(|p| p.id == id);
            if mine {
                *pending = None;
            }
            mine
        };
        let session = match outcome {
            Ok(_) if !still_current => return Err(Error::Cancelled),
            other => other?,
        };
        self.adopt(session.clone()).await?;
        Ok(session)
    }

    fn pending(&self) -> MutexGuard<'_, Option<Pending>> {
        // Nothing panics while holding this lock; a poisoned one still holds consistent data.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True while a sign-in waits for the browser or finishes.
    pub fn is_signing_in(&self) -> bool {
        self.pending().is_some()
    }

    /// Cancels the pending sign-in, if any; its `sign_in` then fails with [`Error::Cancelled`].
    pub fn cancel_sign_in(&self) {
        if let Some(pending) = self.pending().as_ref() {
            pending.cancel.cancel();
        }
    }

    /// The pending sign-in's authorization URL, to open again or copy.
    pub fn pending_sign_in_url(&self) -> Option<Url> {
        self.pending().as_ref().and_then(|p| p.url.clone())
    }

    /// Makes a freshly verified `session` the current one and stores its record.
    pub async fn adopt(&self, session: Session) -> Result<()> {
        let mut slot = self.current.lock().await;
        let _lock = lock::acquire(&self.account, LOCK_WAIT).await?;
        let endpoint = self
            .keyhole
            .provider()
            .await?
            .metadata
            .token_endpoint
            .clone();
        self.save(Record::of(&session, endpoint.as_str()).to_text())
            .await?;
        self.set(&mut slot, Some(session), None);
        Ok(())
    }

    // --- using the session ---------------------------------------------------------------------

    /// Resumes the stored session after a restart: Ok(None) when nothing is stored; Err with
    /// [`Error::SessionEnded`] (and the record wiped) when the provider no longer accepts it.
    /// A stored access token that is still fresh is used as is: no request at all.
    pub async fn restore(&self) -> Result<Option<Session>> {
        let mut slot = self.current.lock().await;
        if slot.is_none() {
            self.resume_locked(&mut slot).await?;
        }
        Ok(slot.clone())
    }

    /// A session whose access token is not about to expire, renewing it (once, shared) if due.
    pub async fn fresh_session(&self) -> Result<Session> {
        let mut slot = self.current.lock().await;
        if slot.is_none() && !self.resume_locked(&mut slot).await? {
            return Err(Error::NotSignedIn);
        }
        if slot.as_ref().is_some_and(is_due) {
            self.renew_locked(&mut slot, false).await?;
        }
        slot.clone().ok_or(Error::NotSignedIn)
    }

    /// Renews the session now, whatever its expiry.
    #[cfg(any(test, feature = "test-support"))]
    pub async fn refresh_now(&self) -> Result<Session> {
        let mut slot = self.current.lock().await;
        if slot.is_none() && !self.resume_locked(&mut slot).await? {
            return Err(Error::NotSignedIn);
        }
        self.renew_locked(&mut slot, true).await?;
        slot.clone().ok_or(Error::NotSignedIn)
    }

    /// Renews the session if it is due, and otherwise takes up what another Keyhole process did
    /// meanwhile (a renewal it stored, or a sign-out). The app's renewal driver calls this.
    /// Returns true when this call made a refresh grant.
    pub async fn renew_if_due(&self) -> Result<bool> {
        let mut slot = self.current.lock().await;
        let Some(session) = slot.clone() else {
            return Ok(false);
        };
        let before = self.refresh_count();
        if is_due(&session) {
            self.renew_locked(&mut slot, false).await?;
        } else {
            self.sync_locked(&mut slot, &session).await?;
        }
        Ok(self.refresh_count() > before)
    }

    /// Calls the configured API; see [`SessionKeeper::call`].
    #[cfg(any(test, feature = "test-support"))]
    pub async fn call_api(&self) -> Result<ApiResult> {
        let url = self.keyhole.config().require_api_url()?.clone();
        self.call(&url).await
    }

    /// Calls `url` with a fresh access token. On a 401 the session is renewed once and the
    /// call retried once — never more.
    #[cfg(any(test, feature = "test-support"))]
    pub async fn call(&self, url: &Url) -> Result<ApiResult> {
        self.send(&ApiRequest::get(url), &CancellationToken::new())
            .await
    }

    /// Sends `request` until `cancel` or its timeout. With the token: a fresh one, and on a 401
    /// the session is renewed once and the request sent once more — never more. Without the
    /// token no session is needed.
    pub async fn send(
        &self,
        request: &ApiRequest,
        cancel: &CancellationToken,
    ) -> Result<ApiResult> {
        let request = request.prepare()?;
        let result = self.send_prepared(&request, cancel).await?;
        Ok(self.compare_with_other_mode(&request, result))
    }

    async fn send_prepared(
        &self,
        request: &Prepared,
        cancel: &CancellationToken,
    ) -> Result<ApiResult> {
        match request.credential() {
            Credential::None => return self.keyhole.send(request, Bearer::None, cancel).await,
            Credential::OAuth => {}
            // The service sends Clerk's own kinds through the Clerk keeper.
            Credential::Session | Credential::ApiKey | Credential::M2m => {
                return Err(Error::NotSignedIn)
            }
        }
        let session = self.fresh_session().await?;
        let first = self
            .keyhole
            .send(request, Bearer::OAuth(&session), cancel)
            .await?;
        if first.response.status != 401 || session.tokens.refresh_token.is_none() {
            return Ok(first);
        }
        let retry = {
            let mut slot = self.current.lock().await;
            // Someone else may have renewed meanwhile; then their token is the one to retry with.
            let same = slot.as_ref().is_some_and(|s| {
                s.tokens.access_token.secret() == session.tokens.access_token.secret()
            });
            if same {
                self.renew_locked(&mut slot, true).await?;
            }
            slot.clone().ok_or(Error::NotSignedIn)?
        };
        self.keyhole
            .send(request, Bearer::OAuth(&retry), cancel)
            .await
    }

    /// Keeps the latest answer of this request with and without the token; once both are known,
    /// what they say together joins the diagnosis (the same answer both ways means the API reads
    /// the token as signed out).
    fn compare_with_other_mode(&self, request: &Prepared, mut result: ApiResult) -> ApiResult {
        const KEPT: usize = 50;
        let target = format!("{} {}", request.method().as_str(), request.url());
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        if answers.len() >= KEPT && !answers.contains_key(&target) {
            answers.clear();
        }
        let pair = answers.entry(target).or_default();
        let (with, without) = if request.credential() != Credential::None {
            pair.0 = Some(AnswerDigest::of(&result.response));
            (pair.0.as_ref(), pair.1.as_ref())
        } else {
            pair.1 = Some(AnswerDigest::of(&result.response));
            (pair.0.as_ref(), pair.1.as_ref())
        };
        if let Some(both) = with.zip(without).and_then(|(w, wo)| compare_answers(w, wo)) {
            result.diagnosis = Some(match result.diagnosis.take() {
                Some(first) => format!("{first} {both}"),
                None => both,
            });
        }
        result
    }

    // --- signing out ---------------------------------------------------------------------------

    /// Ends the session for good: under the cross-process lock (so a renewal in another process
    /// finishes first, or finds the marker and gives up), leaves a sign-out marker in place of the
    /// record, revokes the current refresh and access tokens, and forgets them. The local part
    /// happens even when revocation fails; the outcome says so.
    pub async fn sign_out(&self) -> SignOutOutcome {
        let mut slot = self.current.lock().await;
        let mut problems = Vec::new();
        let lock = match lock::acquire(&self.account, SIGN_OUT_LOCK_WAIT).await {
            Ok(lock) => Some(lock),
            Err(error) => {
                // The marker written below still stops the other process from storing anything.
                tracing::warn!(error = %Error::from(error), "signing out without the session lock");
                None
            }
        };
        let stored = self.load().await.ok().flatten();
        if let Err(error) = self.save(Stored::signed_out_marker()).await {
            problems.push(format!(
                "the keychain entry could not be cleared ({})",
                error.report()
            ));
        }
        let session = slot.take();
        // What is current is what the store holds now (another process may have rotated it).
        let refresh = stored
            .as_ref()
            .and_then(Stored::refresh_token)
            .or_else(|| {
                session
                    .as_ref()
                    .and_then(|s| s.tokens.refresh_token.as_ref())
            })
            .cloned();
        let mut access: Vec<AccessToken> = session
            .iter()
            .map(|s| s.tokens.access_token.clone())
            .collect();
        if let Some(Stored::Session(record)) = &stored {
            let secret = record.access_token.secret();
            if !access.iter().any(|t| t.secret() == secret) {
                access.push(record.access_token.clone());
            }
        }
        drop(lock);
        let held = refresh.is_some() || !access.is_empty();
        if held {
            if let Err(problem) = self.revoke(refresh.as_ref(), &access).await {
                problems.push(problem);
            }
        }
        // Told only now, so nobody sees "signed out" (and, say, quits) before the wipe is done.
        self.set(&mut slot, None, None);
        SignOutOutcome {
            revoked: problems.is_empty() && held,
            message: (!problems.is_empty()).then(|| problems.join("; ")),
        }
    }

    async fn revoke(
        &self,
        refresh: Option<&RefreshToken>,
        access: &[AccessToken],
    ) -> Result<(), String> {
        let unconfirmed = |e: Error| format!("revocation could not be confirmed: {}", e.report());
        let provider = self.keyhole.provider().await.map_err(unconfirmed)?;
        let endpoint = provider.metadata.revocation_endpoint.as_ref().ok_or_else(|| {
            "the provider offers no revocation endpoint, so the tokens stay valid until they expire"
                .to_owned()
        })?;
        let client_id = &self.keyhole.config().client_id;
        let http = self.keyhole.http();
        // The refresh token first: revoking it ends the whole grant.
        if let Some(token) = refresh {
            let token = StandardRevocableToken::RefreshToken(token.clone());
            grant::revoke(http, endpoint, client_id, &token)
                .await
                .map_err(unconfirmed)?;
        }
        for token in access {
            let token = StandardRevocableToken::AccessToken(token.clone());
            match grant::revoke(http, endpoint, client_id, &token).await {
                Ok(()) => {}
                // RFC 7009 §2.2.1: many providers cannot revoke self-contained JWT access tokens.
                // With the grant revoked above, that token only lives out its short lifetime.
                Err(Error::RevocationRefused {
                    error: Some(error), ..
                }) if error == "unsupported_token_type" && refresh.is_some() => {}
                Err(e) => return Err(unconfirmed(e)),
            }
        }
        Ok(())
    }

    // --- the record and renewal ----------------------------------------------------------------

    /// Loads the stored session into `slot`. False when nothing (or a sign-out marker) is stored.
    async fn resume_locked(&self, slot: &mut Option<Session>) -> Result<bool> {
        match self.load().await? {
            None | Some(Stored::SignedOut) => Ok(false),
            Some(Stored::Session(record)) if !is_due(&record.session()) => {
                // Fresh: no discovery, no keys, no refresh — the API call is the only request.
                self.set(slot, Some(record.session()), None);
                Ok(true)
            }
            Some(_) => {
                // Due, or the old format: renew it (under the lock, reading it again there).
                self.renew_locked(slot, false).await?;
                Ok(slot.is_some())
            }
        }
    }

    /// Takes up what the store says when it differs from memory: a renewal or sign-in made by
    /// another process, or a sign-out.
    async fn sync_locked(&self, slot: &mut Option<Session>, session: &Session) -> Result<()> {
        match self.load().await? {
            None | Some(Stored::SignedOut) => Err(self.end(slot, SIGNED_OUT_ELSEWHERE)),
            Some(Stored::Session(record))
                if record.access_token.secret() != session.tokens.access_token.secret() =>
            {
                self.set(slot, Some(record.session()), None);
                Ok(())
            }
            Some(_) => Ok(()),
        }
    }

    /// Renews the session under the cross-process lock. Unless `force`, a record another process
    /// renewed meanwhile is taken up instead, so each lifetime is renewed once in all processes.
    async fn renew_locked(&self, slot: &mut Option<Session>, force: bool) -> Result<()> {
        let _lock = lock::acquire(&self.account, LOCK_WAIT).await?;
        let in_memory = slot.clone();
        let (refresh_token, previous, endpoint) = match self.load().await? {
            None | Some(Stored::SignedOut) => {
                return match in_memory {
                    Some(_) => Err(self.end(slot, SIGNED_OUT_ELSEWHERE)),
                    None => Err(Error::NotSignedIn),
                }
            }
            Some(Stored::Session(record)) => {
                let stored = record.session();
                let newer = in_memory.as_ref().is_none_or(|s| {
                    s.tokens.access_token.secret() != stored.tokens.access_token.secret()
                });
                // Fresh in the store: another process renewed it (take it up), or there is
                // nothing to do — unless a renewal is forced for the token in memory (a 401).
                if !is_due(&stored) && (newer || !force) {
                    self.set(slot, Some(stored), None);
                    return Ok(());
                }
                let Some(token) = stored.tokens.refresh_token.clone() else {
                    return Err(self.end(
                        slot,
                        "the access token expired and the provider gave no refresh token to renew it",
                    ));
                };
                (token, Some(stored), Some(record.token_endpoint.clone()))
            }
            Some(Stored::Legacy(token)) => (token, in_memory, None),
        };
        let provider = self.keyhole.provider().await?;
        if let Some(endpoint) = &endpoint {
            if provider.metadata.token_endpoint.as_str() != endpoint {
                // The refresh token goes back only to where it came from.
                self.wipe().await;
                return Err(self.end(
                    slot,
                    "the provider's token endpoint changed since you signed in",
                ));
            }
        }
        let renewed = match self.keyhole.renew(&refresh_token, previous.as_ref()).await {
            Ok(session) => session,
            Err(Error::TokenRefused { error, description }) if error == "invalid_grant" => {
                self.wipe().await;
                return Err(self.end(
                    slot,
                    &format!(
                        "the provider no longer accepts the saved sign-in (invalid_grant{}) — it was revoked, expired, or used elsewhere",
                        description.map(|d| format!(": {d}")).unwrap_or_default()
                    ),
                ));
            }
            Err(error @ Error::Verification { .. }) if previous.is_some() => {
                // A renewed token that fails verification (e.g. another user) ends the session.
                self.wipe().await;
                let reason = format!("the renewed session was refused: {}", error.report());
                return Err(self.end(slot, &reason));
            }
            Err(error) => return Err(error),
        };
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        if let (Some(pinned), Some(now)) = (
            previous.as_ref().and_then(|p| p.identity.as_ref()),
            renewed.identity.as_ref(),
        ) {
            if let Some(why) = pinned.mismatch(now) {
                self.discard(&renewed).await;
                self.wipe().await;
                return Err(self.end(slot, &why));
            }
        }
        // A sign-out that could not wait for the lock leaves its marker: then what this refresh
        // received is revoked, not stored, and not used.
        if matches!(self.load().await?, None | Some(Stored::SignedOut)) {
            self.discard(&renewed).await;
            return Err(self.end(slot, SIGNED_OUT_ELSEWHERE));
        }
        let endpoint = provider.metadata.token_endpoint.clone();
        self.save(Record::of(&renewed, endpoint.as_str()).to_text())
            .await?;
        self.set(slot, Some(renewed), None);
        Ok(())
    }

    /// Revokes what a renewal received but may not keep.
    async fn discard(&self, session: &Session) {
        let refresh = session.tokens.refresh_token.as_ref();
        let access = [session.tokens.access_token.clone()];
        if let Err(problem) = self.revoke(refresh, &access).await {
            tracing::warn!(%problem, "could not revoke tokens that arrived after the session ended");
        }
    }

    /// Removes the record after the provider refused it (no marker: nothing is in flight).
    async fn wipe(&self) {
        if let Err(error) = self.delete().await {
            tracing::warn!(%error, "could not remove the ended session from the keychain");
        }
    }

    async fn load(&self) -> Result<Option<Stored>> {
        let (store, account) = (self.store.clone(), self.account.clone());
        match blocking(move || store.load(&account)).await? {
            None => Ok(None),
            Some(text) => Stored::parse(text.secret()).map(Some),
        }
    }

    async fn save(&self, text: Secret) -> Result<()> {
        let (store, account) = (self.store.clone(), self.account.clone());
        blocking(move || store.save(&account, &text)).await
    }

    async fn delete(&self) -> Result<()> {
        let (store, account) = (self.store.clone(), self.account.clone());
        blocking(move || store.delete(&account)).await
    }
}

/// True when the access token is due for renewal (and a refresh token can renew it). Compares
/// the exact instant [`Session::refresh_due`] gives, the same one the renewal driver sleeps to.
pub(crate) fn is_due(session: &Session) -> bool {
    session
        .refresh_due()
        .is_some_and(|due| SystemTime::now() >= due)
}

/// Runs a keychain call off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(Error::keychain("the keychain call failed", e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::grant::TokenSet;
    use crate::tokens::verify::AccessTokenInfo;
    use oauth2::RefreshToken;

    fn session(lifetime: u64, left: u64, refreshable: bool) -> Session {
        let now = SystemTime::now();
        let expires_at = now + Duration::from_secs(left);
        Session {
            issuer: "https://x.test".into(),
            client_id: "c".into(),
            tokens: TokenSet {
                access_token: oauth2::AccessToken::new("a".into()),
                refresh_token: refreshable.then(|| RefreshToken::new("r".into())),
                id_token: None,
                expires_at: Some(expires_at),
                received_at: expires_at - Duration::from_secs(lifetime),
                scopes: None,
            },
            access: AccessTokenInfo::Opaque,
            id_claims: None,
            identity: None,
        }
    }

    #[test]
    fn refresh_comes_shortly_before_expiry_scaled_to_the_lifetime() {
        // A one-day token: refresh in its last minute.
        assert!(!is_due(&session(86_400, 120, true)));
        assert!(is_due(&session(86_400, 50, true)));
        // A 10 s token: refresh in its last 2 s, not on every call.
        assert!(!is_due(&session(10, 5, true)));
        assert!(is_due(&session(10, 1, true)));
        // Nothing to refresh with.
        assert!(!is_due(&session(10, 1, false)));
    }
}
