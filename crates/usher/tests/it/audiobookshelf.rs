//! Audiobookshelf end to end: connected from the form, invited, redeemed, paused at expiry,
//! removed, synced — with the fake holding exactly what usher shows.

use fakes::audiobookshelf::FakeAudiobookshelf;
use reqwest::StatusCode;
use serde_json::json;
use usher::domain::GrantStatus;
use usher::domain::ids::*;
use usher::members::expiry::sweep;

use crate::helpers::*;

const DAY: i64 = 86_400;

/// A world with an Audiobookshelf server added through the Add server form.
async fn with_abs() -> (World, FakeAudiobookshelf, ServerId) {
    let w = world().await;
    let abs = FakeAudiobookshelf::start().await;
    let res = w
        .app
        .post_form(
            "/admin/servers",
            &[
                ("kind", "audiobookshelf"),
                ("name", "Story Shelf"),
                ("url", &abs.url()),
                ("token", &abs.api_key()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", location(&res));
    let id: ServerId = id_from_location(&res);
    (w, abs, id)
}

async fn grant_of(w: &World, member: MemberId) -> usher::store::members::MemberGrantRow {
    let mut grants = w
        .app
        .state
        .store
        .grants_of_members(&[member])
        .await
        .unwrap();
    assert_eq!(grants.len(), 1);
    grants.remove(0)
}

#[tokio::test]
async fn the_schema_takes_every_kind_and_still_refuses_junk() {
    let app = spawn_app().await;
    let pool = db(&app.state).await;
    let insert = |kind: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO servers (name, kind, url, token_sealed, created_at, updated_at)
                 VALUES (?, ?, 'http://127.0.0.1:1', 'x', 0, 0)",
            )
            .bind(format!("s-{kind}"))
            .bind(kind)
            .execute(&pool)
            .await
        }
    };
    for kind in [
        "audiobookshelf",
        "navidrome",
        "komga",
        "kavita",
        "romm",
        "plex",
    ] {
        insert(kind).await.unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
    assert!(insert("winamp").await.is_err(), "the CHECK is still there");
    let step = sqlx::query(
        "INSERT INTO onboarding_steps (kind, position, title, body, created_at, updated_at)
         VALUES ('audiobookshelf', 1, 't', 'b', 0, 0)",
    )
    .execute(&pool)
    .await;
    assert!(step.is_ok(), "{step:?}");
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(ok, "ok");
}

#[tokio::test]
async fn the_add_form_offers_audiobookshelf_and_says_where_its_key_is() {
    let w = world().await;
    let (status, page) = w.app.get_text("/admin/servers/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"value="audiobookshelf""#), "{page}");
    assert!(page.contains("Settings → API Keys"), "{page}");
}

#[tokio::test]
async fn a_connected_server_lists_its_libraries_with_the_ids_sharing_needs() {
    let (w, abs, id) = with_abs().await;
    let libraries = w.app.state.store.libraries(id).await.unwrap();
    let ids: Vec<&str> = libraries.iter().map(|l| l.remote_id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&abs.library_id("Audiobooks").as_str()));
    let (_, page) = w.app.get_text(&format!("/admin/servers/{id}")).await;
    assert!(page.contains("Podcasts"), "{page}");
    // Downloads are Audiobookshelf's only permission; Live TV and streams are not offered.
    assert!(page.contains(r#"name="allow_downloads""#));
    assert!(!page.contains(r#"name="allow_live_tv""#));
    assert!(!page.contains(r#"name="max_sessions""#));
}

#[tokio::test]
async fn an_invite_is_redeemed_paused_at_expiry_and_removed_with_the_fake_agreeing() {
    let (w, abs, id) = with_abs().await;
    let books = abs.library_id("Audiobooks");
    let res = w
        .app
        .post_form(
            &format!("/admin/servers/{id}/expiry"),
            &[("action", "disable"), ("remove_after_days", "")],
        )
        .await;
    assert_eq!(location(&res), format!("/admin/servers/{id}?done=expiry"));
    let code = w
        .invite(&[id], "1", |i| {
            i.duration = "7d".into();
            i.targets[0].libraries = Some(vec![books.clone()]);
        })
        .await;
    // The invite page asks for a user name and password, as for any server with accounts.
    let (_, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert!(page.contains(r#"name="username""#), "{page}");
    let res = w
        .redeem_api(
            &code,
            json!({"username": "Maya", "password": "a long password", "email": "maya@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    let member = MemberId(body["member"]["id"].as_i64().unwrap());

    let user = abs.user_by_name("Maya").unwrap();
    assert!(user.is_active);
    assert_eq!(
        user.visible_libraries(&abs.libraries()),
        vec![books.clone()]
    );
    assert!(abs.signs_in("Maya", "a long password"));
    let g = grant_of(&w, member).await;
    assert_eq!(g.grant.status, GrantStatus::Active);
    assert_eq!(g.grant.remote_id.as_deref(), Some(user.id.as_str()));
    assert_eq!(g.grant.libraries, format!("[\"{books}\"]"));

    w.app.clock.advance(7 * DAY + 1);
    assert_eq!(sweep(&w.app.state).await.unwrap().disabling, 1);
    assert!(
        !abs.user_by_name("Maya").unwrap().is_active,
        "paused on the server"
    );
    assert!(!abs.signs_in("Maya", "a long password"));
    assert_eq!(
        grant_of(&w, member).await.grant.status,
        GrantStatus::Disabled
    );

    let grant = grant_of(&w, member).await.grant.id;
    usher::members::remove_grant(&w.app.state, member, grant, "owner")
        .await
        .unwrap();
    assert!(abs.user_by_name("Maya").is_none(), "deleted on the server");
    assert_eq!(
        grant_of(&w, member).await.grant.status,
        GrantStatus::Removed
    );
}

#[tokio::test]
async fn changing_access_on_the_member_page_reaches_the_server() {
    let (w, abs, id) = with_abs().await;
    let (books, kids) = (abs.library_id("Audiobooks"), abs.library_id("Kids"));
    let code = w
        .invite(&[id], "1", |i| {
            i.targets[0].libraries = Some(vec![books.clone()]);
        })
        .await;
    let input = usher::invites::RedeemInput {
        username: "Ines".into(),
        password: "a long password".into(),
        ..Default::default()
    };
    let member = usher::invites::redeem(&w.app.state, &code, &input)
        .await
        .unwrap()
        .member_id;
    let grant = grant_of(&w, member).await.grant.id;
    let res = w
        .app
        .post_form(
            &format!("/admin/members/{member}/grants/{grant}/access"),
            &[("lib", kids.as_str()), ("downloads", "on")],
        )
        .await;
    assert!(location(&res).starts_with(&format!("/admin/members/{member}")));
    let user = abs.user_by_name("Ines").unwrap();
    assert_eq!(user.visible_libraries(&abs.libraries()), vec![kids]);
    assert!(user.permission("download"));
}

#[tokio::test]
async fn sync_imports_an_account_made_in_audiobookshelf_and_skips_the_administrator() {
    let (w, abs, id) = with_abs().await;
    abs.add_user("theo", "their own", &[&abs.library_id("Podcasts")]);
    let report = usher::members::sync::sync_server(&w.app.state, id)
        .await
        .unwrap();
    assert_eq!((report.accounts, report.imported), (1, 1), "{report:?}");
    let grants = w.app.state.store.sync_grants(id).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].identity, "theo");
}

#[tokio::test]
async fn a_mixed_invite_gives_a_plex_share_and_an_audiobookshelf_account_in_one_go() {
    let (w, abs, id) = with_abs().await;
    let code = w.invite(&[w.plex_id, id], "1", |_| {}).await;
    let res = w
        .redeem_api(
            &code,
            json!({"email": "alice@example.com", "username": "alice", "password": "a long password"}),
        )
        .await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(abs.user_by_name("alice").unwrap().is_active);
    assert_eq!(w.plex.shares_of(fakes::plex::demo::SERVER_ID).len(), 1);
}

#[tokio::test]
async fn a_profile_with_audiobookshelf_gives_its_libraries_to_whoever_joins_through_it() {
    let (w, abs, id) = with_abs().await;
    let kids = abs.library_id("Kids");
    let sid = id.to_string();
    let res = w
        .app
        .post_form(
            "/admin/profiles",
            &[
                ("name", "Young listeners"),
                ("description", "Kids' books only"),
                ("duration", "30d"),
                ("server", &sid),
                (&format!("lib_{sid}"), &kids),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let profile: ProfileId = id_from_location(&res);
    let code = w.invite(&[], "1", |i| i.profile = Some(profile)).await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "Nico", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user = abs.user_by_name("Nico").unwrap();
    assert_eq!(user.visible_libraries(&abs.libraries()), vec![kids]);
}

#[tokio::test]
async fn an_approved_request_for_audiobookshelf_becomes_a_personal_invite_that_makes_the_account() {
    let (w, abs, id) = with_abs().await;
    let books = abs.library_id("Audiobooks");
    let submitted = usher::requests::submit(
        &w.app.state,
        &usher::requests::RequestInput {
            name: "Rosa".into(),
            email: "rosa@example.com".into(),
            ..Default::default()
        },
        "127.0.0.1",
    )
    .await
    .unwrap();
    let usher::requests::Submitted::Pending(request) = submitted else {
        panic!("requests are not auto-approved here");
    };
    let selection = usher::requests::Selection {
        servers: vec![usher::requests::ServerChoice {
            server_id: id,
            libraries: vec![books.clone()],
            permissions: media::Permissions::default(),
        }],
        ..Default::default()
    };
    let approved = usher::requests::approve(&w.app.state, request, &selection, "owner")
        .await
        .unwrap();
    let link = approved
        .invite_url
        .expect("a personal link to choose the login");
    let code = link.rsplit('/').next().unwrap().to_string();
    assert!(
        abs.user_by_name("Rosa").is_none(),
        "no account before Rosa chooses one"
    );
    let res = w
        .redeem_api(
            &code,
            json!({"username": "Rosa", "password": "a long password", "email": "rosa@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user = abs.user_by_name("Rosa").unwrap();
    assert_eq!(user.visible_libraries(&abs.libraries()), vec![books]);
}
