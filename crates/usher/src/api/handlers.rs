//! The API's endpoints: thin adapters over the same services the web pages use.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::spec::{arr, boolean, int, nullable, obj, string, time};
use super::{ApiCaller, Endpoint, Page};
use crate::clock::rfc3339;
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Json, path_id};

fn created(v: Value) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

fn list(items: Vec<Value>, next: Option<String>) -> Response {
    ok(json!({ "items": items, "next_cursor": next }))
}

// --- schemas -----------------------------------------------------------------------------------

fn server_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("kind", string()),
        ("url", string()),
        ("status", string()),
        ("status_message", nullable(string())),
        ("version", nullable(string())),
        ("library_count", int()),
        ("checked_at", nullable(time())),
    ])
}

fn library_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("type", string()),
        ("sharing_id", string()),
        ("offered", boolean()),
        ("default", boolean()),
        ("present", boolean()),
    ])
}

fn invite_schema() -> Value {
    obj(&[
        ("code", string()),
        ("url", string()),
        ("label", nullable(string())),
        ("used", int()),
        ("max_uses", nullable(int())),
        ("expires_at", nullable(time())),
        ("access_days", nullable(int())),
        ("disabled", boolean()),
        ("badges", arr(string())),
        ("created_at", time()),
    ])
}

fn grant_schema() -> Value {
    obj(&[
        ("id", int()),
        ("server", string()),
        ("kind", string()),
        ("status", string()),
        ("account", string()),
        ("libraries", arr(string())),
        ("expires_at", nullable(time())),
        ("last_error", nullable(string())),
    ])
}

fn member_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("email", nullable(string())),
        ("origin", string()),
        ("invite_code", nullable(string())),
        ("created_at", time()),
        ("grants", arr(grant_schema())),
    ])
}

fn request_schema() -> Value {
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

fn page_of(item: Value) -> Value {
    obj(&[("items", arr(item)), ("next_cursor", nullable(string()))])
}

fn selection_schema() -> Value {
    obj(&[
        (
            "servers",
            arr(obj(&[
                ("server_id", int()),
                ("libraries", arr(string())),
                ("permissions", super::spec::permissions()),
            ])),
        ),
        ("duration", string()),
    ])
}

// --- conversions -------------------------------------------------------------------------------

fn server_json(s: &crate::store::servers::ServerSummary) -> Value {
    json!({
        "id": s.server.id, "name": s.server.name, "kind": s.server.kind, "url": s.server.url,
        "status": s.server.status, "status_message": s.server.status_message, "version": s.server.version,
        "library_count": s.library_count, "checked_at": s.server.checked_at.map(rfc3339),
    })
}

fn invite_json(state: &AppState, i: &crate::store::invites::InviteRow) -> Value {
    json!({
        "code": i.code, "url": crate::invites::invite_url(state, &i.code), "label": i.label,
        "used": i.used, "max_uses": i.max_uses, "expires_at": i.expires_at.map(rfc3339),
        "access_days": i.access_seconds.map(|s| (s + 86_399) / 86_400), "disabled": i.disabled,
        "badges": i.facts().badges(state.clock.now()).iter().map(|b| b.as_str()).collect::<Vec<_>>(),
        "created_at": rfc3339(i.created_at),
    })
}

fn grant_json(g: &crate::store::invites::GrantRow) -> Value {
    json!({
        "id": g.id, "server": g.server_name, "kind": g.server_kind, "status": g.status, "account": g.identity,
        // Unreadable stored libraries are `null` (unknown), never an empty list.
        "libraries": g.library_ids().ok(),
        "expires_at": g.expires_at.map(rfc3339), "last_error": g.last_error,
    })
}

fn member_json(
    m: &crate::store::invites::MemberRow,
    grants: &[&crate::store::invites::GrantRow],
) -> Value {
    json!({
        "id": m.id, "name": m.display_name, "email": m.email, "origin": m.origin,
        "invite_code": m.invite_code, "created_at": rfc3339(m.created_at),
        "grants": grants.iter().map(|g| grant_json(g)).collect::<Vec<_>>(),
    })
}

fn request_json(r: &crate::store::requests::RequestRow) -> Value {
    json!({
        "id": r.id, "name": r.name, "email": r.email, "note": r.note, "status": r.status,
        "created_at": rfc3339(r.created_at), "expires_at": rfc3339(r.expires_at),
        "decided_by": r.decided_by, "decided_at": r.decided_at.map(rfc3339), "outcome": r.outcome,
    })
}

fn server_error(e: crate::servers::ServerError) -> AppError {
    use crate::servers::ServerError as E;
    let (key, detail) = e.explain();
    let (status, code, field) = match &e {
        E::Invalid { field, .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(*field)),
        E::NameTaken => (StatusCode::CONFLICT, "name_taken", Some("name")),
        E::KindMismatch(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "kind_mismatch",
            Some("kind"),
        ),
        E::Media(_) => (StatusCode::BAD_GATEWAY, "server_refused", None),
        E::NotFound => return AppError::not_found(),
        E::TokenUnreadable => (StatusCode::CONFLICT, "token_unreadable", None),
        E::Store(_) => return AppError::internal(),
    };
    let mut err = AppError::new(status, code, key);
    if let Some(d) = detail {
        err = err.with_detail(d);
    }
    err.field = field;
    err
}

// --- handlers ----------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct ListQuery {
    limit: Option<String>,
    cursor: Option<String>,
    q: Option<String>,
    filter: Option<String>,
    status: Option<String>,
}

