//! `/admin/settings`: the list of sections, and a page for each (general, requests, Telegram,
//! email), each with its own form. Secrets are write-only: a page shows whether one is set,
//! never its value.

use crate::domain::ids::*;
use crate::web::extract::Query;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::change::*;
use crate::domain::settings::{SmtpSecurity, TelegramMode};
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
    "branding",
    "logo",
];

async fn render(
    state: &AppState,
    admin: &Admin,
    section: Section,
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
            section => section.as_str(),
            // The zones the form suggests, on the page that has the field.
            zones => if section == Section::General { crate::clock::Zone::names() } else { Vec::new() },
            s => context! {
                owner_name => &s.owner_name,
                request_app_url => &s.request_app_url,
                community_url => &s.community_url,
                time_zone => &s.time_zone,
                requests => ser(&s.requests),
                has_passphrase => s.requests.passphrase_hash.is_some(),
                telegram => context! {
                    has_token => s.telegram.token_sealed.is_some(),
                    allowed_ids => s.telegram.allowed_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", "),
                    chat_id => s.telegram.chat_id,
                    mode => ser(s.telegram.mode),
                },
                branding => context! {
                    name => &s.branding.name,
                    accent => s.branding.accent.map(|a| format!("#{}", a.hex())).unwrap_or_default(),
                    logo => s.branding.logo.as_ref().map(crate::ui::brand::logo_path),
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

/// The sections, each with what it is for.
pub async fn index(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    let s = state.store.settings().await?;
    Ok(page(
        &state,
        &admin.visitor,
        "admin/settings_index.html",
        context! {
            requests_open => s.requests.enabled,
            telegram_set => s.telegram.token_sealed.is_some(),
            email_set => !s.smtp.host.is_empty(),
            time_zone => if s.time_zone.is_empty() { "UTC".to_string() } else { s.time_zone.clone() },
            owner_name => s.owner_name,
        },
    )?
    .into_response())
}

async fn section_page(
    state: AppState,
    admin: Admin,
    q: PageQuery,
    section: Section,
) -> AppResult<Response> {
    render(&state, &admin, section, Some(q.done.as_str()), None).await
}

pub async fn general_page(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    section_page(state, admin, q, Section::General).await
}

pub async fn requests_page(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    section_page(state, admin, q, Section::Requests).await
}

pub async fn telegram_page(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    section_page(state, admin, q, Section::Telegram).await
}

pub async fn branding_page(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    section_page(state, admin, q, Section::Branding).await
}

pub async fn email_page(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    section_page(state, admin, q, Section::Email).await
}

/// The page again with a problem shown in its section; a failure on our side stays an error.
async fn refused(state: &AppState, admin: &Admin, e: SettingsError) -> AppResult<Response> {
    let message = match &e {
        SettingsError::Invalid { key, .. } => state.i18n.text(admin.visitor.lang, key),
        SettingsError::Delivery { message, .. } => message.clone(),
        SettingsError::Store(_) => return Err(e.into()),
    };
    render(
        state,
        admin,
        e.section(),
        None,
        Some((e.section().as_str(), message)),
    )
    .await
}

/// A field the page could not read as what it must be.
async fn unreadable(
    state: &AppState,
    admin: &Admin,
    section: Section,
    key: &str,
) -> AppResult<Response> {
    let message = state.i18n.text(admin.visitor.lang, key);
    render(
        state,
        admin,
        section,
        None,
        Some((section.as_str(), message)),
    )
    .await
}

/// Where the page goes after `result`: back to its section with a notice, or the problem shown.
async fn after(
    state: &AppState,
    admin: &Admin,
    result: Result<(), SettingsError>,
    notice: &str,
    section: Section,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!(
            "/admin/settings/{}?done={notice}",
            section.as_str()
        ))
        .into_response()),
        Err(e) => refused(state, admin, e).await,
    }
}

#[derive(Deserialize, Default)]
pub struct GeneralForm {
    #[serde(default)]
    owner_name: String,
    #[serde(default)]
    request_app_url: String,
    #[serde(default)]
    community_url: String,
    #[serde(default)]
    time_zone: String,
    /// Absent when the configuration sets the public address.
    #[serde(default)]
    public_url: Option<String>,
}

pub async fn general(
    State(state): State<AppState>,
    admin: Admin,
    Form(f): Form<GeneralForm>,
) -> AppResult<Response> {
    let change = GeneralChange {
        owner_name: Some(f.owner_name),
        request_app_url: Some(f.request_app_url),
        community_url: Some(f.community_url),
        time_zone: Some(f.time_zone),
        public_url: f.public_url,
    };
    let result = change_general(&state, &change, &admin.session.username).await;
    after(&state, &admin, result, "general", Section::General).await
}

pub async fn requests(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let get = |n: &str| field(&fields, n).trim().to_string();
    let has = |n: &str| has_field(&fields, n);
    let section = Section::Requests;
    let Ok(hours) = get("expiry_hours").parse::<i64>() else {
        return unreadable(&state, &admin, section, "settings-bad-hours").await;
    };
    let Ok(per_ip) = get("per_ip_per_hour").parse::<u32>() else {
        return unreadable(&state, &admin, section, "settings-bad-rate").await;
    };
    let mut servers = Vec::new();
    for (k, v) in &fields {
        if k == "server" {
            match v.parse::<ServerId>() {
                Ok(id) => servers.push(id),
                Err(_) => return unreadable(&state, &admin, section, "error-bad-request").await,
            }
        }
    }
    let profile_id = match get("profile").as_str() {
        "" => None,
        p => match p.parse::<ProfileId>() {
            Ok(id) => Some(id),
            Err(_) => {
                return unreadable(&state, &admin, section, "invite-unknown-profile").await;
            }
        },
    };
    let passphrase = get("passphrase");
    let change = RequestsChange {
        enabled: Some(has("enabled")),
        auto_approve: Some(has("auto_approve")),
        expiry_hours: Some(hours),
        per_ip_per_hour: Some(per_ip),
        access_duration: Some(get("access_duration")),
        servers: Some(servers),
        profile_id: Some(profile_id),
        passphrase: if has("clear_passphrase") {
            Some(None)
        } else {
            (!passphrase.is_empty()).then_some(Some(passphrase))
        },
    };
    let result = change_requests(&state, &change, &admin.session.username).await;
    after(&state, &admin, result, "requests", section).await
}

