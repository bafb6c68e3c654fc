//! `/api/v1/profiles`: access profiles (what an invite or approval gives on each server, and
//! for how long), made, changed, duplicated, applied to their members and deleted.

use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ProfileError, ProfileInput};
use crate::clock::rfc3339;
use crate::domain::access::PermissionChanges;
use crate::domain::ids::*;
use crate::state::AppState;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Json, path_id};

fn server_choice_schema() -> Value {
    needs(
        obj(&[
            ("server_id", int()),
            ("libraries", arr(string())),
            ("permissions", permission_changes()),
        ]),
        &["server_id", "libraries"],
    )
}

fn profile_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("description", string()),
        ("duration", string()),
        ("invites", int()),
        ("members", int()),
        ("servers", arr(server_choice_schema())),
        ("created_at", time()),
        ("updated_at", time()),
    ])
}

fn body_schema() -> Value {
    needs(
        obj(&[
            ("name", string()),
            ("description", string()),
            ("duration", string()),
            ("servers", arr(server_choice_schema())),
        ]),
        &["name", "servers"],
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerBody {
    server_id: ServerId,
    /// Sharing ids (see the server's library list).
    libraries: Vec<String>,
    /// Changes to the server's defaults; what is left out is the server's default.
    #[serde(default)]
    permissions: PermissionChanges,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    name: String,
    #[serde(default)]
    description: String,
    /// `30d`, or empty for forever.
    #[serde(default)]
    duration: String,
    servers: Vec<ServerBody>,
}

impl ProfileBody {
    pub(crate) fn input(self) -> ProfileInput {
        ProfileInput {
            name: self.name,
            description: self.description,
            duration: self.duration,
            servers: self
                .servers
                .into_iter()
                .map(|s| (s.server_id, s.libraries, s.permissions))
                .collect(),
        }
    }
}

/// A profile as the API shows it, with how many invites and members use it.
pub(crate) async fn profile_json(state: &AppState, id: ProfileId) -> AppResult<Value> {
    let usage = state
        .store
        .profiles()
        .await?
        .into_iter()
        .find(|u| u.profile.id == id)
        .ok_or_else(AppError::not_found)?;
    usage_json(state, &usage).await
}

pub(crate) async fn usage_json(
    state: &AppState,
    usage: &crate::store::profiles::ProfileUsage,
) -> AppResult<Value> {
    let (p, servers) = super::stored(state, usage.profile.id).await?;
    Ok(json!({
        "id": p.id, "name": p.name, "description": p.description, "duration": p.duration,
        "invites": usage.invites, "members": usage.members,
        "servers": servers.iter().map(|s| json!({
            "server_id": s.server_id, "libraries": s.libraries, "permissions": s.permissions,
        })).collect::<Vec<_>>(),
        "created_at": rfc3339(p.created_at), "updated_at": rfc3339(p.updated_at),
    }))
}

async fn profiles_list(State(state): State<AppState>, _c: ApiCaller) -> AppResult<Response> {
    // The usage of every profile comes in one query, not once per profile.
    let mut items = Vec::new();
    for usage in state.store.profiles().await? {
        items.push(usage_json(&state, &usage).await?);
    }
    Ok(list(items, None))
}

async fn profiles_get(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(profile_json(&state, path_id(&id)?).await?))
}

async fn profiles_create(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<ProfileBody>,
) -> AppResult<Response> {
    let id = super::save(&state, None, &b.input(), &c.actor).await?;
    Ok(created(profile_json(&state, id).await?))
}

async fn profiles_update(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<ProfileBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    super::save(&state, Some(id), &b.input(), &c.actor).await?;
    Ok(ok(profile_json(&state, id).await?))
}

async fn profiles_duplicate(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let new = super::duplicate(&state, path_id(&id)?, &c.actor).await?;
    Ok(created(profile_json(&state, new).await?))
}

async fn profiles_apply(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    super::stored(&state, id).await?;
    let report = super::apply_to_members(&state, id, &c.actor)
        .await
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    Ok(ok(json!(report)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// The profile its invites and members move to; needed while any use this one.
    reassign: Option<String>,
}

async fn profiles_delete(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let reassign = match q
        .reassign
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => None,
        Some(r) => Some(r.parse().map_err(|_| {
            AppError::bad_request("reassign is a profile id").with_field("reassign")
        })?),
    };
    super::delete(&state, id, reassign, &c.actor)
        .await
        .map_err(|e: ProfileError| AppError::from(e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

const DELETE_PARAMS: &[Param] = &[
    Param::path("id", "the numeric id", ParamKind::Id),
    Param::query("reassign", "a profile id", ParamKind::Id),
];

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![
        (
            endpoint(
                "get",
                "/api/v1/profiles",
                "profiles",
                "List access profiles with how many invites and members use each",
                &[],
                None,
                200,
                || page_of(profile_schema()),
            ),
            get(profiles_list),
        ),
        (
            endpoint(
                "post",
                "/api/v1/profiles",
                "profiles",
                "Make an access profile",
                &[],
                Some(body_schema),
                201,
                profile_schema,
            ),
            post(profiles_create),
        ),
        (
            endpoint(
                "get",
                "/api/v1/profiles/{id}",
                "profiles",
                "One access profile",
                ID,
                None,
                200,
                profile_schema,
            ),
            get(profiles_get),
        ),
        (
            endpoint(
                "put",
                "/api/v1/profiles/{id}",
                "profiles",
                "Replace an access profile (its members keep their access until it is applied)",
                ID,
                Some(body_schema),
                200,
                profile_schema,
            ),
            put(profiles_update),
        ),
        (
            endpoint(
                "post",
                "/api/v1/profiles/{id}/duplicate",
                "profiles",
                "Copy an access profile under a new name",
                ID,
                None,
                201,
                profile_schema,
            ),
            post(profiles_duplicate),
        ),
        (
            endpoint(
                "post",
                "/api/v1/profiles/{id}/apply",
                "profiles",
                "Give every member who holds the profile what it gives now",
                ID,
                None,
                200,
                || {
                    obj(&[(
                        "results",
                        arr(
                            json!({"type": "array", "description": "member id, member, server, outcome"}),
                        ),
                    )])
                },
            ),
            post(profiles_apply),
        ),
        (
            endpoint(
                "delete",
                "/api/v1/profiles/{id}",
                "profiles",
                "Delete an access profile (with reassign=ID when invites or members use it)",
                DELETE_PARAMS,
                None,
                204,
                || json!({}),
            ),
            delete(profiles_delete),
        ),
    ]
}
