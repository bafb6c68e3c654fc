//! What friends see: `/join`, `/i/{code}` with its redemption form and Sign in with Plex, the
//! welcome page, and the public JSON API for the same.

use crate::domain::ids::*;
use crate::web::extract::Query;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{OpenInvite, RedeemError, RedeemInput, Redeemed};
use crate::domain::GrantStatus;
use crate::domain::rules;
use crate::state::AppState;
use crate::web::error::Failure;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{self, Form, path_id};
use crate::web::visitor::Visitor;
use crate::web::{page, ser};

/// Turns "this code does not work" into the right page and status.
fn unusable(e: RedeemError) -> AppError {
    if matches!(e, RedeemError::RateLimited) {
        return AppError::too_many_requests();
    }
    let fields = field_messages(&e);
    let mut err = AppError::from(e);
    err.fields = fields;
    err
}

/// Each field to fix and how, for the form and the API alike.
fn field_messages(e: &RedeemError) -> Vec<crate::web::error::FieldMessage> {
    use crate::web::error::FieldMessage;
    match e {
        RedeemError::Fields(problems) => problems
            .iter()
            .map(|p| FieldMessage {
                field: p.field,
                key: p.key,
                value: p.value.clone(),
            })
            .collect(),
        RedeemError::Invalid { field, key, .. } if !field.is_empty() => vec![FieldMessage {
            field,
            key,
            value: None,
        }],
        RedeemError::Refused {
            field: Some(field),
            key,
            ..
        } => vec![FieldMessage {
            field,
            key,
            value: None,
        }],
        RedeemError::Passphrase => vec![FieldMessage {
            field: "passphrase",
            key: e.message_key(),
            value: None,
        }],
        _ => Vec::new(),
    }
}

/// Opens an invite for a visitor. The code-miss limiter slows guessing, not using: every
/// unknown code an address tries counts, and an address over the limit is answered "too many
/// attempts" for unknown codes, ended invites and codes the owner chose (a dictionary could
/// find those). A live invite with a generated code (about 49 bits) still opens, so a household
/// behind one address never locks itself out of a link it holds, while guessing stays as slow
/// as the limit makes it.
async fn lookup(
    state: &AppState,
    visitor: &Visitor,
    code: &str,
) -> Result<OpenInvite, RedeemError> {
    let ip = visitor.ip.to_string();
    let limiter = &state.limits.code_miss;
    let over = || limiter.retry_after(&ip, &state.clock) > 0;
    match super::open(state, code).await {
        Err(RedeemError::NotFound) if !limiter.check(&ip, &state.clock) => {
            Err(RedeemError::RateLimited)
        }
        Err(RedeemError::Unusable(_)) if over() => Err(RedeemError::RateLimited),
        Ok(open) if open.invite.custom_code && over() => Err(RedeemError::RateLimited),
        other => other,
    }
}

#[derive(Deserialize, Default)]
pub struct JoinQuery {
    #[serde(default)]
    code: Option<String>,
}

/// `/join`: type a code. A GET form, so it works from any link and needs no token. A code that
/// matches no invite keeps the box, with the mistake said next to it.
pub async fn join(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
    Query(q): Query<JoinQuery>,
) -> AppResult<Response> {
    let render = async |visitor: &Visitor, code: &str, error: Option<&str>, status: StatusCode| {
        let requests_open = state.store.requests_open().await?;
        let brand = crate::ui::brand::load(&state.store).await?;
        let html = page(
            &state,
            visitor,
            "join.html",
            context! { code, error, requests_open, brand },
        )?;
        Ok::<_, crate::web::error::AppError>(crate::web::page_cache::Rendered::page(status, html))
    };
    let Some(raw) = q.code.filter(|c| !c.trim().is_empty()) else {
        // The empty box is the same for everyone.
        return crate::web::page_cache::serve(&state, &visitor, &headers, true, async |v| {
            render(&v, "", None, StatusCode::OK).await
        })
        .await;
    };
    let raw = raw.trim();
    match lookup(&state, &visitor, raw).await {
        Ok(open) => Ok(Redirect::to(&format!("/i/{}", open.invite.code)).into_response()),
        // Ended invites have their own page (or lead back to this device's welcome page).
        Err(RedeemError::Unusable(_)) => {
            let code = rules::InviteCode::parse(raw)
                .map(rules::InviteCode::into_string)
                .unwrap_or_default();
            Ok(Redirect::to(&format!("/i/{code}")).into_response())
        }
        Err(e @ (RedeemError::NotFound | RedeemError::RateLimited)) => {
            let code: String = raw.chars().take(rules::MAX_CODE).collect();
            let rendered = render(&visitor, &code, Some(e.message_key()), e.status()).await?;
            Ok(rendered.into_response())
        }
        Err(e) => Err(unusable(e)),
    }
}

