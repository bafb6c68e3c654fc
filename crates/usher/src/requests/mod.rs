//! Access requests: the public form, the owner's decision (web or Telegram), and what approval
//! makes: Plex shares provisioned at once, and for Jellyfin/Emby a personal one-use invite so the
//! requester chooses their own user name and password.

pub mod admin;
pub mod api;
pub mod bot;
pub mod cli;
pub mod keyboard;
pub mod public;

use crate::domain::RequestStatus;
use crate::domain::ids::*;
use crate::domain::rules;
use crate::domain::settings::Settings;
use crate::notify;
use crate::provisioning;
use crate::state::AppState;
use crate::store::events::NewEvent;
use crate::store::invites::{NewGrant, NewMember, ReserveError};
use crate::store::requests::{NewRequest, RequestRow};

/// What the public form sends.
#[derive(Debug, Clone, Default)]
pub struct RequestInput {
    pub name: String,
    pub email: String,
    pub note: String,
    pub passphrase: String,
    /// The honeypot field; people never fill it.
    pub website: String,
    /// The form's language; answers to the requester use it (unknown or empty: English).
    pub lang: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("requests are closed")]
    Closed,
    #[error("{field}: {key}")]
    Invalid {
        field: &'static str,
        key: &'static str,
    },
    #[error("wrong passphrase")]
    Passphrase,
    #[error("this email already has a pending request")]
    AlreadyPending,
    #[error("too many requests from this address")]
    RateLimited,
    #[error("too many requests for this email")]
    TooManyForEmail,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// How a refused request is answered, on the form and in its JSON API alike.
impl crate::web::error::Failure for SubmitError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            SubmitError::Closed => S::NOT_FOUND,
            SubmitError::Invalid { .. } => S::UNPROCESSABLE_ENTITY,
            SubmitError::Passphrase => S::FORBIDDEN,
            SubmitError::AlreadyPending => S::CONFLICT,
            SubmitError::RateLimited | SubmitError::TooManyForEmail => S::TOO_MANY_REQUESTS,
            SubmitError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SubmitError::Closed => "closed",
            SubmitError::Store(_) => "internal",
            _ => "refused",
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            SubmitError::Closed => "request-closed",
            SubmitError::Invalid { key, .. } => key,
            SubmitError::Passphrase => "request-passphrase",
            SubmitError::AlreadyPending => "request-already-pending",
            SubmitError::RateLimited => "request-rate-limited",
            SubmitError::TooManyForEmail => "request-email-rate-limited",
            SubmitError::Store(_) => "error-internal",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            SubmitError::Invalid { field, .. } => Some(field),
            SubmitError::Passphrase => Some("passphrase"),
            SubmitError::AlreadyPending | SubmitError::TooManyForEmail => Some("email"),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Recorded and the owner told.
    Pending(RequestId),
    /// Auto-approve is on: access was granted at once.
    Approved(RequestId),
    /// A bot: answered like a success, nothing kept.
    Dropped,
}

/// Whether only Plex servers can be requested (then a Plex user name is accepted instead of an
/// email).
pub fn plex_only(servers: &[crate::store::servers::ServerRow]) -> bool {
    !servers.is_empty() && servers.iter().all(|s| s.kind.is_plex())
}

pub fn passphrase_hash(state: &AppState, passphrase: &str) -> String {
    state.key.sign("request-passphrase", passphrase.trim())
}

