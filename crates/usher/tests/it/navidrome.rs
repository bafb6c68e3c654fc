//! Navidrome end to end: connected by signing in as its administrator, invited, removed at
//! expiry (it cannot pause), synced — with the fake holding exactly what usher shows.

use fakes::audiobookshelf::FakeAudiobookshelf;
use fakes::navidrome::FakeNavidrome;
use reqwest::StatusCode;
use serde_json::json;
use usher::domain::GrantStatus;
use usher::domain::ids::*;
use usher::members::expiry::sweep;

use crate::helpers::*;

const DAY: i64 = 86_400;

/// A world with a Navidrome server added through the Add server form.
async fn with_navidrome() -> (World, FakeNavidrome, ServerId) {
    let w = world().await;
    let nd = FakeNavidrome::start().await;
    let (user, password) = nd.admin_login();
    let res = w
        .app
        .post_form(
            "/admin/servers",
            &[
                ("kind", "navidrome"),
                ("name", "Record Shop"),
                ("url", &nd.url()),
                ("username", &user),
                ("token", &password),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", location(&res));
    let id: ServerId = id_from_location(&res);
    (w, nd, id)
}

#[tokio::test]
async fn the_form_asks_for_the_administrators_name_and_says_why() {
    let w = world().await;
    let nd = FakeNavidrome::start().await;
    let (_, page) = w.app.get_text("/admin/servers/new").await;
    assert!(page.contains(r#"value="navidrome""#), "{page}");
    assert!(page.contains(r#"name="username""#), "{page}");
    assert!(page.contains("no API keys"), "{page}");
    // Without the name, the field is named; with a wrong password, the server's refusal is.
    let res = w
        .app
        .post_form(
            "/admin/servers",
            &[
                ("kind", "navidrome"),
                ("name", "Record Shop"),
                ("url", &nd.url()),
                ("token", "usher-demo"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Enter the user name of the server")
    );
    let res = w
        .app
        .post_form(
            "/admin/servers",
            &[
                ("kind", "navidrome"),
                ("name", "Record Shop"),
                ("url", &nd.url()),
                ("username", "admin"),
                ("token", "wrong"),
            ],
        )
        .await;
    assert_ne!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        w.app.state.store.servers().await.unwrap().len() == 2,
        "nothing saved"
    );
}

#[tokio::test]
async fn an_invite_is_redeemed_and_removed_at_expiry_because_navidrome_cannot_pause() {
    let (w, nd, id) = with_navidrome().await;
    let (_, page) = w.app.get_text(&format!("/admin/servers/{id}")).await;
    assert!(
        page.contains("Navidrome cannot pause access"),
        "the page says expiry removes"
    );
    assert!(!page.contains(r#"name="allow_downloads""#));
    let books = nd.library_id("Audiobooks");
    let code = w
        .invite(&[id], "1", |i| {
            i.duration = "7d".into();
            i.targets[0].libraries = Some(vec![books.clone()]);
        })
        .await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "Lena", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    let member = MemberId(body["member"]["id"].as_i64().unwrap());
    let user = nd.user_by_name("Lena").unwrap();
    assert_eq!(user.libraries, vec![2], "only the chosen library");
    assert!(nd.signs_in("Lena", "a long password"));
    let grants = w.app.state.store.member_grants(member).await.unwrap();
    assert_eq!(grants[0].status, GrantStatus::Active);
    assert_eq!(grants[0].remote_id.as_deref(), Some(user.id.as_str()));

    w.app.clock.advance(7 * DAY + 1);
    let report = sweep(&w.app.state).await.unwrap();
    assert_eq!((report.removing, report.disabling), (1, 0));
    assert!(nd.user_by_name("Lena").is_none(), "removed on the server");
    let grants = w.app.state.store.member_grants(member).await.unwrap();
    assert_eq!(grants[0].status, GrantStatus::Removed);
}

#[tokio::test]
async fn sync_imports_an_account_made_in_navidrome() {
    let (w, nd, id) = with_navidrome().await;
    nd.add_user("mo", "their own", &[1, 3]);
    let report = usher::members::sync::sync_server(&w.app.state, id)
        .await
        .unwrap();
    assert_eq!((report.accounts, report.imported), (1, 1), "{report:?}");
}

#[tokio::test]
async fn one_invite_gives_plex_navidrome_and_audiobookshelf_in_one_flow() {
    let (w, nd, nd_id) = with_navidrome().await;
    let abs = FakeAudiobookshelf::start().await;
    let abs_id = usher::servers::add(
        &w.app.state,
        &usher::servers::ServerInput {
            kind: "audiobookshelf".into(),
            name: "Story Shelf".into(),
            url: abs.url(),
            token: abs.api_key().into(),
            ..Default::default()
        },
        "test",
    )
    .await
    .unwrap();
    let code = w.invite(&[w.plex_id, nd_id, abs_id], "1", |_| {}).await;
    let (_, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert!(page.contains("Record Shop") && page.contains("Story Shelf"));
    let res = w
        .redeem_api(
            &code,
            json!({"email": "alice@example.com", "username": "alice", "password": "a long password"}),
        )
        .await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(nd.signs_in("alice", "a long password"));
    assert!(abs.signs_in("alice", "a long password"));
    assert_eq!(w.plex.shares_of(fakes::plex::demo::SERVER_ID).len(), 1);
}

#[tokio::test]
async fn the_member_page_offers_no_pause_and_a_direct_pause_is_refused() {
    let (w, nd, id) = with_navidrome().await;
    let code = w
        .invite(&[id], "1", |i| {
            i.targets[0].libraries = Some(vec![nd.library_id("Music")]);
        })
        .await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "vic", "password": "a long password"}),
        )
        .await;
    let body: serde_json::Value = res.json().await.unwrap();
    let member = MemberId(body["member"]["id"].as_i64().unwrap());
    let grant = w.app.state.store.member_grants(member).await.unwrap()[0].id;
    let (_, page) = w.app.get_text(&format!("/admin/members/{member}")).await;
    assert!(page.contains("Navidrome cannot pause access"), "{page}");
    assert!(!page.contains(&format!("/grants/{grant}/disable")));
    let res = w
        .app
        .post_form(
            &format!("/admin/members/{member}/grants/{grant}/disable"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        nd.user_by_name("vic").is_some(),
        "nothing was done to the account"
    );
    let jobs = w.app.state.store.jobs_of_grant(grant).await.unwrap();
    assert_eq!(jobs.len(), 1, "only the provisioning job");
}
