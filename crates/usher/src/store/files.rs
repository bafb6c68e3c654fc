//! The database as a file: a consistent copy of the live one, and what a copy holds, read
//! without changing it (for checking backups before a restore).

use std::path::Path;
use std::str::FromStr;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use super::{Result, Store};

impl Store {
    /// Writes every committed row, as of one moment, to a new database file at `target`.
    pub async fn copy_to(&self, target: &str) -> Result<()> {
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// What a database file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts {
    /// `PRAGMA integrity_check`: `ok`, or what is damaged.
    pub integrity: String,
    /// The newest migration applied; `None` when the file has no schema table (not usher's).
    pub schema: Option<i64>,
    pub members: i64,
    pub invites: i64,
}

/// Reads a database file read-only. `None` when it is not a SQLite database at all.
pub async fn inspect(path: &Path) -> Result<Option<FileFacts>> {
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .read_only(true)
        .create_if_missing(false);
    let Ok(mut conn) = SqliteConnection::connect_with(&opts).await else {
        return Ok(None);
    };
    let Ok(integrity) = sqlx::query_scalar::<_, String>("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
    else {
        return Ok(None);
    };
    if integrity != "ok" {
        conn.close().await?;
        return Ok(Some(FileFacts {
            integrity,
            schema: None,
            members: 0,
            invites: 0,
        }));
    }
    let schema = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        .fetch_one(&mut conn)
        .await
        .ok();
    let members = sqlx::query_scalar("SELECT COUNT(*) FROM members")
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0);
    let invites = sqlx::query_scalar("SELECT COUNT(*) FROM invites")
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0);
    conn.close().await?;
    Ok(Some(FileFacts {
        integrity,
        schema,
        members,
        invites,
    }))
}
