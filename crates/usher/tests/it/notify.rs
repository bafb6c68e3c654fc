use fakes::discord::FakeDiscord;
use fakes::smtp::SmtpSink;
use fakes::telegram::{FakeTelegram, OWNER_ID, TOKEN};
use fakes::webhook::FakeWebhook;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use usher::domain::ids::*;
use usher::domain::settings::{Settings, SmtpSecurity};

use crate::helpers::*;

const DAY: i64 = 86_400;
const BASE: &str = "/admin/settings/notifications";

/// Adds a channel through the page; returns its id and, for a webhook, the secret shown once.
async fn add_channel(app: &TestApp, fields: &[(&str, &str)]) -> (i64, Option<String>) {
    let res = app.post_form(BASE, fields).await;
    let status = res.status();
    if status == StatusCode::SEE_OTHER {
        let loc = location(&res);
        assert!(
            loc.starts_with(&format!("{BASE}?done=created#channel-")),
            "{loc}"
        );
        let id = loc.rsplit("#channel-").next().unwrap().parse().unwrap();
        return (id, None);
    }
    let page = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{page}");
    let secret = between(&page, "id=\"secret-value\" readonly value=\"", "\"");
    let id = between(&page, "data-secret=\"", "\"").parse().unwrap();
    (id, Some(secret))
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {text}"))
        + start.len();
    let to = text[from..].find(end).unwrap() + from;
    text[from..to].to_string()
}

/// A world with a webhook channel for `events` whose receiver checks signatures with the secret
/// shown at creation; returns the channel id and that secret too.
async fn world_with_hook(events: &[&str]) -> (World, FakeWebhook, i64, String) {
    let w = world().await;
    let hook = FakeWebhook::start().await;
    let url = hook.url();
    let mut fields = vec![("kind", "webhook"), ("url", url.as_str())];
    fields.extend(events.iter().map(|e| ("event", *e)));
    let (id, secret) = add_channel(&w.app, &fields).await;
    let secret = secret.expect("a webhook's secret is shown at creation");
    hook.set_secret(&secret);
    (w, hook, id, secret)
}

/// Fills the public request form as a stranger would.
async fn request_access(app: &TestApp, name: &str, email: &str) -> reqwest::Response {
    let (visitor, csrf) = stranger_on(app, "/request").await;
    visitor
        .post(app.url("/request"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", name),
            ("email", email),
            ("note", "Hi, it's me"),
        ])
        .send()
        .await
        .unwrap()
}

async fn redeem_jellyfin(w: &World, username: &str, email: &str, duration: &str) -> MemberId {
    let code = w
        .invite(&[w.jf_id], "1", |i| i.duration = duration.into())
        .await;
    let input = usher::invites::RedeemInput {
        username: username.into(),
        email: email.into(),
        password: "a good password".into(),
        ..Default::default()
    };
    usher::invites::redeem(&w.app.state, &code, &input)
        .await
        .unwrap()
        .member_id
}

