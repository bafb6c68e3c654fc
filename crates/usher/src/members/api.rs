//! `/api/v1/members`: members, their grants and when access ends.

use crate::domain::ids::*;
use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::state::AppState;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Json, path_id};

pub(crate) fn grant_schema() -> Value {
    obj(&[
        ("id", int()),
        ("server", string()),
        ("kind", string()),
        ("status", string()),
        ("account", string()),
        ("libraries", arr(string())),
        ("expires_at", nullable(time())),
        ("last_error", nullable(string())),
        ("permissions", permissions()),
    ])
}

pub(crate) fn member_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("email", nullable(string())),
        ("origin", string()),
        ("invite_code", nullable(string())),
        ("notes", nullable(string())),
        ("created_at", time()),
        ("grants", arr(grant_schema())),
    ])
}

pub(crate) fn grant_json(g: &crate::store::invites::GrantRow) -> Value {
    json!({
        "id": g.id, "server": g.server_name, "kind": g.server_kind, "status": g.status, "account": g.identity,
        // Unreadable stored libraries are `null` (unknown), never an empty list.
        "libraries": g.library_ids().ok(),
        "expires_at": g.expires_at.map(rfc3339), "last_error": g.last_error,
        "permissions": g.permission_set().ok(),
    })
}

pub(crate) fn member_json(
    m: &crate::store::invites::MemberRow,
    grants: &[&crate::store::invites::GrantRow],
) -> Value {
    json!({
        "id": m.id, "name": m.display_name, "email": m.email, "origin": m.origin,
        "invite_code": m.invite_code, "notes": m.notes, "created_at": rfc3339(m.created_at),
        "grants": grants.iter().map(|g| grant_json(g)).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryBody {
    /// RFC 3339 or a date; null clears it.
    expires_at: Option<String>,
}

/// The member list's filters, as the Members page has them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MembersQuery {
    limit: Option<String>,
    cursor: Option<String>,
    q: Option<String>,
    status: Option<String>,
    server: Option<String>,
    origin: Option<String>,
    sort: Option<String>,
    order: Option<String>,
}

pub(crate) async fn members_list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<MembersQuery>,
) -> AppResult<Response> {
    let page = Page::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let offset = page.after.unwrap_or(0).max(0);
    let server_id = match q.server.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<ServerId>()
                .ok()
                .filter(|id| id.get() > 0)
                .ok_or_else(|| {
                    AppError::bad_request("server is a server id").with_field("server")
                })?,
        ),
    };
    let filters = crate::members::ListFilters {
        search: q.q.unwrap_or_default(),
        status: q.status,
        server_id,
        origin: q.origin,
        sort: q.sort,
        order: q.order,
    };
    let query = filters.query(page.limit, offset)?;
    let (rows, total) = state.store.list_members(&query).await?;
    let ids: Vec<MemberId> = rows.iter().map(|r| r.member.id).collect();
    let grants = state.store.grants_of_members(&ids).await?;
    let items = rows
        .iter()
        .map(|r| {
            member_json(
                &r.member,
                &grants
                    .iter()
                    .filter(|g| g.grant.member_id == r.member.id)
                    .map(|g| &g.grant)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let next = (offset + page.limit < total).then(|| Page::cursor(offset + page.limit));
    Ok(list(items, next))
}

pub(crate) async fn members_get(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let m = state
        .store
        .member(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let grants = state.store.member_grants(id).await?;
    Ok(ok(member_json(&m, &grants.iter().collect::<Vec<_>>())))
}

pub(crate) async fn members_expiry(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<ExpiryBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let change = match b.expires_at.as_deref().map(str::trim) {
        None | Some("") | Some("never") => crate::members::ExpiryChange::Clear,
        Some(raw) => {
            let at =
                time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
                    .map(|t| t.unix_timestamp())
                    .ok()
                    .or_else(|| {
                        crate::domain::rules::parse_expiry(raw, state.clock.now())
                            .ok()
                            .flatten()
                    })
                    .ok_or_else(|| {
                        AppError::new(
                            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                            "invalid",
                            "error-bad-request",
                        )
                        .with_detail(
                            "expires_at is an RFC 3339 time, a date like 2026-12-31, or null",
                        )
                        .with_field("expires_at")
                    })?;
            crate::members::ExpiryChange::Set(at)
        }
    };
    crate::members::change_expiry(&state, id, change, &c.actor).await?;
    members_get(State(state), c, Path(id.to_string())).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotesBody {
    /// `""` clears them.
    notes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessBody {
    /// Sharing ids of every library the member keeps or gets on that server.
    libraries: Vec<String>,
    /// Changes to the grant's permissions; what is left out stays.
    #[serde(default)]
    permissions: crate::domain::access::PermissionChanges,
}

pub(crate) async fn members_notes(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<NotesBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    crate::members::set_notes(&state, id, &b.notes, &c.actor).await?;
    members_get(State(state), c, Path(id.to_string())).await
}

pub(crate) async fn members_access(
    State(state): State<AppState>,
    c: ApiCaller,
    Path((id, grant)): Path<(String, String)>,
    Json(b): Json<AccessBody>,
) -> AppResult<Response> {
    let (id, grant) = (path_id(&id)?, path_id(&grant)?);
    let input = crate::members::AccessInput {
        libraries: b.libraries,
        changes: b.permissions,
    };
    crate::members::change_access(&state, id, grant, &input, &c.actor).await?;
    members_get(State(state), c, Path(id.to_string())).await
}

async fn pause_or_resume(
    state: AppState,
    c: ApiCaller,
    (id, grant): (String, String),
    disabled: bool,
) -> AppResult<Response> {
    let (id, grant) = (path_id(&id)?, path_id(&grant)?);
    crate::members::set_paused(&state, id, grant, disabled, &c.actor).await?;
    members_get(State(state), c, Path(id.to_string())).await
}

pub(crate) async fn members_pause(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(ids): Path<(String, String)>,
) -> AppResult<Response> {
    pause_or_resume(state, c, ids, true).await
}

pub(crate) async fn members_resume(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(ids): Path<(String, String)>,
) -> AppResult<Response> {
    pause_or_resume(state, c, ids, false).await
}

pub(crate) async fn members_remove_grant(
    State(state): State<AppState>,
    c: ApiCaller,
    Path((id, grant)): Path<(String, String)>,
) -> AppResult<Response> {
    let (id, grant) = (path_id(&id)?, path_id(&grant)?);
    crate::members::remove_grant(&state, id, grant, &c.actor).await?;
    members_get(State(state), c, Path(id.to_string())).await
}

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![
        (
            endpoint(
                "get",
                "/api/v1/members",
                "members",
                "List members with their grants",
                MEMBER_Q,
                None,
                200,
                || page_of(member_schema()),
            ),
            get(members_list),
        ),
        (
            endpoint(
                "get",
                "/api/v1/members/{id}",
                "members",
                "One member with their grants",
                ID,
                None,
                200,
                member_schema,
            ),
            get(members_get),
        ),
        (
            endpoint(
                "post",
                "/api/v1/members/{id}/expiry",
                "members",
                "Set or clear when a member's access ends",
                ID,
                // An RFC 3339 time, a date like 2026-12-31 (the end of that day, UTC), "never" or null.
                Some(|| obj(&[("expires_at", nullable(string()))])),
                200,
                member_schema,
            ),
            post(members_expiry),
        ),
        (
            endpoint(
                "post",
                "/api/v1/members/{id}/grants/{grant}/remove",
                "members",
                "Remove a member's access on one server",
                GRANT,
                None,
                200,
                member_schema,
            ),
            post(members_remove_grant),
        ),
        (
            endpoint(
                "put",
                "/api/v1/members/{id}/notes",
                "members",
                "The owner's private notes on a member",
                ID,
                Some(|| needs(obj(&[("notes", string())]), &["notes"])),
                200,
                member_schema,
            ),
            put(members_notes),
        ),
        (
            endpoint(
                "put",
                "/api/v1/members/{id}/grants/{grant}/access",
                "members",
                "Change a member's libraries and permissions on one server (pushed to the server)",
                GRANT,
                Some(|| {
                    needs(
                        obj(&[
                            ("libraries", arr(string())),
                            ("permissions", permission_changes()),
                        ]),
                        &["libraries"],
                    )
                }),
                200,
                member_schema,
            ),
            put(members_access),
        ),
        (
            endpoint(
                "post",
                "/api/v1/members/{id}/grants/{grant}/pause",
                "members",
                "Pause a member's access on one server (where the server can pause)",
                GRANT,
                None,
                200,
                member_schema,
            ),
            post(members_pause),
        ),
        (
            endpoint(
                "post",
                "/api/v1/members/{id}/grants/{grant}/resume",
                "members",
                "Resume a paused member's access on one server",
                GRANT,
                None,
                200,
                member_schema,
            ),
            post(members_resume),
        ),
    ]
}