/// The invite page's context: what the invite opens and which fields to ask for.
fn invite_context(open: &OpenInvite) -> Result<Value, crate::store::StoreError> {
    let targets = super::target_views(&open.targets);
    let invite = &open.invite;
    Ok(context! {
        brand => crate::ui::brand::context(&open.settings.branding),
        code => &invite.code,
        label => &invite.label,
        targets => ser(&targets),
        needs_plex => open.needs_plex(),
        plex_servers => targets.iter().filter(|t| t.kind.is_plex()).map(|t| t.server_name.clone()).collect::<Vec<_>>(),
        local_servers => targets.iter().filter(|t| t.kind.uses_local_accounts()).map(|t| t.server_name.clone()).collect::<Vec<_>>(),
        needs_account => open.needs_account(),
        needs_username => open.needs_username(),
        // The servers whose rule for names is the one the form asks for, when narrower than usher's.
        username_rule => ser(open.username_rule()),
        strict_username_servers => targets.iter().filter(|t| {
            let caps = t.kind.capabilities();
            caps.local_accounts && !caps.login_is_email && caps.usernames == open.username_rule() && caps.usernames != media::UsernameRule::Any
        }).map(|t| t.server_name.clone()).collect::<Vec<_>>(),
        email_required_servers => targets.iter().filter(|t| t.kind.capabilities().email_required).map(|t| t.server_name.clone()).collect::<Vec<_>>(),
        email_login_servers => targets.iter().filter(|t| t.kind.capabilities().login_is_email).map(|t| t.server_name.clone()).collect::<Vec<_>>(),
        needs_passphrase => invite.passphrase_hash.is_some(),
        expires_at => invite.expires_at,
        access_days => invite.access_seconds.map(|s| (s + 86_399) / 86_400),
        uses_left => invite.max_uses.map(|m| m - invite.used),
    })
}

/// What the form remembers between attempts (never the password).
#[derive(Debug, Default, Clone, serde::Serialize)]
struct FormEcho {
    plex_account: String,
    email: String,
    username: String,
    /// A Plex account proven by Sign in with Plex, sealed so it cannot be forged.
    plex_verified: String,
    plex_verified_name: String,
}

async fn render_invite(
    state: &AppState,
    visitor: &Visitor,
    open: &OpenInvite,
    echo: &FormEcho,
    error: Option<&RedeemError>,
) -> AppResult<Response> {
    let (status, html) = invite_html(state, visitor, open, echo, error)?;
    let mut res = axum::response::Html(html).into_response();
    *res.status_mut() = status;
    Ok(res)
}

/// The invite page's HTML, with the form as the visitor last sent it and its mistakes.
fn invite_html(
    state: &AppState,
    visitor: &Visitor,
    open: &OpenInvite,
    echo: &FormEcho,
    error: Option<&RedeemError>,
) -> AppResult<(StatusCode, String)> {
    let ctx = invite_context(open)?;
    let settings = &open.settings;
    let vars = crate::onboarding::Vars {
        server_name: open
            .targets
            .iter()
            .map(|t| t.server_name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        owner_name: settings.owner_name.clone(),
        ..Default::default()
    };
    let rules: Vec<minijinja::Value> =
        crate::onboarding::render_steps(state, crate::domain::OnboardingKind::Before, visitor.lang, &vars, open.rules.clone())
        .into_iter()
        .map(|s| context! { title => Value::from_safe_string(s.title), html => Value::from_safe_string(s.html) })
        .collect();
    let ctx = context! { ..ctx, ..context! { rules, owner => &settings.owner_name } };
    // Each field's mistake is shown next to it; the box at the top says what is left over.
    let fields: std::collections::BTreeMap<&str, String> = error
        .map(field_messages)
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f.field,
                crate::web::visitor::field_message(state, visitor.lang, f),
            )
        })
        .collect();
    let error = error.map(|e| {
        let summary = !fields.is_empty();
        context! {
            key => e.message_key(),
            detail => if summary { None } else { e.detail() },
            field => e.field(),
            summary,
        }
    });
    let status = match error {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let html = page(
        state,
        visitor,
        "invite.html",
        context! { ..ctx, ..context! { form => ser(echo), error, fields } },
    )?;
    Ok((status, html.0))
}

pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
) -> AppResult<Response> {
    // Every friend sees the same page of an open invite; an address over the limit for wrong
    // codes is answered by the lookup itself, every time.
    let limited = state
        .limits
        .code_miss
        .retry_after(&visitor.ip.to_string(), &state.clock)
        > 0;
    crate::web::page_cache::serve(&state, &visitor, &headers, !limited, async |visitor| {
        use crate::web::page_cache::Rendered;
        let open = match lookup(&state, &visitor, &code).await {
            Ok(open) => open,
            Err(e @ RedeemError::Unusable(_)) => {
                // Used up by this very device: back to where it was welcomed.
                let canonical = rules::InviteCode::parse(&code)
                    .map(rules::InviteCode::into_string)
                    .unwrap_or_default();
                return match remembered_welcome(&state, &headers, &canonical) {
                    Some(url) => Ok(Rendered::Other(Redirect::to(&url).into_response())),
                    None => Err(unusable(e)),
                };
            }
            Err(e) => return Err(unusable(e)),
        };
        if open.invite.code != code {
            // One canonical URL per invite (codes match case-insensitively).
            return Ok(Rendered::Other(
                Redirect::permanent(&format!("/i/{}", open.invite.code)).into_response(),
            ));
        }
        let (_, html) = invite_html(&state, &visitor, &open, &FormEcho::default(), None)?;
        Ok(Rendered::Keep {
            status: StatusCode::OK,
            html,
            until: open.invite.expires_at,
        })
    })
    .await
}

#[derive(Deserialize, Default)]
pub struct RedeemForm {
    #[serde(default)]
    plex_account: String,
    #[serde(default)]
    plex_verified: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: media::Secret,
    #[serde(default)]
    password_confirm: media::Secret,
    #[serde(default)]
    passphrase: String,
    /// Honeypot: people never fill it.
    #[serde(default)]
    website: String,
    #[serde(default)]
    accept_rules: String,
}

fn welcome_sig(state: &AppState, code: &str, member_id: MemberId) -> String {
    state.key.sign("welcome", &format!("{code}:{member_id}"))[..32].to_string()
}

fn welcome_url(state: &AppState, code: &str, member_id: MemberId) -> String {
    let sig = welcome_sig(state, code, member_id);
    format!("/i/{code}/welcome?m={member_id}&sig={sig}")
}

/// Remembers on the device that redeemed where its welcome page is, so reopening the (now used)
/// invite link leads back there instead of to an error.
const WELCOME_COOKIE: &str = "usher_welcome";

/// The redirect to the welcome page after a redemption, remembering it for this invite's pages.
fn welcomed(state: &AppState, code: &str, member_id: MemberId) -> Response {
    let mut res = Redirect::to(&welcome_url(state, code, member_id)).into_response();
    let value = format!("{member_id}.{}", welcome_sig(state, code, member_id));
    res.headers_mut().append(
        axum::http::header::SET_COOKIE,
        crate::web::visitor::set_cookie_at(
            WELCOME_COOKIE,
            &value,
            &format!("/i/{code}"),
            90 * 86_400,
            state.config.is_https(),
            true,
        ),
    );
    res
}

