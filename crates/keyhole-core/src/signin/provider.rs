//! [`Provider`]: a discovered provider with its keys, and what turns a token response into a
//! verified [`Session`] (OIDC Core §3.1.3.7 and §12.2, RFC 6749 §6). Used by the sign-in flow and
//! by the engine's renewals, so neither depends on the other.

use crate::error::{Error, Result, Rule};
use crate::session::state::{Identity, Session};
use crate::settings::config::Config;
use crate::signin::discovery::ProviderMetadata;
use crate::tokens::grant::TokenSet;
use crate::tokens::jwks::KeySet;
use crate::tokens::verify::Verifier;

/// A discovered provider with its key set.
pub struct Provider {
    /// The checked metadata.
    pub metadata: ProviderMetadata,
    /// Its signing keys.
    pub keys: KeySet,
}

impl Provider {
    /// Verifies a token set and makes it a session. `nonce` is the sign-in's; `previous` is the
    /// session a refresh renews (its ID claims are kept when no new ID token comes back).
    pub(crate) async fn session(
        &self,
        http: &reqwest::Client,
        config: &Config,
        mut tokens: TokenSet,
        nonce: Option<&str>,
        previous: Option<&Session>,
    ) -> Result<Session> {
        let verifier = Verifier {
            http,
            keys: &self.keys,
            issuer: &self.metadata.issuer,
            client_id: &config.client_id,
            id_token_algs: &self.metadata.id_token_signing_alg_values_supported,
        };
        if let Some(previous) = previous {
            check_refreshed_scope(previous_scopes(previous, config), &tokens)?;
            // RFC 6749 §5.1: no scope in the answer means the same scope as before.
            if tokens.scopes.is_none() {
                tokens.scopes = previous.tokens.scopes.clone();
            }
        }
        let access_token = tokens.access_token.secret();
        if tokens
            .id_token
            .as_ref()
            .is_some_and(|id| id.secret() == access_token)
        {
            return Err(Error::refused(
                Rule::TokenConfusion,
                "The provider sent its ID token as the access token, so Keyhole refused both; an ID token is for the app, never for APIs.",
            ));
        }
        let id_claims = match &tokens.id_token {
            Some(id_token) => {
                let claims = verifier
                    .id_token(id_token.secret(), nonce, Some(access_token))
                    .await?;
                // OIDC Core §12.2: a refreshed ID token is about the same user.
                if let Some(previous_sub) = previous.and_then(Session::subject) {
                    if claims.get("sub").and_then(|s| s.as_str()) != Some(previous_sub) {
                        return Err(Error::verification(
                            "the refreshed ID token is about another user than the session",
                        ));
                    }
                }
                Some(claims)
            }
            None if previous.is_some() => previous.and_then(|p| p.id_claims.clone()),
            // OIDC Core §3.1.3.3: the answer to an openid request carries an ID token, whatever
            // scope it claims was granted.
            None if nonce.is_some() => {
                return Err(Error::refused(
                    Rule::IdTokenMissing,
                    "The provider answered the sign-in without an ID token although Keyhole asked for openid, so Keyhole cannot tell who signed in and refused it.",
                ))
            }
            None => None,
        };
        let access = verifier.access_token(access_token).await?;
        Ok(Session {
            issuer: self.metadata.issuer.clone(),
            client_id: config.client_id.clone(),
            tokens,
            access,
            identity: id_claims
                .as_ref()
                .and_then(Identity::from_claims)
                .or_else(|| previous.and_then(|p| p.identity.clone())),
            id_claims,
        })
    }
}

impl Provider {
    /// Verifies what a device sign-in (RFC 8628) received, exactly as after the loopback flow.
    /// There is no nonce in this grant; an `openid` request must still bring an ID token.
    pub(crate) async fn device_session(
        &self,
        http: &reqwest::Client,
        config: &Config,
        tokens: TokenSet,
    ) -> Result<Session> {
        if config.wants_id_token() && tokens.id_token.is_none() {
            return Err(Error::refused(
                Rule::IdTokenMissing,
                "The provider answered the sign-in without an ID token although Keyhole asked for openid, so Keyhole cannot tell who signed in and refused it.",
            ));
        }
        self.session(http, config, tokens, None, None).await
    }
}

/// What the renewed session was granted: its scopes, or, when the provider never said, what was
/// asked for (RFC 6749 §5.1).
fn previous_scopes<'a>(previous: &'a Session, config: &'a Config) -> &'a [String] {
    previous.tokens.scopes.as_deref().unwrap_or(&config.scopes)
}

/// RFC 6749 §6: a refresh may narrow the scope, never widen it beyond what was granted before.
pub(crate) fn check_refreshed_scope(granted_before: &[String], tokens: &TokenSet) -> Result<()> {
    let Some(now) = &tokens.scopes else {
        return Ok(());
    };
    let added: Vec<&str> = now
        .iter()
        .filter(|s| !granted_before.contains(s))
        .map(String::as_str)
        .collect();
    if added.is_empty() {
        return Ok(());
    }
    Err(Error::refused(
        Rule::ScopeWidened,
        format!(
            "The provider's refresh granted more than the session had (it added {}), which a refresh may never do, so Keyhole refused it; sign in again.",
            added.join(" ")
        ),
    ))
}
