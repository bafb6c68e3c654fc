//! Every link usher hands out starts with one public address: asked for at setup, changeable in
//! Settings, overridden by the configuration, and the same from the CLI as from the server.

use reqwest::StatusCode;

use crate::helpers::*;

async fn setup_with_public_url(app: &TestApp, public_url: &str) -> reqwest::Response {
    let token = app.setup_token();
    app.post_form(
        "/setup",
        &[
            ("token", &token),
            ("username", ADMIN),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("public_url", public_url),
        ],
    )
    .await
}

#[tokio::test]
async fn setup_asks_for_the_public_address_prefilled_from_the_address_the_owner_used() {
    let app = spawn_app().await;
    let (status, page) = app
        .get_text(&format!("/setup?token={}", app.setup_token()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!(
            "name=\"public_url\" type=\"url\" value=\"{}\"",
            app.base
        )),
        "{page}"
    );

    let bad = setup_with_public_url(&app, "usher.example.com").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("must be a web address"));

    let res = setup_with_public_url(&app, "https://usher.example.com/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.state.public.base(), "https://usher.example.com");
    let (_, admin) = app.get_text("/admin").await;
    assert!(!admin.contains("friends cannot use them"), "{admin}");
}

#[tokio::test]
async fn every_link_uses_the_public_address_in_pages_api_and_cli() {
    let w = world().await;
    let res = w
        .app
        .post_form(
            "/admin/settings/general",
            &[
                ("owner_name", "Ana"),
                ("public_url", "https://watch.example.com"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let code = w.invite(&[w.jf_id], "3", |_| {}).await;
    let link = format!("https://watch.example.com/i/{code}");

    let (_, detail) = w.app.get_text(&format!("/admin/invites/{code}")).await;
    assert!(detail.contains(&format!("value=\"{link}\"")), "{detail}");
    let (_, settings) = w.app.get_text("/admin/settings/requests").await;
    assert!(settings.contains("https://watch.example.com/request"));

    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let out = tokio::task::spawn_blocking(move || {
        crate::cli::usher_env(Some(now), &dir, &["invite", "list", "--json"], "", &[])
    })
    .await
    .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["url"], link.as_str());
}

#[tokio::test]
async fn without_a_public_address_the_owner_is_warned_and_the_cli_prints_the_servers_own_port() {
    let w = world().await;
    let (_, admin) = w.app.get_text("/admin").await;
    assert!(
        admin.contains("which opens only on this computer: friends cannot use them"),
        "{admin}"
    );
    assert!(admin.contains("href=\"/admin/settings/general\""));
    // Friends never see the owner's warning.
    let join = reqwest::get(w.app.url("/join"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!join.contains("friends cannot use them"));

    // The CLI reads where the server listens (port 0 became a real port), not its own default.
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let out = tokio::task::spawn_blocking(move || {
        crate::cli::usher_env(
            Some(now),
            &dir,
            &["invite", "create", "--server", "Home Jellyfin", "--json"],
            "",
            &[],
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let url = made["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/i/", w.app.base)), "{url}");
}

#[tokio::test]
async fn a_configured_public_url_wins_over_the_setting_and_the_page_says_so() {
    let w = world_with(|c| c.public_url = Some("https://cfg.example.com".into())).await;
    let (_, settings) = w.app.get_text("/admin/settings/general").await;
    assert!(
        settings.contains("value=\"https://cfg.example.com\" readonly"),
        "{settings}"
    );
    assert!(settings.contains("wins over this page"));
    let res = w
        .app
        .post_form(
            "/admin/settings/general",
            &[("public_url", "https://other.example.com")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("wins over this page"));
    // The page sends the read-only address back as it is; that saves.
    let res = w
        .app
        .post_form(
            "/admin/settings/general",
            &[("public_url", "https://cfg.example.com")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    assert_eq!(
        usher::invites::invite_url(&w.app.state, &code),
        format!("https://cfg.example.com/i/{code}")
    );
}

#[tokio::test]
async fn settings_refuse_a_public_address_that_is_not_a_web_address() {
    let w = world().await;
    let res = w
        .app
        .post_form("/admin/settings/general", &[("public_url", "ftp://files")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("must be a web address"));
    assert_eq!(w.app.state.public.base(), w.app.base);
}

#[tokio::test]
async fn the_csp_lets_forms_go_to_the_plex_app_and_nowhere_else() {
    let w = world().await;
    let res = w.app.get("/join").await;
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    let plex_app = url::Url::parse(&w.plex.app_url())
        .unwrap()
        .origin()
        .ascii_serialization();
    let form_action = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("form-action"))
        .unwrap();
    assert_eq!(
        form_action,
        format!("form-action 'self' {plex_app}"),
        "{csp}"
    );
}

/// Behind a TLS proxy with nothing configured yet, the owner can still complete setup: the page
/// guesses the https address, and the proxy's https origin is the page's own.
#[tokio::test]
async fn setup_works_behind_a_tls_proxy_before_any_address_is_set() {
    let app = spawn_app().await;
    let client = cookie_client();
    let page = client
        .get(app.url(&format!("/setup?token={}", app.setup_token())))
        .header("host", "usher.example.com")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("value=\"https://usher.example.com\""),
        "{page}"
    );
    let csrf = extract_csrf(&page).unwrap();
    let token = app.setup_token();
    let res = client
        .post(app.url("/setup"))
        .header("host", "usher.example.com")
        .header("x-forwarded-proto", "https")
        .header("origin", "https://usher.example.com")
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("username", ADMIN),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("public_url", "https://usher.example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.state.public.base(), "https://usher.example.com");
}
