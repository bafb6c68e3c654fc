//! `/admin/onboarding` (edit, preview, reset) and the public `/guide`.

use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{MAX_STEPS, StepsError, Vars, apply_vars, checked_steps, render_markdown};
use crate::domain::OnboardingKind;
use crate::state::AppState;
use crate::ui::i18n::Language;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Form, field};
use crate::web::visitor::{Admin, Visitor};
use crate::web::{page, ser};

#[derive(Deserialize, Default)]
pub struct EditorQuery {
    #[serde(default)]
    kind: String,
    /// The language whose steps are edited; the admin's own when absent.
    #[serde(default)]
    lang: String,
    #[serde(default)]
    done: String,
}

/// What the preview fills the variables with: a server of the tab's kind when there is one,
/// so a Jellyfin tab previews with the Jellyfin server's name and address.
async fn sample_vars(
    state: &AppState,
    kind: OnboardingKind,
    owner: &str,
) -> Result<Vars, crate::store::StoreError> {
    let servers = state.store.servers().await?;
    let server = kind
        .server_kind()
        .and_then(|k| servers.iter().find(|s| s.server.kind == k));
    let display = kind
        .server_kind()
        .map(media::ServerKind::display_name)
        .unwrap_or("Plex");
    Ok(Vars {
        server_name: server
            .map(|s| s.server.name.clone())
            .unwrap_or_else(|| format!("Home {display}")),
        server_url: server
            .and_then(|s| s.server.friend_address())
            .unwrap_or_else(|| "https://watch.example.com".into()),
        owner_name: if owner.is_empty() {
            "Ana".into()
        } else {
            owner.into()
        },
        member_name: "Sam".into(),
        expires: "2027-01-31".into(),
    })
}

/// The language a form or link names, or the admin's own.
fn language(raw: &str, admin: &Admin) -> Language {
    Language::parse(raw)
        .or_else(|| Language::parse(admin.visitor.lang))
        .unwrap_or_else(Language::default_one)
}

/// What the editor shows: the steps, whether they are the owner's own, and whether this is an
/// unsaved preview.
struct Draft {
    steps: Vec<(String, String)>,
    custom: bool,
    preview: bool,
}

