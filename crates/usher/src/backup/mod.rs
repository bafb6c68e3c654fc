//! Backups: a consistent copy of the database taken while usher runs (`VACUUM INTO`), restore
//! with checks, and scheduled backups with retention. The secret key is not inside the database:
//! keep `secret.key` (or `USHER_SECRET_KEY`) with the backups, or stored tokens cannot be read.

use std::path::{Path, PathBuf};

use crate::clock::Timestamp;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: choose another file name")]
    Exists(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0} is not a usher database")]
    NotUsher(String),
    #[error("{path} is damaged: integrity check says {message}")]
    Damaged { path: String, message: String },
    #[error(
        "{path} was written by a newer usher (schema {found}, this build knows {known}): upgrade usher first"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("usher is running on this data dir: stop it first, then restore")]
    InUse,
    #[error(transparent)]
    Db(#[from] crate::store::StoreError),
}

/// Writes a consistent copy of the live database to `out` (which must not exist).
pub async fn backup(store: &Store, out: &Path) -> Result<u64, BackupError> {
    if out.exists() {
        return Err(BackupError::Exists(out.display().to_string()));
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::files::create_private_dir(dir).map_err(|e| BackupError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
    }
    let target = out.to_str().ok_or_else(|| BackupError::Io {
        path: out.display().to_string(),
        message: "the path is not UTF-8".into(),
    })?;
    crate::files::create_private_file(out).map_err(|e| BackupError::Io {
        path: out.display().to_string(),
        message: e.to_string(),
    })?;
    // One statement, one read transaction: every committed row up to that moment, nothing half.
    store.copy_to(target).await?;
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(size)
}

/// What a check of a backup file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub schema: i64,
    pub members: i64,
    pub invites: i64,
}

/// Checks a backup: a SQLite file that passes `PRAGMA integrity_check`, with usher's schema at a
/// version this build understands.
pub async fn check(path: &Path) -> Result<Checked, BackupError> {
    let name = path.display().to_string();
    if !path.is_file() {
        return Err(BackupError::Io {
            path: name,
            message: "no such file".into(),
        });
    }
    let facts = crate::store::files::inspect(path)
        .await?
        .ok_or_else(|| BackupError::NotUsher(name.clone()))?;
    if facts.integrity != "ok" {
        return Err(BackupError::Damaged {
            path: name,
            message: facts.integrity,
        });
    }
    let schema = facts
        .schema
        .ok_or_else(|| BackupError::NotUsher(name.clone()))?;
    if schema > crate::store::schema_version() {
        return Err(BackupError::TooNew {
            path: name,
            found: schema,
            known: crate::store::schema_version(),
        });
    }
    Ok(Checked {
        schema,
        members: facts.members,
        invites: facts.invites,
    })
}

/// The lock a running `usher serve` holds on its data dir, so a restore cannot pull the database
/// out from under it.
pub struct DataDirLock {
    _file: std::fs::File,
}

pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock, BackupError> {
    let path = data_dir.join("usher.lock");
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(&path).map_err(|e| BackupError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::InUse),
        Err(std::fs::TryLockError::Error(e)) => Err(BackupError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }),
    }
}

/// Replaces the data dir's database with a checked backup. The current database is kept beside
/// it as `usher.db.before-restore-TIMESTAMP`.
pub async fn restore(
    data_dir: &Path,
    from: &Path,
    now: Timestamp,
) -> Result<(Checked, PathBuf), BackupError> {
    let checked = check(from).await?;
    let _lock = lock_data_dir(data_dir)?;
    let db = data_dir.join("usher.db");
    let kept = data_dir.join(format!("usher.db.before-restore-{now}"));
    let io = |path: &Path, e: std::io::Error| BackupError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    if db.exists() {
        std::fs::rename(&db, &kept).map_err(|e| io(&db, e))?;
    }
    for suffix in ["-wal", "-shm"] {
        let side = data_dir.join(format!("usher.db{suffix}"));
        if side.exists() {
            std::fs::remove_file(&side).map_err(|e| io(&side, e))?;
        }
    }
    // Copy to a temporary name first so a crash never leaves half a database in place.
    let tmp = data_dir.join("usher.db.restoring");
    std::fs::copy(from, &tmp).map_err(|e| io(&tmp, e))?;
    crate::files::make_private(&tmp).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, &db).map_err(|e| io(&db, e))?;
    Ok((checked, kept))
}

/// File name of a scheduled backup.
pub fn scheduled_name(now: Timestamp) -> String {
    let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    let stamp = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| now.to_string());
    format!("usher-{stamp}.db")
}

/// Takes a scheduled backup into `{data_dir}/backups` and keeps the newest `keep`.
pub async fn scheduled(
    store: &Store,
    data_dir: &Path,
    keep: usize,
    now: Timestamp,
) -> Result<PathBuf, BackupError> {
    let dir = data_dir.join("backups");
    let path = dir.join(scheduled_name(now));
    backup(store, &path).await?;
    let mut existing: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| BackupError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("usher-") && n.ends_with(".db"))
        })
        .collect();
    existing.sort();
    let excess = existing.len().saturating_sub(keep.max(1));
    for old in existing.into_iter().take(excess) {
        let _ = std::fs::remove_file(old);
    }
    Ok(path)
}

/// The scheduler of a running server.
pub async fn worker(state: crate::state::AppState) {
    let hours = state.config.backup_hours;
    if hours == 0 {
        return;
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(hours as u64 * 3600));
    tick.tick().await; // not at start-up
    loop {
        tick.tick().await;
        match scheduled(
            &state.store,
            &state.config.data_dir,
            state.config.backup_keep as usize,
            state.clock.now(),
        )
        .await
        {
            Ok(path) => tracing::info!(path = %path.display(), "scheduled backup written"),
            Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
        }
    }
}
