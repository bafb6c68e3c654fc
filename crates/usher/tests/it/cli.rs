use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;

use crate::helpers::*;

/// Runs `usher ARGS --data-dir DIR`; see [`usher_command`] for `now`.
fn usher(
    now: Option<i64>,
    data_dir: &std::path::Path,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    let mut child = usher_command(now)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn admin_create_works_while_serve_runs_and_the_new_admin_can_sign_in() {
    let app = spawn_app().await;
    let dir = app.data_dir();
    let now = app.clock.now();
    let out = tokio::task::spawn_blocking(move || {
        usher(
            Some(now),
            &dir,
            &[
                "admin",
                "create",
                "--username",
                "second",
                "--password-stdin",
            ],
            "another good password\n",
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("admin `second` created"));

    let res = app.login("second", "another good password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/admin").await.status(), StatusCode::OK);
    assert!(
        !usher::auth::setup_token_valid(&app.state.store, &app.setup_token())
            .await
            .unwrap(),
        "creating an admin voids the setup link"
    );
}

#[tokio::test]
async fn admin_create_refuses_a_taken_name_and_a_short_password_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        let first = usher(
            Some(START),
            &d,
            &["admin", "create", "--username", "owner", "--password-stdin"],
            "long enough pw",
        );
        let again = usher(
            Some(START),
            &d,
            &["admin", "create", "--username", "OWNER", "--password-stdin"],
            "long enough pw",
        );
        let short = usher(
            Some(START),
            &d,
            &["admin", "create", "--username", "x", "--password-stdin"],
            "short",
        );
        let empty = usher(
            Some(START),
            &d,
            &["admin", "create", "--username", "y", "--password-stdin"],
            "",
        );
        let common = usher(
            Some(START),
            &d,
            &["admin", "create", "--username", "z", "--password-stdin"],
            "password123",
        );
        (first, again, short, empty, common)
    })
    .await
    .unwrap();
    assert!(!out.4.status.success());
    assert!(
        String::from_utf8_lossy(&out.4.stderr).contains("one of those people use most"),
        "{}",
        String::from_utf8_lossy(&out.4.stderr)
    );
    assert!(out.0.status.success());
    assert!(!out.1.status.success());
    assert!(
        String::from_utf8_lossy(&out.1.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&out.1.stderr)
    );
    assert!(!out.2.status.success());
    assert!(String::from_utf8_lossy(&out.2.stderr).contains("at least 10 characters"));
    assert!(!out.3.status.success());
    assert!(String::from_utf8_lossy(&out.3.stderr).contains("no password on standard input"));
}

#[tokio::test]
async fn reset_password_changes_it_and_signs_the_admin_out() {
    let app = spawn_app().await;
    app.setup_admin().await;
    assert_eq!(app.get("/admin").await.status(), StatusCode::OK);
    let dir = app.data_dir();
    let now = app.clock.now();
    let out = tokio::task::spawn_blocking(move || {
        usher(
            Some(now),
            &dir,
            &[
                "admin",
                "reset-password",
                "--username",
                ADMIN,
                "--password-stdin",
            ],
            "a brand new password",
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        app.get("/admin").await.status(),
        StatusCode::SEE_OTHER,
        "sessions ended"
    );
    assert_eq!(
        app.login(ADMIN, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(ADMIN, "a brand new password").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[test]
fn version_prints_the_crate_version_and_the_commit() {
    let out = usher_command(Some(START))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let commit = printed
        .strip_prefix(&format!("usher {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{printed}"));
    // Built from this checkout: its commit, as git names it.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(head) => assert_eq!(commit, head, "{printed}"),
        None => assert_eq!(commit, "unknown", "{printed}"),
    }
}

#[test]
fn an_invalid_setting_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = usher_command(Some(START))
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("USHER_SESSION_DAYS", "soon")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("USHER_SESSION_DAYS") && err.contains("not a whole number"),
        "{err}"
    );
}

/// The real binary: prints the setup link, serves, and exits cleanly on SIGTERM.
#[test]
fn serve_prints_the_setup_link_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = usher_command(Some(START))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("USHER_LOG", "info")
        .env("USHER_TYPO_SETTING", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let setup = loop {
        let line = lines
            .next()
            .expect("usher exited before printing the setup link")
            .unwrap();
        seen.push(line.clone());
        if let Some(i) = line.find("http://")
            && line.contains("setup?token=")
        {
            break line[i..].trim().to_string();
        }
    };
    assert!(
        seen.iter()
            .any(|l| l.contains("unknown environment variable USHER_TYPO_SETTING")),
        "{seen:?}"
    );
    let res = blocking_get(&setup);
    assert_eq!(res, 200);

    let started = std::time::Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}

/// A tiny blocking GET (the test above runs outside the async runtime).
fn blocking_get(url: &str) -> u16 {
    media::http::install_crypto();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().status().as_u16() })
}

