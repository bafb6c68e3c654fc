//! Public pages kept rendered between views: what a friend sees stays true. Every change, made
//! here (the web, the API), by another process (the CLI) or by time (an expiry), shows on the
//! next view; each visitor still gets a token of their own, in plain HTML and in gzip.

use std::io::Read;

use reqwest::StatusCode;

use crate::helpers::*;

/// The page as a browser that takes gzip receives it, unpacked (the stream and its CRC checked).
async fn gzipped(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = client
        .get(url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let status = res.status();
    let gzip = res
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let bytes = res.bytes().await.unwrap();
    if !gzip {
        return (status, String::from_utf8(bytes.to_vec()).unwrap());
    }
    let mut html = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut html)
        .expect("a whole gzip stream");
    (status, html)
}

#[tokio::test]
async fn a_kept_invite_page_shows_every_change_on_the_next_view() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |i| i.expires = "2h".into()).await;
    let url = w.app.url(&format!("/i/{code}"));
    let friend = cookie_client();

    let (status, first) = gzipped(&friend, url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains("Home Jellyfin"));
    let generation = w.app.state.store.generation();
    let (_, again) = gzipped(&friend, url.clone()).await;
    assert_eq!(again, first, "the same page, with the same token");
    assert_eq!(
        w.app.state.store.generation(),
        generation,
        "a view writes nothing"
    );
    assert_eq!(w.app.state.pages.len(), 1, "kept");

    // Changed on the web: the next view has it.
    let res = w
        .app
        .post_form("/admin/settings/general", &[("owner_name", "Ana")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = text_of(&friend, url.clone()).await;
    assert!(page.contains("Ana invited you"), "{page}");

    // Changed by another process: seen as soon as usher looks (every tenth of a second).
    let out = w.app.cli(&["invite", "disable", &code]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    w.app.state.store.notice_other_writers().await.unwrap();
    let (status, page) = text_of(&friend, url.clone()).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("switched off"));
    let out = w.app.cli(&["invite", "enable", &code]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    w.app.state.store.notice_other_writers().await.unwrap();
    let (status, _) = text_of(&friend, url.clone()).await;
    assert_eq!(status, StatusCode::OK);

    // Used up through the API: the next view says so.
    let body = serde_json::json!({"username": "maria", "password": "a good password", "email": "maria@example.com"});
    assert_eq!(
        w.redeem_api(&code, body).await.status(),
        StatusCode::CREATED
    );
    let (status, page) = text_of(&cookie_client(), url.clone()).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("used as many times"));
}

#[tokio::test]
async fn a_kept_page_ends_with_its_invite_and_each_visitor_gets_their_own_token() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "5", |i| i.expires = "1h".into()).await;
    let url = w.app.url(&format!("/i/{code}"));
    let (ana, ben) = (cookie_client(), cookie_client());
    let (_, for_ana) = gzipped(&ana, url.clone()).await;
    let (_, for_ben) = text_of(&ben, url.clone()).await;
    let (ana_token, ben_token) = (
        extract_csrf(&for_ana).unwrap(),
        extract_csrf(&for_ben).unwrap(),
    );
    assert_ne!(ana_token, ben_token);
    assert_eq!(
        ana_token,
        w.app.csrf_for(&ana).await,
        "the token of Ana's own cookie"
    );
    assert_eq!(
        for_ana.replace(&ana_token, "T"),
        for_ben.replace(&ben_token, "T"),
        "otherwise the same page, gzipped or not"
    );
    assert!(!for_ana.contains(usher::ui::kept_pages::TOKEN_MARK));

    // The token in the kept page is good for the form.
    let res = ana
        .post(url.clone())
        .form(&[
            ("csrf", ana_token.as_str()),
            ("username", "ana"),
            ("password", "a good password"),
            ("password_confirm", "a good password"),
            ("email", "ana@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // An hour later the invite has expired: the page kept for it is not shown.
    w.app.clock.advance(3600);
    let (status, page) = text_of(&ben, url.clone()).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("expired"));
}

#[tokio::test]
async fn a_signed_in_admin_and_a_guessing_address_are_never_served_a_kept_page() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "5", |_| {}).await;
    let url = w.app.url(&format!("/i/{code}"));
    text_of(&cookie_client(), url.clone()).await;
    assert_eq!(w.app.state.pages.len(), 1);
    // The owner's own view has the owner's menu, not a friend's page.
    let (status, page) = w.app.get_text(&format!("/i/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("action=\"/logout\""), "the signed-in header");
    assert!(!page.contains(usher::ui::kept_pages::TOKEN_MARK));

    // A code the owner chose is kept too, but an address that has been guessing waits for it
    // as for any guess: the kept page does not get around the limit.
    w.invite(&[w.jf_id], "5", |i| i.code = "book-club".into())
        .await;
    let guesser = reqwest::Client::new();
    let chosen = w.app.url("/i/BOOK-CLUB");
    assert_eq!(
        guesser.get(&chosen).send().await.unwrap().status(),
        StatusCode::OK
    );
    for i in 0..30 {
        guesser
            .get(w.app.url(&format!("/i/GUESS{i:04}")))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        guesser.get(&chosen).send().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_join_guide_and_request_pages_are_kept_and_follow_the_settings() {
    let w = world().await;
    let friend = cookie_client();
    for path in ["/join", "/guide", "/request"] {
        text_of(&friend, w.app.url(path)).await;
    }
    assert_eq!(w.app.state.pages.len(), 3, "each kept once");
    let generation = w.app.state.store.generation();
    for path in ["/join", "/guide", "/request"] {
        let (first, second) = (
            gzipped(&friend, w.app.url(path)).await,
            gzipped(&friend, w.app.url(path)).await,
        );
        assert_eq!(first, second, "{path}");
    }
    assert_eq!(w.app.state.store.generation(), generation);

    // A typed code that matches nothing is answered for that visitor, never kept for others.
    let (status, page) = text_of(&friend, w.app.url("/join?code=NOSUCH")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("NOSUCH"));
    let (status, page) = text_of(&cookie_client(), w.app.url("/join")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("NOSUCH"));

    w.app
        .post_form("/admin/settings/general", &[("owner_name", "Ana")])
        .await;
    for path in ["/guide", "/request"] {
        let (_, page) = text_of(&friend, w.app.url(path)).await;
        assert!(page.contains("Ana"), "{path}: {page}");
    }
}
