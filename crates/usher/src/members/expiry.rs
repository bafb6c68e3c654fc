//! Expiry: the sweep that ends grants whose time is up (pause or remove, per server), records
//! reminders before that, and keeps what failed retrying. It is an idempotent function of the
//! clock: running it twice at the same instant does nothing the second time, so tests move the
//! clock and call [`sweep`] instead of waiting.

use crate::domain::ids::*;
use media::ServerKind;

use crate::domain::{ExpiryAction, GrantStatus, JobKind};
use serde::Serialize;

use crate::clock::Timestamp;
use crate::notify;
use crate::provisioning::{self, Outcome};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::members::ExpiredGrant;

/// What each server does when a grant expires.
/// The longest wait between pausing and removing.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Disable,
    Remove,
}

impl Action {
    /// The job that carries it out.
    pub fn job(self) -> JobKind {
        match self {
            Action::Disable => JobKind::Disable,
            Action::Remove => JobKind::Remove,
        }
    }
}

/// What to do now with a grant whose expiry passed: the server's setting, except that Plex
/// cannot pause a share and always removes it.
pub fn decide(
    server_kind: ServerKind,
    expiry_action: ExpiryAction,
    remove_after_days: i64,
    status: GrantStatus,
    expires_at: Timestamp,
    now: Timestamp,
) -> Option<Action> {
    if expires_at > now || !status.is_made() {
        return None;
    }
    let live = status != GrantStatus::Disabled;
    match (server_kind.can_disable(), expiry_action) {
        (false, _) | (_, ExpiryAction::Remove) => Some(Action::Remove),
        (_, ExpiryAction::DisableThenRemove) => {
            if now >= expires_at + remove_after_days.max(0) * 86_400 {
                Some(Action::Remove)
            } else {
                live.then_some(Action::Disable)
            }
        }
        (_, ExpiryAction::Disable) => live.then_some(Action::Disable),
    }
}

/// An expiry moved later by `days`, keeping its time of day. No expiry counts from now; an
/// expiry already past moves on by whole days until it is in the future.
pub fn extend(current: Option<Timestamp>, now: Timestamp, days: i64) -> Timestamp {
    let mut at = current.unwrap_or(now) + days * 86_400;
    if at <= now {
        at += ((now - at) / 86_400 + 1) * 86_400;
    }
    at
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Reminders recorded.
    pub reminded: usize,
    /// Grants being paused, and removed.
    pub disabling: usize,
    pub removing: usize,
    /// Of those, how many the server did not confirm yet (retried with backoff).
    pub retrying: usize,
}

/// Runs one sweep at the clock's current time.
pub async fn sweep(state: &AppState) -> Result<SweepReport, StoreError> {
    let now = state.clock.now();
    let mut report = SweepReport::default();
    let days = i64::from(state.config.reminder_days);
    if days > 0 {
        for g in state
            .store
            .grants_to_remind(now, now + days * 86_400)
            .await?
        {
            // The mark is the guard: only the sweep that sets it records the reminder.
            if state.store.mark_reminded(g.grant.id, now).await? {
                crate::notify::notice_once(
                    state,
                    crate::notify::Notice::ExpiryReminder { grant: &g.grant },
                )
                .await?;
                report.reminded += 1;
            }
        }
    }
    for g in state.store.expired_grants(now).await? {
        let Some(action) = decide(
            g.server_kind,
            g.expiry_action,
            g.expiry_remove_after_days,
            g.status,
            g.expires_at,
            now,
        ) else {
            continue;
        };
        let job = start(state, &g, action, now).await?;
        match action {
            Action::Disable => report.disabling += 1,
            Action::Remove => report.removing += 1,
        }
        if matches!(
            provisioning::run_job(state, job).await?,
            Outcome::Retrying(_)
        ) {
            report.retrying += 1;
        }
    }
    if report.disabling + report.removing > 0 {
        state.jobs_wake.notify_one();
    }
    Ok(report)
}

