//! Faults: the process killed in the middle of a burst of redemptions, and media servers that
//! fail while access is being provisioned. Nothing may be lost, doubled or left half-made.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fakes::jellyfin::{ADMIN_NAME, FakeJellyfin, FakeKind};
use reqwest::StatusCode;
use serde_json::json;
use usher::domain::JobState;
use usher::store::Store;

use crate::binary::serve;
use crate::cli::usher_env;
use crate::helpers::*;

const PASSWORD: &str = "a good password";

/// Accounts on the fake that usher could have made (everyone but the seeded administrator).
fn accounts(jf: &FakeJellyfin) -> Vec<fakes::jellyfin::FakeUser> {
    jf.users()
        .into_iter()
        .filter(|u| u.name != ADMIN_NAME)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_usher_during_a_burst_of_redemptions_loses_and_doubles_nothing() {
    media::http::install_crypto();
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let (url, key) = (jf.url(), jf.api_key());
    let code = tokio::task::spawn_blocking(move || {
        let add = usher_env(
            None,
            &d,
            &[
                "server",
                "add",
                "jellyfin",
                "--name",
                "Den",
                "--url",
                &url,
                "--api-key-stdin",
            ],
            &key,
            &[],
        );
        assert!(
            add.status.success(),
            "{}",
            String::from_utf8_lossy(&add.stderr)
        );
        let out = usher_env(
            None,
            &d,
            &[
                "invite", "create", "--server", "Den", "--uses", "30", "--json",
            ],
            "",
            &[],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["code"].as_str().unwrap().to_string()
    })
    .await
    .unwrap();

    // Every call to the server takes a while, so the kill lands while accounts are being made.
    jf.control().set_latency(Duration::from_millis(100));
    let env = [("USHER_REDEMPTIONS_PER_HOUR", "1000".to_string())];
    let served = serve(dir.path(), &env).await;
    let (tx, mut confirmed_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let url = served.url(&format!("/api/v1/invites/{code}/redeem"));
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let res = reqwest::Client::new()
                .post(url)
                .json(&json!({ "username": format!("friend{i}"), "password": PASSWORD }))
                .send()
                .await;
            let status = res.ok().map(|r| r.status());
            if status == Some(StatusCode::CREATED) {
                let _ = tx.send(i);
            }
            (i, status)
        }));
    }
    drop(tx);
    // Kill as soon as the first redemptions are confirmed, with the others still in flight.
    for _ in 0..3 {
        tokio::time::timeout(Duration::from_secs(30), confirmed_rx.recv())
            .await
            .expect("redemptions are confirmed")
            .expect("a confirmation");
    }
    let first_log = tokio::task::spawn_blocking(move || served.kill())
        .await
        .unwrap();
    let mut confirmed = BTreeSet::new();
    let mut cut_off = 0;
    for t in tasks {
        match t.await.unwrap() {
            (i, Some(StatusCode::CREATED)) => {
                confirmed.insert(format!("friend{i}"));
            }
            (_, Some(s)) => assert_eq!(s, StatusCode::GONE, "only used-up is acceptable"),
            (_, None) => cut_off += 1,
        }
    }

    // Restart on the same data dir; the worker takes over what the killed process left, once
    // its leases run out.
    jf.control().set_latency(Duration::ZERO);
    let served = serve(dir.path(), &env).await;
    let store = Store::open(&dir.path().join("usher.db")).await.unwrap();
    let deadline =
        Instant::now() + Duration::from_secs(usher::provisioning::LEASE_SECONDS as u64 + 60);
    while store.next_job_time().await.unwrap().is_some() {
        assert!(
            Instant::now() < deadline,
            "jobs were not resumed; before the kill:\n{first_log}\nafter:\n{}",
            served.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = tokio::task::spawn_blocking(move || served.stop())
        .await
        .unwrap();

    let invite = store.invite_by_code(&code).await.unwrap().unwrap();
    let members = store.invite_members(invite.id).await.unwrap();
    let made = accounts(&jf);
    let context = format!(
        "{} confirmed, {cut_off} cut off by the kill, used {}, {} members, {} accounts\n{log}",
        confirmed.len(),
        invite.used,
        members.len(),
        made.len()
    );
    assert_eq!(made.len() as i64, invite.used, "{context}");
    assert_eq!(members.len() as i64, invite.used, "{context}");
    assert!(invite.used <= 30, "{context}");
    for name in &confirmed {
        assert_eq!(
            made.iter()
                .filter(|u| u.name.eq_ignore_ascii_case(name))
                .count(),
            1,
            "{name} was told yes: exactly one account; {context}"
        );
    }
    for m in &members {
        let username = m.username.clone().unwrap();
        let account = made
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(&username))
            .unwrap_or_else(|| panic!("{username} has no account; {context}"));
        assert!(account.password_matches(PASSWORD), "{username}: {context}");
        let grants = store.member_grants(m.id).await.unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].status.as_str(), "active", "{username}: {context}");
        assert_eq!(grants[0].remote_id.as_deref(), Some(account.id.as_str()));
        for job in store.jobs_of_grant(grants[0].id).await.unwrap() {
            assert_eq!(job.state, JobState::Done, "{username}: {context}");
        }
    }
    for account in &made {
        assert!(
            members
                .iter()
                .any(|m| m.username.as_deref() == Some(account.name.as_str())),
            "{} is on the server but not a member; {context}",
            account.name
        );
    }
    store.close().await;
    let facts = usher::store::files::inspect(&dir.path().join("usher.db"))
        .await
        .unwrap()
        .expect("still a database");
    assert_eq!(facts.integrity, "ok");
}

