//! The renewal driver the app runs, against the real sandbox and a real Secret Service: with a
//! 4-second access token it renews once per lifetime — a handful of times in 20 s, not thousands
//! of wake-ups — and the provider sees exactly those renewals.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{config_for, quiet, StandIn};
use keyhole_core::renewal::{self, RenewalStats};
use keyhole_core::SignInMethod;
use keyhole_core::{
    CancellationToken, Keychain, Keyhole, SessionKeeper, SignInContext, SignInOptions,
};
use keyhole_sandbox::{Sandbox, SandboxOptions};

/// A sandbox whose access tokens live `ttl` seconds, and a keeper signed in to it as `login`,
/// keeping its record in a real keychain under a service of its own.
async fn signed_in(ttl: u32, login: &'static str) -> (Sandbox, Arc<SessionKeeper>) {
    let sandbox = Sandbox::start_with(SandboxOptions {
        access_token_ttl: Some(ttl),
        ..Default::default()
    })
    .unwrap();
    let service = format!("dev.keyhole.test.renewal.{login}.{}", std::process::id());
    let store = Arc::new(Keychain::open_service(&service).expect("a Secret Service"));
    let keeper = Arc::new(SessionKeeper::new(
        Keyhole::new(config_for(&sandbox, &sandbox.api.lax)),
        store,
    ));
    let options = SignInOptions {
        timeout: Duration::from_secs(60),
        cancel: CancellationToken::new(),
    };
    keeper
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&StandIn::http_login(login), &options, &quiet),
        )
        .await
        .expect("sign-in");
    (sandbox, keeper)
}

#[tokio::test]
async fn the_driver_renews_a_4_second_token_once_per_lifetime_for_20_seconds() {
    let (sandbox, keeper) = signed_in(4, "user_2renewal").await;
    let grants = || sandbox.stats().unwrap()["refresh_grants"].as_u64().unwrap();
    let before = grants();
    let mut changes = keeper.watch();
    changes.borrow_and_update();

    let stats = Arc::new(RenewalStats::default());
    let driver = tokio::spawn(renewal::drive(Arc::downgrade(&keeper), stats.clone()));
    let mut published = 0;
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while changes.changed().await.is_ok() {
            published += 1;
            assert!(
                changes.borrow_and_update().session.is_some(),
                "the session stayed signed in"
            );
        }
    })
    .await;

    let renewals = stats.renewals();
    eprintln!(
        "20 s with a 4 s token: {renewals} renewals, {} wake-ups, {published} changes published",
        stats.wakeups()
    );
    // Renewed a fifth of the lifetime before expiry: every 3.2 s, so 6 in 20 s (4 leaves room
    // for a slow machine).
    assert!((4..=6).contains(&renewals), "{renewals} renewals");
    assert_eq!(stats.failures(), 0);
    assert!(
        stats.wakeups() <= renewals + 6,
        "{} wake-ups for {renewals} renewals: the driver spins",
        stats.wakeups()
    );
    assert_eq!(published, renewals, "one change per renewal");

    keeper.sign_out().await;
    drop(keeper);
    tokio::time::timeout(Duration::from_secs(5), driver)
        .await
        .expect("the driver ends with its keeper")
        .unwrap();
    // Counted once the driver has ended: a renewal in flight as the 20 s ran out has reached the
    // provider by then, and the driver's own count with it.
    assert_eq!(
        grants() - before,
        u64::from(stats.renewals()),
        "the provider saw the same"
    );
}

#[tokio::test]
async fn a_failing_renewal_is_retried_with_backoff_not_in_a_loop() {
    let (sandbox, keeper) = signed_in(2, "user_2backoff").await;
    drop(sandbox); // the provider goes away: every renewal fails

    let stats = Arc::new(RenewalStats::default());
    let driver = tokio::spawn(renewal::drive(Arc::downgrade(&keeper), stats.clone()));
    tokio::time::sleep(Duration::from_secs(8)).await;
    // Due at 1.6 s, then retried after 2 s and 4 s: 3 attempts in 8 s (a 4th at most, if slow).
    let failures = stats.failures();
    assert!((2..=4).contains(&failures), "{failures} failed renewals");
    assert_eq!(
        stats.wakeups(),
        failures,
        "every wake-up was a renewal attempt"
    );
    assert_eq!(stats.renewals(), 0);
    assert!(
        keeper.current().await.is_some(),
        "an unreachable provider does not end the session"
    );
    driver.abort();
}