/// Email through the SMTP sink and, with `telegram`, the bot of the Telegram fake.
async fn set_up_email(app: &TestApp, mail: &SmtpSink, telegram: bool) {
    let mut s = Settings::default();
    if telegram {
        s.telegram.token_sealed = Some(app.state.key.seal(TOKEN));
        s.telegram.allowed_ids = vec![OWNER_ID];
        s.telegram.chat_id = Some(OWNER_ID);
    }
    s.smtp.host = "127.0.0.1".into();
    s.smtp.port = mail.port();
    s.smtp.security = SmtpSecurity::None;
    s.smtp.from = "usher <usher@example.com>".into();
    app.state
        .store
        .save_settings(&s, app.clock.now())
        .await
        .unwrap();
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn deliver(app: &TestApp) -> usize {
    usher::notify::deliver_due(&app.state).await.unwrap()
}

async fn delivery_states(app: &TestApp) -> Vec<(String, i64, Option<String>)> {
    let mut all = app.state.store.recent_deliveries(100).await.unwrap();
    all.reverse();
    all.into_iter()
        .map(|d| (d.state.to_string(), d.attempts, d.last_error))
        .collect()
}

#[tokio::test]
async fn a_new_request_reaches_discord_and_a_signed_webhook_in_the_background() {
    let w = world().await;
    let discord = FakeDiscord::start().await;
    let hook = FakeWebhook::start().await;
    let (_, none) = add_channel(
        &w.app,
        &[
            ("kind", "discord"),
            ("name", "Family Discord"),
            ("url", &discord.webhook_url()),
            ("event", "request.created"),
            ("lang", "en"),
        ],
    )
    .await;
    assert!(none.is_none(), "only webhooks have a secret");
    let (_, secret) = add_channel(
        &w.app,
        &[
            ("kind", "webhook"),
            ("name", "Home automation"),
            ("url", &hook.url()),
            ("event", "request.created"),
            ("lang", "en"),
        ],
    )
    .await;
    let secret = secret.expect("the secret is shown once");
    hook.set_secret(&secret);

    let res = request_access(&w.app, "Tom @everyone **bold**", "tom@example.com").await;
    assert_eq!(location(&res), "/request/sent");
    assert!(
        discord.messages().is_empty() && hook.deliveries().is_empty(),
        "nothing is sent while the request is answered"
    );

    assert_eq!(deliver(&w.app).await, 2);
    let messages = discord.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert!(
        m.content().contains("New access request from Tom"),
        "{}",
        m.content()
    );
    assert!(
        m.content().contains("\\*\\*bold\\*\\*"),
        "markdown is escaped"
    );
    assert_eq!(m.body["allowed_mentions"]["parse"], serde_json::json!([]));
    let embed = &m.embeds()[0];
    assert_eq!(embed["url"], format!("{}/admin/requests", w.app.base));
    assert!(
        embed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == "tom@example.com")
    );

    let deliveries = hook.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(hook.refused(), 0);
    let d = &deliveries[0];
    assert_eq!(d.header("x-usher-event"), Some("request.created"));
    assert_eq!(d.header("content-type"), Some("application/json"));
    // The receiver checked it; check it here too, by hand.
    let expected = format!("sha256={}", hmac_hex(&secret, d.body.as_bytes()));
    assert_eq!(d.header("x-usher-signature"), Some(expected.as_str()));
    assert_eq!(d.json["event"], "request.created");
    assert_eq!(d.json["at"], "2026-11-22T00:00:00Z");
    assert_eq!(d.json["data"]["email"], "tom@example.com");
    assert_eq!(d.json["data"]["name"], "Tom @everyone **bold**");
    assert!(
        d.json["summary"]
            .as_str()
            .unwrap()
            .starts_with("New access request from Tom")
    );
    assert_eq!(deliver(&w.app).await, 0, "sent once");

    // The URL and the secret are stored sealed and never shown back.
    let (_, page) = w.app.get_text(BASE).await;
    assert!(!page.contains(fakes::discord::WEBHOOK_TOKEN));
    assert!(!page.contains(&secret));
    assert!(page.contains("http://127.0.0.1:"), "only the host is shown");
    for c in w.app.state.store.channels().await.unwrap() {
        let sealed = c.target_sealed.unwrap();
        assert!(!sealed.contains("127.0.0.1") && !sealed.contains("webhooks"));
    }
    let (_, events) = w.app.get_text("/admin/events").await;
    assert!(!events.contains(fakes::discord::WEBHOOK_TOKEN) && !events.contains(&secret));
}

