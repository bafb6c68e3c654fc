//! Every page a friend can end up on leads somewhere a friend can use (the code box, the guide,
//! the request form when it is open), never to the owner's sign-in; error pages speak plainly.

use reqwest::StatusCode;

use crate::helpers::*;

async fn friend_page(w: &World, path: &str) -> (StatusCode, String) {
    let res = reqwest::get(w.app.url(path)).await.unwrap();
    (res.status(), res.text().await.unwrap())
}

fn assert_leads_somewhere(page: &str) {
    assert!(page.contains("href=\"/join\""), "{page}");
    assert!(page.contains("href=\"/guide\""), "{page}");
    assert!(
        !page.contains("href=\"/login\""),
        "a friend is never sent to sign in: {page}"
    );
    assert!(
        !page.contains("href=\"/\""),
        "nor to / (which is the owner's sign-in)"
    );
}

#[tokio::test]
async fn ended_and_unknown_invites_say_so_plainly_and_lead_to_the_code_box_and_guide() {
    let w = world().await;
    let used = w.invite(&[w.jf_id], "1", |_| {}).await;
    let res = w
        .redeem_api(
            &used,
            serde_json::json!({"username": "una", "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let off = w.invite(&[w.jf_id], "1", |_| {}).await;
    let id = w
        .app
        .state
        .store
        .invite_by_code(&off)
        .await
        .unwrap()
        .unwrap()
        .id;
    w.app
        .state
        .store
        .set_invite_disabled(id, true)
        .await
        .unwrap();
    let expiring = w.invite(&[w.jf_id], "1", |i| i.expires = "1d".into()).await;
    w.app.clock.advance(2 * 86_400);

    for (path, status, heading) in [
        (format!("/i/{used}"), StatusCode::GONE, "Invite used up"),
        (format!("/i/{off}"), StatusCode::GONE, "Invite switched off"),
        (format!("/i/{expiring}"), StatusCode::GONE, "Invite expired"),
        (
            "/i/NOSUCHCODE".to_string(),
            StatusCode::NOT_FOUND,
            "Unknown invite",
        ),
        (
            "/no/such/page".to_string(),
            StatusCode::NOT_FOUND,
            "Nothing here",
        ),
    ] {
        let (got, page) = friend_page(&w, &path).await;
        assert_eq!(got, status, "{path}");
        assert!(
            page.contains(&format!("<h1>{heading}</h1>")),
            "{path}: {page}"
        );
        assert!(!page.contains("Error 4"), "no status eyebrow: {page}");
        assert_leads_somewhere(&page);
    }
}

#[tokio::test]
async fn the_header_logo_leads_friends_to_the_guide_and_the_owner_to_the_dashboard() {
    let w = world().await;
    let (_, page) = friend_page(&w, "/join").await;
    assert!(page.contains("class=\"brand\" href=\"/guide\""));
    let (_, page) = w.app.get_text("/admin").await;
    assert!(page.contains("class=\"brand\" href=\"/admin\""));
}

#[tokio::test]
async fn join_keeps_the_box_for_an_unknown_code_and_offers_the_request_form_when_open() {
    let w = world().await;
    let (status, page) = friend_page(&w, "/join?code=nope-nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        page.contains("id=\"code\" name=\"code\" value=\"nope-nope\""),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\""));
    assert!(page.contains("That invite code does not exist"));
    assert!(page.contains("href=\"/request\">Ask for access"));

    let real = w.invite(&[w.jf_id], "1", |_| {}).await;
    let res = cookie_client()
        .get(w.app.url(&format!("/join?code={}", real.to_lowercase())))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), format!("/i/{real}"));
}

#[tokio::test]
async fn with_requests_closed_neither_join_nor_the_guide_offers_the_form() {
    let w = world().await;
    let mut s = w.app.state.store.settings().await.unwrap();
    s.requests.enabled = false;
    w.app
        .state
        .store
        .save_settings(&s, w.app.clock.now())
        .await
        .unwrap();
    let (_, join) = friend_page(&w, "/join").await;
    assert!(!join.contains("href=\"/request\""), "{join}");
    let (_, guide) = friend_page(&w, "/guide").await;
    assert!(!guide.contains("href=\"/request\""), "{guide}");
    assert!(!guide.contains("request form"), "{guide}");
    assert!(guide.contains("Ask the owner for one"));
}
