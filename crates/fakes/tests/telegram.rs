//! The fake Telegram Bot API answers the way https://core.telegram.org/bots/api and the real
//! service do.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use fakes::telegram::{BOT_ID, BOT_USERNAME, FakeTelegram, OWNER_ID, STRANGER_ID, TOKEN};
use reqwest::Client;
use serde_json::{Value, json};
use tokio::sync::mpsc;

const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content \
                            and reply markup are exactly the same as a current content and reply \
                            markup of the message";
const WEBHOOK_CONFLICT: &str = "Conflict: can't use getUpdates method while webhook is active; \
                                use deleteWebhook to delete the webhook first";
const QUERY_TOO_OLD: &str =
    "Bad Request: query is too old and response timeout expired or query ID is invalid";

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().no_proxy().build().unwrap()
}

#[derive(Clone)]
struct Bot {
    http: Client,
    api: String,
}

impl Bot {
    fn new(tg: &FakeTelegram) -> Bot {
        Bot {
            http: client(),
            api: tg.api_url(),
        }
    }

    async fn call(&self, method: &str, params: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/{method}", self.api))
            .json(&params)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn ok(&self, method: &str, params: Value) -> Value {
        let (status, body) = self.call(method, params).await;
        assert_eq!(status, 200, "{method}: {body}");
        assert_eq!(body["ok"], true, "{method}: {body}");
        body["result"].clone()
    }

    /// The description of an error answer, after checking its shape.
    async fn error(&self, method: &str, params: Value) -> (u16, String) {
        let (status, body) = self.call(method, params).await;
        assert_eq!(body["ok"], false, "{method}: {body}");
        assert_eq!(body["error_code"], status, "{method}: {body}");
        (status, body["description"].as_str().unwrap().to_string())
    }
}

fn keyboard(buttons: &[(&str, &str)]) -> Value {
    let row: Vec<Value> = buttons
        .iter()
        .map(|(text, data)| json!({"text": text, "callback_data": data}))
        .collect();
    json!({"inline_keyboard": [row]})
}

/// Sends the owner a request card with approve/decline buttons; returns its message id.
async fn send_card(bot: &Bot) -> i64 {
    let sent = bot
        .ok(
            "sendMessage",
            json!({
                "chat_id": OWNER_ID,
                "text": "<b>New request</b> from Ana",
                "parse_mode": "HTML",
                "reply_markup": keyboard(&[("✅ Approve", "req:1:ok"), ("❌ Decline", "req:1:no")]),
            }),
        )
        .await;
    sent["message_id"].as_i64().unwrap()
}

#[tokio::test]
async fn get_me_describes_the_seeded_bot() {
    let tg = FakeTelegram::start().await;
    let me = Bot::new(&tg).ok("getMe", json!({})).await;
    assert_eq!(me["id"], BOT_ID);
    assert_eq!(me["is_bot"], true);
    assert_eq!(me["username"], BOT_USERNAME);
    assert_eq!(tg.token(), TOKEN);
    assert_eq!(tg.api_url(), format!("{}/bot{TOKEN}", tg.url()));
}

#[tokio::test]
async fn a_message_with_html_and_an_inline_keyboard_is_stored_as_sent() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let markup = keyboard(&[("✅ Approve", "req:1:ok"), ("❌ Decline", "req:1:no")]);
    let sent = bot
        .ok(
            "sendMessage",
            json!({
                "chat_id": OWNER_ID,
                "text": "<b>New request</b> from <i>Ana &amp; Bo</i> 🎬",
                "parse_mode": "HTML",
                "reply_markup": markup,
                "link_preview_options": {"is_disabled": true},
            }),
        )
        .await;

