//! Fake Telegram Bot API, following <https://core.telegram.org/bots/api>.
//!
//! It keeps what a bot can observe: its users and their private chats, the messages in each chat
//! with their edit history, the update queue, callback queries and the webhook. Answers have the
//! real shapes, and the errors a bot meets in practice come back with the real status and
//! description: malformed HTML, oversized callback data, an edit that changes nothing, a second
//! poller, polling while a webhook is set, a user who never pressed Start. Test helpers play the
//! human side: a user writing to the bot, or pressing a button on one of its messages.
//!
//! Two deliberate differences from the real service: `http://` webhooks are accepted for loopback
//! hosts, because tests have no certificates; and in HTML a `&` that does not start an entity is
//! refused, as the documentation requires, although the real parser lets a lone `&` through. Text
//! whose `&` is unescaped almost always has an unescaped `<` waiting in other input.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::control::{Control, Running};

/// The bot token of the default seed.
pub const TOKEN: &str = "123456:TEST-TOKEN";
/// The bot's user id: the digits before the colon of [`TOKEN`], as with real tokens.
pub const BOT_ID: i64 = 123456;
pub const BOT_USERNAME: &str = "usher_test_bot";
pub const BOT_NAME: &str = "Usher Test Bot";
/// The owner of the default seed; has started the bot, so private chat 111 exists.
pub const OWNER_ID: i64 = 111;
/// A user of the default seed who never started the bot: the bot cannot write to them.
pub const STRANGER_ID: i64 = 222;

/// How long the `wait_for_*` helpers wait before failing the test.
const WAIT: Duration = Duration::from_secs(10);
/// Telegram's limit on message text, in UTF-16 code units after entity parsing.
const MAX_TEXT_UTF16: usize = 4096;
const MAX_CALLBACK_DATA: usize = 64;
const MAX_POLL_SECONDS: i64 = 50;
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

const NOT_MODIFIED: &str = "message is not modified: specified new message content and reply \
                            markup are exactly the same as a current content and reply markup of \
                            the message";
const WEBHOOK_CONFLICT: &str = "Conflict: can't use getUpdates method while webhook is active; \
                                use deleteWebhook to delete the webhook first";
const POLL_CONFLICT: &str = "Conflict: terminated by other getUpdates request; make sure that \
                             only one bot instance is running";
const QUERY_TOO_OLD: &str = "query is too old and response timeout expired or query ID is invalid";

/// Update types delivered when a bot does not choose (`allowed_updates` empty or absent).
const DEFAULT_EXCLUDED_UPDATES: [&str; 3] =
    ["chat_member", "message_reaction", "message_reaction_count"];

// ---------------------------------------------------------------------------------------------
// Seed

/// A Telegram user the fake knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    /// Whether the user has pressed Start: only then does the private chat exist and can the
    /// bot write to them.
    pub started: bool,
}

impl SeedUser {
    /// A user who has started the bot.
    pub fn started(id: i64, first_name: &str) -> Self {
        SeedUser {
            id,
            first_name: first_name.into(),
            last_name: None,
            username: None,
            language_code: None,
            started: true,
        }
    }

    /// A user who exists but never wrote to the bot.
    pub fn not_started(id: i64, first_name: &str) -> Self {
        SeedUser {
            started: false,
            ..SeedUser::started(id, first_name)
        }
    }

    pub fn with_username(mut self, username: &str) -> Self {
        self.username = Some(username.into());
        self
    }

    pub fn with_last_name(mut self, last_name: &str) -> Self {
        self.last_name = Some(last_name.into());
        self
    }

    pub fn with_language(mut self, language_code: &str) -> Self {
        self.language_code = Some(language_code.into());
        self
    }
}

/// What a fake starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// `<bot id>:<secret>`; the bot id is taken from the digits before the colon.
    pub token: String,
    pub bot_username: String,
    pub bot_name: String,
    pub users: Vec<SeedUser>,
}

impl Default for Seed {
    /// Token [`TOKEN`], bot `@usher_test_bot`, the owner [`OWNER_ID`] ("Owner", started) and
    /// [`STRANGER_ID`] ("Stranger", never started the bot).
    fn default() -> Self {
        Seed {
            token: TOKEN.into(),
            bot_username: BOT_USERNAME.into(),
            bot_name: BOT_NAME.into(),
            users: vec![
                SeedUser::started(OWNER_ID, "Owner").with_username("owner"),
                SeedUser::not_started(STRANGER_ID, "Stranger").with_username("stranger"),
            ],
        }
    }
}

/// Builds a fake from the default seed with changes.
#[derive(Debug, Clone)]
pub struct TelegramBuilder {
    seed: Seed,
}

impl TelegramBuilder {
    pub fn token(mut self, token: &str) -> Self {
        self.seed.token = token.into();
        self
    }

    pub fn bot_username(mut self, username: &str) -> Self {
        self.seed.bot_username = username.into();
        self
    }

    pub fn bot_name(mut self, name: &str) -> Self {
        self.seed.bot_name = name.into();
        self
    }

    /// Adds a user, replacing a seeded one with the same id.
    pub fn user(mut self, user: SeedUser) -> Self {
        self.seed.users.retain(|u| u.id != user.id);
        self.seed.users.push(user);
        self
    }

    /// Starts without the default owner and stranger.
    pub fn without_users(mut self) -> Self {
        self.seed.users.clear();
        self
    }

    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    /// # Panics
    /// If loopback cannot be bound or the token does not start with a numeric bot id.
    pub async fn start(self) -> FakeTelegram {
        FakeTelegram::start_with(self.seed).await
    }
}

// ---------------------------------------------------------------------------------------------
// What tests inspect

/// A message in a chat, as the fake stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeMessage {
    pub chat_id: i64,
    pub message_id: i64,
    /// The bot's id for messages the bot sent, the user's id for messages a user wrote.
    pub from_id: i64,
    pub from_bot: bool,
    pub date: i64,
    pub edit_date: Option<i64>,
    /// The text as a person sees it: markup parsed away, entities decoded, ends trimmed.
    pub text: String,
    /// The text exactly as the client sent it.
    pub sent_text: String,
    pub parse_mode: Option<String>,
    /// Message entities as the API returns them (`type`, `offset`, `length`, …).
    pub entities: Vec<Value>,
    /// The reply markup as stored: for inline keyboards only the known button fields.
    pub reply_markup: Option<Value>,
    pub link_preview_disabled: bool,
    /// Earlier versions, oldest first; empty when never edited.
    pub history: Vec<MessageVersion>,
    pub deleted: bool,
}

/// A version of a message that a later edit replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageVersion {
    pub text: String,
    pub sent_text: String,
    pub parse_mode: Option<String>,
    pub entities: Vec<Value>,
    pub reply_markup: Option<Value>,
    /// When this version appeared (the send or the edit that produced it).
    pub date: i64,
}

/// A button of an inline keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineButton {
    pub text: String,
    pub callback_data: Option<String>,
    pub url: Option<String>,
}

impl FakeMessage {
    /// The inline keyboard, row by row; empty when the message has none.
    pub fn keyboard(&self) -> Vec<Vec<InlineButton>> {
        inline_keyboard(self.reply_markup.as_ref())
    }

    /// Every inline button, row after row.
    pub fn buttons(&self) -> Vec<InlineButton> {
        self.keyboard().into_iter().flatten().collect()
    }

    /// The button whose visible text is `text`.
    pub fn button(&self, text: &str) -> Option<InlineButton> {
        self.buttons().into_iter().find(|b| b.text == text)
    }

    /// The callback data of every callback button, in keyboard order.
    pub fn callback_data(&self) -> Vec<String> {
        self.buttons()
            .into_iter()
            .filter_map(|b| b.callback_data)
            .collect()
    }

    /// The entity types in the text (`bold`, `text_link`, …), in order.
    pub fn entity_types(&self) -> Vec<String> {
        self.entities
            .iter()
            .filter_map(|e| e["type"].as_str().map(String::from))
            .collect()
    }
}

/// An `answerCallbackQuery` the bot made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackAnswer {
    pub callback_query_id: String,
    /// The `callback_data` of the pressed button.
    pub data: String,
    pub from_user_id: i64,
    pub text: Option<String>,
    pub show_alert: bool,
    pub url: Option<String>,
    pub cache_time: Option<i64>,
}

/// The webhook as the bot set it, with Telegram's delivery bookkeeping. Updates are delivered
/// only to loopback receivers; for any other URL they stay pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
    pub max_connections: i64,
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
}

/// One attempt to deliver an update to the webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub update_id: i64,
    pub url: String,
    /// The `X-Telegram-Bot-Api-Secret-Token` sent, if any.
    pub secret_token: Option<String>,
    /// The receiver's status; `None` when no answer came.
    pub status: Option<u16>,
    /// Why the attempt counts as failed, worded like `getWebhookInfo.last_error_message`.
    pub error: Option<String>,
}

