//! `/admin/settings`: owner name, request form, Telegram bot and email. Secrets are write-only:
//! the page shows whether one is set, never its value.

use crate::domain::ids::*;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use crate::domain::settings::{Settings, SmtpSecurity, TelegramMode};
use crate::state::AppState;
use crate::web::error::AppResult;
use crate::web::extract::{Form, field, has_field};
use crate::web::visitor::Admin;
use crate::web::{page, ser};

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    done: String,
}

const NOTICES: &[&str] = &[
    "general",
    "requests",
    "telegram",
    "telegram-test",
    "email",
    "email-test",
];

async fn render(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    error: Option<(&str, String)>,
) -> AppResult<Response> {
    let s = state.store.settings().await?;
    let servers = state.store.servers().await?;
    let public_url = state.public.form_value(&axum::http::HeaderMap::new());
    let webhook_possible = state.public.current().0.is_https();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = page(
        state,
        &admin.visitor,
        "admin/settings.html",
        context! {
            s => context! {
                owner_name => &s.owner_name,
                request_app_url => &s.request_app_url,
                community_url => &s.community_url,
                requests => ser(&s.requests),
                has_passphrase => s.requests.passphrase_hash.is_some(),
                telegram => context! {
                    has_token => s.telegram.token_sealed.is_some(),
                    allowed_ids => s.telegram.allowed_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", "),
                    chat_id => s.telegram.chat_id,
                    mode => ser(s.telegram.mode),
                },
                smtp => context! {
                    host => &s.smtp.host, port => s.smtp.port, security => ser(s.smtp.security),
                    username => &s.smtp.username, has_password => s.smtp.password_sealed.is_some(), from => &s.smtp.from,
                },
            },
            servers => ser(servers.iter().map(|s| &s.server).collect::<Vec<_>>()),
            profiles => ser(state.store.profiles().await?),
            request_url => format!("{}/request", state.public.base()),
            public_url => public_url.0,
            public_locked => public_url.1,
            webhook_possible,
            notice => notice.filter(|n| NOTICES.contains(n)),
            error => error.map(|(section, message)| context! { section, message }),
        },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    render(&state, &admin, Some(q.done.as_str()), None).await
}

async fn saved(
    state: &AppState,
    admin: &Admin,
    s: &Settings,
    section: &str,
) -> AppResult<Response> {
    state.store.save_settings(s, state.clock.now()).await?;
    state
        .store
        .append_event(
            crate::store::events::NewEvent {
                actor: &admin.session.username,
                action: "settings.changed",
                subject: Some(section),
                detail: None,
            },
            state.clock.now(),
        )
        .await?;
    Ok(Redirect::to(&format!("/admin/settings?done={section}#{section}")).into_response())
}

/// Records a test the admin sent from this page, and how it went.
async fn tested(
    state: &AppState,
    admin: &Admin,
    section: &str,
    error: Option<&impl std::fmt::Display>,
) -> AppResult<()> {
    let detail = error.map_or_else(|| "sent".to_string(), |e| e.to_string());
    state
        .store
        .append_event(
            crate::store::events::NewEvent {
                actor: &admin.session.username,
                action: "settings.tested",
                subject: Some(section),
                detail: Some(&detail),
            },
            state.clock.now(),
        )
        .await?;
    Ok(())
}

#[derive(Deserialize, Default)]
pub struct GeneralForm {
    #[serde(default)]
    owner_name: String,
    #[serde(default)]
    request_app_url: String,
    #[serde(default)]
    community_url: String,
    /// Absent when the configuration sets the public address.
    #[serde(default)]
    public_url: Option<String>,
}

/// An optional link the owner shares: empty, or an http(s) URL.
fn link(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Some(String::new());
    }
    url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .map(|_| raw.to_string())
}

pub async fn general(
    State(state): State<AppState>,
    admin: Admin,
    Form(f): Form<GeneralForm>,
) -> AppResult<Response> {
    let name = f.owner_name.trim();
    if name.chars().count() > 60 {
        return render(
            &state,
            &admin,
            None,
            Some((
                "general",
                state
                    .i18n
                    .text(admin.visitor.lang, "settings-owner-too-long"),
            )),
        )
        .await;
    }
    let (Some(request_app_url), Some(community_url)) =
        (link(&f.request_app_url), link(&f.community_url))
    else {
        return render(
            &state,
            &admin,
            None,
            Some((
                "general",
                state.i18n.text(admin.visitor.lang, "settings-bad-link"),
            )),
        )
        .await;
    };
    if let Some(raw) = f.public_url.as_deref().map(str::trim) {
        let (current, source) = state.public.current();
        let url = match raw {
            "" => None,
            raw => match crate::domain::base_url::BaseUrl::parse(raw) {
                Ok(url) => Some(url),
                Err(_) => {
                    let message = state.i18n.text(admin.visitor.lang, "public-url-invalid");
                    return render(&state, &admin, None, Some(("general", message))).await;
                }
            },
        };
        // Saving the page unchanged does not turn the listening address into a setting.
        let unchanged = source == crate::public_url::Source::Listening
            && url.as_ref().is_some_and(|u| *u == current);
        if !unchanged && url != state.public.stored() {
            state
                .public
                .save(&state.store, url, state.clock.now())
                .await?;
        }
    }
    let mut s = state.store.settings().await?;
    s.owner_name = name.to_string();
    s.request_app_url = request_app_url;
    s.community_url = community_url;
    saved(&state, &admin, &s, "general").await
}