pub async fn submit(
    state: &AppState,
    input: &RequestInput,
    ip: &str,
) -> Result<Submitted, SubmitError> {
    let settings = state.store.settings().await?;
    if !settings.requests.enabled {
        return Err(SubmitError::Closed);
    }
    if !input.website.trim().is_empty() {
        tracing::info!("request form honeypot filled; dropped");
        return Ok(Submitted::Dropped);
    }
    let servers = state.store.requestable_servers(&settings).await?;
    if servers.is_empty() {
        return Err(SubmitError::Closed);
    }
    let name = input.name.trim();
    if !(2..=100).contains(&name.chars().count()) || name.chars().any(crate::text::unprintable) {
        return Err(SubmitError::Invalid {
            field: "name",
            key: "request-bad-name",
        });
    }
    let email = input.email.trim();
    let email = if plex_only(&servers) && !email.contains('@') {
        let ok = !email.is_empty()
            && email.len() <= 64
            && email
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok {
            return Err(SubmitError::Invalid {
                field: "email",
                key: "request-bad-plex-email",
            });
        }
        email.to_string()
    } else {
        rules::Email::parse(email)
            .map_err(|_| SubmitError::Invalid {
                field: "email",
                key: "request-bad-email",
            })?
            .into_string()
    };
    let note = input.note.trim();
    if note.chars().count() > 500 {
        return Err(SubmitError::Invalid {
            field: "note",
            key: "request-note-too-long",
        });
    }
    if let Some(hash) = &settings.requests.passphrase_hash {
        let given = passphrase_hash(state, &input.passphrase);
        if !crate::crypto::constant_time_eq(given.as_bytes(), hash.as_bytes()) {
            return Err(SubmitError::Passphrase);
        }
    }
    // A repeat of a waiting request is answered without spending the address's budget.
    if state.store.has_pending_request(&email).await? {
        return Err(SubmitError::AlreadyPending);
    }
    if !state.limits.request_ip.check_max(
        ip,
        settings.requests.per_ip_per_hour as usize,
        &state.clock,
    ) {
        return Err(SubmitError::RateLimited);
    }
    // Someone declined over and over does not fill the owner's queue from many addresses.
    if !state
        .limits
        .request_email
        .check(&email.to_lowercase(), &state.clock)
    {
        return Err(SubmitError::TooManyForEmail);
    }
    let now = state.clock.now();
    let id = state
        .store
        .insert_request(
            NewRequest {
                name,
                email: &email,
                note: (!note.is_empty()).then_some(note),
                client_ip: ip,
                expires_at: now + settings.requests.expiry_hours.max(1) * 3600,
                lang: crate::ui::i18n::supported(&input.lang)
                    .unwrap_or(crate::ui::i18n::DEFAULT_LANG),
            },
            now,
        )
        .await?
        .ok_or(SubmitError::AlreadyPending)?;
    state
        .store
        .append_event(
            NewEvent {
                actor: name,
                action: "request.created",
                subject: Some(&email),
                detail: (!note.is_empty()).then_some(note),
            },
            now,
        )
        .await?;
    let created = notify::Event::new(notify::Kind::RequestCreated, now)
        .with("request_id", id)
        .with("name", name)
        .with("email", email.as_str())
        .with("note", note)
        .link(state, "/admin/requests");
    notify::emit(state, created).await;
    if settings.requests.auto_approve {
        let selection = starting_selection(state, &settings).await?;
        match approve(state, id, &selection, "auto-approve").await {
            Ok(_) => return Ok(Submitted::Approved(id)),
            // The request stays pending for the owner to look at.
            Err(e) => tracing::warn!(error = %e, request = %id, "auto-approve failed"),
        }
    }
    if let Some(r) = state.store.request(id).await? {
        bot::queue_announcement(state, &r).await;
    }
    Ok(Submitted::Pending(id))
}

pub use crate::domain::access::{Selection, ServerChoice, TargetInput};

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    let r = r.api(api::endpoints());
    use crate::web::APPROVER;
    use crate::web::Access::Public;
    r.get("/admin/requests", APPROVER, admin::list)
        .post("/admin/requests/{id}/approve", APPROVER, admin::approve)
        .post("/admin/requests/{id}/decline", APPROVER, admin::decline)
        .get("/request", Public, public::form)
        .post("/request", Public, public::submit)
        .get("/request/sent", Public, public::sent)
        // Browsers ask before posting a request from another site.
        .add(
            axum::http::Method::OPTIONS,
            "/api/v1/requests",
            Public,
            axum::routing::options(public::api_preflight),
        )
}

