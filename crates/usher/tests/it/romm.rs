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
async fn an_old_romm_is_connected_with_a_warning_and_a_partial_choice_is_refused_where_it_is_made()
{
    let w = world().await;
    let romm = FakeRomm::start().await;
    romm.set_version("4.9.2");
    let id = w
        .connect("romm", "Old arcade", romm.url(), romm.token(), "")
        .await;
    let (_, page) = w.app.get_text(&format!("/admin/servers/{id}")).await;
    assert!(page.contains("cannot limit which platforms"), "{page}");
    let nes = romm.platform_id("nes");
    let every: Vec<String> = w
        .app
        .state
        .store
        .libraries(id)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.remote_id)
        .collect();

    // An invite: refused on creation, naming the libraries field.
    let partial = usher::invites::CreateInput {
        targets: vec![usher::invites::TargetInput {
            server_id: id,
            libraries: Some(vec![nes.clone()]),
            permissions: None,
        }],
        uses: "1".into(),
        ..Default::default()
    };
    let err = usher::invites::create(&w.app.state, &partial, "test")
        .await
        .unwrap_err();
    assert_eq!(err.field(), "libraries");
    assert!(err.to_string().contains("RomM 4.9.2"), "{err}");

    // A profile: refused on saving.
    let err = usher::profiles::save(
        &w.app.state,
        None,
        &usher::profiles::ProfileInput {
            name: "Retro".into(),
            servers: vec![(id, vec![nes.clone()], Default::default())],
            ..Default::default()
        },
        "test",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, usher::profiles::ProfileError::CannotLimit(_)),
        "{err}"
    );

    // An approval: refused, and the request stays pending.
    let submitted = usher::requests::submit(
        &w.app.state,
        &usher::requests::RequestInput {
            name: "Peach".into(),
            email: "peach@example.com".into(),
            ..Default::default()
        },
        "127.0.0.1",
    )
    .await
    .unwrap();
    let usher::requests::Submitted::Pending(request) = submitted else {
        panic!("requests are not auto-approved here");
    };
    let choose = |libraries: Vec<String>| usher::requests::Selection {
        servers: vec![usher::requests::ServerChoice {
            server_id: id,
            libraries,
            permissions: media::Permissions::default(),
        }],
        ..Default::default()
    };
    let err = usher::requests::approve(&w.app.state, request, &choose(vec![nes.clone()]), "owner")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("shows every library"), "{err}");
    let pending = w.app.state.store.request(request).await.unwrap().unwrap();
    assert_eq!(pending.status, usher::domain::RequestStatus::Pending);

    // Every platform is a choice RomM 4 keeps: the invite works end to end.
    let code = w
        .invite(&[id], "1", |i| i.targets[0].libraries = Some(every.clone()))
        .await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "luigi", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    let member = MemberId(body["member"]["id"].as_i64().unwrap());
    assert!(romm.user_by_name("luigi").is_some());

    // Narrowing the member's access afterwards is refused as well.
    let grant = w.app.state.store.member_grants(member).await.unwrap()[0].id;
    let err = usher::members::change_access(
        &w.app.state,
        member,
        grant,
        &usher::members::AccessInput {
            libraries: vec![nes.clone()],
            ..Default::default()
        },
        "test",
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "libraries: access-cannot-limit", "{err:?}");
}

#[tokio::test]
async fn a_romm_downgraded_after_an_invite_was_made_still_refuses_at_redemption() {
    let w = world().await;
    let romm = FakeRomm::start().await;
    let id = w
        .connect("romm", "Arcade", romm.url(), romm.token(), "")
        .await;
    let code = w
        .invite(&[id], "1", |i| {
            i.targets[0].libraries = Some(vec![romm.platform_id("nes")]);
        })
        .await;
    romm.set_version("4.9.2");
    let res = w
        .redeem_api(
            &code,
            json!({"username": "luigi", "password": "a long password"}),
        )
        .await;
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
