//! Admin pages for members: `/admin/members…`, and the sync buttons.

use crate::domain::ids::*;
use std::collections::HashMap;

use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{AccessInput, ExpiryChange, MemberError};
use crate::domain::MemberOrigin;
use crate::domain::{GrantStatus, JobKind};
use crate::provisioning::Outcome;
use crate::state::AppState;
use crate::store::members::{MemberGrantRow, MemberQuery, MemberSort, StatusFilter};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Form, field, has_field, path_id};
use crate::web::visitor::Admin;
use crate::web::{Routes, page, ser};

pub const PAGE_SIZE: i64 = 50;

/// Every members route; each handler takes the [`Admin`] extractor.
pub fn routes(r: Routes) -> Routes {
    use crate::web::{ADMIN, APPROVER};
    r.api(super::api::endpoints())
        .get("/admin/members", APPROVER, list)
        .post("/admin/members/sync", ADMIN, sync_all)
        .get("/admin/members/{id}", APPROVER, detail)
        .post("/admin/members/{id}/expiry", ADMIN, expiry)
        .post("/admin/members/{id}/notes", ADMIN, notes)
        .post("/admin/members/{id}/grants/{grant}/access", ADMIN, access)
        .post("/admin/members/{id}/grants/{grant}/disable", ADMIN, disable)
        .post("/admin/members/{id}/grants/{grant}/enable", ADMIN, enable)
        .post("/admin/members/{id}/grants/{grant}/remove", ADMIN, remove)
        .post("/admin/servers/{id}/sync", ADMIN, sync_server)
}

/// Library names per server, for showing grants: one query per server, not per member.
async fn library_names(state: &AppState) -> AppResult<HashMap<ServerId, HashMap<String, String>>> {
    let mut out = HashMap::new();
    for s in state.store.servers().await? {
        let names = state
            .store
            .libraries(s.server.id)
            .await?
            .into_iter()
            .map(|l| (l.remote_id, l.name))
            .collect();
        out.insert(s.server.id, names);
    }
    Ok(out)
}

/// The state a page shows for a grant: `failing` wins over the stored status.
fn shown_state(g: &MemberGrantRow) -> &str {
    if g.failing_kind.is_some() {
        "failing"
    } else {
        g.grant.status.as_str()
    }
}

/// The colour of a grant's badge: a job that keeps failing is as bad as an ended grant.
fn tone(g: &MemberGrantRow) -> &'static str {
    match g.grant.status {
        _ if g.failing_kind.is_some() => "bad",
        GrantStatus::Active => "ok",
        GrantStatus::Failed | GrantStatus::Removed => "bad",
        _ => "warn",
    }
}

