//! Row ids, one type per table that others point at, so a member's id cannot be passed where a grant's is meant.
//!
//! Each is the table's `INTEGER PRIMARY KEY`, stored and serialised as the bare number, so the
//! database, the JSON API and the CLI see exactly what they saw before these types existed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($($(#[$doc:meta])* $name:ident,)+) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            Serialize, Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The bare number, for places that speak to the outside (URLs, ids in messages).
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for serde_json::Value {
            fn from(id: $name) -> Self {
                id.0.into()
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )+};
}

row_id! {
    /// A connected media server (`servers.id`).
    ServerId,
    /// An invite (`invites.id`).
    InviteId,
    /// A person with access (`members.id`).
    MemberId,
    /// One member's access to one server (`grants.id`).
    GrantId,
    /// An access request (`requests.id`).
    RequestId,
    /// An access profile (`profiles.id`).
    ProfileId,
    /// A queued provisioning job (`jobs.id`).
    JobId,
    /// An admin account (`admins.id`).
    AdminId,
    /// A signed-in browser of an admin (`sessions.rowid`; the cookie's hash never leaves).
    SessionId,
    /// A one-time link bringing in another admin (`admin_invites.id`).
    AdminInviteId,
    /// A passkey of an admin (`admin_passkeys.id`).
    PasskeyId,
    /// An onboarding step (`onboarding_steps.id`).
    StepId,
    /// A notification channel (`notify_channels.id`).
    ChannelId,
    /// An API key (`api_keys.id`).
    ApiKeyId,
    /// A queued notification (`notify_deliveries.id`).
    DeliveryId,
}
