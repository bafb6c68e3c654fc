//! The welcome page tells a new member where to go: the server's address for friends, an
//! "Open in the browser" button, the apps for their devices, Plex Home wording for Home
//! members; and a used invite reopened on the same device leads back to it.

use reqwest::StatusCode;

use crate::helpers::*;

/// Redeems `code` on the web form with a fresh browser-like client; returns the client and the
/// welcome page's path.
async fn redeem_on_the_form(
    w: &World,
    code: &str,
    fields: &[(&str, &str)],
) -> (reqwest::Client, String) {
    let (visitor, res) = w.post_invite_form(code, "en", fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    (visitor, location(&res))
}

async fn text(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

const JELLYFIN_LOGIN: &[(&str, &str)] = &[
    ("username", "nina"),
    ("password", "a good password"),
    ("password_confirm", "a good password"),
];

#[tokio::test]
async fn the_welcome_page_gives_the_address_for_friends_an_open_button_and_the_apps() {
    let w = world().await;
    let res = w
        .app
        .post_form(
            &format!("/admin/servers/{}/edit", w.jf_id),
            &[
                ("name", "Home Jellyfin"),
                ("url", &w.jf.url()),
                ("friend_url", "https://watch.example.com"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let (visitor, welcome) = redeem_on_the_form(&w, &code, JELLYFIN_LOGIN).await;
    let (_, body) = text(&visitor, w.app.url(&welcome)).await;
    assert!(
        body.contains("Server address: https://watch.example.com"),
        "{body}"
    );
    assert!(
        body.contains("href=\"https://watch.example.com\" rel=\"noopener\">Open in the browser")
    );
    assert!(body.contains("add the server at <strong>https://watch.example.com</strong>"));
    assert!(body.contains("https://apps.apple.com/app/jellyfin-mobile/id1480192618"));
    assert!(body.contains("https://jellyfin.org/downloads/clients/"));
}

#[tokio::test]
async fn a_server_only_reachable_at_home_gives_no_address_but_says_who_does() {
    let w = world().await;
    let mut s = w.app.state.store.settings().await.unwrap();
    s.owner_name = "Ana".into();
    w.app
        .state
        .store
        .save_settings(&s, w.app.clock.now())
        .await
        .unwrap();
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let (visitor, welcome) = redeem_on_the_form(&w, &code, JELLYFIN_LOGIN).await;
    let (_, body) = text(&visitor, w.app.url(&welcome)).await;
    // The fake listens on 127.0.0.1: not an address to hand out.
    assert!(!body.contains(&w.jf.url()), "{body}");
    assert!(!body.contains("Open in the browser"));
    assert!(body.contains("the address Ana gives you"), "{body}");
    // The owner sees why on the server page, and which address friends would get.
    let (_, page) = w.app.get_text(&format!("/admin/servers/{}", w.jf_id)).await;
    assert!(page.contains("only works at home"));
    let bad = w
        .app
        .post_form(
            &format!("/admin/servers/{}/edit", w.jf_id),
            &[
                ("name", "Home Jellyfin"),
                ("url", &w.jf.url()),
                ("friend_url", "watch"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn plex_friends_are_sent_to_the_plex_web_app_and_home_members_get_home_words() {
    let w = world().await;
    let friend = w.invite(&[w.plex_id], "1", |_| {}).await;
    let (visitor, welcome) =
        redeem_on_the_form(&w, &friend, &[("plex_account", "alice@example.com")]).await;
    let (_, body) = text(&visitor, w.app.url(&welcome)).await;
    assert!(
        body.contains("href=\"https://app.plex.tv/desktop\""),
        "{body}"
    );
    assert!(body.contains("Accept the invitation"));

    let home = w
        .invite(&[w.plex_id], "1", |i| {
            i.targets[0].permissions = Some(
                media::Permissions {
                    plex_home: true,
                    ..Default::default()
                }
                .into(),
            );
        })
        .await;
    let (visitor, welcome) = redeem_on_the_form(&w, &home, &[("plex_account", "Kid")]).await;
    let (_, body) = text(&visitor, w.app.url(&welcome)).await;
    assert!(body.contains("You are in the Plex Home"), "{body}");
    assert!(!body.contains("Accept the invitation") && !body.contains("sent you an email"));
}

#[tokio::test]
async fn reopening_a_used_invite_on_the_same_device_leads_back_to_the_welcome_page() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let (visitor, welcome) = redeem_on_the_form(&w, &code, JELLYFIN_LOGIN).await;
    let again = visitor
        .get(w.app.url(&format!("/i/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&again), welcome);
    // Another device gets the plain "used up" page.
    let (status, _) = text(&cookie_client(), w.app.url(&format!("/i/{code}"))).await;
    assert_eq!(status, StatusCode::GONE);
    // A forged cookie for another member is ignored.
    let forged = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(w.app.url(&format!("/i/{code}")))
        .header("cookie", "usher_welcome=1.00000000000000000000000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::GONE);
}