/// A grant as the pages show it.
fn grant_view(
    g: &MemberGrantRow,
    names: &HashMap<ServerId, HashMap<String, String>>,
) -> Result<Value, crate::store::StoreError> {
    let ids = g.grant.library_ids()?;
    let libs = names.get(&g.grant.server_id);
    let libraries: Vec<String> = ids
        .iter()
        .map(|id| libs.and_then(|l| l.get(id)).unwrap_or(id).clone())
        .collect();
    let shown = shown_state(g);
    Ok(context! {
        grant => ser(&g.grant),
        state => shown,
        tone => tone(g),
        libraries,
        gone => g.gone_at.is_some() && g.grant.status != GrantStatus::Removed,
        gone_at => g.gone_at,
        open_job => g.open_job.map(JobKind::as_str),
        failing_kind => g.failing_kind.map(JobKind::as_str),
        failing_error => g.failing_error.as_deref(),
        reminded_at => g.reminded_at,
    })
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    server: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    done: String,
    #[serde(default)]
    imported: String,
    #[serde(default)]
    gone: String,
    #[serde(default)]
    failed: String,
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Html<String>> {
    // Filters come from links and selects: anything unknown is simply not applied.
    let search: String = q.q.trim().chars().take(100).collect();
    let server_id = q
        .server
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(ServerId);
    let status = StatusFilter::parse(&q.status);
    let origin = MemberOrigin::parse(&q.origin);
    let sort = MemberSort::parse(&q.sort).unwrap_or(MemberSort::Name);
    let descending = q.dir == "desc";
    let page_no = q.page.parse::<i64>().unwrap_or(1).clamp(1, 1_000_000);
    let query = MemberQuery {
        search: search.clone(),
        server_id,
        status,
        origin,
        sort,
        descending,
        limit: PAGE_SIZE,
        offset: (page_no - 1) * PAGE_SIZE,
    };
    let (rows, total) = state.store.list_members(&query).await?;
    let ids: Vec<MemberId> = rows.iter().map(|r| r.member.id).collect();
    let grants = state.store.grants_of_members(&ids).await?;
    let names = library_names(&state).await?;
    let members: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mine: Vec<&MemberGrantRow> = grants
                .iter()
                .filter(|g| g.grant.member_id == r.member.id)
                .collect();
            Ok(context! {
                member => ser(&r.member),
                expires_at => r.expires_at,
                live => mine.iter().any(|g| g.grant.status.is_live()),
                grants => mine.iter().map(|g| grant_view(g, &names)).collect::<Result<Vec<_>, _>>()?,
            })
        })
        .collect::<Result<_, crate::store::StoreError>>()?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    // The query string of this view, for paging links.
    let mut params: Vec<(&str, String)> = Vec::new();
    if !search.is_empty() {
        params.push(("q", search.clone()));
    }
    if let Some(id) = server_id {
        params.push(("server", id.to_string()));
    }
    if let Some(s) = status {
        params.push(("status", s.as_str().into()));
    }
    if let Some(o) = origin {
        params.push(("origin", o.as_str().into()));
    }
    params.push(("sort", sort.as_str().into()));
    params.push(("dir", if descending { "desc" } else { "asc" }.into()));
    let link = |p: i64| {
        let mut all = params.clone();
        all.push(("page", p.to_string()));
        format!(
            "/admin/members?{}",
            serde_urlencoded::to_string(&all).unwrap_or_default()
        )
    };
    let servers = state.store.servers().await?;
    let sync_errors: Vec<Value> = servers
        .iter()
        .filter_map(|s| {
            s.server
                .sync_error
                .as_ref()
                .map(|e| context! { name => &s.server.name, error => e })
        })
        .collect();
    let count = |s: &str| s.parse::<u32>().unwrap_or(0);
    let notice = (q.done == "synced").then(|| {
        context! { imported => count(&q.imported), gone => count(&q.gone), failed => count(&q.failed) }
    });
    page(
        &state,
        &admin.visitor,
        "admin/members.html",
        context! {
            members,
            total,
            page_no,
            pages,
            prev => (page_no > 1).then(|| link(page_no - 1)),
            next => (page_no < pages).then(|| link(page_no + 1)),
            q => search,
            server => server_id,
            status => status.map(StatusFilter::as_str),
            origin => origin.map(MemberOrigin::as_str),
            sort => sort.as_str(),
            dir => if descending { "desc" } else { "asc" },
            servers => servers.iter().map(|s| context! { id => s.server.id, name => &s.server.name }).collect::<Vec<_>>(),
            statuses => StatusFilter::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            origins => MemberOrigin::ALL.map(MemberOrigin::as_str),
            sync_errors,
            notice,
        },
    )
}

/// Result notices shown after a redirect; only these keys are ever rendered.
const NOTICES: &[&str] = &[
    "saved", "queued", "expiry", "notes", "disabled", "enabled", "removed",
];

/// An error shown in an alert on the member page.
struct PageError {
    status: StatusCode,
    key: &'static str,
    detail: Option<String>,
    field: Option<&'static str>,
}

impl PageError {
    fn from_member(e: &MemberError) -> Option<PageError> {
        let status = crate::web::error::Failure::status(e);
        match e {
            MemberError::Invalid { field, key, detail } => Some(PageError {
                status,
                key,
                detail: detail.clone(),
                field: Some(field),
            }),
            MemberError::Conflict { key } => Some(PageError {
                status,
                key,
                detail: None,
                field: None,
            }),
            MemberError::NotFound | MemberError::Store(_) => None,
        }
    }

    fn from_media(e: &media::MediaError) -> PageError {
        PageError {
            status: StatusCode::BAD_GATEWAY,
            key: crate::web::error::media_error_key(e),
            detail: Some(e.to_string()),
            field: None,
        }
    }
}

/// `YYYY-MM-DD` and `HH:MM` (UTC) of a timestamp, for date and time inputs.
/// What the expiry editor's date and time inputs show, in the owner's time zone.
fn date_inputs(ts: Option<i64>, zone: &crate::clock::Zone) -> (String, String) {
    ts.map(|t| zone.inputs(t)).unwrap_or_default()
}

