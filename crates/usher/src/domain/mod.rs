//! The vocabulary the rest of usher speaks, as types: no I/O and nothing above it imported here.
//! Stored columns decode straight into these (`sqlx::Type`), so the spelling in the database is
//! written once, in the `rename_all` below.

pub mod access;
pub mod base_url;
pub mod rules;
pub mod settings;

use serde::Serialize;

/// What a queued job does to a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Make the access real on the server.
    Provision,
    /// End the access.
    Remove,
    /// Push changed libraries or permissions.
    Update,
    /// Pause the account (Jellyfin, Emby).
    Disable,
    /// Switch a paused account back on.
    Enable,
}

impl JobKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Provision => "provision",
            JobKind::Remove => "remove",
            JobKind::Update => "update",
            JobKind::Disable => "disable",
            JobKind::Enable => "enable",
        }
    }

    /// Jobs that end someone's access. They are never given up: the person must stay listed as
    /// having access until the server confirms it ended.
    pub fn ends_access(self) -> bool {
        matches!(self, JobKind::Remove | JobKind::Disable)
    }

    /// The events-log action recorded when a job of this kind succeeded.
    pub fn done_action(self) -> &'static str {
        match self {
            JobKind::Provision => "grant.provisioned",
            JobKind::Remove => "grant.removed",
            JobKind::Update => "grant.updated",
            JobKind::Disable => "grant.disabled",
            JobKind::Enable => "grant.enabled",
        }
    }

    /// A grant's status once a job of this kind succeeded (`current` when it does not change).
    pub fn status_after(self, current: GrantStatus) -> GrantStatus {
        match self {
            JobKind::Remove => GrantStatus::Removed,
            JobKind::Disable => GrantStatus::Disabled,
            JobKind::Enable => GrantStatus::Active,
            JobKind::Provision | JobKind::Update => current,
        }
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a grant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum GrantStatus {
    /// Being set up on the server (or waiting for a retry).
    Provisioning,
    /// Made, waiting for the person (a Plex invitation not yet accepted).
    Pending,
    Active,
    /// Paused on the server (Jellyfin, Emby).
    Disabled,
    /// Ended: removed on the server, or moved to another grant.
    Removed,
    /// The server refused for good.
    Failed,
}

impl GrantStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Provisioning => "provisioning",
            GrantStatus::Pending => "pending",
            GrantStatus::Active => "active",
            GrantStatus::Disabled => "disabled",
            GrantStatus::Removed => "removed",
            GrantStatus::Failed => "failed",
        }
    }

    /// Access that exists or is on its way, paused included: what the owner must see listed.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            GrantStatus::Provisioning
                | GrantStatus::Pending
                | GrantStatus::Active
                | GrantStatus::Disabled
        )
    }

    /// Made on the server and not ended: what can be changed, paused or removed.
    pub fn is_made(self) -> bool {
        matches!(
            self,
            GrantStatus::Pending | GrantStatus::Active | GrantStatus::Disabled
        )
    }
}

impl std::fmt::Display for GrantStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How events name a grant: `alice@example.com on Home Plex`.
pub fn grant_subject(identity: &str, server: &str) -> String {
    format!("{identity} on {server}")
}
