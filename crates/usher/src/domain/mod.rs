//! The vocabulary the rest of usher speaks, as types: no I/O and nothing above it imported here.
//! Stored columns decode straight into these (`sqlx::Type`), so the spelling in the database is
//! written once, in the `rename_all` below.

pub mod access;
pub mod base_url;
pub mod ids;
pub mod library;
pub use ids::*;
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

/// Where a request stands. Only a pending one can be decided; the others are how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, serde::Deserialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Pending,
    Approved,
    Declined,
    Expired,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 4] = [
        RequestStatus::Pending,
        RequestStatus::Approved,
        RequestStatus::Declined,
        RequestStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Declined => "declined",
            RequestStatus::Expired => "expired",
        }
    }

    /// The status a filter or a command names.
    pub fn parse(s: &str) -> Option<RequestStatus> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_pending(self) -> bool {
        self == RequestStatus::Pending
    }
}

impl std::fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a member came to usher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, serde::Deserialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum MemberOrigin {
    /// Redeemed an invite.
    Invite,
    /// Asked on the request form and was approved.
    Request,
    /// Found on a server by a sync and taken in.
    Imported,
}

impl MemberOrigin {
    pub const ALL: [MemberOrigin; 3] = [
        MemberOrigin::Invite,
        MemberOrigin::Request,
        MemberOrigin::Imported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberOrigin::Invite => "invite",
            MemberOrigin::Request => "request",
            MemberOrigin::Imported => "imported",
        }
    }

    pub fn parse(s: &str) -> Option<MemberOrigin> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What happens to a server's grants when they expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, serde::Deserialize)]
#[sqlx(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ExpiryAction {
    /// Pause the account (where the server can), keeping it for a comeback.
    Disable,
    Remove,
    /// Pause at once, remove some days later.
    DisableThenRemove,
}

impl ExpiryAction {
    pub const ALL: [ExpiryAction; 3] = [
        ExpiryAction::Disable,
        ExpiryAction::Remove,
        ExpiryAction::DisableThenRemove,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryAction::Disable => "disable",
            ExpiryAction::Remove => "remove",
            ExpiryAction::DisableThenRemove => "disable_then_remove",
        }
    }

    pub fn parse(s: &str) -> Option<ExpiryAction> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for MemberOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for ExpiryAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which list of steps a page shows: what to do after joining, per kind of server (Plex Home
/// members get their own), and the house rules agreed to before joining.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, serde::Deserialize)]
#[sqlx(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum OnboardingKind {
    Plex,
    PlexHome,
    Jellyfin,
    Emby,
    Audiobookshelf,
    Navidrome,
    Komga,
    Kavita,
    Romm,
    Before,
}

impl OnboardingKind {
    pub const ALL: [OnboardingKind; 10] = [
        OnboardingKind::Plex,
        OnboardingKind::PlexHome,
        OnboardingKind::Jellyfin,
        OnboardingKind::Emby,
        OnboardingKind::Audiobookshelf,
        OnboardingKind::Navidrome,
        OnboardingKind::Komga,
        OnboardingKind::Kavita,
        OnboardingKind::Romm,
        OnboardingKind::Before,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OnboardingKind::Plex => "plex",
            OnboardingKind::PlexHome => "plex_home",
            OnboardingKind::Jellyfin => "jellyfin",
            OnboardingKind::Emby => "emby",
            OnboardingKind::Audiobookshelf => "audiobookshelf",
            OnboardingKind::Navidrome => "navidrome",
            OnboardingKind::Komga => "komga",
            OnboardingKind::Kavita => "kavita",
            OnboardingKind::Romm => "romm",
            OnboardingKind::Before => "before",
        }
    }

    pub fn parse(s: &str) -> Option<OnboardingKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The steps after joining a server of `kind`; `home` for a Plex Home member.
    pub fn after_joining(kind: media::ServerKind, home: bool) -> OnboardingKind {
        match kind {
            media::ServerKind::Plex if home => OnboardingKind::PlexHome,
            media::ServerKind::Plex => OnboardingKind::Plex,
            media::ServerKind::Jellyfin => OnboardingKind::Jellyfin,
            media::ServerKind::Emby => OnboardingKind::Emby,
            media::ServerKind::Audiobookshelf => OnboardingKind::Audiobookshelf,
            media::ServerKind::Navidrome => OnboardingKind::Navidrome,
            media::ServerKind::Komga => OnboardingKind::Komga,
            media::ServerKind::Kavita => OnboardingKind::Kavita,
            media::ServerKind::Romm => OnboardingKind::Romm,
        }
    }

    /// The server kind the steps are for; `None` for the house rules.
    pub fn server_kind(self) -> Option<media::ServerKind> {
        match self {
            OnboardingKind::Plex | OnboardingKind::PlexHome => Some(media::ServerKind::Plex),
            OnboardingKind::Jellyfin => Some(media::ServerKind::Jellyfin),
            OnboardingKind::Emby => Some(media::ServerKind::Emby),
            OnboardingKind::Audiobookshelf => Some(media::ServerKind::Audiobookshelf),
            OnboardingKind::Navidrome => Some(media::ServerKind::Navidrome),
            OnboardingKind::Komga => Some(media::ServerKind::Komga),
            OnboardingKind::Kavita => Some(media::ServerKind::Kavita),
            OnboardingKind::Romm => Some(media::ServerKind::Romm),
            OnboardingKind::Before => None,
        }
    }
}

