//! The pages that belong to no feature in particular: the front door, the owner's dashboard,
//! health, and the theme and language preferences.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use axum::routing::{MethodRouter, get};
use serde_json::json;

use crate::domain::Role;
use crate::state::AppState;
use crate::ui::i18n;
use crate::web::api::{ApiCaller, Endpoint, endpoint, int, obj, ok};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::Form;
use crate::web::visitor::{Admin, LANG_COOKIE, THEME_COOKIE, Visitor, set_cookie};
use crate::web::{Access, Routes, local_path, page, ser, svg};

pub fn routes(r: Routes) -> Routes {
    use crate::web::APPROVER;
    use Access::{Public, Secret};
    r.api(endpoints())
        .get("/", Public, home)
        .get("/healthz", Public, healthz)
        .get("/metrics", Secret, crate::web::metrics::endpoint)
        .get("/assets/{name}", Public, crate::web::serve_asset)
        .post("/prefs", Public, prefs)
        .get("/admin", APPROVER, dashboard)
}

async fn home(visitor: Visitor) -> Redirect {
    if visitor.admin.is_some() {
        Redirect::to("/admin")
    } else {
        Redirect::to("/login")
    }
}

/// Health: the database must answer and take a write (a full disk or a read-only mount keeps
/// reads working while every redemption would fail).
async fn healthz(State(state): State<AppState>) -> Response {
    let database = if state.store.ping().await.is_err() {
        "unavailable"
    } else if state.store.probe_write(state.clock.now()).await.is_err() {
        "read_only"
    } else {
        "ok"
    };
    let ok = database == "ok";
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(serde_json::json!({
            "status": if ok { "ok" } else { "degraded" },
            "version": env!("CARGO_PKG_VERSION"),
            "database": database,
        })),
    )
        .into_response()
}

/// The dashboard; an approver, who may not see it, is taken to the requests queue instead, so
/// the one address every admin knows works for all of them.
async fn dashboard(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    if !admin.session.role.allows(Role::Admin) {
        return Ok(Redirect::to(admin.session.role.home()).into_response());
    }
    let now = state.clock.now();
    let recent = state
        .store
        .list_events(
            &crate::store::events::EventQuery::default(),
            crate::store::events::EventPage::Newest,
            10,
        )
        .await?;
    let events = crate::audit::sentence::describe_all(
        &state.i18n,
        admin.visitor.lang,
        &admin.session.username,
        &recent,
    );
    let counts = state.store.invite_counts(now).await?;
    let today = now / 86_400;
    let per_day = state
        .store
        .redemptions_per_day((today - 29) * 86_400)
        .await?;
    let daily: Vec<i64> = (today - 29..=today)
        .map(|d| {
            per_day
                .iter()
                .find(|(day, _)| *day == d)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        })
        .collect();
    let label = |day: i64| {
        crate::clock::human(day * 86_400)
            .chars()
            .take(10)
            .collect::<String>()
    };
    let chart = svg::bars(
        &daily,
        &state.i18n.text(admin.visitor.lang, "dashboard-chart-title"),
        &label(today - 29),
        &label(today),
    );
    page(
        &state,
        &admin.visitor,
        "admin/dashboard.html",
        context! {
            events => ser(&events),
            server_count => state.store.server_count().await?,
            invite_count => counts.all,
            pending_requests => state.store.pending_request_count().await?,
            active_invites => counts.active,
            redeemed_7 => state.store.redemptions_since(now - 7 * 86_400).await?,
            redeemed_30 => state.store.redemptions_since(now - 30 * 86_400).await?,
            members_per_server => ser(state.store.members_per_server().await?),
            chart => Value::from_safe_string(chart),
        },
    )
    .map(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct PrefsForm {
    #[serde(default)]
    theme: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    back: String,
}

/// The theme toggle and language switch: plain forms, so they work without JavaScript.
async fn prefs(State(state): State<AppState>, Form(form): Form<PrefsForm>) -> AppResult<Response> {
    let mut res = Redirect::to(local_path(&form.back).unwrap_or("/")).into_response();
    let year = 60 * 60 * 24 * 365;
    let secure = state.config.is_https();
    if let Some(theme) = form.theme.as_deref() {
        if !matches!(theme, "auto" | "light" | "dark") {
            return Err(
                AppError::bad_request("theme must be auto, light or dark").with_field("theme")
            );
        }
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(THEME_COOKIE, theme, year, secure, false),
        );
    }
    if let Some(lang) = form.lang.as_deref() {
        let Some(lang) = i18n::supported(lang) else {
            return Err(AppError::bad_request("unsupported language").with_field("lang"));
        };
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(LANG_COOKIE, lang, year, secure, false),
        );
    }
    Ok(res)
}

pub(crate) async fn stats(State(state): State<AppState>, _c: ApiCaller) -> AppResult<Response> {
    Ok(ok(numbers(&state).await?))
}

/// The numbers at a glance, as the API and `usher stats` give them.
pub async fn numbers(state: &AppState) -> Result<serde_json::Value, crate::store::StoreError> {
    let now = state.clock.now();
    let counts = state.store.invite_counts(now).await?;
    Ok(json!({
        "invites": counts,
        "pending_requests": state.store.pending_request_count().await?,
        "redeemed_7_days": state.store.redemptions_since(now - 7 * 86_400).await?,
        "redeemed_30_days": state.store.redemptions_since(now - 30 * 86_400).await?,
        "members_per_server": state.store.members_per_server().await?.into_iter().map(|(s, n)| json!({"server": s, "members": n})).collect::<Vec<_>>(),
    }))
}

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![(
        endpoint(
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
    )]
}