pub async fn telegram(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let get = |n: &str| field(&fields, n).trim().to_string();
    let section = Section::Telegram;
    let token = get("token");
    let mut ids = Vec::new();
    for part in get("allowed_ids")
        .split([',', ' ', '\n'])
        .filter(|p| !p.trim().is_empty())
    {
        match part.trim().parse::<i64>() {
            Ok(id) => ids.push(id),
            Err(_) => return unreadable(&state, &admin, section, "settings-bad-ids").await,
        }
    }
    let chat = get("chat_id");
    let chat_id = if chat.is_empty() {
        None
    } else {
        match chat.parse::<i64>() {
            Ok(c) => Some(c),
            Err(_) => return unreadable(&state, &admin, section, "settings-bad-chat").await,
        }
    };
    let change = TelegramChange {
        token: if get("clear_token") == "on" {
            Some(None)
        } else {
            (!token.is_empty()).then_some(Some(token))
        },
        allowed_ids: Some(ids),
        chat_id: Some(chat_id),
        mode: Some(match get("mode").as_str() {
            "webhook" => TelegramMode::Webhook,
            _ => TelegramMode::Polling,
        }),
    };
    let result = change_telegram(&state, &change, &admin.session.username).await;
    after(&state, &admin, result, "telegram", section).await
}

pub async fn telegram_test(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    let result = test_telegram(&state, admin.visitor.lang, &admin.session.username).await;
    after(&state, &admin, result, "telegram-test", Section::Telegram).await
}

pub async fn email(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let get = |n: &str| field(&fields, n).trim().to_string();
    let section = Section::Email;
    let port = get("port");
    let port = if port.is_empty() {
        0
    } else {
        match port.parse::<u16>() {
            Ok(p) => p,
            Err(_) => return unreadable(&state, &admin, section, "settings-bad-port").await,
        }
    };
    // Passwords are taken as typed, spaces included.
    let password = field(&fields, "password").to_string();
    let change = EmailChange {
        host: Some(get("host")),
        port: Some(port),
        security: Some(match get("security").as_str() {
            "none" => SmtpSecurity::None,
            "tls" => SmtpSecurity::Tls,
            _ => SmtpSecurity::Starttls,
        }),
        username: Some(get("username")),
        password: if get("clear_password") == "on" {
            Some(None)
        } else {
            (!password.is_empty()).then_some(Some(password))
        },
        from: Some(get("from")),
    };
    let result = change_email(&state, &change, &admin.session.username).await;
    after(&state, &admin, result, "email", section).await
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
    let result = test_email(&state, &f.to, admin.visitor.lang, &admin.session.username).await;
    after(&state, &admin, result, "email-test", Section::Email).await
}

#[derive(Deserialize, Default)]
pub struct BrandingForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    accent: String,
    /// Ticked to go back to usher's colour (a colour input always sends one).
    #[serde(default)]
    no_accent: String,
}

pub async fn branding(
    State(state): State<AppState>,
    admin: Admin,
    Form(f): Form<BrandingForm>,
) -> AppResult<Response> {
    let change = BrandingChange {
        name: Some(f.name),
        accent: Some((f.no_accent != "on").then_some(f.accent)),
    };
    let result = change_branding(&state, &change, &admin.session.username).await;
    after(&state, &admin, result, "branding", Section::Branding).await
}

/// The logo form: a file to upload, or `remove`, sent as `multipart/form-data` (its CSRF token,
/// a field of it, is checked by the visitor layer like any form's).
pub async fn logo(
    State(state): State<AppState>,
    admin: Admin,
    mut form: axum::extract::Multipart,
) -> AppResult<Response> {
    let section = Section::Branding;
    let (mut file, mut remove) = (None, false);
    loop {
        let next = form.next_field().await;
        let Ok(Some(part)) = next else {
            if next.is_err() {
                return unreadable(&state, &admin, section, "settings-brand-logo-unreadable").await;
            }
            break;
        };
        match part.name().unwrap_or_default() {
            "remove" => remove = part.text().await.is_ok_and(|v| v == "on"),
            "logo" => match part.bytes().await {
                Ok(bytes) if !bytes.is_empty() => file = Some(bytes),
                Ok(_) => {}
                Err(_) => {
                    return unreadable(&state, &admin, section, "settings-brand-logo-too-big")
                        .await;
                }
            },
            _ => {}
        }
    }
    let result = match (remove, &file) {
        (true, _) => set_logo(&state, None, &admin.session.username).await,
        (false, Some(bytes)) => set_logo(&state, Some(bytes), &admin.session.username).await,
        (false, None) => {
            return unreadable(&state, &admin, section, "settings-brand-logo-empty").await;
        }
    };
    after(&state, &admin, result, "logo", section).await
}
