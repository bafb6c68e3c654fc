use std::collections::HashSet;

use fakes::plex::demo;
use reqwest::StatusCode;
use serde_json::json;
use usher::domain::ids::*;

use crate::helpers::*;

fn jf_body(name: &str) -> serde_json::Value {
    json!({"username": name, "password": "a good password", "email": format!("{name}@example.com")})
}

#[tokio::test]
async fn the_owner_creates_an_invite_in_the_form_and_sees_its_link_and_qr_code() {
    let w = world().await;
    let app = &w.app;
    let (status, form) = app.get_text("/admin/invites/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains("Home Plex") && form.contains("Home Jellyfin") && form.contains("81234001")
    );

    let jf = w.jf_id.to_string();
    let movies =
        w.jf.library_by_name("Movies")
            .unwrap()
            .api_id(fakes::jellyfin::FakeKind::Jellyfin)
            .to_string();
    let res = app
        .post_form(
            "/admin/invites",
            &[
                ("server", &jf),
                (&format!("lib_{jf}"), &movies),
                (&format!("downloads_{jf}"), "on"),
                (&format!("max_sessions_{jf}"), "2"),
                ("uses", "3"),
                ("expires", "7d"),
                ("duration", "30d"),
                ("label", "Cousins"),
                ("code", "cousins-2026"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/admin/invites/COUSINS-2026?done=created");
    let (status, page) = app
        .get_text("/admin/invites/COUSINS-2026?done=created")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("{}/i/COUSINS-2026", app.base)),
        "link shown"
    );
    assert!(page.contains("<svg") && page.contains("0 of 3 used") && page.contains("Cousins"));
    assert!(page.contains("30 days"));
    let res = app.get("/admin/invites/cousins-2026/qr.svg").await;
    assert_eq!(res.headers()["content-type"], "image/svg+xml");

    // The invite grants exactly what was chosen.
    let invite = app
        .state
        .store
        .invite_by_code("COUSINS-2026")
        .await
        .unwrap()
        .unwrap();
    let targets = app.state.store.invite_targets(invite.id).await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].libraries, [movies.to_string()]);
    let perms = targets[0].permissions.clone();
    assert!(perms.allow_downloads && !perms.allow_live_tv);
    assert_eq!(perms.max_sessions, Some(2));
}

#[tokio::test]
async fn form_mistakes_are_explained_and_the_choices_kept() {
    let w = world().await;
    let jf = w.jf_id.to_string();
    let movies =
        w.jf.library_by_name("Movies")
            .unwrap()
            .api_id(fakes::jellyfin::FakeKind::Jellyfin)
            .to_string();
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (
            vec![("uses".into(), "1".into())],
            "Choose at least one server",
        ),
        (
            vec![("server".into(), jf.clone()), ("uses".into(), "0".into())],
            "Uses must be a number",
        ),
        (
            vec![
                ("server".into(), jf.clone()),
                ("uses".into(), "1".into()),
                ("expires".into(), "2001-01-01".into()),
            ],
            "already past",
        ),
        (
            vec![
                ("server".into(), jf.clone()),
                ("uses".into(), "1".into()),
                ("duration".into(), "a while".into()),
            ],
            "duration",
        ),
        (
            vec![("server".into(), jf.clone()), ("uses".into(), "1".into())],
            "at least one library",
        ),
        (
            vec![
                ("server".into(), jf.clone()),
                (format!("lib_{jf}"), movies.clone()),
                ("uses".into(), "1".into()),
                ("code".into(), "no".into()),
            ],
            "cannot be used",
        ),
    ];
    for (fields, expect) in cases {
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let res = w.app.post_form("/admin/invites", &borrowed).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{expect}");
        assert!(res.text().await.unwrap().contains(expect), "{expect}");
    }
    w.invite(&[w.jf_id], "1", |i| i.code = "TAKEN".into()).await;
    let res = w
        .app
        .post_form(
            "/admin/invites",
            &[
                ("server", &jf),
                (&format!("lib_{jf}"), &movies),
                ("uses", "1"),
                ("code", "taken"),
                ("label", "keep me"),
            ],
        )
        .await;
    let body = res.text().await.unwrap();
    assert!(body.contains("already taken") && body.contains("keep me"));
}