/// Runs each `(args, stdin)` in turn against `app`'s data folder at its clock, off the async
/// runtime, with `env` set; returns what each printed.
pub async fn usher_runs(
    app: &TestApp,
    env: &[(&str, String)],
    runs: &[(&[&str], &str)],
) -> Vec<std::process::Output> {
    let dir = app.data_dir();
    let now = app.clock.now();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let runs: Vec<(Vec<String>, String)> = runs
        .iter()
        .map(|(args, stdin)| {
            (
                args.iter().map(|a| a.to_string()).collect(),
                stdin.to_string(),
            )
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        runs.iter()
            .map(|(args, stdin)| {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                usher_env(Some(now), &dir, &args, stdin, &env)
            })
            .collect()
    })
    .await
    .unwrap()
}

pub fn usher_env(
    now: Option<i64>,
    data_dir: &std::path::Path,
    args: &[&str],
    stdin: &str,
    env: &[(&str, String)],
) -> std::process::Output {
    let mut cmd = usher_command(now);
    cmd.args(args).arg("--data-dir").arg(data_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn server_commands_add_list_show_libraries_and_test() {
    use fakes::jellyfin::{FakeJellyfin, FakeKind};
    let jf = FakeJellyfin::start(FakeKind::Emby).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let (url, key) = (jf.url(), jf.api_key());
    let out = tokio::task::spawn_blocking(move || {
        let add = usher(
            Some(START),
            &d,
            &[
                "server",
                "add",
                "emby",
                "--name",
                "Den",
                "--url",
                &url,
                "--api-key-stdin",
            ],
            &key,
        );
        let no_stdin = usher(
            Some(START),
            &d,
            &["server", "add", "emby", "--name", "X", "--url", &url],
            "",
        );
        let list = usher(Some(START), &d, &["server", "list", "--json"], "");
        let table = usher(Some(START), &d, &["server", "list"], "");
        let libs = usher(
            Some(START),
            &d,
            &["server", "libraries", "den", "--json"],
            "",
        );
        let test = usher(Some(START), &d, &["server", "test", "Den"], "");
        let missing = usher(Some(START), &d, &["server", "test", "Nope"], "");
        (add, no_stdin, list, table, libs, test, missing)
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(out.0.status.success(), "{}", err(&out.0));
    assert!(
        text(&out.0).contains("server `Den` added with 3 libraries"),
        "{}",
        text(&out.0)
    );
    assert!(!out.1.status.success());
    assert!(err(&out.1).contains("--api-key-stdin"));
    let list: serde_json::Value = serde_json::from_str(&text(&out.2)).unwrap();
    assert_eq!(list[0]["name"], "Den");
    assert_eq!(list[0]["kind"], "emby");
    assert_eq!(list[0]["library_count"], 3);
    assert!(text(&out.3).starts_with("NAME"));
    let libs: serde_json::Value = serde_json::from_str(&text(&out.4)).unwrap();
    let movies = libs
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "Movies")
        .unwrap();
    assert_eq!(movies["type"], "movies");
    assert_eq!(
        movies["sharing_id"].as_str().unwrap().len(),
        32,
        "Emby Guid: {movies}"
    );
    assert_ne!(movies["sharing_id"], movies["local_key"]);
    assert!(out.5.status.success(), "{}", err(&out.5));
    assert!(
        text(&out.5).starts_with("ok: Emby Home Emby"),
        "{}",
        text(&out.5)
    );
    assert!(!out.6.status.success());
    assert!(err(&out.6).contains("no server named `Nope`"));
}

#[tokio::test]
async fn server_add_plex_reads_the_token_from_stdin_and_explains_a_bad_one() {
    use fakes::plex::{FakePlex, demo};
    let plex = FakePlex::seeded_demo().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let url = plex.server_url(demo::SERVER_ID);
    let env = vec![
        ("USHER_PLEX_TV_URL", plex.plex_tv_url()),
        ("USHER_PLEX_CLIENTS_URL", plex.clients_url()),
        ("USHER_PLEX_APP_URL", plex.app_url()),
    ];
    let out = tokio::task::spawn_blocking(move || {
        let bad = usher_env(
            Some(START),
            &d,
            &[
                "server",
                "add",
                "plex",
                "--name",
                "P",
                "--url",
                &url,
                "--token-stdin",
            ],
            "nope",
            &env,
        );
        let good = usher_env(
            Some(START),
            &d,
            &[
                "server",
                "add",
                "plex",
                "--name",
                "P",
                "--url",
                &url,
                "--token-stdin",
            ],
            demo::OWNER_TOKEN,
            &env,
        );
        let libs = usher_env(
            Some(START),
            &d,
            &["server", "libraries", "P", "--json"],
            "",
            &env,
        );
        (bad, good, libs)
    })
    .await
    .unwrap();
    assert!(!out.0.status.success());
    let bad = String::from_utf8_lossy(&out.0.stderr);
    assert!(
        bad.contains("refused the token") && !bad.contains("nope"),
        "{bad}"
    );
    assert!(
        out.1.status.success(),
        "{}",
        String::from_utf8_lossy(&out.1.stderr)
    );
    let libs: serde_json::Value = serde_json::from_slice(&out.2.stdout).unwrap();
    let ids: Vec<&str> = libs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sharing_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"81234001"), "global ids: {ids:?}");
}

#[tokio::test]
async fn invite_commands_create_list_disable_and_delete() {
    use fakes::jellyfin::{FakeJellyfin, FakeKind};
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let (url, key) = (jf.url(), jf.api_key());
    let out = tokio::task::spawn_blocking(move || {
        let add = usher(
            Some(START),
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
        );
        assert!(
            add.status.success(),
            "{}",
            String::from_utf8_lossy(&add.stderr)
        );
        let create = usher(
            Some(START),
            &d,
            &[
                "invite",
                "create",
                "--server",
                "Den",
                "--libraries",
                "Movies,Shows",
                "--uses",
                "3",
                "--expires",
                "7d",
                "--duration",
                "30d",
                "--label",
                "Book club",
                "--allow-downloads",
                "--json",
            ],
            "",
        );
        let plain = usher(
            Some(START),
            &d,
            &[
                "invite",
                "create",
                "--server",
                "Den",
                "--code",
                "plain-code",
            ],
            "",
        );
        let bad_server = usher(
            Some(START),
            &d,
            &["invite", "create", "--server", "Nope"],
            "",
        );
        let bad_library = usher(
            Some(START),
            &d,
            &[
                "invite",
                "create",
                "--server",
                "Den",
                "--libraries",
                "Cartoons",
            ],
            "",
        );
        let bad_uses = usher(
            Some(START),
            &d,
            &["invite", "create", "--server", "Den", "--uses", "many"],
            "",
        );
        let disable = usher(Some(START), &d, &["invite", "disable", "plain-code"], "");
        let list = usher(Some(START), &d, &["invite", "list", "--json"], "");
        let delete = usher(Some(START), &d, &["invite", "delete", "PLAIN-CODE"], "");
        let list_after = usher(Some(START), &d, &["invite", "list"], "");
        (
            create,
            plain,
            bad_server,
            bad_library,
            bad_uses,
            disable,
            list,
            delete,
            list_after,
        )
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(out.0.status.success(), "{}", err(&out.0));
    let created: serde_json::Value = serde_json::from_str(&text(&out.0)).unwrap();
    let code = created["code"].as_str().unwrap();
    assert_eq!(code.len(), 10);
    assert!(
        created["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/i/{code}"))
    );
    assert_eq!(created["max_uses"], 3);
    assert_eq!(created["access_days"], 30);
    assert!(out.1.status.success(), "{}", err(&out.1));
    assert!(
        text(&out.1).trim().ends_with("/i/PLAIN-CODE"),
        "plain output is the link"
    );
    assert!(err(&out.2).contains("no server named `Nope`"));
    assert!(err(&out.3).contains("Cartoons"));
    // The sentence the invite form and the API give, with what was wrong.
    assert!(
        err(&out.4).contains("Uses must be a number from 1 to 1000, or unlimited."),
        "{}",
        err(&out.4)
    );
    assert!(text(&out.5).contains("invite PLAIN-CODE disabled"));
    let list: serde_json::Value = serde_json::from_str(&text(&out.6)).unwrap();
    let plain = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "PLAIN-CODE")
        .unwrap();
    assert_eq!(plain["badges"], serde_json::json!(["disabled"]));
    assert!(out.7.status.success());
    assert!(!text(&out.8).contains("PLAIN-CODE") && text(&out.8).contains(code));
}

#[tokio::test]
async fn request_commands_list_approve_and_decline() {
    let w = world().await;
    w.ask(&[("Ola", "alice@example.com"), ("Pia", "pia@example.com")])
        .await;
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let plex = w.plex.plex_tv_url();
    let out = tokio::task::spawn_blocking(move || {
        let env = vec![
            ("USHER_PLEX_TV_URL", plex.clone()),
            ("USHER_PLEX_CLIENTS_URL", plex.clone()),
            ("USHER_PLEX_APP_URL", plex),
        ];
        let list = usher_env(Some(now), &dir, &["request", "list", "--json"], "", &env);
        let approve = usher_env(Some(now), &dir, &["request", "approve", "1"], "", &env);
        let again = usher_env(Some(now), &dir, &["request", "approve", "1"], "", &env);
        let decline = usher_env(
            Some(now),
            &dir,
            &["request", "decline", "2", "--reason", "full"],
            "",
            &env,
        );
        (list, approve, again, decline)
    })
    .await
    .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.0.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(
        out.1.status.success(),
        "{}",
        String::from_utf8_lossy(&out.1.stderr)
    );
    assert!(String::from_utf8_lossy(&out.1.stdout).contains("approved"));
    assert!(
        !out.2.status.success()
            && String::from_utf8_lossy(&out.2.stderr).contains("already approved")
    );
    assert!(out.3.status.success());
    assert_eq!(w.plex.shares_of(fakes::plex::demo::SERVER_ID).len(), 1);
}

#[tokio::test]
async fn an_audiobookshelf_server_is_added_and_its_libraries_listed_from_the_cli() {
    let abs = fakes::audiobookshelf::FakeAudiobookshelf::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let (url, key) = (abs.url(), abs.api_key());
    let (add, libraries) = tokio::task::spawn_blocking(move || {
        let add = usher(
            Some(START),
            &d,
            &[
                "server",
                "add",
                "audiobookshelf",
                "--name",
                "Shelf",
                "--url",
                &url,
                "--api-key-stdin",
            ],
            &key,
        );
        let libraries = usher(
            Some(START),
            &d,
            &["server", "libraries", "Shelf", "--json"],
            "",
        );
        (add, libraries)
    })
    .await
    .unwrap();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(add.status.success(), "{}", err(&add));
    let listed: serde_json::Value = serde_json::from_slice(&libraries.stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{listed}");
    assert!(names.contains(&"Audiobooks") && names.contains(&"Podcasts"));
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["sharing_id"].as_str())
        .collect();
    assert!(
        ids.contains(&abs.library_id("Audiobooks").as_str()),
        "{listed}"
    );
}

#[tokio::test]
async fn a_kavita_server_is_added_from_the_cli_and_a_wrong_key_is_named() {
    let kavita = fakes::kavita::FakeKavita::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let (url, key) = (kavita.url(), kavita.api_key());
    let (wrong, add, libraries) = tokio::task::spawn_blocking(move || {
        let args = |name: &'static str| {
            [
                "server",
                "add",
                "kavita",
                "--name",
                name,
                "--url",
                url.as_str(),
                "--api-key-stdin",
            ]
            .map(String::from)
        };
        let run = |args: [String; 8], stdin: &str| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            usher(Some(START), &d, &args, stdin)
        };
        let wrong = run(args("Wrong"), "not-the-key");
        let add = run(args("Reading Room"), &key);
        let libraries = usher(
            Some(START),
            &d,
            &["server", "libraries", "Reading Room", "--json"],
            "",
        );
        (wrong, add, libraries)
    })
    .await
    .unwrap();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!wrong.status.success());
    assert!(err(&wrong).contains("refused"), "{}", err(&wrong));
    assert!(add.status.success(), "{}", err(&add));
    let listed: serde_json::Value = serde_json::from_slice(&libraries.stdout).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["sharing_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 3, "{listed}");
    assert!(
        ids.contains(&kavita.library_id("Comics").as_str()),
        "{listed}"
    );
}