impl WebhookDelivery {
    pub fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

// ---------------------------------------------------------------------------------------------
// State

struct Person {
    user: SeedUser,
    blocked: bool,
}

struct CallbackQuery {
    id: String,
    from: i64,
    data: String,
    answered: bool,
}

struct Store {
    token: String,
    bot_id: i64,
    bot_username: String,
    bot_name: String,
    people: BTreeMap<i64, Person>,
    /// Chat id → its messages in order, deleted ones kept and flagged.
    chats: BTreeMap<i64, Vec<FakeMessage>>,
    pending: VecDeque<Value>,
    next_update_id: i64,
    allowed_updates: Vec<String>,
    queries: Vec<CallbackQuery>,
    answers: Vec<CallbackAnswer>,
    next_query: u64,
    webhook: Option<Webhook>,
    deliveries: Vec<WebhookDelivery>,
    /// Bumped by every getUpdates so an older long poll knows a newer one replaced it.
    poll_generation: u64,
    /// Long polls currently waiting.
    polling: usize,
    /// Lower-cased method → errors to answer with, one per future call.
    failures: HashMap<String, VecDeque<ApiError>>,
    commands: Vec<Value>,
}

impl Store {
    fn bot_user(&self) -> Value {
        json!({
            "id": self.bot_id,
            "is_bot": true,
            "first_name": self.bot_name,
            "username": self.bot_username,
        })
    }

    fn user_json(&self, id: i64) -> Value {
        if id == self.bot_id {
            return self.bot_user();
        }
        let Some(person) = self.people.get(&id) else {
            return json!({"id": id, "is_bot": false, "first_name": "Unknown"});
        };
        let u = &person.user;
        let mut obj = Map::new();
        obj.insert("id".into(), json!(u.id));
        obj.insert("is_bot".into(), json!(false));
        obj.insert("first_name".into(), json!(u.first_name));
        insert_opt(&mut obj, "last_name", &u.last_name);
        insert_opt(&mut obj, "username", &u.username);
        insert_opt(&mut obj, "language_code", &u.language_code);
        Value::Object(obj)
    }

    fn chat_json(&self, chat_id: i64) -> Value {
        let mut obj = Map::new();
        obj.insert("id".into(), json!(chat_id));
        if let Some(person) = self.people.get(&chat_id) {
            let u = &person.user;
            obj.insert("first_name".into(), json!(u.first_name));
            insert_opt(&mut obj, "last_name", &u.last_name);
            insert_opt(&mut obj, "username", &u.username);
        }
        obj.insert("type".into(), json!("private"));
        Value::Object(obj)
    }

    fn message_json(&self, m: &FakeMessage) -> Value {
        let mut obj = Map::new();
        obj.insert("message_id".into(), json!(m.message_id));
        obj.insert("from".into(), self.user_json(m.from_id));
        obj.insert("chat".into(), self.chat_json(m.chat_id));
        obj.insert("date".into(), json!(m.date));
        if let Some(edit_date) = m.edit_date {
            obj.insert("edit_date".into(), json!(edit_date));
        }
        obj.insert("text".into(), json!(m.text));
        if !m.entities.is_empty() {
            obj.insert("entities".into(), Value::Array(m.entities.clone()));
        }
        if m.link_preview_disabled {
            obj.insert("link_preview_options".into(), json!({"is_disabled": true}));
        }
        // A Message carries only an inline keyboard; reply keyboards live on the client.
        if let Some(markup) = m
            .reply_markup
            .as_ref()
            .filter(|r| r.get("inline_keyboard").is_some())
        {
            obj.insert("reply_markup".into(), markup.clone());
        }
        Value::Object(obj)
    }

    fn has_chat(&self, chat_id: i64) -> bool {
        self.people.get(&chat_id).is_some_and(|p| p.user.started)
    }

    fn message(&self, chat_id: i64, message_id: i64) -> Option<&FakeMessage> {
        self.chats
            .get(&chat_id)?
            .iter()
            .find(|m| m.message_id == message_id && !m.deleted)
    }

    fn message_mut(&mut self, chat_id: i64, message_id: i64) -> Option<&mut FakeMessage> {
        self.chats
            .get_mut(&chat_id)?
            .iter_mut()
            .find(|m| m.message_id == message_id && !m.deleted)
    }

    fn next_message_id(&self, chat_id: i64) -> i64 {
        self.chats
            .get(&chat_id)
            .and_then(|msgs| msgs.last())
            .map_or(1, |m| m.message_id + 1)
    }

    fn allows(&self, kind: &str) -> bool {
        if self.allowed_updates.is_empty() {
            !DEFAULT_EXCLUDED_UPDATES.contains(&kind)
        } else {
            self.allowed_updates.iter().any(|a| a == kind)
        }
    }

    /// Queues an update unless the bot's `allowed_updates` leave its kind out.
    fn push_update(&mut self, kind: &str, payload: Value) -> Option<i64> {
        if !self.allows(kind) {
            return None;
        }
        let id = self.next_update_id;
        self.next_update_id += 1;
        let mut update = Map::new();
        update.insert("update_id".into(), json!(id));
        update.insert(kind.into(), payload);
        self.pending.push_back(Value::Object(update));
        Some(id)
    }

    fn link_user(&self, id: i64) -> Option<Value> {
        self.people.contains_key(&id).then(|| self.user_json(id))
    }
}

struct Shared {
    state: Mutex<Store>,
    /// Wakes long polls: a new update, a webhook change, or a newer getUpdates.
    updates: Notify,
    /// Wakes the webhook sender.
    outbox: Notify,
    /// Wakes test helpers waiting for the state to reach something.
    changed: Notify,
    client: reqwest::Client,
}

impl Shared {
    /// A user presses a button: queues the `callback_query` update and returns its id, or says
    /// why the press is impossible.
    fn press(
        &self,
        chat_id: i64,
        message_id: i64,
        callback_data: &str,
        from_user_id: i64,
    ) -> Result<String, String> {
        let id = {
            let mut s = self.lock();
            if !s.people.contains_key(&from_user_id) {
                return Err(format!(
                    "user {from_user_id} is not known to the fake Telegram"
                ));
            }
            let message = s.message(chat_id, message_id).ok_or_else(|| {
                format!("message {message_id} in chat {chat_id} does not exist or was deleted")
            })?;
            if !message.from_bot {
                return Err(format!(
                    "message {message_id} in chat {chat_id} was written by a user, not the bot"
                ));
            }
            let data = message.callback_data();
            if !data.iter().any(|d| d == callback_data) {
                return Err(format!(
                    "message {message_id} in chat {chat_id} has no button with callback_data \
                     {callback_data:?}; its current keyboard has {data:?}"
                ));
            }
            let message = s.message_json(message);
            let id = format!("{}{:07}", 58_430_263, s.next_query);
            s.next_query += 1;
            s.queries.push(CallbackQuery {
                id: id.clone(),
                from: from_user_id,
                data: callback_data.into(),
                answered: false,
            });
            let payload = json!({
                "id": id,
                "from": s.user_json(from_user_id),
                "message": message,
                "chat_instance": (-7_000_000_000_000_000_000 - chat_id).to_string(),
                "data": callback_data,
            });
            s.push_update("callback_query", payload);
            id
        };
        self.wake();
        Ok(id)
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panicking test must not poison the fake for the rest of the process.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self) {
        self.updates.notify_waiters();
        self.outbox.notify_one();
        self.changed.notify_waiters();
    }
}

// ---------------------------------------------------------------------------------------------
// The fake

/// A running fake Bot API. Dropping it stops the server and the webhook sender.
pub struct FakeTelegram {
    running: Running,
    shared: Arc<Shared>,
    sender: tokio::task::JoinHandle<()>,
}

impl FakeTelegram {
    /// Starts a fake with [`Seed::default`] on a free loopback port.
    ///
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start() -> FakeTelegram {
        Self::start_with(Seed::default()).await
    }

    /// A builder starting from [`Seed::default`].
    pub fn builder() -> TelegramBuilder {
        TelegramBuilder {
            seed: Seed::default(),
        }
    }

    /// # Panics
    /// If loopback cannot be bound or the token does not start with a numeric bot id.
    pub async fn start_with(seed: Seed) -> FakeTelegram {
        Self::start_on("127.0.0.1:0", seed)
            .await
            .expect("bind a loopback port for the fake")
    }