#[tokio::test]
async fn the_invite_page_shows_what_it_opens_and_asks_only_for_what_is_needed() {
    let w = world().await;
    let code = w
        .invite(&[w.plex_id], "5", |i| i.duration = "30d".into())
        .await;
    let visitor = cookie_client();
    let body = visitor
        .get(w.app.url(&format!("/i/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Home Plex") && body.contains("Movies") && body.contains("TV Shows"));
    assert!(body.contains("Sign in with Plex") && body.contains("Access lasts 30 days"));
    assert!(
        !body.contains("Choose a username"),
        "no local account fields for Plex only"
    );

    let res = visitor
        .get(w.app.url(&format!("/i/{}", code.to_lowercase())))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::PERMANENT_REDIRECT,
        "codes match case-insensitively"
    );

    let code = w.invite(&[w.jf_id], "5", |_| {}).await;
    let body = visitor
        .get(w.app.url(&format!("/i/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Choose a username") && !body.contains("Sign in with Plex"));
}

#[tokio::test]
async fn unknown_disabled_expired_and_used_up_codes_each_get_a_clear_page() {
    let w = world().await;
    let visitor = cookie_client();
    let get = |path: String| {
        let v = visitor.clone();
        async move {
            let res = v.get(path).send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, body) = get(w.app.url("/i/NOSUCHCODE")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("does not exist"));

    let disabled = w.invite(&[w.jf_id], "5", |_| {}).await;
    w.app
        .post_form(&format!("/admin/invites/{disabled}/disable"), &[])
        .await;
    let (status, body) = get(w.app.url(&format!("/i/{disabled}"))).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("switched off"));

    let expiring = w.invite(&[w.jf_id], "5", |i| i.expires = "1h".into()).await;
    w.app.clock.advance(3600);
    let (status, body) = get(w.app.url(&format!("/i/{expiring}"))).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("expired"));

    let single = w.invite(&[w.jf_id], "1", |_| {}).await;
    assert_eq!(
        w.redeem_api(&single, jf_body("first")).await.status(),
        StatusCode::CREATED
    );
    let (status, body) = get(w.app.url(&format!("/i/{single}"))).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("used as many times"));
    // None of these pages reveal anything about the invite.
    assert!(!body.contains("Home Jellyfin"));
}

