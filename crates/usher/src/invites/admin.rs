//! The owner's invite pages: list with badges and filters, create, detail with every redemption,
//! QR code, disable/enable and delete.

use crate::domain::ids::*;
use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{CreateError, CreateInput, InviteChange, TargetInput};
use crate::domain::rules::{self, Badge};
use crate::state::AppState;
use crate::store::invites::{InviteFilter, InviteRow};
use crate::web::error::Failure;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Form, field, has_field};
use crate::web::visitor::Admin;
use crate::web::{page, picker, ser};

/// An invite as lists and pages show it.
pub fn invite_view(state: &AppState, invite: &InviteRow) -> Value {
    let now = state.clock.now();
    let badges: Vec<&str> = invite
        .facts()
        .badges(now)
        .into_iter()
        .map(Badge::as_str)
        .collect();
    context! {
        invite => ser(invite),
        badges,
        url => super::invite_url(state, &invite.code),
        access_days => invite.access_seconds.map(|s| (s + 86_399) / 86_400),
    }
}

/// A filter from a link; anything unknown shows every invite.
fn parse_filter(s: &str) -> InviteFilter {
    InviteFilter::parse(s).unwrap_or(InviteFilter::All)
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    filter: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    done: String,
    #[serde(default)]
    batch: String,
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Html<String>> {
    let now = state.clock.now();
    let filter = parse_filter(&q.filter);
    let search: String = q.q.chars().take(100).collect();
    let mut invites = state.store.list_invites(filter, &search, now, 500).await?;
    let batch = q
        .batch
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(20)
        .collect::<String>();
    if !batch.is_empty() {
        let ids: Vec<InviteId> = state
            .store
            .batch_invites(&batch)
            .await?
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        invites.retain(|i| ids.contains(&i.id));
    }
    let counts = state.store.invite_counts(now).await?;
    let ids: Vec<InviteId> = invites.iter().map(|i| i.id).collect();
    let names = state.store.invite_server_names(&ids).await?;
    let views: Vec<Value> = invites
        .iter()
        .map(|i| {
            let servers: Vec<String> = names
                .iter()
                .filter(|(id, _)| *id == i.id)
                .map(|(_, name)| name.clone())
                .collect();
            context! { servers, ..invite_view(&state, i) }
        })
        .collect();
    let filter_name = if matches!(filter, InviteFilter::All) {
        "all"
    } else {
        q.filter.as_str()
    };
    page(
        &state,
        &admin.visitor,
        "admin/invites.html",
        context! {
            invites => views,
            counts => ser(counts),
            filter => filter_name,
            q => search,
            done => (q.done == "deleted").then_some("deleted"),
            has_servers => state.store.server_count().await? > 0,
            batch => (!batch.is_empty()).then_some(batch),
        },
    )
}

pub async fn new_form(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    let servers = picker::servers(&state, picker::Start::Defaults, None).await?;
    if servers.is_empty() {
        return Ok(Redirect::to("/admin/servers/new").into_response());
    }
    Ok(page(
        &state,
        &admin.visitor,
        "admin/invite_new.html",
        context! { servers, profiles => ser(state.store.profiles().await?), form => context! { uses => "1", expires => "7d", duration => "", label => "", code => "" }, error => (), chosen => Value::from(()) },
    )?
    .into_response())
}

/// Reads the invite form: the access picker (see [`crate::web::picker::parse`]) and the
/// invite's own fields.
pub(crate) fn parse_form(fields: &[(String, String)]) -> Result<CreateInput, AppError> {
    let get = |name: &str| field(fields, name).to_string();
    let has = |name: &str| has_field(fields, name);
    let mut targets: Vec<TargetInput> = crate::web::picker::parse(fields)?
        .into_iter()
        .map(|(server_id, libraries, permissions)| TargetInput {
            server_id,
            libraries: Some(libraries),
            permissions: Some(permissions),
        })
        .collect();
    let uses = if has("unlimited") {
        "unlimited".into()
    } else {
        get("uses")
    };
    let profile =
        match get("profile").trim() {
            "" => None,
            p => Some(p.parse::<ProfileId>().map_err(|_| {
                AppError::bad_request("profile ids are numbers").with_field("profile")
            })?),
        };
    // A profile brings its own servers; the per-server boxes are for invites without one.
    if profile.is_some() {
        targets.clear();
    }
    Ok(CreateInput {
        profile,
        targets,
        uses,
        expires: get("expires"),
        duration: get("duration"),
        label: get("label"),
        passphrase: get("passphrase"),
        code: get("code"),
    })
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = parse_form(&fields)?;
    let count = field(&fields, "count").trim().to_string();
    let count: u32 = if count.is_empty() {
        1
    } else {
        count.parse().map_err(|_| {
            AppError::bad_request("count is a number from 1 to 500").with_field("count")
        })?
    };
    let result = if count > 1 {
        super::create_many(&state, &input, count, &admin.session.username)
            .await
            .map(|(batch, _)| format!("/admin/invites?batch={batch}"))
    } else {
        super::create(&state, &input, &admin.session.username)
            .await
            .map(|invite| format!("/admin/invites/{}?done=created", invite.code))
    };
    match result {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(CreateError::Store(e)) => {
            tracing::error!(error = %e, "creating an invite failed");
            Err(AppError::internal())
        }
        Err(e) => {
            let chosen: Vec<(String, String)> = fields
                .iter()
                .filter(|(k, _)| k != "csrf" && k != "passphrase")
                .cloned()
                .collect();
            let mut res = page(
                &state,
                &admin.visitor,
                "admin/invite_new.html",
                context! {
                    servers => picker::servers(&state, picker::Start::Chosen(&picker::echo(&picker::parse(&fields)?)), None).await?,
                    profiles => ser(state.store.profiles().await?),
                    form => context! {
                        uses => &input.uses, expires => &input.expires, duration => &input.duration,
                        label => &input.label, code => &input.code,
                    },
                    chosen => ser(chosen),
                    error => context! { key => e.message_key(), detail => e.to_string(), field => e.field() },
                },
            )?
            .into_response();
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

async fn load(state: &AppState, code: &str) -> AppResult<InviteRow> {
    let code = rules::InviteCode::parse(code).ok_or_else(AppError::not_found)?;
    state
        .store
        .invite_by_code(&code)
        .await?
        .ok_or_else(AppError::not_found)
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    done: String,
}

pub async fn detail(
    State(state): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
    Query(q): Query<DetailQuery>,
) -> AppResult<Html<String>> {
    let invite = load(&state, &code).await?;
    let targets = super::target_views(&state.store.invite_targets(invite.id).await?);
    let members = state.store.invite_members(invite.id).await?;
    let grants = state.store.grants_of_invite(invite.id).await?;
    let redemptions: Vec<Value> = members
        .iter()
        .map(|m| {
            let mine: Vec<_> = grants.iter().filter(|g| g.member_id == m.id).collect();
            context! { member => ser(m), grants => ser(mine) }
        })
        .collect();
    let qr = super::super::web::svg::qr(&super::invite_url(&state, &invite.code))
        .map(Value::from_safe_string);
    let notice = ["created", "disabled", "enabled"]
        .into_iter()
        .find(|n| *n == q.done);
    page(
        &state,
        &admin.visitor,
        "admin/invite.html",
        context! {
            ..invite_view(&state, &invite),
            ..context! { targets => ser(&targets), redemptions, qr, notice }
        },
    )
}

pub async fn qr_svg(
    State(state): State<AppState>,
    _admin: Admin,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let invite = load(&state, &code).await?;
    super::qr_response(&state, &invite)
}

async fn change(
    state: &AppState,
    admin: &Admin,
    code: &str,
    change: InviteChange,
) -> AppResult<Response> {
    let invite = load(state, code).await?;
    super::change(state, &invite, change, &admin.session.username).await?;
    let to = match change {
        InviteChange::Delete => "/admin/invites?done=deleted".to_string(),
        _ => format!("/admin/invites/{}?done={}", invite.code, change.done()),
    };
    Ok(Redirect::to(&to).into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
) -> AppResult<Response> {
    change(&state, &admin, &code, InviteChange::Disable).await
}

pub async fn enable(
    State(state): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
) -> AppResult<Response> {
    change(&state, &admin, &code, InviteChange::Enable).await
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
) -> AppResult<Response> {
    change(&state, &admin, &code, InviteChange::Delete).await
}

/// `/admin/invites.csv?batch=…`: a bulk batch (or every invite) as code,link.
pub async fn csv(
    State(state): State<AppState>,
    _admin: Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    Ok(super::csv_response(
        super::csv_text(&state, &q.batch).await?,
    ))
}
