//! `/api/v1/onboarding`: the steps people see after joining (per server kind) and the house
//! rules shown before, in Markdown; the owner's own or the translated defaults.

use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::OnboardingKind;
use crate::state::AppState;
use crate::ui::i18n::Language;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::Json;
use axum::http::StatusCode;

#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: String,
}

fn kind_of(raw: &str) -> Result<OnboardingKind, AppError> {
    OnboardingKind::parse(raw).ok_or_else(AppError::not_found)
}

fn lang_of(raw: &str) -> &'static str {
    crate::ui::i18n::supported(raw).unwrap_or(crate::ui::i18n::DEFAULT_LANG)
}

/// One kind's steps: `custom` is false when they are the defaults in `lang`.
pub async fn steps_json(
    state: &AppState,
    kind: OnboardingKind,
    lang: &str,
) -> Result<Value, crate::store::StoreError> {
    let (steps, custom) = super::source_steps(state, kind, lang).await?;
    Ok(json!({
        "kind": kind.as_str(),
        "custom": custom,
        "steps": steps.iter().map(|(title, body)| json!({"title": title, "body": body})).collect::<Vec<_>>(),
    }))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<LangQuery>,
) -> AppResult<Response> {
    let mut items = Vec::new();
    for kind in OnboardingKind::ALL {
        items.push(steps_json(&state, kind, lang_of(&q.lang)).await?);
    }
    Ok(crate::web::api::list(items, None))
}

pub(crate) async fn one(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(kind): Path<String>,
    Query(q): Query<LangQuery>,
) -> AppResult<Response> {
    let kind = kind_of(&kind)?;
    Ok(ok(steps_json(&state, kind, lang_of(&q.lang)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    title: String,
    #[serde(default)]
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepsBody {
    steps: Vec<StepBody>,
    /// The language the steps are written in (`en`, `es`); the default language when absent.
    /// A text when given: `null` is refused like any value of the wrong type.
    #[serde(default, deserialize_with = "text")]
    lang: Option<String>,
}

fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// The language a body or query names: one usher speaks, or a 422 that says which are.
pub fn language_of(raw: Option<&str>) -> Result<Language, AppError> {
    match raw.map(str::trim).filter(|l| !l.is_empty()) {
        None => Ok(Language::default_one()),
        Some(code) => Language::parse(code).ok_or_else(|| {
            AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "onb-bad-language",
            )
            .with_field("lang")
        }),
    }
}

impl StepsBody {
    pub fn language(&self) -> Result<Language, AppError> {
        language_of(self.lang.as_deref())
    }

    pub fn into_steps(self) -> Vec<(String, String)> {
        self.steps.into_iter().map(|s| (s.title, s.body)).collect()
    }
}

pub(crate) async fn replace(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(kind): Path<String>,
    Json(b): Json<StepsBody>,
) -> AppResult<Response> {
    let kind = kind_of(&kind)?;
    let lang = b.language()?;
    super::save_steps(&state, kind, lang, b.into_steps(), &c.actor).await?;
    Ok(ok(steps_json(&state, kind, lang.code()).await?))
}

pub(crate) async fn reset(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(kind): Path<String>,
    Query(q): Query<LangQuery>,
) -> AppResult<Response> {
    let kind = kind_of(&kind)?;
    let lang = language_of(Some(&q.lang))?;
    super::save_steps(&state, kind, lang, Vec::new(), &c.actor).await?;
    Ok(ok(steps_json(&state, kind, lang.code()).await?))
}

fn steps_schema() -> Value {
    obj(&[
        ("kind", string()),
        ("custom", boolean()),
        (
            "steps",
            arr(obj(&[("title", string()), ("body", string())])),
        ),
    ])
}

const KINDS: &[&str] = &[
    "plex",
    "plex_home",
    "jellyfin",
    "emby",
    "audiobookshelf",
    "navidrome",
    "komga",
    "kavita",
    "romm",
    "before",
];
const KIND_PARAM: Param = Param::path(
    "kind",
    "a server kind, plex_home, or before (the house rules)",
    ParamKind::OneOf(KINDS),
);
const LANG_PARAM: Param = Param::query(
    "lang",
    "the language: en or es; any other is en",
    ParamKind::Text,
);
const WRITTEN_IN: Param = Param::query(
    "lang",
    "the language whose steps go back to the built-in ones: en or es (en when left out)",
    ParamKind::Text,
);
const KIND: &[Param] = &[KIND_PARAM, LANG_PARAM];
const KIND_ONLY: &[Param] = &[KIND_PARAM];
const KIND_WRITTEN_IN: &[Param] = &[KIND_PARAM, WRITTEN_IN];
const LANG: &[Param] = &[LANG_PARAM];

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![
        (
            endpoint(
                "get",
                "/api/v1/onboarding",
                "onboarding",
                "Every kind's steps in a language (Markdown), the owner's or the built-in ones",
                LANG,
                None,
                200,
                || page_of(steps_schema()),
            ),
            get(list),
        ),
        (
            endpoint(
                "get",
                "/api/v1/onboarding/{kind}",
                "onboarding",
                "One kind's steps in a language",
                KIND,
                None,
                200,
                steps_schema,
            ),
            get(one),
        ),
        (
            endpoint(
                "put",
                "/api/v1/onboarding/{kind}",
                "onboarding",
                "Replace a kind's steps in one language, `lang` (en or es, en when left out; the other keeps its own): at most 20, a title of up to 100 characters, a Markdown body of up to 4,000",
                KIND_ONLY,
                Some(|| {
                    needs(
                        obj(&[
                            (
                                "steps",
                                arr(needs(
                                    obj(&[("title", string()), ("body", string())]),
                                    &["title"],
                                )),
                            ),
                            ("lang", string()),
                        ]),
                        &["steps"],
                    )
                }),
                200,
                steps_schema,
            ),
            put(replace),
        ),
        (
            endpoint(
                "post",
                "/api/v1/onboarding/{kind}/reset",
                "onboarding",
                "Go back to the built-in steps in one language",
                KIND_WRITTEN_IN,
                None,
                200,
                steps_schema,
            ),
            post(reset),
        ),
    ]
}
