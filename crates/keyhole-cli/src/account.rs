//! `sign-in`, `status`, `sign-out`, `token` and `profile`.

use std::time::{SystemTime, UNIX_EPOCH};

use keyhole_core::{Credential, Error, Profile, Profiles};

use crate::cli::{KeyCommand, ProfileCommand, SettingsArgs, SignInArgs, TokenArgs};
use crate::output::{err, out};
use crate::service::{self, fail, EXIT_HTTP_ERROR, EXIT_SIGN_IN};

pub async fn sign_in(args: SignInArgs) -> u8 {
    let service = match service::service(&args.settings, Some(&args), None) {
        Ok(service) => service,
        Err(code) => return code,
    };
    let signed_in = match &args.test_user {
        Some(user) => {
            service
                .start_test_session(user, args.allow_production)
                .await
        }
        None => service.sign_in(service::method(&args)).await,
    };
    match signed_in {
        Ok(session) => {
            service::signed_in(&session);
            0
        }
        Err(error) => fail(&error),
    }
}

pub async fn status(args: SettingsArgs) -> u8 {
    let service = match service::service(&args, None, None) {
        Ok(service) => service,
        Err(code) => return code,
    };
    let session = match service.fresh_session().await {
        Ok(session) => session,
        Err(error @ Error::NotRegistered { .. }) => {
            err!("{error}");
            return EXIT_HTTP_ERROR;
        }
        Err(Error::NotSignedIn) => {
            out!(
                "Not signed in to {}.",
                service.config().map(|c| c.issuer).unwrap_or_default()
            );
            return EXIT_HTTP_ERROR;
        }
        Err(error) => return fail(&error),
    };
    let summary = session.summary();
    out!(
        "Signed in to {} as {}",
        summary.issuer,
        summary.subject.as_deref().unwrap_or("?")
    );
    if let Some(email) = &summary.email {
        out!("Email: {email}");
    }
    if let Some(expires_at) = summary.expires_at {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        out!(
            "Access token expires in {} s",
            expires_at.saturating_sub(now)
        );
    }
    out!("Scopes: {}", summary.scopes.join(" "));
    0
}

pub async fn sign_out(args: SettingsArgs) -> u8 {
    let service = match service::service(&args, None, None) {
        Ok(service) => service,
        Err(code) => return code,
    };
    let outcome = match service.sign_out().await {
        Ok(outcome) => outcome,
        // Nothing registered means nothing to sign out of: that is success.
        Err(error @ Error::NotRegistered { .. }) => {
            err!("{error}");
            return 0;
        }
        Err(error) => return fail(&error),
    };
    match outcome.message {
        None if outcome.revoked => err!("Signed out; the provider revoked the session."),
        None => err!("Signed out (there was no stored session)."),
        Some(message) => err!("Signed out on this computer, but {message}"),
    }
    0
}

/// `token`: the current access token on stdout, renewed first when due; nothing else there.
pub async fn token(args: TokenArgs) -> u8 {
    let service = match service::service(&args.settings, None, None) {
        Ok(service) => service,
        Err(code) => return code,
    };
    let credential = args.token_type.map_or(Credential::OAuth, Credential::from);
    match service.token(credential).await {
        Ok(token) => {
            // Printed because the user asked for exactly this value (like `gh auth token`).
            out!("{}", token.secret());
            0
        }
        Err(error @ Error::NotRegistered { .. }) => {
            err!("{error}");
            EXIT_SIGN_IN
        }
        Err(Error::NotSignedIn) => {
            err!(
                "Not signed in to {}; run keyhole-cli sign-in{} first.",
                service.settings().instance.trim(),
                match credential {
                    Credential::Session => " --token-type session",
                    _ => "",
                }
            );
            EXIT_SIGN_IN
        }
        Err(error) => fail(&error),
    }
}

/// `profile save`, `profile list` and `profile requests`.
pub fn profile(command: ProfileCommand) -> u8 {
    let profiles = match Profiles::open_default() {
        Ok(profiles) => profiles,
        Err(error) => return fail(&error),
    };
    match command {
        ProfileCommand::Save {
            name,
            settings,
            api_url,
        } => {
            // The profile being replaced gives the defaults, as with --profile.
            let base = profiles.get(&name).ok();
            let profile = Profile {
                name: name.clone(),
                settings: settings.to_settings(base.as_ref(), api_url.as_deref()),
                requests: Vec::new(),
            };
            match profiles.save(profile) {
                Ok(()) => {
                    err!("Saved profile {name} in {}.", profiles.path().display());
                    0
                }
                Err(error) => fail(&error),
            }
        }
        ProfileCommand::List => match profiles.list() {
            Ok(list) => {
                for p in list {
                    out!(
                        "{}\t{}\t{}",
                        p.name,
                        p.settings.instance,
                        p.settings.api_url
                    );
                }
                0
            }
            Err(error) => fail(&error),
        },
        ProfileCommand::Requests { name } => match profiles.get(&name) {
            Ok(profile) => {
                for request in profile.requests {
                    out!(
                        "{}\t{}\t{}",
                        request.name.as_deref().unwrap_or("(unnamed)"),
                        request.method.as_str(),
                        request.url
                    );
                }
                0
            }
            Err(error) => fail(&error),
        },
    }
}

/// `keyhole-cli key …`: the instance's Clerk keys, kept in the keychain.
pub async fn key(command: KeyCommand) -> u8 {
    let settings = match &command {
        KeyCommand::Set { settings, .. }
        | KeyCommand::List { settings }
        | KeyCommand::Forget { settings, .. }
        | KeyCommand::CreateApiKey { settings, .. } => settings,
    };
    let service = match service::service(settings, None, None) {
        Ok(service) => service,
        Err(code) => return code,
    };
    let view = match &command {
        KeyCommand::Set { kind, .. } => {
            let mut pasted = String::new();
            // Bounded: a key is short; whatever is longer is refused by the engine's check.
            let read = std::io::Read::read_to_string(
                &mut std::io::Read::take(std::io::stdin(), 4096),
                &mut pasted,
            );
            if let Err(e) = read {
                err!("error: could not read the key from stdin ({e}).");
                return service::EXIT_SETTINGS;
            }
            service.save_clerk_key((*kind).into(), &pasted).await
        }
        KeyCommand::List { .. } => service.clerk_keys().await,
        KeyCommand::Forget { kind, .. } => service.forget_clerk_key((*kind).into()).await,
        KeyCommand::CreateApiKey { subject, .. } => match service.create_api_key(subject).await {
            Ok(masked) => {
                err!("Created and kept API key {masked}.");
                service.clerk_keys().await
            }
            Err(error) => Err(error),
        },
    };
    match view {
        Ok(view) => {
            let show = |key: &Option<String>| key.clone().unwrap_or_else(|| "-".into());
            out!("secret-key\t{}", show(&view.secret_key));
            out!("api-key\t{}", show(&view.api_key));
            out!("machine-key\t{}", show(&view.machine_key));
            0
        }
        Err(error) => fail(&error),
    }
}
