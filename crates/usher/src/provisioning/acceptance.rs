//! Noticing that a Plex friend accepted the emailed invitation. A pending share is checked on a
//! short back-off schedule (most people accept soon after joining), so the member shows as
//! active within minutes instead of at the next full sync.

use crate::domain::ids::*;
use std::collections::HashMap;

use media::{AccountStatus, MediaError, RemoteAccount};

use crate::clock::Timestamp;
use crate::domain::GrantStatus;
use crate::state::AppState;
use crate::store::StoreError;

/// Seconds before each check of one pending share; the last one repeats.
const SCHEDULE: [i64; 7] = [60, 120, 300, 600, 1200, 1800, 3600];
/// After this long, the full sync (every few hours) is soon enough.
const CHECK_FOR: i64 = 3 * 86_400;

/// Plans the checks of a share that waits for acceptance.
pub async fn plan(state: &AppState, grant_id: GrantId) -> Result<(), StoreError> {
    let now = state.clock.now();
    state
        .store
        .plan_acceptance_checks(grant_id, now + SCHEDULE[0], now)
        .await
}

fn next_after(checks_done: i64, since: Timestamp, now: Timestamp) -> Option<Timestamp> {
    let i = (checks_done.max(0) as usize + 1).min(SCHEDULE.len() - 1);
    (now - since < CHECK_FOR).then(|| now + SCHEDULE[i])
}

/// Runs the checks that are due; returns how many shares were found accepted.
pub async fn run_due(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let due = state.store.due_acceptance_checks(now).await?;
    // One listing per server answers every check on it.
    let mut listings: HashMap<ServerId, Result<Vec<RemoteAccount>, MediaError>> = HashMap::new();
    let mut accepted = 0;
    for (grant_id, checks, since) in due {
        let Some(grant) = state.store.grant(grant_id).await? else {
            continue;
        };
        let remote = grant.remote_id.clone().unwrap_or_default();
        if grant.status != GrantStatus::Pending || remote.is_empty() {
            state.store.next_acceptance_check(grant_id, None).await?;
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = listings.entry(grant.server_id) {
            let listing = match super::server_client(state, grant.server_id).await {
                Ok(client) => client.accounts().await,
                Err(e) => Err(e),
            };
            slot.insert(listing);
        }
        let next = match &listings[&grant.server_id] {
            Ok(accounts) => match accounts.iter().find(|a| a.remote_id == remote) {
                Some(a) if a.status == AccountStatus::Active => {
                    if state.store.activate_pending_grant(grant.id, now).await? {
                        accepted += 1;
                        super::event(state, "grant.accepted", &grant, None).await?;
                    }
                    None
                }
                Some(_) => next_after(checks, since, now),
                // No longer shared: the full sync tells the owner.
                None => None,
            },
            Err(e) => {
                tracing::debug!(grant = %grant.id, error = %e, "could not check a pending share");
                next_after(checks, since, now)
            }
        };
        state.store.next_acceptance_check(grant_id, next).await?;
    }
    Ok(accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_back_off_and_stop_after_three_days() {
        assert_eq!(next_after(0, 0, 60), Some(60 + 120));
        assert_eq!(next_after(1, 0, 180), Some(180 + 300));
        assert_eq!(next_after(40, 0, 80_000), Some(80_000 + 3600));
        assert_eq!(next_after(40, 0, CHECK_FOR), None);
    }
}