async fn detail_page(
    state: &AppState,
    admin: &Admin,
    id: MemberId,
    notice: Option<&str>,
    error: Option<PageError>,
) -> AppResult<Response> {
    let loaded = super::load(state, id).await?;
    let names = library_names(state).await?;
    let now = state.clock.now();
    let mut grants = Vec::new();
    for g in &loaded.grants {
        // The library choice: what the server offers, plus what the member has that is still
        // there.
        let mine = g.grant.library_ids()?;
        let options: Vec<Value> = state
            .store
            .libraries(g.grant.server_id)
            .await?
            .into_iter()
            .filter(|l| l.present && (l.enabled || mine.contains(&l.remote_id)))
            .map(|l| {
                context! {
                    id => &l.remote_id,
                    name => &l.name,
                    checked => mine.contains(&l.remote_id),
                }
            })
            .collect();
        let permissions = g.grant.permission_set()?;
        let live = g.grant.status.is_made();
        grants.push(context! {
            ..grant_view(g, &names)?,
            ..context! {
                options,
                permissions => ser(&permissions),
                filters => context! {
                    movies => crate::domain::access::human_filter(&permissions.filter_movies),
                    television => crate::domain::access::human_filter(&permissions.filter_television),
                    music => crate::domain::access::human_filter(&permissions.filter_music),
                },
                live,
                editable => live && g.open_job != Some(JobKind::Remove),
                can_disable => g.grant.server_kind.can_disable(),
                caps => ser(g.grant.server_kind.capabilities()),
                expired => g.grant.expires_at.is_some_and(|t| t <= now),
            }
        });
    }
    let expires_at = loaded
        .grants
        .iter()
        .filter(|g| g.grant.status.is_live())
        .filter_map(|g| g.grant.expires_at)
        .min();
    let has_live = loaded.grants.iter().any(|g| g.grant.status.is_live());
    let (date, time) = date_inputs(expires_at, &admin.session.zone);
    let history = state
        .store
        .list_events(
            &crate::store::events::EventQuery {
                member_id: Some(id),
                ..Default::default()
            },
            crate::store::events::EventPage::Newest,
            100,
        )
        .await?;
    let events = crate::audit::sentence::describe_all(
        &state.i18n,
        admin.visitor.lang,
        &admin.session.username,
        &history,
    );
    let status = error.as_ref().map(|e| e.status);
    let mut res = page(
        state,
        &admin.visitor,
        "admin/member.html",
        context! {
            member => ser(&loaded.member),
            grants,
            expires_at,
            expired => expires_at.is_some_and(|t| t <= now),
            has_live,
            date,
            time,
            events => ser(&events),
            notice => notice.filter(|n| NOTICES.contains(n)),
            error => error.map(|e| context! { key => e.key, detail => e.detail, field => e.field }),
        },
    )?
    .into_response();
    if let Some(s) = status {
        *res.status_mut() = s;
    }
    Ok(res)
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    done: String,
}

pub async fn detail(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    detail_page(&state, &admin, id, Some(q.done.as_str()), None).await
}

fn back(id: MemberId, notice: &str) -> Response {
    Redirect::to(&format!("/admin/members/{id}?done={notice}")).into_response()
}