async fn servers_list(State(state): State<AppState>, _c: ApiCaller) -> AppResult<Response> {
    let servers = state.store.servers().await?;
    Ok(list(servers.iter().map(server_json).collect(), None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerBody {
    kind: String,
    name: String,
    url: String,
    token: String,
}

async fn servers_add(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<ServerBody>,
) -> AppResult<Response> {
    let input = crate::servers::ServerInput {
        kind: b.kind,
        name: b.name,
        url: b.url,
        token: b.token.into(),
    };
    let id = crate::servers::add(&state, &input, &c.actor)
        .await
        .map_err(server_error)?;
    let s = state
        .store
        .server_summary(id)
        .await?
        .ok_or_else(AppError::internal)?;
    Ok(created(server_json(&s)))
}

async fn servers_get(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let s = state
        .store
        .server_summary(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(ok(server_json(&s)))
}

async fn servers_test(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let p = crate::servers::test(&state, id)
        .await
        .map_err(server_error)?;
    Ok(ok(
        json!({"ok": true, "name": p.info.name, "version": p.info.version, "libraries": p.libraries.len(), "warning": p.info.warning}),
    ))
}

async fn servers_scan(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    crate::servers::scan(&state, id)
        .await
        .map_err(server_error)?;
    libraries_of(&state, id).await
}

async fn libraries_of(state: &AppState, id: i64) -> AppResult<Response> {
    state
        .store
        .server(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let libs = state.store.libraries(id).await?;
    let items = libs
        .iter()
        .map(|l| json!({"id": l.id, "name": l.name, "type": l.kind, "sharing_id": l.remote_id, "offered": l.enabled, "default": l.is_default, "present": l.present}))
        .collect();
    Ok(list(items, None))
}

async fn servers_libraries(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    libraries_of(&state, path_id(&id)?).await
}

async fn servers_remove(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    crate::servers::remove(&state, path_id(&id)?, &c.actor)
        .await
        .map_err(server_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn invites_list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    use crate::store::invites::InviteFilter as F;
    let page = Page::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = match q.filter.as_deref().unwrap_or("all") {
        "all" => F::All,
        "active" => F::Active,
        "redeemed" => F::Redeemed,
        "expired" => F::Expired,
        "used_up" => F::UsedUp,
        "disabled" => F::Disabled,
        _ => {
            return Err(AppError::bad_request(
                "filter is all, active, redeemed, expired, used_up or disabled",
            )
            .with_field("filter"));
        }
    };
    let all = state
        .store
        .list_invites(
            filter,
            q.q.as_deref().unwrap_or(""),
            state.clock.now(),
            100_000,
        )
        .await?;
    let rest: Vec<_> = all
        .into_iter()
        .filter(|i| page.after.is_none_or(|a| i.id < a))
        .collect();
    let next =
        (rest.len() as i64 > page.limit).then(|| Page::cursor(rest[page.limit as usize - 1].id));
    let items = rest
        .iter()
        .take(page.limit as usize)
        .map(|i| invite_json(&state, i))
        .collect();
    Ok(list(items, next))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteTarget {
    server_id: i64,
    #[serde(default)]
    libraries: Option<Vec<String>>,
    /// Changes to where the grant starts (the server's defaults, or on an approval the request
    /// profile's choice); what is left out stays.
    #[serde(default)]
    permissions: Option<crate::access::PermissionChanges>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    servers: Vec<InviteTarget>,
    #[serde(default)]
    uses: Option<Value>,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    duration: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    passphrase: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

async fn invites_create(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<InviteBody>,
) -> AppResult<Response> {
    let uses = match b.uses {
        None => "1".to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(
                AppError::bad_request("uses is a number or \"unlimited\"").with_field("uses")
            );
        }
    };
    let input = crate::invites::CreateInput {
        targets: b
            .servers
            .into_iter()
            .map(|t| crate::invites::TargetInput {
                server_id: t.server_id,
                libraries: t.libraries,
                permissions: t.permissions,
            })
            .collect(),
        uses,
        expires: b.expires.unwrap_or_else(|| "7d".into()),
        duration: b.duration.unwrap_or_default(),
        label: b.label.unwrap_or_default(),
        passphrase: b.passphrase.unwrap_or_default(),
        code: b.code.unwrap_or_default(),
        profile: None,
    };
    match crate::invites::create(&state, &input, &c.actor).await {
        Ok(invite) => Ok(created(invite_json(&state, &invite))),
        Err(crate::invites::CreateError::Store(_)) => Err(AppError::internal()),
        Err(e) => {
            let status = if matches!(e, crate::invites::CreateError::CodeTaken(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut err =
                AppError::new(status, "invalid", "error-bad-request").with_detail(e.to_string());
            err.field = Some(e.field()).filter(|f| !f.is_empty());
            Err(err)
        }
    }
}

async fn invite_load(state: &AppState, code: &str) -> AppResult<crate::store::invites::InviteRow> {
    let code = crate::invites::rules::normalize_code(code).ok_or_else(AppError::not_found)?;
    state
        .store
        .invite_by_code(&code)
        .await?
        .ok_or_else(AppError::not_found)
}

async fn invites_redemptions(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let invite = invite_load(&state, &code).await?;
    let members = state.store.invite_members(invite.id).await?;
    let grants = state.store.grants_of_invite(invite.id).await?;
    let items = members
        .iter()
        .map(|m| {
            member_json(
                m,
                &grants
                    .iter()
                    .filter(|g| g.member_id == m.id)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let mut v = invite_json(&state, &invite);
    v["redemptions"] = Value::Array(items);
    Ok(ok(v))
}

async fn invites_set(
    state: &AppState,
    actor: &str,
    code: &str,
    change: crate::invites::InviteChange,
) -> AppResult<Response> {
    let invite = invite_load(state, code).await?;
    crate::invites::change(state, &invite, change, actor).await?;
    if change == crate::invites::InviteChange::Delete {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let fresh = invite_load(state, code).await?;
    Ok(ok(invite_json(state, &fresh)))
}

async fn invites_disable(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    invites_set(
        &state,
        &c.actor,
        &code,
        crate::invites::InviteChange::Disable,
    )
    .await
}

async fn invites_enable(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    invites_set(
        &state,
        &c.actor,
        &code,
        crate::invites::InviteChange::Enable,
    )
    .await
}

async fn invites_delete(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    invites_set(
        &state,
        &c.actor,
        &code,
        crate::invites::InviteChange::Delete,
    )
    .await
}

async fn requests_list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let page = Page::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    crate::requests::expire(&state).await?;
    let status = q.status.as_deref().unwrap_or("");
    if !["", "pending", "approved", "declined", "expired"].contains(&status) {
        return Err(
            AppError::bad_request("status is pending, approved, declined or expired")
                .with_field("status"),
        );
    }
    let mut all = state.store.requests(100_000).await?;
    all.sort_by_key(|r| std::cmp::Reverse(r.id));
    let rest: Vec<_> = all
        .into_iter()
        .filter(|r| status.is_empty() || r.status == status)
        .filter(|r| page.after.is_none_or(|a| r.id < a))
        .collect();
    let next =
        (rest.len() as i64 > page.limit).then(|| Page::cursor(rest[page.limit as usize - 1].id));
    Ok(list(
        rest.iter()
            .take(page.limit as usize)
            .map(request_json)
            .collect(),
        next,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    #[serde(default)]
    servers: Option<Vec<InviteTarget>>,
    #[serde(default)]
    duration: Option<String>,
}

fn decide_error(e: crate::requests::DecideError) -> AppError {
    use crate::requests::DecideError as E;
    match e {
        E::NotFound => AppError::not_found(),
        E::Store(_) => AppError::internal(),
        E::AlreadyDecided(s) => {
            AppError::new(StatusCode::CONFLICT, "already_decided", "error-bad-request")
                .with_detail(format!("the request is already {s}"))
        }
        E::Refused { server, message } => AppError::new(
            StatusCode::BAD_GATEWAY,
            "server_refused",
            "error-bad-request",
        )
        .with_detail(format!("{server}: {message}")),
        other => AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "error-bad-request",
        )
        .with_detail(other.to_string()),
    }
}

async fn requests_approve(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<ApproveBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let settings = crate::settings::load(&state.store).await?;
    let mut selection = crate::requests::starting_selection(&state, &settings).await?;
    if let Some(servers) = b.servers {
        let mut chosen = Vec::new();
        for t in servers {
            let server = state.store.server(t.server_id).await?.ok_or_else(|| {
                AppError::bad_request(format!("no server {}", t.server_id)).with_field("servers")
            })?;
            let start = selection.servers.iter().find(|s| s.server_id == server.id);
            let libraries = match t.libraries {
                Some(l) => l,
                None => start.map(|s| s.libraries.clone()).unwrap_or_default(),
            };
            let base = start
                .map(|s| s.permissions.clone())
                .unwrap_or_else(|| crate::access::server_defaults(&server));
            let permissions = t
                .permissions
                .unwrap_or_default()
                .applied_to(&base, server.kind.is_plex())
                .map_err(|e| {
                    AppError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid",
                        "error-bad-request",
                    )
                    .with_detail(format!("{}: {e}", server.name))
                    .with_field(e.field())
                })?;
            chosen.push(crate::requests::ServerChoice {
                server_id: server.id,
                libraries,
                permissions,
            });
        }
        selection.servers = chosen;
    }
    if let Some(d) = b.duration {
        selection.duration = d;
    }
    let done = crate::requests::approve(&state, id, &selection, &c.actor)
        .await
        .map_err(decide_error)?;
    crate::telegram::show_outcome_later(&state, id);
    let r = state
        .store
        .request(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut v = request_json(&r);
    v["invite_url"] = json!(done.invite_url);
    v["member_id"] = json!(done.member_id);
    Ok(ok(v))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    #[serde(default)]
    reason: Option<String>,
}

async fn requests_decline(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<DeclineBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    crate::requests::decline(&state, id, b.reason.as_deref(), &c.actor)
        .await
        .map_err(decide_error)?;
    crate::telegram::show_outcome_later(&state, id);
    let r = state
        .store
        .request(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(ok(request_json(&r)))
}

async fn members_list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let page = Page::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let offset = page.after.unwrap_or(0).max(0);
    let query = crate::store::members::MemberQuery {
        search: q.q.unwrap_or_default().chars().take(100).collect(),
        limit: page.limit,
        offset,
        ..Default::default()
    };
    let (rows, total) = state.store.list_members(&query).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.member.id).collect();
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

async fn members_get(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryBody {
    /// RFC 3339 or a date; null clears it.
    expires_at: Option<String>,
}

async fn members_expiry(
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
                        crate::invites::rules::parse_expiry(raw, state.clock.now())
                            .ok()
                            .flatten()
                    })
                    .ok_or_else(|| {
                        AppError::bad_request(
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

async fn members_remove_grant(
    State(state): State<AppState>,
    c: ApiCaller,
    Path((id, grant)): Path<(String, String)>,
) -> AppResult<Response> {
    let (id, grant) = (path_id(&id)?, path_id(&grant)?);
    crate::members::remove_grant(&state, id, grant, &c.actor).await?;
    members_get(State(state), c, Path(id.to_string())).await
}

async fn events_list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let page = Page::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let rows = state.store.events_page(page.after, page.limit + 1).await?;
    let next =
        (rows.len() as i64 > page.limit).then(|| Page::cursor(rows[page.limit as usize - 1].id));
    let items = rows
        .iter()
        .take(page.limit as usize)
        .map(|e| json!({"id": e.id, "at": rfc3339(e.at), "actor": e.actor, "action": e.action, "subject": e.subject, "detail": e.detail}))
        .collect();
    Ok(list(items, next))
}

async fn stats(State(state): State<AppState>, _c: ApiCaller) -> AppResult<Response> {
    let now = state.clock.now();
    let counts = state.store.invite_counts(now).await?;
    Ok(ok(json!({
        "invites": counts,
        "pending_requests": state.store.pending_request_count().await?,
        "redeemed_7_days": state.store.redemptions_since(now - 7 * 86_400).await?,
        "redeemed_30_days": state.store.redemptions_since(now - 30 * 86_400).await?,
        "members_per_server": state.store.members_per_server().await?.into_iter().map(|(s, n)| json!({"server": s, "members": n})).collect::<Vec<_>>(),
    })))
}

fn channel_json(c: &crate::store::notify::ChannelRow) -> Value {
    json!({
        "id": c.id, "kind": c.kind, "name": c.name, "target": c.target_hint, "address": c.address,
        "events": c.event_list(), "lang": c.lang, "enabled": c.enabled,
        "has_secret": c.secret_sealed.is_some(), "created_at": rfc3339(c.created_at),
    })
}

async fn channels_list(State(state): State<AppState>, _c: ApiCaller) -> AppResult<Response> {
    let channels = state.store.channels().await?;
    Ok(list(channels.iter().map(channel_json).collect(), None))
}

async fn channels_test(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    match crate::notify::channels::send_test(&state, id, &c.actor).await {
        Ok(Ok(())) => Ok(ok(json!({"sent": true}))),
        Ok(Err(e)) => Err(AppError::new(
            StatusCode::BAD_GATEWAY,
            "delivery_failed",
            "error-bad-request",
        )
        .with_detail(e.to_string())),
        Err(crate::notify::channels::ChannelError::NotFound) => Err(AppError::not_found()),
        Err(e) => Err(AppError::bad_request(e.to_string())),
    }
}

async fn settings_get(State(state): State<AppState>, _c: ApiCaller) -> AppResult<Response> {
    let s = crate::settings::load(&state.store).await?;
    // Secrets are write-only: only whether one is set.
    Ok(ok(json!({
        "owner_name": s.owner_name,
        "request_app_url": s.request_app_url,
        "community_url": s.community_url,
        "requests": {
            "enabled": s.requests.enabled, "servers": s.requests.servers, "auto_approve": s.requests.auto_approve,
            "has_passphrase": s.requests.passphrase_hash.is_some(), "expiry_hours": s.requests.expiry_hours,
            "access_duration": s.requests.access_duration, "per_ip_per_hour": s.requests.per_ip_per_hour,
        },
        "telegram": { "has_token": s.telegram.token_sealed.is_some(), "allowed_ids": s.telegram.allowed_ids, "chat_id": s.telegram.chat_id, "mode": s.telegram.mode },
        "smtp": { "host": s.smtp.host, "port": s.smtp.port, "security": s.smtp.security, "username": s.smtp.username, "has_password": s.smtp.password_sealed.is_some(), "from": s.smtp.from },
    })))
}

// One line per endpoint reads best as a table; a builder would hide the columns.
#[allow(clippy::too_many_arguments)]
fn e(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    params: &'static [(&'static str, &'static str, &'static str)],
    body: Option<fn() -> Value>,
    status: u16,
    response: fn() -> Value,
) -> Endpoint {
    Endpoint {
        method,
        path,
        tag,
        summary,
        public: false,
        params,
        body,
        status,
        response,
    }
}

const ID: &[(&str, &str, &str)] = &[("id", "path", "the numeric id")];
const CODE: &[(&str, &str, &str)] = &[("code", "path", "the invite code (any case)")];
const PAGED: &[(&str, &str, &str)] = &[
    ("limit", "query", "1–500, default 50"),
    ("cursor", "query", "next_cursor of the previous page"),
];
const PAGED_Q: &[(&str, &str, &str)] = &[
    ("limit", "query", "1–500, default 50"),
    ("cursor", "query", "next_cursor of the previous page"),
    ("q", "query", "search text"),
    (
        "filter",
        "query",
        "all, active, redeemed, expired, used_up or disabled",
    ),
];
const REQ_Q: &[(&str, &str, &str)] = &[
    ("limit", "query", "1–500, default 50"),
    ("cursor", "query", "next_cursor of the previous page"),
    ("status", "query", "pending, approved, declined or expired"),
];
const MEMBER_Q: &[(&str, &str, &str)] = &[
    ("limit", "query", "1–500, default 50"),
    ("cursor", "query", "next_cursor of the previous page"),
    (
        "q",
        "query",
        "search name, email, user name or Plex account",
    ),
];
const GRANT: &[(&str, &str, &str)] = &[
    ("id", "path", "the member id"),
    ("grant", "path", "the grant id"),
];

pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    use crate::invites::public as p;
    let public = |mut e: Endpoint| {
        e.public = true;
        e
    };
    vec![
        (
            e(
                "get",
                "/api/v1/servers",
                "servers",
                "List connected servers",
                &[],
                None,
                200,
                || page_of(server_schema()),
            ),
            get(servers_list),
        ),
        (
            e(
                "post",
                "/api/v1/servers",
                "servers",
                "Connect a server (checked before it is saved)",
                &[],
                Some(|| {
                    obj(&[
                        ("kind", string()),
                        ("name", string()),
                        ("url", string()),
                        ("token", string()),
                    ])
                }),
                201,
                server_schema,
            ),
            post(servers_add),
        ),
        (
            e(
                "get",
                "/api/v1/servers/{id}",
                "servers",
                "One server",
                ID,
                None,
                200,
                server_schema,
            ),
            get(servers_get),
        ),
        (
            e(
                "delete",
                "/api/v1/servers/{id}",
                "servers",
                "Remove a server from usher",
                ID,
                None,
                204,
                || json!({}),
            ),
            delete(servers_remove),
        ),
        (
            e(
                "post",
                "/api/v1/servers/{id}/test",
                "servers",
                "Test the connection",
                ID,
                None,
                200,
                || {
                    obj(&[
                        ("ok", boolean()),
                        ("name", string()),
                        ("version", string()),
                        ("libraries", int()),
                        ("warning", nullable(string())),
                    ])
                },
            ),
            post(servers_test),
        ),
        (
            e(
                "post",
                "/api/v1/servers/{id}/scan",
                "servers",
                "Rescan libraries",
                ID,
                None,
                200,
                || page_of(library_schema()),
            ),
            post(servers_scan),
        ),
        (
            e(
                "get",
                "/api/v1/servers/{id}/libraries",
                "servers",
                "A server's libraries with sharing ids",
                ID,
                None,
                200,
                || page_of(library_schema()),
            ),
            get(servers_libraries),
        ),
        (
            e(
                "get",
                "/api/v1/invites",
                "invites",
                "List invites",
                PAGED_Q,
                None,
                200,
                || page_of(invite_schema()),
            ),
            get(invites_list),
        ),
        (
            e(
                "post",
                "/api/v1/invites",
                "invites",
                "Create an invite",
                &[],
                Some(|| {
                    obj(&[
                        (
                            "servers",
                            arr(obj(&[
                                ("server_id", int()),
                                ("libraries", arr(string())),
                                ("permissions", super::spec::permissions()),
                            ])),
                        ),
                        ("uses", string()),
                        ("expires", string()),
                        ("duration", string()),
                        ("label", string()),
                        ("passphrase", string()),
                        ("code", string()),
                    ])
                }),
                201,
                invite_schema,
            ),
            post(invites_create),
        ),
        (
            public(e(
                "get",
                "/api/v1/invites/{code}",
                "public",
                "Whether a code works and what it grants (no key needed)",
                CODE,
                None,
                200,
                || {
                    obj(&[
                        ("code", string()),
                        ("valid", boolean()),
                        ("uses_left", nullable(int())),
                        (
                            "servers",
                            arr(obj(&[
                                ("name", string()),
                                ("kind", string()),
                                ("libraries", arr(string())),
                            ])),
                        ),
                    ])
                },
            )),
            get(p::api_show),
        ),
        (
            public(e(
                "post",
                "/api/v1/invites/{code}/redeem",
                "public",
                "Redeem an invite (no key needed)",
                CODE,
                Some(|| {
                    obj(&[
                        ("email", string()),
                        ("plex_username", string()),
                        ("username", string()),
                        ("password", string()),
                        ("passphrase", string()),
                        ("accept_rules", boolean()),
                    ])
                }),
                201,
                || {
                    obj(&[
                        (
                            "member",
                            obj(&[
                                ("id", int()),
                                ("name", string()),
                                ("expires_at", nullable(time())),
                            ]),
                        ),
                        ("setting_up", boolean()),
                        (
                            "grants",
                            arr(obj(&[
                                ("server", string()),
                                ("kind", string()),
                                ("status", string()),
                                ("account", string()),
                            ])),
                        ),
                    ])
                },
            )),
            post(p::api_redeem),
        ),
        (
            e(
                "get",
                "/api/v1/invites/{code}/redemptions",
                "invites",
                "An invite with everyone who redeemed it",
                CODE,
                None,
                200,
                || {
                    let mut v = invite_schema();
                    v["properties"]["redemptions"] = arr(member_schema());
                    v
                },
            ),
            get(invites_redemptions),
        ),
        (
            e(
                "post",
                "/api/v1/invites/{code}/disable",
                "invites",
                "Switch an invite off",
                CODE,
                None,
                200,
                invite_schema,
            ),
            post(invites_disable),
        ),
        (
            e(
                "post",
                "/api/v1/invites/{code}/enable",
                "invites",
                "Switch an invite on",
                CODE,
                None,
                200,
                invite_schema,
            ),
            post(invites_enable),
        ),
        (
            e(
                "delete",
                "/api/v1/invites/{code}",
                "invites",
                "Delete an invite (members keep access)",
                CODE,
                None,
                204,
                || json!({}),
            ),
            delete(invites_delete),
        ),
        (
            e(
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
            public(e(
                "post",
                "/api/v1/requests",
                "public",
                "Ask for access, as the request form does (no key; for a guide page on a site in allowed_origins)",
                &[],
                Some(|| {
                    obj(&[
                        ("name", string()),
                        ("email", string()),
                        ("note", string()),
                        ("passphrase", string()),
                        ("website", string()),
                        ("lang", string()),
                    ])
                }),
                201,
                || obj(&[("status", string()), ("message", string())]),
            )),
            post(crate::requests::public::api_submit),
        ),
        (
            e(
                "post",
                "/api/v1/requests/{id}/approve",
                "requests",
                "Approve a request (default libraries unless given)",
                ID,
                Some(selection_schema),
                200,
                request_schema,
            ),
            post(requests_approve),
        ),
        (
            e(
                "post",
                "/api/v1/requests/{id}/decline",
                "requests",
                "Decline a request",
                ID,
                Some(|| obj(&[("reason", string())])),
                200,
                request_schema,
            ),
            post(requests_decline),
        ),
        (
            e(
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
            e(
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
            e(
                "post",
                "/api/v1/members/{id}/expiry",
                "members",
                "Set or clear when a member's access ends",
                ID,
                Some(|| obj(&[("expires_at", nullable(time()))])),
                200,
                member_schema,
            ),
            post(members_expiry),
        ),
        (
            e(
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
            e(
                "get",
                "/api/v1/events",
                "events",
                "The audit log, newest first",
                PAGED,
                None,
                200,
                || {
                    page_of(obj(&[
                        ("id", int()),
                        ("at", time()),
                        ("actor", string()),
                        ("action", string()),
                        ("subject", nullable(string())),
                        ("detail", nullable(string())),
                    ]))
                },
            ),
            get(events_list),
        ),
        (
            e(
                "get",
                "/api/v1/notifications",
                "notifications",
                "Notification channels (secrets never included)",
                &[],
                None,
                200,
                || {
                    page_of(obj(&[
                        ("id", int()),
                        ("kind", string()),
                        ("name", string()),
                        ("target", nullable(string())),
                        ("events", arr(string())),
                        ("enabled", boolean()),
                    ]))
                },
            ),
            get(channels_list),
        ),
        (
            e(
                "post",
                "/api/v1/notifications/{id}/test",
                "notifications",
                "Send a test through a channel",
                ID,
                None,
                200,
                || obj(&[("sent", boolean())]),
            ),
            post(channels_test),
        ),
        (
            e(
                "get",
                "/api/v1/stats",
                "stats",
                "Numbers at a glance",
                &[],
                None,
                200,
                || {
                    obj(&[
                        ("pending_requests", int()),
                        ("redeemed_7_days", int()),
                        ("redeemed_30_days", int()),
                    ])
                },
            ),
            get(stats),
        ),
        (
            e(
                "get",
                "/api/v1/settings",
                "settings",
                "Settings (secrets only as has_…)",
                &[],
                None,
                200,
                || obj(&[("owner_name", string())]),
            ),
            get(settings_get),
        ),
    ]
}