/// Where every approval starts (the web picker, the Telegram picker, auto-approve, the CLI and
/// the API): the request profile when the owner chose one, else the servers ticked for requests
/// with their default libraries and permissions.
pub async fn starting_selection(
    state: &AppState,
    settings: &Settings,
) -> Result<Selection, crate::store::StoreError> {
    if let Some(pid) = settings.requests.profile_id {
        match crate::profiles::selection(state, pid).await {
            Ok(selection) => return Ok(selection),
            // A deleted profile falls back to the defaults rather than blocking approvals.
            Err(e) => {
                tracing::warn!(error = %e, profile = %pid, "the request profile cannot be used")
            }
        }
    }
    default_selection(state, settings).await
}

/// The servers ticked for requests with their default libraries and permissions.
pub async fn default_selection(
    state: &AppState,
    settings: &Settings,
) -> Result<Selection, crate::store::StoreError> {
    let mut servers = Vec::new();
    for s in state
        .store
        .requestable_servers(settings)
        .await?
        .into_iter()
        .filter(|s| s.request_default)
    {
        let libraries: Vec<String> = state
            .store
            .libraries(s.id)
            .await?
            .into_iter()
            .filter(|l| l.enabled && l.present && l.is_default)
            .map(|l| l.remote_id)
            .collect();
        if libraries.is_empty() {
            continue;
        }
        servers.push(ServerChoice {
            server_id: s.id,
            libraries,
            permissions: s.defaults(),
        });
    }
    Ok(Selection {
        servers,
        duration: settings.requests.access_duration.clone(),
        profile_id: None,
    })
}

/// An approval's choice as the API and the CLI name it: a profile (else where approvals start),
/// then any servers named with their libraries and permission changes in place of its servers,
/// then the duration. A server left without libraries falls back to where it started.
pub async fn chosen_selection(
    state: &AppState,
    profile: Option<ProfileId>,
    targets: Option<Vec<TargetInput>>,
    duration: Option<String>,
) -> Result<Selection, DecideError> {
    let mut selection = match profile {
        Some(pid) => crate::profiles::selection(state, pid)
            .await
            .map_err(|e| DecideError::Invalid(format!("profile {pid}: {e}")))?,
        None => starting_selection(state, &state.store.settings().await?).await?,
    };
    if let Some(targets) = targets {
        let mut chosen = Vec::new();
        for t in targets {
            let server = state.store.server(t.server_id).await?.ok_or_else(|| {
                DecideError::Invalid(format!("there is no server {}", t.server_id))
            })?;
            let start = selection.servers.iter().find(|s| s.server_id == server.id);
            let libraries = match t.libraries {
                Some(l) => l,
                None => start.map(|s| s.libraries.clone()).unwrap_or_else(Vec::new),
            };
            let base = start
                .map(|s| s.permissions.clone())
                .unwrap_or_else(|| server.defaults());
            let permissions = t
                .permissions
                .unwrap_or_default()
                .applied_to(&base, server.kind.is_plex())
                .map_err(|e| DecideError::Invalid(format!("{}: {e}", server.name)))?;
            chosen.push(ServerChoice {
                server_id: server.id,
                libraries,
                permissions,
            });
        }
        selection.servers = chosen;
    }
    if let Some(d) = duration {
        if crate::domain::rules::AccessLength::parse(&d).is_err() {
            return Err(DecideError::Invalid(
                "write the access duration like 30d, or forever".into(),
            ));
        }
        selection.duration = if d.trim() == "forever" {
            String::new()
        } else {
            d
        };
    }
    Ok(selection)
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no such request")]
    NotFound,
    #[error("this request was already {0}")]
    AlreadyDecided(RequestStatus),
    #[error("choose at least one library")]
    NothingChosen,
    #[error("{0}")]
    Invalid(String),
    /// A server refused; the request is pending again so it can be retried.
    #[error("{server} refused: {message}")]
    Refused { server: String, message: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl crate::web::error::Failure for DecideError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            DecideError::NotFound => S::NOT_FOUND,
            DecideError::AlreadyDecided(_) => S::CONFLICT,
            DecideError::NothingChosen | DecideError::Invalid(_) => S::UNPROCESSABLE_ENTITY,
            DecideError::Refused { .. } => S::BAD_GATEWAY,
            DecideError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            DecideError::NotFound => "not_found",
            DecideError::AlreadyDecided(_) => "already_decided",
            DecideError::NothingChosen | DecideError::Invalid(_) => "invalid",
            DecideError::Refused { .. } => "server_refused",
            DecideError::Store(_) => "internal",
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            DecideError::NotFound => "error-not-found",
            _ => "error-bad-request",
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            DecideError::NotFound | DecideError::Store(_) => None,
            DecideError::AlreadyDecided(s) => Some(format!("the request is already {s}")),
            DecideError::Refused { server, message } => Some(format!("{server}: {message}")),
            other => Some(other.to_string()),
        }
    }
}

