use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sqlx::Connection;
use usher::backup::{self, BackupError};
use usher::store::events::NewEvent;

use crate::helpers::*;

async fn count_events(path: &std::path::Path) -> (String, i64) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'test.write'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    (ok, n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_with_every_committed_row() {
    let app = spawn_app().await;
    let committed = Arc::new(AtomicI64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, committed, stop) = (app.state.store.clone(), committed.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let e = NewEvent {
                    actor: "test",
                    action: "test.write",
                    subject: None,
                    detail: Some("x"),
                };
                store.append_event(e, 0).await.unwrap();
                committed.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Let some writes land, then back up in the middle of the stream.
    while committed.load(Ordering::SeqCst) < 200 {
        tokio::task::yield_now().await;
    }
    let out = app.data_dir().join("copy.db");
    let before = committed.load(Ordering::SeqCst);
    backup::backup(&app.state.store, &out).await.unwrap();
    let after = committed.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();

    let (integrity, rows) = count_events(&out).await;
    assert_eq!(integrity, "ok");
    assert!(
        rows >= before && rows <= after,
        "{before} <= {rows} <= {after}"
    );
    let checked = backup::check(&out).await.unwrap();
    assert_eq!(checked.schema, usher::store::schema_version());

    // Restoring needs the server stopped; then the data is back.
    let err = backup::restore(&app.data_dir(), &out, 1).await.unwrap_err();
    assert!(matches!(err, BackupError::InUse), "{err}");
    let (dir, clock, client) = app.stop().await;
    let (_, kept) = backup::restore(dir.path(), &out, 2).await.unwrap();
    assert!(kept.exists(), "the previous database is kept");
    let app = start(test_config(dir.path()), dir, clock, client).await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'test.write'")
        .fetch_one(&db(&app.state).await)
        .await
        .unwrap();
    assert_eq!(n, rows);
}

#[tokio::test]
async fn restore_refuses_files_that_are_not_usher_backups() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    assert!(matches!(
        backup::check(&junk).await,
        Err(BackupError::NotUsher(_))
    ));
    assert!(matches!(
        backup::check(&dir.path().join("missing.db")).await,
        Err(BackupError::Io { .. })
    ));

    // A backup from a newer usher is refused rather than half-understood.
    let app = spawn_app().await;
    let out = app.data_dir().join("newer.db");
    backup::backup(&app.state.store, &out).await.unwrap();
    assert!(matches!(
        backup::backup(&app.state.store, &out).await,
        Err(BackupError::Exists(_))
    ));
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", out.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    assert!(matches!(
        backup::check(&out).await,
        Err(BackupError::TooNew { found: 999, .. })
    ));
}

#[tokio::test]
async fn scheduled_backups_keep_only_the_newest() {
    let app = spawn_app().await;
    for i in 0..4 {
        backup::scheduled(&app.state.store, &app.data_dir(), 2, START + i * 86_400)
            .await
            .unwrap();
    }
    let mut names: Vec<String> = std::fs::read_dir(app.data_dir().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["usher-20261124-000000.db", "usher-20261125-000000.db"]
    );
}

#[tokio::test]
async fn the_backup_and_restore_commands_work_from_the_cli() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let dir = app.data_dir();
    let now = app.clock.now();
    let out = dir.join("cli-copy.db");
    let (backup_out, restore_busy) = {
        let (d, o) = (dir.clone(), out.clone());
        tokio::task::spawn_blocking(move || {
            let run = |args: &[&str]| {
                usher_command(Some(now))
                    .args(args)
                    .arg("--data-dir")
                    .arg(&d)
                    .output()
                    .unwrap()
            };
            (
                run(&["backup", "--out", o.to_str().unwrap()]),
                run(&["restore", o.to_str().unwrap()]),
            )
        })
        .await
        .unwrap()
    };
    assert!(
        backup_out.status.success(),
        "{}",
        String::from_utf8_lossy(&backup_out.stderr)
    );
    assert!(String::from_utf8_lossy(&backup_out.stdout).contains("backup written to"));
    assert!(!restore_busy.status.success());
    assert!(String::from_utf8_lossy(&restore_busy.stderr).contains("stop it first"));
    let (d, _, _) = app.stop().await;
    let restored = usher_command(Some(now))
        .args(["restore", out.to_str().unwrap(), "--data-dir"])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(String::from_utf8_lossy(&restored.stdout).contains("restored"));
}

/// The database, its WAL and shared-memory files and every backup hold emails and hashes: only
/// their owner may read them, and a data dir usher creates is the owner's alone.
#[cfg(unix)]
#[tokio::test]
async fn data_files_and_backups_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("fresh").join("data");
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let app = start(
        test_config(&data),
        dir,
        usher::clock::Clock::manual(START),
        cookie_client(),
    )
    .await;
    app.setup_admin().await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data dir");
    for name in [
        "usher.db",
        "usher.db-wal",
        "usher.db-shm",
        "secret.key",
        "usher.lock",
    ] {
        let path = data.join(name);
        assert!(path.exists(), "{name}");
        assert_eq!(mode(&path), 0o600, "{name}");
    }
    let out = data.join("backups").join("now.db");
    usher::backup::backup(&app.state.store, &out).await.unwrap();
    assert_eq!(mode(&out), 0o600, "the backup");
    assert_eq!(mode(out.parent().unwrap()), 0o700, "the backups folder");
    assert!(usher::backup::check(&out).await.is_ok());
}