#[tokio::test]
async fn each_channel_hears_only_the_events_it_chose() {
    let w = world().await;
    let discord = FakeDiscord::start().await;
    let hook = FakeWebhook::start().await;
    add_channel(
        &w.app,
        &[
            ("kind", "discord"),
            ("url", &discord.webhook_url()),
            ("event", "invite.redeemed"),
        ],
    )
    .await;
    let (hook_id, _) = add_channel(
        &w.app,
        &[
            ("kind", "webhook"),
            ("url", &hook.url()),
            ("event", "request.created"),
            ("event", "request.declined"),
        ],
    )
    .await;

    request_access(&w.app, "Rita", "rita@example.com").await;
    redeem_jellyfin(&w, "jules", "jules@example.com", "").await;
    assert_eq!(deliver(&w.app).await, 2);
    let events: Vec<String> = hook
        .deliveries()
        .iter()
        .map(|d| d.json["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["request.created"]);
    let redeemed = discord.messages();
    assert_eq!(redeemed.len(), 1);
    assert!(redeemed[0].content().contains("jules joined with invite"));

    // Switched off, a channel hears nothing; its choice of events can change.
    let res = w
        .app
        .post_form(
            &format!("{BASE}/{hook_id}"),
            &[("name", "Hook"), ("event", "invite.redeemed")],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("{BASE}?done=saved#channel-{hook_id}")
    );
    redeem_jellyfin(&w, "kim", "kim@example.com", "").await;
    assert_eq!(deliver(&w.app).await, 1, "only Discord");
    assert_eq!(hook.deliveries().len(), 1);
    assert_eq!(discord.messages().len(), 2);
}

#[tokio::test]
async fn telegram_and_email_channels_deliver_through_the_bot_and_the_smtp_server() {
    let tg = FakeTelegram::start().await;
    let mail = SmtpSink::start().await;
    let tg_url = tg.url();
    let w = world_with(move |c| c.telegram_api_url = tg_url).await;
    set_up_email(&w.app, &mail, true).await;

    // The bot already announces new requests with buttons: Telegram channels cannot choose it.
    let res = w
        .app
        .post_form(BASE, &[("kind", "telegram"), ("event", "request.created")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("cannot be chosen"));
    add_channel(
        &w.app,
        &[
            ("kind", "telegram"),
            ("event", "request.declined"),
            ("lang", "es"),
        ],
    )
    .await;
    add_channel(
        &w.app,
        &[
            ("kind", "email"),
            ("address", "owner@example.com"),
            ("event", "request.declined"),
        ],
    )
    .await;

    request_access(&w.app, "<Tom & Jerry>", "tom@example.com").await;
    let r = w.app.state.store.requests(10).await.unwrap().remove(0);
    let res = w
        .app
        .post_form(
            &format!("/admin/requests/{}/decline", r.id),
            &[("reason", "<b>full</b>")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The bot's announcement and its outcome, the Telegram channel, the owner's email channel
    // and the email to the requester, all through the outbox.
    assert_eq!(deliver(&w.app).await, 5);
    // The bot's own announcement of the request is the other message in the chat.
    let sent = tg.wait_for_messages(OWNER_ID, 2).await;
    let m = sent
        .iter()
        .find(|m| m.sent_text.contains("rechazó la solicitud"))
        .expect("the decline, in Spanish");
    assert_eq!(m.parse_mode.as_deref(), Some("HTML"));
    assert!(
        m.sent_text.contains("&lt;Tom &amp; Jerry&gt;"),
        "{}",
        m.sent_text
    );
    assert!(
        m.sent_text.contains("&lt;b&gt;full&lt;/b&gt;"),
        "{}",
        m.sent_text
    );
    assert!(m.sent_text.contains("<b>Motivo:</b>"), "{}", m.sent_text);

    // The requester hears about the decision too.
    let got = mail.wait_for(2).await;
    let to_owner: Vec<_> = got
        .iter()
        .filter(|m| m.to == vec!["owner@example.com".to_string()])
        .collect();
    assert_eq!(to_owner.len(), 1);
    let subject = to_owner[0].subject().unwrap();
    assert_eq!(
        subject,
        "usher: owner declined the request from <Tom & Jerry>"
    );
    let body = to_owner[0].text_body().unwrap();
    assert!(body.contains("Reason: <b>full</b>"), "{body}");
    assert!(body.contains("Open in usher: http://127.0.0.1:"), "{body}");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_and_then_delivered() {
    let (w, hook, _, _) = world_with_hook(&["request.created"]).await;
    hook.control().fail_next(hook.path(), 500);
    hook.control().fail_next(hook.path(), 429);

    request_access(&w.app, "Pat", "pat@example.com").await;
    assert_eq!(deliver(&w.app).await, 1);
    let states = delivery_states(&w.app).await;
    assert_eq!(states[0].0, "queued");
    assert_eq!(states[0].1, 1);
    assert!(
        states[0].2.as_deref().unwrap().contains("500"),
        "{states:?}"
    );
    assert_eq!(deliver(&w.app).await, 0, "not before the backoff");

    w.app.clock.advance(29);
    assert_eq!(deliver(&w.app).await, 0);
    w.app.clock.advance(1);
    assert_eq!(deliver(&w.app).await, 1, "second try after 30 s");
    assert!(hook.deliveries().is_empty());
    w.app.clock.advance(59);
    assert_eq!(deliver(&w.app).await, 0, "the wait doubles");
    w.app.clock.advance(1);
    assert_eq!(deliver(&w.app).await, 1);

    let accepted = hook.deliveries();
    assert_eq!(accepted.len(), 1, "delivered once, at last");
    let tries = hook.control().requests_to(hook.path());
    assert_eq!(tries.len(), 3);
    let ids: Vec<_> = tries
        .iter()
        .map(|r| r.header("x-usher-delivery").unwrap().to_string())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one delivery id: {ids:?}"
    );
    assert_eq!(
        delivery_states(&w.app).await[0],
        ("sent".to_string(), 3, None)
    );
    let (_, page) = w.app.get_text(BASE).await;
    assert!(page.contains("data-state=\"sent\""), "{page}");
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_is_given_up_with_the_reason_recorded() {
    let w = world().await;
    let hook = FakeWebhook::start().await;
    add_channel(
        &w.app,
        &[
            ("kind", "webhook"),
            ("name", "Flaky"),
            ("url", &hook.url()),
            ("event", "request.created"),
        ],
    )
    .await;
    // A Discord webhook deleted in Discord: refused for good at the first try.
    let discord = FakeDiscord::start().await;
    let stale = discord
        .webhook_url()
        .replace(fakes::discord::WEBHOOK_TOKEN, "revoked");
    add_channel(
        &w.app,
        &[
            ("kind", "discord"),
            ("name", "Old Discord"),
            ("url", &stale),
            ("event", "request.created"),
        ],
    )
    .await;
    let max = usher::notify::deliver::MAX_ATTEMPTS;
    for _ in 0..max {
        hook.control().fail_next(hook.path(), 503);
    }

    request_access(&w.app, "Lou", "lou@example.com").await;
    assert_eq!(deliver(&w.app).await, 2);
    for _ in 1..max {
        w.app.clock.advance(3600);
        assert_eq!(deliver(&w.app).await, 1);
    }
    w.app.clock.advance(DAY);
    assert_eq!(deliver(&w.app).await, 0, "given up");
    assert!(hook.deliveries().is_empty());
    assert_eq!(hook.control().requests_to(hook.path()).len() as i64, max);

    let states = delivery_states(&w.app).await;
    assert_eq!(states[0].0, "failed");
    assert_eq!(states[0].1, max);
    assert!(states[0].2.as_deref().unwrap().contains("503"));
    assert_eq!(states[1].0, "failed");
    assert_eq!(states[1].1, 1, "a refusal is not retried");
    assert!(
        states[1]
            .2
            .as_deref()
            .unwrap()
            .contains("Invalid Webhook Token")
    );

    let (_, log) = w.app.get_text("/admin/events?action=notify.failed").await;
    assert!(
        log.contains("Flaky") && log.contains("Old Discord"),
        "{log}"
    );
    assert!(log.contains("after 10 attempts"), "{log}");
    assert!(!log.contains("revoked"), "no URL in the log");
}

#[tokio::test]
async fn delivery_never_blocks_the_action_that_caused_it() {
    let w = world().await;
    // A receiver that is down: nothing listens on this port any more.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = format!("http://127.0.0.1:{closed}/hook");
    add_channel(
        &w.app,
        &[
            ("kind", "webhook"),
            ("url", &down),
            ("event", "request.created"),
            ("event", "request.declined"),
        ],
    )
    .await;

    let res = request_access(&w.app, "Dana", "dana@example.com").await;
    assert_eq!(location(&res), "/request/sent");
    let r = w.app.state.store.requests(10).await.unwrap();
    assert_eq!(r.len(), 1, "the request is kept");
    let res = w
        .app
        .post_form(
            &format!("/admin/requests/{}/decline", r[0].id),
            &[("reason", "full")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the decision is not held up"
    );

    assert_eq!(deliver(&w.app).await, 2);
    let states = delivery_states(&w.app).await;
    assert!(states.iter().all(|s| s.0 == "queued"), "{states:?}");
    assert!(
        states[0]
            .2
            .as_deref()
            .unwrap()
            .contains("could not connect"),
        "{states:?}"
    );
    assert!(!states[0].2.as_deref().unwrap().contains(&down), "no URL");
}

#[tokio::test]
async fn the_test_button_sends_now_and_shows_what_went_wrong() {
    let w = world().await;
    let discord = FakeDiscord::start().await;
    let (id, _) = add_channel(
        &w.app,
        &[
            ("kind", "discord"),
            ("name", "Den"),
            ("url", &discord.webhook_url()),
            ("event", "sync.drift"),
        ],
    )
    .await;
    let res = w.app.post_form(&format!("{BASE}/{id}/test"), &[]).await;
    assert_eq!(location(&res), format!("{BASE}?done=tested#channel-{id}"));
    let sent = discord.messages();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].content().contains("the channel “Den” works"),
        "{}",
        sent[0].content()
    );

    discord.control().fail_next(&discord.path(), 404);
    let res = w.app.post_form(&format!("{BASE}/{id}/test"), &[]).await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let page = res.text().await.unwrap();
    assert!(page.contains("The test did not arrive"), "{page}");
    assert!(page.contains("404"));

    let res = w.app.post_form(&format!("{BASE}/9999/test"), &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let log = w.app.state.store.recent_events(20).await.unwrap();
    assert_eq!(
        log.iter().filter(|e| e.action == "notify.tested").count(),
        2
    );
    assert!(log.iter().all(|e| e.actor != "admin"));
}

#[tokio::test]
async fn a_new_signing_secret_replaces_the_old_one() {
    let (w, hook, id, first) = world_with_hook(&["request.created"]).await;
    let res = w.app.post_form(&format!("{BASE}/{id}/secret"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let second = between(&page, "id=\"secret-value\" readonly value=\"", "\"");
    assert_ne!(second, first);
    hook.set_secret(&second);
    let res = w.app.post_form(&format!("{BASE}/{id}/test"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(hook.deliveries()[0].json["event"], "test");
    hook.set_secret(&first);
    let res = w.app.post_form(&format!("{BASE}/{id}/test"), &[]).await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_GATEWAY,
        "the old secret is gone"
    );
    assert_eq!(hook.refused(), 1);
}

#[tokio::test]
async fn bad_channel_input_gets_a_clear_answer() {
    let w = world().await;
    for (fields, expected) in [
        (
            vec![
                ("kind", "discord"),
                ("url", "discord.com/api/webhooks/1/x"),
                ("event", "request.created"),
            ],
            "Enter the full URL",
        ),
        (
            vec![
                ("kind", "webhook"),
                ("url", "ftp://x.example/"),
                ("event", "request.created"),
            ],
            "Enter the full URL",
        ),
        (
            vec![("kind", "pager"), ("event", "request.created")],
            "Choose Telegram",
        ),
        (
            vec![
                ("kind", "email"),
                ("address", "nobody"),
                ("event", "request.created"),
            ],
            "Enter an email address",
        ),
        (
            vec![("kind", "email"), ("address", "a@example.com")],
            "Tick at least one event",
        ),
        (
            vec![
                ("kind", "email"),
                ("address", "a@example.com"),
                ("event", "everything"),
            ],
            "cannot be chosen",
        ),
    ] {
        let res = w.app.post_form(BASE, &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let page = res.text().await.unwrap();
        assert!(page.contains(expected), "{fields:?}: {page}");
    }
    assert!(w.app.state.store.channels().await.unwrap().is_empty());
    let (id, _) = add_channel(
        &w.app,
        &[
            ("kind", "email"),
            ("address", "a@example.com"),
            ("event", "request.created"),
        ],
    )
    .await;
    let res = w
        .app
        .post_form(
            &format!("{BASE}/{id}"),
            &[
                ("name", &"x".repeat(61)),
                ("address", "a@example.com"),
                ("event", "request.created"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for path in [format!("{BASE}/nope"), format!("{BASE}/123456")] {
        let res = w
            .app
            .post_form(&path, &[("event", "request.created")])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let res = w.app.post_form(&format!("{BASE}/{id}/delete"), &[]).await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "deleting needs the confirmation"
    );
    let res = w
        .app
        .post_form(&format!("{BASE}/{id}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(location(&res), format!("{BASE}?done=deleted"));
    assert!(w.app.state.store.channels().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_expiry_reminder_reaches_the_member_by_email_and_the_owner_once() {
    let mail = SmtpSink::start().await;
    let (w, hook, _, _) = world_with_hook(&["member.expiring", "member.expired"]).await;
    set_up_email(&w.app, &mail, false).await;
    let member = redeem_jellyfin(&w, "fran", "fran@example.com", "10d").await;
    // A member who gave an email is welcomed with where to go.
    assert_eq!(deliver(&w.app).await, 1);
    let welcome = mail.wait_for(1).await;
    assert_eq!(welcome[0].to, vec!["fran@example.com".to_string()]);
    assert_eq!(
        welcome[0].subject().as_deref(),
        Some("Welcome to Home Jellyfin")
    );
    let body = welcome[0].text_body().unwrap();
    assert!(
        body.contains("Home Jellyfin") && body.contains("· fran") && body.contains("/guide"),
        "{body}"
    );

    w.app.clock.advance(7 * DAY + 1);
    let report = usher::members::expiry::sweep(&w.app.state).await.unwrap();
    assert_eq!(report.reminded, 1);
    assert_eq!(deliver(&w.app).await, 2);
    let got = mail.wait_for(2).await;
    assert_eq!(got[1].to, vec!["fran@example.com".to_string()]);
    assert_eq!(
        got[1].subject().as_deref(),
        Some("Your access to Home Jellyfin ends soon")
    );
    let body = got[1].text_body().unwrap();
    assert!(
        body.contains("Hello fran") && body.contains("2026-12-02 00:00 UTC"),
        "{body}"
    );
    let d = &hook.deliveries()[0];
    assert_eq!(d.json["event"], "member.expiring");
    assert_eq!(d.json["data"]["member_id"], member.get());
    assert_eq!(d.json["data"]["expires_at"], "2026-12-02T00:00:00Z");

    usher::members::expiry::sweep(&w.app.state).await.unwrap();
    w.app.clock.advance(3600);
    usher::members::expiry::sweep(&w.app.state).await.unwrap();
    assert_eq!(deliver(&w.app).await, 0, "reminded once");

    w.app.clock.advance(3 * DAY);
    usher::members::expiry::sweep(&w.app.state).await.unwrap();
    assert_eq!(deliver(&w.app).await, 1);
    let expired = &hook.deliveries()[1];
    assert_eq!(expired.json["event"], "member.expired");
    assert_eq!(expired.json["data"]["server"], "Home Jellyfin");
    assert_eq!(
        mail.messages().len(),
        2,
        "members are mailed the welcome and the reminder only"
    );
}

#[tokio::test]
async fn notification_pages_are_for_admins_only() {
    let app = spawn_signed_in().await;
    let stranger = cookie_client();
    let res = stranger.get(app.url(BASE)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        "/login?next=%2Fadmin%2Fsettings%2Fnotifications"
    );
    // Without the page's CSRF token nothing changes, signed in or not.
    let form = [
        ("kind", "email"),
        ("address", "x@example.com"),
        ("event", "request.created"),
    ];
    for client in [&stranger, &app.client] {
        let res = client.post(app.url(BASE)).form(&form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert!(app.state.store.channels().await.unwrap().is_empty());
    let (status, page) = app.get_text(BASE).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("csrf"));
    app.post_form("/prefs", &[("lang", "es"), ("back", BASE)])
        .await;
    let (_, page) = app.get_text(BASE).await;
    assert!(
        page.contains("Solicitud nueva") && page.contains("Idioma de los mensajes"),
        "{page}"
    );
}

#[tokio::test]
async fn channels_are_made_changed_tested_rekeyed_and_deleted_through_the_api_and_the_cli() {
    let w = world().await;
    let a = crate::api::api(&w).await;
    let hook = FakeWebhook::start().await;
    let (status, body) = a
        .call(
            "POST",
            "/api/v1/notifications",
            Some(
                serde_json::json!({"kind": "webhook", "name": "Home Assistant",
                "url": hook.url(), "events": ["request.created", "member.removed"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let secret = body["secret"].as_str().unwrap().to_string();
    assert_eq!(
        body["events"],
        serde_json::json!(["request.created", "member.removed"])
    );
    assert!(
        !body.to_string().contains(&hook.url()),
        "the URL is sealed: {body}"
    );
    hook.set_secret(&secret);
    let (status, body) = a
        .call("POST", &format!("/api/v1/notifications/{id}/test"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(hook.deliveries().len(), 1);
    // A bad event is named; the kind cannot change.
    let (status, body) = a
        .call(
            "PUT",
            &format!("/api/v1/notifications/{id}"),
            Some(serde_json::json!({"events": ["grant.provisioned"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "events");
    let (status, body) = a
        .call(
            "PUT",
            &format!("/api/v1/notifications/{id}"),
            Some(serde_json::json!({"name": "HA", "events": ["member.removed"], "enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], false);
    assert_eq!(body["name"], "HA");
    let (status, body) = a
        .call("POST", &format!("/api/v1/notifications/{id}/secret"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(body["secret"].as_str().unwrap(), secret);

    let outs = crate::cli::usher_runs(
        &w.app,
        &[],
        &[
            (
                &["channel", "add"],
                r#"{"kind": "email", "address": "me@example.com", "events": ["request.created"]}"#,
            ),
            (
                &["channel", "add"],
                r#"{"kind": "pigeon", "events": ["request.created"]}"#,
            ),
            (&["channel", "list", "--json"], ""),
            (&["channel", "list"], ""),
            (&["channel", "secret", &id.to_string()], ""),
            (&["channel", "remove", &id.to_string()], ""),
            (&["channel", "remove", &id.to_string(), "--yes"], ""),
        ],
    )
    .await;
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert!(outs[0].status.success(), "{}", err(&outs[0]));
    assert!(!outs[1].status.success() && !err(&outs[1]).is_empty());
    let listed: serde_json::Value = serde_json::from_str(&text(&outs[2])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(text(&outs[3]).contains("HA") && text(&outs[3]).contains("email"));
    assert!(text(&outs[4]).contains("shown once"), "{}", text(&outs[4]));
    assert!(!outs[5].status.success() && err(&outs[5]).contains("--yes"));
    assert!(outs[6].status.success(), "{}", err(&outs[6]));
    let (status, _) = a
        .call("GET", &format!("/api/v1/notifications/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = a
        .call("DELETE", &format!("/api/v1/notifications/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_sign_in_from_a_browser_never_seen_reaches_the_channels_once() {
    let (w, hook, _, _) = world_with_hook(&["admin.signed_in_new_device"]).await;
    let sign_in = |client: reqwest::Client| {
        let app = &w.app;
        async move {
            let res = app.sign_in(&client, ADMIN, PASSWORD).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            client
        }
    };
    let phone = sign_in(cookie_client()).await;
    // The same browser again (it keeps its cookies) is not new; another one is.
    let phone = sign_in(phone).await;
    drop(phone);
    sign_in(cookie_client()).await;
    let new_device: Vec<_> = w
        .app
        .state
        .store
        .recent_events(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "admin.signed_in_new_device")
        .collect();
    assert_eq!(new_device.len(), 2, "{new_device:?}");
    assert!(
        new_device[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("from 127.0.0.1")
    );
    deliver(&w.app).await;
    let got = hook.deliveries();
    assert_eq!(got.len(), 2);
    assert_eq!(hook.refused(), 0);
    let body = &got[0].json;
    assert_eq!(body["event"], "admin.signed_in_new_device");
    assert_eq!(body["data"]["admin"], ADMIN);
    assert!(
        body["data"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/admin/account")
    );
}