#[tokio::test]
async fn navidrome_is_added_with_its_administrators_name_and_the_password_on_standard_input() {
    let nd = fakes::navidrome::FakeNavidrome::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let url = nd.url();
    let (no_name, add) = tokio::task::spawn_blocking(move || {
        let base = [
            "server",
            "add",
            "navidrome",
            "--name",
            "Shop",
            "--url",
            &url,
        ];
        let no_name = usher(
            Some(START),
            &d,
            &[&base[..], &["--password-stdin"]].concat(),
            "usher-demo\n",
        );
        let add = usher(
            Some(START),
            &d,
            &[&base[..], &["--username", "admin", "--password-stdin"]].concat(),
            "usher-demo\n",
        );
        (no_name, add)
    })
    .await
    .unwrap();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!no_name.status.success());
    assert!(err(&no_name).contains("user name"), "{}", err(&no_name));
    assert!(add.status.success(), "{}", err(&add));
    assert!(String::from_utf8_lossy(&add.stdout).contains("Music"));
}

#[tokio::test]
async fn api_keys_are_made_with_a_scope_listed_and_revoked_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let (bad, made, listed, revoked, again) = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| usher(Some(START), &d, args, "");
        let bad = run(&["api-key", "create", "--name", "ha", "--scope", "admin"]);
        let made = run(&[
            "api-key", "create", "--name", "ha", "--scope", "read", "--json",
        ]);
        let listed = run(&["api-key", "list", "--json"]);
        let revoked = run(&["api-key", "revoke", "1"]);
        let again = run(&["api-key", "revoke", "1"]);
        (bad, made, listed, revoked, again)
    })
    .await
    .unwrap();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!bad.status.success());
    assert!(
        err(&bad).contains("Choose what the key may do"),
        "{}",
        err(&bad)
    );
    assert!(made.status.success(), "{}", err(&made));
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    assert!(made["key"].as_str().unwrap().starts_with("ush_"));
    assert_eq!(made["scope"], "read");
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["name"], "ha");
    assert!(listed[0].get("key").is_none(), "never listed again");
    assert!(revoked.status.success(), "{}", err(&revoked));
    assert!(!again.status.success());
}