    /// Starts a fake on a given address (`usher demo` uses fixed ports).
    ///
    /// # Panics
    /// If the token does not start with a numeric bot id.
    pub async fn start_on(bind: &str, seed: Seed) -> std::io::Result<FakeTelegram> {
        let bot_id = seed
            .token
            .split_once(':')
            .and_then(|(id, _)| id.parse::<i64>().ok())
            .expect("a bot token looks like `<numeric bot id>:<secret>`");
        let people = seed
            .users
            .into_iter()
            .map(|user| {
                (
                    user.id,
                    Person {
                        user,
                        blocked: false,
                    },
                )
            })
            .collect();
        // reqwest is built without a default TLS provider; every client in the process needs
        // one installed, and another part of the process may have done it already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(Store {
                token: seed.token,
                bot_id,
                bot_username: seed.bot_username,
                bot_name: seed.bot_name,
                people,
                chats: BTreeMap::new(),
                pending: VecDeque::new(),
                next_update_id: 734_000_001,
                allowed_updates: Vec::new(),
                queries: Vec::new(),
                answers: Vec::new(),
                next_query: 1,
                webhook: None,
                deliveries: Vec::new(),
                poll_generation: 0,
                polling: 0,
                failures: HashMap::new(),
                commands: Vec::new(),
            }),
            updates: Notify::new(),
            outbox: Notify::new(),
            changed: Notify::new(),
            client,
        });
        let control = Control::default();
        let router = control.layer(Router::new().fallback(handle).with_state(shared.clone()));
        let running = Running::start_on(bind, router, control).await?;
        let sender = tokio::spawn(send_to_webhook(shared.clone()));
        Ok(FakeTelegram {
            running,
            shared,
            sender,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash. Methods live at
    /// `{url}/bot{token}/{method}`.
    pub fn url(&self) -> String {
        self.running.url()
    }

    /// `{url}/bot{token}`: the API root a Bot API client is pointed at.
    pub fn api_url(&self) -> String {
        format!("{}/bot{}", self.url(), self.token())
    }

    /// The path of a method, for [`Control::fail_next`] and [`Control::requests_to`].
    pub fn method_path(&self, method: &str) -> String {
        format!("/bot{}/{method}", self.token())
    }

    pub fn token(&self) -> String {
        self.shared.lock().token.clone()
    }

    pub fn bot_id(&self) -> i64 {
        self.shared.lock().bot_id
    }

    pub fn bot_username(&self) -> String {
        self.shared.lock().bot_username.clone()
    }

    pub fn control(&self) -> &Control {
        &self.running.control
    }

    /// Messages the bot sent to `chat_id` and has not deleted, oldest first.
    pub fn messages(&self, chat_id: i64) -> Vec<FakeMessage> {
        self.chat_history(chat_id)
            .into_iter()
            .filter(|m| m.from_bot && !m.deleted)
            .collect()
    }

    /// The newest message the bot sent to `chat_id` and has not deleted.
    pub fn last_message(&self, chat_id: i64) -> Option<FakeMessage> {
        self.messages(chat_id).pop()
    }

    /// Everything in the chat: both sides, deleted messages included (flagged).
    pub fn chat_history(&self, chat_id: i64) -> Vec<FakeMessage> {
        self.shared
            .lock()
            .chats
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// A message by id, deleted or not.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<FakeMessage> {
        self.chat_history(chat_id)
            .into_iter()
            .find(|m| m.message_id == message_id)
    }

    /// Whether the user's private chat with the bot exists (they pressed Start).
    pub fn has_chat(&self, user_id: i64) -> bool {
        self.shared.lock().has_chat(user_id)
    }

    /// Adds a user, replacing one with the same id.
    pub fn add_user(&self, user: SeedUser) {
        self.shared.lock().people.insert(
            user.id,
            Person {
                user,
                blocked: false,
            },
        );
    }

    /// The user blocks the bot: sending to them answers 403 until they write again.
    pub fn block_bot(&self, user_id: i64) {
        let mut s = self.shared.lock();
        let person = s
            .people
            .get_mut(&user_id)
            .unwrap_or_else(|| panic!("user {user_id} is not known to the fake Telegram"));
        person.blocked = true;
    }

    /// A user writes `text` to the bot in their private chat (`chat_id` = `from_user_id`), as
    /// when someone sends `/start`. Opens the chat if it did not exist and unblocks the bot.
    /// Queues a `message` update; returns the message id.
    ///
    /// # Panics
    /// If the user is unknown or `chat_id` is not their private chat.
    pub fn send_text(&self, chat_id: i64, from_user_id: i64, text: &str) -> i64 {
        assert_eq!(
            chat_id, from_user_id,
            "the fake Telegram only has private chats: a user writes in chat = their own id"
        );
        let message_id = {
            let mut s = self.shared.lock();
            let person = s.people.get_mut(&from_user_id).unwrap_or_else(|| {
                panic!("user {from_user_id} is not known to the fake Telegram; add_user first")
            });
            person.user.started = true;
            person.blocked = false;
            let message_id = s.next_message_id(chat_id);
            let message = FakeMessage {
                chat_id,
                message_id,
                from_id: from_user_id,
                from_bot: false,
                date: now(),
                edit_date: None,
                text: text.into(),
                sent_text: text.into(),
                parse_mode: None,
                entities: command_entities(text),
                reply_markup: None,
                link_preview_disabled: false,
                history: Vec::new(),
                deleted: false,
            };
            let payload = s.message_json(&message);
            s.chats.entry(chat_id).or_default().push(message);
            s.push_update("message", payload);
            message_id
        };
        self.shared.wake();
        message_id
    }

    /// A user presses the inline button with `callback_data` on a message the bot sent. Queues a
    /// `callback_query` update; returns the callback query id the bot must answer.
    ///
    /// # Panics
    /// If the user is unknown, the message does not exist (or was deleted), or its current
    /// keyboard has no button with that data: a test pressing a stale button should fail loudly.
    pub fn press_button(
        &self,
        chat_id: i64,
        message_id: i64,
        callback_data: &str,
        from_user_id: i64,
    ) -> String {
        self.shared
            .press(chat_id, message_id, callback_data, from_user_id)
            .unwrap_or_else(|why| panic!("{why}"))
    }

    /// Every `answerCallbackQuery` the bot made, oldest first.
    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.shared.lock().answers.clone()
    }

    pub fn webhook(&self) -> Option<Webhook> {
        self.shared.lock().webhook.clone()
    }

    /// Every webhook delivery attempt, oldest first.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.shared.lock().deliveries.clone()
    }

    /// Updates not yet confirmed (getUpdates) or delivered (webhook), oldest first.
    pub fn pending_updates(&self) -> Vec<Value> {
        self.shared.lock().pending.iter().cloned().collect()
    }

    /// The commands from the last `setMyCommands`.
    pub fn commands(&self) -> Vec<Value> {
        self.shared.lock().commands.clone()
    }

    /// The next call of `method` (case-insensitive) answers `error_code` with `description`,
    /// as in `fail_next("sendMessage", 403, "Forbidden: user is deactivated")`. Calling it twice
    /// fails the next two calls.
    pub fn fail_next(&self, method: &str, error_code: u16, description: &str) {
        self.shared
            .lock()
            .failures
            .entry(method.to_ascii_lowercase())
            .or_default()
            .push_back(ApiError::new(error_code, description));
    }

    /// The next call of `method` is refused by flood control: 429 with
    /// `parameters.retry_after` = `retry_after` seconds.
    pub fn rate_limit_next(&self, method: &str, retry_after: u64) {
        self.shared
            .lock()
            .failures
            .entry(method.to_ascii_lowercase())
            .or_default()
            .push_back(ApiError {
                code: 429,
                description: format!("Too Many Requests: retry after {retry_after}"),
                retry_after: Some(retry_after),
            });
    }

    /// Posts `update` to the current webhook with `secret` as the secret header (`None`: no
    /// header), bypassing the queue; returns the receiver's status.
    ///
    /// # Panics
    /// If no webhook is set, it is not on loopback, or the receiver cannot be reached.
    pub async fn post_to_webhook(&self, update: &Value, secret: Option<&str>) -> u16 {
        let url = self
            .webhook()
            .expect("post_to_webhook needs a webhook set")
            .url;
        assert!(
            url::Url::parse(&url).is_ok_and(|u| is_loopback(&u)),
            "the fake Telegram posts only to loopback webhooks, not {url}"
        );
        match post_update(&self.shared.client, &url, secret, update).await {
            Ok((status, _)) => status,
            Err(e) => panic!("could not reach the webhook {url}: {e}"),
        }
    }

    /// Posts a plausible update from someone who is not a known user (a `/start` from "Mallory")
    /// to the webhook, as an attacker who guessed the URL would. Returns the receiver's status.
    pub async fn post_forged_update(&self, secret: Option<&str>) -> u16 {
        let update_id = self.shared.lock().next_update_id;
        let update = json!({
            "update_id": update_id,
            "message": {
                "message_id": 1,
                "from": {"id": 666, "is_bot": false, "first_name": "Mallory"},
                "chat": {"id": 666, "first_name": "Mallory", "type": "private"},
                "date": now(),
                "text": "/start",
                "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
            },
        });
        self.post_to_webhook(&update, secret).await
    }

    /// Waits until the bot has sent at least `n` messages (not deleted) to `chat_id`.
    ///
    /// # Panics
    /// After 10 seconds.
    pub async fn wait_for_messages(&self, chat_id: i64, n: usize) -> Vec<FakeMessage> {
        // Not through `wait_for`: reading messages takes the state lock itself.
        let deadline = Instant::now() + WAIT;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let messages = self.messages(chat_id);
            if messages.len() >= n {
                return messages;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("the fake Telegram waited {WAIT:?} for {n} messages in chat {chat_id}");
            }
        }
    }

    /// Waits until the bot has answered at least `n` callback queries.
    pub async fn wait_for_callback_answers(&self, n: usize) -> Vec<CallbackAnswer> {
        self.wait_for(&format!("{n} callback answers"), |s| {
            (s.answers.len() >= n).then(|| s.answers.clone())
        })
        .await
    }

    /// Waits until `n` webhook delivery attempts were made.
    pub async fn wait_for_webhook_deliveries(&self, n: usize) -> Vec<WebhookDelivery> {
        self.wait_for(&format!("{n} webhook deliveries"), |s| {
            (s.deliveries.len() >= n).then(|| s.deliveries.clone())
        })
        .await
    }

    /// Waits until a getUpdates long poll is waiting for updates.
    pub async fn wait_until_polling(&self) {
        self.wait_for("a waiting getUpdates", |s| (s.polling > 0).then_some(()))
            .await
    }

    async fn wait_for<T>(&self, what: &str, mut ready: impl FnMut(&Store) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let found = {
                let s = self.shared.lock();
                ready(&s)
            };
            if let Some(found) = found {
                return found;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("the fake Telegram waited {WAIT:?} for {what}");
            }
        }
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.sender.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and answers