/// What an approval produced, in words for the owner.
#[derive(Debug, Clone)]
pub struct Approved {
    pub summary: String,
    pub member_id: Option<MemberId>,
    pub invite_url: Option<String>,
}

/// Why a decision found the request no longer pending: decided by someone else, or expired
/// (its time ran out though the sweep has not marked it yet).
async fn already_decided(state: &AppState, id: RequestId) -> DecideError {
    match state.store.request(id).await {
        Ok(Some(current)) if current.status.is_pending() => {
            DecideError::AlreadyDecided(RequestStatus::Expired)
        }
        Ok(Some(current)) => DecideError::AlreadyDecided(current.status),
        Ok(None) => DecideError::NotFound,
        Err(e) => e.into(),
    }
}

/// Approves a pending request with the chosen libraries. Exactly one approval wins however many
/// times it is pressed; a refusal puts the request back to pending with the reason.
pub async fn approve(
    state: &AppState,
    id: RequestId,
    selection: &Selection,
    actor: &str,
) -> Result<Approved, DecideError> {
    let request = state
        .store
        .request(id)
        .await?
        .ok_or(DecideError::NotFound)?;
    let chosen: Vec<&ServerChoice> = selection
        .servers
        .iter()
        .filter(|s| !s.libraries.is_empty())
        .collect();
    if chosen.is_empty() {
        return Err(DecideError::NothingChosen);
    }
    let now = state.clock.now();
    let access_seconds = rules::AccessLength::parse(&selection.duration)
        .map_err(|e| DecideError::Invalid(e.to_string()))?
        .seconds();
    let mut servers = Vec::new();
    let mut checked = Vec::new();
    for c in &chosen {
        let s = state
            .store
            .server(c.server_id)
            .await?
            .ok_or_else(|| DecideError::Invalid("that server was removed".into()))?;
        if s.cannot_keep_to(&state.store.libraries(s.id).await?, &c.libraries) {
            return Err(DecideError::Invalid(s.cannot_keep_note()));
        }
        // The same checks an invite's permissions get (streams, content filters).
        let permissions = crate::domain::access::PermissionChanges::from(c.permissions.clone())
            .applied_to(&c.permissions, s.kind.is_plex())
            .map_err(|e| DecideError::Invalid(format!("{}: {e}", s.name)))?;
        checked.push(ServerChoice {
            permissions,
            ..(*c).clone()
        });
        servers.push(s);
    }
    let servers: Vec<(crate::store::servers::ServerRow, &ServerChoice)> =
        servers.into_iter().zip(checked.iter()).collect();
    if !state
        .store
        .decide_request(id, RequestStatus::Approved, actor, None, now)
        .await?
    {
        return Err(already_decided(state, id).await);
    }

    let mut parts = Vec::new();
    let mut member_id = None;
    // Plex: share with the requester's Plex account now.
    let plex: Vec<_> = servers.iter().filter(|(s, _)| s.kind.is_plex()).collect();
    if !plex.is_empty() {
        let grants: Vec<NewGrant> = plex
            .iter()
            .map(|(s, c)| NewGrant {
                server_id: s.id,
                identity: request.email.clone(),
                libraries: c.libraries.clone(),
                permissions: c.permissions.clone(),
                expires_at: access_seconds.map(|a| now + a),
                payload: None,
                profile_id: selection.profile_id,
            })
            .collect();
        let member = NewMember {
            display_name: &request.name,
            email: request
                .email
                .contains('@')
                .then_some(request.email.as_str()),
            plex_account: Some(&request.email),
            username: None,
            identity_key: &format!("request:{}", request.id),
            origin: crate::domain::MemberOrigin::Request,
            invite_id: None,
            invite_code: None,
            lang: &request.lang,
        };
        let reservation = match state.store.create_member(member, &grants, now).await {
            Ok(r) => r,
            Err(ReserveError::Db(e)) => return Err(DecideError::Store(e.into())),
            // Only invites can be used up or redeemed twice; a request's member is always new.
            Err(e) => return Err(DecideError::Invalid(e.to_string())),
        };
        let setup = provisioning::provision_or_undo(
            state,
            reservation.member_id,
            &reservation.job_ids,
            None,
        )
        .await?;
        let made = match setup {
            provisioning::Setup::Made(made) => made,
            provisioning::Setup::Refused { server, error } => {
                let message = error.to_string();
                state
                    .store
                    .reopen_request(id, &format!("{server}: {message}"))
                    .await?;
                event(
                    state,
                    actor,
                    "request.approval_failed",
                    &request,
                    Some(&message),
                )
                .await?;
                return Err(DecideError::Refused { server, message });
            }
        };
        member_id = Some(reservation.member_id);
        for g in &made {
            parts.push(format!(
                "{} ({})",
                g.server_name,
                state
                    .store
                    .library_names(g.server_id, &g.library_ids()?)
                    .await?
            ));
        }
    }

    // Jellyfin/Emby: a personal invite; the requester picks their own name and password.
    let local: Vec<_> = servers
        .iter()
        .filter(|(s, _)| s.kind.uses_local_accounts())
        .collect();
    let mut invite_url = None;
    let mut invite_id = None;
    if !local.is_empty() {
        let input = crate::invites::CreateInput {
            targets: local
                .iter()
                .map(|(s, c)| crate::invites::TargetInput {
                    server_id: s.id,
                    libraries: Some(c.libraries.clone()),
                    permissions: Some(c.permissions.clone().into()),
                })
                .collect(),
            uses: "1".into(),
            expires: "7d".into(),
            duration: selection.duration.clone(),
            // Whoever joins through it keeps the profile the approval came from.
            profile: selection.profile_id,
            label: format!("Request from {}", request.name)
                .chars()
                .take(100)
                .collect(),
            ..Default::default()
        };
        match crate::invites::create(state, &input, actor).await {
            Ok(invite) => {
                invite_url = Some(crate::invites::invite_url(state, &invite.code));
                invite_id = Some(invite.id);
                for (s, c) in &local {
                    parts.push(format!(
                        "{} ({})",
                        s.name,
                        state.store.library_names(s.id, &c.libraries).await?
                    ));
                }
            }
            Err(e) => {
                let message = e.to_string();
                state.store.reopen_request(id, &message).await?;
                return Err(DecideError::Invalid(message));
            }
        }
    }

    let summary = parts.join(", ");
    state
        .store
        .set_request_outcome(id, member_id, invite_id, &summary)
        .await?;
    event(state, actor, "request.approved", &request, Some(&summary)).await?;
    let approved = decided(state, notify::Kind::RequestApproved, &request, actor)
        .with("access", summary.as_str())
        .with("member_id", member_id)
        .link(
            state,
            &member_id
                .map(|m| format!("/admin/members/{m}"))
                .unwrap_or_else(|| "/admin/requests".into()),
        );
    notify::emit(state, approved).await;
    bot::queue_outcome(state, id).await;
    tell_requester_approved(
        state,
        &request,
        &summary,
        invite_url.as_deref(),
        !plex.is_empty(),
    )
    .await;
    Ok(Approved {
        summary,
        member_id,
        invite_url,
    })
}

