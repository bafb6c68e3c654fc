//! Every SQL statement lives under this module. Feature modules call typed functions here; they
//! never write SQL themselves.

pub mod admins;
pub mod api_keys;
pub mod events;
pub mod files;
pub mod invites;
pub mod members;
pub mod notify;
pub mod onboarding;
pub mod passkeys;
pub mod profiles;
pub mod requests;
pub mod servers;
pub mod sessions;
pub mod settings;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::clock::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error(
        "the database was written by a newer usher (schema {found}, this build knows {known}): upgrade usher"
    )]
    TooNew { found: i64, known: i64 },
    /// A stored value that does not read back: a fault to stop on, never to read as empty.
    #[error("stored {what} of {owner} cannot be read: {reason}")]
    Corrupt {
        what: &'static str,
        owner: String,
        reason: String,
    },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        source: sqlx::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Reads a JSON column; a value that does not parse is [`StoreError::Corrupt`].
pub fn decode_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    owner: impl FnOnce() -> String,
    raw: &str,
) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt {
        what,
        owner: owner(),
        reason: e.to_string(),
    })
}

/// The schema, one step per file, applied in order inside a transaction each. Versions only need
/// to increase; gaps are allowed (numbers are reserved by features developed side by side).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "servers",
        include_str!("../../migrations/sqlite/0002_servers.sql"),
    ),
    (
        3,
        "invites",
        include_str!("../../migrations/sqlite/0003_invites.sql"),
    ),
    (
        4,
        "requests",
        include_str!("../../migrations/sqlite/0004_requests.sql"),
    ),
    (
        5,
        "members",
        include_str!("../../migrations/sqlite/0005_members.sql"),
    ),
    (
        6,
        "notifications",
        include_str!("../../migrations/sqlite/0006_notifications.sql"),
    ),
    (
        7,
        "onboarding",
        include_str!("../../migrations/sqlite/0007_onboarding.sql"),
    ),
    (
        8,
        "api_keys",
        include_str!("../../migrations/sqlite/0008_api_keys.sql"),
    ),
    (
        9,
        "profiles",
        include_str!("../../migrations/sqlite/0009_profiles.sql"),
    ),
    (
        10,
        "friends_and_sign_ins",
        include_str!("../../migrations/sqlite/0010_friends_and_sign_ins.sql"),
    ),
    (
        11,
        "account_creation",
        include_str!("../../migrations/sqlite/0011_account_creation.sql"),
    ),
    (
        12,
        "languages",
        include_str!("../../migrations/sqlite/0012_languages.sql"),
    ),
    (
        13,
        "acceptance_checks",
        include_str!("../../migrations/sqlite/0013_acceptance_checks.sql"),
    ),
    (
        14,
        "bot outbox",
        include_str!("../../migrations/sqlite/0014_bot_outbox.sql"),
    ),
    (
        15,
        "more server kinds",
        include_str!("../../migrations/sqlite/0015_more_server_kinds.sql"),
    ),
    (
        16,
        "api_key_scopes",
        include_str!("../../migrations/sqlite/0016_api_key_scopes.sql"),
    ),
    (
        17,
        "admin_roles",
        include_str!("../../migrations/sqlite/0017_admin_roles.sql"),
    ),
    (
        18,
        "admin_accounts",
        include_str!("../../migrations/sqlite/0018_admin_accounts.sql"),
    ),
    (
        19,
        "two_factor",
        include_str!("../../migrations/sqlite/0019_two_factor.sql"),
    ),
    (
        20,
        "passkeys",
        include_str!("../../migrations/sqlite/0020_passkeys.sql"),
    ),
    (
        21,
        "member_expiry",
        include_str!("../../migrations/sqlite/0021_member_expiry.sql"),
    ),
    (
        22,
        "onboarding_languages",
        include_str!("../../migrations/sqlite/0022_onboarding_languages.sql"),
    ),
    (
        23,
        "brand_logo",
        include_str!("../../migrations/sqlite/0023_brand_logo.sql"),
    ),
];

/// The newest schema version this build knows.
pub fn schema_version() -> i64 {
    MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// How the pool connects, for the connection that watches other processes' writes.
    options: Arc<SqliteConnectOptions>,
    /// Moves on every write committed to the database (see [`Store::generation`]).
    generation: Arc<AtomicU64>,
    /// The connection that watches for other processes' writes, and the last `data_version`
    /// it read.
    watch: Arc<tokio::sync::Mutex<Option<Watch>>>,
}

/// The watching connection and the `data_version` it read last.
type Watch = (sqlx::SqliteConnection, Option<i64>);

/// How often another process's writes (the CLI's) are looked for: they show within this.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(100);

/// How many connections the pool may hold: twice the cores, from 4 to 8. SQLite's reads run on
/// the caller's core from its page cache, so more connections than that wait for a core rather
/// than for the disk, and each holds its own copy of the schema and cache (about 200 KB) and a
/// thread. A running usher soon holds all of them: sqlx hands a connection back to the pool a
/// moment after its statement, so statements in a row open new ones until the pool is full.
fn pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    (2 * cores).clamp(4, 8)
}