/// The welcome page this device was sent to after redeeming `code`, if it was.
fn remembered_welcome(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    code: &str,
) -> Option<String> {
    let (member, sig) = crate::web::visitor::cookie(headers, WELCOME_COOKIE)?.split_once('.')?;
    let member_id: MemberId = member.parse().ok()?;
    crate::crypto::constant_time_eq(
        sig.as_bytes(),
        welcome_sig(state, code, member_id).as_bytes(),
    )
    .then(|| welcome_url(state, code, member_id))
}

pub async fn redeem_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<RedeemForm>,
) -> AppResult<Response> {
    if !state
        .limits
        .redeem
        .check(&visitor.ip.to_string(), &state.clock)
    {
        return Err(AppError::too_many_requests());
    }
    let open = lookup(&state, &visitor, &code).await.map_err(unusable)?;
    let verified = (!form.plex_verified.is_empty())
        .then(|| state.key.open(&form.plex_verified))
        .flatten();
    let echo = FormEcho {
        plex_account: form.plex_account.clone(),
        email: form.email.clone(),
        username: form.username.clone(),
        plex_verified: if verified.is_some() {
            form.plex_verified.clone()
        } else {
            String::new()
        },
        plex_verified_name: verified.clone().unwrap_or_default(),
    };
    if !form.website.is_empty() {
        // A bot filled the hidden field: look like a failure without doing anything.
        return render_invite(
            &state,
            &visitor,
            &open,
            &echo,
            Some(&RedeemError::Invalid {
                field: "",
                key: "error-bad-request",
                detail: String::new(),
            }),
        )
        .await;
    }
    let input = RedeemInput {
        plex_account: verified.unwrap_or(form.plex_account.clone()),
        email: form.email.clone(),
        username: form.username.clone(),
        password: form.password.clone(),
        password_confirm: Some(form.password_confirm.clone()),
        passphrase: form.passphrase.clone(),
        accepted_rules: form.accept_rules == "on",
        lang: visitor.lang.to_string(),
    };
    match super::redeem_opened(&state, &open, &input).await {
        Ok(done) => Ok(welcomed(&state, &open.invite.code, done.member_id)),
        Err(e @ (RedeemError::NotFound | RedeemError::Unusable(_))) => Err(unusable(e)),
        Err(RedeemError::Store(e)) => {
            tracing::error!(error = %e, "redemption failed");
            Err(AppError::internal())
        }
        Err(e) => render_invite(&state, &visitor, &open, &echo, Some(&e)).await,
    }
}

#[derive(Deserialize)]
pub struct WelcomeQuery {
    #[serde(default)]
    m: String,
    #[serde(default)]
    sig: String,
}