/// How an approved requester who chooses their own login (Jellyfin, Emby) gets in: the personal
/// one-use link the approval made, and whether usher emailed it, so the owner knows whether to
/// pass it on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Handoff {
    pub url: String,
    pub code: String,
    /// The address it was emailed to; `None` when email is not set up or the request has none.
    pub emailed_to: Option<String>,
    /// The requester has used it.
    pub used: bool,
}

pub async fn handoff(
    state: &AppState,
    settings: &Settings,
    r: &RequestRow,
) -> Result<Option<Handoff>, crate::store::StoreError> {
    let Some(invite) = (match r.invite_id {
        Some(id) if r.status == RequestStatus::Approved => state.store.invite_by_id(id).await?,
        _ => None,
    }) else {
        return Ok(None);
    };
    let smtp = &settings.smtp;
    Ok(Some(Handoff {
        url: crate::invites::invite_url(state, &invite.code),
        code: invite.code,
        emailed_to: (smtp.configured() && r.email.contains('@')).then(|| r.email.clone()),
        used: invite.max_uses.is_some_and(|m| invite.used >= m),
    }))
}

pub async fn decline(
    state: &AppState,
    id: RequestId,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), DecideError> {
    let request = state
        .store
        .request(id)
        .await?
        .ok_or(DecideError::NotFound)?;
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(500).collect::<String>());
    if !state
        .store
        .decide_request(
            id,
            RequestStatus::Declined,
            actor,
            reason.as_deref(),
            state.clock.now(),
        )
        .await?
    {
        return Err(already_decided(state, id).await);
    }
    event(
        state,
        actor,
        "request.declined",
        &request,
        reason.as_deref(),
    )
    .await?;
    let declined = decided(state, notify::Kind::RequestDeclined, &request, actor)
        .with("reason", reason.as_deref().unwrap_or_default())
        .link(state, "/admin/requests");
    notify::emit(state, declined).await;
    bot::queue_outcome(state, id).await;
    if request.email.contains('@') {
        let told = notify::Event::new(notify::Kind::RequestDeclined, state.clock.now())
            .with("name", request.name.as_str())
            .with("has_reason", if reason.is_some() { "yes" } else { "no" })
            .with("reason", reason.as_deref().unwrap_or_default());
        notify::email_person(state, &request.email, &request.lang, &told).await;
    }
    Ok(())
}

