//! Komga end to end: its readers sign in by email, read pages in the chosen libraries, and are
//! removed at expiry (Komga cannot pause) — with the fake holding exactly what usher shows.

use fakes::komga::FakeKomga;
use fakes::navidrome::FakeNavidrome;
use reqwest::StatusCode;
use serde_json::json;
use usher::domain::GrantStatus;
use usher::domain::ids::*;
use usher::members::expiry::sweep;

use crate::helpers::*;

const DAY: i64 = 86_400;

#[tokio::test]
async fn a_komga_invite_asks_for_the_email_as_login_and_no_user_name() {
    let w = world().await;
    let komga = FakeKomga::start().await;
    let id = w
        .connect("komga", "Comic Shop", komga.url(), komga.api_key(), "")
        .await;
    let comics = komga.library_id("Comics");
    let code = w
        .invite(&[id], "2", |i| {
            i.duration = "30d".into();
            i.targets[0].libraries = Some(vec![comics.clone()]);
        })
        .await;
    let (_, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert!(!page.contains(r#"name="username""#), "{page}");
    assert!(page.contains("your login on Comic Shop"), "{page}");

    // A script reading the invite is told the same: an email and a password.
    let info: serde_json::Value = w
        .app
        .get(&format!("/api/v1/invites/{code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["servers"][0]["needs"],
        json!(["email", "password"]),
        "{info}"
    );

    // Without the email the field says why it is needed.
    let res = w
        .redeem_api(&code, json!({"password": "a long password"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "email", "{body}");

    let res = w
        .redeem_api(
            &code,
            json!({"email": "Ana@Example.com", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    let member = MemberId(body["member"]["id"].as_i64().unwrap());
    let user = komga.user_by_email("ana@example.com").unwrap();
    assert!(user.can_read_pages_in(&comics));
    assert!(!user.can_read_pages_in(&komga.library_id("Manga")));
    assert!(komga.signs_in("ana@example.com", "a long password"));
    let grants = w.app.state.store.member_grants(member).await.unwrap();
    assert_eq!(grants[0].identity, "Ana@Example.com");
    assert_eq!(grants[0].remote_id.as_deref(), Some(user.id.as_str()));

    // Komga cannot pause: at expiry the account goes.
    w.app.clock.advance(30 * DAY + 1);
    assert_eq!(sweep(&w.app.state).await.unwrap().removing, 1);
    assert!(komga.user_by_email("ana@example.com").is_none());
    let grants = w.app.state.store.member_grants(member).await.unwrap();
    assert_eq!(grants[0].status, GrantStatus::Removed);
}

#[tokio::test]
async fn one_invite_gives_plex_navidrome_and_komga_in_one_flow() {
    let w = world().await;
    let komga = FakeKomga::start().await;
    let nd = FakeNavidrome::start().await;
    let (nd_user, nd_password) = nd.admin_login();
    let komga_id = w
        .connect("komga", "Comic Shop", komga.url(), komga.api_key(), "")
        .await;
    let nd_id = w
        .connect("navidrome", "Record Shop", nd.url(), nd_password, &nd_user)
        .await;
    let code = w.invite(&[w.plex_id, nd_id, komga_id], "1", |_| {}).await;
    let (_, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert!(
        page.contains(r#"name="username""#),
        "Navidrome needs a user name"
    );
    assert!(page.contains("your login on Comic Shop"));
    let res = w
        .redeem_api(
            &code,
            json!({"email": "bo@example.com", "username": "bo", "password": "a long password"}),
        )
        .await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(nd.signs_in("bo", "a long password"));
    assert!(komga.signs_in("bo@example.com", "a long password"));
    assert_eq!(w.plex.shares_of(fakes::plex::demo::SERVER_ID).len(), 1);
}

#[tokio::test]
async fn sync_imports_a_komga_reader_by_email() {
    let w = world().await;
    let komga = FakeKomga::start().await;
    let id = w
        .connect("komga", "Comic Shop", komga.url(), komga.api_key(), "")
        .await;
    komga.add_user("cy@example.com", "theirs", &[&komga.library_id("Manga")]);
    let report = usher::members::sync::sync_server(&w.app.state, id)
        .await
        .unwrap();
    assert_eq!((report.accounts, report.imported), (1, 1), "{report:?}");
    let grants = w.app.state.store.sync_grants(id).await.unwrap();
    assert_eq!(grants[0].identity, "cy@example.com");
}
