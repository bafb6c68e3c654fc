//! `/admin/settings/notifications`: the owner's channels, their events and test buttons, and the
//! latest deliveries with their outcome.

use crate::domain::ids::*;
use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use crate::domain::ChannelKind;
use crate::notify::Kind;
use crate::notify::channels::{self, ChannelError, ChannelInput};
use crate::state::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Form, field, path_id};
use crate::web::page;
use crate::web::visitor::Admin;

const BASE: &str = "/admin/settings/notifications";
/// Result notices shown after a redirect; only these keys are ever rendered.
const NOTICES: &[&str] = &["created", "saved", "deleted", "tested"];

pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::OWNER;
    r.get(BASE, OWNER, show)
        .post(BASE, OWNER, create)
        .post("/admin/settings/notifications/{id}", OWNER, update)
        .post("/admin/settings/notifications/{id}/test", OWNER, test)
        .post("/admin/settings/notifications/{id}/secret", OWNER, secret)
        .post("/admin/settings/notifications/{id}/delete", OWNER, delete)
}

/// Back to the page with a notice, at the channel concerned.
fn done(notice: &str, channel: Option<ChannelId>) -> Response {
    let anchor = channel
        .map(|id| format!("#channel-{id}"))
        .unwrap_or_default();
    Redirect::to(&format!("{BASE}?done={notice}{anchor}")).into_response()
}

/// What the page shows besides the channels: a notice, an error (for a channel, or `None` for
/// the new-channel form) and a secret to copy now.
#[derive(Default)]
struct Extras<'a> {
    notice: Option<&'a str>,
    error: Option<(Option<ChannelId>, String)>,
    secret: Option<(ChannelId, String)>,
    status: Option<StatusCode>,
    /// What the new-channel form had, to fill it again after an error.
    form: Option<&'a ChannelInput>,
}

fn kind_options(channel_kind: Option<ChannelKind>, chosen: &[String]) -> Vec<Value> {
    Kind::CHOOSABLE
        .into_iter()
        .filter(|k| channel_kind.is_none_or(|c| k.offered_for(c)))
        .map(|k| {
            context! {
                value => k.as_str(),
                label_key => format!("notify-kind-{}", k.key()),
                checked => chosen.iter().any(|c| c == k.as_str()),
                telegram_excluded => !k.offered_for(ChannelKind::Telegram),
            }
        })
        .collect()
}

async fn render(state: &AppState, admin: &Admin, x: Extras<'_>) -> AppResult<Response> {
    let settings = state.store.settings().await?;
    let channels = state.store.channels().await?;
    let names: std::collections::HashMap<ChannelId, String> =
        channels.iter().map(|c| (c.id, c.name.clone())).collect();
    let views: Vec<Value> = channels
        .iter()
        .map(|c| {
            let chosen = c.event_list();
            context! {
                id => c.id,
                kind => c.kind.as_str(),
                name => &c.name,
                target_hint => &c.target_hint,
                address => &c.address,
                lang => &c.lang,
                enabled => c.enabled,
                events => kind_options(Some(c.kind), &chosen),
                chosen => chosen.iter().filter_map(|e| Kind::parse(e)).map(|k| format!("notify-kind-{}", k.key())).collect::<Vec<_>>(),
            }
        })
        .collect();
    let deliveries: Vec<Value> = state
        .store
        .recent_deliveries(30)
        .await?
        .into_iter()
        .map(|d| {
            let to = match d.channel_id {
                Some(id) => names.get(&id).cloned().unwrap_or_default(),
                None => d.recipient.clone().unwrap_or_default(),
            };
            context! {
                id => d.id,
                to,
                person => d.channel_id.is_none(),
                event_key => Kind::parse(&d.event).map(|k| format!("notify-kind-{}", k.key())),
                event => &d.event,
                state => d.state.as_str(),
                attempts => d.attempts,
                run_at => d.run_at,
                updated_at => d.updated_at,
                error => &d.last_error,
            }
        })
        .collect();
    let form = x.form.cloned().unwrap_or_else(|| ChannelInput {
        kind: ChannelKind::Discord.as_str().into(),
        lang: admin.visitor.lang.to_string(),
        events: Kind::CHOOSABLE
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
        ..Default::default()
    });
    let status = x.status.unwrap_or(if x.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    });
    let mut res = page(
        state,
        &admin.visitor,
        "admin/notifications.html",
        context! {
            channels => views,
            deliveries,
            kinds => ChannelKind::ALL.map(ChannelKind::as_str),
            new => context! {
                kind => &form.kind,
                name => &form.name,
                address => &form.address,
                lang => &form.lang,
                events => kind_options(None, &form.events),
            },
            telegram_ready => settings.telegram.configured(),
            smtp_ready => settings.smtp.configured(),
            notice => x.notice.filter(|n| NOTICES.contains(n)),
            error => x.error.map(|(channel, message)| context! { channel, message }),
            secret => x.secret.map(|(channel, value)| context! { channel, value }),
            max_attempts => crate::notify::deliver::MAX_ATTEMPTS,
        },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    render(
        &state,
        &admin,
        Extras {
            notice: Some(q.done.as_str()),
            ..Default::default()
        },
    )
    .await
}

