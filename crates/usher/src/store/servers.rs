use crate::domain::ids::*;
use sqlx::FromRow;

use media::Permissions;

use super::{Result, Store};
use crate::clock::Timestamp;
use crate::domain::access::{PermissionChanges, PermissionError};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ServerRow {
    pub id: ServerId,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: media::ServerKind,
    pub url: String,
    #[serde(skip)]
    pub token_sealed: String,
    pub remote_id: Option<String>,
    pub version: Option<String>,
    pub status: crate::domain::ServerStatus,
    pub status_message: Option<String>,
    pub warning: Option<String>,
    pub checked_at: Option<Timestamp>,
    pub scanned_at: Option<Timestamp>,
    pub default_allow_downloads: bool,
    pub default_allow_live_tv: bool,
    pub default_allow_camera_upload: bool,
    pub default_max_sessions: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// `disable`, `remove` or `disable_then_remove` (Plex always removes).
    pub expiry_action: crate::domain::ExpiryAction,
    pub expiry_remove_after_days: i64,
    pub synced_at: Option<Timestamp>,
    pub sync_error: Option<String>,
    /// The address friends open, set by the owner (see [`ServerRow::friend_address`]).
    pub friend_url: Option<String>,
    /// Approving a request starts with this server ticked.
    pub request_default: bool,
}

impl ServerRow {
    /// Whether choosing `chosen` on this server would give more than chosen: a server that
    /// cannot limit libraries (RomM before 5.0) shows all of its present `libraries` to
    /// everyone, so a choice that leaves one out is refused where it is made rather than
    /// failing when someone redeems it.
    pub fn cannot_keep_to(&self, libraries: &[LibraryRow], chosen: &[String]) -> bool {
        !self
            .kind
            .limits_libraries(self.version.as_deref().unwrap_or_default())
            && libraries
                .iter()
                .any(|l| l.present && !chosen.contains(&l.remote_id))
    }

    /// Why [`cannot_keep_to`](Self::cannot_keep_to) refused, for the owner.
    pub fn cannot_keep_note(&self) -> String {
        format!(
            "{} shows every library to everyone ({} {}): choose all of them, or update the server",
            self.name,
            self.kind.display_name(),
            self.version.as_deref().unwrap_or_default()
        )
    }

    /// Where every grant on this server starts: the owner's defaults for it. Invites, approvals
    /// (web, Telegram, automatic, API, CLI) and profiles change only what their form or command
    /// names.
    pub fn defaults(&self) -> Permissions {
        Permissions {
            allow_downloads: self.default_allow_downloads,
            allow_live_tv: self.default_allow_live_tv,
            allow_camera_upload: self.default_allow_camera_upload,
            max_sessions: self.default_max_sessions.map(|n| n as u32),
            ..Permissions::default()
        }
    }

    /// The permissions of a new grant on this server: its defaults with `changes`. The one way
    /// every invite, approval and profile arrives at a grant's permissions.
    pub fn permissions_with(
        &self,
        changes: Option<&PermissionChanges>,
    ) -> std::result::Result<Permissions, PermissionError> {
        changes
            .cloned()
            .unwrap_or_default()
            .applied_to(&self.defaults(), self.kind.is_plex())
    }

    /// Where friends reach this server in a browser or app: the owner's address for friends,
    /// else the connection URL when people elsewhere can open it. Plex is always reached
    /// through plex.tv, so it has none.
    pub fn friend_address(&self) -> Option<String> {
        if self.kind.is_plex() {
            return None;
        }
        if let Some(url) = self.friend_url.as_deref().filter(|u| !u.is_empty()) {
            return Some(url.to_string());
        }
        crate::domain::base_url::BaseUrl::parse(&self.url)
            .ok()
            .filter(|u| u.reach().is_public())
            .map(|u| u.to_string())
    }
}