impl std::fmt::Display for OnboardingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a notification channel sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, serde::Deserialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// The owner's chat with the bot.
    Telegram,
    Discord,
    Email,
    /// A signed JSON POST to a URL of the owner's.
    Webhook,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Telegram,
        ChannelKind::Discord,
        ChannelKind::Email,
        ChannelKind::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "telegram",
            ChannelKind::Discord => "discord",
            ChannelKind::Email => "email",
            ChannelKind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name a channel gets when the owner gives none.
    pub fn display_name(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "Telegram",
            ChannelKind::Discord => "Discord",
            ChannelKind::Email => "Email",
            ChannelKind::Webhook => "Webhook",
        }
    }

    /// Whether it posts to a URL the owner gives (kept sealed).
    pub fn posts_to_url(self) -> bool {
        matches!(self, ChannelKind::Discord | ChannelKind::Webhook)
    }
}

impl std::fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a queued job stands: waiting (or due again), claimed by a worker, or finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, serde::Deserialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a message in the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, serde::Deserialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Queued,
    Sending,
    Sent,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API key may do. A script or a home automation holds the least it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, serde::Deserialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ApiScope {
    /// Every `GET`: lists and details, nothing changed.
    Read,
    /// The requests queue only: list, approve, decline (a phone shortcut, an approval bot).
    Requests,
    /// Everything the admin pages do.
    Full,
}

impl ApiScope {
    pub const ALL: [ApiScope; 3] = [ApiScope::Read, ApiScope::Requests, ApiScope::Full];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::Read => "read",
            ApiScope::Requests => "requests",
            ApiScope::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<ApiScope> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// Whether a key with this scope may call `method` on the API route `path` (the route's
    /// pattern, e.g. `/api/v1/requests/{id}/approve`).
    pub fn allows(self, method: &str, path: &str) -> bool {
        match self {
            ApiScope::Full => true,
            ApiScope::Read => method.eq_ignore_ascii_case("GET"),
            ApiScope::Requests => {
                path == "/api/v1/requests" || path.starts_with("/api/v1/requests/")
            }
        }
    }

    /// The narrowest scope that may call `method` on `path`, for the API's documentation.
    pub fn needed(method: &str, path: &str) -> ApiScope {
        Self::ALL
            .into_iter()
            .find(|s| s.allows(method, path))
            .unwrap_or(ApiScope::Full)
    }
}

impl std::fmt::Display for ApiScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the last connection test of a server found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, serde::Deserialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ServerStatus {
    Unknown,
    Ok,
    Error,
}

impl ServerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Unknown => "unknown",
            ServerStatus::Ok => "ok",
            ServerStatus::Error => "error",
        }
    }
}

impl std::fmt::Display for ServerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How events name a grant: `alice@example.com on Home Plex`.
pub fn grant_subject(identity: &str, server: &str) -> String {
    format!("{identity} on {server}")
}

/// What an admin account may do. Each route names the least role it needs; a higher role may
/// do everything a lower one may.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    sqlx::Type,
    Serialize,
    serde::Deserialize,
)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The requests queue (on the web and in Telegram) and the members list, read-only.
    Approver,
    /// Everything but other admins, secrets (API keys, the bot's and the mail server's
    /// credentials, notification channels, server connections) and backups.
    Admin,
    /// Everything.
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Approver];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Approver => "approver",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether this role may do what `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    /// Where this role lands after signing in: the first page it may open.
    pub fn home(self) -> &'static str {
        match self {
            Role::Approver => "/admin/requests",
            Role::Admin | Role::Owner => "/admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