async fn start(
    state: &AppState,
    g: &ExpiredGrant,
    action: Action,
    now: Timestamp,
) -> Result<JobId, StoreError> {
    let (job, event) = match action {
        Action::Disable => (
            state
                .store
                .queue_grant_job(
                    g.id,
                    JobKind::Disable,
                    &[JobKind::Update, JobKind::Enable],
                    now,
                )
                .await?,
            "grant.expired_disable",
        ),
        Action::Remove => (
            super::queue_removal(state, g.id).await?,
            "grant.expired_remove",
        ),
    };
    crate::provisioning::grant_event(
        state,
        (g.member_id, g.server_id),
        "usher",
        event,
        &crate::domain::grant_subject(&g.identity, &g.server_name),
        Some(&format!("expired {}", crate::clock::human(g.expires_at))),
    )
    .await?;
    let notice = notify::Event::new(notify::Kind::MemberExpired, now)
        .with("member_id", g.member_id)
        .with("member", g.identity.as_str())
        .with("server_id", g.server_id)
        .with("server", g.server_name.as_str())
        .with("expires_at", crate::clock::rfc3339(g.expires_at))
        .with("action", action.job().as_str())
        .link(state, &format!("/admin/members/{}", g.member_id));
    notify::emit(state, notice).await;
    Ok(job)
}

/// The lifecycle loop of a running server: a sweep every minute, and servers synced when they
/// are due.
pub async fn worker(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match sweep(&state).await {
            Ok(r) if r != SweepReport::default() => {
                tracing::info!(
                    reminded = r.reminded,
                    disabling = r.disabling,
                    removing = r.removing,
                    retrying = r.retrying,
                    "expiry sweep"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "the expiry sweep could not read the database"),
        }
        if let Err(e) = super::sync::sync_due(&state).await {
            tracing::error!(error = %e, "periodic sync could not read the database");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = 1_795_305_600; // 2026-11-22T00:00:00Z
    const DAY: i64 = 86_400;

    #[test]
    fn plex_always_removes_and_others_follow_the_server_setting() {
        let past = NOW - 1;
        assert_eq!(
            decide(
                ServerKind::Plex,
                ExpiryAction::Disable,
                30,
                GrantStatus::Active,
                past,
                NOW
            ),
            Some(Action::Remove)
        );
        assert_eq!(
            decide(
                ServerKind::Jellyfin,
                ExpiryAction::Disable,
                30,
                GrantStatus::Active,
                past,
                NOW
            ),
            Some(Action::Disable)
        );
        assert_eq!(
            decide(
                ServerKind::Emby,
                ExpiryAction::Remove,
                30,
                GrantStatus::Pending,
                past,
                NOW
            ),
            Some(Action::Remove)
        );
        assert_eq!(
            decide(
                ServerKind::Jellyfin,
                ExpiryAction::Disable,
                30,
                GrantStatus::Disabled,
                past,
                NOW
            ),
            None
        );
    }

    #[test]
    fn disable_then_remove_pauses_first_and_removes_after_the_wait() {
        let expired = NOW - DAY;
        let d = |status, now| {
            decide(
                ServerKind::Jellyfin,
                ExpiryAction::DisableThenRemove,
                7,
                status,
                expired,
                now,
            )
        };
        assert_eq!(d(GrantStatus::Active, NOW), Some(Action::Disable));
        assert_eq!(d(GrantStatus::Disabled, NOW), None);
        assert_eq!(
            d(GrantStatus::Disabled, expired + 7 * DAY),
            Some(Action::Remove)
        );
        assert_eq!(
            d(GrantStatus::Active, expired + 8 * DAY),
            Some(Action::Remove)
        );
    }

    #[test]
    fn nothing_happens_before_expiry_or_to_ended_grants() {
        assert_eq!(
            decide(
                ServerKind::Plex,
                ExpiryAction::Remove,
                0,
                GrantStatus::Active,
                NOW + 1,
                NOW
            ),
            None
        );
        assert_eq!(
            decide(
                ServerKind::Plex,
                ExpiryAction::Remove,
                0,
                GrantStatus::Active,
                NOW,
                NOW
            ),
            Some(Action::Remove)
        );
        for status in [
            GrantStatus::Removed,
            GrantStatus::Failed,
            GrantStatus::Provisioning,
        ] {
            assert_eq!(
                decide(
                    ServerKind::Plex,
                    ExpiryAction::Remove,
                    0,
                    status,
                    NOW - 1,
                    NOW
                ),
                None
            );
        }
    }

    #[test]
    fn extending_keeps_the_time_of_day() {
        let at_six = NOW + 10 * DAY + 18 * 3600;
        assert_eq!(extend(Some(at_six), NOW, 30), at_six + 30 * DAY);
        assert_eq!(extend(None, NOW + 3600, 30), NOW + 3600 + 30 * DAY);
        // Long expired: still 18:00, on the first such day after now.
        let old = NOW - 100 * DAY + 18 * 3600;
        let next = extend(Some(old), NOW, 30);
        assert!(next > NOW && next - NOW <= DAY, "{}", next - NOW);
        assert_eq!(next.rem_euclid(DAY), 18 * 3600);
    }
}
