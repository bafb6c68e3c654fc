//! `/api/v1/invites`: invites and their redemptions, and the public redemption API.

use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::members::api::{member_json, member_schema};
use crate::state::AppState;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::Json;

use super::public as p;

pub(crate) fn invite_schema() -> Value {
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

pub(crate) fn invite_json(state: &AppState, i: &crate::store::invites::InviteRow) -> Value {
    json!({
        "code": i.code, "url": crate::invites::invite_url(state, &i.code), "label": i.label,
        "used": i.used, "max_uses": i.max_uses, "expires_at": i.expires_at.map(rfc3339),
        "access_days": i.access_seconds.map(|s| (s + 86_399) / 86_400), "disabled": i.disabled,
        "badges": i.facts().badges(state.clock.now()).iter().map(|b| b.as_str()).collect::<Vec<_>>(),
        "created_at": rfc3339(i.created_at),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    servers: Vec<crate::invites::TargetInput>,
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

pub(crate) async fn invites_list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    use crate::store::invites::InviteFilter as F;
    let page = Page::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = match F::parse(q.filter.as_deref().unwrap_or("all")) {
        Some(f) => f,
        None => {
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
        .filter(|i| page.after.is_none_or(|a| i.id.get() < a))
        .collect();
    let next = (rest.len() as i64 > page.limit)
        .then(|| Page::cursor(rest[page.limit as usize - 1].id.get()));
    let items = rest
        .iter()
        .take(page.limit as usize)
        .map(|i| invite_json(&state, i))
        .collect();
    Ok(list(items, next))
}

pub(crate) async fn invites_create(
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
        targets: b.servers,
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
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn invite_load(
    state: &AppState,
    code: &str,
) -> AppResult<crate::store::invites::InviteRow> {
    let code = crate::domain::rules::InviteCode::parse(code).ok_or_else(AppError::not_found)?;
    state
        .store
        .invite_by_code(&code)
        .await?
        .ok_or_else(AppError::not_found)
}

/// An invite with what it gives on each server and who redeemed it.
pub(crate) async fn invite_detail(
    state: &AppState,
    invite: &crate::store::invites::InviteRow,
) -> Result<Value, crate::store::StoreError> {
    let members = state.store.invite_members(invite.id).await?;
    let grants = state.store.grants_of_invite(invite.id).await?;
    let targets = state
        .store
        .invite_with_targets(&invite.code)
        .await?
        .map(|f| crate::invites::target_views(&f.targets))
        .unwrap_or_default();
    let mut v = invite_json(state, invite);
    v["servers"] = targets
        .iter()
        .map(|t| json!({"server_id": t.server_id, "name": t.server_name, "kind": t.kind, "libraries": t.libraries, "permissions": t.permissions}))
        .collect();
    v["redemptions"] = members
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
    Ok(v)
}

pub(crate) async fn invites_redemptions(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let invite = invite_load(&state, &code).await?;
    Ok(ok(invite_detail(&state, &invite).await?))
}

/// `GET /api/v1/invites/{code}/qr.svg`: the link as a QR code.
pub(crate) async fn invites_qr(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let invite = invite_load(&state, &code).await?;
    crate::invites::qr_response(&state, &invite)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CsvQuery {
    #[serde(default)]
    batch: String,
}

/// `GET /api/v1/invites.csv`: every invite, or one batch, as `code,link`.
pub(crate) async fn invites_csv(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<CsvQuery>,
) -> AppResult<Response> {
    Ok(crate::invites::csv_response(
        crate::invites::csv_text(&state, &q.batch).await?,
    ))
}

pub(crate) async fn invites_set(
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

pub(crate) async fn invites_disable(
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

pub(crate) async fn invites_enable(
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

pub(crate) async fn invites_delete(
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

const CSV_PARAMS: &[Param] = &[Param::query(
    "batch",
    "a batch id (from creating several at once)",
    ParamKind::Text,
)];

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![
        (
            endpoint(
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
            endpoint(
                "post",
                "/api/v1/invites",
                "invites",
                "Create an invite",
                &[],
                Some(|| {
                    let body = needs(
                        obj(&[
                            ("servers", arr(target_schema())),
                            // A number from 1 to 1000, or "unlimited" (also as text: "5").
                            ("uses", json!({"oneOf": [int_in(1, 1000), string()]})),
                            ("expires", string()),
                            ("duration", string()),
                            ("label", string()),
                            ("passphrase", string()),
                            ("code", string()),
                        ]),
                        &["servers"],
                    );
                    or_null(
                        body,
                        &["uses", "expires", "duration", "label", "passphrase", "code"],
                    )
                }),
                201,
                invite_schema,
            ),
            post(invites_create),
        ),
        (
            public(endpoint(
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
            public(endpoint(
                "post",
                "/api/v1/invites/{code}/redeem",
                "public",
                "Redeem an invite (no key needed)",
                CODE,
                Some(|| {
                    let body = obj(&[
                        ("email", string()),
                        ("plex_username", string()),
                        ("username", string()),
                        ("password", string()),
                        ("passphrase", string()),
                        ("accept_rules", boolean()),
                    ]);
                    or_null(
                        body,
                        &[
                            "email",
                            "plex_username",
                            "username",
                            "password",
                            "passphrase",
                        ],
                    )
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
            endpoint(
                "get",
                "/api/v1/invites/{code}/redemptions",
                "invites",
                "An invite with what it gives on each server and everyone who redeemed it",
                CODE,
                None,
                200,
                || {
                    let mut v = invite_schema();
                    v["properties"]["servers"] = arr(obj(&[
                        ("server_id", int()),
                        ("name", string()),
                        ("kind", string()),
                        ("libraries", arr(string())),
                        ("permissions", permissions()),
                    ]));
                    v["properties"]["redemptions"] = arr(member_schema());
                    v
                },
            ),
            get(invites_redemptions),
        ),
        (
            answers(
                endpoint(
                    "get",
                    "/api/v1/invites/{code}/qr.svg",
                    "invites",
                    "The invite's link as a QR code (SVG)",
                    CODE,
                    None,
                    200,
                    string,
                ),
                "image/svg+xml",
            ),
            get(invites_qr),
        ),
        (
            answers(
                endpoint(
                    "get",
                    "/api/v1/invites.csv",
                    "invites",
                    "Every invite, or one batch made at once, as CSV: code,link",
                    CSV_PARAMS,
                    None,
                    200,
                    string,
                ),
                "text/csv",
            ),
            get(invites_csv),
        ),
        (
            endpoint(
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
            endpoint(
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
            endpoint(
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
    ]
}