/// After a change that ran a job: back with a notice, or the page with what went wrong.
async fn after_job(
    state: &AppState,
    admin: &Admin,
    id: MemberId,
    result: Result<Outcome, MemberError>,
    done: &str,
) -> AppResult<Response> {
    match result {
        Ok(Outcome::Done) => Ok(back(id, done)),
        Ok(Outcome::Retrying(_) | Outcome::Skipped) => Ok(back(id, "queued")),
        Ok(Outcome::Failed(e)) => {
            detail_page(state, admin, id, None, Some(PageError::from_media(&e))).await
        }
        Err(e) => match PageError::from_member(&e) {
            Some(pe) => detail_page(state, admin, id, None, Some(pe)).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
pub struct ExpiryForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
}

/// Reads the expiry form: `set` with a date (and optional time, both in the owner's time zone),
/// `extend` by 30 days, or `clear`.
fn parse_expiry_form(
    form: &ExpiryForm,
    now: i64,
    zone: &crate::clock::Zone,
) -> Result<ExpiryChange, MemberError> {
    match form.action.as_str() {
        "extend" => Ok(ExpiryChange::Extend(30)),
        "clear" => Ok(ExpiryChange::Clear),
        "set" => {
            let date = form.date.trim();
            if date.is_empty() {
                return Err(MemberError::invalid("date", "member-date-required"));
            }
            let time = form.time.trim();
            // Only a date (and time) as the inputs send them: durations and `never` have their
            // own buttons.
            let date_ok = time::Date::parse(
                date,
                &time::macros::format_description!("[year]-[month]-[day]"),
            )
            .is_ok();
            let time_ok = time.is_empty()
                || time::Time::parse(time, &time::macros::format_description!("[hour]:[minute]"))
                    .is_ok();
            if !date_ok || !time_ok {
                return Err(MemberError::invalid("date", "member-bad-date"));
            }
            // A bare date means "through that day".
            let at = match time {
                "" => zone.instant(date, "23:59").map(|t| t + 59),
                t => zone.instant(date, t),
            }
            .ok_or(MemberError::invalid("date", "member-bad-date"))?;
            if at <= now {
                return Err(MemberError::invalid("date", "member-date-past"));
            }
            Ok(ExpiryChange::Set(at))
        }
        _ => Err(MemberError::invalid("action", "member-bad-expiry-action")),
    }
}

pub async fn expiry(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<ExpiryForm>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let result = match parse_expiry_form(&form, state.clock.now(), &admin.session.zone) {
        Ok(change) => super::change_expiry(&state, id, change, &admin.session.username)
            .await
            .map(|_| Outcome::Done),
        Err(e) => Err(e),
    };
    after_job(&state, &admin, id, result, "expiry").await
}

#[derive(Deserialize)]
pub struct NotesForm {
    #[serde(default)]
    notes: String,
}

pub async fn notes(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<NotesForm>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let result = super::set_notes(&state, id, &form.notes, &admin.session.username)
        .await
        .map(|_| Outcome::Done);
    after_job(&state, &admin, id, result, "notes").await
}

fn parse_ids(id: &str, grant: &str) -> AppResult<(MemberId, GrantId)> {
    Ok((path_id(id)?, path_id(grant)?))
}

/// The access form: repeated `lib=sharing id`, `downloads`, `live_tv`, `camera` (ticked boxes),
/// `max_sessions`, `filter_movies`, `filter_television`, `filter_music` (when shown).
fn parse_access(fields: &[(String, String)]) -> Result<AccessInput, MemberError> {
    let ticked = |name: &str| Some(has_field(fields, name));
    let given = |name: &str| has_field(fields, name).then(|| field(fields, name).to_string());
    let max_sessions = match given("max_sessions") {
        None => None,
        Some(raw) => Some(match raw.trim() {
            "" | "0" => None,
            m => Some(
                m.parse::<u32>()
                    .map_err(|_| MemberError::invalid("max_sessions", "member-bad-max-sessions"))?,
            ),
        }),
    };
    Ok(AccessInput {
        libraries: fields
            .iter()
            .filter(|(k, _)| k == "lib")
            .map(|(_, v)| v.clone())
            .collect(),
        changes: crate::domain::access::PermissionChanges {
            allow_downloads: ticked("downloads"),
            allow_live_tv: ticked("live_tv"),
            allow_camera_upload: ticked("camera"),
            max_sessions,
            plex_home: None,
            filter_movies: given("filter_movies"),
            filter_television: given("filter_television"),
            filter_music: given("filter_music"),
        },
    })
}

pub async fn access(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, grant)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (id, grant) = parse_ids(&id, &grant)?;
    let result = match parse_access(&fields) {
        Ok(input) => super::change_access(&state, id, grant, &input, &admin.session.username).await,
        Err(e) => Err(e),
    };
    after_job(&state, &admin, id, result, "saved").await
}

pub async fn disable(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, grant)): Path<(String, String)>,
) -> AppResult<Response> {
    let (id, grant) = parse_ids(&id, &grant)?;
    let result = super::set_paused(&state, id, grant, true, &admin.session.username).await;
    after_job(&state, &admin, id, result, "disabled").await
}