    assert_eq!(sent["message_id"], 1);
    assert_eq!(
        sent["chat"],
        json!({"id": OWNER_ID, "first_name": "Owner", "username": "owner", "type": "private"})
    );
    assert_eq!(sent["from"]["id"], BOT_ID);
    assert_eq!(sent["from"]["is_bot"], true);
    assert!(sent["date"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(sent["text"], "New request from Ana & Bo 🎬");
    assert_eq!(
        sent["entities"],
        json!([
            {"offset": 0, "length": 11, "type": "bold"},
            {"offset": 17, "length": 8, "type": "italic"},
        ])
    );
    assert_eq!(sent["reply_markup"], markup);

    let stored = tg.last_message(OWNER_ID).unwrap();
    assert_eq!(stored.message_id, 1);
    assert!(stored.from_bot);
    assert_eq!(stored.text, "New request from Ana & Bo 🎬");
    assert_eq!(
        stored.sent_text,
        "<b>New request</b> from <i>Ana &amp; Bo</i> 🎬"
    );
    assert_eq!(stored.parse_mode.as_deref(), Some("HTML"));
    assert_eq!(stored.callback_data(), ["req:1:ok", "req:1:no"]);
    assert_eq!(
        stored
            .button("✅ Approve")
            .unwrap()
            .callback_data
            .as_deref(),
        Some("req:1:ok")
    );
    assert!(stored.link_preview_disabled);
    assert_eq!(stored.entity_types(), ["bold", "italic"]);

    let second = send_card(&bot).await;
    assert_eq!(second, 2, "message ids grow per chat");
    assert_eq!(tg.messages(OWNER_ID).len(), 2);
}

#[tokio::test]
async fn html_the_real_parser_rejects_is_refused_with_its_description() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let cases = [
        (
            "<b>unclosed",
            "Can't find end tag corresponding to start tag \"b\"",
        ),
        ("1 < 2", "Unsupported start tag \"\" at byte offset 2"),
        (
            "<div>Ana</div>",
            "Unsupported start tag \"div\" at byte offset 0",
        ),
        (
            "<b>Ana</i>",
            "Unmatched end tag at byte offset 6, expected \"</b>\", found \"</i>\"",
        ),
        ("Ana</b>", "Unexpected end tag at byte offset 3"),
        (
            "Tom & Jerry",
            "Character \"&\" at byte offset 4 must be escaped as \"&amp;\"",
        ),
    ];
    for (text, why) in cases {
        let (status, description) = bot
            .error(
                "sendMessage",
                json!({"chat_id": OWNER_ID, "text": text, "parse_mode": "HTML"}),
            )
            .await;
        assert_eq!(status, 400, "{text}");
        assert_eq!(
            description,
            format!("Bad Request: can't parse entities: {why}"),
            "{text}"
        );
    }
    assert!(tg.messages(OWNER_ID).is_empty());

    // Without a parse mode the same characters are just text.
    let plain = bot
        .ok(
            "sendMessage",
            json!({"chat_id": OWNER_ID, "text": "1 < 2 & 3"}),
        )
        .await;
    assert_eq!(plain["text"], "1 < 2 & 3");
    assert!(plain.get("entities").is_none());

    let (_, empty) = bot
        .error(
            "sendMessage",
            json!({"chat_id": OWNER_ID, "text": "<b> </b>", "parse_mode": "HTML"}),
        )
        .await;
    assert_eq!(empty, "Bad Request: message text is empty");
}

#[tokio::test]
async fn callback_data_longer_than_64_bytes_is_refused() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    for data in ["a".repeat(65), "é".repeat(33)] {
        let (status, description) = bot
            .error(
                "sendMessage",
                json!({"chat_id": OWNER_ID, "text": "pick", "reply_markup": keyboard(&[("x", &data)])}),
            )
            .await;
        assert_eq!(status, 400);
        assert_eq!(description, "Bad Request: BUTTON_DATA_INVALID");
    }
    let (_, text_only) = bot
        .error(
            "sendMessage",
            json!({"chat_id": OWNER_ID, "text": "pick", "reply_markup": {"inline_keyboard": [[{"text": "x"}]]}}),
        )
        .await;
    assert_eq!(
        text_only,
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
    );
    assert!(tg.messages(OWNER_ID).is_empty());

    let exactly_64 = "b".repeat(64);
    bot.ok(
        "sendMessage",
        json!({"chat_id": OWNER_ID, "text": "pick", "reply_markup": keyboard(&[("x", &exactly_64)])}),
    )
    .await;
    assert_eq!(
        tg.last_message(OWNER_ID).unwrap().callback_data(),
        [exactly_64]
    );
}

#[tokio::test]
async fn a_pressed_button_wakes_a_waiting_long_poll_at_once() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let card = send_card(&bot).await;

    let poller = bot.clone();
    let started = Instant::now();
    let poll = tokio::spawn(async move { poller.ok("getUpdates", json!({"timeout": 5})).await });
    tg.wait_until_polling().await;
    let query_id = tg.press_button(OWNER_ID, card, "req:1:ok", OWNER_ID);

    let updates = poll.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the poll waited {:?} instead of returning when the button was pressed",
        started.elapsed()
    );
    let updates = updates.as_array().unwrap();
    assert_eq!(updates.len(), 1);
    let query = &updates[0]["callback_query"];
    assert_eq!(query["id"], query_id.as_str());
    assert_eq!(query["data"], "req:1:ok");
    assert_eq!(query["from"]["id"], OWNER_ID);
    assert_eq!(query["message"]["message_id"], card);
    assert_eq!(query["message"]["chat"]["id"], OWNER_ID);
    assert_eq!(
        query["message"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "req:1:ok"
    );
    assert!(query["chat_instance"].is_string());
}