pub async fn requests(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let get = |n: &str| field(&fields, n).trim().to_string();
    let has = |n: &str| has_field(&fields, n);
    let lang = admin.visitor.lang;
    let bad = |key: &str| Some(("requests", state.i18n.text(lang, key)));
    let mut s = state.store.settings().await?;
    let Ok(hours) = get("expiry_hours").parse::<i64>() else {
        return render(&state, &admin, None, bad("settings-bad-hours")).await;
    };
    if !(1..=24 * 30).contains(&hours) {
        return render(&state, &admin, None, bad("settings-bad-hours")).await;
    }
    let Ok(per_ip) = get("per_ip_per_hour").parse::<u32>() else {
        return render(&state, &admin, None, bad("settings-bad-rate")).await;
    };
    if !(1..=1000).contains(&per_ip) {
        return render(&state, &admin, None, bad("settings-bad-rate")).await;
    }
    let duration = get("access_duration");
    if crate::domain::rules::AccessLength::parse(&duration).is_err() {
        return render(&state, &admin, None, bad("invite-bad-duration")).await;
    }
    let mut servers = Vec::new();
    for (k, v) in &fields {
        if k == "server" {
            match v.parse::<ServerId>() {
                Ok(id) => servers.push(id),
                Err(_) => return render(&state, &admin, None, bad("error-bad-request")).await,
            }
        }
    }
    let passphrase = get("passphrase");
    if has("clear_passphrase") {
        s.requests.passphrase_hash = None;
    } else if !passphrase.is_empty() {
        if !(4..=128).contains(&passphrase.chars().count()) {
            return render(&state, &admin, None, bad("invite-bad-passphrase")).await;
        }
        s.requests.passphrase_hash = Some(crate::requests::passphrase_hash(&state, &passphrase));
    }
    s.requests.enabled = has("enabled");
    s.requests.auto_approve = has("auto_approve");
    s.requests.expiry_hours = hours;
    s.requests.per_ip_per_hour = per_ip;
    s.requests.access_duration = if duration == "forever" {
        String::new()
    } else {
        duration
    };
    s.requests.servers = servers;
    s.requests.profile_id = match get("profile").as_str() {
        "" => None,
        p => match p.parse::<ProfileId>() {
            Ok(id) if state.store.profile(id).await?.is_some() => Some(id),
            _ => return render(&state, &admin, None, bad("invite-unknown-profile")).await,
        },
    };
    saved(&state, &admin, &s, "requests").await
}

pub async fn telegram(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let get = |n: &str| field(&fields, n).trim().to_string();
    let lang = admin.visitor.lang;
    let mut s = state.store.settings().await?;
    let token = get("token");
    if get("clear_token") == "on" {
        s.telegram.token_sealed = None;
    } else if !token.is_empty() {
        let looks_right = token
            .split_once(':')
            .is_some_and(|(id, rest)| id.chars().all(|c| c.is_ascii_digit()) && !rest.is_empty())
            && !token.chars().any(char::is_whitespace);
        if !looks_right {
            return render(
                &state,
                &admin,
                None,
                Some(("telegram", state.i18n.text(lang, "settings-bad-token"))),
            )
            .await;
        }
        s.telegram.token_sealed = Some(state.key.seal(&token));
    }
    let mut ids = Vec::new();
    for part in get("allowed_ids")
        .split([',', ' ', '\n'])
        .filter(|p| !p.trim().is_empty())
    {
        match part.trim().parse::<i64>() {
            Ok(id) if id > 0 => ids.push(id),
            _ => {
                return render(
                    &state,
                    &admin,
                    None,
                    Some(("telegram", state.i18n.text(lang, "settings-bad-ids"))),
                )
                .await;
            }
        }
    }
    s.telegram.allowed_ids = ids;
    let chat = get("chat_id");
    s.telegram.chat_id = if chat.is_empty() {
        None
    } else {
        match chat.parse::<i64>() {
            Ok(c) => Some(c),
            Err(_) => {
                return render(
                    &state,
                    &admin,
                    None,
                    Some(("telegram", state.i18n.text(lang, "settings-bad-chat"))),
                )
                .await;
            }
        }
    };
    s.telegram.mode = match get("mode").as_str() {
        "webhook" if state.public.current().0.is_https() => TelegramMode::Webhook,
        "webhook" => {
            return render(
                &state,
                &admin,
                None,
                Some((
                    "telegram",
                    state.i18n.text(lang, "settings-webhook-needs-https"),
                )),
            )
            .await;
        }
        _ => TelegramMode::Polling,
    };
    match s.telegram.webhook_secret(&state.key) {
        // Sealed now if it was saved in the clear.
        Some(secret) => s.telegram.set_webhook_secret(&state.key, secret.expose()),
        None => s
            .telegram
            .set_webhook_secret(&state.key, &crate::crypto::random_token()),
    }
    let response = saved(&state, &admin, &s, "telegram").await?;
    if let Err(e) = crate::telegram::register(&state, &s).await {
        return render(&state, &admin, None, Some(("telegram", e.to_string()))).await;
    }
    Ok(response)
}

