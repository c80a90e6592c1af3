//! The renewal driver: keeps a [`SessionKeeper`]'s session renewed in the background, as a
//! long-running front end (the app) needs. The CLI needs none: it renews on use.
//!
//! It sleeps until the exact instant [`Session::refresh_due`](crate::Session::refresh_due) gives
//! (the same one the keeper compares with, so it never wakes to find nothing due), renews once,
//! and retries a failed renewal with backoff. Between renewals it looks at the stored record every
//! [`SYNC_EVERY`], so a renewal or a sign-out made by another Keyhole process reaches this one.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::session::keeper::SessionKeeper;

/// How often the stored record is looked at between renewals.
pub const SYNC_EVERY: Duration = Duration::from_secs(5);
/// The first retry after a failed renewal; doubled each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
/// The longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Two renewals are never closer than this, whatever the provider's lifetimes say.
const MIN_GAP: Duration = Duration::from_secs(1);

/// What the driver did, for tests and diagnostics.
#[derive(Debug, Default)]
pub struct RenewalStats {
    wakeups: AtomicU32,
    renewals: AtomicU32,
    failures: AtomicU32,
}

impl RenewalStats {
    /// Times the driver woke up.
    pub fn wakeups(&self) -> u32 {
        self.wakeups.load(Ordering::Relaxed)
    }
    /// Renewals it made.
    pub fn renewals(&self) -> u32 {
        self.renewals.load(Ordering::Relaxed)
    }
    /// Renewals that failed and were retried.
    pub fn failures(&self) -> u32 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// Keeps `keeper`'s session renewed until the keeper is dropped. Spawn it on a tokio runtime;
/// session changes reach the UI through [`SessionKeeper::watch`].
pub async fn drive(keeper: Weak<SessionKeeper>, stats: Arc<RenewalStats>) {
    let mut backoff: Option<Duration> = None;
    let mut last_renewal: Option<SystemTime> = None;
    let mut changes = match keeper.upgrade() {
        Some(keeper) => keeper.watch(),
        None => return,
    };
    loop {
        let (due, signed_in) = match keeper.upgrade() {
            Some(keeper) => (keeper.next_renewal().await, keeper.summary().is_some()),
            None => return,
        };
        let now = SystemTime::now();
        let wait = match (backoff, due) {
            (Some(backoff), _) => backoff,
            (None, Some(due)) => {
                let not_before = last_renewal.map_or(now, |at| at + MIN_GAP);
                due.max(not_before)
                    .duration_since(now)
                    .unwrap_or_default()
                    .min(SYNC_EVERY)
            }
            // Not renewable: still look for a sign-out elsewhere.
            (None, None) if signed_in => SYNC_EVERY,
            // Signed out: nothing to do until the session changes.
            (None, None) => Duration::MAX,
        };
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return; // The keeper is gone.
                }
                continue; // A new session (or none): work out the next instant again.
            }
            () = sleep(wait) => {}
        }
        let Some(keeper) = keeper.upgrade() else {
            return;
        };
        stats.wakeups.fetch_add(1, Ordering::Relaxed);
        match keeper.renew_if_due().await {
            Ok(renewed) => {
                backoff = None;
                if renewed {
                    last_renewal = Some(SystemTime::now());
                    stats.renewals.fetch_add(1, Ordering::Relaxed);
                    tracing::info!("session renewed");
                }
            }
            // The session is over; the watchers were told why.
            Err(Error::SessionEnded(_) | Error::NotSignedIn) => backoff = None,
            Err(error) => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                let next = backoff.map_or(FIRST_BACKOFF, |b| (b * 2).min(MAX_BACKOFF));
                tracing::warn!(kind = error.kind(), %error, retry_in = ?next, "could not renew the session");
                backoff = Some(next);
            }
        }
        // Don't hold the keeper between wake-ups: dropping it ends the driver.
        drop(keeper);
        // The watch fired for our own renewal: already accounted for.
        changes.borrow_and_update();
    }
}

async fn sleep(wait: Duration) {
    if wait == Duration::MAX {
        std::future::pending::<()>().await
    } else {
        tokio::time::sleep(wait).await
    }
}