#[derive(Debug, Clone)]
struct ApiError {
    code: u16,
    description: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(code: u16, description: impl Into<String>) -> Self {
        ApiError {
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    fn bad(detail: impl std::fmt::Display) -> Self {
        Self::new(400, format!("Bad Request: {detail}"))
    }

    fn forbidden(detail: &str) -> Self {
        Self::new(403, format!("Forbidden: {detail}"))
    }

    fn into_response(self) -> Response {
        let mut body = json!({
            "ok": false,
            "error_code": self.code,
            "description": self.description,
        });
        if let Some(retry_after) = self.retry_after {
            body["parameters"] = json!({"retry_after": retry_after});
        }
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::BAD_REQUEST);
        json_response(status, &body)
    }
}

enum Answer {
    Result(Value),
    /// Webhook methods add a human description next to `result`.
    Described(Value, &'static str),
}

impl Answer {
    fn into_response(self) -> Response {
        let body = match self {
            Answer::Result(result) => json!({"ok": true, "result": result}),
            Answer::Described(result, description) => {
                json!({"ok": true, "result": result, "description": description})
            }
        };
        json_response(StatusCode::OK, &body)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Parameters from the query string and a JSON or form body, as the Bot API accepts them.
struct Params(Map<String, Value>);

impl Params {
    fn parse(query: Option<&str>, content_type: &str, body: &[u8]) -> Result<Params, ApiError> {
        let mut map = Map::new();
        let pairs = |raw: &[u8]| -> Vec<(String, String)> {
            serde_urlencoded::from_bytes(raw).unwrap_or_default()
        };
        for (k, v) in pairs(query.unwrap_or("").as_bytes()) {
            map.insert(k, Value::String(v));
        }
        let content_type = content_type.to_ascii_lowercase();
        if !body.iter().all(u8::is_ascii_whitespace) {
            if content_type.starts_with("application/json") {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(obj)) => map.extend(obj),
                    _ => return Err(ApiError::bad("can't parse JSON object")),
                }
            } else if content_type.starts_with("application/x-www-form-urlencoded") {
                for (k, v) in pairs(body) {
                    map.insert(k, Value::String(v));
                }
            } else if content_type.starts_with("multipart/form-data") {
                // The fake has no file methods, and every client sends plain calls as JSON or
                // form fields.
                return Err(ApiError::bad(
                    "multipart requests are not supported by the fake Bot API",
                ));
            }
        }
        Ok(Params(map))
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// `Err` when present but not an integer.
    fn int(&self, key: &str) -> Result<Option<i64>, ()> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| ()),
            Some(_) => Err(()),
        }
    }

    fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1"),
            Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
            _ => false,
        }
    }

    /// A JSON-valued parameter: as is in a JSON body, serialized in a form or query.
    fn json(&self, key: &str) -> Result<Option<Value>, ()> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
            Some(v) => Ok(Some(v.clone())),
        }
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if let Some(rest) = parts.uri.path().strip_prefix("/__fake/chat/") {
        let Ok(body) = to_bytes(body, 64 * 1024).await else {
            return ApiError::new(413, "Request Entity Too Large").into_response();
        };
        return chat_page(&shared, &parts.method, rest, parts.uri.query(), &body).await;
    }
    let Some((token, method)) = split_path(parts.uri.path()) else {
        return ApiError::new(404, "Not Found").into_response();
    };
    if token != shared.lock().token {
        return ApiError::new(401, "Unauthorized").into_response();
    }
    let Ok(body) = to_bytes(body, 64 * 1024 * 1024).await else {
        return ApiError::new(413, "Request Entity Too Large").into_response();
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let params = match Params::parse(parts.uri.query(), content_type, &body) {
        Ok(params) => params,
        Err(e) => return e.into_response(),
    };
    let method = method.to_ascii_lowercase();
    let injected = shared
        .lock()
        .failures
        .get_mut(&method)
        .and_then(VecDeque::pop_front);
    if let Some(error) = injected {
        return error.into_response();
    }
    let answer = if method == "getupdates" {
        get_updates(&shared, &params).await
    } else {
        call(&shared, &method, &params)
    };
    shared.wake();
    match answer {
        Ok(answer) => answer.into_response(),
        Err(error) => error.into_response(),
    }
}