fn jf_body(name: &str) -> serde_json::Value {
    json!({ "username": name, "password": PASSWORD })
}

/// Runs the worker's loop by hand: moves the clock to each job's due time until none is left.
async fn drain(w: &World) {
    let state = &w.app.state;
    for _ in 0..20 {
        usher::provisioning::run_due(state).await.unwrap();
        match state.store.next_job_time().await.unwrap() {
            None => return,
            Some(t) => {
                let now = w.app.clock.now();
                if t > now {
                    w.app.clock.advance(t - now);
                }
            }
        }
    }
    panic!("jobs still queued after 20 rounds");
}

#[tokio::test]
async fn a_server_failing_during_provisioning_is_retried_and_nothing_is_lost_or_half_made() {
    let w = world_with(|c| c.redemptions_per_hour = 100).await;
    let code = w.invite(&[w.jf_id], "10", |_| {}).await;
    let ctl = w.jf.control();
    let server = w.app.state.store.server(w.jf_id).await.unwrap().unwrap();

    // 500 while creating the account.
    ctl.fail_next("/Users/New", 500);
    let a = w.redeem_api(&code, jf_body("ann")).await;
    // 429 (no Retry-After) while reading the user list, twice in a row.
    ctl.fail_next("/Users", 429);
    ctl.fail_next("/Users", 429);
    let b = w.redeem_api(&code, jf_body("ben")).await;
    // 500 after the account exists, while saving its libraries: the account is taken back.
    ctl.fail_next(&format!("/Users/{}/Policy", w.jf.next_user_id()), 500);
    let c = w.redeem_api(&code, jf_body("cai")).await;
    // The server is down: nothing listens on its port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    w.app
        .state
        .store
        .update_server(w.jf_id, &server.name, &closed_url, None, w.app.clock.now())
        .await
        .unwrap();
    let d = w.redeem_api(&code, jf_body("dee")).await;

    for (name, res) in [("ann", a), ("ben", b), ("cai", c), ("dee", d)] {
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{name}: a busy server is not the person's problem"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["setting_up"], true, "{name}: {body}");
        assert_eq!(body["grants"][0]["status"], "provisioning", "{name}");
    }
    assert!(
        accounts(&w.jf).is_empty(),
        "nothing half-made on the server: {:?}",
        accounts(&w.jf)
    );

    // A retry while the server is still down fails again and stays queued.
    drain_once(&w).await;
    assert!(accounts(&w.jf).is_empty());
    w.app
        .state
        .store
        .update_server(w.jf_id, &server.name, &server.url, None, w.app.clock.now())
        .await
        .unwrap();
    drain(&w).await;

    let names: BTreeSet<String> = accounts(&w.jf).into_iter().map(|u| u.name).collect();
    assert_eq!(
        names,
        BTreeSet::from(["ann", "ben", "cai", "dee"].map(String::from))
    );
    let invite = w
        .app
        .state
        .store
        .invite_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invite.used, 4);
    let members = w.app.state.store.invite_members(invite.id).await.unwrap();
    assert_eq!(members.len(), 4);
    let movies = w.jf.library_by_name("Movies").unwrap().guid;
    for m in members {
        let grants = w.app.state.store.member_grants(m.id).await.unwrap();
        assert_eq!(grants.len(), 1);
        let g = &grants[0];
        assert_eq!(g.status.as_str(), "active", "{}", m.display_name);
        let account = w.jf.user(g.remote_id.as_deref().unwrap()).unwrap();
        assert!(account.password_matches(PASSWORD));
        assert!(!account.all_folders());
        assert!(
            account.enabled_folders().contains(&movies),
            "{}: {:?}",
            account.name,
            account.enabled_folders()
        );
        let jobs = w.app.state.store.jobs_of_grant(g.id).await.unwrap();
        assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:?}");
        assert!(jobs.iter().any(|j| j.attempts > 1), "it was retried");
    }
}