#[tokio::test]
async fn an_empty_long_poll_returns_after_its_timeout() {
    let tg = FakeTelegram::start().await;
    let started = Instant::now();
    let updates = Bot::new(&tg).ok("getUpdates", json!({"timeout": 1})).await;
    assert_eq!(updates, json!([]));
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn an_offset_confirms_earlier_updates() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    for text in ["/start", "hello", "/pending"] {
        tg.send_text(OWNER_ID, OWNER_ID, text);
    }
    let updates = bot.ok("getUpdates", json!({})).await;
    let ids: Vec<i64> = updates
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    assert_eq!(updates[0]["message"]["text"], "/start");
    assert_eq!(
        updates[0]["message"]["entities"],
        json!([{"offset": 0, "length": 6, "type": "bot_command"}])
    );
    assert_eq!(updates[0]["message"]["from"]["id"], OWNER_ID);

    // Without an offset nothing is confirmed: the same updates come again.
    let again = bot.ok("getUpdates", json!({"limit": 2})).await;
    assert_eq!(again.as_array().unwrap().len(), 2);
    assert_eq!(again[0]["update_id"], ids[0]);

    let rest = bot.ok("getUpdates", json!({"offset": ids[0] + 1})).await;
    assert_eq!(rest.as_array().unwrap().len(), 2);
    assert_eq!(rest[0]["update_id"], ids[1]);

    let none = bot.ok("getUpdates", json!({"offset": ids[2] + 1})).await;
    assert_eq!(none, json!([]));
    assert!(tg.pending_updates().is_empty());

    // A negative offset keeps only the newest updates and forgets the older ones.
    for text in ["a", "b", "c"] {
        tg.send_text(OWNER_ID, OWNER_ID, text);
    }
    let last = bot.ok("getUpdates", json!({"offset": -1})).await;
    assert_eq!(last.as_array().unwrap().len(), 1);
    assert_eq!(last[0]["message"]["text"], "c");
    assert_eq!(tg.pending_updates().len(), 1);
}

#[tokio::test]
async fn a_second_poller_ends_the_first_with_a_conflict() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let first = bot.clone();
    let waiting =
        tokio::spawn(async move { first.error("getUpdates", json!({"timeout": 5})).await });
    tg.wait_until_polling().await;

    assert_eq!(bot.ok("getUpdates", json!({})).await, json!([]));
    let (status, description) = waiting.await.unwrap();
    assert_eq!(status, 409);
    assert_eq!(
        description,
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance \
         is running"
    );
}

/// A webhook receiver on loopback that hands every delivery to the test and answers with the
/// statuses it is given, then 200.
async fn receiver(
    statuses: Vec<u16>,
) -> (
    String,
    mpsc::UnboundedReceiver<(Option<String>, Value)>,
    tokio::task::JoinHandle<()>,
) {
    type Hook = (
        mpsc::UnboundedSender<(Option<String>, Value)>,
        std::sync::Arc<std::sync::Mutex<Vec<u16>>>,
    );
    async fn hook(
        State((tx, statuses)): State<Hook>,
        headers: HeaderMap,
        body: String,
    ) -> StatusCode {
        let secret = headers
            .get("x-telegram-bot-api-secret-token")
            .map(|v| v.to_str().unwrap().to_string());
        let _ = tx.send((secret, serde_json::from_str(&body).unwrap()));
        let mut statuses = statuses.lock().unwrap();
        let status = if statuses.is_empty() {
            200
        } else {
            statuses.remove(0)
        };
        StatusCode::from_u16(status).unwrap()
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let state: Hook = (tx, std::sync::Arc::new(std::sync::Mutex::new(statuses)));
    let app = Router::new().route("/hook", post(hook)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, rx, task)
}

async fn next_delivery(
    rx: &mut mpsc::UnboundedReceiver<(Option<String>, Value)>,
) -> (Option<String>, Value) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a webhook delivery within 10 s")
        .unwrap()
}

