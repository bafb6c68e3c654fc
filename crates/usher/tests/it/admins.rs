//! Admin accounts on the web: one's own password and signed-in browsers, the owner's links that
//! bring in other admins, role changes and removal, and the Telegram account linked to each.

use reqwest::StatusCode;
use usher::domain::Role;

use crate::helpers::*;

/// Posts a form from `client` with its own CSRF token.
async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.post_form_from(client, path, fields).await
}

/// Sends the account page's password form.
async fn change_password(
    app: &TestApp,
    current: &str,
    new: &str,
    confirm: &str,
) -> reqwest::Response {
    app.post_form(
        "/admin/account/password",
        &[
            ("current", current),
            ("password", new),
            ("password_confirm", confirm),
        ],
    )
    .await
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_the_other_browsers() {
    let app = spawn_app().await;
    app.setup_admin().await;
    // The same owner on a second browser.
    let laptop = cookie_client();
    let res = app.sign_in(&laptop, ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let wrong = change_password(
        &app,
        "not the password",
        "a brand new passphrase here",
        "a brand new passphrase here",
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("The current password is not right.")
    );

    let weak = change_password(&app, PASSWORD, "password123", "password123").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.text()
            .await
            .unwrap()
            .contains("one of those people use most")
    );

    let differ = change_password(
        &app,
        PASSWORD,
        "a brand new passphrase here",
        "a brand new passphrase there",
    )
    .await;
    assert_eq!(differ.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let done = change_password(
        &app,
        PASSWORD,
        "a brand new passphrase here",
        "a brand new passphrase here",
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/admin/account?done=password");
    // This browser stays signed in; the laptop is signed out.
    assert_eq!(app.get("/admin/account").await.status(), StatusCode::OK);
    let res = laptop.get(app.url("/admin/account")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"));
    // The old password no longer signs in; the new one does.
    let fresh = cookie_client();
    let old = app.sign_in(&fresh, ADMIN, PASSWORD).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let events = app.state.store.recent_events(20).await.unwrap();
    assert!(events.iter().any(|e| e.action == "admin.password_changed"));
}

#[tokio::test]
async fn wrong_current_passwords_lock_the_account_page_like_the_sign_in() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        let res = change_password(
            &app,
            "guess guess guess",
            "a brand new passphrase here",
            "a brand new passphrase here",
        )
        .await;
        last = res.status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                res.text()
                    .await
                    .unwrap()
                    .contains("Too many wrong passwords")
            );
            break;
        }
        assert_eq!(last, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "never locked");
    // Locked: even the right password is refused until the lock ends.
    let res = change_password(
        &app,
        PASSWORD,
        "a brand new passphrase here",
        "a brand new passphrase here",
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_account_page_lists_each_browser_and_ends_the_one_chosen() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let phone = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
        .build()
        .unwrap();
    app.sign_in(&phone, ADMIN, PASSWORD).await;
    let (status, page) = app.get_text("/admin/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Safari on iPhone"), "{page}");
    assert!(page.contains("127.0.0.1"));
    assert!(page.contains("This browser"));
    let admin = app.state.store.admin_by_name(ADMIN).await.unwrap().unwrap();
    let sessions = app
        .state
        .store
        .sessions_of(admin.id, app.clock.now())
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    let phone_session = sessions
        .iter()
        .find(|s| {
            s.user_agent
                .as_deref()
                .is_some_and(|u| u.contains("iPhone"))
        })
        .unwrap();
    let res = app
        .post_form(
            &format!("/admin/account/sessions/{}/end", phone_session.id),
            &[],
        )
        .await;
    assert_eq!(location(&res), "/admin/account?done=ended");
    let res = phone.get(app.url("/admin/account")).send().await.unwrap();
    assert!(
        location(&res).starts_with("/login"),
        "the phone is signed out"
    );
    assert_eq!(app.get("/admin/account").await.status(), StatusCode::OK);
    // Someone else's session, or one already ended, is not found.
    let res = app
        .post_form(
            &format!("/admin/account/sessions/{}/end", phone_session.id),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_owner_brings_in_an_approver_with_a_one_time_link() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let res = app
        .post_form(
            "/admin/admins/invites",
            &[("role", "approver"), ("hours", "48")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let start = page
        .find(&format!("{}/team/", app.base))
        .expect("the link is shown");
    let link: String = page[start..].chars().take_while(|c| *c != '"').collect();
    let path = link.trim_start_matches(&app.base).to_string();
    // Shown once: the list afterwards does not carry it.
    let (_, list) = app.get_text("/admin/admins").await;
    assert!(!list.contains(&path));
    assert!(list.contains("open"));

    let friend = cookie_client();
    let (status, form) = text_of(&friend, app.url(&path)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Approver"), "{form}");
    let weak = post(
        &app,
        &friend,
        &path,
        &[
            ("username", "sam"),
            ("password", "password123"),
            ("password_confirm", "password123"),
        ],
    )
    .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let taken = post(
        &app,
        &friend,
        &path,
        &[
            ("username", ADMIN),
            ("password", "sam's own long passphrase"),
            ("password_confirm", "sam's own long passphrase"),
        ],
    )
    .await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.text().await.unwrap().contains("already"));
    let joined = post(
        &app,
        &friend,
        &path,
        &[
            ("username", "sam"),
            ("password", "sam's own long passphrase"),
            ("password_confirm", "sam's own long passphrase"),
        ],
    )
    .await;
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&joined), "/admin/requests");
    let (status, _) = text_of(&friend, app.url("/admin/requests")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = text_of(&friend, app.url("/admin/invites")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an approver's role");
    let sam = app.state.store.admin_by_name("sam").await.unwrap().unwrap();
    assert_eq!(sam.role, Role::Approver);

    // Used once: the link is gone for anyone else.
    let other = cookie_client();
    let (status, page) = text_of(&other, app.url(&path)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("has been used, was revoked or has expired"));
    let again = post(
        &app,
        &other,
        &path,
        &[
            ("username", "mallory"),
            ("password", "mallory's long passphrase"),
            ("password_confirm", "mallory's long passphrase"),
        ],
    )
    .await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(
        app.state
            .store
            .admin_by_name("mallory")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_link_ends_when_it_expires_or_is_revoked() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let state = &app.state;
    let expiring = usher::auth::team::invite(state, Role::Admin, 1, ADMIN)
        .await
        .unwrap();
    let revoked = usher::auth::team::invite(state, Role::Admin, 48, ADMIN)
        .await
        .unwrap();
    let path = |url: &str| url.trim_start_matches(&app.base).to_string();
    let res = app
        .post_form(&format!("/admin/admins/invites/{}/revoke", revoked.id), &[])
        .await;
    assert_eq!(location(&res), "/admin/admins?done=revoked");
    app.clock.advance(3601);
    for url in [&expiring.url, &revoked.url] {
        let (status, _) = text_of(&cookie_client(), app.url(&path(url))).await;
        assert_eq!(status, StatusCode::GONE, "{url}");
    }
    let bad = app
        .post_form(
            "/admin/admins/invites",
            &[("role", "approver"), ("hours", "500")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("1 hour to 7 days"));
    let bad = app
        .post_form("/admin/admins/invites", &[("role", "king"), ("hours", "5")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_owner_changes_roles_removes_admins_and_links_telegram_accounts() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let helper = app.signed_in_as(Role::Admin).await;
    let them = app
        .state
        .store
        .admin_by_name("the-admin")
        .await
        .unwrap()
        .unwrap();
    let me = app.state.store.admin_by_name(ADMIN).await.unwrap().unwrap();

    // The last owner cannot demote themselves.
    let res = app
        .post_form(
            &format!("/admin/admins/{}/role", me.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("usher needs an owner"));

    let res = app
        .post_form(
            &format!("/admin/admins/{}/role", them.id),
            &[("role", "approver")],
        )
        .await;
    assert_eq!(location(&res), "/admin/admins?done=role");
    let (status, _) = text_of(&helper, app.url("/admin/invites")).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the new role applies at once"
    );

    // Telegram: only an allow-listed id, and one admin per id.
    let not_allowed = app
        .post_form(
            &format!("/admin/admins/{}/telegram", them.id),
            &[("telegram_id", "4242")],
        )
        .await;
    assert_eq!(not_allowed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        not_allowed
            .text()
            .await
            .unwrap()
            .contains("not allowed to use the bot")
    );
    let mut settings = app.state.store.settings().await.unwrap();
    settings.telegram.allowed_ids = vec![4242, 777];
    app.state
        .store
        .save_settings(&settings, app.clock.now())
        .await
        .unwrap();
    let linked = app
        .post_form(
            &format!("/admin/admins/{}/telegram", them.id),
            &[("telegram_id", "4242")],
        )
        .await;
    assert_eq!(location(&linked), "/admin/admins?done=telegram");
    let taken = app
        .post_form(
            &format!("/admin/admins/{}/telegram", me.id),
            &[("telegram_id", "4242")],
        )
        .await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let linked = app
        .state
        .store
        .admin_by_telegram(4242)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.username, "the-admin");

    // Removal needs the box ticked, then signs them out.
    let unconfirmed = app
        .post_form(&format!("/admin/admins/{}/remove", them.id), &[])
        .await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let removed = app
        .post_form(
            &format!("/admin/admins/{}/remove", them.id),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(location(&removed), "/admin/admins?done=removed");
    let res = helper.get(app.url("/admin/requests")).send().await.unwrap();
    assert!(location(&res).starts_with("/login"));
    let actions: Vec<String> = app
        .state
        .store
        .recent_events(20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "admin.role_changed",
        "admin.telegram_linked",
        "admin.removed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

/// The key the account page shows while enrolling, and the code an app would show for it now.
fn code_now(app: &TestApp, page: &str) -> (Vec<u8>, String) {
    let start = page.find("id=\"tf-secret\">").expect("the key is shown") + 15;
    let key: String = page[start..].chars().take_while(|c| *c != '<').collect();
    let secret = usher::auth::totp::from_base32(&key).unwrap();
    let code = code_at(&secret, app.clock.now());
    (secret, code)
}

fn code_at(secret: &[u8], now: i64) -> String {
    use usher::auth::totp;
    format!("{:06}", totp::code_at(secret, totp::step_of(now)))
}

/// Enrols an authenticator for the signed-in owner; returns the secret and the recovery codes.
async fn enrol(app: &TestApp) -> (Vec<u8>, Vec<String>) {
    let res = app.post_form("/admin/account/two-factor/start", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("<svg"), "a QR code to scan");
    let (secret, code) = code_now(app, &page);
    let wrong = app
        .post_form("/admin/account/two-factor/confirm", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("That code is not right")
    );
    let res = app
        .post_form("/admin/account/two-factor/confirm", &[("code", &code)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let codes: Vec<String> = page
        .match_indices("<li><code>")
        .map(|(i, _)| page[i + 10..].chars().take_while(|c| *c != '<').collect())
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
    let (_, again) = app.get_text("/admin/account").await;
    assert!(!again.contains(&codes[0]), "not shown a second time");
    assert!(again.contains("10 unused recovery codes"));
    (secret, codes)
}

/// Signs a fresh browser in with the password: it is sent to the code page, not yet signed in.
async fn password_step(app: &TestApp) -> reqwest::Client {
    let client = cookie_client();
    let res = app.sign_in(&client, ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login/code");
    let res = client.get(app.url("/admin")).send().await.unwrap();
    assert!(
        location(&res).starts_with("/login?next="),
        "no session before the code"
    );
    client
}

#[tokio::test]
async fn with_an_authenticator_the_password_alone_opens_nothing_and_a_code_works_once() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (secret, _) = enrol(&app).await;
    // The enrolment's own code is used: the next sign-in needs the next step's.
    app.clock.advance(30);

    let browser = password_step(&app).await;
    let (status, page) = text_of(&browser, app.url("/login/code")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("One more step"));
    let wrong = post(&app, &browser, "/login/code", &[("code", "123456")]).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let code = code_at(&secret, app.clock.now());
    let ok = post(&app, &browser, "/login/code", &[("code", &code)]).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ok), "/admin");
    let (status, _) = text_of(&browser, app.url("/admin")).await;
    assert_eq!(status, StatusCode::OK);

    // The same code in another browser, within its 30 seconds: refused.
    let other = password_step(&app).await;
    let replay = post(&app, &other, "/login/code", &[("code", &code)]).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(30);
    let next = code_at(&secret, app.clock.now());
    let ok = post(&app, &other, "/login/code", &[("code", &next)]).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);

    // A password step left waiting too long starts over.
    let late = password_step(&app).await;
    app.clock.advance(301);
    let res = post(
        &app,
        &late,
        "/login/code",
        &[("code", &code_at(&secret, app.clock.now()))],
    )
    .await;
    assert_eq!(location(&res), "/login");
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_wrong_codes_lock_like_passwords() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (_, codes) = enrol(&app).await;

    let browser = password_step(&app).await;
    let typed = codes[3].to_uppercase().replace('-', " ");
    let res = post(&app, &browser, "/login/code", &[("code", &typed)]).await;
    assert_eq!(location(&res), "/admin/account?done=recovery");
    let (_, page) = text_of(&browser, app.url("/admin/account?done=recovery")).await;
    assert!(page.contains("9 unused recovery codes"), "{page}");
    let again = password_step(&app).await;
    let res = post(&app, &again, "/login/code", &[("code", &codes[3])]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "used once");

    // Wrong codes count toward the lockout of this address and account.
    let mut status = StatusCode::OK;
    for _ in 0..12 {
        let browser = password_step(&app).await;
        status = post(&app, &browser, "/login/code", &[("code", "999999")])
            .await
            .status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "never locked");
    let res = app.sign_in(&cookie_client(), ADMIN, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the password is locked too"
    );
}

#[tokio::test]
async fn codes_are_switched_off_with_the_password_or_by_the_operator() {
    let app = spawn_app().await;
    app.setup_admin().await;
    enrol(&app).await;
    let wrong = app
        .post_form(
            "/admin/account/two-factor/disable",
            &[("current", "nope nope")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let off = app
        .post_form(
            "/admin/account/two-factor/disable",
            &[("current", PASSWORD)],
        )
        .await;
    assert_eq!(location(&off), "/admin/account?done=two-factor-off");
    let res = app.sign_in(&cookie_client(), ADMIN, PASSWORD).await;
    assert_eq!(location(&res), "/admin", "the password alone again");

    enrol(&app).await;
    let dir = app.data_dir();
    let now = app.clock.now();
    let out = tokio::task::spawn_blocking(move || {
        usher_command(Some(now))
            .args(["admin", "reset-2fa", ADMIN, "--data-dir"])
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = app.sign_in(&cookie_client(), ADMIN, PASSWORD).await;
    assert_eq!(location(&res), "/admin");
    let events = app.state.store.recent_events(30).await.unwrap();
    assert!(events.iter().any(|e| e.action == "admin.two_factor_off"
        && e.detail.as_deref() == Some("reset by the operator")));
}