/// One pass of the worker after moving the clock to the next due job.
async fn drain_once(w: &World) {
    if let Some(t) = w.app.state.store.next_job_time().await.unwrap() {
        let now = w.app.clock.now();
        if t > now {
            w.app.clock.advance(t - now);
        }
    }
    usher::provisioning::run_due(&w.app.state).await.unwrap();
}

/// A tmpfs of a few MiB to fill up (mounting needs root, as in CI; elsewhere the test says so
/// and stops).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: usize) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn after_a_full_disk_writes_work_again_once_there_is_space() {
    let Some(disk) = SmallDisk::mount(4 * 1024 * 1024) else {
        eprintln!("not run: mounting a small tmpfs needs root");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must run this test"
        );
        return;
    };
    let store = Store::open(&disk.path().join("usher.db")).await.unwrap();
    store.migrate(START).await.unwrap();
    let event = |i: usize, detail: &str| {
        let detail = detail.to_string();
        let store = store.clone();
        async move {
            store
                .append_event(
                    usher::store::events::NewEvent {
                        actor: "test",
                        action: "test.fill",
                        subject: Some(&format!("row {i}")),
                        detail: Some(&detail),
                    },
                    START,
                )
                .await
        }
    };
    // Fill the disk, then write until the database refuses.
    let filler = disk.path().join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
    }
    assert!(event(0, "x").await.is_err(), "nothing fits");
    assert!(store.probe_write(START).await.is_err(), "the probe sees it");
    {
        // A little room: statements fit in memory, the COMMIT's write does not.
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&filler)
            .unwrap();
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(12 * 1024)).unwrap();
    }
    // Writes in transactions of several statements, as redemptions make them: the COMMIT is
    // what the full disk refuses.
    let big = serde_json::Value::String("x".repeat(16 * 1024));
    let mut refused = false;
    for _ in 0..200 {
        let half = usher::store::notify::NewDelivery {
            channel_id: None,
            recipient: Some("fill@example.com"),
            event: "test.fill",
            lang: "en",
            payload: &big,
        };
        let other = usher::store::notify::NewDelivery { ..half };
        if store.queue_deliveries(&[half, other], START).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "the full disk refused a write");

    std::fs::remove_file(&filler).unwrap();
    // Transactions that end without a commit (a refused redemption, a lost race) must leave no
    // lock behind on whichever pooled connection the failed one was.
    let invite = |code: &'static str| usher::store::invites::NewInvite {
        code,
        label: None,
        max_uses: None,
        expires_at: None,
        access_seconds: None,
        passphrase_hash: None,
        created_by: "test",
        custom_code: true,
        profile_id: None,
        batch: None,
    };
    let made = usher::store::events::NewEvent {
        actor: "test",
        action: "invite.created",
        subject: None,
        detail: None,
    };
    // Taking a code that exists fails inside the transaction, which is dropped unfinished.
    for _ in 0..32 {
        let _ = store
            .insert_invite(invite("TAKEN"), &[], made.clone(), START)
            .await;
    }
    tokio::time::timeout(std::time::Duration::from_secs(5), event(1_000, "after"))
        .await
        .expect("no connection holds the write lock")
        .expect("writes work again once space returns");
    store
        .probe_write(START)
        .await
        .expect("and the probe says so");
    store.close().await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE detail = 'after'")
        .fetch_one(&db_at(&disk.path().join("usher.db")).await)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