#[tokio::test]
async fn updates_reach_the_webhook_with_the_secret_token() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let (url, mut rx, _server) = receiver(vec![]).await;
    let (status, body) = bot
        .call(
            "setWebhook",
            json!({"url": url, "secret_token": "s3cret_TOKEN-1"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"ok": true, "result": true, "description": "Webhook was set"})
    );

    let message_id = tg.send_text(OWNER_ID, OWNER_ID, "/start");
    let (secret, update) = next_delivery(&mut rx).await;
    assert_eq!(secret.as_deref(), Some("s3cret_TOKEN-1"));
    assert_eq!(update["message"]["text"], "/start");
    assert_eq!(update["message"]["message_id"], message_id);
    assert!(update["update_id"].is_i64());

    let deliveries = tg.wait_for_webhook_deliveries(1).await;
    assert!(deliveries[0].delivered());
    assert_eq!(deliveries[0].status, Some(200));
    let info = bot.ok("getWebhookInfo", json!({})).await;
    assert_eq!(info["url"], url);
    assert_eq!(info["pending_update_count"], 0);
    assert_eq!(info["has_custom_certificate"], false);

    // An attacker who found the URL does not know the secret.
    assert_eq!(tg.post_forged_update(None).await, 200);
    let (secret, forged) = next_delivery(&mut rx).await;
    assert_eq!(secret, None);
    assert_eq!(forged["message"]["from"]["first_name"], "Mallory");
    assert_eq!(
        tg.webhook_deliveries().len(),
        1,
        "forged posts are not deliveries"
    );
}

#[tokio::test]
async fn a_failing_webhook_gets_the_update_again() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let (url, mut rx, _server) = receiver(vec![500]).await;
    bot.ok("setWebhook", json!({"url": url})).await;

    tg.send_text(OWNER_ID, OWNER_ID, "hello");
    let (secret, first) = next_delivery(&mut rx).await;
    assert_eq!(secret, None, "no secret was set");
    let (_, second) = next_delivery(&mut rx).await;
    assert_eq!(first, second);

    let deliveries = tg.wait_for_webhook_deliveries(2).await;
    assert_eq!(deliveries[0].status, Some(500));
    assert_eq!(
        deliveries[0].error.as_deref(),
        Some("Wrong response from the webhook: 500 Internal Server Error")
    );
    assert!(deliveries[1].delivered());
    let info = bot.ok("getWebhookInfo", json!({})).await;
    assert_eq!(
        info["last_error_message"],
        "Wrong response from the webhook: 500 Internal Server Error"
    );
    assert!(info["last_error_date"].is_i64());
    assert_eq!(info["pending_update_count"], 0);
}

#[tokio::test]
async fn get_updates_conflicts_while_a_webhook_is_set() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    bot.ok(
        "setWebhook",
        json!({"url": "https://usher.example.com/telegram"}),
    )
    .await;
    let (status, description) = bot.error("getUpdates", json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(description, WEBHOOK_CONFLICT);

    let (_, body) = bot.call("deleteWebhook", json!({})).await;
    assert_eq!(body["description"], "Webhook was deleted");
    let (_, body) = bot.call("deleteWebhook", json!({})).await;
    assert_eq!(body["description"], "Webhook is already deleted");
    assert_eq!(bot.ok("getUpdates", json!({})).await, json!([]));
    assert_eq!(tg.webhook(), None);
}

#[tokio::test]
async fn set_webhook_validates_the_url_and_secret_like_telegram() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let cases = [
        (
            json!({"url": "http://usher.example.com/telegram"}),
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        ),
        (
            json!({"url": "https://usher.example.com:9000/telegram"}),
            "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
        (
            json!({"url": "https://usher.example.com/t", "secret_token": "a+b/c="}),
            "Bad Request: secret token contains unallowed characters",
        ),
    ];
    for (params, expected) in cases {
        let (status, description) = bot.error("setWebhook", params.clone()).await;
        assert_eq!(status, 400, "{params}");
        assert_eq!(description, expected, "{params}");
    }
    assert_eq!(tg.webhook(), None);

    let params = json!({"url": "https://usher.example.com/t", "secret_token": "a".repeat(256)});
    let (_, body) = bot.call("setWebhook", params.clone()).await;
    assert_eq!(body["description"], "Webhook was set");
    let (_, body) = bot.call("setWebhook", params).await;
    assert_eq!(body["description"], "Webhook is already set");
    assert_eq!(tg.webhook().unwrap().secret_token.unwrap().len(), 256);
}

