use fakes::plex::demo;
use fakes::smtp::SmtpSink;
use fakes::telegram::{FakeTelegram, OWNER_ID, STRANGER_ID, TOKEN};
use reqwest::StatusCode;
use serde_json::{Value, json};
use usher::domain::RequestStatus;
use usher::domain::ids::*;
use usher::domain::settings::{Settings, SmtpSecurity};

use crate::helpers::*;

/// A world with the Telegram fake and an SMTP sink wired in through the settings.
struct Desk {
    w: World,
    tg: FakeTelegram,
    mail: SmtpSink,
    offset: i64,
}

async fn desk_with(tweak: impl FnOnce(&mut Settings)) -> Desk {
    let tg = FakeTelegram::start().await;
    let mail = SmtpSink::start().await;
    let tg_url = tg.url();
    let w = world_with(move |c| {
        c.telegram_api_url = tg_url;
        c.redemptions_per_hour = 100;
    })
    .await;
    let mut s = Settings {
        owner_name: "Ana".into(),
        ..Default::default()
    };
    s.telegram.token_sealed = Some(w.app.state.key.seal(TOKEN));
    s.telegram.allowed_ids = vec![OWNER_ID];
    s.telegram.chat_id = Some(OWNER_ID);
    s.smtp.host = "127.0.0.1".into();
    s.smtp.port = mail.port();
    s.smtp.security = SmtpSecurity::None;
    s.smtp.from = "usher <usher@example.com>".into();
    tweak(&mut s);
    w.app
        .state
        .store
        .save_settings(&s, w.app.clock.now())
        .await
        .unwrap();
    // The owner ticks Jellyfin (connected after Plex) for requests too.
    tick_for_requests(&w, w.jf_id).await;
    Desk {
        w,
        tg,
        mail,
        offset: 0,
    }
}

async fn tick_for_requests(w: &World, server: ServerId) {
    let s = w.app.state.store.server(server).await.unwrap().unwrap();
    usher::servers::set_defaults(
        &w.app.state,
        server,
        usher::store::servers::ServerDefaults {
            allow_downloads: s.default_allow_downloads,
            allow_live_tv: s.default_allow_live_tv,
            allow_camera_upload: s.default_allow_camera_upload,
            max_sessions: s.default_max_sessions,
            request_default: true,
        },
        "test",
    )
    .await
    .unwrap();
}

async fn desk() -> Desk {
    desk_with(|_| {}).await
}