pub async fn telegram_test(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    let s = state.store.settings().await?;
    let lang = admin.visitor.lang;
    let (Some(api), Some(chat)) = (crate::notify::telegram::api(&state, &s), s.telegram.chat_id)
    else {
        return render(
            &state,
            &admin,
            None,
            Some((
                "telegram",
                state.i18n.text(lang, "settings-telegram-incomplete"),
            )),
        )
        .await;
    };
    let text = crate::text::escape_html(&state.i18n.text(lang, "settings-telegram-test-message"));
    let result = api.send_message(chat, &text, None).await;
    tested(&state, &admin, "telegram", result.as_ref().err()).await?;
    match result {
        Ok(_) => Ok(Redirect::to("/admin/settings?done=telegram-test#telegram").into_response()),
        Err(e) => render(&state, &admin, None, Some(("telegram", e.to_string()))).await,
    }
}

pub async fn email(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let get = |n: &str| field(&fields, n).trim().to_string();
    let lang = admin.visitor.lang;
    let mut s = state.store.settings().await?;
    let host = get("host");
    if host.chars().any(|c| c.is_whitespace() || c == '/') {
        return render(
            &state,
            &admin,
            None,
            Some(("email", state.i18n.text(lang, "settings-bad-host"))),
        )
        .await;
    }
    let port = get("port");
    s.smtp.port = if port.is_empty() {
        0
    } else {
        match port.parse::<u16>() {
            Ok(p) => p,
            Err(_) => {
                return render(
                    &state,
                    &admin,
                    None,
                    Some(("email", state.i18n.text(lang, "settings-bad-port"))),
                )
                .await;
            }
        }
    };
    let from = get("from");
    if !from.is_empty() && from.parse::<lettre::message::Mailbox>().is_err() {
        return render(
            &state,
            &admin,
            None,
            Some(("email", state.i18n.text(lang, "settings-bad-from"))),
        )
        .await;
    }
    s.smtp.host = host;
    s.smtp.security = match get("security").as_str() {
        "none" => SmtpSecurity::None,
        "tls" => SmtpSecurity::Tls,
        _ => SmtpSecurity::Starttls,
    };
    s.smtp.username = get("username");
    // Passwords are taken as typed, spaces included.
    let password = field(&fields, "password").to_string();
    if get("clear_password") == "on" {
        s.smtp.password_sealed = None;
    } else if !password.is_empty() {
        s.smtp.password_sealed = Some(state.key.seal(&password));
    }
    s.smtp.from = from;
    saved(&state, &admin, &s, "email").await
}

#[derive(Deserialize, Default)]
pub struct TestEmailForm {
    #[serde(default)]
    to: String,
}

pub async fn email_test(
    State(state): State<AppState>,
    admin: Admin,
    Form(f): Form<TestEmailForm>,
) -> AppResult<Response> {
    let s = state.store.settings().await?;
    let lang = admin.visitor.lang;
    let Ok(to) = crate::domain::rules::Email::parse(&f.to) else {
        return render(
            &state,
            &admin,
            None,
            Some(("email", state.i18n.text(lang, "redeem-bad-email"))),
        )
        .await;
    };
    let subject = state.i18n.text(lang, "settings-email-test-subject");
    let body = state.i18n.text(lang, "settings-email-test-body");
    let result = crate::notify::email::send(&state, &s.smtp, &to, &subject, &body).await;
    tested(&state, &admin, "email", result.as_ref().err()).await?;
    match result {
        Ok(()) => Ok(Redirect::to("/admin/settings?done=email-test#email").into_response()),
        Err(e) => render(&state, &admin, None, Some(("email", e.to_string()))).await,
    }
}