#[tokio::test]
async fn a_server_is_edited_rescanned_configured_and_removed_from_the_cli() {
    let jf = fakes::jellyfin::FakeJellyfin::start(fakes::jellyfin::FakeKind::Jellyfin).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let (url, key) = (jf.url(), jf.api_key());
    let outs = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str], stdin: &str| usher(Some(START), &d, args, stdin);
        vec![
            run(
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
            ),
            run(
                &[
                    "server",
                    "edit",
                    "Den",
                    "--new-name",
                    "Attic",
                    "--friend-url",
                    "https://watch.example.com",
                ],
                "",
            ),
            run(&["server", "rescan", "Attic"], ""),
            run(
                &[
                    "server",
                    "defaults",
                    "Attic",
                    "--allow-downloads",
                    "true",
                    "--max-streams",
                    "2",
                ],
                "",
            ),
            run(&["server", "defaults", "Attic", "--max-streams", "500"], ""),
            run(
                &[
                    "server",
                    "choose",
                    "Attic",
                    "--offer",
                    "Movies,Shows",
                    "--precheck",
                    "movies",
                ],
                "",
            ),
            run(&["server", "choose", "Attic", "--offer", "Cartoons"], ""),
            run(
                &[
                    "server",
                    "expiry",
                    "Attic",
                    "--action",
                    "disable_then_remove",
                    "--after-days",
                    "10",
                ],
                "",
            ),
            run(&["server", "list", "--json"], ""),
            run(&["server", "libraries", "Attic", "--json"], ""),
            run(&["server", "show", "Attic"], ""),
            run(&["server", "show", "Attic", "--json"], ""),
            run(&["server", "remove", "Attic"], ""),
            run(&["server", "remove", "Attic", "--yes"], ""),
            run(&["server", "list", "--json"], ""),
        ]
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    for i in [0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 13, 14] {
        assert!(outs[i].status.success(), "step {i}: {}", err(&outs[i]));
    }
    assert!(err(&outs[4]).contains("from 1 to 100"), "{}", err(&outs[4]));
    assert!(
        err(&outs[6]).contains("`Cartoons` is not a library"),
        "{}",
        err(&outs[6])
    );
    assert!(err(&outs[12]).contains("--yes"), "{}", err(&outs[12]));
    let list: serde_json::Value = serde_json::from_str(&text(&outs[8])).unwrap();
    let s = &list[0];
    assert_eq!(s["name"], "Attic");
    assert_eq!(s["friend_url"], "https://watch.example.com");
    assert_eq!(s["defaults"]["allow_downloads"], true);
    assert_eq!(s["defaults"]["max_sessions"], 2);
    assert_eq!(s["expiry"]["action"], "disable_then_remove");
    assert_eq!(s["expiry"]["remove_after_days"], 10);
    let libraries: serde_json::Value = serde_json::from_str(&text(&outs[9])).unwrap();
    let flags: Vec<(String, bool, bool)> = libraries
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["offered"].as_bool().unwrap(),
                l["default"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(flags.contains(&("Movies".into(), true, true)), "{flags:?}");
    assert!(flags.contains(&("Shows".into(), true, false)), "{flags:?}");
    assert!(
        flags.iter().any(|(n, o, _)| n == "Music" && !o),
        "{flags:?}"
    );
    assert_eq!(text(&outs[14]).trim(), "[]");
    assert!(
        text(&outs[10]).contains("kind: jellyfin") && text(&outs[10]).contains("PRE-CHECKED"),
        "{}",
        text(&outs[10])
    );
    let shown: serde_json::Value = serde_json::from_str(&text(&outs[11])).unwrap();
    assert_eq!(shown["name"], "Attic");
    assert_eq!(shown["libraries"], libraries);
}