pub async fn enable(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, grant)): Path<(String, String)>,
) -> AppResult<Response> {
    let (id, grant) = parse_ids(&id, &grant)?;
    let result = super::set_paused(&state, id, grant, false, &admin.session.username).await;
    after_job(&state, &admin, id, result, "enabled").await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    confirm: String,
}

pub async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, grant)): Path<(String, String)>,
    Form(form): Form<RemoveForm>,
) -> AppResult<Response> {
    let (id, grant) = parse_ids(&id, &grant)?;
    let result = if form.confirm == "yes" {
        super::remove_grant(&state, id, grant, &admin.session.username).await
    } else {
        Err(MemberError::invalid("confirm", "member-remove-unconfirmed"))
    };
    after_job(&state, &admin, id, result, "removed").await
}

/// Syncs every server, then shows the members list with what changed.
pub async fn sync_all(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    let results = super::sync::sync_all_as(&state, Some(&admin.session.username)).await?;
    let (mut imported, mut gone, mut failed) = (0, 0, 0);
    for (_, r) in &results {
        match r {
            Ok(r) => {
                imported += r.imported;
                gone += r.gone;
            }
            Err(_) => failed += 1,
        }
    }
    Ok(Redirect::to(&format!(
        "/admin/members?done=synced&imported={imported}&gone={gone}&failed={failed}"
    ))
    .into_response())
}

/// Syncs one server from its page.
pub async fn sync_server(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let done = match super::sync::sync_server_as(&state, id, Some(&admin.session.username)).await {
        Ok(_) => "synced",
        Err(super::sync::SyncError::NotFound) => return Err(AppError::not_found()),
        Err(super::sync::SyncError::Store(e)) => {
            tracing::error!(error = %e, "sync failed");
            return Err(AppError::internal());
        }
        // The reason is stored on the server and shown on its page.
        Err(super::sync::SyncError::Client(_)) => "sync-failed",
    };
    Ok(Redirect::to(&format!("/admin/servers/{id}?done={done}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_305_600; // 2026-11-22T00:00:00Z

    fn form(action: &str, date: &str, time: &str) -> ExpiryForm {
        ExpiryForm {
            action: action.into(),
            date: date.into(),
            time: time.into(),
        }
    }

    #[test]
    fn the_expiry_form_takes_a_date_and_an_optional_time() {
        let utc = crate::clock::Zone::utc();
        let parse_expiry_form = |f: &ExpiryForm, now| super::parse_expiry_form(f, now, &utc);
        // In the owner's zone: 18:00 in Madrid is 17:00 UTC in winter.
        let madrid = crate::clock::Zone::parse("Europe/Madrid").unwrap();
        assert_eq!(
            super::parse_expiry_form(&form("set", "2026-12-31", "18:00"), NOW, &madrid).unwrap(),
            ExpiryChange::Set(1_798_740_000 - 3_600)
        );
        assert_eq!(
            parse_expiry_form(&form("set", "2026-12-31", "18:00"), NOW).unwrap(),
            ExpiryChange::Set(1_798_740_000)
        );
        assert_eq!(
            parse_expiry_form(&form("set", "2026-12-31", ""), NOW).unwrap(),
            ExpiryChange::Set(1_798_761_599)
        );
        assert_eq!(
            parse_expiry_form(&form("extend", "", ""), NOW).unwrap(),
            ExpiryChange::Extend(30)
        );
        for (f, key) in [
            (form("set", "", ""), "member-date-required"),
            (form("set", "7d", ""), "member-bad-date"),
            (form("set", "2026-02-30", ""), "member-bad-date"),
            (form("set", "2026-12-31", "25:00"), "member-bad-date"),
            (form("set", "2020-01-01", ""), "member-date-past"),
            (form("later", "", ""), "member-bad-expiry-action"),
        ] {
            match parse_expiry_form(&f, NOW) {
                Err(MemberError::Invalid { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn date_inputs_show_the_date_and_time_in_the_owners_zone() {
        let utc = crate::clock::Zone::utc();
        assert_eq!(
            date_inputs(Some(1_798_740_000), &utc),
            ("2026-12-31".into(), "18:00".into())
        );
        assert_eq!(date_inputs(None, &utc), (String::new(), String::new()));
        let madrid = crate::clock::Zone::parse("Europe/Madrid").unwrap();
        assert_eq!(
            date_inputs(Some(1_798_740_000), &madrid),
            ("2026-12-31".into(), "19:00".into())
        );
    }
}
