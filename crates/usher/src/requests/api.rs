//! `/api/v1/requests`: the request queue, approvals and declines, and the public form's API.

use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::domain::RequestStatus;
use crate::domain::ids::ProfileId;
use crate::state::AppState;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Json, path_id};

pub(crate) fn request_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("email", string()),
        ("note", nullable(string())),
        ("status", string()),
        ("created_at", time()),
        ("expires_at", time()),
        ("decided_by", nullable(string())),
        ("decided_at", nullable(time())),
        ("outcome", nullable(string())),
    ])
}

fn approve_schema() -> Value {
    let mut s = selection_schema();
    s["properties"]["profile_id"] = nullable(int());
    s
}

pub(crate) fn request_json(r: &crate::store::requests::RequestRow) -> Value {
    json!({
        "id": r.id, "name": r.name, "email": r.email, "note": r.note, "status": r.status,
        "created_at": rfc3339(r.created_at), "expires_at": rfc3339(r.expires_at),
        "decided_by": r.decided_by, "decided_at": r.decided_at.map(rfc3339), "outcome": r.outcome,
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Start from this profile instead of where approvals start (the request settings).
    #[serde(default)]
    profile_id: Option<ProfileId>,
    #[serde(default)]
    servers: Option<Vec<crate::requests::TargetInput>>,
    #[serde(default)]
    duration: Option<String>,
}

pub(crate) async fn requests_list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let page = Page::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    crate::requests::expire(&state).await?;
    let status = match q.status.as_deref().unwrap_or("") {
        "" => None,
        s => Some(RequestStatus::parse(s).ok_or_else(|| {
            AppError::bad_request("status is pending, approved, declined or expired")
                .with_field("status")
        })?),
    };
    let mut all = state.store.requests(100_000).await?;
    all.sort_by_key(|r| std::cmp::Reverse(r.id));
    let rest: Vec<_> = all
        .into_iter()
        .filter(|r| status.is_none_or(|s| r.status == s))
        .filter(|r| page.after.is_none_or(|a| r.id.get() < a))
        .collect();
    let next = (rest.len() as i64 > page.limit)
        .then(|| Page::cursor(rest[page.limit as usize - 1].id.get()));
    Ok(list(
        rest.iter()
            .take(page.limit as usize)
            .map(request_json)
            .collect(),
        next,
    ))
}

pub(crate) async fn requests_approve(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<ApproveBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let selection = crate::requests::chosen_selection(&state, b.profile_id, b.servers, b.duration)
        .await
        .map_err(AppError::from)?;
    let done = crate::requests::approve(&state, id, &selection, &c.actor)
        .await
        .map_err(AppError::from)?;
    Ok(ok(approved_json(&state, id, &done).await?))
}

/// A request just approved, with the member made and (Jellyfin, Emby) the personal invite link.
pub async fn approved_json(
    state: &AppState,
    id: crate::domain::RequestId,
    done: &crate::requests::Approved,
) -> AppResult<Value> {
    let r = state
        .store
        .request(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut v = request_json(&r);
    v["invite_url"] = json!(done.invite_url);
    v["member_id"] = json!(done.member_id);
    Ok(v)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    #[serde(default)]
    reason: Option<String>,
}

pub(crate) async fn requests_decline(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<DeclineBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    crate::requests::decline(&state, id, b.reason.as_deref(), &c.actor)
        .await
        .map_err(AppError::from)?;
    let r = state
        .store
        .request(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(ok(request_json(&r)))
}

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![
        (
            endpoint(
                "get",
                "/api/v1/requests",
                "requests",
                "List access requests",
                REQ_Q,
                None,
                200,
                || page_of(request_schema()),
            ),
            get(requests_list),
        ),
        (
            public(endpoint(
                "post",
                "/api/v1/requests",
                "public",
                "Ask for access, as the request form does (no key; for a guide page on a site in allowed_origins)",
                &[],
                Some(|| {
                    needs(
                        obj(&[
                            ("name", string()),
                            ("email", string()),
                            ("note", string()),
                            ("passphrase", string()),
                            ("website", string()),
                            ("lang", nullable(string())),
                        ]),
                        &["name", "email"],
                    )
                }),
                201,
                || obj(&[("status", string()), ("message", string())]),
            )),
            post(super::public::api_submit),
        ),
        (
            endpoint(
                "post",
                "/api/v1/requests/{id}/approve",
                "requests",
                "Approve a request: where approvals start (the request settings), or a profile, with any servers named instead",
                ID,
                Some(approve_schema),
                200,
                request_schema,
            ),
            post(requests_approve),
        ),
        (
            endpoint(
                "post",
                "/api/v1/requests/{id}/decline",
                "requests",
                "Decline a request",
                ID,
                Some(|| or_null(obj(&[("reason", string())]), &["reason"])),
                200,
                request_schema,
            ),
            post(requests_decline),
        ),
    ]
}
