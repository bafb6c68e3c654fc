//! The vocabulary the rest of usher speaks, as types: no I/O and nothing above it imported here.
//! Stored columns decode straight into these (`sqlx::Type`), so the spelling in the database is
//! written once, in the `rename_all` below.

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
    pub fn status_after(self, current: &str) -> &str {
        match self {
            JobKind::Remove => "removed",
            JobKind::Disable => "disabled",
            JobKind::Enable => "active",
            JobKind::Provision | JobKind::Update => current,
        }
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