/// Ends pending requests whose time ran out; their Telegram messages say so.
pub async fn expire(state: &AppState) -> Result<Vec<RequestRow>, crate::store::StoreError> {
    let expired = state.store.expire_requests(state.clock.now()).await?;
    for r in &expired {
        event(state, "usher", "request.expired", r, None).await?;
        bot::queue_outcome(state, r.id).await;
    }
    Ok(expired)
}

/// A decision on a request, for the owner's channels.
fn decided(state: &AppState, kind: notify::Kind, r: &RequestRow, actor: &str) -> notify::Event {
    notify::Event::new(kind, state.clock.now())
        .with("request_id", r.id)
        .with("name", r.name.as_str())
        .with("email", r.email.as_str())
        .with("by", actor)
}

async fn event(
    state: &AppState,
    actor: &str,
    action: &str,
    r: &RequestRow,
    detail: Option<&str>,
) -> Result<(), crate::store::StoreError> {
    let subject = format!("{} <{}>", r.name, r.email);
    state
        .record_event(actor, action, Some(&subject), detail)
        .await
}

/// Tells the requester by email (through the outbox, retried like every message), in the
/// language of the form they used.
async fn tell_requester_approved(
    state: &AppState,
    r: &RequestRow,
    summary: &str,
    invite_url: Option<&str>,
    plex: bool,
) {
    if !r.email.contains('@') {
        return;
    }
    let how = match (plex, invite_url.is_some()) {
        (true, true) => "both",
        (true, false) => "plex",
        (false, true) => "invite",
        (false, false) => "none",
    };
    let event = notify::Event::new(notify::Kind::RequestApproved, state.clock.now())
        .with("name", r.name.as_str())
        .with("access", summary)
        .with("how", how)
        .with("url", invite_url.unwrap_or_default());
    notify::email_person(state, &r.email, &r.lang, &event).await;
}
