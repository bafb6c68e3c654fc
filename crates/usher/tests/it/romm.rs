//! RomM end to end: a player sees only the chosen platforms, is paused at expiry and removed,
//! and an old RomM that cannot limit platforms is said so before any invite is made for it.

use fakes::romm::FakeRomm;
use reqwest::StatusCode;
use serde_json::json;
use usher::domain::GrantStatus;
use usher::domain::ids::*;
use usher::members::expiry::sweep;

use crate::helpers::*;

const DAY: i64 = 86_400;

async fn with_romm() -> (World, FakeRomm, ServerId) {
    let w = world().await;
    let romm = FakeRomm::start().await;
    let res = w
        .app
        .post_form(
            "/admin/servers",
            &[
                ("kind", "romm"),
                ("name", "Arcade"),
                ("url", &romm.url()),
                ("token", &romm.token()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", location(&res));
    let id: ServerId = id_from_location(&res);
    (w, romm, id)
}

#[tokio::test]
async fn a_player_sees_the_chosen_platforms_is_paused_at_expiry_and_removed() {
    let (w, romm, id) = with_romm().await;
    let (_, page) = w.app.get_text(&format!("/admin/servers/{id}")).await;
    assert!(
        page.contains("Super Nintendo"),
        "platforms are the libraries"
    );
    assert!(page.contains(r#"value="disable""#), "RomM can pause");
    let res = w
        .app
        .post_form(
            &format!("/admin/servers/{id}/expiry"),
            &[("action", "disable"), ("remove_after_days", "")],
        )
        .await;
    assert_eq!(location(&res), format!("/admin/servers/{id}?done=expiry"));
    let snes = romm.platform_id("snes");
    let code = w
        .invite(&[id], "1", |i| {
            i.duration = "7d".into();
            i.targets[0].libraries = Some(vec![snes.clone()]);
        })
        .await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "Mario", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    let member = MemberId(body["member"]["id"].as_i64().unwrap());
    assert_eq!(romm.visible_slugs("mario"), ["snes"]);
    assert!(romm.signs_in("mario", "a long password"));

    w.app.clock.advance(7 * DAY + 1);
    assert_eq!(sweep(&w.app.state).await.unwrap().disabling, 1);
    assert!(
        !romm.signs_in("mario", "a long password"),
        "paused on the server"
    );
    let g = &w.app.state.store.member_grants(member).await.unwrap()[0];
    assert_eq!(g.status, GrantStatus::Disabled);
    usher::members::remove_grant(&w.app.state, member, g.id, "owner")
        .await
        .unwrap();
    assert!(romm.user_by_name("mario").is_none());
}

#[tokio::test]
async fn an_old_romm_is_connected_with_a_warning_and_a_partial_choice_is_refused() {
    let w = world().await;
    let romm = FakeRomm::start().await;
    romm.set_version("4.9.2");
    let id = usher::servers::add(
        &w.app.state,
        &usher::servers::ServerInput {
            kind: "romm".into(),
            name: "Old arcade".into(),
            url: romm.url(),
            token: romm.token().into(),
            ..Default::default()
        },
        "test",
    )
    .await
    .unwrap();
    let (_, page) = w.app.get_text(&format!("/admin/servers/{id}")).await;
    assert!(page.contains("cannot limit which platforms"), "{page}");
    let code = w
        .invite(&[id], "1", |i| {
            i.targets[0].libraries = Some(vec![romm.platform_id("nes")]);
        })
        .await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "luigi", "password": "a long password"}),
        )
        .await;
    // The refusal is permanent: nothing is left half-made and the use is given back.
    // The refusal is permanent: the person is told, nothing is half-made, the use is back.
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "refused", "{body}");
    assert_eq!(w.uses(&code).await, 0);
    assert!(
        romm.user_by_name("luigi").is_none(),
        "no account without the limit"
    );
}

#[tokio::test]
async fn a_name_romm_would_refuse_is_caught_on_the_invite_form_itself() {
    let (w, romm, id) = with_romm().await;
    let code = w
        .invite(&[id], "1", |i| {
            i.targets[0].libraries = Some(vec![romm.platform_id("nes")]);
        })
        .await;
    let (_, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert!(page.contains("For Arcade: 3 to 64 letters a–z"), "{page}");
    assert!(
        page.contains(r"[A-Za-z0-9_\-]{3,}"),
        "the browser checks it too"
    );
    let res = w
        .redeem_api(
            &code,
            json!({"username": "Zoë B", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "username", "{body}");
    assert_eq!(romm.users().len(), 1, "nothing was sent to RomM");
    assert_eq!(w.uses(&code).await, 0);
}