pub async fn welcome(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(q): Query<WelcomeQuery>,
) -> AppResult<Response> {
    let member_id = path_id(&q.m)?;
    let code = rules::InviteCode::parse(&code).ok_or_else(AppError::not_found)?;
    let expected = &state.key.sign("welcome", &format!("{code}:{member_id}"))[..32];
    if !crate::crypto::constant_time_eq(q.sig.as_bytes(), expected.as_bytes()) {
        return Err(AppError::not_found());
    }
    let member = state
        .store
        .member(member_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let grants = state.store.member_grants(member_id).await?;
    let setting_up = grants.iter().any(|g| g.status == GrantStatus::Provisioning);
    let settings = state.store.settings().await?;
    let mut with_steps = Vec::new();
    for g in &grants {
        let server = state.store.server(g.server_id).await?;
        let address = server.as_ref().and_then(|s| s.friend_address());
        let owner = if settings.owner_name.is_empty() {
            state.i18n.text(visitor.lang, "guide-owner-default")
        } else {
            settings.owner_name.clone()
        };
        let home = g.server_kind.is_plex() && g.permission_set().is_ok_and(|p| p.plex_home);
        let steps_kind = crate::domain::OnboardingKind::after_joining(g.server_kind, home);
        let vars = crate::onboarding::Vars {
            server_name: g.server_name.clone(),
            server_url: address.clone().unwrap_or_else(|| {
                state
                    .i18n
                    .get(
                        visitor.lang,
                        "onb-server-url-unknown",
                        &[("owner", owner.clone().into())],
                    )
                    .unwrap_or_default()
            }),
            owner_name: settings.owner_name.clone(),
            member_name: member.display_name.clone(),
            expires: g
                .expires_at
                .map(crate::clock::human)
                .unwrap_or_else(|| state.i18n.text(visitor.lang, "onb-never")),
        };
        let steps: Vec<Value> = crate::onboarding::steps(&state, steps_kind, visitor.lang, &vars)
            .await?
            .into_iter()
            .map(|s| context! { title => Value::from_safe_string(s.title), html => Value::from_safe_string(s.html) })
            .collect();
        let open_url = crate::onboarding::browser_url(g.server_kind, address.as_deref());
        let apps: Vec<Value> = crate::onboarding::app_links(g.server_kind)
            .iter()
            .map(|&(key, url)| context! { key, url })
            .collect();
        with_steps.push(context! { ..ser(g), ..context! { steps, address, open_url, apps, home } });
    }
    Ok(page(
        &state,
        &visitor,
        "welcome.html",
        context! {
            name => &member.display_name,
            brand => crate::ui::brand::context(&settings.branding),
            grants => with_steps,
            setting_up,
            refresh => welcome_url(&state, &code, member_id),
        },
    )?
    .into_response())
}

// --- Sign in with Plex for invitees ------------------------------------------------------------

fn pin_sig(state: &AppState, code: &str, pin: u64) -> String {
    state.key.sign("invite-plex-pin", &format!("{code}:{pin}"))[..32].to_string()
}

fn media_failure(e: media::MediaError) -> AppError {
    AppError::new(
        StatusCode::BAD_GATEWAY,
        "plex",
        crate::web::error::media_error_key(&e),
    )
    .with_detail(e.to_string())
}

pub async fn plex_start(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let open = lookup(&state, &visitor, &code).await.map_err(unusable)?;
    let auth = state.plex_auth().map_err(media_failure)?;
    let pin = auth.create_pin().await.map_err(media_failure)?;
    let code = &open.invite.code;
    let forward = format!(
        "{}/i/{code}/plex?pin={}&sig={}",
        state.public.base(),
        pin.id,
        pin_sig(&state, code, pin.id)
    );
    Ok(Redirect::to(&auth.auth_url(&pin, &forward)).into_response())
}

#[derive(Deserialize)]
pub struct PlexBack {
    #[serde(default)]
    pin: String,
    #[serde(default)]
    sig: String,
}

/// Plex sends the person back here. With the account known: an invite that only needs Plex is
/// redeemed at once; otherwise the form comes back with the Plex account filled in and locked.
pub async fn plex_back(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(q): Query<PlexBack>,
) -> AppResult<Response> {
    let open = lookup(&state, &visitor, &code).await.map_err(unusable)?;
    let code = open.invite.code.clone();
    let pin: u64 = q
        .pin
        .parse()
        .map_err(|_| AppError::bad_request("the sign-in link is incomplete"))?;
    if !crate::crypto::constant_time_eq(q.sig.as_bytes(), pin_sig(&state, &code, pin).as_bytes()) {
        return Err(AppError::bad_request(
            "the sign-in link was altered; start again",
        ));
    }
    let auth = state.plex_auth().map_err(media_failure)?;
    let Some(token) = auth.check_pin(pin).await.map_err(media_failure)? else {
        return Ok(page(
            &state,
            &visitor,
            "plex_wait_public.html",
            context! {
                retry => format!("/i/{code}/plex?pin={pin}&sig={}", q.sig), back => format!("/i/{code}"),
                brand => crate::ui::brand::context(&open.settings.branding),
            },
        )?
        .into_response());
    };
    let user = auth.user(&token).await.map_err(media_failure)?;
    // The person's token is not kept: only the account it proves.
    let account = if user.email.is_empty() {
        user.username.clone()
    } else {
        user.email.clone()
    };
    let no_rules = open.rules.is_empty();
    let only_plex = !open.needs_account() && open.invite.passphrase_hash.is_none() && no_rules;
    if only_plex {
        let input = RedeemInput {
            plex_account: account.clone(),
            lang: visitor.lang.to_string(),
            ..Default::default()
        };
        return match super::redeem_opened(&state, &open, &input).await {
            Ok(done) => Ok(welcomed(&state, &code, done.member_id)),
            Err(e @ (RedeemError::NotFound | RedeemError::Unusable(_))) => Err(unusable(e)),
            Err(RedeemError::Store(e)) => {
                tracing::error!(error = %e, "redemption failed");
                Err(AppError::internal())
            }
            Err(e) => {
                let echo = FormEcho {
                    plex_account: account,
                    ..Default::default()
                };
                render_invite(&state, &visitor, &open, &echo, Some(&e)).await
            }
        };
    }
    let echo = FormEcho {
        plex_verified: state.key.seal(&account),
        plex_verified_name: account.clone(),
        email: if user.email.is_empty() {
            String::new()
        } else {
            user.email.clone()
        },
        ..Default::default()
    };
    render_invite(&state, &visitor, &open, &echo, None).await
}

// --- public JSON API ----------------------------------------------------------------------------

fn api_error(e: RedeemError) -> AppError {
    if let RedeemError::Store(msg) = &e {
        tracing::error!(error = %msg, "redemption failed");
        return AppError::internal();
    }
    let field = e.field();
    let mut err = unusable(e);
    err.field = field;
    err
}

/// `GET /api/v1/invites/{code}`: whether a code works and what it grants; no secrets.
pub async fn api_show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let open = lookup(&state, &visitor, &code).await.map_err(api_error)?;
    let targets = super::target_views(&open.targets);
    let invite = &open.invite;
    Ok(Json(serde_json::json!({
        "code": invite.code,
        "valid": true,
        "label": invite.label,
        "expires_at": invite.expires_at.map(crate::clock::rfc3339),
        "access_days": invite.access_seconds.map(|s| (s + 86_399) / 86_400),
        "uses_left": invite.max_uses.map(|m| m - invite.used),
        "needs_passphrase": invite.passphrase_hash.is_some(),
        "servers": targets.iter().map(|t| serde_json::json!({
            "name": t.server_name,
            "kind": t.kind,
            "libraries": t.libraries,
            "needs": if t.kind.is_plex() {
                vec!["email or plex_username"]
            } else if t.kind.capabilities().login_is_email {
                vec!["email", "password"]
            } else if t.kind.capabilities().email_required {
                vec!["username", "email", "password"]
            } else {
                vec!["username", "password"]
            },
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RedeemJson {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    plex_username: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<media::Secret>,
    #[serde(default)]
    passphrase: Option<String>,
    #[serde(default)]
    accept_rules: bool,
}

/// `POST /api/v1/invites/{code}/redeem` → 201 with the member and each grant's status.
pub async fn api_redeem(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(code): Path<String>,
    extract::Json(body): extract::Json<RedeemJson>,
) -> AppResult<Response> {
    if !state
        .limits
        .redeem
        .check(&visitor.ip.to_string(), &state.clock)
    {
        return Err(AppError::too_many_requests());
    }
    let open = lookup(&state, &visitor, &code).await.map_err(api_error)?;
    let input = RedeemInput {
        plex_account: body.plex_username.unwrap_or_default(),
        email: body.email.unwrap_or_default(),
        username: body.username.unwrap_or_default(),
        password: body.password.unwrap_or_default(),
        password_confirm: None,
        passphrase: body.passphrase.unwrap_or_default(),
        accepted_rules: body.accept_rules,
        lang: visitor.lang.to_string(),
    };
    let done: Redeemed = super::redeem_opened(&state, &open, &input)
        .await
        .map_err(api_error)?;
    Ok((StatusCode::CREATED, Json(redeemed_json(&done))).into_response())
}

pub fn redeemed_json(done: &Redeemed) -> serde_json::Value {
    serde_json::json!({
        "member": {
            "id": done.member_id,
            "name": done.display_name,
            "expires_at": done.expires_at.map(crate::clock::rfc3339),
        },
        "setting_up": done.setting_up,
        "grants": done.grants.iter().map(|g| serde_json::json!({
            "server": g.server_name,
            "kind": g.server_kind,
            "status": g.status,
            "account": g.identity,
            "expires_at": g.expires_at.map(crate::clock::rfc3339),
        })).collect::<Vec<_>>(),
    })
}
