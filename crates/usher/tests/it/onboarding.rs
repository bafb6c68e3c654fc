use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn redeem_and_welcome(w: &World, code: &str, name: &str) -> String {
    redeem_and_welcome_in(w, code, name, "en").await
}

/// Redeems as a browser that asks for `lang` and returns the welcome page.
async fn redeem_and_welcome_in(w: &World, code: &str, name: &str, lang: &str) -> String {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("accept-language", lang.parse().unwrap());
    let visitor = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
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
            ("username", name),
            ("password", "a good password"),
            ("password_confirm", "a good password"),
            ("accept_rules", "on"),
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
    visitor
        .get(w.app.url(&location(&res)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn owner_written_steps_render_safely_with_variables() {
    let w = world().await;
    w.app
        .post_form("/admin/settings/general", &[("owner_name", "Ana <3")])
        .await;
    let res = w
        .app
        .post_form(
            "/admin/onboarding/jellyfin",
            &[
                ("title_0", "Hello {{member_name}}"),
                ("body_0", "Welcome to **{{server_name}}** from {{owner_name}}! <script>alert(1)</script> [app](javascript:alert(1))"),
                ("position_0", "2"),
                ("title_1", "First"),
                ("body_1", "Until {{expires}}"),
                ("position_1", "1"),
            ],
        )
        .await;
    assert_eq!(
        location(&res),
        "/admin/onboarding?kind=jellyfin&lang=en&done=saved"
    );
    let code = w
        .invite(&[w.jf_id], "1", |i| i.duration = "30d".into())
        .await;
    let page = redeem_and_welcome(&w, &code, "sam").await;
    assert!(page.contains("<strong>Hello sam</strong>"), "{page}");
    assert!(page.contains("<strong>Home Jellyfin</strong> from Ana &lt;3!"));
    assert!(!page.contains("<script>alert") && !page.contains("javascript:"));
    let first = page.find("<strong>First</strong>").unwrap();
    let hello = page.find("<strong>Hello sam</strong>").unwrap();
    assert!(first < hello, "ordered by position");
    assert!(page.contains("Until 2026-12-22"), "expiry variable");
}

#[tokio::test]
async fn preview_does_not_save_and_reset_brings_back_the_defaults() {
    let w = world().await;
    let res = w
        .app
        .post_form(
            "/admin/onboarding/plex",
            &[
                ("title_0", "Draft"),
                ("body_0", "*draft*"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(body.contains("not saved yet") && body.contains("<em>draft</em>"));
    assert!(
        w.app
            .state
            .store
            .onboarding_steps(usher::domain::OnboardingKind::Plex)
            .await
            .unwrap()
            .is_empty()
    );

    w.app
        .post_form(
            "/admin/onboarding/plex",
            &[("title_0", "Mine"), ("body_0", "mine")],
        )
        .await;
    assert_eq!(
        w.app
            .state
            .store
            .onboarding_steps(usher::domain::OnboardingKind::Plex)
            .await
            .unwrap()
            .len(),
        1
    );
    let res = w.app.post_form("/admin/onboarding/plex/reset", &[]).await;
    assert_eq!(
        location(&res),
        "/admin/onboarding?kind=plex&lang=en&done=reset"
    );
    let (_, page) = w.app.get_text("/admin/onboarding?kind=plex").await;
    assert!(
        page.contains("Accept the invitation"),
        "built-in steps are back"
    );

    let res = w
        .app
        .post_form(
            "/admin/onboarding/plex",
            &[("title_0", ""), ("body_0", "text without title")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        w.app
            .post_form("/admin/onboarding/kodi", &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn house_rules_must_be_accepted_before_redeeming() {
    let w = world().await;
    w.app
        .post_form(
            "/admin/onboarding/before",
            &[("title_0", "Be nice"), ("body_0", "No sharing passwords.")],
        )
        .await;
    let code = w.invite(&[w.jf_id], "2", |_| {}).await;
    let (_, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert!(page.contains("No sharing passwords.") && page.contains("I have read and accept"));
    let res = w
        .redeem_api(
            &code,
            json!({"username": "rule", "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "accept_rules");
    let res = w
        .redeem_api(
            &code,
            json!({"username": "rule", "password": "a good password", "accept_rules": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_guide_speaks_both_languages_and_names_the_owner() {
    let w = world().await;
    w.app
        .post_form(
            "/admin/settings/general",
            &[
                ("owner_name", "Ana"),
                ("community_url", "https://discord.gg/abc"),
            ],
        )
        .await;
    let en = reqwest::Client::new()
        .get(w.app.url("/guide"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("This is Ana&#39;s media server") && en.contains("https://discord.gg/abc"),
        "{en}"
    );
    assert!(en.contains("Home Plex") && en.contains("app.plex.tv"));
    let es = reqwest::Client::new()
        .get(w.app.url("/guide"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(es.contains("Este es el servidor multimedia de Ana") && es.contains("lang=\"es\""));
    let res = w
        .app
        .post_form(
            "/admin/settings/general",
            &[("owner_name", "Ana"), ("community_url", "javascript:x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Every page, in every language, with data on it: nothing missing, nothing broken.
#[tokio::test]
async fn every_page_renders_in_english_and_spanish() {
    let w = world().await;
    let code = w
        .invite(&[w.plex_id, w.jf_id], "3", |i| i.label = "Family".into())
        .await;
    let res = w
        .redeem_api(&code, json!({"email": "alice@example.com", "username": "alice", "password": "a good password"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let member = res.json::<serde_json::Value>().await.unwrap()["member"]["id"]
        .as_i64()
        .unwrap();
    usher::requests::submit(
        &w.app.state,
        &usher::requests::RequestInput {
            name: "Rita".into(),
            email: "rita@example.com".into(),
            ..Default::default()
        },
        "10.0.0.1",
    )
    .await
    .unwrap();
    let pages = [
        "/admin".to_string(),
        "/admin/servers".into(),
        "/admin/servers/new".into(),
        format!("/admin/servers/{}", w.plex_id),
        format!("/admin/servers/{}", w.jf_id),
        "/admin/invites".into(),
        "/admin/invites/new".into(),
        format!("/admin/invites/{code}"),
        "/admin/requests".into(),
        "/admin/members".into(),
        format!("/admin/members/{member}"),
        "/admin/settings".into(),
        "/admin/onboarding".into(),
        "/admin/onboarding?kind=before".into(),
        format!("/i/{code}"),
        "/join".into(),
        "/request".into(),
        "/request/sent".into(),
        "/guide".into(),
        "/nowhere".into(),
    ];
    for lang in ["en", "es"] {
        w.app
            .post_form("/prefs", &[("lang", lang), ("back", "/")])
            .await;
        for path in &pages {
            let (status, body) = w.app.get_text(path).await;
            let expected = if path == "/nowhere" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            assert_eq!(status, expected, "{lang} {path}: {body}");
            assert!(
                body.contains(&format!("<html lang=\"{lang}\"")),
                "{lang} {path}"
            );
            assert!(
                !body.contains("{ $") && !body.contains("no translation"),
                "{lang} {path}"
            );
        }
    }
}

#[test]
fn every_email_and_telegram_message_resolves_in_both_languages() {
    let i18n = usher::ui::i18n::I18n::load();
    let with_args: &[(&str, &[&str])] = &[
        ("notify-person-request-approved-subject", &[]),
        ("notify-person-request-approved-body", &["name", "access"]),
        ("notify-person-request-declined-subject", &[]),
        ("notify-person-request-declined-body", &["name"]),
        ("notify-person-invite-redeemed-subject", &["servers"]),
        (
            "notify-person-invite-redeemed-body",
            &["name", "servers", "places", "guide"],
        ),
        ("settings-email-test-subject", &[]),
        ("settings-email-test-body", &[]),
        ("tg-new-request", &[]),
        ("tg-expires", &["when"]),
        ("tg-stats", &["pending", "invites", "week"]),
        ("tg-help", &[]),
        ("tg-not-allowed-id", &["id"]),
    ];
    for lang in ["en", "es"] {
        for (key, args) in with_args {
            let values: Vec<(&str, fluent_bundle::FluentValue)> = args
                .iter()
                .map(|a| (*a, format!("value-of-{a}").into()))
                .collect();
            let text = i18n
                .get(lang, key, &values)
                .unwrap_or_else(|| panic!("{lang} lacks {key}"));
            assert!(
                !text.trim().is_empty() && !text.contains("{$") && !text.contains("{ $"),
                "{lang} {key}: {text}"
            );
            for a in *args {
                assert!(
                    text.contains(&format!("value-of-{a}")),
                    "{lang} {key} uses its argument {a}: {text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn steps_are_read_replaced_and_reset_through_the_api_and_the_cli_and_friends_see_them() {
    let w = world().await;
    let a = crate::api::api(&w).await;
    let (status, body) = a
        .call("GET", "/api/v1/onboarding/jellyfin?lang=es", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["custom"], false);
    assert!(!body["steps"].as_array().unwrap().is_empty());
    let (status, _) = a.call("GET", "/api/v1/onboarding/betamax", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = a
        .call(
            "PUT",
            "/api/v1/onboarding/jellyfin",
            Some(json!({"steps": [{"title": "", "body": "no title"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("needs a title")
    );
    let too_many: Vec<_> = (0..21)
        .map(|i| json!({"title": format!("Step {i}")}))
        .collect();
    let (status, _) = a
        .call(
            "PUT",
            "/api/v1/onboarding/jellyfin",
            Some(json!({"steps": too_many})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = a
        .call(
            "PUT",
            "/api/v1/onboarding/jellyfin",
            Some(json!({"steps": [{"title": "Get Finamp", "body": "Then sign in to **{{server_name}}**."}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["custom"], true);
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let welcome = redeem_and_welcome(&w, &code, "finn").await;
    assert!(welcome.contains("Get Finamp"), "{welcome}");
    assert!(
        welcome.contains("<strong>Home Jellyfin</strong>"),
        "{welcome}"
    );

    let outs = crate::cli::usher_runs(
        &w.app,
        &[],
        &[
            (&["onboarding", "show", "jellyfin"], ""),
            (
                &["onboarding", "save", "before"],
                r#"{"steps": [{"title": "House rules", "body": "Be kind."}]}"#,
            ),
            (&["onboarding", "show", "before", "--json"], ""),
            (
                &["onboarding", "save", "before"],
                r#"{"steps": [{"title": "x", "body": "y", "extra": 1}]}"#,
            ),
            (&["onboarding", "reset", "jellyfin"], ""),
            (&["onboarding", "show", "laserdisc"], ""),
        ],
    )
    .await;
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(text(&outs[0]).contains("(yours)") && text(&outs[0]).contains("Get Finamp"));
    assert!(outs[1].status.success(), "{}", err(&outs[1]));
    let before: serde_json::Value = serde_json::from_str(&text(&outs[2])).unwrap();
    assert_eq!(before["steps"][0]["title"], "House rules");
    assert!(!outs[3].status.success() && err(&outs[3]).contains("extra"));
    assert!(outs[4].status.success(), "{}", err(&outs[4]));
    assert!(!outs[5].status.success() && err(&outs[5]).contains("plex_home"));
    let (_, body) = a.call("GET", "/api/v1/onboarding", None).await;
    let kinds: Vec<(&str, bool)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap(), k["custom"].as_bool().unwrap()))
        .collect();
    assert!(kinds.contains(&("jellyfin", false)) && kinds.contains(&("before", true)));
}

#[tokio::test]
async fn steps_are_kept_per_language_and_the_other_keeps_the_built_in_ones() {
    let w = world().await;
    let res = w
        .app
        .post_form(
            "/admin/onboarding/jellyfin",
            &[
                ("lang", "es"),
                ("title_0", "Entra con {{member_name}}"),
                ("body_0", "Abre **{{server_name}}**."),
            ],
        )
        .await;
    assert_eq!(
        location(&res),
        "/admin/onboarding?kind=jellyfin&lang=es&done=saved"
    );
    let code = w.invite(&[w.jf_id], "2", |_| {}).await;
    let es = redeem_and_welcome_in(&w, &code, "sara", "es").await;
    assert!(es.contains("<strong>Entra con sara</strong>"), "{es}");
    let en = redeem_and_welcome_in(&w, &code, "sam", "en").await;
    assert!(
        !en.contains("Entra con"),
        "English keeps the built-in steps: {en}"
    );
    assert!(en.contains("Get the app"), "{en}");
    // The editor shows each language's own, and previews with the server of the tab's kind.
    let (_, editor) = w
        .app
        .get_text("/admin/onboarding?kind=jellyfin&lang=es")
        .await;
    assert!(
        editor.contains("value=\"Entra con {{member_name}}\""),
        "{editor}"
    );
    assert!(
        editor.contains("Abre <strong>Home Jellyfin</strong>"),
        "the preview names the Jellyfin server: {editor}"
    );
    let (_, editor) = w
        .app
        .get_text("/admin/onboarding?kind=jellyfin&lang=en")
        .await;
    assert!(!editor.contains("Entra con"), "{editor}");
    // The API and the CLI speak of one language at a time too.
    let a = crate::api::api(&w).await;
    let (status, _) = a
        .call(
            "PUT",
            "/api/v1/onboarding/jellyfin",
            Some(json!({"steps": [], "lang": "fr"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The document says a text: `null` does not fit it, so it is a 400, not "the default".
    let (status, _) = a
        .call(
            "PUT",
            "/api/v1/onboarding/jellyfin",
            Some(json!({"steps": [], "lang": null})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, es_json) = a
        .call("GET", "/api/v1/onboarding/jellyfin?lang=es", None)
        .await;
    assert_eq!(es_json["custom"], true);
    let (_, en_json) = a
        .call("GET", "/api/v1/onboarding/jellyfin?lang=en", None)
        .await;
    assert_eq!(en_json["custom"], false);
    let (status, reset) = a
        .call("POST", "/api/v1/onboarding/jellyfin/reset?lang=es", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reset["custom"], false);
}