#[tokio::test]
async fn editing_to_the_same_text_and_keyboard_is_not_modified() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let card = send_card(&bot).await;
    let same_keyboard = keyboard(&[("✅ Approve", "req:1:ok"), ("❌ Decline", "req:1:no")]);

    let (status, description) = bot
        .error(
            "editMessageText",
            json!({
                "chat_id": OWNER_ID,
                "message_id": card,
                "text": "<b>New request</b> from Ana",
                "parse_mode": "HTML",
                "reply_markup": same_keyboard,
            }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(description, NOT_MODIFIED);
    let (_, description) = bot
        .error(
            "editMessageReplyMarkup",
            json!({"chat_id": OWNER_ID, "message_id": card, "reply_markup": same_keyboard}),
        )
        .await;
    assert_eq!(description, NOT_MODIFIED);

    let edited = bot
        .ok(
            "editMessageText",
            json!({
                "chat_id": OWNER_ID,
                "message_id": card,
                "text": "Approved ✅",
                "reply_markup": same_keyboard,
            }),
        )
        .await;
    assert_eq!(edited["text"], "Approved ✅");
    assert!(edited["edit_date"].is_i64());
    let stored = tg.message(OWNER_ID, card).unwrap();
    assert_eq!(stored.history.len(), 1);
    assert_eq!(stored.history[0].text, "New request from Ana");
    assert_eq!(stored.callback_data(), ["req:1:ok", "req:1:no"]);

    // An edit that leaves reply_markup out removes the keyboard, as on the real service.
    bot.ok(
        "editMessageText",
        json!({"chat_id": OWNER_ID, "message_id": card, "text": "Approved ✅ by Owner"}),
    )
    .await;
    assert!(tg.message(OWNER_ID, card).unwrap().keyboard().is_empty());

    let (_, missing) = bot
        .error(
            "editMessageText",
            json!({"chat_id": OWNER_ID, "message_id": 999, "text": "x"}),
        )
        .await;
    assert_eq!(missing, "Bad Request: message to edit not found");
}

#[tokio::test]
async fn a_callback_query_can_be_answered_once() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let card = send_card(&bot).await;
    let query_id = tg.press_button(OWNER_ID, card, "req:1:no", OWNER_ID);

    let answered = bot
        .ok(
            "answerCallbackQuery",
            json!({"callback_query_id": query_id, "text": "Declined"}),
        )
        .await;
    assert_eq!(answered, true);
    let (status, description) = bot
        .error(
            "answerCallbackQuery",
            json!({"callback_query_id": query_id}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(description, QUERY_TOO_OLD);
    let (_, unknown) = bot
        .error("answerCallbackQuery", json!({"callback_query_id": "42"}))
        .await;
    assert_eq!(unknown, QUERY_TOO_OLD);

    let answers = tg.wait_for_callback_answers(1).await;
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].callback_query_id, query_id);
    assert_eq!(answers[0].data, "req:1:no");
    assert_eq!(answers[0].from_user_id, OWNER_ID);
    assert_eq!(answers[0].text.as_deref(), Some("Declined"));
    assert!(!answers[0].show_alert);
}

#[tokio::test]
#[should_panic(expected = "has no button with callback_data")]
async fn pressing_a_button_the_message_no_longer_has_fails_the_test() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let card = send_card(&bot).await;
    bot.ok(
        "editMessageReplyMarkup",
        json!({"chat_id": OWNER_ID, "message_id": card}),
    )
    .await;
    tg.press_button(OWNER_ID, card, "req:1:ok", OWNER_ID);
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    let tg = FakeTelegram::start().await;
    let http = client();
    let resp = http
        .post(format!("{}/bot123456:WRONG-TOKEN/getMe", tg.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );

    let (status, description) = Bot::new(&tg).error("sendPigeon", json!({})).await;
    assert_eq!((status, description.as_str()), (404, "Not Found"));
}