#[tokio::test]
async fn a_jellyfin_redemption_in_the_browser_form_creates_the_account_with_the_chosen_libraries() {
    let w = world().await;
    let movies =
        w.jf.library_by_name("Movies")
            .unwrap()
            .api_id(fakes::jellyfin::FakeKind::Jellyfin)
            .to_string();
    let code = w
        .invite(&[w.jf_id], "2", |i| {
            i.targets[0].libraries = Some(vec![movies.clone()])
        })
        .await;
    let visitor = cookie_client();
    let page = visitor
        .get(w.app.url(&format!("/i/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap();
    let res = visitor
        .post(w.app.url(&format!("/i/{code}")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "maria"),
            ("password", "a good password"),
            ("password_confirm", "a good password"),
            ("email", "maria@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let welcome = location(&res);
    assert!(welcome.starts_with(&format!("/i/{code}/welcome?m=")));
    let body = visitor
        .get(w.app.url(&welcome))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("Welcome, maria!")
            && body.contains("password you chose, maria")
            && body.contains("(Home Jellyfin)"),
        "{body}"
    );

    let user = w.jf.user_by_name("maria").unwrap();
    assert!(user.password_matches("a good password"));
    assert!(!user.all_folders());
    assert_eq!(user.enabled_folders(), vec![movies]);

    // A tampered welcome link shows nothing.
    let tampered = welcome.replace("sig=", "sig=0");
    assert_eq!(
        visitor
            .get(w.app.url(&tampered))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn form_errors_come_back_on_the_same_page_without_using_the_invite() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let visitor = cookie_client();
    let page = visitor
        .get(w.app.url(&format!("/i/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap();
    let res = visitor
        .post(w.app.url(&format!("/i/{code}")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "maria"),
            ("password", "a good password"),
            ("password_confirm", "a different one"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("not the same") && body.contains("value=\"maria\""));
    let invite = w
        .app
        .state
        .store
        .invite_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invite.used, 0);
}

#[tokio::test]
async fn a_typed_plex_email_shares_the_server_with_global_library_ids() {
    let w = world().await;
    let code = w.invite(&[w.plex_id], "1", |_| {}).await;
    let res = w
        .redeem_api(&code, json!({"email": "alice@example.com"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["grants"][0]["status"], "pending",
        "Plex invites wait for acceptance"
    );
    assert_eq!(body["grants"][0]["server"], "Home Plex");
    let shares = w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    let share = format!("{:?}", shares[0]);
    assert!(
        share.contains("81234001") && share.contains("81234002"),
        "{share}"
    );
    let grant = &w
        .app
        .state
        .store
        .member_grants(MemberId(body["member"]["id"].as_i64().unwrap()))
        .await
        .unwrap()[0];
    assert!(grant.remote_id.is_some());
}

#[tokio::test]
async fn signing_in_with_plex_redeems_a_plex_only_invite() {
    let w = world().await;
    let code = w.invite(&[w.plex_id], "1", |_| {}).await;
    let visitor = cookie_client();
    let page = visitor
        .get(w.app.url(&format!("/i/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap();
    let res = visitor
        .post(w.app.url(&format!("/i/{code}/plex")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let to = location(&res);
    assert!(
        to.starts_with(&format!("{}/auth#?", w.plex.app_url())),
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
    let pin: u64 = forward
        .split("pin=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let waiting = visitor
        .get(&forward)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(waiting.contains("Waiting for Plex"));
    assert!(w.plex.approve_pin(pin, "bob"));
    let res = visitor.get(&forward).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).contains("/welcome?m="));
    let shares = w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    assert!(
        format!("{:?}", shares[0]).contains("bob"),
        "{:?}",
        shares[0]
    );
}

#[tokio::test]
async fn a_mixed_invite_sets_up_plex_and_jellyfin_in_one_go() {
    let w = world().await;
    let code = w.invite(&[w.plex_id, w.jf_id], "1", |_| {}).await;
    let res = w
        .redeem_api(&code, json!({"email": "carol@example.com", "username": "carol", "password": "a good password"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    let statuses: HashSet<(String, String)> = body["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().unwrap().into(),
                g["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        HashSet::from([
            ("plex".into(), "pending".into()),
            ("jellyfin".into(), "active".into())
        ])
    );
    assert_eq!(w.plex.shares_of(demo::SERVER_ID).len(), 1);
    assert!(w.jf.user_by_name("carol").is_some());
}

#[tokio::test]
async fn fifty_racing_redemptions_of_a_five_use_invite_make_exactly_five_accounts() {
    let w = world_with(|c| c.redemptions_per_hour = 1000).await;
    let code = w.invite(&[w.jf_id], "5", |_| {}).await;
    let before = w.jf.users().len();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let url = w.app.url(&format!("/api/v1/invites/{code}/redeem"));
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&jf_body(&format!("racer{i}")))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    let mut gone = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::GONE => gone += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, gone), (5, 45));
    assert_eq!(
        w.jf.users().len() - before,
        5,
        "exactly five accounts on the server"
    );
    let invite = w
        .app
        .state
        .store
        .invite_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invite.used, 5);
    assert_eq!(
        w.app
            .state
            .store
            .invite_members(invite.id)
            .await
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn a_server_error_during_provisioning_is_retried_and_nothing_is_lost() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    w.jf.control().fail_next("/Users/New", 503);
    let res = w.redeem_api(&code, jf_body("dana")).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "the person is not shown an error"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["setting_up"], true);
    assert_eq!(body["grants"][0]["status"], "provisioning");
    assert!(w.jf.user_by_name("dana").is_none());

    // Not due yet: nothing happens.
    assert_eq!(usher::provisioning::run_due(&w.app.state).await.unwrap(), 0);
    w.app.clock.advance(30);
    assert_eq!(usher::provisioning::run_due(&w.app.state).await.unwrap(), 1);
    let member = MemberId(body["member"]["id"].as_i64().unwrap());
    let grants = w.app.state.store.member_grants(member).await.unwrap();
    assert_eq!(grants[0].status.as_str(), "active");
    assert!(
        w.jf.user_by_name("dana")
            .unwrap()
            .password_matches("a good password")
    );
    let jobs = w.app.state.store.jobs_of_grant(grants[0].id).await.unwrap();
    assert!(
        jobs[0].payload.is_none(),
        "the sealed password is dropped once used"
    );
}

#[tokio::test]
async fn a_taken_name_releases_the_use_and_says_what_to_change() {
    let w = world().await;
    w.jf.add_user(fakes::jellyfin::SeedUser::member("Erin", "whatever pw"));
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let res = w.redeem_api(&code, jf_body("erin")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "refused");
    assert_eq!(body["error"]["field"], "username");
    assert!(body["error"]["message"].as_str().unwrap().contains("taken"));
    let invite = w
        .app
        .state
        .store
        .invite_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invite.used, 0, "the use is released");
    assert!(
        w.app
            .state
            .store
            .invite_members(invite.id)
            .await
            .unwrap()
            .is_empty()
    );
    // With another name it works.
    assert_eq!(
        w.redeem_api(&code, jf_body("erin2")).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_refusal_on_one_server_undoes_the_other_and_leaves_nothing_half_made() {
    let w = world().await;
    w.jf.add_user(fakes::jellyfin::SeedUser::member("frank", "whatever pw"));
    let code = w.invite(&[w.plex_id, w.jf_id], "1", |_| {}).await;
    let res = w
        .redeem_api(&code, json!({"email": "alice@example.com", "username": "frank", "password": "a good password"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        w.plex.shares_of(demo::SERVER_ID).is_empty(),
        "the Plex share made first was removed"
    );
    let invite = w
        .app
        .state
        .store
        .invite_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invite.used, 0);
}

#[tokio::test]
async fn the_same_person_cannot_redeem_an_invite_twice() {
    let w = world().await;
    let code = w.invite(&[w.plex_id], "5", |_| {}).await;
    assert_eq!(
        w.redeem_api(&code, json!({"email": "alice@example.com"}))
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = w
        .redeem_api(&code, json!({"email": "ALICE@example.com"}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "already_redeemed");
    assert_eq!(w.uses(&code).await, 1);
}

#[tokio::test]
async fn a_passphrase_protected_invite_needs_the_passphrase() {
    let w = world().await;
    let code = w
        .invite(&[w.jf_id], "1", |i| i.passphrase = "open sesame".into())
        .await;
    let res = w.redeem_api(&code, jf_body("gus")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mut body = jf_body("gus");
    body["passphrase"] = json!("open sesame");
    assert_eq!(
        w.redeem_api(&code, body).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_public_api_describes_an_invite_without_secrets_and_uses_one_error_shape() {
    let w = world().await;
    let code = w
        .invite(&[w.plex_id, w.jf_id], "3", |i| {
            i.passphrase = "secret words".into()
        })
        .await;
    let res = reqwest::get(w.app.url(&format!("/api/v1/invites/{code}")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["valid"], true);
    assert_eq!(body["uses_left"], 3);
    assert_eq!(body["needs_passphrase"], true);
    assert_eq!(body["servers"].as_array().unwrap().len(), 2);
    assert!(
        !text.contains("secret words")
            && !text.contains("passphrase_hash")
            && !text.contains(demo::OWNER_TOKEN)
    );

    let res = reqwest::get(w.app.url("/api/v1/invites/NOPE1234"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());

    let res = w.redeem_api(&code, json!({"unexpected": 1})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test]
async fn guessing_codes_is_slowed_down_but_a_real_link_still_opens() {
    let w = world().await;
    let real = w.invite(&[w.jf_id], "5", |_| {}).await;
    let chosen = w
        .invite(&[w.jf_id], "5", |i| i.code = "book-club".into())
        .await;
    let visitor = reqwest::Client::new();
    for i in 0..30 {
        let res = visitor
            .get(w.app.url(&format!("/i/GUESS{i:04}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let status = |path: String| {
        let visitor = visitor.clone();
        async move { visitor.get(path).send().await.unwrap().status() }
    };
    assert_eq!(
        status(w.app.url("/i/GUESS9999")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let (code, body) = {
        let res = visitor
            .get(w.app.url("/join?code=GUESS9999"))
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    };
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        body.contains("id=\"code\"") && body.contains("Too many attempts"),
        "the box stays"
    );
    // The household's real link (a generated code) opens all the same, from the page and the API…
    assert_eq!(
        status(w.app.url(&format!("/i/{real}"))).await,
        StatusCode::OK
    );
    assert_eq!(
        status(w.app.url(&format!("/api/v1/invites/{real}"))).await,
        StatusCode::OK
    );
    let res = w
        .redeem_api(
            &real,
            json!({"username": "house", "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // …while a code the owner chose, which a dictionary could find, waits like a guess.
    assert_eq!(
        status(w.app.url("/i/BOOK-CLUB")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(chosen, "BOOK-CLUB");
    w.app.clock.advance(3600);
    assert_eq!(status(w.app.url("/i/BOOK-CLUB")).await, StatusCode::OK);
    assert_eq!(
        status(w.app.url("/i/GUESS9999")).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn join_takes_a_typed_code_to_its_invite() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let (status, body) = w.app.get_text("/join").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("invite code"));
    let res = w
        .app
        .get(&format!("/join?code=+{}+", code.to_lowercase()))
        .await;
    assert_eq!(location(&res), format!("/i/{code}"));
    let res = w.app.get("/join?code=%3Cscript%3E").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!res.text().await.unwrap().contains("<script>"));
}

#[tokio::test]
async fn badges_filters_counts_and_search_match_every_state() {
    let w = world().await;
    let fresh = w
        .invite(&[w.jf_id], "5", |i| i.label = "Family".into())
        .await;
    let partly = w.invite(&[w.jf_id], "2", |_| {}).await;
    let used_up = w.invite(&[w.jf_id], "1", |_| {}).await;
    let expired = w.invite(&[w.jf_id], "3", |i| i.expires = "1h".into()).await;
    let disabled = w.invite(&[w.jf_id], "3", |_| {}).await;
    assert_eq!(
        w.redeem_api(&partly, jf_body("hana")).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        w.redeem_api(&used_up, jf_body("ivan")).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        w.redeem_api(&expired, jf_body("jon")).await.status(),
        StatusCode::CREATED
    );
    w.app
        .post_form(&format!("/admin/invites/{disabled}/disable"), &[])
        .await;
    w.app.clock.advance(3600);

    let counts = w
        .app
        .state
        .store
        .invite_counts(w.app.clock.now())
        .await
        .unwrap();
    assert_eq!(
        (
            counts.all,
            counts.active,
            counts.redeemed,
            counts.expired,
            counts.used_up,
            counts.disabled
        ),
        (5, 2, 3, 1, 1, 1)
    );
    let codes_for = |filter: &'static str| {
        let app = &w.app;
        async move {
            let (_, body) = app
                .get_text(&format!("/admin/invites?filter={filter}"))
                .await;
            let mut codes: Vec<String> = body
                .split("data-code=\"")
                .skip(1)
                .map(|s| s.split('"').next().unwrap().to_string())
                .collect();
            codes.sort();
            (codes, body)
        }
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    assert_eq!(codes_for("active").await.0, sorted(vec![&fresh, &partly]));
    assert_eq!(
        codes_for("redeemed").await.0,
        sorted(vec![&partly, &used_up, &expired])
    );
    assert_eq!(codes_for("expired").await.0, vec![expired.clone()]);
    assert_eq!(codes_for("used_up").await.0, vec![used_up.clone()]);
    assert_eq!(codes_for("disabled").await.0, vec![disabled.clone()]);
    let (all, body) = codes_for("all").await;
    assert_eq!(all.len(), 5);
    for (key, n) in [
        ("all", 5),
        ("active", 2),
        ("redeemed", 3),
        ("expired", 1),
        ("used_up", 1),
        ("disabled", 1),
    ] {
        assert!(
            body.contains(&format!("data-count=\"{key}\">{n}<")),
            "{key} count"
        );
    }
    // An expired invite that was redeemed carries both badges.
    let (_, page) = w.app.get_text(&format!("/admin/invites/{expired}")).await;
    assert!(
        page.contains(">Expired</span>") && page.contains(">Redeemed</span>"),
        "both badges: {page}"
    );

    let (status, body) = w.app.get_text("/admin/invites?q=family").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<&str> = body
        .split("data-code=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(listed, vec![fresh.as_str()], "search by label");
    let (_, body) = w.app.get_text("/admin/invites?q=hana").await;
    let listed: Vec<&str> = body
        .split("data-code=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(listed, vec![partly.as_str()], "search by member");
}

#[tokio::test]
async fn the_detail_page_lists_every_redemption_with_its_grants() {
    let w = world().await;
    let code = w.invite(&[w.plex_id, w.jf_id], "unlimited", |_| {}).await;
    for (email, name) in [("alice@example.com", "alice"), ("bob@example.com", "bobby")] {
        let res = w
            .redeem_api(
                &code,
                json!({"email": email, "username": name, "password": "a good password"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let (_, page) = w.app.get_text(&format!("/admin/invites/{code}")).await;
    assert!(page.contains("alice") && page.contains("bobby") && page.contains("2 used, no limit"));
    assert_eq!(page.matches("Home Plex:").count(), 2);
    assert_eq!(page.matches("Home Jellyfin:").count(), 2);
    assert!(page.contains("Waiting for you") && page.contains("Ready"));
}

#[tokio::test]
async fn deleting_an_invite_keeps_its_members() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    assert_eq!(
        w.redeem_api(&code, jf_body("kim")).await.status(),
        StatusCode::CREATED
    );
    let res = w
        .app
        .post_form(&format!("/admin/invites/{code}/delete"), &[])
        .await;
    assert_eq!(location(&res), "/admin/invites?done=deleted");
    assert!(
        w.app
            .state
            .store
            .invite_by_code(&code)
            .await
            .unwrap()
            .is_none()
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE invite_code = ?")
        .bind(&code)
        .fetch_one(&db(&w.app.state).await)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn the_dashboard_counts_redemptions_and_members_per_server() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "3", |_| {}).await;
    assert_eq!(
        w.redeem_api(&code, jf_body("lena")).await.status(),
        StatusCode::CREATED
    );
    let (_, body) = w.app.get_text("/admin").await;
    assert!(
        body.contains("<strong>1</strong>joined in 7 days"),
        "{body}"
    );
    assert!(body.contains("<strong>1</strong>members on Home Jellyfin"));
    assert!(body.contains("<svg class=\"chart\""));
}

/// A friend's typo (a username taken on the server) is answered on the form, three times for
/// three typos, and never reaches the owner's channels as a failed setup.
#[tokio::test]
async fn a_taken_username_is_answered_on_the_form_and_does_not_alarm_the_owner() {
    let w = world().await;
    let channel = w
        .app
        .state
        .store
        .insert_channel(
            usher::store::notify::NewChannel {
                kind: usher::domain::ChannelKind::Webhook,
                name: "everything",
                target_sealed: None,
                target_hint: None,
                address: Some("http://127.0.0.1:9/hook"),
                secret_sealed: None,
                events: &["provisioning.failed", "member.joined"],
                lang: "en",
            },
            w.app.clock.now(),
        )
        .await
        .unwrap();
    w.jf.add_user(fakes::jellyfin::SeedUser::member("taken", "pw"));
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    for _ in 0..3 {
        let res = w
            .redeem_api(
                &code,
                json!({"username": "taken", "password": "a good password"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["field"], "username", "{body}");
    }
    let deliveries = w.app.state.store.recent_deliveries(50).await.unwrap();
    assert!(
        deliveries
            .iter()
            .all(|d| d.channel_id != Some(channel) || d.event != "provisioning.failed"),
        "{deliveries:?}"
    );
    let failed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'grant.failed'")
            .fetch_one(&db(&w.app.state).await)
            .await
            .unwrap();
    assert_eq!(failed, 0);
    // The use was released each time: the right name still works.
    let res = w
        .redeem_api(
            &code,
            json!({"username": "fresh", "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn post_invite_form(
    w: &World,
    code: &str,
    lang: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let (_, res) = w.post_invite_form(code, lang, fields).await;
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_mixed_invite_form_has_a_part_per_server_and_names_every_mistake_at_once() {
    let w = world().await;
    let code = w.invite(&[w.plex_id, w.jf_id], "1", |_| {}).await;
    let (_, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert!(
        page.contains("<legend>Home Plex: your Plex account</legend>"),
        "{page}"
    );
    assert!(page.contains("<legend>Home Jellyfin: choose your login</legend>"));
    assert!(page.contains("formaction=\"/i/") && page.contains("formnovalidate"));
    assert!(
        !page.contains("novalidate>"),
        "the browser checks the fields first"
    );

    let mistakes = [
        ("plex_account", "not an account!"),
        ("username", "bad/name"),
        ("password", "a good password"),
        ("password_confirm", "a different one"),
        ("email", "someone@nodot"),
    ];
    let (status, page) = post_invite_form(&w, &code, "en", &mistakes).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for (field, says) in [
        (
            "plex_account",
            "Write the email address or username of your Plex account.",
        ),
        ("username", "A username can&#39;t contain “/”."),
        ("password_confirm", "The two passwords are not the same."),
        ("email", "That email address does not look right."),
    ] {
        let inline = format!("id=\"{field}-error\" class=\"field-error\" role=\"alert\">");
        let at = page
            .find(&inline)
            .unwrap_or_else(|| panic!("no inline error for {field}: {page}"));
        assert!(
            page[at..].starts_with(&inline) && page[at + inline.len()..].starts_with(says),
            "{field}: {}",
            &page[at..at + 200]
        );
    }
    assert_eq!(
        page.matches("Some details need fixing").count(),
        1,
        "one summary"
    );
    assert!(!page.contains('`'), "no backticks");
    assert!(!page.contains("user name"), "one spelling of username");
    assert_eq!(w.uses(&code).await, 0);

    // In Spanish, every message is Spanish and none is repeated.
    let (_, es) = post_invite_form(&w, &code, "es", &mistakes).await;
    assert!(es.contains("Hay que corregir algunos datos"), "{es}");
    assert!(es.contains("Un nombre de usuario no puede contener «/»"));
    for english in [
        "does not look right",
        "are not the same",
        "can&#39;t contain",
        "Write the email",
    ] {
        assert!(
            !es.contains(english),
            "English left in the Spanish page: {english}"
        );
    }

    // Everything fixed in one retry.
    let (status, _) = post_invite_form(
        &w,
        &code,
        "en",
        &[
            ("plex_account", "alice@example.com"),
            ("username", "alice"),
            ("password", "a good password"),
            ("password_confirm", "a good password"),
            ("email", "alice@example.com"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn public_fields_have_server_side_limits_matching_the_form() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let long = "a".repeat(5_000);
    let res = w
        .redeem_api(
            &code,
            json!({"username": long, "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "username");
    assert_eq!(
        body["error"]["fields"]["username"],
        "A username can be at most 64 characters."
    );
    let (status, page) = post_invite_form(
        &w,
        &code,
        "en",
        &[
            ("username", &"b".repeat(65)),
            ("password", &"p".repeat(257)),
            ("password_confirm", &"p".repeat(257)),
            ("email", &format!("{}@example.com", "e".repeat(250))),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("at most 64 characters") && page.contains("at most 256 characters"));
    assert!(page.contains("id=\"email-error\""));
    // The limits the form declares are the ones the server holds.
    let (_, form) = w.app.get_text(&format!("/i/{code}")).await;
    for attr in [
        "maxlength=\"64\"",
        "maxlength=\"256\"",
        "minlength=\"8\"",
        "maxlength=\"254\"",
    ] {
        assert!(form.contains(attr), "{attr}");
    }
    assert_eq!(w.uses(&code).await, 0);
}

/// Behind a trusted proxy, the address is the one the proxy appended: a client writing its own
/// `X-Forwarded-For` entries cannot choose a fresh address for every guess.
#[tokio::test]
async fn a_forged_forwarded_for_entry_does_not_escape_the_guessing_limit() {
    let w = world_with(|c| c.trust_proxy_headers = true).await;
    let http = reqwest::Client::new();
    let mut limited = 0;
    for i in 0..100 {
        let res = http
            .get(w.app.url(&format!("/i/GUESS{i:04}")))
            .header("x-forwarded-for", format!("198.51.100.{i}, 10.0.0.9"))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert_eq!(
        limited, 70,
        "30 misses from the proxy's client, then the limit"
    );
}