#[tokio::test]
async fn a_member_is_shown_noted_changed_paused_resumed_and_removed_from_the_cli() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let res = w
        .redeem_api(
            &code,
            serde_json::json!({"username": "ada", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let outs = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| usher(Some(now), &dir, args, "");
        vec![
            run(&["member", "notes", "1", "--set", "Ada's cousin"]),
            run(&[
                "member",
                "access",
                "1",
                "--server",
                "Home Jellyfin",
                "--libraries",
                "Movies",
                "--allow-downloads",
                "false",
            ]),
            run(&[
                "member",
                "access",
                "1",
                "--server",
                "Home Jellyfin",
                "--libraries",
                "Cartoons",
            ]),
            run(&["member", "pause", "1", "--server", "Home Jellyfin"]),
            run(&["member", "list", "--json", "--status", "disabled"]),
            run(&["member", "list", "--status", "sleepy"]),
            run(&["member", "resume", "1", "--server", "Home Jellyfin"]),
            run(&["member", "show", "1"]),
            run(&["member", "show", "1", "--json"]),
            run(&["member", "remove", "1", "--server", "Home Plex"]),
            run(&["member", "remove", "1", "--server", "Home Jellyfin"]),
        ]
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    for i in [0, 1, 3, 4, 6, 7, 8, 10] {
        assert!(outs[i].status.success(), "step {i}: {}", err(&outs[i]));
    }
    assert!(
        err(&outs[2]).contains("`Cartoons` is not a library"),
        "{}",
        err(&outs[2])
    );
    let paused: serde_json::Value = serde_json::from_str(&text(&outs[4])).unwrap();
    assert_eq!(paused.as_array().unwrap().len(), 1, "{paused}");
    assert!(
        err(&outs[5]).contains("status is provisioning"),
        "{}",
        err(&outs[5])
    );
    assert!(
        text(&outs[7]).contains("notes: Ada's cousin"),
        "{}",
        text(&outs[7])
    );
    assert!(
        text(&outs[7]).contains("libraries Movies"),
        "{}",
        text(&outs[7])
    );
    let shown: serde_json::Value = serde_json::from_str(&text(&outs[8])).unwrap();
    assert_eq!(shown["grants"][0]["permissions"]["allow_downloads"], false);
    assert!(
        err(&outs[9]).contains("no access on Home Plex"),
        "{}",
        err(&outs[9])
    );
    assert!(w.jf.user_by_name("ada").is_none(), "removed on the server");
}

#[tokio::test]
async fn an_invite_is_shown_drawn_exported_and_listed_by_filter_from_the_cli() {
    let w = world().await;
    let code = w
        .invite(&[w.jf_id], "1", |i| i.label = "for Eve".into())
        .await;
    let res = w
        .redeem_api(
            &code,
            serde_json::json!({"username": "eve", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let other = w.invite(&[w.jf_id], "3", |_| {}).await;
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let c = code.clone();
    let outs = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| usher(Some(now), &dir, args, "");
        vec![
            run(&["invite", "show", &c.to_lowercase()]),
            run(&["invite", "show", &c, "--json"]),
            run(&["invite", "qr", &c]),
            run(&["invite", "qr", &c, "--svg"]),
            run(&["invite", "export"]),
            run(&["invite", "list", "--json", "--filter", "used_up"]),
            run(&["invite", "list", "--filter", "sleepy"]),
            run(&["invite", "show", "NOPE1234"]),
        ]
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    for (i, out) in outs.iter().enumerate().take(6) {
        assert!(out.status.success(), "step {i}: {}", err(out));
    }
    assert!(text(&outs[0]).contains("by eve"), "{}", text(&outs[0]));
    assert!(
        text(&outs[0]).contains("Home Jellyfin"),
        "{}",
        text(&outs[0])
    );
    let shown: serde_json::Value = serde_json::from_str(&text(&outs[1])).unwrap();
    assert_eq!(shown["label"], "for Eve");
    assert!(text(&outs[2]).contains('█') && text(&outs[2]).contains(&format!("/i/{code}")));
    assert!(text(&outs[3]).contains("<svg"));
    assert!(text(&outs[4]).contains(&code) && text(&outs[4]).contains(&other));
    let used_up: serde_json::Value = serde_json::from_str(&text(&outs[5])).unwrap();
    let codes: Vec<&str> = used_up
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert_eq!(codes, vec![code.as_str()]);
    assert!(
        err(&outs[6]).contains("--filter is all"),
        "{}",
        err(&outs[6])
    );
    assert!(!outs[7].status.success());
}

#[tokio::test]
async fn the_audit_log_and_the_numbers_come_from_the_cli() {
    let w = world().await;
    w.invite(&[w.jf_id], "1", |_| {}).await;
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let outs = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| usher(Some(now), &dir, args, "");
        vec![
            run(&["events", "--json", "--action", "invite.*"]),
            run(&["events", "--csv", "--server", "Home Jellyfin"]),
            run(&["events", "--from", "tomorrow"]),
            run(&["events"]),
            run(&["stats", "--json"]),
            run(&["stats"]),
        ]
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    let events: serde_json::Value = serde_json::from_str(&text(&outs[0])).unwrap();
    assert!(!events.as_array().unwrap().is_empty(), "{events}");
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("invite."))
    );
    assert!(
        text(&outs[1]).starts_with("id,at,actor,action"),
        "{}",
        text(&outs[1])
    );
    assert!(!outs[2].status.success());
    assert!(err(&outs[2]).contains("--from"), "{}", err(&outs[2]));
    assert!(
        outs[3].status.success() && text(&outs[3]).contains("invite."),
        "{}",
        text(&outs[3])
    );
    let stats: serde_json::Value = serde_json::from_str(&text(&outs[4])).unwrap();
    assert_eq!(stats["pending_requests"], 0, "{stats}");
    assert!(
        text(&outs[5]).contains("requests waiting: 0"),
        "{}",
        text(&outs[5])
    );
}

#[tokio::test]
async fn access_profiles_are_saved_shown_copied_applied_and_deleted_from_the_cli() {
    let w = world().await;
    let first = w.app.state.store.libraries(w.jf_id).await.unwrap()[0]
        .remote_id
        .clone();
    let body = serde_json::json!({"name": "Family", "duration": "30d", "servers": [
        {"server_id": w.jf_id, "libraries": [first], "permissions": {"allow_downloads": true}}
    ]})
    .to_string();
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let outs = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str], stdin: &str| usher(Some(now), &dir, args, stdin);
        vec![
            run(&["profile", "save"], &body),
            run(&["profile", "save"], "{\"name\": 3}"),
            run(&["profile", "show", "1"], ""),
            run(&["profile", "duplicate", "1"], ""),
            run(&["profile", "apply", "1"], ""),
            run(&["profile", "list"], ""),
            run(&["profile", "delete", "2"], ""),
            run(&["profile", "list", "--json"], ""),
        ]
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    for i in [0, 2, 3, 4, 5, 6, 7] {
        assert!(outs[i].status.success(), "step {i}: {}", err(&outs[i]));
    }
    assert!(err(&outs[1]).contains("not a profile"), "{}", err(&outs[1]));
    let shown: serde_json::Value = serde_json::from_str(&text(&outs[2])).unwrap();
    assert_eq!(shown["servers"][0]["permissions"]["allow_downloads"], true);
    assert!(text(&outs[5]).contains("Family (2)"), "{}", text(&outs[5]));
    let left: serde_json::Value = serde_json::from_str(&text(&outs[7])).unwrap();
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["name"], "Family");
}

#[tokio::test]
async fn a_request_is_approved_with_chosen_libraries_and_duration_and_an_invite_names_libraries_per_server()
 {
    let w = world().await;
    w.ask(&[("Ola", "alice@example.com"), ("Pia", "bob@example.com")])
        .await;
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let plex = w.plex.plex_tv_url();
    let outs = tokio::task::spawn_blocking(move || {
        let env = vec![
            ("USHER_PLEX_TV_URL", plex.clone()),
            ("USHER_PLEX_CLIENTS_URL", plex.clone()),
            ("USHER_PLEX_APP_URL", plex),
        ];
        let run = |args: &[&str]| usher_env(Some(now), &dir, args, "", &env);
        vec![
            run(&[
                "request",
                "approve",
                "2",
                "--server",
                "Home Plex",
                "--libraries",
                "Cartoons",
            ]),
            run(&["request", "approve", "2", "--duration", "soon"]),
            run(&[
                "request",
                "approve",
                "1",
                "--libraries-on",
                "home plex=TV Shows",
                "--duration",
                "30d",
                "--json",
            ]),
            run(&[
                "invite",
                "create",
                "--libraries-on",
                "Home Plex=Music",
                "--libraries-on",
                "Home Jellyfin=Shows",
                "--json",
            ]),
            run(&["invite", "create", "--libraries-on", "Home Plex"]),
        ]
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        !outs[0].status.success() && err(&outs[0]).contains("Cartoons"),
        "{}",
        err(&outs[0])
    );
    assert!(
        !outs[1].status.success() && err(&outs[1]).contains("30d"),
        "{}",
        err(&outs[1])
    );
    // The refused approvals left the request waiting.
    let pia = w
        .app
        .state
        .store
        .request(usher::domain::RequestId(2))
        .await
        .unwrap()
        .unwrap();
    assert!(pia.status.is_pending());
    assert!(outs[2].status.success(), "{}", err(&outs[2]));
    let approved: serde_json::Value = serde_json::from_str(&text(&outs[2])).unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], "cli");
    assert_eq!(approved["member_id"], 1);
    let shares = w.plex.shares_of(fakes::plex::demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].section_ids, vec![81_234_002]);
    let grants = w
        .app
        .state
        .store
        .member_grants(usher::domain::MemberId(1))
        .await
        .unwrap();
    assert_eq!(grants.len(), 1);
    // The CLI's clock starts at the test's and runs on at the real rate, so on a loaded machine
    // the approval can land a second or two later: the access runs thirty days from the decision.
    let decided = w
        .app
        .state
        .store
        .request(usher::domain::RequestId(1))
        .await
        .unwrap()
        .unwrap()
        .decided_at
        .unwrap();
    assert!((now..now + 60).contains(&decided), "{decided} vs {now}");
    assert_eq!(grants[0].expires_at, Some(decided + 30 * 86_400));

    assert!(outs[3].status.success(), "{}", err(&outs[3]));
    let made: serde_json::Value = serde_json::from_str(&text(&outs[3])).unwrap();
    let invite = w
        .app
        .state
        .store
        .invite_by_code(made["code"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut given: Vec<(String, Vec<String>)> = w
        .app
        .state
        .store
        .invite_targets(invite.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| {
            let names = t
                .libraries
                .iter()
                .map(|id| t.library_names.get(id).cloned().unwrap_or_default())
                .collect();
            (t.server_name, names)
        })
        .collect();
    given.sort();
    assert_eq!(
        given,
        vec![
            ("Home Jellyfin".to_string(), vec!["Shows".to_string()]),
            ("Home Plex".to_string(), vec!["Music".to_string()]),
        ]
    );
    assert!(
        err(&outs[4]).contains("SERVER=LIB,LIB"),
        "{}",
        err(&outs[4])
    );
}

#[tokio::test]
async fn demo_refuses_a_data_folder_that_holds_usher_data_and_says_what_to_do() {
    let app = spawn_app().await;
    let dir = app.data_dir();
    let out = tokio::task::spawn_blocking(move || {
        usher(Some(START), &dir, &["demo", "--bind", "127.0.0.1:0"], "")
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("starts from an empty data folder") && err.contains("leave out --data-dir"),
        "{err}"
    );
    // The owner's data is untouched: nothing was added by the refused demo.
    assert!(
        app.state
            .store
            .admin_by_name("demo")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn admin_roles_change_from_the_cli_and_usher_always_keeps_an_owner() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let dir = app.data_dir();
    let now = app.clock.now();
    let out = tokio::task::spawn_blocking(move || {
        let create = usher(
            Some(now),
            &dir,
            &[
                "admin",
                "create",
                "--username",
                "helper",
                "--role",
                "approver",
                "--password-stdin",
            ],
            "a good long password",
        );
        let bad_role = usher(Some(now), &dir, &["admin", "role", "helper", "boss"], "");
        let demote_last = usher(Some(now), &dir, &["admin", "role", ADMIN, "admin"], "");
        let remove_last = usher(Some(now), &dir, &["admin", "remove", ADMIN], "");
        let promote = usher(Some(now), &dir, &["admin", "role", "helper", "owner"], "");
        let demote = usher(Some(now), &dir, &["admin", "role", ADMIN, "admin"], "");
        let list = usher(Some(now), &dir, &["admin", "list", "--json"], "");
        (
            create,
            bad_role,
            demote_last,
            remove_last,
            promote,
            demote,
            list,
        )
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert!(out.0.status.success(), "{}", text(&out.0));
    assert!(text(&out.0).contains("(approver)"));
    assert!(!out.1.status.success());
    assert!(text(&out.1).contains("not a role"), "{}", text(&out.1));
    for refused in [&out.2, &out.3] {
        assert!(!refused.status.success());
        assert!(
            text(refused).contains("usher needs an owner"),
            "{}",
            text(refused)
        );
    }
    assert!(out.4.status.success(), "{}", text(&out.4));
    assert!(out.5.status.success(), "{}", text(&out.5));
    let list: serde_json::Value = serde_json::from_slice(&out.6.stdout).unwrap();
    let roles: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["username"].as_str().unwrap().to_string(),
                a["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("helper".into(), "owner".into()),
            (ADMIN.into(), "admin".into())
        ]
    );
    // The signed-in browser took the new role at once: the owner-only pages are closed to it.
    assert_eq!(
        app.get("/admin/api-keys").await.status(),
        StatusCode::FORBIDDEN
    );
    let events = app.state.store.recent_events(10).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "admin.role_changed"
                && e.detail.as_deref() == Some("owner → admin"))
    );
}

#[tokio::test]
async fn an_operator_handles_sessions_links_and_telegram_from_the_cli() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let mut settings = app.state.store.settings().await.unwrap();
    settings.telegram.allowed_ids = vec![4242];
    app.state
        .store
        .save_settings(&settings, app.clock.now())
        .await
        .unwrap();
    let dir = app.data_dir();
    let now = app.clock.now();
    let out = tokio::task::spawn_blocking(move || {
        let sessions = usher(Some(now), &dir, &["admin", "sessions", ADMIN, "--json"], "");
        let invite = usher(
            Some(now),
            &dir,
            &["admin", "invite", "--role", "admin", "--hours", "2"],
            "",
        );
        let invites = usher(Some(now), &dir, &["admin", "invites"], "");
        let not_allowed = usher(Some(now), &dir, &["admin", "telegram", ADMIN, "99"], "");
        let linked = usher(Some(now), &dir, &["admin", "telegram", ADMIN, "4242"], "");
        let sign_out = usher(Some(now), &dir, &["admin", "sign-out", ADMIN], "");
        (sessions, invite, invites, not_allowed, linked, sign_out)
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let sessions: serde_json::Value = serde_json::from_slice(&out.0.stdout).unwrap();
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{}", text(&out.0));
    assert!(
        sessions[0].get("id_hash").is_none(),
        "the cookie's hash stays inside"
    );
    let link = String::from_utf8_lossy(&out.1.stdout).trim().to_string();
    assert!(link.starts_with(&format!("{}/team/", app.base)), "{link}");
    assert!(text(&out.2).contains("open until"), "{}", text(&out.2));
    assert!(!out.3.status.success());
    assert!(
        text(&out.3).contains("not allowed to use the bot"),
        "{}",
        text(&out.3)
    );
    assert!(out.4.status.success(), "{}", text(&out.4));
    assert!(
        text(&out.5).contains("signed out everywhere (1 sessions)"),
        "{}",
        text(&out.5)
    );
    // The browser is signed out, and the link made from the terminal works in one.
    let res = app.get("/admin").await;
    assert!(location(&res).starts_with("/login"));
    let (status, page) = {
        let res = cookie_client().get(&link).send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("as Admin"), "{page}");
}