#[tokio::test]
async fn method_names_ignore_case_and_parameters_come_as_form_or_query() {
    let tg = FakeTelegram::start().await;
    let http = client();
    let markup = keyboard(&[("Open", "open")]).to_string();
    let resp = http
        .post(format!("{}/SENDMESSAGE", tg.api_url()))
        .form(&[
            ("chat_id", OWNER_ID.to_string()),
            ("text", "<i>hi</i>".into()),
            ("parse_mode", "HTML".into()),
            ("reply_markup", markup),
            ("disable_web_page_preview", "true".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let stored = tg.last_message(OWNER_ID).unwrap();
    assert_eq!(stored.text, "hi");
    assert_eq!(stored.callback_data(), ["open"]);
    assert!(stored.link_preview_disabled);

    let resp = http
        .get(format!("{}/getme", tg.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["result"]["id"], BOT_ID);

    let resp = http
        .get(format!(
            "{}/deleteMessage?chat_id={OWNER_ID}&message_id={}",
            tg.api_url(),
            stored.message_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["result"], true);
    assert!(tg.messages(OWNER_ID).is_empty());
    assert!(tg.message(OWNER_ID, stored.message_id).unwrap().deleted);
    assert_eq!(
        tg.control()
            .requests_to(&tg.method_path("SENDMESSAGE"))
            .len(),
        1
    );
}

#[tokio::test]
async fn the_bot_cannot_write_first_to_someone_who_never_started_it() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let (status, description) = bot
        .error("sendMessage", json!({"chat_id": STRANGER_ID, "text": "hi"}))
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        description,
        "Forbidden: bot can't initiate conversation with a user"
    );
    let (status, description) = bot
        .error("sendMessage", json!({"chat_id": 999, "text": "hi"}))
        .await;
    assert_eq!(
        (status, description.as_str()),
        (400, "Bad Request: chat not found")
    );

    tg.send_text(STRANGER_ID, STRANGER_ID, "/start");
    assert!(tg.has_chat(STRANGER_ID));
    let sent = bot
        .ok(
            "sendMessage",
            json!({"chat_id": STRANGER_ID, "text": "Welcome"}),
        )
        .await;
    assert_eq!(sent["message_id"], 2, "the user's /start was message 1");

    tg.block_bot(STRANGER_ID);
    let (status, description) = bot
        .error("sendMessage", json!({"chat_id": STRANGER_ID, "text": "hi"}))
        .await;
    assert_eq!(
        (status, description.as_str()),
        (403, "Forbidden: bot was blocked by the user")
    );
}

#[tokio::test]
async fn flood_control_answers_429_with_retry_after_once() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    tg.rate_limit_next("sendMessage", 7);
    let (status, body) = bot
        .call("sendMessage", json!({"chat_id": OWNER_ID, "text": "hi"}))
        .await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({
            "ok": false,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        })
    );
    assert!(tg.messages(OWNER_ID).is_empty());
    bot.ok("sendMessage", json!({"chat_id": OWNER_ID, "text": "hi"}))
        .await;

    tg.control().fail_next(&tg.method_path("sendMessage"), 502);
    let resp = client()
        .post(format!("{}/sendMessage", tg.api_url()))
        .json(&json!({"chat_id": OWNER_ID, "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(tg.messages(OWNER_ID).len(), 1);
}

#[tokio::test]
async fn a_custom_seed_changes_the_bot_and_its_users() {
    use fakes::telegram::SeedUser;
    let tg = FakeTelegram::builder()
        .token("987654:OTHER")
        .bot_username("other_bot")
        .without_users()
        .user(SeedUser::started(5, "Eve").with_language("es"))
        .start()
        .await;
    let bot = Bot::new(&tg);
    assert_eq!(bot.ok("getMe", json!({})).await["id"], 987654);
    let sent = bot
        .ok("sendMessage", json!({"chat_id": 5, "text": "hola"}))
        .await;
    assert_eq!(sent["chat"]["first_name"], "Eve");
    let (_, description) = bot
        .error("sendMessage", json!({"chat_id": OWNER_ID, "text": "hi"}))
        .await;
    assert_eq!(description, "Bad Request: chat not found");
}

#[tokio::test]
async fn the_chat_page_shows_the_bots_messages_and_presses_their_buttons() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(&tg);
    let card = send_card(&bot).await;
    let http = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/__fake/chat/{OWNER_ID}", tg.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("data-message=\"{card}\"")), "{page}");
    assert!(page.contains("name=\"data\" value=\"req:1:ok\""), "{page}");

    let pressed = http
        .post(format!("{}/__fake/chat/{OWNER_ID}", tg.url()))
        .form(&[("message", card.to_string()), ("data", "req:1:ok".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), 303);
    let updates = tg.pending_updates();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["callback_query"]["data"], "req:1:ok");
    assert_eq!(updates[0]["callback_query"]["from"]["id"], OWNER_ID);

    // A button the message does not have is refused, not queued.
    let stale = http
        .post(format!("{}/__fake/chat/{OWNER_ID}", tg.url()))
        .form(&[("message", card.to_string()), ("data", "forged".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);
    assert_eq!(tg.pending_updates().len(), 1);
}
