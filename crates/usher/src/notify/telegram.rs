//! A small client for the Telegram Bot API: only the methods usher uses. The token travels in
//! the URL path, so transport errors are reported without their URL.

use std::time::Duration;

use serde_json::{Value, json};

use crate::domain::settings::Settings;
use crate::state::AppState;

/// The API client when a bot token is set.
pub fn api(state: &AppState, settings: &Settings) -> Option<TelegramApi> {
    let token = state.key.open(settings.telegram.token_sealed.as_deref()?)?;
    TelegramApi::new(&state.config.telegram_api_url, &token).ok()
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TelegramError {
    #[error("Telegram answered {code}: {description}")]
    Api {
        code: i64,
        description: String,
        retry_after: Option<i64>,
    },
    #[error("could not reach Telegram: {0}")]
    Transport(String),
}

impl TelegramError {
    /// "message is not modified" is what an idempotent edit gets; it is not a failure.
    pub fn is_not_modified(&self) -> bool {
        matches!(self, TelegramError::Api { description, .. } if description.contains("message is not modified"))
    }
}

#[derive(Clone)]
pub struct TelegramApi {
    base: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for TelegramApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TelegramApi(…)")
    }
}

impl TelegramApi {
    pub fn new(api_url: &str, token: &str) -> Result<Self, TelegramError> {
        media::http::install_crypto();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // Long polls wait up to 25 s on Telegram's side.
            .timeout(Duration::from_secs(40))
            .build()
            .map_err(|e| TelegramError::Transport(e.without_url().to_string()))?;
        Ok(TelegramApi {
            base: format!("{}/bot{}", api_url.trim_end_matches('/'), token.trim()),
            http,
        })
    }

    pub async fn call(&self, method: &str, params: Value) -> Result<Value, TelegramError> {
        let res = self
            .http
            .post(format!("{}/{method}", self.base))
            .json(&params)
            .send()
            .await
            .map_err(|e| TelegramError::Transport(e.without_url().to_string()))?;
        let body: Value = res
            .json()
            .await
            .map_err(|e| TelegramError::Transport(e.without_url().to_string()))?;
        if body["ok"].as_bool() == Some(true) {
            return Ok(body["result"].clone());
        }
        Err(TelegramError::Api {
            code: body["error_code"].as_i64().unwrap_or(0),
            description: body["description"]
                .as_str()
                .unwrap_or("unknown error")
                .to_string(),
            retry_after: body["parameters"]["retry_after"].as_i64(),
        })
    }

    pub async fn get_me(&self) -> Result<Value, TelegramError> {
        self.call("getMe", json!({})).await
    }

    /// Sends an HTML message; returns its message id.
    pub async fn send_message(
        &self,
        chat_id: i64,
        html: &str,
        keyboard: Option<Value>,
    ) -> Result<i64, TelegramError> {
        let mut params = json!({
            "chat_id": chat_id,
            "text": html,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        });
        if let Some(k) = keyboard {
            params["reply_markup"] = k;
        }
        let msg = self.call("sendMessage", params).await?;
        Ok(msg["message_id"].as_i64().unwrap_or(0))
    }

    /// Replaces a message's text and keyboard (no keyboard removes it). Editing to the same
    /// content succeeds.
    pub async fn edit_message(
        &self,
        chat_id: i64,
        message_id: i64,
        html: &str,
        keyboard: Option<Value>,
    ) -> Result<(), TelegramError> {
        let mut params = json!({
            "chat_id": chat_id,
            "message_id": message_id,
            "text": html,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        });
        if let Some(k) = keyboard {
            params["reply_markup"] = k;
        }
        match self.call("editMessageText", params).await {
            Err(e) if e.is_not_modified() => Ok(()),
            other => other.map(|_| ()),
        }
    }

    pub async fn answer_callback(&self, id: &str, text: Option<&str>) -> Result<(), TelegramError> {
        let mut params = json!({ "callback_query_id": id });
        if let Some(t) = text {
            params["text"] = json!(t);
        }
        self.call("answerCallbackQuery", params).await.map(|_| ())
    }

    pub async fn get_updates(
        &self,
        offset: i64,
        timeout: u32,
    ) -> Result<Vec<Value>, TelegramError> {
        let result = self
            .call(
                "getUpdates",
                json!({ "offset": offset, "timeout": timeout, "allowed_updates": ["message", "callback_query"] }),
            )
            .await?;
        Ok(result.as_array().cloned().unwrap_or_default())
    }

    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<(), TelegramError> {
        self.call(
            "setWebhook",
            json!({ "url": url, "secret_token": secret, "allowed_updates": ["message", "callback_query"] }),
        )
        .await
        .map(|_| ())
    }

    pub async fn delete_webhook(&self) -> Result<(), TelegramError> {
        self.call("deleteWebhook", json!({})).await.map(|_| ())
    }
}