/// A page that shows a chat the way a Telegram app would, so a person (or a browser test) can read
/// the bot's messages and press its buttons: `GET /__fake/chat/{chat_id}` lists the messages,
/// `POST /__fake/chat/{chat_id}` with `message` and `data` presses a button as that chat's user.
/// `GET …?since=V` waits (up to 10 s) until the chat differs from version `V`, which the page
/// carries in `data-version`, so a reader sees the bot's answer without polling.
async fn chat_page(
    shared: &Shared,
    method: &http::Method,
    rest: &str,
    query: Option<&str>,
    body: &[u8],
) -> Response {
    let Ok(chat_id) = rest.trim_end_matches('/').parse::<i64>() else {
        return (StatusCode::NOT_FOUND, "no such chat").into_response();
    };
    if method == http::Method::POST {
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(body).into_owned().collect();
        let message_id = form
            .get("message")
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        let data = form.get("data").cloned().unwrap_or_default();
        return match shared.press(chat_id, message_id, &data, chat_id) {
            // The bot answers in its own time; the page shows the answer when reloaded.
            Ok(_) => (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, format!("/__fake/chat/{chat_id}"))],
            )
                .into_response(),
            Err(why) => (StatusCode::CONFLICT, why).into_response(),
        };
    }
    let since: Option<usize> = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "since")
            .and_then(|(_, v)| v.parse().ok())
    });
    let chat = |s: &Store| s.chats.get(&chat_id).cloned().unwrap_or_default();
    let version = |all: &[FakeMessage]| {
        all.len()
            + all
                .iter()
                .map(|m| m.history.len() + usize::from(m.deleted))
                .sum::<usize>()
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let all = loop {
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let all = chat(&shared.lock());
        if since.is_none_or(|v| v != version(&all))
            || tokio::time::timeout_at(deadline, changed).await.is_err()
        {
            break all;
        }
    };
    let current = version(&all);
    let messages: Vec<FakeMessage> = all
        .into_iter()
        .filter(|m| m.from_bot && !m.deleted)
        .collect();
    let mut html = String::new();
    for m in &messages {
        html.push_str(&format!(
            "<article class=\"msg\" data-message=\"{}\"><p>{}</p>",
            m.message_id,
            linkify(&escape_html(&m.text))
        ));
        for row in m.keyboard() {
            html.push_str("<div class=\"row\">");
            for b in row {
                let text = escape_html(&b.text);
                match (b.callback_data, b.url) {
                    (Some(data), _) => html.push_str(&format!(
                        "<form method=\"post\"><input type=\"hidden\" name=\"message\" value=\"{}\">\
                         <input type=\"hidden\" name=\"data\" value=\"{}\"><button>{text}</button></form>",
                        m.message_id,
                        escape_html(&data)
                    )),
                    (None, Some(url)) => html.push_str(&format!(
                        "<a class=\"button\" href=\"{}\">{text}</a>",
                        escape_html(&url)
                    )),
                    (None, None) => {}
                }
            }
            html.push_str("</div>");
        }
        html.push_str("</article>");
    }
    if messages.is_empty() {
        html.push_str("<p>No messages yet.</p>");
    }
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Telegram (fake)</title>\
<style>body{{font-family:sans-serif;margin:0;background:#dfe7ef}}h1{{font-size:1rem;margin:0;padding:.75rem 1rem;background:#517da2;color:#fff}}\
.msg{{background:#fff;margin:.75rem;padding:.5rem .75rem;border-radius:10px;max-width:36rem}}.msg p{{white-space:pre-wrap;overflow-wrap:anywhere;margin:.25rem 0}}\
.row{{display:flex;gap:.25rem;margin-top:.25rem}}.row form{{flex:1;margin:0}}.row button,.row .button{{width:100%;min-height:44px;border:0;border-radius:6px;background:#e9f1f8;color:#2f6ea5;font-weight:600}}</style>\
</head><body data-version=\"{current}\"><h1>Bot chat {chat_id} (fake Telegram)</h1>{html}</body></html>"
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

fn escape_html(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Makes the http(s) addresses in escaped text tappable, as Telegram apps do.
fn linkify(escaped: &str) -> String {
    escaped
        .split(' ')
        .map(|word| {
            let (lead, rest) = word.split_at(word.find("http").unwrap_or(word.len()));
            if rest.starts_with("http://") || rest.starts_with("https://") {
                let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
                let (url, tail) = rest.split_at(end);
                format!("{lead}<a href=\"{url}\">{url}</a>{tail}")
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `/bot<token>/<method>` → (token, method).
fn split_path(path: &str) -> Option<(String, &str)> {
    let rest = path.strip_prefix("/bot")?;
    let (token, method) = rest.split_once('/')?;
    if token.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((percent_decode(token), method))
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = raw.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every method but getUpdates, which waits.
fn call(shared: &Shared, method: &str, p: &Params) -> Result<Answer, ApiError> {
    let mut s = shared.lock();
    match method {
        "getme" => Ok(Answer::Result(get_me(&s))),
        "sendmessage" => send_message(&mut s, p),
        "editmessagetext" => edit_message_text(&mut s, p),
        "editmessagereplymarkup" => edit_message_reply_markup(&mut s, p),
        "deletemessage" => delete_message(&mut s, p),
        "answercallbackquery" => answer_callback_query(&mut s, p),
        "setwebhook" => set_webhook(&mut s, p),
        "deletewebhook" => Ok(delete_webhook(&mut s, p)),
        "getwebhookinfo" => Ok(Answer::Result(webhook_info(&s))),
        "setmycommands" => set_my_commands(&mut s, p),
        "getmycommands" => Ok(Answer::Result(Value::Array(s.commands.clone()))),
        "deletemycommands" => {
            s.commands.clear();
            Ok(Answer::Result(json!(true)))
        }
        _ => Err(ApiError::new(404, "Not Found")),
    }
}

fn get_me(s: &Store) -> Value {
    json!({
        "id": s.bot_id,
        "is_bot": true,
        "first_name": s.bot_name,
        "username": s.bot_username,
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false,
    })
}

/// The chat a send goes to; only private chats of users who started the bot exist.
fn chat_to_send(s: &Store, p: &Params) -> Result<i64, ApiError> {
    let chat_id = chat_id(p)?;
    match s.people.get(&chat_id) {
        Some(person) if !person.user.started => Err(ApiError::forbidden(
            "bot can't initiate conversation with a user",
        )),
        Some(person) if person.blocked => Err(ApiError::forbidden("bot was blocked by the user")),
        Some(_) => Ok(chat_id),
        None => Err(ApiError::bad("chat not found")),
    }
}

/// The chat of an existing message.
fn existing_chat(s: &Store, p: &Params) -> Result<i64, ApiError> {
    let chat_id = chat_id(p)?;
    if s.has_chat(chat_id) {
        Ok(chat_id)
    } else {
        Err(ApiError::bad("chat not found"))
    }
}

fn chat_id(p: &Params) -> Result<i64, ApiError> {
    let raw = p.string("chat_id").unwrap_or_default();
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ApiError::bad("chat_id is empty"));
    }
    // `@username` only resolves public groups and channels, which this fake does not have.
    raw.parse().map_err(|_| ApiError::bad("chat not found"))
}

fn message_id(p: &Params) -> Result<i64, ApiError> {
    match p.int("message_id") {
        Ok(Some(id)) if id > 0 => Ok(id),
        _ => Err(ApiError::bad("message identifier is not specified")),
    }
}

struct Content {
    text: String,
    sent_text: String,
    parse_mode: Option<String>,
    entities: Vec<Value>,
}

fn read_content(s: &Store, p: &Params) -> Result<Content, ApiError> {
    let sent_text = p.string("text").unwrap_or_default();
    let parse_mode = p.string("parse_mode").filter(|m| !m.is_empty());
    let (text, entities) = match parse_mode
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => {
            let entities = match p.json("entities") {
                Ok(Some(Value::Array(entities))) => entities,
                Ok(None) => Vec::new(),
                _ => return Err(ApiError::bad("can't parse entities JSON object")),
            };
            (sent_text.clone(), entities)
        }
        Some("html") => parse_html(&sent_text, &|id| s.link_user(id))
            .map_err(|e| ApiError::bad(format!("can't parse entities: {e}")))?,
        // Markdown is stored as sent; its entities are not parsed.
        Some("markdown" | "markdownv2") => (sent_text.clone(), Vec::new()),
        Some(_) => return Err(ApiError::bad("unsupported parse_mode")),
    };
    let (text, entities) = trim_text(&text, entities);
    if text.is_empty() {
        return Err(ApiError::bad("message text is empty"));
    }
    if text.encode_utf16().count() > MAX_TEXT_UTF16 {
        return Err(ApiError::bad("message is too long"));
    }
    Ok(Content {
        text,
        sent_text,
        parse_mode,
        entities,
    })
}

fn link_preview_disabled(p: &Params) -> bool {
    match p.json("link_preview_options") {
        Ok(Some(options)) => options["is_disabled"].as_bool().unwrap_or(false),
        _ => p.flag("disable_web_page_preview"),
    }
}

fn send_message(s: &mut Store, p: &Params) -> Result<Answer, ApiError> {
    let chat_id = chat_to_send(s, p)?;
    let content = read_content(s, p)?;
    let reply_markup = read_markup(p, false)?;
    let message = FakeMessage {
        chat_id,
        message_id: s.next_message_id(chat_id),
        from_id: s.bot_id,
        from_bot: true,
        date: now(),
        edit_date: None,
        text: content.text,
        sent_text: content.sent_text,
        parse_mode: content.parse_mode,
        entities: content.entities,
        reply_markup,
        link_preview_disabled: link_preview_disabled(p),
        history: Vec::new(),
        deleted: false,
    };
    let result = s.message_json(&message);
    s.chats.entry(chat_id).or_default().push(message);
    Ok(Answer::Result(result))
}

/// The message an edit targets: it must exist and be the bot's own.
fn message_to_edit<'a>(s: &'a mut Store, p: &Params) -> Result<&'a mut FakeMessage, ApiError> {
    if p.get("inline_message_id").is_some() {
        return Err(ApiError::bad("MESSAGE_ID_INVALID"));
    }
    let chat_id = existing_chat(s, p)?;
    let message_id = message_id(p)?;
    let message = s
        .message_mut(chat_id, message_id)
        .ok_or_else(|| ApiError::bad("message to edit not found"))?;
    if !message.from_bot {
        return Err(ApiError::bad("message can't be edited"));
    }
    Ok(message)
}

fn edit(message: &mut FakeMessage, content: Option<Content>, reply_markup: Option<Value>) {
    message.history.push(MessageVersion {
        text: message.text.clone(),
        sent_text: message.sent_text.clone(),
        parse_mode: message.parse_mode.clone(),
        entities: message.entities.clone(),
        reply_markup: message.reply_markup.clone(),
        date: message.edit_date.unwrap_or(message.date),
    });
    if let Some(content) = content {
        message.text = content.text;
        message.sent_text = content.sent_text;
        message.parse_mode = content.parse_mode;
        message.entities = content.entities;
    }
    message.reply_markup = reply_markup;
    message.edit_date = Some(now());
}

fn edit_message_text(s: &mut Store, p: &Params) -> Result<Answer, ApiError> {
    let content = read_content(s, p)?;
    // Leaving reply_markup out of an edit removes the keyboard, as with the real API.
    let reply_markup = read_markup(p, true)?;
    let disabled = link_preview_disabled(p);
    let message = message_to_edit(s, p)?;
    if message.text == content.text
        && message.entities == content.entities
        && message.reply_markup == reply_markup
    {
        return Err(ApiError::bad(NOT_MODIFIED));
    }
    edit(message, Some(content), reply_markup);
    message.link_preview_disabled = disabled;
    let message = message.clone();
    Ok(Answer::Result(s.message_json(&message)))
}

fn edit_message_reply_markup(s: &mut Store, p: &Params) -> Result<Answer, ApiError> {
    let reply_markup = read_markup(p, true)?;
    let message = message_to_edit(s, p)?;
    if message.reply_markup == reply_markup {
        return Err(ApiError::bad(NOT_MODIFIED));
    }
    edit(message, None, reply_markup);
    let message = message.clone();
    Ok(Answer::Result(s.message_json(&message)))
}

fn delete_message(s: &mut Store, p: &Params) -> Result<Answer, ApiError> {
    let chat_id = existing_chat(s, p)?;
    let message_id = message_id(p)?;
    let message = s
        .message_mut(chat_id, message_id)
        .ok_or_else(|| ApiError::bad("message to delete not found"))?;
    message.deleted = true;
    Ok(Answer::Result(json!(true)))
}

fn answer_callback_query(s: &mut Store, p: &Params) -> Result<Answer, ApiError> {
    let id = p.string("callback_query_id").unwrap_or_default();
    let text = p.string("text").filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::bad("MESSAGE_TOO_LONG"));
    }
    let query = s
        .queries
        .iter_mut()
        .find(|q| q.id == id && !q.answered)
        .ok_or_else(|| ApiError::bad(QUERY_TOO_OLD))?;
    query.answered = true;
    let answer = CallbackAnswer {
        callback_query_id: id,
        data: query.data.clone(),
        from_user_id: query.from,
        text,
        show_alert: p.flag("show_alert"),
        url: p.string("url").filter(|u| !u.is_empty()),
        cache_time: p.int("cache_time").ok().flatten(),
    };
    s.answers.push(answer);
    Ok(Answer::Result(json!(true)))
}

fn set_webhook(s: &mut Store, p: &Params) -> Result<Answer, ApiError> {
    let url = p.string("url").unwrap_or_default();
    if url.is_empty() {
        return Ok(delete_webhook(s, p));
    }
    let parsed = url::Url::parse(&url)
        .ok()
        .filter(|u| u.host_str().is_some_and(|h| !h.is_empty()))
        .ok_or_else(|| ApiError::bad("invalid webhook URL specified"))?;
    let loopback = is_loopback(&parsed);
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(ApiError::bad(
                "bad webhook: An HTTPS URL must be provided for webhook",
            ));
        }
    }
    if !loopback && !matches!(parsed.port_or_known_default(), Some(80 | 88 | 443 | 8443)) {
        return Err(ApiError::bad(
            "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ));
    }
    let secret_token = p.string("secret_token").filter(|t| !t.is_empty());
    if let Some(secret) = &secret_token {
        if secret.len() > 256 {
            return Err(ApiError::bad("secret token is too long"));
        }
        if !secret
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            return Err(ApiError::bad("secret token contains unallowed characters"));
        }
    }
    let max_connections = p.int("max_connections").ok().flatten().unwrap_or(40);
    if !(1..=100).contains(&max_connections) {
        return Err(ApiError::bad(
            "bad webhook: max_connections must be between 1 and 100",
        ));
    }
    if let Some(allowed) = allowed_updates(p)? {
        s.allowed_updates = allowed;
    }
    if p.flag("drop_pending_updates") {
        s.pending.clear();
    }
    let unchanged = s.webhook.as_ref().is_some_and(|w| {
        w.url == url && w.secret_token == secret_token && w.max_connections == max_connections
    });
    if unchanged {
        return Ok(Answer::Described(json!(true), "Webhook is already set"));
    }
    s.webhook = Some(Webhook {
        url,
        secret_token,
        max_connections,
        last_error_date: None,
        last_error_message: None,
    });
    Ok(Answer::Described(json!(true), "Webhook was set"))
}

fn delete_webhook(s: &mut Store, p: &Params) -> Answer {
    if p.flag("drop_pending_updates") {
        s.pending.clear();
    }
    match s.webhook.take() {
        Some(_) => Answer::Described(json!(true), "Webhook was deleted"),
        None => Answer::Described(json!(true), "Webhook is already deleted"),
    }
}

fn webhook_info(s: &Store) -> Value {
    let mut info = Map::new();
    info.insert(
        "url".into(),
        json!(s.webhook.as_ref().map_or("", |w| w.url.as_str())),
    );
    info.insert("has_custom_certificate".into(), json!(false));
    info.insert("pending_update_count".into(), json!(s.pending.len()));
    if let Some(w) = &s.webhook {
        info.insert("ip_address".into(), json!("127.0.0.1"));
        if let Some(date) = w.last_error_date {
            info.insert("last_error_date".into(), json!(date));
        }
        insert_opt(&mut info, "last_error_message", &w.last_error_message);
        info.insert("max_connections".into(), json!(w.max_connections));
        if !s.allowed_updates.is_empty() {
            info.insert("allowed_updates".into(), json!(s.allowed_updates));
        }
    }
    Value::Object(info)
}

fn allowed_updates(p: &Params) -> Result<Option<Vec<String>>, ApiError> {
    match p.json("allowed_updates") {
        Ok(None) => Ok(None),
        Ok(Some(Value::Array(items))) => Ok(Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
        )),
        _ => Err(ApiError::bad("can't parse allowed updates")),
    }
}

fn set_my_commands(s: &mut Store, p: &Params) -> Result<Answer, ApiError> {
    let Ok(Some(Value::Array(commands))) = p.json("commands") else {
        return Err(ApiError::bad("can't parse commands JSON object"));
    };
    if commands.len() > 100 {
        return Err(ApiError::bad("too many commands specified"));
    }
    for command in &commands {
        let name = command["command"].as_str().unwrap_or_default();
        let name = name.strip_prefix('/').unwrap_or(name);
        let valid = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
        if !valid {
            return Err(ApiError::bad("BOT_COMMAND_INVALID"));
        }
        let description = command["description"].as_str().unwrap_or_default();
        if description.trim().is_empty() || description.chars().count() > 256 {
            return Err(ApiError::bad("command description is empty"));
        }
    }
    s.commands = commands;
    Ok(Answer::Result(json!(true)))
}

/// Long polling: answers at once when updates are pending, otherwise waits up to `timeout`
/// seconds for one. A newer getUpdates ends an older one with 409, as on the real service.
async fn get_updates(shared: &Arc<Shared>, p: &Params) -> Result<Answer, ApiError> {
    let offset = p
        .int("offset")
        .map_err(|_| ApiError::bad("invalid offset specified"))?;
    let limit = p.int("limit").ok().flatten().unwrap_or(100).clamp(1, 100) as usize;
    let timeout = p
        .int("timeout")
        .ok()
        .flatten()
        .unwrap_or(0)
        .clamp(0, MAX_POLL_SECONDS) as u64;
    let allowed = allowed_updates(p)?;
    let generation = {
        let mut s = shared.lock();
        if s.webhook.is_some() {
            return Err(ApiError::new(409, WEBHOOK_CONFLICT));
        }
        if let Some(allowed) = allowed {
            s.allowed_updates = allowed;
        }
        match offset {
            // The last -offset updates are kept; everything before is forgotten.
            Some(o) if o < 0 => {
                let keep = o.unsigned_abs() as usize;
                while s.pending.len() > keep {
                    s.pending.pop_front();
                }
            }
            Some(o) => s.pending.retain(|u| update_id(u) >= o),
            None => {}
        }
        s.poll_generation += 1;
        s.poll_generation
    };
    shared.updates.notify_waiters();
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let mut waiting: Option<PollGuard> = None;
    loop {
        let woken = shared.updates.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        {
            let s = shared.lock();
            if s.poll_generation != generation {
                return Err(ApiError::new(409, POLL_CONFLICT));
            }
            if s.webhook.is_some() {
                return Err(ApiError::new(409, WEBHOOK_CONFLICT));
            }
            if !s.pending.is_empty() || Instant::now() >= deadline {
                let updates = s.pending.iter().take(limit).cloned().collect();
                return Ok(Answer::Result(Value::Array(updates)));
            }
        }
        if waiting.is_none() {
            waiting = Some(PollGuard::new(shared.clone()));
        }
        tokio::select! {
            _ = &mut woken => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// Counts a waiting long poll for [`FakeTelegram::wait_until_polling`], also when the client
/// hangs up mid-poll.
struct PollGuard(Arc<Shared>);

impl PollGuard {
    fn new(shared: Arc<Shared>) -> Self {
        shared.lock().polling += 1;
        shared.changed.notify_waiters();
        PollGuard(shared)
    }
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        self.0.lock().polling -= 1;
        self.0.changed.notify_waiters();
    }
}

fn update_id(update: &Value) -> i64 {
    update["update_id"].as_i64().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Webhook delivery

/// Delivers pending updates to the webhook one at a time, oldest first, like Telegram: an
/// update leaves the queue only when the receiver answers 2xx; failures are retried with a
/// growing pause.
async fn send_to_webhook(shared: Arc<Shared>) {
    const FIRST_RETRY: Duration = Duration::from_millis(200);
    const LAST_RETRY: Duration = Duration::from_secs(5);
    let mut retry: Option<Duration> = None;
    loop {
        match retry {
            None => shared.outbox.notified().await,
            Some(pause) => {
                tokio::select! {
                    _ = shared.outbox.notified() => {}
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
        loop {
            let next = {
                let s = shared.lock();
                match (&s.webhook, s.pending.front()) {
                    // Tests stay on loopback: updates for any other receiver wait in the queue, as
                    // if it were unreachable.
                    (Some(w), Some(update))
                        if url::Url::parse(&w.url).is_ok_and(|u| is_loopback(&u)) =>
                    {
                        Some((w.url.clone(), w.secret_token.clone(), update.clone()))
                    }
                    _ => None,
                }
            };
            let Some((url, secret, update)) = next else {
                retry = None;
                break;
            };
            let id = update_id(&update);
            let outcome = post_update(&shared.client, &url, secret.as_deref(), &update).await;
            let (status, error, reply) = match outcome {
                Ok((status, body)) if (200..300).contains(&status) => (Some(status), None, body),
                Ok((status, _)) => {
                    let reason = StatusCode::from_u16(status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("");
                    let error = format!("Wrong response from the webhook: {status} {reason}");
                    (Some(status), Some(error.trim_end().to_string()), Vec::new())
                }
                Err(error) => (None, Some(error), Vec::new()),
            };
            let failed = error.is_some();
            {
                let mut s = shared.lock();
                s.deliveries.push(WebhookDelivery {
                    update_id: id,
                    url: url.clone(),
                    secret_token: secret.clone(),
                    status,
                    error: error.clone(),
                });
                if let Some(error) = error {
                    if let Some(w) = s.webhook.as_mut().filter(|w| w.url == url) {
                        w.last_error_date = Some(now());
                        w.last_error_message = Some(error);
                    }
                } else {
                    s.pending.retain(|u| update_id(u) != id);
                }
            }
            if !failed {
                answer_in_reply(&shared, &reply);
            }
            shared.changed.notify_waiters();
            shared.updates.notify_waiters();
            if failed {
                retry = Some(retry.map_or(FIRST_RETRY, |r| (r * 2).min(LAST_RETRY)));
                break;
            }
        }
    }
}

fn is_loopback(url: &url::Url) -> bool {
    matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// A webhook may answer with a method call in its response body; Telegram performs it.
fn answer_in_reply(shared: &Shared, reply: &[u8]) {
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(reply) else {
        return;
    };
    let Some(Value::String(method)) = obj.remove("method") else {
        return;
    };
    let method = method.to_ascii_lowercase();
    if method != "getupdates" {
        let _ = call(shared, &method, &Params(obj));
    }
}

async fn post_update(
    client: &reqwest::Client,
    url: &str,
    secret: Option<&str>,
    update: &Value,
) -> Result<(u16, Vec<u8>), String> {
    let mut request = client
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(update.to_string());
    if let Some(secret) = secret {
        request = request.header(SECRET_HEADER, secret);
    }
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            "Read timeout expired".to_string()
        } else if e.is_connect() {
            "Connection refused".to_string()
        } else {
            e.to_string()
        }
    })?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    Ok((status, body))
}

// ---------------------------------------------------------------------------------------------
// Reply markup

fn read_markup(p: &Params, inline_only: bool) -> Result<Option<Value>, ApiError> {
    let unparsable = || ApiError::bad("can't parse reply keyboard markup JSON object");
    let Some(markup) = p.json("reply_markup").map_err(|_| unparsable())? else {
        return Ok(None);
    };
    let Value::Object(markup) = markup else {
        return Err(unparsable());
    };
    if let Some(rows) = markup.get("inline_keyboard") {
        let Value::Array(rows) = rows else {
            return Err(ApiError::bad(
                "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array",
            ));
        };
        let mut checked = Vec::with_capacity(rows.len());
        for row in rows {
            let Value::Array(buttons) = row else {
                return Err(ApiError::bad(
                    "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of \
                     Arrays",
                ));
            };
            let row: Result<Vec<Value>, ApiError> = buttons.iter().map(check_button).collect();
            checked.push(Value::Array(row?));
        }
        return Ok(Some(json!({"inline_keyboard": checked})));
    }
    if inline_only {
        return Err(ApiError::bad("inline keyboard expected"));
    }
    if ["keyboard", "remove_keyboard", "force_reply"]
        .iter()
        .any(|k| markup.contains_key(*k))
    {
        return Ok(Some(Value::Object(markup)));
    }
    Err(unparsable())
}

/// Validates one inline button; returns it with only the fields Telegram keeps.
fn check_button(button: &Value) -> Result<Value, ApiError> {
    const ACTIONS: [&str; 10] = [
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    ];
    let Value::Object(button) = button else {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object",
        ));
    };
    let Some(Value::String(text)) = button.get("text") else {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        ));
    };
    let mut kept = Map::new();
    kept.insert("text".into(), json!(text));
    for action in ACTIONS {
        if let Some(value) = button.get(action).filter(|v| !v.is_null()) {
            kept.insert(action.into(), value.clone());
        }
    }
    if kept.len() == 1 {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ));
    }
    if let Some(data) = kept.get("callback_data") {
        let Value::String(data) = data else {
            return Err(ApiError::bad(
                "can't parse inline keyboard button: Field \"callback_data\" must be of type \
                 String",
            ));
        };
        if data.is_empty() || data.len() > MAX_CALLBACK_DATA {
            return Err(ApiError::bad("BUTTON_DATA_INVALID"));
        }
    }
    if let Some(url) = kept.get("url") {
        let Value::String(url) = url else {
            return Err(ApiError::bad(
                "can't parse inline keyboard button: Field \"url\" must be of type String",
            ));
        };
        check_button_url(url)?;
    }
    Ok(Value::Object(kept))
}

/// Telegram refuses button links it could not open for the user: unknown schemes, and hosts
/// that are not public names (`localhost`, single labels).
fn check_button_url(raw: &str) -> Result<(), ApiError> {
    let invalid = |why: &str| {
        ApiError::bad(format!(
            "inline keyboard button URL '{raw}' is invalid: {why}"
        ))
    };
    let with_scheme = if raw.contains("://") || raw.starts_with("tg:") {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| invalid("Wrong HTTP URL"))?;
    match url.scheme() {
        "http" | "https" => {
            let public = match url.host() {
                Some(url::Host::Domain(d)) => {
                    d.contains('.') && !d.ends_with('.') && d != "localhost"
                }
                Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => true,
                None => false,
            };
            if public {
                Ok(())
            } else {
                Err(invalid("Wrong HTTP URL"))
            }
        }
        "tg" | "ton" | "tonsite" => Ok(()),
        _ => Err(invalid("Unsupported URL protocol")),
    }
}

fn inline_keyboard(markup: Option<&Value>) -> Vec<Vec<InlineButton>> {
    let Some(rows) = markup.and_then(|m| m["inline_keyboard"].as_array()) else {
        return Vec::new();
    };
    rows.iter()
        .map(|row| {
            row.as_array()
                .map(|buttons| {
                    buttons
                        .iter()
                        .map(|b| InlineButton {
                            text: b["text"].as_str().unwrap_or_default().into(),
                            callback_data: b["callback_data"].as_str().map(String::from),
                            url: b["url"].as_str().map(String::from),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Text and entities

/// Leading and trailing whitespace is dropped from message text; entities move with the text.
fn trim_text(text: &str, entities: Vec<Value>) -> (String, Vec<Value>) {
    let trimmed_start = text.trim_start();
    let cut = text[..text.len() - trimmed_start.len()]
        .encode_utf16()
        .count() as i64;
    let trimmed = trimmed_start.trim_end();
    let len = trimmed.encode_utf16().count() as i64;
    let entities = entities
        .into_iter()
        .filter_map(|mut e| {
            let (Some(offset), Some(length)) = (e["offset"].as_i64(), e["length"].as_i64()) else {
                return Some(e);
            };
            let start = (offset - cut).max(0);
            let end = (offset + length - cut).min(len);
            if end <= start {
                return None;
            }
            e["offset"] = json!(start);
            e["length"] = json!(end - start);
            Some(e)
        })
        .collect();
    (trimmed.to_string(), entities)
}

/// `bot_command` entities for a command at the start of a user's message.
fn command_entities(text: &str) -> Vec<Value> {
    if !text.starts_with('/') {
        return Vec::new();
    }
    let command = text.split_whitespace().next().unwrap_or_default();
    if command.len() < 2 {
        return Vec::new();
    }
    vec![json!({"offset": 0, "length": command.encode_utf16().count(), "type": "bot_command"})]
}

struct OpenTag {
    name: String,
    argument: String,
    expandable: bool,
    start: usize,
    /// Position among start tags: of two entities over the same text, the outer one comes first.
    order: usize,
    /// Set on a `pre` by a `code class="language-…"` directly inside it.
    language: Option<String>,
}

const HTML_TAGS: [&str; 16] = [
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

/// Parses Telegram's HTML subset into plain text and entities (offsets in UTF-16 code units),
/// refusing what the real parser refuses, with its wording and byte offsets.
fn parse_html(
    source: &str,
    link_user: &dyn Fn(i64) -> Option<Value>,
) -> Result<(String, Vec<Value>), String> {
    let bytes = source.as_bytes();
    let at = |i: usize| -> u8 { bytes.get(i).copied().unwrap_or(0) };
    // The parser treats the end of the text like a space, as the real one does.
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x0b | 0x0c);
    let mut text = String::with_capacity(source.len());
    let mut utf16 = 0usize;
    let mut stack: Vec<OpenTag> = Vec::new();
    let mut entities: Vec<(usize, Value)> = Vec::new();
    let mut opened = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'&' {
            let Some((ch, next)) = decode_html_entity(bytes, i) else {
                return Err(format!(
                    "Character \"&\" at byte offset {i} must be escaped as \"&amp;\""
                ));
            };
            text.push(ch);
            utf16 += ch.len_utf16();
            i = next;
            continue;
        }
        if c != b'<' {
            let ch = source[i..].chars().next().unwrap_or_default();
            text.push(ch);
            utf16 += ch.len_utf16();
            i += ch.len_utf8();
            continue;
        }
        let begin = i;
        i += 1;
        if at(i) != b'/' {
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            if at(i) == 0 {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            let name = source[begin + 1..i].to_ascii_lowercase();
            if !HTML_TAGS.contains(&name.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{name}\" at byte offset {begin}"
                ));
            }
            let mut argument = String::new();
            let mut expandable = false;
            while at(i) != b'>' {
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == b'>' {
                    break;
                }
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                let attribute_begin = i;
                while !is_space(at(i)) && at(i) != b'=' && at(i) != b'>' {
                    i += 1;
                }
                let attribute = source[attribute_begin..i].to_ascii_lowercase();
                if attribute.is_empty() {
                    return Err(format!(
                        "Empty attribute name in the tag \"{name}\" at byte offset {begin}"
                    ));
                }
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) != b'=' {
                    if at(i) == 0 {
                        return Err(format!("Unclosed start tag at byte offset {begin}"));
                    }
                    if name == "blockquote" && attribute == "expandable" {
                        expandable = true;
                        continue;
                    }
                    return Err(format!(
                        "Expected equal sign in declaration of an attribute of the tag \
                         \"{name}\" at byte offset {begin}"
                    ));
                }
                i += 1;
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == 0 {
                    return Err(format!(
                        "Unclosed start tag \"{name}\" at byte offset {begin}"
                    ));
                }
                let mut value = String::new();
                if at(i) != b'\'' && at(i) != b'"' {
                    // An unquoted value is an HTML name token, which is case-insensitive.
                    let token_begin = i;
                    while at(i).is_ascii_alphanumeric() || at(i) == b'.' || at(i) == b'-' {
                        i += 1;
                    }
                    value = source[token_begin..i].to_ascii_lowercase();
                    if !is_space(at(i)) && at(i) != b'>' {
                        return Err(format!(
                            "Unexpected end of name token at byte offset {token_begin}"
                        ));
                    }
                } else {
                    let quote = at(i);
                    i += 1;
                    while at(i) != quote && at(i) != 0 {
                        if at(i) == b'&'
                            && let Some((ch, next)) = decode_html_entity(bytes, i)
                        {
                            value.push(ch);
                            i = next;
                            continue;
                        }
                        let ch = source[i..].chars().next().unwrap_or_default();
                        value.push(ch);
                        i += ch.len_utf8();
                    }
                    if at(i) == quote {
                        i += 1;
                    }
                }
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                match (name.as_str(), attribute.as_str()) {
                    ("a", "href") | ("tg-emoji", "emoji-id") => argument = value,
                    ("code", "class") => {
                        if let Some(language) = value.strip_prefix("language-") {
                            argument = language.to_string();
                        }
                    }
                    ("span", "class") => {
                        if let Some(class) = value.strip_prefix("tg-") {
                            argument = class.to_string();
                        }
                    }
                    ("blockquote", "expandable") => expandable = true,
                    _ => {}
                }
            }
            if name == "span" && argument != "spoiler" {
                return Err(format!(
                    "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                ));
            }
            stack.push(OpenTag {
                name,
                argument,
                expandable,
                start: utf16,
                order: opened,
                language: None,
            });
            opened += 1;
            i += 1;
        } else {
            let Some(open) = stack.pop() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            let end_name = source[begin + 2..i].to_ascii_lowercase();
            while at(i) != 0 && is_space(at(i)) {
                i += 1;
            }
            if at(i) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            i += 1;
            if !end_name.is_empty() && end_name != open.name {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \
                     \"</{end_name}>\"",
                    open.name
                ));
            }
            let length = utf16 - open.start;
            if open.name == "code"
                && let Some(parent) = stack.last_mut().filter(|p| p.name == "pre")
            {
                // `<pre><code class="language-x">` is one pre entity with a language.
                if !open.argument.is_empty() {
                    parent.language = Some(open.argument);
                }
                continue;
            }
            if length == 0 {
                continue;
            }
            if let Some(entity) = html_entity(&open, &text, length, link_user) {
                entities.push((open.order, entity));
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.name
        ));
    }
    entities.sort_by_key(|(order, e)| {
        (
            e["offset"].as_u64().unwrap_or_default(),
            std::cmp::Reverse(e["length"].as_u64().unwrap_or_default()),
            *order,
        )
    });
    Ok((text, entities.into_iter().map(|(_, e)| e).collect()))
}

fn html_entity(
    open: &OpenTag,
    text: &str,
    length: usize,
    link_user: &dyn Fn(i64) -> Option<Value>,
) -> Option<Value> {
    let kind = match open.name.as_str() {
        "b" | "strong" => "bold",
        "i" | "em" => "italic",
        "u" | "ins" => "underline",
        "s" | "strike" | "del" => "strikethrough",
        "tg-spoiler" | "span" => "spoiler",
        "code" => "code",
        "pre" => "pre",
        "blockquote" if open.expandable => "expandable_blockquote",
        "blockquote" => "blockquote",
        "tg-emoji" => "custom_emoji",
        "a" => "text_link",
        _ => return None,
    };
    let mut entity = json!({"offset": open.start, "length": length, "type": kind});
    match kind {
        "pre" => {
            if let Some(language) = &open.language {
                entity["language"] = json!(language);
            }
        }
        "custom_emoji" => {
            if open.argument.is_empty() {
                return None;
            }
            entity["custom_emoji_id"] = json!(open.argument);
        }
        "text_link" => {
            let url = if open.argument.is_empty() {
                // Without href the link text is the address.
                let units: Vec<u16> = text.encode_utf16().collect();
                String::from_utf16_lossy(&units[open.start..open.start + length])
            } else {
                open.argument.clone()
            };
            if let Some(id) = url
                .strip_prefix("tg://user?id=")
                .and_then(|id| id.parse::<i64>().ok())
            {
                // A mention of someone the bot cannot see is dropped.
                entity["type"] = json!("text_mention");
                entity["user"] = link_user(id)?;
            } else {
                entity["url"] = json!(link_url(&url)?);
            }
        }
        _ => {}
    }
    Some(entity)
}

/// The link an `<a href>` becomes, or `None` when Telegram would drop it.
fn link_url(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.contains(char::is_whitespace) {
        return None;
    }
    let with_scheme = if raw.contains("://") || raw.starts_with("tg:") || raw.starts_with("mailto:")
    {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    let url = url::Url::parse(&with_scheme).ok()?;
    matches!(
        url.scheme(),
        "http" | "https" | "tg" | "ton" | "tonsite" | "mailto"
    )
    .then(|| with_scheme)
}

/// `&lt;` `&gt;` `&amp;` `&quot;` and numeric references (`;` optional, as Telegram reads them).
fn decode_html_entity(bytes: &[u8], pos: usize) -> Option<(char, usize)> {
    let at = |i: usize| -> u8 { bytes.get(i).copied().unwrap_or(0) };
    let mut end = pos + 1;
    let ch = if at(end) == b'#' {
        end += 1;
        let mut code: u32 = 0;
        let radix = if at(end) == b'x' {
            end += 1;
            16
        } else {
            10
        };
        let digits_start = end;
        while (at(end) as char).is_digit(radix) {
            code = code
                .saturating_mul(radix)
                .saturating_add((at(end) as char).to_digit(radix)?);
            end += 1;
        }
        if end == digits_start || code == 0 || code >= 0x10ffff || end - pos >= 10 {
            return None;
        }
        char::from_u32(code)?
    } else {
        while at(end).is_ascii_alphabetic() {
            end += 1;
        }
        match &bytes[pos + 1..end] {
            b"lt" => '<',
            b"gt" => '>',
            b"amp" => '&',
            b"quot" => '"',
            _ => return None,
        }
    };
    if at(end) == b';' {
        end += 1;
    }
    Some((ch, end))
}

fn insert_opt(obj: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(value) = value {
        obj.insert(key.into(), json!(value));
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(source: &str) -> Result<(String, Vec<Value>), String> {
        parse_html(source, &|_| None)
    }

    #[test]
    fn html_becomes_text_and_utf16_entities() {
        let (text, entities) =
            html("<b>Nueva</b> solicitud de <i>José 🎬</i> &lt;3 &#x41;&#66;").unwrap();
        assert_eq!(text, "Nueva solicitud de José 🎬 <3 AB");
        assert_eq!(
            entities,
            vec![
                json!({"offset": 0, "length": 5, "type": "bold"}),
                json!({"offset": 19, "length": 7, "type": "italic"}),
            ]
        );
    }

    #[test]
    fn nested_tags_links_and_pre_with_language() {
        let (text, entities) = html(
            "<a href=\"https://example.com/r?a=1&amp;b=2\"><b>open</b></a>\n\
             <pre><code class=\"language-rust\">fn x()</code></pre>",
        )
        .unwrap();
        assert_eq!(text, "open\nfn x()");
        assert_eq!(
            entities,
            vec![
                json!({"offset": 0, "length": 4, "type": "text_link", "url": "https://example.com/r?a=1&b=2"}),
                json!({"offset": 0, "length": 4, "type": "bold"}),
                json!({"offset": 5, "length": 6, "type": "pre", "language": "rust"}),
            ]
        );
    }

    #[test]
    fn html_errors_use_telegram_wording() {
        let cases = [
            ("a < b", "Unsupported start tag \"\" at byte offset 2"),
            (
                "<b>bold",
                "Can't find end tag corresponding to start tag \"b\"",
            ),
            (
                "<script>x</script>",
                "Unsupported start tag \"script\" at byte offset 0",
            ),
            (
                "<b>x</i>",
                "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\"",
            ),
            ("x</b>", "Unexpected end tag at byte offset 1"),
            ("<b", "Unclosed start tag at byte offset 0"),
            ("<b>x</b", "Unclosed end tag at byte offset 4"),
            (
                "<span class=\"x\">y</span>",
                "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0",
            ),
            (
                "Tom & Jerry",
                "Character \"&\" at byte offset 4 must be escaped as \"&amp;\"",
            ),
        ];
        for (source, expected) in cases {
            assert_eq!(html(source).unwrap_err(), expected, "{source}");
        }
    }

    #[test]
    fn trimming_moves_entities() {
        let (text, entities) = trim_text(
            "  hi there  ",
            vec![json!({"offset": 0, "length": 4, "type": "bold"})],
        );
        assert_eq!(text, "hi there");
        assert_eq!(
            entities,
            vec![json!({"offset": 0, "length": 2, "type": "bold"})]
        );
    }

    #[test]
    fn button_urls_must_be_public() {
        assert!(check_button_url("https://usher.example.com/r/1").is_ok());
        assert!(check_button_url("http://127.0.0.1:8080/r/1").is_ok());
        assert_eq!(
            check_button_url("http://localhost:8080/x")
                .unwrap_err()
                .description,
            "Bad Request: inline keyboard button URL 'http://localhost:8080/x' is invalid: Wrong HTTP URL"
        );
        assert!(check_button_url("ftp://example.com/x").is_err());
    }
}