/// A server with how many libraries it offers, for lists.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ServerSummary {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub server: ServerRow,
    pub library_count: i64,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct LibraryRow {
    pub id: i64,
    pub server_id: ServerId,
    pub remote_id: String,
    pub local_key: String,
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    pub is_default: bool,
    pub present: bool,
    pub scanned_at: Timestamp,
}

pub struct NewServer<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub url: &'a str,
    pub token_sealed: &'a str,
    pub remote_id: Option<&'a str>,
    pub version: Option<&'a str>,
    pub warning: Option<&'a str>,
}

/// Per-server defaults for new grants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerDefaults {
    pub allow_downloads: bool,
    pub allow_live_tv: bool,
    pub allow_camera_upload: bool,
    pub max_sessions: Option<i64>,
    pub request_default: bool,
}

/// A server with how many libraries it offers.
const SUMMARY_SELECT: &str = "SELECT s.*, (SELECT COUNT(*) FROM libraries l
        WHERE l.server_id = s.id AND l.present AND l.enabled) AS library_count
 FROM servers s";

impl Store {
    /// The servers a request may be approved for: those the owner ticked in the request
    /// settings, or every server when none is ticked.
    pub async fn requestable_servers(
        &self,
        settings: &crate::domain::settings::Settings,
    ) -> Result<Vec<ServerRow>> {
        let chosen = &settings.requests.servers;
        Ok(self
            .servers()
            .await?
            .into_iter()
            .map(|s| s.server)
            .filter(|s| chosen.is_empty() || chosen.contains(&s.id))
            .collect())
    }

    /// Whether the request form takes requests now: switched on, with a server to approve for.
    pub async fn requests_open(&self) -> Result<bool> {
        let settings = self.settings().await?;
        let servers = self.requestable_servers(&settings).await?;
        Ok(settings.requests.open_with(servers.len()))
    }

    /// The names of libraries by sharing id, joined for people to read; an id the server no
    /// longer lists is shown as is.
    pub async fn library_names(&self, server_id: ServerId, ids: &[String]) -> Result<String> {
        let libs = self.libraries(server_id).await?;
        Ok(ids
            .iter()
            .map(|id| {
                libs.iter()
                    .find(|l| &l.remote_id == id)
                    .map(|l| l.name.clone())
                    .unwrap_or_else(|| id.clone())
            })
            .collect::<Vec<_>>()
            .join(", "))
    }

