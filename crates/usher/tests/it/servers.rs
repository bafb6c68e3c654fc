use fakes::jellyfin::{FakeJellyfin, FakeKind};
use fakes::plex::{FakePlex, demo};
use reqwest::StatusCode;
use usher::domain::ids::*;

use crate::helpers::*;

async fn add(app: &TestApp, kind: &str, name: &str, url: &str, token: &str) -> reqwest::Response {
    app.post_form(
        "/admin/servers",
        &[
            ("kind", kind),
            ("name", name),
            ("url", url),
            ("token", token),
        ],
    )
    .await
}

#[tokio::test]
async fn adding_a_plex_server_stores_global_library_ids_and_a_sealed_token() {
    let plex = FakePlex::seeded_demo().await.unwrap();
    let app = spawn_signed_in_with_plex(&plex).await;
    let res = add(
        &app,
        "plex",
        "Home Plex",
        &plex.server_url(demo::SERVER_ID),
        demo::OWNER_TOKEN,
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let id = id_from_location(&res);

    let libs = app.state.store.libraries(id).await.unwrap();
    let mut ids: Vec<_> = libs.iter().map(|l| l.remote_id.clone()).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec!["81234001", "81234002", "81234003"],
        "global ids, never local keys"
    );
    assert!(libs.iter().all(|l| l.local_key != l.remote_id));

    let sealed: String = sqlx::query_scalar("SELECT token_sealed FROM servers")
        .fetch_one(&db(&app.state).await)
        .await
        .unwrap();
    assert!(
        !sealed.contains(demo::OWNER_TOKEN),
        "token encrypted at rest"
    );

    let (status, body) = app
        .get_text(&format!("/admin/servers/{id}?done=added"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Server connected")
            && body.contains("Movies")
            && body.contains(demo::SERVER_VERSION)
    );
    assert!(!body.contains(demo::OWNER_TOKEN), "token never shown back");
    let (_, list) = app.get_text("/admin/servers").await;
    assert!(list.contains("Home Plex") && list.contains("3 libraries"));
    let (_, dash) = app.get_text("/admin").await;
    assert!(
        !dash.contains("Connect your first server"),
        "the empty state goes away"
    );
}

#[tokio::test]
async fn a_bad_plex_token_is_explained_and_nothing_is_saved() {
    let plex = FakePlex::seeded_demo().await.unwrap();
    let app = spawn_signed_in_with_plex(&plex).await;
    let res = add(
        &app,
        "plex",
        "Home Plex",
        &plex.server_url(demo::SERVER_ID),
        "wrong-token",
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let body = res.text().await.unwrap();
    assert!(body.contains("refused the token"), "{body}");
    assert!(
        body.contains("value=\"Home Plex\""),
        "the form keeps what was typed"
    );
    assert_eq!(app.state.store.server_count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_plex_token_that_does_not_own_the_server_is_refused() {
    let plex = FakePlex::seeded_demo().await.unwrap();
    let app = spawn_signed_in_with_plex(&plex).await;
    let res = add(
        &app,
        "plex",
        "Home Plex",
        &plex.server_url(demo::SERVER_ID),
        "demo-alice-token",
    )
    .await;
    assert!(res.status().is_client_error() || res.status() == StatusCode::BAD_GATEWAY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("does not belong to the server")
    );
    assert_eq!(app.state.store.server_count().await.unwrap(), 0);
}

#[tokio::test]
async fn an_unreachable_address_says_so_in_plain_words() {
    let app = spawn_signed_in().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let res = add(
        &app,
        "jellyfin",
        "Lounge",
        &format!("http://{closed}"),
        "key",
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("could not reach the server")
    );
}

#[tokio::test]
async fn form_mistakes_are_named_field_by_field_before_any_call() {
    let app = spawn_signed_in().await;
    for (fields, expect) in [
        (
            [
                ("kind", "kodi"),
                ("name", "x"),
                ("url", "http://h"),
                ("token", "t"),
            ],
            "Choose Plex, Jellyfin or Emby",
        ),
        (
            [
                ("kind", "plex"),
                ("name", " "),
                ("url", "http://h"),
                ("token", "t"),
            ],
            "name of 1–64 characters",
        ),
        (
            [
                ("kind", "plex"),
                ("name", "x"),
                ("url", "192.168.1.2"),
                ("token", "t"),
            ],
            "with http:// or https://",
        ),
        (
            [
                ("kind", "plex"),
                ("name", "x"),
                ("url", "http://h"),
                ("token", "a b"),
            ],
            "without spaces",
        ),
    ] {
        let res = app.post_form("/admin/servers", &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(expect), "{expect}");
    }
}

#[tokio::test]
async fn jellyfin_and_emby_servers_are_added_with_their_sharing_ids() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let app = spawn_signed_in().await;

    let res = add(&app, "jellyfin", "Home Jellyfin", &jf.url(), &jf.api_key()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let jf_id = id_from_location(&res);
    let libs = app.state.store.libraries(jf_id).await.unwrap();
    let movies = jf.library_by_name("Movies").unwrap();
    assert!(
        libs.iter()
            .any(|l| l.name == "Movies" && l.remote_id == movies.api_id(FakeKind::Jellyfin))
    );

    let res = add(&app, "emby", "Home Emby", &emby.url(), &emby.api_key()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let emby_id = id_from_location(&res);
    let libs = app.state.store.libraries(emby_id).await.unwrap();
    let movies = libs.iter().find(|l| l.name == "Movies").unwrap();
    assert_eq!(
        movies.remote_id.len(),
        32,
        "Emby shares by Guid, not the numeric id: {movies:?}"
    );
    assert!(movies.remote_id.chars().all(|c| c.is_ascii_hexdigit()));
}

#[tokio::test]
async fn choosing_the_wrong_kind_is_refused_with_the_reason() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let app = spawn_signed_in().await;
    let res = add(&app, "emby", "Oops", &jf.url(), &jf.api_key()).await;
    assert!(res.status().is_client_error() || res.status() == StatusCode::BAD_GATEWAY);
    let body = res.text().await.unwrap();
    assert!(body.contains("different kind of server"), "{body}");
    assert_eq!(app.state.store.server_count().await.unwrap(), 0);
}

#[tokio::test]
async fn names_are_unique_regardless_of_case() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let app = spawn_signed_in().await;
    assert_eq!(
        add(&app, "jellyfin", "Home", &jf.url(), &jf.api_key())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let res = add(&app, "jellyfin", "HOME", &jf.url(), &jf.api_key()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("already exists"));
}

#[tokio::test]
async fn a_failed_connection_test_is_recorded_and_shown_then_cleared() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let app = spawn_signed_in().await;
    let id: ServerId =
        id_from_location(&add(&app, "jellyfin", "Home", &jf.url(), &jf.api_key()).await);

    jf.control().fail_next("/System/Info/Public", 503);
    let res = app
        .post_form(&format!("/admin/servers/{id}/test"), &[])
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/servers/{id}?done=test-failed")
    );
    let (_, body) = app.get_text(&location(&res)).await;
    assert!(
        body.contains("Not reachable") && body.contains("503"),
        "{body}"
    );

    let res = app
        .post_form(&format!("/admin/servers/{id}/test"), &[])
        .await;
    assert_eq!(location(&res), format!("/admin/servers/{id}?done=tested"));
    let (_, body) = app.get_text(&location(&res)).await;
    assert!(body.contains("Connection works") && body.contains("Connected"));
}

#[tokio::test]
async fn a_rescan_adds_new_libraries_and_keeps_gone_ones_marked() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let app = spawn_signed_in().await;
    let id: ServerId =
        id_from_location(&add(&app, "jellyfin", "Home", &jf.url(), &jf.api_key()).await);
    jf.add_library(fakes::jellyfin::SeedLibrary::new(
        "Kids",
        Some("movies"),
        "9d9e0c2a4b6c48e8a0b2c4d6e8f0a2b4",
        "99",
    ));
    app.clock.advance(60);
    let res = app
        .post_form(&format!("/admin/servers/{id}/scan"), &[])
        .await;
    assert_eq!(location(&res), format!("/admin/servers/{id}?done=scanned"));
    let libs = app.state.store.libraries(id).await.unwrap();
    assert_eq!(libs.len(), 4);
    assert!(libs.iter().any(|l| l.name == "Kids" && l.present));
}

#[tokio::test]
async fn library_choices_and_defaults_are_saved() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let app = spawn_signed_in().await;
    let id: ServerId =
        id_from_location(&add(&app, "jellyfin", "Home", &jf.url(), &jf.api_key()).await);
    let libs = app.state.store.libraries(id).await.unwrap();
    let (a, b) = (libs[0].id.to_string(), libs[1].id.to_string());
    // Offer two, pre-check one, and a default that is not offered is dropped.
    let c = libs[2].id.to_string();
    let res = app
        .post_form(
            &format!("/admin/servers/{id}/libraries"),
            &[
                ("enabled", &a),
                ("enabled", &b),
                ("default", &a),
                ("default", &c),
            ],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/servers/{id}?done=libraries")
    );
    let libs = app.state.store.libraries(id).await.unwrap();
    let flags: Vec<(bool, bool)> = libs.iter().map(|l| (l.enabled, l.is_default)).collect();
    assert_eq!(flags, vec![(true, true), (true, false), (false, false)]);

    let res = app
        .post_form(
            &format!("/admin/servers/{id}/defaults"),
            &[("allow_downloads", "on"), ("max_sessions", "3")],
        )
        .await;
    assert_eq!(location(&res), format!("/admin/servers/{id}?done=defaults"));
    let s = app.state.store.server(id).await.unwrap().unwrap();
    assert!(s.default_allow_downloads && !s.default_allow_live_tv);
    assert_eq!(s.default_max_sessions, Some(3));

    let res = app
        .post_form(
            &format!("/admin/servers/{id}/defaults"),
            &[("max_sessions", "many")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("number from 1 to 100"));
}

#[tokio::test]
async fn editing_proves_a_new_token_before_saving_it() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let app = spawn_signed_in().await;
    let id: ServerId =
        id_from_location(&add(&app, "jellyfin", "Home", &jf.url(), &jf.api_key()).await);
    let path = format!("/admin/servers/{id}/edit");

    let res = app
        .post_form(
            &path,
            &[
                ("name", "Lounge"),
                ("url", &jf.url()),
                ("token", "not-the-key"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        app.state.store.server(id).await.unwrap().unwrap().name,
        "Home",
        "nothing saved"
    );

    let res = app
        .post_form(
            &path,
            &[("name", "Lounge"), ("url", &jf.url()), ("token", "")],
        )
        .await;
    assert_eq!(location(&res), format!("/admin/servers/{id}?done=saved"));
    let s = app.state.store.server(id).await.unwrap().unwrap();
    assert_eq!(s.name, "Lounge");
    assert_eq!(
        app.state.key.open(&s.token_sealed).unwrap(),
        jf.api_key(),
        "empty token keeps the old one"
    );
}

#[tokio::test]
async fn removing_needs_confirmation() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let app = spawn_signed_in().await;
    let id: ServerId =
        id_from_location(&add(&app, "jellyfin", "Home", &jf.url(), &jf.api_key()).await);
    let res = app
        .post_form(&format!("/admin/servers/{id}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.state.store.server_count().await.unwrap(), 1);
    let res = app
        .post_form(
            &format!("/admin/servers/{id}/remove"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(location(&res), "/admin/servers?done=removed");
    assert_eq!(app.state.store.server_count().await.unwrap(), 0);
    assert!(app.state.store.libraries(id).await.unwrap().is_empty());
}

#[tokio::test]
async fn unknown_or_malformed_server_ids_are_404() {
    let app = spawn_signed_in().await;
    assert_eq!(
        app.get("/admin/servers/999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/admin/servers/abc").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post_form("/admin/servers/999/test", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn server_pages_need_a_signed_in_admin() {
    let app = spawn_app().await;
    for path in ["/admin/servers", "/admin/servers/new", "/admin/servers/1"] {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::SEE_OTHER,
            "{path}"
        );
    }
}

#[tokio::test]
async fn signing_in_with_plex_lists_owned_servers_and_adds_the_chosen_one() {
    let plex = FakePlex::seeded_demo().await.unwrap();
    let app = spawn_signed_in_with_plex(&plex).await;

    let res = app.post_form("/admin/servers/plex/signin", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = location(&res);
    assert!(
        to.starts_with(&format!("{}/auth#?", plex.app_url())),
        "{to}"
    );
    let forward = to
        .split("forwardUrl=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let forward = url::form_urlencoded::parse(format!("f={forward}").as_bytes())
        .next()
        .unwrap()
        .1
        .to_string();
    assert!(
        forward.starts_with(&format!("{}/admin/servers/plex/callback?pin=", app.base)),
        "{forward}"
    );
    let pin: u64 = forward
        .split("pin=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let callback = forward.trim_start_matches(&app.base).to_string();

    // Before the owner approves, the page says to finish signing in.
    let (status, body) = app.get_text(&callback).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Waiting for Plex"));

    // A tampered PIN id is refused.
    let tampered = callback.replace(&format!("pin={pin}"), &format!("pin={}", pin + 1));
    assert_eq!(app.get(&tampered).await.status(), StatusCode::BAD_REQUEST);

    assert!(plex.approve_pin(pin, demo::OWNER_USERNAME));
    let (status, body) = app.get_text(&callback).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(demo::SERVER_NAME), "{body}");
    assert!(
        !body.contains(demo::OWNER_TOKEN),
        "the token travels sealed"
    );
    let sealed = body
        .split("name=\"sealed\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    let res = app
        .post_form(
            "/admin/servers/plex/add",
            &[
                ("sealed", &sealed),
                ("name", demo::SERVER_NAME),
                ("url", &plex.server_url(demo::SERVER_ID)),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let id = id_from_location(&res);
    let s = app.state.store.server(id).await.unwrap().unwrap();
    assert_eq!(s.remote_id.as_deref(), Some(demo::SERVER_ID));
    assert_eq!(app.state.store.libraries(id).await.unwrap().len(), 3);
}