impl Store {
    /// Opens (creating if needed) the database at `path` in WAL mode with a busy timeout, so
    /// CLI commands and `serve` can share it.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            let _ = crate::files::create_private_dir(dir);
        }
        // SQLite gives the WAL and shared-memory files the database file's own mode.
        if !path.exists() {
            let _ = crate::files::create_private_file(path);
        }
        let _ = crate::files::make_database_private(path);
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("temp_store", "memory");
        let generation = Arc::new(AtomicU64::new(0));
        let hooked = generation.clone();
        let pool = SqlitePoolOptions::new()
            .max_connections(pool_size())
            .min_connections(1)
            // Every commit on every connection moves the generation, as it commits: what was
            // read before can no longer be taken for what is there.
            .after_connect(move |conn, _| {
                let generation = hooked.clone();
                Box::pin(async move {
                    conn.lock_handle().await?.set_commit_hook(move || {
                        generation.fetch_add(1, Ordering::SeqCst);
                        true
                    });
                    Ok(())
                })
            })
            // An embedded database cannot drop a connection; pinging one before each use only
            // doubles the trips to its worker thread.
            .test_before_acquire(false)
            .after_release(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection;
                    if conn.is_in_transaction() {
                        // A dropped transaction's rollback is still queued: let it run.
                        conn.ping().await?;
                    }
                    // Back in the pool, a connection is in no transaction. When a write fails
                    // (a full disk), SQLite can end the transaction by itself while the driver
                    // still counts it open; that connection's next transaction would be a
                    // savepoint whose rollback keeps the write lock, locking out every writer
                    // until a restart. It is closed instead, and a fresh one takes its place.
                    Ok(!conn.is_in_transaction())
                })
            })
            .connect_with(opts.clone())
            .await?;
        Ok(Store {
            pool,
            options: Arc::new(opts),
            generation,
            watch: Arc::default(),
        })
    }

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A number that changes whenever anything is written to the database: by this process at
    /// once (a commit hook on each connection), by another process (the CLI) within
    /// [`WATCH_INTERVAL`] while [`Store::watch_other_writers`] runs. Whatever is kept from the
    /// database in memory is kept with the generation it was read at, and is good while the
    /// generation stays. Pure reads never move it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Looks once for writes that no hook here sees: another process's (the CLI's), and (a
    /// backstop) a commit of this one that finished only after its hook ran, when a view in
    /// between read what was there before. SQLite's `PRAGMA data_version`, read on a connection
    /// of its own, changes after any other connection commits.
    pub async fn notice_other_writers(&self) -> Result<()> {
        use sqlx::Connection;
        let mut watch = self.watch.lock().await;
        if watch.is_none() {
            let conn = sqlx::SqliteConnection::connect_with(&self.options).await?;
            *watch = Some((conn, None));
        }
        let (conn, seen) = watch.as_mut().expect("connected above");
        let version: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *conn)
            .await?;
        if seen.is_some_and(|s| s != version) {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        *seen = Some(version);
        Ok(())
    }

    /// [`Store::notice_other_writers`] every [`WATCH_INTERVAL`], until the task is dropped.
    pub async fn watch_other_writers(&self) {
        let mut tick = tokio::time::interval(WATCH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.notice_other_writers().await {
                tracing::warn!(error = %e, "could not look for other processes' writes");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }

    /// Applies the migrations this database has not seen yet.
    pub async fn migrate(&self, now: Timestamp) -> Result<()> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        let current = self.current_schema().await?;
        if current > schema_version() {
            return Err(StoreError::TooNew {
                found: current,
                known: schema_version(),
            });
        }
        // Every step not applied yet, even one numbered below the newest applied: a database
        // may have skipped a reserved number that a later build fills in.
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&self.pool)
            .await?;
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| !applied.contains(&m.0)) {
            let fail = |source| StoreError::Migration {
                version: *version,
                name,
                source,
            };
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            if sql.contains("writable_schema") {
                // A definition edited in place: every connection must re-read the schema, which
                // it does when the schema's version changes.
                let version: i64 = sqlx::query_scalar("PRAGMA schema_version")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(fail)?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "PRAGMA schema_version = {}",
                    version + 1
                )))
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            }
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            )
            .bind(version)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
            tx.commit().await.map_err(fail)?;
        }
        Ok(())
    }

    pub async fn current_schema(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// A cheap query that proves the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Proves the database can still be written (a full disk, a read-only mount): one tiny
    /// upsert of a row kept for this purpose.
    pub async fn probe_write(&self, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ('health_probe', ?1, ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        if let Some((conn, _)) = self.watch.lock().await.take() {
            use sqlx::Connection;
            let _ = conn.close().await;
        }
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }
}

/// `%text%` for `LIKE … ESCAPE '\'`, with the text's own wildcards escaped; empty for no search.
pub(crate) fn like_pattern(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(t.len() + 2);
    out.push('%');
    for c in t.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Whether an error is a unique-constraint violation (a name or code already taken).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_generation_moves_with_every_write_and_never_with_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usher.db");
        let store = Store::open(&path).await.unwrap();
        store.migrate(1).await.unwrap();
        store.notice_other_writers().await.unwrap();

        let before = store.generation();
        for _ in 0..5 {
            store.setting("nothing").await.unwrap();
            store.ping().await.unwrap();
        }
        store.notice_other_writers().await.unwrap();
        assert_eq!(store.generation(), before, "reads move nothing");

        store.set_setting("owner_name", "Sam", 2).await.unwrap();
        let written = store.generation();
        assert!(written > before, "a write here moves it as it commits");

        // Another process on the same file (the CLI): seen once looked for.
        let other = Store::open(&path).await.unwrap();
        other.set_setting("owner_name", "Alex", 3).await.unwrap();
        assert_eq!(store.generation(), written, "no hook sees another process");
        store.notice_other_writers().await.unwrap();
        assert!(store.generation() > written, "data_version saw it");
        let seen = store.generation();
        store.notice_other_writers().await.unwrap();
        assert_eq!(store.generation(), seen, "once");
    }
}
