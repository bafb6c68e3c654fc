//! Kavita end to end: a friend chooses a user name and gives the email Kavita needs, gets exactly
//! the chosen libraries with no age limit, and is removed at expiry (taking `Login` away would
//! leave signed-in apps reading) — with the fake holding exactly what usher shows.

use fakes::kavita::FakeKavita;
use fakes::komga::FakeKomga;
use fakes::navidrome::FakeNavidrome;
use reqwest::StatusCode;
use serde_json::json;
use usher::domain::GrantStatus;
use usher::domain::ids::*;
use usher::members::expiry::sweep;

use crate::helpers::*;

const DAY: i64 = 86_400;

async fn with_kavita() -> (World, FakeKavita, ServerId) {
    let w = world().await;
    let kavita = FakeKavita::start().await;
    let id = w
        .connect("kavita", "Reading Room", kavita.url(), kavita.api_key(), "")
        .await;
    (w, kavita, id)
}

#[tokio::test]
async fn connecting_reads_the_version_and_the_libraries_with_the_ids_invites_take() {
    let (w, kavita, id) = with_kavita().await;
    let server = w.app.state.store.server(id).await.unwrap().unwrap();
    assert_eq!(server.version.as_deref(), Some(fakes::kavita::VERSION));
    assert_eq!(server.remote_id.as_deref(), Some(fakes::kavita::INSTALL_ID));
    let libraries = w.app.state.store.libraries(id).await.unwrap();
    let manga = libraries.iter().find(|l| l.name == "Manga").unwrap();
    assert_eq!(manga.remote_id, kavita.library_id("Manga"));
    let (_, page) = w.app.get_text(&format!("/admin/servers/{id}")).await;
    assert!(page.contains("Kavita cannot pause access"), "{page}");
}

#[tokio::test]
async fn a_kavita_invite_asks_for_a_name_and_the_email_kavita_needs_and_removes_at_expiry() {
    let (w, kavita, id) = with_kavita().await;
    let comics = kavita.library_id("Comics");
    let code = w
        .invite(&[id], "2", |i| {
            i.duration = "30d".into();
            i.targets[0].libraries = Some(vec![comics.clone()]);
        })
        .await;
    let (_, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert!(page.contains(r#"name="username""#), "{page}");
    assert!(
        page.contains("Reading Room needs one for your account"),
        "{page}"
    );
    assert!(
        page.contains("letters a–z, digits and _ . @ - only"),
        "{page}"
    );

    let info: serde_json::Value = w
        .app
        .get(&format!("/api/v1/invites/{code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["servers"][0]["needs"],
        json!(["username", "email", "password"]),
        "{info}"
    );

    // Without the email, or with a name Kavita would refuse, the field says why.
    for (body, field) in [
        (
            json!({"username": "ana", "password": "a long password"}),
            "email",
        ),
        (
            json!({"username": "Ana Lee", "email": "ana@example.com", "password": "a long password"}),
            "username",
        ),
    ] {
        let res = w.redeem_api(&code, body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    assert_eq!(kavita.users().len(), 1, "nothing was made on the server");
    assert_eq!(w.uses(&code).await, 0);

    let res = w
        .redeem_api(
            &code,
            json!({"username": "ana.reads", "email": "ana@example.com", "password": "a long password"}),
        )
        .await;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let member = MemberId(body["member"]["id"].as_i64().unwrap());
    let user = kavita.user("ana.reads").unwrap();
    assert_eq!(user.email, "ana@example.com");
    assert_eq!(user.libraries, vec![comics.parse::<i64>().unwrap()]);
    assert!(user.has_role("Login") && user.sees_series_rated(14));
    assert!(kavita.signs_in("ana.reads", "a long password"));
    let grants = w.app.state.store.member_grants(member).await.unwrap();
    assert_eq!(grants[0].status, GrantStatus::Active);
    assert_eq!(grants[0].identity, "ana.reads");
    assert_eq!(grants[0].remote_id, Some(user.id.to_string()));

    // The member page shows what Kavita holds, and offers no pause.
    let (_, page) = w.app.get_text(&format!("/admin/members/{member}")).await;
    assert!(
        page.contains("Comics") && !page.contains(">Manga<"),
        "{page}"
    );
    assert!(page.contains("Kavita cannot pause access"), "{page}");

    // At expiry the account goes: a paused Kavita account would keep reading in its apps.
    w.app.clock.advance(30 * DAY + 1);
    let report = sweep(&w.app.state).await.unwrap();
    assert_eq!((report.removing, report.disabling), (1, 0));
    assert!(kavita.user("ana.reads").is_none());
    let grants = w.app.state.store.member_grants(member).await.unwrap();
    assert_eq!(grants[0].status, GrantStatus::Removed);
}

#[tokio::test]
async fn a_name_taken_on_kavita_is_refused_and_the_use_given_back() {
    let (w, kavita, id) = with_kavita().await;
    kavita.add_user("Bo", "bo@example.com", "theirs1");
    let code = w.invite(&[id], "1", |_| {}).await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "bo", "email": "new@example.com", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "username", "{body}");
    assert_eq!(w.uses(&code).await, 0);
    assert_eq!(kavita.users().len(), 2, "no invite was left behind");
}

#[tokio::test]
async fn sync_imports_a_reader_made_in_kavita() {
    let (w, kavita, id) = with_kavita().await;
    kavita.add_user("cy", "cy@example.com", "theirs1");
    let report = usher::members::sync::sync_server(&w.app.state, id)
        .await
        .unwrap();
    assert_eq!((report.accounts, report.imported), (1, 1), "{report:?}");
    let grants = w.app.state.store.sync_grants(id).await.unwrap();
    assert_eq!(grants[0].identity, "cy");
    let held = w
        .app
        .state
        .store
        .member_grants(grants[0].member_id)
        .await
        .unwrap();
    assert_eq!(
        held[0].library_ids().unwrap(),
        vec![kavita.library_id("Manga")],
        "the libraries Kavita lists by name are matched to their ids"
    );
}

#[tokio::test]
async fn one_invite_gives_plex_navidrome_komga_and_kavita_in_one_flow() {
    let (w, kavita, kavita_id) = with_kavita().await;
    let komga = FakeKomga::start().await;
    let nd = FakeNavidrome::start().await;
    let (nd_user, nd_password) = nd.admin_login();
    let komga_id = w
        .connect("komga", "Comic Shop", komga.url(), komga.api_key(), "")
        .await;
    let nd_id = w
        .connect("navidrome", "Record Shop", nd.url(), nd_password, &nd_user)
        .await;
    let code = w
        .invite(&[w.plex_id, nd_id, komga_id, kavita_id], "1", |_| {})
        .await;
    let (_, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert!(page.contains("your login on Comic Shop"), "{page}");
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
    assert!(kavita.signs_in("bo", "a long password"));
    assert_eq!(kavita.user("bo").unwrap().email, "bo@example.com");
    assert_eq!(w.plex.shares_of(fakes::plex::demo::SERVER_ID).len(), 1);
}