async fn editor(
    state: &AppState,
    admin: &Admin,
    kind: OnboardingKind,
    lang: Language,
    draft: Draft,
    notice: Option<&str>,
    error: Option<String>,
) -> AppResult<Response> {
    let Draft {
        steps,
        custom,
        preview,
    } = draft;
    let settings = state.store.settings().await?;
    let vars = sample_vars(state, kind, &settings.owner_name).await?;
    let rendered: Vec<Value> = steps
        .iter()
        .map(|(t, b)| context! { title => t, html => Value::from_safe_string(apply_vars(&render_markdown(b), &vars)) })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = page(
        state,
        &admin.visitor,
        "admin/onboarding.html",
        context! {
            kind => kind.as_str(), kinds => OnboardingKind::ALL.map(OnboardingKind::as_str), steps => ser(&steps), rendered, custom, preview,
            step_lang => lang.code(),
            notice => notice.filter(|n| ["saved", "reset"].contains(n)), error,
        },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<EditorQuery>,
) -> AppResult<Response> {
    let kind = OnboardingKind::parse(&q.kind).unwrap_or(OnboardingKind::Plex);
    let lang = language(&q.lang, &admin);
    let (steps, custom) = super::source_steps(&state, kind, lang.code()).await?;
    let draft = Draft {
        steps,
        custom,
        preview: false,
    };
    editor(
        &state,
        &admin,
        kind,
        lang,
        draft,
        Some(q.done.as_str()),
        None,
    )
    .await
}

/// Reads `title_N`, `body_N` and `position_N` blocks in position order, then checks them.
fn parse_steps(fields: &[(String, String)]) -> Result<Vec<(String, String)>, StepsError> {
    let get = |name: String| field(fields, &name).to_string();
    let mut blocks = Vec::new();
    // One block past the limit, so too many is refused rather than cut.
    for i in 0..=MAX_STEPS {
        let (title, body) = (get(format!("title_{i}")), get(format!("body_{i}")));
        if title.trim().is_empty() && body.trim().is_empty() {
            continue;
        }
        let position: f64 = get(format!("position_{i}"))
            .trim()
            .parse()
            .unwrap_or(i as f64);
        blocks.push((position, i, title, body));
    }
    blocks.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    checked_steps(blocks.into_iter().map(|(_, _, t, b)| (t, b)).collect())
}

pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    Path(kind): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let kind = OnboardingKind::parse(&kind).ok_or_else(AppError::not_found)?;
    let lang = language(field(&fields, "lang"), &admin);
    let preview = fields.iter().any(|(k, v)| k == "action" && v == "preview");
    let steps = match parse_steps(&fields) {
        Ok(s) => s,
        Err(StepsError::Store(e)) => return Err(e.into()),
        Err(StepsError::Invalid { key }) => {
            let (current, custom) = super::source_steps(&state, kind, lang.code()).await?;
            return editor(
                &state,
                &admin,
                kind,
                lang,
                Draft {
                    steps: current,
                    custom,
                    preview: false,
                },
                None,
                Some(state.i18n.text(admin.visitor.lang, key)),
            )
            .await;
        }
    };
    if preview {
        return editor(
            &state,
            &admin,
            kind,
            lang,
            Draft {
                steps,
                custom: true,
                preview: true,
            },
            None,
            None,
        )
        .await;
    }
    super::save_steps(&state, kind, lang, steps, &admin.session.username).await?;
    Ok(Redirect::to(&format!(
        "/admin/onboarding?kind={kind}&lang={}&done=saved",
        lang.code()
    ))
    .into_response())
}

pub async fn reset(
    State(state): State<AppState>,
    admin: Admin,
    Path(kind): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let kind = OnboardingKind::parse(&kind).ok_or_else(AppError::not_found)?;
    let lang = language(field(&fields, "lang"), &admin);
    super::save_steps(&state, kind, lang, Vec::new(), &admin.session.username).await?;
    Ok(Redirect::to(&format!(
        "/admin/onboarding?kind={kind}&lang={}&done=reset",
        lang.code()
    ))
    .into_response())
}

/// `/guide`: for friends — what this is, how to get the app, what happens after asking.
pub async fn guide(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    // The same guide for everyone of a language.
    crate::web::page_cache::serve(&state, &visitor, &headers, true, async |visitor| {
        guide_page(&state, &visitor).await
    })
    .await
}

async fn guide_page(
    state: &AppState,
    visitor: &Visitor,
) -> AppResult<crate::web::page_cache::Rendered> {
    let settings = state.store.settings().await?;
    let servers = state.store.servers().await?;
    // The apps of the kinds of server this usher has, or of every kind before any is added.
    let kinds: Vec<&str> = media::ServerKind::ALL
        .into_iter()
        .filter(|k| servers.is_empty() || servers.iter().any(|s| s.server.kind == *k))
        .map(media::ServerKind::as_str)
        .collect();
    let owner = if settings.owner_name.is_empty() {
        state.i18n.text(visitor.lang, "guide-owner-default")
    } else {
        settings.owner_name.clone()
    };
    let html = page(
        state,
        visitor,
        "guide.html",
        context! {
            owner,
            brand => crate::ui::brand::context(&settings.branding),
            servers => servers.iter().map(|s| s.server.name.clone()).collect::<Vec<_>>(),
            kinds,
            requests_open => settings
                .requests
                .open_with(state.store.requestable_servers(&settings).await?.len()),
            request_app_url => settings.request_app_url,
            community_url => settings.community_url,
        },
    )?;
    Ok(crate::web::page_cache::Rendered::page(StatusCode::OK, html))
}