    pub async fn insert_server(
        &self,
        s: NewServer<'_>,
        now: Timestamp,
    ) -> Result<ServerId, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO servers (name, kind, url, token_sealed, remote_id, version, warning,
                                  status, checked_at, created_at, updated_at, request_default)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, NOT EXISTS (SELECT 1 FROM servers))
             RETURNING id",
        )
        .bind(s.name)
        .bind(s.kind)
        .bind(s.url)
        .bind(s.token_sealed)
        .bind(s.remote_id)
        .bind(s.version)
        .bind(s.warning)
        .bind(now)
        .bind(now)
        .bind(now)
        .fetch_one(self.pool())
        .await
    }

    pub async fn servers(&self) -> Result<Vec<ServerSummary>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SUMMARY_SELECT} ORDER BY s.name COLLATE NOCASE"
        )))
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn server_summary(&self, id: ServerId) -> Result<Option<ServerSummary>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SUMMARY_SELECT} WHERE s.id = ?"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn server(&self, id: ServerId) -> Result<Option<ServerRow>> {
        Ok(sqlx::query_as("SELECT * FROM servers WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn server_by_name(&self, name: &str) -> Result<Option<ServerRow>> {
        Ok(sqlx::query_as("SELECT * FROM servers WHERE name = ?")
            .bind(name.trim())
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn server_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM servers")
            .fetch_one(self.pool())
            .await?)
    }

    pub async fn set_server_friend_url(
        &self,
        id: ServerId,
        friend_url: Option<&str>,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE servers SET friend_url = ?, updated_at = ? WHERE id = ?")
            .bind(friend_url)
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Changes name, URL and (when given) the sealed token.
    pub async fn update_server(
        &self,
        id: ServerId,
        name: &str,
        url: &str,
        token_sealed: Option<&str>,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE servers SET name = ?, url = ?, token_sealed = COALESCE(?, token_sealed),
                                updated_at = ? WHERE id = ?",
        )
        .bind(name)
        .bind(url)
        .bind(token_sealed)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records the outcome of a connection test.
    pub async fn set_server_status(
        &self,
        id: ServerId,
        ok: Option<(&str, &str, Option<&str>)>,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        match ok {
            Some((remote_id, version, warning)) => {
                sqlx::query(
                    "UPDATE servers SET status = 'ok', status_message = NULL, remote_id = ?,
                            version = ?, warning = ?, checked_at = ? WHERE id = ?",
                )
                .bind(remote_id)
                .bind(version)
                .bind(warning)
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?;
            }
            None => {
                sqlx::query(
                    "UPDATE servers SET status = 'error', status_message = ?, checked_at = ? WHERE id = ?",
                )
                .bind(error)
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?;
            }
        }
        Ok(())
    }

    pub async fn set_server_defaults(
        &self,
        id: ServerId,
        d: ServerDefaults,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE servers SET default_allow_downloads = ?, default_allow_live_tv = ?,
                    default_allow_camera_upload = ?, default_max_sessions = ?,
                    request_default = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(d.allow_downloads)
        .bind(d.allow_live_tv)
        .bind(d.allow_camera_upload)
        .bind(d.max_sessions)
        .bind(d.request_default)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delete_server(&self, id: ServerId) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM servers WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected()
            > 0)
    }

    /// Stores a scan: new libraries are added (offered and pre-checked), known ones renamed, and
    /// ones the server no longer has are kept but marked absent, so history never loses them.
    pub async fn replace_libraries(
        &self,
        server_id: ServerId,
        found: &[media::Library],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        for lib in found {
            sqlx::query(
                "INSERT INTO libraries (server_id, remote_id, local_key, name, kind, scanned_at)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (server_id, remote_id) DO UPDATE SET
                    local_key = excluded.local_key, name = excluded.name, kind = excluded.kind,
                    present = 1, scanned_at = excluded.scanned_at",
            )
            .bind(server_id)
            .bind(&lib.id)
            .bind(&lib.local_key)
            .bind(&lib.name)
            .bind(&lib.kind)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE libraries SET present = 0 WHERE server_id = ? AND scanned_at < ?")
            .bind(server_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // Same-second rescans: anything not in this scan's list is absent too.
        let ids: Vec<&str> = found.iter().map(|l| l.id.as_str()).collect();
        let known: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, remote_id FROM libraries WHERE server_id = ?")
                .bind(server_id)
                .fetch_all(&mut *tx)
                .await?;
        for (id, remote_id) in known {
            if !ids.contains(&remote_id.as_str()) {
                sqlx::query("UPDATE libraries SET present = 0 WHERE id = ?")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE servers SET scanned_at = ? WHERE id = ?")
            .bind(now)
            .bind(server_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn libraries(&self, server_id: ServerId) -> Result<Vec<LibraryRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM libraries WHERE server_id = ? ORDER BY present DESC, name COLLATE NOCASE",
        )
        .bind(server_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Sets which libraries are offered and which are pre-checked; a library that is not offered
    /// cannot be a default.
    pub async fn set_library_flags(
        &self,
        server_id: ServerId,
        enabled: &[i64],
        defaults: &[i64],
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM libraries WHERE server_id = ?")
            .bind(server_id)
            .fetch_all(&mut *tx)
            .await?;
        for id in ids {
            let on = enabled.contains(&id);
            sqlx::query("UPDATE libraries SET enabled = ?, is_default = ? WHERE id = ?")
                .bind(on)
                .bind(on && defaults.contains(&id))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