/// Reads the channel form: `kind`, `name`, `url`, `address`, repeated `event`, `lang`, `enabled`.
fn input_from(fields: &[(String, String)]) -> ChannelInput {
    let get = |n: &str| field(fields, n).trim().to_string();
    ChannelInput {
        kind: get("kind"),
        name: get("name"),
        url: get("url"),
        address: get("address"),
        events: fields
            .iter()
            .filter(|(k, _)| k == "event")
            .map(|(_, v)| v.clone())
            .collect(),
        lang: get("lang"),
        enabled: fields.iter().any(|(k, _)| k == "enabled"),
    }
}

/// What went wrong with the owner's input, in words for the page; anything else is an error
/// page of its own.
fn problem(state: &AppState, admin: &Admin, e: ChannelError) -> Result<String, AppError> {
    match e {
        ChannelError::Invalid { key, .. } => Ok(state.i18n.text(admin.visitor.lang, key)),
        other => Err(other.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = input_from(&fields);
    match channels::create(&state, &input, &admin.session.username).await {
        // The signing secret is shown on this answer only.
        Ok(created) if created.secret.is_some() => {
            render(
                &state,
                &admin,
                Extras {
                    notice: Some("created"),
                    secret: created.secret.map(|s| (created.id, s.expose().to_string())),
                    status: Some(StatusCode::CREATED),
                    ..Default::default()
                },
            )
            .await
        }
        Ok(created) => Ok(done("created", Some(created.id))),
        Err(e) => {
            let message = problem(&state, &admin, e)?;
            render(
                &state,
                &admin,
                Extras {
                    error: Some((None, message)),
                    form: Some(&input),
                    ..Default::default()
                },
            )
            .await
        }
    }
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let input = input_from(&fields);
    match channels::update(&state, id, &input, &admin.session.username).await {
        Ok(()) => Ok(done("saved", Some(id))),
        Err(e) => {
            let message = problem(&state, &admin, e)?;
            render(
                &state,
                &admin,
                Extras {
                    error: Some((Some(id), message)),
                    ..Default::default()
                },
            )
            .await
        }
    }
}

pub async fn test(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    match channels::send_test(&state, id, &admin.session.username).await {
        Ok(Ok(())) => Ok(done("tested", Some(id))),
        Ok(Err(e)) => {
            let message = format!(
                "{} {}",
                state.i18n.text(admin.visitor.lang, "notify-test-failed"),
                e.message
            );
            render(
                &state,
                &admin,
                Extras {
                    error: Some((Some(id), message)),
                    status: Some(StatusCode::BAD_GATEWAY),
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn secret(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    match channels::new_secret(&state, id, &admin.session.username).await {
        Ok(value) => {
            render(
                &state,
                &admin,
                Extras {
                    secret: Some((id, value)),
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    if form.confirm != "yes" {
        return Err(AppError::bad_request(
            state
                .i18n
                .text(admin.visitor.lang, "notify-delete-unconfirmed"),
        )
        .with_field("confirm"));
    }
    match channels::delete(&state, id, &admin.session.username).await {
        Ok(()) => Ok(done("deleted", None)),
        Err(e) => Err(e.into()),
    }
}