impl Desk {
    /// Fills the public form as a stranger would.
    async fn request(&self, name: &str, email: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let visitor = cookie_client();
        let page = visitor
            .get(self.w.app.url("/request"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = extract_csrf(&page).unwrap();
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("name", name),
            ("email", email),
            ("note", "Hi, it's me"),
        ];
        fields.extend_from_slice(extra);
        visitor
            .post(self.w.app.url("/request"))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// Lets usher read what Telegram has for it, as the polling loop does.
    async fn poll(&mut self) {
        let settings = self.w.app.state.store.settings().await.unwrap();
        let api = usher::notify::telegram::api(&self.w.app.state, &settings).unwrap();
        self.offset = usher::telegram::poll_once(&self.w.app.state, &api, self.offset, 0)
            .await
            .unwrap();
    }

    /// Sends what the outbox holds and returns the n-th announcement, which usher has recorded
    /// as the request's message.
    async fn announced(&self, n: usize) -> fakes::telegram::FakeMessage {
        usher::notify::deliver_due(&self.w.app.state).await.unwrap();
        let m = self.tg.wait_for_messages(OWNER_ID, n).await.pop().unwrap();
        let recorded = self.w.app.state.store.requests(100).await.unwrap();
        assert!(
            recorded
                .iter()
                .any(|r| r.telegram_message_id == Some(m.message_id)),
            "usher recorded message {}",
            m.message_id
        );
        m
    }

    /// Sends what the outbox holds (the bot's updates among it).
    async fn deliver(&self) {
        usher::notify::deliver_due(&self.w.app.state).await.unwrap();
    }

    /// Sends what the outbox holds, then waits for `n` emails.
    async fn mails(&self, n: usize) -> Vec<fakes::smtp::ReceivedMail> {
        usher::notify::deliver_due(&self.w.app.state).await.unwrap();
        self.mail.wait_for(n).await
    }

    fn message(&self, id: i64) -> fakes::telegram::FakeMessage {
        self.tg.message(OWNER_ID, id).unwrap()
    }

    async fn only_request(&self) -> usher::store::requests::RequestRow {
        let all = self.w.app.state.store.requests(10).await.unwrap();
        assert_eq!(all.len(), 1);
        all.into_iter().next().unwrap()
    }
}

fn buttons(m: &fakes::telegram::FakeMessage) -> Vec<(String, String)> {
    m.reply_markup
        .as_ref()
        .map(|k| {
            k["inline_keyboard"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|row| row.as_array().unwrap().iter())
                .map(|b| {
                    (
                        b["text"].as_str().unwrap().to_string(),
                        b["callback_data"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn data_of(m: &fakes::telegram::FakeMessage, label: &str) -> String {
    buttons(m)
        .into_iter()
        .find(|(t, _)| t.contains(label))
        .unwrap_or_else(|| panic!("no button {label} in {:?}", buttons(m)))
        .1
}

#[tokio::test]
async fn a_request_is_announced_on_telegram_with_escaped_html_and_two_buttons() {
    let d = desk().await;
    let res = d.request("<Tom & Jerry>", "tom@example.com", &[]).await;
    assert_eq!(location(&res), "/request/sent");
    let m = d.announced(1).await;
    assert!(
        m.sent_text.contains("&lt;Tom &amp; Jerry&gt;"),
        "{}",
        m.sent_text
    );
    assert_eq!(m.parse_mode.as_deref(), Some("HTML"));
    let r = d.only_request().await;
    assert_eq!(
        buttons(&m),
        vec![
            ("✅ Approve".to_string(), format!("a:{}", r.id)),
            ("❌ Decline".to_string(), format!("d:{}", r.id))
        ]
    );
}

#[tokio::test]
async fn approving_in_telegram_with_library_toggles_shares_plex_and_invites_to_jellyfin() {
    let mut d = desk().await;
    d.request("Bob", "bob@example.com", &[]).await;
    let m = d.announced(1).await;
    d.tg.press_button(OWNER_ID, m.message_id, &data_of(&m, "Approve"), OWNER_ID);
    d.poll().await;
    let picker = d.message(m.message_id);
    let labels: Vec<String> = buttons(&picker).into_iter().map(|b| b.0).collect();
    assert!(
        labels.contains(&"✅ TV Shows · Home Plex".to_string()),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.contains("Send invite"))
            && labels.iter().any(|l| l.contains("Cancel"))
    );

    // Untick TV Shows and Jellyfin's Music, then send.
    d.tg.press_button(
        OWNER_ID,
        m.message_id,
        &data_of(&picker, "TV Shows · Home Plex"),
        OWNER_ID,
    );
    d.poll().await;
    let picker = d.message(m.message_id);
    assert!(
        buttons(&picker)
            .iter()
            .any(|b| b.0 == "☐ TV Shows · Home Plex")
    );
    d.tg.press_button(
        OWNER_ID,
        m.message_id,
        &data_of(&picker, "Music · Home Jellyfin"),
        OWNER_ID,
    );
    d.poll().await;
    let picker = d.message(m.message_id);
    d.tg.press_button(
        OWNER_ID,
        m.message_id,
        &data_of(&picker, "Send invite"),
        OWNER_ID,
    );
    d.poll().await;

    let done = d.message(m.message_id);
    assert!(done.text.contains("Approved by Owner"), "{}", done.text);
    assert!(buttons(&done).is_empty(), "no buttons once decided");
    let shares = d.w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    let share = format!("{:?}", shares[0]);
    assert!(
        share.contains("81234001") && share.contains("81234003") && !share.contains("81234002"),
        "{share}"
    );

    let r = d.only_request().await;
    assert_eq!(r.status, RequestStatus::Approved);
    assert!(r.decided_by.as_deref().unwrap().contains("via Telegram"));
    // The requester's email carries the Jellyfin invite; using it makes the account.
    let mails = d.mails(1).await;
    let body = mails[0].text_body().unwrap();
    assert_eq!(mails[0].to, vec!["bob@example.com".to_string()]);
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/i/"))
        .unwrap()
        .to_string();
    let code = link.rsplit('/').next().unwrap();
    let res =
        d.w.redeem_api(
            code,
            serde_json::json!({"username": "bob", "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user = d.w.jf.user_by_name("bob").unwrap();
    assert_eq!(
        user.enabled_folders().len(),
        2,
        "Movies and Shows, not Music"
    );
}

#[tokio::test]
async fn the_telegram_picker_offers_a_kavita_servers_libraries_and_its_link_makes_the_account() {
    let mut d = desk().await;
    let kavita = fakes::kavita::FakeKavita::start().await;
    let kavita_id =
        d.w.connect("kavita", "Reading Room", kavita.url(), kavita.api_key(), "")
            .await;
    tick_for_requests(&d.w, kavita_id).await;
    d.request("Dee", "dee@example.com", &[]).await;
    let m = d.announced(1).await;
    d.tg.press_button(OWNER_ID, m.message_id, &data_of(&m, "Approve"), OWNER_ID);
    d.poll().await;
    let picker = d.message(m.message_id);
    let labels: Vec<String> = buttons(&picker).into_iter().map(|b| b.0).collect();
    for library in ["Comics", "Manga", "Light novels"] {
        assert!(
            labels.contains(&format!("✅ {library} · Reading Room")),
            "{labels:?}"
        );
    }
    // Only the Kavita server, without Manga.
    for untick in [
        "Movies · Home Plex",
        "TV Shows · Home Plex",
        "Music · Home Plex",
        "Movies · Home Jellyfin",
        "Shows · Home Jellyfin",
        "Music · Home Jellyfin",
        "Manga · Reading Room",
    ] {
        let picker = d.message(m.message_id);
        if let Some((_, data)) = buttons(&picker)
            .into_iter()
            .find(|(t, _)| t.contains(untick))
        {
            d.tg.press_button(OWNER_ID, m.message_id, &data, OWNER_ID);
            d.poll().await;
        }
    }
    let picker = d.message(m.message_id);
    assert!(
        buttons(&picker)
            .iter()
            .any(|b| b.0 == "☐ Manga · Reading Room")
    );
    d.tg.press_button(
        OWNER_ID,
        m.message_id,
        &data_of(&picker, "Send invite"),
        OWNER_ID,
    );
    d.poll().await;
    let done = d.message(m.message_id);
    assert!(done.text.contains("Approved by Owner"), "{}", done.text);
    assert!(
        d.w.plex.shares_of(demo::SERVER_ID).is_empty(),
        "Plex was unticked"
    );

    let mails = d.mails(1).await;
    let body = mails[0].text_body().unwrap();
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/i/"))
        .unwrap()
        .to_string();
    let code = link.rsplit('/').next().unwrap();
    let res =
        d.w.redeem_api(
            code,
            serde_json::json!({"username": "dee", "email": "dee@example.com", "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user = kavita.user("dee").unwrap();
    let mut held = user.libraries.clone();
    held.sort();
    let mut wanted: Vec<i64> = ["Comics", "Light novels"]
        .iter()
        .map(|l| kavita.library_id(l).parse().unwrap())
        .collect();
    wanted.sort();
    assert_eq!(held, wanted, "every library but Manga");
    assert!(kavita.signs_in("dee", "a good password"));
}

#[tokio::test]
async fn a_press_by_someone_not_allowed_is_refused_and_changes_nothing() {
    let mut d = desk().await;
    d.request("Carol", "carol@example.com", &[]).await;
    let m = d.announced(1).await;
    d.tg.press_button(OWNER_ID, m.message_id, &data_of(&m, "Approve"), STRANGER_ID);
    d.poll().await;
    let answers = d.tg.callback_answers();
    assert_eq!(answers.len(), 1);
    assert!(
        answers[0]
            .text
            .as_deref()
            .unwrap()
            .contains("Not authorized")
    );
    assert_eq!(d.only_request().await.status.as_str(), "pending");
    assert_eq!(
        buttons(&d.message(m.message_id)).len(),
        2,
        "message untouched"
    );
}

#[tokio::test]
async fn a_double_tap_on_send_provisions_once() {
    let mut d = desk().await;
    d.request("Dora", "alice@example.com", &[]).await;
    let m = d.announced(1).await;
    d.tg.press_button(OWNER_ID, m.message_id, &data_of(&m, "Approve"), OWNER_ID);
    d.poll().await;
    let picker = d.message(m.message_id);
    let send = data_of(&picker, "Send invite");
    d.tg.press_button(OWNER_ID, m.message_id, &send, OWNER_ID);
    d.tg.press_button(OWNER_ID, m.message_id, &send, OWNER_ID);
    d.poll().await;
    assert_eq!(d.w.plex.shares_of(demo::SERVER_ID).len(), 1);
    let invites =
        d.w.app
            .state
            .store
            .invite_counts(d.w.app.clock.now())
            .await
            .unwrap();
    assert_eq!(invites.all, 1, "one personal invite, not two");
    let answers = d.tg.callback_answers();
    assert!(answers.iter().any(|a| {
        a.text
            .as_deref()
            .is_some_and(|t| t.contains("already handled"))
    }));
}

#[tokio::test]
async fn a_forged_webhook_without_the_secret_is_refused() {
    let d = desk_with(|s| {
        s.telegram.mode = usher::domain::settings::TelegramMode::Webhook;
        // As settings saved before the secret was sealed hold it.
        s.telegram.webhook_secret_sealed = "the-real-secret".into();
    })
    .await;
    let url = d.w.app.url("/telegram/webhook");
    let update = serde_json::json!({"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": OWNER_ID, "type": "private"}, "from": {"id": OWNER_ID, "first_name": "Owner"}, "text": "/help"}});
    let client = reqwest::Client::new();
    let res = client.post(&url).json(&update).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = client
        .post(&url)
        .header("x-telegram-bot-api-secret-token", "guess")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(d.tg.messages(OWNER_ID).is_empty(), "nothing was acted on");
    let res = client
        .post(&url)
        .header("x-telegram-bot-api-secret-token", "the-real-secret")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        d.tg.last_message(OWNER_ID)
            .unwrap()
            .text
            .contains("/pending"),
        "the help was sent"
    );
}

#[tokio::test]
async fn pending_requests_expire_and_say_so_everywhere() {
    let mut d = desk().await;
    d.request("Eve", "eve@example.com", &[]).await;
    let m = d.announced(1).await;
    d.w.app.clock.advance(24 * 3600);
    let expired = usher::requests::expire(&d.w.app.state).await.unwrap();
    assert_eq!(expired.len(), 1);
    d.deliver().await;
    assert!(d.message(m.message_id).text.contains("Expired"));
    let (_, page) = d.w.app.get_text("/admin/requests").await;
    assert!(page.contains("Expired"));
    // A late press on the old buttons is told so (the message had buttons before the edit).
    let r = d.only_request().await;
    assert_eq!(r.status, RequestStatus::Expired);
    // The same email may ask again.
    assert_eq!(
        location(&d.request("Eve", "eve@example.com", &[]).await),
        "/request/sent"
    );
    d.poll().await;
}

#[tokio::test]
async fn the_honeypot_looks_like_success_but_keeps_nothing() {
    let d = desk().await;
    let res = d
        .request(
            "Bot",
            "bot@example.com",
            &[("website", "http://spam.example")],
        )
        .await;
    assert_eq!(location(&res), "/request/sent");
    assert!(d.w.app.state.store.requests(10).await.unwrap().is_empty());
    assert!(d.tg.messages(OWNER_ID).is_empty());
}

#[tokio::test]
async fn one_pending_request_per_email_and_a_limit_per_address() {
    let d = desk().await;
    assert_eq!(
        location(&d.request("Finn", "finn@example.com", &[]).await),
        "/request/sent"
    );
    let res = d.request("Finn again", "FINN@example.com", &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("already a request waiting")
    );
    for i in 0..4 {
        let res = d
            .request("Someone", &format!("p{i}@example.com"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{i}");
    }
    let res = d.request("One too many", "p9@example.com", &[]).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.text().await.unwrap().contains("Try again in an hour"));
    d.w.app.clock.advance(3600);
    assert_eq!(
        d.request("Later", "p9@example.com", &[]).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn bad_input_is_explained_on_the_form() {
    let d = desk_with(|s| s.requests.passphrase_hash = None).await;
    let res = d.request("X", "x@example.com", &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Write your name"));
    let res = d.request("Xavier", "not-an-email", &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let long = "n".repeat(501);
    let visitor = cookie_client();
    let page = visitor
        .get(d.w.app.url("/request"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap();
    let res = visitor
        .post(d.w.app.url("/request"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Xavier"),
            ("email", "x@example.com"),
            ("note", &long),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(d.w.app.state.store.requests(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_passphrase_guards_the_form_when_set() {
    let d = desk().await;
    let hash = usher::requests::passphrase_hash(&d.w.app.state, "movie night");
    let mut s = d.w.app.state.store.settings().await.unwrap();
    s.requests.passphrase_hash = Some(hash);
    d.w.app.state.store.save_settings(&s, 0).await.unwrap();
    let res = d
        .request("Gil", "gil@example.com", &[("passphrase", "wrong")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = d
        .request("Gil", "gil@example.com", &[("passphrase", "movie night")])
        .await;
    assert_eq!(location(&res), "/request/sent");
}

#[tokio::test]
async fn auto_approve_grants_the_default_libraries_at_once() {
    let d = desk_with(|s| s.requests.auto_approve = true).await;
    let res = d.request("Hal", "alice@example.com", &[]).await;
    let r = d.only_request().await;
    assert_eq!(r.status, RequestStatus::Approved);
    assert_eq!(r.decided_by.as_deref(), Some("auto-approve"));
    assert_eq!(d.w.plex.shares_of(demo::SERVER_ID).len(), 1);
    // Jellyfin is part of the defaults: the requester goes straight to choosing a login.
    let next = location(&res);
    assert!(next.starts_with("/i/"), "{next}");
    let (status, page) = d.w.app.get_text(&next).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"username\"") && page.contains("id=\"password\""));
}

#[tokio::test]
async fn auto_approve_for_plex_only_says_access_is_ready() {
    let d = desk_with(|s| s.requests.auto_approve = true).await;
    let plex = d.w.plex_id;
    let mut s = d.w.app.state.store.settings().await.unwrap();
    s.requests.servers = vec![plex];
    d.w.app
        .state
        .store
        .save_settings(&s, d.w.app.clock.now())
        .await
        .unwrap();
    let res = d.request("Hal", "alice@example.com", &[]).await;
    assert_eq!(location(&res), "/request/sent?approved=1");
}

/// Approves the only request for Jellyfin alone on the web queue.
async fn approve_for_jellyfin(d: &Desk) -> usher::store::requests::RequestRow {
    let r = d.only_request().await;
    let jf = d.w.jf_id.to_string();
    let res =
        d.w.app
            .post_form(
                &format!("/admin/requests/{}/approve", r.id),
                &[
                    ("server", &jf),
                    (&format!("lib_{jf}"), "f137a2dd21bbc1b99aa5c0f6bf02a805"),
                ],
            )
            .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    d.only_request().await
}

#[tokio::test]
async fn after_approving_a_jellyfin_request_the_owner_sees_the_personal_link_to_pass_on() {
    let d = desk_with(|s| s.smtp.host.clear()).await;
    d.request("Jo", "jo@example.com", &[]).await;
    let r = approve_for_jellyfin(&d).await;
    let (_, page) = d.w.app.get_text("/admin/requests").await;
    let card = &page[page
        .find(&format!("id=\"handoff-{}\"", r.id))
        .expect("a handoff block")..];
    let link = card
        .split("value=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap();
    assert!(link.starts_with(&format!("{}/i/", d.w.app.base)), "{link}");
    assert!(card.contains(&format!("data-copy=\"{link}\"")));
    assert!(card.contains(&format!("data-share=\"{link}\"")));
    assert!(card.contains("<svg"), "a QR code");
    assert!(
        card.contains("Not emailed"),
        "no SMTP: the owner is told to send it"
    );
    assert!(!page.contains("the requester is told"));

    // The link works once, and the card then says it was used.
    let code = link.rsplit('/').next().unwrap();
    let res =
        d.w.redeem_api(
            code,
            serde_json::json!({"username": "jo", "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, page) = d.w.app.get_text("/admin/requests").await;
    assert!(page.contains("Jo has used this link"));
}

#[tokio::test]
async fn with_email_set_up_the_card_and_telegram_say_the_link_was_emailed() {
    let mut d = desk().await;
    d.request("Kim", "kim@example.com", &[]).await;
    let m = d.announced(1).await;
    let r = approve_for_jellyfin(&d).await;
    let (_, page) = d.w.app.get_text("/admin/requests").await;
    assert!(page.contains("Emailed to kim@example.com."));
    let mails = d.mails(1).await;
    let settings = d.w.app.state.store.settings().await.unwrap();
    let link = usher::requests::handoff(&d.w.app.state, &settings, &r)
        .await
        .unwrap()
        .unwrap()
        .url;
    assert!(mails[0].text_body().unwrap().contains(&link));
    // The Telegram message turns into the outcome with the link to forward.
    d.deliver().await;
    d.poll().await;
    let done = d.message(m.message_id);
    assert!(
        done.text
            .contains(&format!("Personal link (one use): {link}"))
            && done.text.contains("Emailed to kim@example.com."),
        "{}",
        done.text
    );
}

#[tokio::test]
async fn the_web_queue_approves_with_chosen_libraries_and_emails_the_requester() {
    let d = desk().await;
    d.request("Ivy", "bob@example.com", &[]).await;
    let r = d.only_request().await;
    let (_, page) = d.w.app.get_text("/admin/requests").await;
    assert!(
        page.contains("Ivy")
            && page.contains("Hi, it&#39;s me")
            && page.contains("expires in 24 h")
    );
    let plex = d.w.plex_id.to_string();
    let res =
        d.w.app
            .post_form(
                &format!("/admin/requests/{}/approve", r.id),
                &[
                    ("server", &plex),
                    (&format!("lib_{plex}"), "81234001"),
                    (&format!("downloads_{plex}"), "on"),
                ],
            )
            .await;
    assert_eq!(
        location(&res),
        format!("/admin/requests?done=approved#request-{}", r.id)
    );
    let shares = d.w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    assert!(!format!("{:?}", shares[0]).contains("81234002"));
    let r = d.only_request().await;
    assert_eq!(
        (r.status.as_str(), r.decided_by.as_deref()),
        ("approved", Some(ADMIN))
    );
    let mails = d.mails(1).await;
    assert_eq!(
        mails[0].subject().as_deref(),
        Some("Your access was approved")
    );
    assert!(mails[0].text_body().unwrap().contains("Home Plex (Movies)"));
    // Approving again is refused politely.
    let res =
        d.w.app
            .post_form(
                &format!("/admin/requests/{}/approve", r.id),
                &[("server", &plex), (&format!("lib_{plex}"), "81234001")],
            )
            .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(d.w.plex.shares_of(demo::SERVER_ID).len(), 1);
}

#[tokio::test]
async fn declining_tells_the_requester_with_the_reason() {
    let d = desk().await;
    d.request("Jo", "jo@example.com", &[]).await;
    let r = d.only_request().await;
    let res =
        d.w.app
            .post_form(
                &format!("/admin/requests/{}/decline", r.id),
                &[("reason", "Server is full")],
            )
            .await;
    assert_eq!(location(&res), "/admin/requests?done=declined");
    let mails = d.mails(1).await;
    let body = mails[0].text_body().unwrap();
    assert!(
        body.contains("declined") && body.contains("Server is full"),
        "{body}"
    );
    let r = d.only_request().await;
    assert_eq!(r.decline_reason.as_deref(), Some("Server is full"));
}

#[tokio::test]
async fn a_refused_approval_leaves_the_request_pending_with_a_retry_button() {
    let mut d = desk_with(|s| s.requests.servers = vec![]).await;
    d.request("Kim", "kim@example.com", &[]).await;
    let m = d.announced(1).await;
    // Only Plex is chosen, and the server cannot take another friend.
    d.w.plex.set_share_limit(0);
    let r = d.only_request().await;
    let settings = d.w.app.state.store.settings().await.unwrap();
    let mut sel = usher::requests::default_selection(&d.w.app.state, &settings)
        .await
        .unwrap();
    sel.servers.retain(|s| s.server_id == d.w.plex_id);
    let err = usher::requests::approve(&d.w.app.state, r.id, &sel, "owner")
        .await
        .unwrap_err();
    assert!(
        matches!(err, usher::requests::DecideError::Refused { .. }),
        "{err}"
    );
    let r = d.only_request().await;
    assert_eq!(r.status.as_str(), "pending");
    assert!(r.outcome.is_some());
    assert!(d.w.plex.shares_of(demo::SERVER_ID).is_empty());
    // In Telegram the same failure offers Retry.
    d.tg.press_button(OWNER_ID, m.message_id, &data_of(&m, "Approve"), OWNER_ID);
    d.poll().await;
    let picker = d.message(m.message_id);
    for label in [
        "Movies · Home Jellyfin",
        "Shows · Home Jellyfin",
        "Music · Home Jellyfin",
    ] {
        if buttons(&picker)
            .iter()
            .any(|b| b.0.contains(label) && b.0.starts_with('✅'))
        {
            d.tg.press_button(
                OWNER_ID,
                m.message_id,
                &data_of(&d.message(m.message_id), label),
                OWNER_ID,
            );
            d.poll().await;
        }
    }
    d.tg.press_button(
        OWNER_ID,
        m.message_id,
        &data_of(&d.message(m.message_id), "Send invite"),
        OWNER_ID,
    );
    d.poll().await;
    let after = d.message(m.message_id);
    assert!(after.text.contains("Could not approve"), "{}", after.text);
    assert!(buttons(&after).iter().any(|b| b.0.contains("Retry")));
}

#[tokio::test]
async fn bot_commands_answer_allowed_users_only() {
    let mut d = desk().await;
    d.request("Lu", "lu@example.com", &[]).await;
    d.announced(1).await;
    d.tg.send_text(OWNER_ID, OWNER_ID, "/invite 2 3");
    d.poll().await;
    let reply = d.tg.last_message(OWNER_ID).unwrap();
    let link = reply
        .text
        .split_whitespace()
        .find(|w| w.contains("/i/"))
        .unwrap()
        .to_string();
    let code = link.rsplit('/').next().unwrap();
    let invite =
        d.w.app
            .state
            .store
            .invite_by_code(code)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(invite.max_uses, Some(2));
    assert_eq!(invite.expires_at, Some(d.w.app.clock.now() + 3 * 86_400));

    d.tg.send_text(OWNER_ID, OWNER_ID, "/stats");
    d.poll().await;
    assert!(
        d.tg.last_message(OWNER_ID)
            .unwrap()
            .text
            .contains("Waiting requests: 1")
    );
    d.tg.send_text(OWNER_ID, OWNER_ID, "/pending");
    d.poll().await;
    let pending = d.tg.last_message(OWNER_ID).unwrap();
    assert!(pending.text.contains("Lu") && buttons(&pending).len() == 2);

    d.tg.send_text(STRANGER_ID, STRANGER_ID, "/start");
    d.poll().await;
    let refused = d.tg.last_message(STRANGER_ID).unwrap();
    assert!(refused.text.contains("not allowed") && refused.text.contains("222"));
}

#[tokio::test]
async fn the_settings_page_keeps_secrets_write_only() {
    let d = desk().await;
    let (status, page) = d.w.app.get_text("/admin/settings/telegram").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(TOKEN) && page.contains("(set; type to replace)"));
    let res =
        d.w.app
            .post_form(
                "/admin/settings/telegram",
                &[
                    ("token", "not a token"),
                    ("allowed_ids", "111"),
                    ("chat_id", "111"),
                    ("mode", "polling"),
                ],
            )
            .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res =
        d.w.app
            .post_form(
                "/admin/settings/telegram",
                &[
                    ("token", ""),
                    ("allowed_ids", "111, 333"),
                    ("chat_id", "111"),
                    ("mode", "webhook"),
                ],
            )
            .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "webhook needs https"
    );
    let res =
        d.w.app
            .post_form("/admin/settings/telegram/test", &[])
            .await;
    assert_eq!(
        location(&res),
        "/admin/settings/telegram?done=telegram-test"
    );
    assert!(
        d.tg.last_message(OWNER_ID)
            .unwrap()
            .text
            .contains("usher is connected")
    );
    let res =
        d.w.app
            .post_form("/admin/settings/email/test", &[("to", "owner@example.com")])
            .await;
    assert_eq!(location(&res), "/admin/settings/email?done=email-test");
    assert_eq!(
        d.mails(1).await[0].subject().as_deref(),
        Some("usher test email")
    );
    let res =
        d.w.app
            .post_form("/admin/settings/general", &[("owner_name", "Ana María")])
            .await;
    assert_eq!(location(&res), "/admin/settings/general?done=general");
    let (_, form) = cookie_client()
        .get(d.w.app.url("/request"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|b| ((), b))
        .unwrap();
    assert!(form.contains("Ask Ana María for access"));
}

#[tokio::test]
async fn approving_with_a_profile_button_in_telegram_uses_its_libraries() {
    let mut d = desk().await;
    let plex = d.w.plex_id.to_string();
    let res =
        d.w.app
            .post_form(
                "/admin/profiles",
                &[
                    ("name", "Family"),
                    ("server", &plex),
                    (&format!("lib_{plex}"), "81234003"),
                ],
            )
            .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    d.request("Nia", "alice@example.com", &[]).await;
    let m = d.announced(1).await;
    assert!(
        buttons(&m).iter().any(|b| b.0 == "✅ Family"),
        "{:?}",
        buttons(&m)
    );
    d.tg.press_button(OWNER_ID, m.message_id, &data_of(&m, "Family"), OWNER_ID);
    d.poll().await;
    assert!(d.message(m.message_id).text.contains("Approved by Owner"));
    let shares = d.w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    let s = format!("{:?}", shares[0]);
    assert!(s.contains("81234003") && !s.contains("81234001"), "{s}");
}

/// The approval picker starts from the request defaults: a server connected later is not ticked
/// until the owner ticks it for requests, and a request profile, when set, is the start.
#[tokio::test]
async fn approvals_start_from_the_request_defaults_not_from_every_server() {
    let w = world().await;
    usher::requests::submit(
        &w.app.state,
        &usher::requests::RequestInput {
            name: "Lou".into(),
            email: "lou@example.com".into(),
            ..Default::default()
        },
        "10.9.9.9",
    )
    .await
    .unwrap();
    let (_, page) = w.app.get_text("/admin/requests").await;
    let plex = format!("name=\"server\" value=\"{}\" checked", w.plex_id);
    let jf_ticked = format!("name=\"server\" value=\"{}\" checked", w.jf_id);
    let jf = format!("name=\"server\" value=\"{}\">", w.jf_id);
    assert!(page.contains(&plex), "the first server is ticked: {page}");
    assert!(
        page.contains(&jf) && !page.contains(&jf_ticked),
        "the later one is not"
    );
    let settings = w.app.state.store.settings().await.unwrap();
    let start = usher::requests::starting_selection(&w.app.state, &settings)
        .await
        .unwrap();
    assert_eq!(
        start
            .servers
            .iter()
            .map(|c| c.server_id)
            .collect::<Vec<_>>(),
        vec![w.plex_id],
        "auto-approve, the CLI, the API and Telegram start from the same"
    );

    // A request profile, when set, is where approvals start.
    let res = w
        .app
        .post_form(
            "/admin/profiles",
            &[
                ("name", "Films only"),
                ("server", &w.jf_id.to_string()),
                (
                    &format!("lib_{}", w.jf_id),
                    "f137a2dd21bbc1b99aa5c0f6bf02a805",
                ),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let profile = w.app.state.store.profiles().await.unwrap()[0].profile.id;
    let mut settings = w.app.state.store.settings().await.unwrap();
    settings.requests.profile_id = Some(profile);
    w.app
        .state
        .store
        .save_settings(&settings, w.app.clock.now())
        .await
        .unwrap();
    let start = usher::requests::starting_selection(&w.app.state, &settings)
        .await
        .unwrap();
    assert_eq!(start.profile_id, Some(profile));
    assert_eq!(start.servers.len(), 1);
    assert_eq!(start.servers[0].server_id, w.jf_id);
    let (_, page) = w.app.get_text("/admin/requests").await;
    assert!(page.contains(&jf_ticked) && !page.contains(&plex), "{page}");
}

#[tokio::test]
async fn a_failed_announcement_is_retried_from_the_outbox_and_the_outcome_follows_it() {
    let d = desk().await;
    d.tg.control()
        .fail_next(&format!("/bot{TOKEN}/sendMessage"), 500);
    d.request("Ivy", "ivy@example.com", &[]).await;
    d.deliver().await;
    assert!(d.tg.messages(OWNER_ID).is_empty(), "Telegram failed once");
    // Declined on the web before the announcement went out: the outcome waits for it.
    let r = d.only_request().await;
    let res =
        d.w.app
            .post_form(
                &format!("/admin/requests/{}/decline", r.id),
                &[("reason", "")],
            )
            .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    d.deliver().await;
    assert!(d.tg.messages(OWNER_ID).is_empty());
    for _ in 0..3 {
        d.w.app.clock.advance(3600);
        d.deliver().await;
    }
    let sent = d.tg.messages(OWNER_ID);
    assert_eq!(sent.len(), 1, "announced once, then edited");
    let m = d.message(sent[0].message_id);
    assert!(
        m.text.contains("Ivy") && m.text.contains("Declined by"),
        "{}",
        m.text
    );
    assert!(m.reply_markup.is_none(), "the buttons are gone");
    let r = d.only_request().await;
    assert_eq!(r.telegram_message_id, Some(m.message_id));
}

#[tokio::test]
async fn every_settings_section_changes_and_both_test_sends_go_through_the_api_and_the_cli() {
    let d = desk().await;
    let a = crate::api::api(&d.w).await;
    // What a section leaves out stays; a bad value is named, with the page's sentence.
    let (status, body) = a
        .call(
            "PATCH",
            "/api/v1/settings/requests",
            Some(json!({"expiry_hours": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "expiry_hours", "{body}");
    let (status, body) = a
        .call(
            "PATCH",
            "/api/v1/settings/requests",
            Some(json!({"enabled": true, "passphrase": "open sesame", "expiry_hours": 48})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["requests"]["has_passphrase"], true);
    assert_eq!(body["requests"]["expiry_hours"], 48);
    assert_eq!(body["owner_name"], "Ana");
    let (_, body) = a
        .call(
            "PATCH",
            "/api/v1/settings/requests",
            Some(json!({"passphrase": null})),
        )
        .await;
    assert_eq!(body["requests"]["has_passphrase"], false);
    assert_eq!(body["requests"]["expiry_hours"], 48, "left out, so kept");
    let (status, body) = a
        .call(
            "PATCH",
            "/api/v1/settings/requests",
            Some(json!({"expiry": 48})),
        )
        .await;
    assert!(
        status.is_client_error(),
        "unknown fields are refused: {body}"
    );
    let (status, body) = a
        .call(
            "PATCH",
            "/api/v1/settings/telegram",
            Some(json!({"token": "not a token"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "token");
    let (status, body) = a
        .call(
            "PATCH",
            "/api/v1/settings/general",
            Some(json!({"owner_name": "Ana María", "community_url": "ftp://x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = a
        .call(
            "PATCH",
            "/api/v1/settings/email",
            Some(json!({"password": "pa ss", "username": "mailer"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["smtp"]["has_password"], true);
    assert_eq!(body["smtp"]["port"], d.mail.port(), "kept");
    assert!(!body.to_string().contains("pa ss"));
    // The sink takes no login: forget it again.
    let (_, body) = a
        .call(
            "PATCH",
            "/api/v1/settings/email",
            Some(json!({"password": null, "username": ""})),
        )
        .await;
    assert_eq!(body["smtp"]["has_password"], false);

    let (status, body) = a.call("POST", "/api/v1/settings/telegram/test", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        d.tg.last_message(OWNER_ID)
            .unwrap()
            .text
            .contains("usher is connected")
    );
    let (status, _) = a
        .call(
            "POST",
            "/api/v1/settings/email/test",
            Some(json!({"to": "not an address"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = a
        .call(
            "POST",
            "/api/v1/settings/email/test",
            Some(json!({"to": "owner@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(d.mail.wait_for(1).await.len(), 1);

    // The CLI takes the same JSON on standard input and runs the same checks.
    let outs = crate::cli::usher_runs(
        &d.w.app,
        &[(
            "USHER_TELEGRAM_API_URL",
            d.w.app.state.config.telegram_api_url.clone(),
        )],
        &[
            (
                &["settings", "set", "requests"],
                r#"{"per_ip_per_hour": 7, "auto_approve": true}"#,
            ),
            (&["settings", "set", "telegram"], r#"{"allowed_ids": [-5]}"#),
            (&["settings", "set", "email"], "host = smtp"),
            (&["settings", "show", "--json"], ""),
            (&["settings", "show"], ""),
            (&["settings", "test-telegram"], ""),
            (&["settings", "test-email", "owner@example.com"], ""),
        ],
    )
    .await;
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(outs[0].status.success(), "{}", err(&outs[0]));
    assert!(
        !outs[1].status.success() && err(&outs[1]).contains("User ids are numbers"),
        "{}",
        err(&outs[1])
    );
    assert!(
        !outs[2].status.success() && err(&outs[2]).contains("email section's JSON"),
        "{}",
        err(&outs[2])
    );
    let shown: Value = serde_json::from_str(&text(&outs[3])).unwrap();
    assert_eq!(shown["requests"]["per_ip_per_hour"], 7);
    assert_eq!(shown["requests"]["auto_approve"], true);
    assert_eq!(shown["requests"]["expiry_hours"], 48);
    assert!(
        text(&outs[4]).contains("owner_name: Ana\n"),
        "{}",
        text(&outs[4])
    );
    assert!(outs[5].status.success(), "{}", err(&outs[5]));
    assert!(outs[6].status.success(), "{}", err(&outs[6]));
    assert_eq!(d.mail.wait_for(2).await.len(), 2);
    let events = d.w.app.state.store.recent_events(50).await.unwrap();
    let by_cli = events
        .iter()
        .filter(|e| e.actor == "cli" && e.action.starts_with("settings."))
        .count();
    assert_eq!(by_cli, 3, "one change and two tests");
}

#[tokio::test]
async fn an_approver_linked_to_the_bot_approves_under_their_own_name_but_makes_no_invites() {
    let mut d = desk().await;
    let state = &d.w.app.state;
    usher::auth::create_admin(
        &state.store,
        "sam",
        "sam's own long passphrase",
        usher::domain::Role::Approver,
        d.w.app.clock.now(),
    )
    .await
    .unwrap();
    usher::auth::team::link_telegram(state, "sam", Some(OWNER_ID), "owner")
        .await
        .unwrap();

    d.tg.send_text(OWNER_ID, OWNER_ID, "/invite 1 7");
    d.poll().await;
    let reply = d.tg.last_message(OWNER_ID).unwrap();
    assert!(
        reply.text.contains("Your role is approver"),
        "{}",
        reply.text
    );
    assert!(
        d.w.app
            .state
            .store
            .invite_counts(d.w.app.clock.now())
            .await
            .unwrap()
            .all
            == 0,
        "no invite was made"
    );

    d.request("Bob", "bob@example.com", &[]).await;
    let m = d.announced(2).await;
    d.tg.press_button(OWNER_ID, m.message_id, &data_of(&m, "Approve"), OWNER_ID);
    d.poll().await;
    let picker = d.message(m.message_id);
    d.tg.press_button(
        OWNER_ID,
        m.message_id,
        &data_of(&picker, "Send invite"),
        OWNER_ID,
    );
    d.poll().await;
    let r = d.only_request().await;
    assert_eq!(r.status, RequestStatus::Approved);
    assert_eq!(r.decided_by.as_deref(), Some("sam"));
    let events = d.w.app.state.store.recent_events(30).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.actor == "sam" && e.action.starts_with("request.approved")),
        "{events:?}"
    );
}
