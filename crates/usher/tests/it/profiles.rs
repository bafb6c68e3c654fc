use fakes::plex::demo;
use reqwest::StatusCode;
use serde_json::json;
use usher::domain::ids::*;

use crate::helpers::*;

/// Creates a profile through the admin form; returns its id.
async fn profile(w: &World, name: &str, extra: &[(&str, &str)]) -> ProfileId {
    let mut fields = vec![
        ("name", name),
        ("description", "Test tier"),
        ("duration", "30d"),
    ];
    fields.extend_from_slice(extra);
    let res = w.app.post_form("/admin/profiles", &fields).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    id_from_location(&res)
}

fn jf_movies(w: &World) -> String {
    w.jf.library_by_name("Movies")
        .unwrap()
        .api_id(fakes::jellyfin::FakeKind::Jellyfin)
        .to_string()
}

#[tokio::test]
async fn profiles_are_created_duplicated_edited_and_deleted_with_reassignment() {
    let w = world().await;
    let jf = w.jf_id.to_string();
    let movies = jf_movies(&w);
    let family = profile(
        &w,
        "Family",
        &[("server", &jf), (&format!("lib_{jf}"), &movies)],
    )
    .await;
    let (_, page) = w
        .app
        .get_text(&format!("/admin/profiles/{family}?done=created"))
        .await;
    assert!(page.contains("Profile created") && page.contains("value=\"Family\""));

    // Bad input is explained.
    let res = w
        .app
        .post_form(
            "/admin/profiles",
            &[
                ("name", ""),
                ("server", &jf),
                (&format!("lib_{jf}"), &movies),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = w
        .app
        .post_form(
            "/admin/profiles",
            &[
                ("name", "family"),
                ("server", &jf),
                (&format!("lib_{jf}"), &movies),
            ],
        )
        .await;
    assert!(res.text().await.unwrap().contains("already exists"));

    let res = w
        .app
        .post_form(&format!("/admin/profiles/{family}/duplicate"), &[])
        .await;
    let copy = id_from_location(&res);
    assert_eq!(
        w.app.state.store.profile(copy).await.unwrap().unwrap().name,
        "Family (2)"
    );

    // In use: deleting needs a reassignment.
    let code = w.invite(&[], "2", |i| i.profile = Some(family)).await;
    assert_eq!(
        w.redeem_api(
            &code,
            json!({"username": "fam", "password": "a good password"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let res = w
        .app
        .post_form(&format!("/admin/profiles/{family}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("used by 1 invites and 1 members")
    );
    let res = w
        .app
        .post_form(
            &format!("/admin/profiles/{family}/delete"),
            &[("reassign", &copy.to_string())],
        )
        .await;
    assert_eq!(location(&res), "/admin/profiles");
    let usage = w.app.state.store.profiles().await.unwrap();
    assert_eq!((usage.len(), usage[0].invites, usage[0].members), (1, 1, 1));
}

#[tokio::test]
async fn an_invite_from_a_profile_grants_its_libraries_and_duration() {
    let w = world().await;
    let jf = w.jf_id.to_string();
    let movies = jf_movies(&w);
    let kids = profile(
        &w,
        "Kids",
        &[
            ("server", &jf),
            (&format!("lib_{jf}"), &movies),
            (&format!("max_sessions_{jf}"), "1"),
        ],
    )
    .await;
    // The invite form with a profile ignores the server boxes.
    let plex = w.plex_id.to_string();
    let res = w
        .app
        .post_form(
            "/admin/invites",
            &[
                ("profile", &kids.to_string()),
                ("server", &plex),
                ("lib_1", "81234001"),
                ("uses", "1"),
                ("expires", "7d"),
            ],
        )
        .await;
    let code = location(&res)
        .split('/')
        .nth(3)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let res = w
        .redeem_api(
            &code,
            json!({"username": "kiddo", "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["grants"].as_array().unwrap().len(),
        1,
        "only the profile's server"
    );
    assert_eq!(
        body["member"]["expires_at"], "2026-12-22T00:00:00Z",
        "30 days from the profile"
    );
    let user = w.jf.user_by_name("kiddo").unwrap();
    assert_eq!(user.enabled_folders(), vec![movies]);
    assert_eq!(user.policy_i64("MaxActiveSessions"), Some(1));
}

#[tokio::test]
async fn approvals_from_a_profile_on_the_web() {
    let w = world().await;
    let plex = w.plex_id.to_string();
    let tier = profile(
        &w,
        "Movies only",
        &[("server", &plex), (&format!("lib_{plex}"), "81234001")],
    )
    .await;
    usher::requests::submit(
        &w.app.state,
        &usher::requests::RequestInput {
            name: "Ana".into(),
            email: "alice@example.com".into(),
            ..Default::default()
        },
        "10.3.3.3",
    )
    .await
    .unwrap();
    let (_, page) = w.app.get_text("/admin/requests").await;
    assert!(page.contains("Movies only"));
    let res = w
        .app
        .post_form(
            "/admin/requests/1/approve",
            &[("profile", &tier.to_string())],
        )
        .await;
    assert_eq!(location(&res), "/admin/requests?done=approved#request-1");
    let shares = w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    let s = format!("{:?}", shares[0]);
    assert!(s.contains("81234001") && !s.contains("81234002"), "{s}");
    let usage = w.app.state.store.profiles().await.unwrap();
    assert_eq!(usage[0].members, 1, "the member keeps the profile");
}

#[tokio::test]
async fn an_edited_profile_is_pushed_to_its_members_and_a_failure_is_retried() {
    let w = world().await;
    let jf = w.jf_id.to_string();
    let movies = jf_movies(&w);
    let shows =
        w.jf.library_by_name("Shows")
            .unwrap()
            .api_id(fakes::jellyfin::FakeKind::Jellyfin)
            .to_string();
    let tier = profile(
        &w,
        "Tier",
        &[("server", &jf), (&format!("lib_{jf}"), &movies)],
    )
    .await;
    let code = w.invite(&[], "3", |i| i.profile = Some(tier)).await;
    for name in ["one", "two"] {
        assert_eq!(
            w.redeem_api(
                &code,
                json!({"username": name, "password": "a good password"})
            )
            .await
            .status(),
            StatusCode::CREATED
        );
    }
    // The first policy update fails once on the server.
    let one = w.jf.user_by_name("one").unwrap();
    w.jf.control()
        .fail_next(&format!("/Users/{}/Policy", one.id), 503);
    let res = w
        .app
        .post_form(
            &format!("/admin/profiles/{tier}"),
            &[
                ("name", "Tier"),
                ("duration", "30d"),
                ("server", &jf),
                (&format!("lib_{jf}"), &movies),
                (&format!("lib_{jf}"), &shows),
                ("apply", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Applied to members") && page.contains("retrying"),
        "{page}"
    );
    let mut two = w.jf.user_by_name("two").unwrap().enabled_folders();
    two.sort();
    let mut want = vec![movies.clone(), shows.clone()];
    want.sort();
    assert_eq!(two, want, "pushed at once");
    w.app.clock.advance(60);
    usher::provisioning::run_due(&w.app.state).await.unwrap();
    let mut one = w.jf.user_by_name("one").unwrap().enabled_folders();
    one.sort();
    assert_eq!(one, want, "the failed update was retried");
}

#[tokio::test]
async fn bulk_invites_are_created_at_once_and_downloadable_as_csv() {
    let w = world().await;
    let jf = w.jf_id.to_string();
    let movies = jf_movies(&w);
    let res = w
        .app
        .post_form(
            "/admin/invites",
            &[
                ("server", &jf),
                (&format!("lib_{jf}"), &movies),
                ("count", "5"),
                ("uses", "3"),
                ("expires", "7d"),
            ],
        )
        .await;
    let to = location(&res);
    assert!(to.starts_with("/admin/invites?batch="), "{to}");
    let batch = to.split("batch=").nth(1).unwrap();
    let (_, page) = w.app.get_text(&to).await;
    assert!(page.contains("5 invites created"));
    let res = w
        .app
        .get(&format!("/admin/invites.csv?batch={batch}"))
        .await;
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "code,link");
    assert_eq!(lines.len(), 6);
    for line in &lines[1..] {
        let (code, link) = line.split_once(',').unwrap();
        assert!(link.ends_with(&format!("/i/{code}")));
        let invite = w
            .app
            .state
            .store
            .invite_by_code(code)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(invite.max_uses, Some(1), "bulk invites are single-use");
    }
}

#[tokio::test]
async fn a_removed_plex_friend_is_invited_again_by_updating_the_share() {
    let w = world().await;
    // plex.tv still holds a share for alice from before (her removal never reached it).
    w.plex
        .add_share(demo::SERVER_ID, "alice@example.com", &[81234001], true);
    let again = w
        .invite(&[w.plex_id], "1", |i| {
            i.targets[0].libraries = Some(vec!["81234002".into()])
        })
        .await;
    let res = w
        .redeem_api(&again, json!({"email": "alice@example.com"}))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "not refused as already shared"
    );
    let shares = w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1, "one share, updated");
    let s = format!("{:?}", shares[0]);
    assert!(s.contains("81234002") && !s.contains("81234001"), "{s}");
}

#[tokio::test]
async fn a_paused_jellyfin_account_is_switched_back_on_when_invited_again() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "returning", "password": "first password"}),
        )
        .await;
    let member = MemberId(
        res.json::<serde_json::Value>().await.unwrap()["member"]["id"]
            .as_i64()
            .unwrap(),
    );
    let grant = w.app.state.store.member_grants(member).await.unwrap()[0].id;
    usher::members::set_paused(&w.app.state, member, grant, true, "owner")
        .await
        .unwrap();
    let user = w.jf.user_by_name("returning").unwrap();
    assert!(user.is_disabled());

    let movies = jf_movies(&w);
    let again = w
        .invite(&[w.jf_id], "1", |i| {
            i.targets[0].libraries = Some(vec![movies.clone()])
        })
        .await;
    let res = w
        .redeem_api(
            &again,
            json!({"username": "Returning", "password": "second password"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let user = w.jf.user_by_name("returning").unwrap();
    assert!(!user.is_disabled());
    assert_eq!(user.enabled_folders(), vec![movies]);
    assert!(user.password_matches("second password"));
    assert_eq!(
        w.jf.users()
            .iter()
            .filter(|u| u.name.eq_ignore_ascii_case("returning"))
            .count(),
        1,
        "no second account"
    );
    // History shows both periods.
    let old = &w.app.state.store.member_grants(member).await.unwrap()[0];
    assert_eq!(old.status.as_str(), "removed");
}

#[tokio::test]
async fn the_cli_creates_invites_from_a_profile_and_in_bulk() {
    let w = world().await;
    let jf = w.jf_id.to_string();
    let movies = jf_movies(&w);
    profile(
        &w,
        "Family",
        &[("server", &jf), (&format!("lib_{jf}"), &movies)],
    )
    .await;
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let out = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| {
            usher_command(Some(now))
                .args(args)
                .arg("--data-dir")
                .arg(&dir)
                .output()
                .unwrap()
        };
        (
            run(&[
                "invite",
                "create",
                "--profile",
                "Family",
                "--uses",
                "2",
                "--json",
            ]),
            run(&[
                "invite",
                "create",
                "--server",
                "Home Jellyfin",
                "--count",
                "3",
            ]),
            run(&["invite", "create", "--profile", "Nope"]),
        )
    })
    .await
    .unwrap();
    assert!(
        out.0.status.success(),
        "{}",
        String::from_utf8_lossy(&out.0.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.0.stdout).unwrap();
    assert_eq!(v["access_days"], 30, "the profile's duration");
    let csv = String::from_utf8_lossy(&out.1.stdout).to_string();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(String::from_utf8_lossy(&out.2.stderr).contains("no profile named `Nope`"));
}
