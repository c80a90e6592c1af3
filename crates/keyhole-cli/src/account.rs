//! `sign-in`, `status` and `sign-out`.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::cli::{SettingsArgs, SignInArgs};
use crate::keeper::{self, fail, EXIT_HTTP_ERROR};

pub async fn sign_in(args: SignInArgs) -> u8 {
    let keeper = match keeper::keeper(&args.settings, None) {
        Ok(keeper) => keeper,
        Err(code) => return code,
    };
    match keeper::sign_in(&keeper, &args).await {
        Ok(_) => 0,
        Err(code) => code,
    }
}

pub async fn status(args: SettingsArgs) -> u8 {
    let keeper = match keeper::keeper(&args, None) {
        Ok(keeper) => keeper,
        Err(code) => return code,
    };
    let session = match keeper.fresh_session().await {
        Ok(session) => session,
        Err(keyhole_core::Error::NotSignedIn) => {
            println!("Not signed in to {}.", keeper.keyhole().config().issuer);
            return EXIT_HTTP_ERROR;
        }
        Err(error) => return fail(&error),
    };
    let summary = session.summary();
    println!(
        "Signed in to {} as {}",
        summary.issuer,
        summary.subject.as_deref().unwrap_or("?")
    );
    if let Some(email) = &summary.email {
        println!("Email: {email}");
    }
    if let Some(expires_at) = summary.expires_at {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        println!(
            "Access token expires in {} s",
            expires_at.saturating_sub(now)
        );
    }
    println!("Scopes: {}", summary.scopes.join(" "));
    0
}

pub async fn sign_out(args: SettingsArgs) -> u8 {
    let keeper = match keeper::keeper(&args, None) {
        Ok(keeper) => keeper,
        Err(code) => return code,
    };
    let outcome = keeper.sign_out().await;
    match outcome.message {
        None if outcome.revoked => eprintln!("Signed out; the provider revoked the session."),
        None => eprintln!("Signed out (there was no stored session)."),
        Some(message) => eprintln!("Signed out on this computer, but {message}"),
    }
    0
}
