use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn health_reports_ok_with_version_and_database() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn the_setup_page_refuses_without_the_token_or_with_a_wrong_one() {
    let app = spawn_app().await;
    let (status, body) = app.get_text("/setup").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("one-time link"), "{body}");
    let (status, _) = app.get_text("/setup?token=guess").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let res = app
        .post_form(
            "/setup",
            &[
                ("token", "guess"),
                ("username", ADMIN),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.state.store.admin_count().await.unwrap(), 0);
}

#[tokio::test]
async fn setup_with_the_token_creates_the_owner_and_lands_on_the_dashboard() {
    let app = spawn_app().await;
    let token = app.setup_token();
    let (status, body) = app.get_text(&format!("/setup?token={token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Welcome to usher"));

    let res = app.setup_admin().await;
    assert_eq!(location(&res), "/admin");
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );

    let (status, body) = app.get_text("/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Connect your first server"),
        "empty state says what to do next"
    );
    assert!(body.contains(ADMIN));
}

#[tokio::test]
async fn the_setup_token_is_single_use() {
    let app = spawn_app().await;
    let token = app.setup_token();
    app.setup_admin().await;

    let other = cookie_client();
    let res = other
        .get(app.url(&format!("/setup?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "setup is over: go to login"
    );
    assert_eq!(location(&res), "/login");

    // A second owner cannot be created with the same token, even by posting directly.
    let res = app
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("username", "intruder"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&res), "/login");
    assert_eq!(app.state.store.admin_count().await.unwrap(), 1);
    assert!(
        !usher::auth::setup_token_valid(&app.state.store, &token)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn setup_explains_a_short_or_mismatched_password() {
    let app = spawn_app().await;
    let token = app.setup_token();
    let res = app
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("username", ADMIN),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("at least 10 characters"));
    let res = app
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("username", ADMIN),
                ("password", PASSWORD),
                ("password_confirm", "something else!"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("not the same"));
    assert_eq!(app.state.store.admin_count().await.unwrap(), 0);
}

#[tokio::test]
async fn admin_pages_send_anonymous_visitors_to_login() {
    let app = spawn_app().await;
    let res = app.get("/admin").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login?next=%2Fadmin");
}

#[tokio::test]
async fn login_rotates_the_session_and_logout_ends_it() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let first = db(&app.state).await;
    let sessions_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&first)
        .await
        .unwrap();
    assert_eq!(sessions_before, 1);

    // Signing in again while signed in replaces the session instead of adding one.
    let res = app.login(ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let sessions: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM sessions")
        .fetch_all(&first)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1, "old session deleted at login");

    let res = app.post_form("/logout", &[]).await;
    assert_eq!(location(&res), "/login");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&first)
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(app.get("/admin").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn login_goes_back_to_the_page_asked_for_but_never_off_site() {
    let app = spawn_app().await;
    app.setup_admin().await;
    app.post_form("/logout", &[]).await;
    let res = app
        .post_form(
            "/login",
            &[
                ("username", ADMIN),
                ("password", PASSWORD),
                ("next", "/admin?tab=x"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/admin?tab=x");
    app.post_form("/logout", &[]).await;
    let res = app
        .post_form(
            "/login",
            &[
                ("username", ADMIN),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/admin");
}

#[tokio::test]
async fn a_wrong_password_says_so_without_telling_which_part_was_wrong() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let anon = cookie_client();
    let page = anon
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap();
    for (user, pw) in [(ADMIN, "wrong password!"), ("nobody", PASSWORD)] {
        let res = anon
            .post(app.url("/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", user),
                ("password", pw),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Wrong username or password")
        );
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_lockout_passes() {
    let app = spawn_app().await;
    app.setup_admin().await;
    app.post_form("/logout", &[]).await;
    for _ in 0..4 {
        assert_eq!(
            app.login(ADMIN, "not the password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.login(ADMIN, "not the password").await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "fifth failure locks"
    );
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("locked for 15 more minutes")
    );

    // Even the right password is refused while locked.
    let res = app.login(ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    app.clock.advance(15 * 60);
    let res = app.login(ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "lockout over");
}

/// A login from `ip` (through a trusted proxy) with a fresh anonymous session.
async fn login_from(app: &TestApp, ip: &str, user: &str, password: &str) -> reqwest::Response {
    let client = cookie_client();
    let page = client
        .get(app.url("/login"))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap();
    client
        .post(app.url("/login"))
        .header("x-forwarded-for", ip)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_burst_of_guesses_gets_no_more_checks_than_the_limit_and_no_sign_in_once_locked() {
    let app = spawn_with(|c| c.trust_proxy_headers = true).await;
    app.setup_admin().await;
    let tries = (0..15).map(|_| login_from(&app, "203.0.113.5", ADMIN, "a wrong guess!!"));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(tries)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let held = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (wrong, held),
        (4, 11),
        "five checked, the fifth failure locks: {statuses:?}"
    );
    let res = login_from(&app, "203.0.113.5", ADMIN, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "no sign-in once locked"
    );
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out_nor_tell_real_accounts_from_unknown_ones() {
    let app = spawn_with(|c| c.trust_proxy_headers = true).await;
    app.setup_admin().await;
    let mut answers = Vec::new();
    for user in [ADMIN, "nobody-here"] {
        for _ in 0..4 {
            let res = login_from(&app, "203.0.113.9", user, "a wrong guess!!").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let res = login_from(&app, "203.0.113.9", user, "a wrong guess!!").await;
        let status = res.status();
        let body = res.text().await.unwrap();
        let message = body
            .split("role=\"alert\"")
            .nth(1)
            .and_then(|s| s.split('<').next().map(str::to_string))
            .unwrap_or_default()
            .replace(user, "");
        answers.push((status, message));
        let again = login_from(&app, "203.0.113.9", user, "another guess!!").await;
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(
        answers[0], answers[1],
        "locked and unknown accounts answer alike"
    );
    assert_eq!(answers[0].0, StatusCode::TOO_MANY_REQUESTS);
    // The owner, from their own address, signs in all the same.
    let res = login_from(&app, "198.51.100.7", ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn two_hundred_concurrent_logins_answer_401_or_429_and_never_fail() {
    let app = spawn_with(|c| c.trust_proxy_headers = true).await;
    app.setup_admin().await;
    let tries = (0..200).map(|i| {
        let ip = format!("192.0.2.{}", i % 250);
        let app = &app;
        async move {
            login_from(app, &ip, &format!("nobody{i}"), "a wrong guess!!")
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(tries).await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn one_address_cannot_try_passwords_endlessly() {
    let app = spawn_app().await;
    app.setup_admin().await;
    app.post_form("/logout", &[]).await;
    for i in 0..20 {
        let res = app.login(&format!("nobody{i}"), "whatever whatever").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.login(ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    app.clock.advance(15 * 60);
    assert_eq!(
        app.login(ADMIN, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_with_a_clear_page() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let res = app
        .client
        .post(app.url("/logout"))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = res.text().await.unwrap();
    assert!(body.contains("reload the page"), "{body}");
    // Still signed in: the forged logout did nothing.
    assert_eq!(app.get("/admin").await.status(), StatusCode::OK);

    let res = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf", "0000000000000000000000000000000000000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_post_from_another_site_is_refused_even_with_a_token() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let token = app.csrf().await;
    let res = app
        .client
        .post(app.url("/logout"))
        .header("origin", "https://evil.example")
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .client
        .post(app.url("/logout"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .client
        .post(app.url("/logout"))
        .header("origin", app.base.clone())
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "same origin with token works"
    );
}

#[tokio::test]
async fn the_session_survives_a_restart() {
    let app = spawn_app().await;
    app.setup_admin().await;
    assert_eq!(app.get("/admin").await.status(), StatusCode::OK);
    let (dir, clock, client) = app.stop().await;

    let config = test_config(dir.path());
    let app = start(config, dir, clock, client).await;
    assert!(
        app.setup_url.is_none(),
        "no setup link once an admin exists"
    );
    let (status, body) = app.get_text("/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(ADMIN));
}

#[tokio::test]
async fn sessions_expire_after_the_configured_days_without_use() {
    let app = spawn_with(|c| c.session_days = 2).await;
    app.setup_admin().await;
    app.clock.advance(86_400);
    assert_eq!(
        app.get("/admin").await.status(),
        StatusCode::OK,
        "use slides the expiry"
    );
    app.clock.advance(2 * 86_400 - 1);
    assert_eq!(app.get("/admin").await.status(), StatusCode::OK);
    app.clock.advance(2 * 86_400 + 1);
    assert_eq!(app.get("/admin").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn shutdown_finishes_and_leaves_a_clean_database() {
    let app = spawn_app().await;
    app.setup_admin().await;
    // An idle keep-alive connection must not hold shutdown open.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let started = std::time::Instant::now();
    let (dir, _, _) = app.stop().await;
    assert!(started.elapsed() < usher::SHUTDOWN_GRACE + std::time::Duration::from_secs(1));
    let wal = dir.path().join("usher.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "WAL checkpointed on close"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/healthz", "/nowhere", "/setup"] {
        let res = app.get(path).await;
        let h = res.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(
            h.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert!(h.contains_key("referrer-policy"), "{path}");
    }
}

#[tokio::test]
async fn https_public_urls_mark_cookies_secure() {
    let app = spawn_with(|c| c.public_url = Some("https://usher.example.com".into())).await;
    assert!(
        app.setup_url
            .as_ref()
            .unwrap()
            .starts_with("https://usher.example.com/setup?token=")
    );
    let res = app.setup_admin().await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(res.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn unknown_pages_are_a_friendly_404_and_api_errors_are_json() {
    let app = spawn_app().await;
    let (status, body) = app.get_text("/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("<html") && body.contains("There is nothing at this address"));
    let res = app.get("/api/v1/nothing").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_malformed_form_is_a_400_not_a_500() {
    let app = spawn_app().await;
    let token = app.csrf().await;
    let res = app
        .client
        .post(app.url("/prefs"))
        .form(&[("csrf", token.as_str()), ("theme", "purple")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("theme must be"));
}

#[tokio::test]
async fn pages_speak_spanish_from_the_switch_or_accept_language() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/login"))
        .header("accept-language", "es-ES,es;q=0.9")
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.contains("Iniciar sesión") && body.contains("lang=\"es\""));

    let res = app
        .post_form("/prefs", &[("lang", "es"), ("back", "/login")])
        .await;
    assert_eq!(location(&res), "/login");
    let (_, body) = app.get_text("/login").await;
    assert!(body.contains("Iniciar sesión"), "the switch is remembered");
    app.post_form("/prefs", &[("lang", "en"), ("back", "/login")])
        .await;
    let res = app
        .client
        .get(app.url("/login"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    assert!(
        res.text().await.unwrap().contains("Sign in"),
        "the switch beats Accept-Language"
    );
}

#[tokio::test]
async fn the_theme_toggle_is_remembered_and_never_redirects_off_site() {
    let app = spawn_app().await;
    let res = app
        .post_form(
            "/prefs",
            &[("theme", "dark"), ("back", "https://evil.example")],
        )
        .await;
    assert_eq!(location(&res), "/");
    let (_, body) = app.get_text("/login").await;
    assert!(body.contains("data-theme=\"dark\""));
}

#[tokio::test]
async fn assets_are_fingerprinted_and_cached_for_a_year() {
    let app = spawn_app().await;
    let (_, body) = app.get_text("/login").await;
    let start = body.find("/assets/app.").unwrap();
    let end = body[start..].find('"').unwrap() + start;
    let href = body[start..end].to_string();
    let res = app.get(&href).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(
        app.get("/assets/app.css").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn metrics_are_off_without_a_token_and_need_it_when_set() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);

    let app = spawn_with(|c| c.metrics_token = Some("m-token".into())).await;
    app.get("/login").await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("m-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            "usher_http_requests_total{route=\"/login\",method=\"GET\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("usher_http_request_duration_seconds_bucket{route=\"/login\""));
}

#[tokio::test]
async fn templates_can_be_overridden_from_the_data_dir() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/login.html"),
        "{% extends \"base.html\" %}{% block content %}<p>Custom door</p>{% endblock %}",
    )
    .unwrap();
    let app = start(
        test_config(dir.path()),
        dir,
        usher::clock::Clock::manual(START),
        cookie_client(),
    )
    .await;
    let (_, body) = app.get_text("/login").await;
    assert!(body.contains("Custom door"));
}

/// Browsers drop TAB, CR and LF from URLs and read `\` as `/`, so `/%09/evil.example` becomes
/// `//evil.example`: no `next` or `back` may leave the site once a browser has normalised it.
#[tokio::test]
async fn redirect_targets_stay_on_the_site_after_a_browsers_normalisation() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for evil in [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "/%5Cevil.example",
        "/%09%5Cevil.example",
        "/\\/evil.example",
        "%2F%2Fevil.example",
        "/%E2%80%8B/evil.example",
        "https://evil.example",
    ] {
        let res = app.get(&format!("/login?next={evil}")).await;
        assert_eq!(location(&res), "/admin", "{evil} while signed in");
        let res = app
            .post_form("/prefs", &[("theme", "dark"), ("back", &decode(evil))])
            .await;
        assert_eq!(location(&res), "/", "{evil} as back");
    }
    assert_eq!(
        location(&app.get("/login?next=/admin/members%3Fq%3Dx").await),
        "/admin/members?q=x"
    );
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_oversized_json_body_is_413_like_an_oversized_form() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let huge = format!(
        "{{\"username\": \"{}\", \"password\": \"a good password\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let res = reqwest::Client::new()
        .post(w.app.url(&format!("/api/v1/invites/{code}/redeem")))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large");
}

#[tokio::test]
async fn form_bytes_that_are_not_utf8_are_refused_not_stored_lossily() {
    let w = world().await;
    let visitor = cookie_client();
    let page = visitor
        .get(w.app.url("/request"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap();
    let res = visitor
        .post(w.app.url("/request"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={csrf}&name=Bad%FF%FEName&email=bad%40example.com"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(w.app.state.store.requests(10).await.unwrap().is_empty());

    // Text that decodes but cannot belong in a name or an address is refused too.
    for (name, email) in [
        ("Line\u{2028}Break", "lb@example.com"),
        ("Ana", "a\u{fffd}@example.com"),
        ("Zero\u{200b}Width", "zw@example.com"),
    ] {
        let res = visitor
            .post(w.app.url("/request"))
            .form(&[("csrf", csrf.as_str()), ("name", name), ("email", email)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?} {email:?}"
        );
    }
    assert!(w.app.state.store.requests(10).await.unwrap().is_empty());
}

/// A visitor without cookies gets the anonymous cookie only from pages (their forms need it),
/// never from the API, health checks, assets or downloads.
#[tokio::test]
async fn only_pages_set_the_anonymous_cookie() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let (_, page) = w.app.get_text("/join").await;
    let asset = page
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|h| h.ends_with(".css")))
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let sets_cookie = |path: String| {
        let http = http.clone();
        async move {
            let res = http.get(path).send().await.unwrap();
            res.headers().get_all("set-cookie").iter().count() > 0
        }
    };
    for path in [
        "/healthz".to_string(),
        format!("/api/v1/invites/{code}"),
        "/api/v1/openapi.json".to_string(),
        asset,
    ] {
        assert!(!sets_cookie(w.app.url(&path)).await, "{path}");
    }
    for path in ["/join", "/request", &format!("/i/{code}")] {
        assert!(
            sets_cookie(w.app.url(path)).await,
            "{path} needs it for its form"
        );
    }
}

#[tokio::test]
async fn a_schema_edit_that_matched_nothing_stops_its_migration_instead_of_being_recorded() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usher.db");
    let store = usher::store::Store::open(&path).await.unwrap();
    store.migrate(0).await.unwrap();
    drop(store);
    // A database whose servers table was written differently before migration 15: its
    // in-place widening finds nothing to replace.
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::raw_sql(
        "PRAGMA writable_schema = ON;
         UPDATE sqlite_schema SET sql = replace(sql, '''komga'', ''kavita'', ', '''komga'', ')
          WHERE type = 'table' AND name = 'servers';
         UPDATE sqlite_schema SET sql = replace(sql,
           'CHECK (kind IN (''plex'', ''jellyfin'', ''emby'', ''audiobookshelf'', ''navidrome'', ''komga'', ''romm''))',
           'CHECK (kind IN (''plex'',''jellyfin'',''emby''))')
          WHERE type = 'table' AND name = 'servers';
         PRAGMA writable_schema = OFF;
         DELETE FROM schema_migrations WHERE version = 15;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let store = usher::store::Store::open(&path).await.unwrap();
    let err = store.migrate(0).await.unwrap_err();
    assert!(
        matches!(err, usher::store::StoreError::Migration { version: 15, .. }),
        "{err}"
    );
    assert!(
        format!("{err:?}").contains("CHECK constraint failed"),
        "{err:?}"
    );
    let recorded: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&db_at(&path).await)
        .await
        .unwrap();
    assert!(!recorded.contains(&15), "the failed step is not recorded");
}
