//! Invites: created by the owner (web or CLI), redeemed by friends exactly as many times as
//! allowed, each redemption provisioned on every server the invite names.

pub mod admin;
pub mod api;
pub mod cli;
pub mod public;

use crate::domain::ids::*;
use media::Permissions;
use serde::Serialize;

use crate::clock::Timestamp;
use crate::domain::GrantStatus;
use crate::domain::rules::{self, RuleError, Unusable};
use crate::provisioning;
use crate::state::AppState;
use crate::store::events::NewEvent;
use crate::store::invites::{
    GrantRow, InviteRow, InviteTargetRow, NewGrant, NewInvite, NewMember, NewTarget, ReserveError,
};

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    let r = r.api(api::endpoints());
    use crate::web::ADMIN;
    use crate::web::Access::Public;
    r.get("/admin/invites", ADMIN, admin::list)
        .post("/admin/invites", ADMIN, admin::create)
        .get("/admin/invites/new", ADMIN, admin::new_form)
        .get("/admin/invites.csv", ADMIN, admin::csv)
        .get("/admin/invites/{code}", ADMIN, admin::detail)
        .get("/admin/invites/{code}/qr.svg", ADMIN, admin::qr_svg)
        .post("/admin/invites/{code}/disable", ADMIN, admin::disable)
        .post("/admin/invites/{code}/enable", ADMIN, admin::enable)
        .post("/admin/invites/{code}/delete", ADMIN, admin::delete)
        // What friends see.
        .get("/join", Public, public::join)
        .get("/i/{code}", Public, public::show)
        .post("/i/{code}", Public, public::redeem_form)
        .get("/i/{code}/plex", Public, public::plex_back)
        .post("/i/{code}/plex", Public, public::plex_start)
        .get("/i/{code}/welcome", Public, public::welcome)
}

pub use crate::domain::access::TargetInput;

#[derive(Debug, Clone, Default)]
pub struct CreateInput {
    pub targets: Vec<TargetInput>,
    pub uses: String,
    pub expires: String,
    pub duration: String,
    pub label: String,
    pub passphrase: String,
    pub code: String,
    /// Make the invite from a profile: its servers (when `targets` is empty) and duration
    /// (when `duration` is empty), and members made from it keep the profile.
    pub profile: Option<ProfileId>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("{field}: {source}")]
    Rule {
        field: &'static str,
        source: RuleError,
    },
    #[error("choose at least one server")]
    NoServer,
    #[error("there is no server with id {0}")]
    UnknownServer(ServerId),
    #[error("`{library}` is not a library offered on {server}")]
    UnknownLibrary { server: String, library: String },
    #[error("choose at least one library on {0}")]
    NoLibrary(String),
    /// [`crate::store::servers::ServerRow::cannot_keep_note`].
    #[error("{0}")]
    CannotLimit(String),
    #[error("the code {0} is already taken")]
    CodeTaken(String),
    #[error("the label is at most 100 characters")]
    LabelTooLong,
    #[error("a passphrase is 4–128 characters")]
    BadPassphrase,
    #[error("there is no such profile")]
    UnknownProfile,
    #[error("{server}: {source}")]
    Permission {
        server: String,
        source: crate::domain::access::PermissionError,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Every refusal of a new invite is a field to fix (422), but a code someone else has (409).
impl crate::web::error::Failure for CreateError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            CreateError::CodeTaken(_) => S::CONFLICT,
            CreateError::Store(_) => S::INTERNAL_SERVER_ERROR,
            _ => S::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            CreateError::Store(_) => "internal",
            _ => "invalid",
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            CreateError::Rule { source, .. } => match source {
                RuleError::BadCode => "invite-bad-code",
                RuleError::BadDuration => "invite-bad-duration",
                RuleError::BadExpiry => "invite-bad-expiry",
                RuleError::ExpiryInPast => "invite-expiry-past",
                RuleError::BadUses => "invite-bad-uses",
                RuleError::BadEmail => "redeem-bad-email",
            },
            CreateError::NoServer | CreateError::UnknownServer(_) => "invite-no-server",
            CreateError::UnknownLibrary { .. } | CreateError::NoLibrary(_) => "invite-no-library",
            CreateError::CannotLimit(_) => "access-cannot-limit",
            CreateError::CodeTaken(_) => "invite-code-taken",
            CreateError::LabelTooLong => "invite-label-too-long",
            CreateError::BadPassphrase => "invite-bad-passphrase",
            CreateError::UnknownProfile => "invite-unknown-profile",
            CreateError::Permission { .. } => "invite-bad-permission",
            CreateError::Store(_) => "error-internal",
        }
    }

    fn field(&self) -> Option<&'static str> {
        Some(CreateError::field(self)).filter(|f| !f.is_empty())
    }

    /// What the sentence cannot say by itself: which server, library or code.
    fn detail(&self) -> Option<String> {
        match self {
            CreateError::UnknownServer(_)
            | CreateError::UnknownLibrary { .. }
            | CreateError::NoLibrary(_)
            | CreateError::CannotLimit(_)
            | CreateError::CodeTaken(_)
            | CreateError::Permission { .. } => Some(self.to_string()),
            _ => None,
        }
    }
}

impl CreateError {
    pub fn field(&self) -> &'static str {
        match self {
            CreateError::Rule { field, .. } => field,
            CreateError::NoServer | CreateError::UnknownServer(_) => "servers",
            CreateError::UnknownLibrary { .. }
            | CreateError::NoLibrary(_)
            | CreateError::CannotLimit(_) => "libraries",
            CreateError::CodeTaken(_) => "code",
            CreateError::LabelTooLong => "label",
            CreateError::BadPassphrase => "passphrase",
            CreateError::UnknownProfile => "profile",
            CreateError::Permission { source, .. } => source.field(),
            CreateError::Store(_) => "",
        }
    }
}

/// A hash of a passphrase bound to this installation's key. Passphrases are short shared
/// secrets checked on a rate-limited page, so a keyed hash is enough and keeps checks cheap.
fn passphrase_hash(state: &AppState, passphrase: &str) -> String {
    state.key.sign("invite-passphrase", passphrase.trim())
}

pub async fn create(
    state: &AppState,
    input: &CreateInput,
    actor: &str,
) -> Result<InviteRow, CreateError> {
    create_in_batch(state, input, actor, None).await
}

/// Creates `count` single-use invites at once, sharing a batch id (for listing and CSV).
pub async fn create_many(
    state: &AppState,
    input: &CreateInput,
    count: u32,
    actor: &str,
) -> Result<(String, Vec<InviteRow>), CreateError> {
    if !(1..=500).contains(&count) {
        return Err(CreateError::Rule {
            field: "count",
            source: RuleError::BadUses,
        });
    }
    if !input.code.trim().is_empty() && count > 1 {
        return Err(CreateError::Rule {
            field: "code",
            source: RuleError::BadCode,
        });
    }
    let batch = crate::crypto::random_token()[..12].to_string();
    let mut one = input.clone();
    one.uses = "1".into();
    let mut out = Vec::new();
    for _ in 0..count {
        out.push(create_in_batch(state, &one, actor, Some(&batch)).await?);
    }
    Ok((batch, out))
}

async fn create_in_batch(
    state: &AppState,
    input: &CreateInput,
    actor: &str,
    batch: Option<&str>,
) -> Result<InviteRow, CreateError> {
    let mut input = input.clone();
    if let Some(pid) = input.profile {
        let (profile, targets) = crate::profiles::invite_targets(state, pid)
            .await
            .map_err(|_| CreateError::UnknownProfile)?;
        if input.targets.is_empty() {
            input.targets = targets;
        }
        if input.duration.trim().is_empty() {
            input.duration = profile.duration;
        }
    }
    let input = &input;
    let now = state.clock.now();
    let rule = |field| move |source| CreateError::Rule { field, source };
    let max_uses = rules::parse_uses(&input.uses).map_err(rule("uses"))?;
    let expires_at = rules::parse_expiry(&input.expires, now).map_err(rule("expires"))?;
    let access_seconds = rules::AccessLength::parse(&input.duration)
        .map_err(rule("duration"))?
        .seconds();
    let label = input.label.trim();
    if label.chars().count() > 100 {
        return Err(CreateError::LabelTooLong);
    }
    let passphrase = input.passphrase.trim();
    if !passphrase.is_empty() && !(4..=128).contains(&passphrase.chars().count()) {
        return Err(CreateError::BadPassphrase);
    }
    if input.targets.is_empty() {
        return Err(CreateError::NoServer);
    }
    let mut targets = Vec::new();
    for t in &input.targets {
        let server = state
            .store
            .server(t.server_id)
            .await?
            .ok_or(CreateError::UnknownServer(t.server_id))?;
        let all = state.store.libraries(server.id).await?;
        let offered: Vec<_> = all.iter().filter(|l| l.enabled && l.present).collect();
        let libraries = match &t.libraries {
            None => offered
                .iter()
                .filter(|l| l.is_default)
                .map(|l| l.remote_id.clone())
                .collect::<Vec<_>>(),
            Some(chosen) => {
                for id in chosen {
                    if !offered.iter().any(|l| &l.remote_id == id) {
                        return Err(CreateError::UnknownLibrary {
                            server: server.name.clone(),
                            library: id.clone(),
                        });
                    }
                }
                chosen.clone()
            }
        };
        if libraries.is_empty() {
            return Err(CreateError::NoLibrary(server.name.clone()));
        }
        if server.cannot_keep_to(&all, &libraries) {
            return Err(CreateError::CannotLimit(server.cannot_keep_note()));
        }
        let permissions = server
            .permissions_with(t.permissions.as_ref())
            .map_err(|source| CreateError::Permission {
                server: server.name.clone(),
                source,
            })?;
        targets.push(NewTarget {
            server_id: server.id,
            libraries,
            permissions,
        });
    }
    let custom = !input.code.trim().is_empty();
    let code = if custom {
        rules::InviteCode::custom(&input.code).map_err(rule("code"))?
    } else {
        rules::InviteCode::generate()
    };
    let hash = (!passphrase.is_empty()).then(|| passphrase_hash(state, passphrase));
    let mut code = code;
    // A generated code colliding is astronomically unlikely; try a few times anyway.
    for attempt in 0..5 {
        let result = state
            .store
            .insert_invite(
                NewInvite {
                    code: &code,
                    label: (!label.is_empty()).then_some(label),
                    max_uses,
                    expires_at,
                    access_seconds,
                    passphrase_hash: hash.as_deref(),
                    created_by: actor,
                    custom_code: custom,
                    profile_id: input.profile,
                    batch,
                },
                &targets,
                NewEvent {
                    actor,
                    action: "invite.created",
                    subject: Some(&code),
                    detail: (!label.is_empty()).then_some(label),
                },
                now,
            )
            .await;
        match result {
            Ok(invite) => return Ok(invite),
            Err(e) if crate::store::is_unique_violation(&e) => {
                if custom || attempt == 4 {
                    return Err(CreateError::CodeTaken(code.into_string()));
                }
                code = rules::InviteCode::generate();
            }
            Err(e) => return Err(CreateError::Store(e.into())),
        }
    }
    Err(CreateError::CodeTaken(code.into_string()))
}

/// What the owner can do to an invite as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteChange {
    /// Its link stops working.
    Disable,
    Enable,
    /// Gone from the list; members who joined through it keep their access.
    Delete,
}

impl InviteChange {
    /// The past tense, for notices and the CLI: `disabled`, `enabled`, `deleted`.
    pub fn done(self) -> &'static str {
        match self {
            InviteChange::Disable => "disabled",
            InviteChange::Enable => "enabled",
            InviteChange::Delete => "deleted",
        }
    }
}

/// Switches an invite off or on, or deletes it, and records who did: the one path the pages,
/// the API and the CLI take.
pub async fn change(
    state: &AppState,
    invite: &InviteRow,
    change: InviteChange,
    actor: &str,
) -> Result<(), crate::store::StoreError> {
    match change {
        InviteChange::Disable => state.store.set_invite_disabled(invite.id, true).await?,
        InviteChange::Enable => state.store.set_invite_disabled(invite.id, false).await?,
        InviteChange::Delete => state.store.delete_invite(invite.id).await?,
    }
    state
        .store
        .append_event(
            NewEvent {
                actor,
                action: &format!("invite.{}", change.done()),
                subject: Some(&invite.code),
                detail: None,
            },
            state.clock.now(),
        )
        .await
}

/// The link people open.
pub fn invite_url(state: &AppState, code: &str) -> String {
    format!("{}/i/{}", state.public.base(), code)
}

/// One server of an invite as a visitor sees it: name, kind and library names.
#[derive(Debug, Clone, Serialize)]
pub struct TargetView {
    pub server_id: ServerId,
    pub server_name: String,
    pub kind: media::ServerKind,
    pub libraries: Vec<String>,
    pub permissions: Permissions,
}

pub fn target_views(targets: &[InviteTargetRow]) -> Vec<TargetView> {
    targets
        .iter()
        .map(|t| TargetView {
            server_id: t.server_id,
            server_name: t.server_name.clone(),
            kind: t.server_kind,
            // Names only label the ids; a missing one shows the id.
            libraries: t
                .libraries
                .iter()
                .map(|id| t.library_names.get(id).unwrap_or(id).clone())
                .collect(),
            permissions: t.permissions.clone(),
        })
        .collect()
}

/// What a person submits to redeem.
#[derive(Debug, Clone, Default)]
pub struct RedeemInput {
    /// Plex account: email or Plex user name (typed, or read from Sign in with Plex).
    pub plex_account: String,
    pub email: String,
    pub username: String,
    pub password: media::Secret,
    /// Forms send the password twice; the API leaves this empty.
    pub password_confirm: Option<media::Secret>,
    pub passphrase: String,
    /// The person ticked "I accept" under the owner's house rules.
    pub accepted_rules: bool,
    /// The page's language; what usher writes to the member uses it.
    pub lang: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error("no invite has that code")]
    NotFound,
    #[error("this invite is no longer active")]
    Unusable(Unusable),
    #[error("the passphrase is not right")]
    Passphrase,
    /// A field is wrong; `key` is the Fluent message and `detail` a server or rule message.
    #[error("{field}: {detail}")]
    Invalid {
        field: &'static str,
        key: &'static str,
        detail: String,
    },
    #[error("you have already used this invite")]
    Duplicate,
    /// A server refused for good; the use was released so the person can try again.
    #[error("{server} refused: {detail}")]
    Refused {
        server: String,
        field: Option<&'static str>,
        key: &'static str,
        detail: String,
    },
    /// Fields the person must fix, all of them at once.
    #[error("some fields need fixing")]
    Fields(Vec<FieldProblem>),
    /// The address has tried too many unknown codes (see `public::lookup`).
    #[error("too many unknown codes from this address")]
    RateLimited,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// One field a person must fix: the Fluent key saying how, and the value it is about (`$value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub key: &'static str,
    pub value: Option<String>,
}

impl FieldProblem {
    fn new(field: &'static str, key: &'static str) -> Self {
        FieldProblem {
            field,
            key,
            value: None,
        }
    }
}

/// A redemption error reads the same on the invite page, in the API and from the CLI. A
/// refusal's detail is the server's own (English) words: the log keeps it, people get the
/// translated message alone.
impl crate::web::error::Failure for RedeemError {
    fn code(&self) -> &'static str {
        match self {
            RedeemError::NotFound => "not_found",
            RedeemError::Unusable(Unusable::Disabled) => "disabled",
            RedeemError::Unusable(Unusable::Expired) => "expired",
            RedeemError::Unusable(Unusable::UsedUp) => "used_up",
            RedeemError::Passphrase => "passphrase",
            RedeemError::Invalid { .. } => "invalid",
            RedeemError::Duplicate => "already_redeemed",
            RedeemError::Refused { .. } => "refused",
            RedeemError::Fields(_) => "invalid",
            RedeemError::RateLimited => "rate_limited",
            RedeemError::Store(_) => "internal",
        }
    }

    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            RedeemError::NotFound => S::NOT_FOUND,
            RedeemError::Unusable(_) => S::GONE,
            RedeemError::Passphrase => S::FORBIDDEN,
            RedeemError::Invalid { .. } | RedeemError::Refused { .. } | RedeemError::Fields(_) => {
                S::UNPROCESSABLE_ENTITY
            }
            RedeemError::Duplicate => S::CONFLICT,
            RedeemError::RateLimited => S::TOO_MANY_REQUESTS,
            RedeemError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// The Fluent key for a person.
    fn message_key(&self) -> &'static str {
        match self {
            RedeemError::NotFound => "redeem-not-found",
            RedeemError::Unusable(Unusable::Disabled) => "redeem-disabled",
            RedeemError::Unusable(Unusable::Expired) => "redeem-expired",
            RedeemError::Unusable(Unusable::UsedUp) => "redeem-used-up",
            RedeemError::Passphrase => "redeem-passphrase",
            RedeemError::Invalid { key, .. } => key,
            RedeemError::Duplicate => "redeem-duplicate",
            RedeemError::Refused { key, .. } => key,
            RedeemError::Fields(_) => "redeem-fix-fields",
            RedeemError::RateLimited => "error-rate-limited",
            RedeemError::Store(_) => "error-internal",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            RedeemError::Invalid { field, .. } => Some(field),
            RedeemError::Fields(problems) => problems.first().map(|p| p.field),
            RedeemError::Refused { field, .. } => *field,
            RedeemError::Passphrase => Some("passphrase"),
            _ => None,
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            RedeemError::Invalid { detail, .. } if !detail.is_empty() => Some(detail.clone()),
            _ => None,
        }
    }
}

/// An invite that exists and may be redeemed now, with its targets, the settings and the steps
/// to agree to before joining (read together with it).
pub struct OpenInvite {
    pub invite: InviteRow,
    pub targets: Vec<InviteTargetRow>,
    pub settings: crate::domain::settings::Settings,
    pub rules: Vec<crate::store::onboarding::StepRow>,
}

impl OpenInvite {
    /// Whether a Plex account is asked for (the invite shares Plex libraries).
    pub fn needs_plex(&self) -> bool {
        self.targets.iter().any(|t| t.server_kind.is_plex())
    }

    /// Whether the person chooses a password (an account of their own on a server: Jellyfin,
    /// Emby, Audiobookshelf, Navidrome, Komga).
    pub fn needs_account(&self) -> bool {
        self.targets
            .iter()
            .any(|t| t.server_kind.uses_local_accounts())
    }

    /// Whether the person also chooses a user name (every kind with accounts but those that
    /// sign in by email).
    pub fn needs_username(&self) -> bool {
        self.targets.iter().any(|t| {
            let caps = t.server_kind.capabilities();
            caps.local_accounts && !caps.login_is_email
        })
    }

    /// The rule a chosen user name must follow: the strictest among the servers it names an
    /// account on (RomM and Kavita take fewer characters than usher).
    pub fn username_rule(&self) -> media::UsernameRule {
        self.targets
            .iter()
            .map(|t| t.server_kind.capabilities())
            .filter(|c| c.local_accounts && !c.login_is_email)
            .map(|c| c.usernames)
            .max()
            .unwrap_or(media::UsernameRule::Any)
    }

    /// Whether a server needs an email for every account, though it is not the login (Kavita).
    pub fn email_required(&self) -> bool {
        self.targets
            .iter()
            .any(|t| t.server_kind.capabilities().email_required)
    }

    /// Whether the email is the login on one of the servers (Komga), so it must be given.
    pub fn email_is_login(&self) -> bool {
        self.targets
            .iter()
            .any(|t| t.server_kind.capabilities().login_is_email)
    }
}

/// Looks an invite up by a code typed or linked; unknown, disabled, expired and used-up codes are
/// told apart so the person gets the right page.
pub async fn open(state: &AppState, code: &str) -> Result<OpenInvite, RedeemError> {
    let code = rules::InviteCode::parse(code).ok_or(RedeemError::NotFound)?;
    let found = state
        .store
        .invite_with_targets(&code)
        .await?
        .ok_or(RedeemError::NotFound)?;
    let (invite, targets) = (found.invite, found.targets);
    invite
        .facts()
        .usable(state.clock.now())
        .map_err(RedeemError::Unusable)?;
    if targets.is_empty() {
        // Every server it named was removed from usher.
        return Err(RedeemError::Unusable(Unusable::Disabled));
    }
    Ok(OpenInvite {
        invite,
        targets,
        settings: found.settings,
        rules: found.rules,
    })
}

/// What a redemption produced.
#[derive(Debug, Clone, Serialize)]
pub struct Redeemed {
    pub member_id: MemberId,
    pub display_name: String,
    pub grants: Vec<GrantRow>,
    /// Some access is still being set up (a server was slow or busy); the worker finishes it.
    pub setting_up: bool,
    pub expires_at: Option<Timestamp>,
}

/// What the fields of a redemption say, once every one is right.
struct Checked {
    email: Option<rules::Email>,
    plex_account: Option<rules::PlexAccount>,
    username: Option<rules::Username>,
}

/// Checks every field a redemption needs and reports every mistake at once, so a person fixes
/// them in one go. Plex accounts are an email or a Plex username.
/// What a redemption must ask for, from its servers' kinds.
struct Needs {
    plex: bool,
    /// A password (any account of the person's own).
    account: bool,
    username: bool,
    /// The email is a login, so it is required.
    email_login: bool,
    /// A server needs an email besides the user name.
    email_required: bool,
    /// The rule the user name must follow besides usher's own.
    username_rule: media::UsernameRule,
    rules: bool,
}

fn check_fields(input: &RedeemInput, needs: Needs) -> Result<Checked, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    if needs.rules && !input.accepted_rules {
        problems.push(FieldProblem::new("accept_rules", "redeem-accept-rules"));
    }
    let email = match input.email.trim() {
        "" => None,
        e => match rules::Email::parse(e) {
            Ok(e) => Some(e),
            Err(_) => {
                problems.push(FieldProblem::new("email", "redeem-bad-email"));
                None
            }
        },
    };
    if input.email.trim().is_empty() {
        if needs.email_login {
            problems.push(FieldProblem::new("email", "redeem-need-email-login"));
        } else if needs.email_required {
            problems.push(FieldProblem::new("email", "redeem-need-email"));
        }
    }
    let plex_account = if needs.plex {
        let typed = input.plex_account.trim();
        let raw = if typed.is_empty() {
            email.as_deref().unwrap_or_default()
        } else {
            typed
        };
        match (raw.is_empty(), rules::PlexAccount::parse(raw)) {
            (true, _) => {
                problems.push(FieldProblem::new(
                    "plex_account",
                    "redeem-need-plex-account",
                ));
                None
            }
            (false, None) => {
                problems.push(FieldProblem::new("plex_account", "redeem-bad-plex-account"));
                None
            }
            (false, Some(account)) => Some(account),
        }
    } else {
        None
    };
    let username = if needs.account {
        let name = if needs.username {
            match rules::Username::parse(&input.username) {
                Ok(name) if !needs.username_rule.allows(&name) => {
                    let key = match needs.username_rule {
                        media::UsernameRule::Plain => "redeem-username-plain",
                        _ => "redeem-username-ascii",
                    };
                    problems.push(FieldProblem::new("username", key));
                    None
                }
                Ok(name) => Some(name),
                Err(p) => {
                    problems.push(FieldProblem {
                        field: "username",
                        key: p.key,
                        value: p.character,
                    });
                    None
                }
            }
        } else {
            None
        };
        if let Some(key) = rules::password_problem(input.password.expose()) {
            problems.push(FieldProblem::new("password", key));
        } else if let Some(confirm) = &input.password_confirm
            && confirm != &input.password
        {
            problems.push(FieldProblem::new(
                "password_confirm",
                "redeem-passwords-differ",
            ));
        }
        name
    } else {
        None
    };
    if problems.is_empty() {
        Ok(Checked {
            email,
            plex_account,
            username,
        })
    } else {
        Err(problems)
    }
}

/// Redeems an invite: checks the input, reserves a use atomically with the member, grants and
/// jobs, provisions at once, and on a permanent refusal undoes everything and frees the use.
pub async fn redeem(
    state: &AppState,
    code: &str,
    input: &RedeemInput,
) -> Result<Redeemed, RedeemError> {
    redeem_opened(state, &open(state, code).await?, input).await
}

/// [`redeem`] an invite the caller already opened (the page or API call that checked the code
/// first), so it is read once.
pub async fn redeem_opened(
    state: &AppState,
    open: &OpenInvite,
    input: &RedeemInput,
) -> Result<Redeemed, RedeemError> {
    let invite = &open.invite;
    if let Some(hash) = &invite.passphrase_hash {
        if input.passphrase.len() > rules::MAX_PASSPHRASE {
            return Err(RedeemError::Passphrase);
        }
        let given = passphrase_hash(state, &input.passphrase);
        if !crate::crypto::constant_time_eq(given.as_bytes(), hash.as_bytes()) {
            return Err(RedeemError::Passphrase);
        }
    }
    let Checked {
        email,
        plex_account,
        username,
    } = check_fields(
        input,
        Needs {
            plex: open.needs_plex(),
            account: open.needs_account(),
            username: open.needs_username(),
            email_login: open.email_is_login(),
            email_required: open.email_required(),
            username_rule: open.username_rule(),
            rules: !open.rules.is_empty(),
        },
    )
    .map_err(RedeemError::Fields)?;

    let identity_key = plex_account
        .as_deref()
        .or(email.as_deref())
        .or(username.as_deref())
        .unwrap_or_default()
        .to_lowercase();
    let display_name = username
        .as_deref()
        .or_else(|| {
            // Someone known only by an email (a Plex account, a Komga login) is called by the
            // part before the @.
            plex_account
                .as_deref()
                .or(email.as_deref())
                .map(|p| p.split('@').next().unwrap_or(p))
        })
        .map_or_else(|| identity_key.clone(), str::to_string);

    let now = state.clock.now();
    let expires_at = invite.access_seconds.map(|s| now + s);
    let sealed_password = open
        .needs_account()
        .then(|| state.key.seal(input.password.expose()));
    let grants: Vec<NewGrant> = open
        .targets
        .iter()
        .map(|t| {
            let plex = t.server_kind.is_plex();
            // Who the account is on the server: the Plex account, the email where it is the
            // login (Komga), else the chosen user name.
            let identity = if plex {
                plex_account.as_deref()
            } else if t.server_kind.capabilities().login_is_email {
                email.as_deref()
            } else {
                username.as_deref()
            };
            NewGrant {
                server_id: t.server_id,
                identity: identity.unwrap_or_default().to_string(),
                libraries: t.libraries.clone(),
                permissions: t.permissions.clone(),
                expires_at,
                payload: if plex { None } else { sealed_password.clone() },
                profile_id: invite.profile_id,
            }
        })
        .collect();
    let member = NewMember {
        display_name: &display_name,
        email: email
            .as_deref()
            .or(plex_account.as_ref().and_then(rules::PlexAccount::email)),
        plex_account: plex_account.as_deref(),
        username: username.as_deref(),
        identity_key: &identity_key,
        origin: crate::domain::MemberOrigin::Invite,
        invite_id: Some(invite.id),
        invite_code: Some(&invite.code),
        lang: crate::ui::i18n::supported(&input.lang).unwrap_or(crate::ui::i18n::DEFAULT_LANG),
    };
    let reservation = match state
        .store
        .reserve_redemption(invite.id, member, &grants, now)
        .await
    {
        Ok(r) => r,
        Err(ReserveError::Duplicate) => return Err(RedeemError::Duplicate),
        Err(ReserveError::NotAvailable) => {
            // Lost the race, or the invite changed since it was opened: say which.
            let fresh = state
                .store
                .invite_by_code(&invite.code)
                .await?
                .ok_or(RedeemError::NotFound)?;
            let why = fresh
                .facts()
                .usable(state.clock.now())
                .err()
                .unwrap_or(Unusable::UsedUp);
            return Err(RedeemError::Unusable(why));
        }
        Err(ReserveError::Db(e)) => return Err(RedeemError::Store(e.into())),
    };

    let grants = match provisioning::provision_or_undo(
        state,
        reservation.member_id,
        &reservation.job_ids,
        Some(invite.id),
    )
    .await?
    {
        provisioning::Setup::Made(grants) => grants,
        provisioning::Setup::Refused { server, error } => return Err(refusal(server, &error)),
    };
    state
        .store
        .append_member_event(
            NewEvent {
                actor: &display_name,
                action: "invite.redeemed",
                subject: Some(&invite.code),
                detail: Some(
                    &grants
                        .iter()
                        .map(|g| g.server_name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            },
            reservation.member_id,
            state.clock.now(),
        )
        .await?;
    let redeemed =
        crate::notify::Event::new(crate::notify::Kind::InviteRedeemed, state.clock.now())
            .with("member_id", reservation.member_id)
            .with("member", display_name.as_str())
            .with("code", invite.code.as_str())
            .with(
                "servers",
                grants
                    .iter()
                    .map(|g| g.server_name.clone())
                    .collect::<Vec<_>>(),
            )
            .link(state, &format!("/admin/members/{}", reservation.member_id));
    crate::notify::emit(state, redeemed).await;
    if let Some(to) = email
        .as_deref()
        .or(plex_account.as_deref().filter(|p| p.contains('@')))
    {
        welcome(state, to, &display_name, &input.lang, &grants).await?;
    }
    Ok(Redeemed {
        member_id: reservation.member_id,
        display_name,
        setting_up: grants.iter().any(|g| g.status == GrantStatus::Provisioning),
        grants,
        expires_at,
    })
}

/// Welcomes a new member by email (when email is set up): where each server is and how to
/// start, in the language of the page they joined on.
async fn welcome(
    state: &AppState,
    to: &str,
    name: &str,
    lang: &str,
    grants: &[GrantRow],
) -> Result<(), crate::store::StoreError> {
    let mut places = Vec::new();
    for g in grants {
        let address = if g.server_kind.is_plex() {
            Some(state.config.plex.app_url.clone())
        } else {
            state
                .store
                .server(g.server_id)
                .await?
                .and_then(|s| s.friend_address())
        };
        let mut line = g.server_name.clone();
        if let Some(a) = address {
            line.push_str(&format!(" — {a}"));
        }
        if !g.server_kind.is_plex() {
            line.push_str(&format!(" · {}", g.identity));
        }
        places.push(line);
    }
    let event = crate::notify::Event::new(crate::notify::Kind::InviteRedeemed, state.clock.now())
        .with("name", name)
        .with(
            "servers",
            grants
                .iter()
                .map(|g| g.server_name.clone())
                .collect::<Vec<_>>(),
        )
        .with("places", places.join("\n"))
        .with(
            "plex",
            if grants.iter().any(|g| g.server_kind.is_plex()) {
                "yes"
            } else {
                "no"
            },
        )
        .with("guide", format!("{}/guide", state.public.base()));
    let lang = crate::ui::i18n::supported(lang).unwrap_or(crate::ui::i18n::DEFAULT_LANG);
    crate::notify::email_person(state, to, lang, &event).await;
    Ok(())
}

/// How a permanent refusal is explained to the person, with the field to change.
pub fn refusal(server: String, error: &media::MediaError) -> RedeemError {
    let (field, key) = match error {
        media::MediaError::AlreadyExists(_) => (Some("username"), "redeem-name-taken"),
        media::MediaError::Invalid(_) => (None, "redeem-refused-invalid"),
        media::MediaError::NotFound(_) => (Some("plex_account"), "redeem-plex-account-unknown"),
        media::MediaError::LimitReached(_) => (None, "redeem-server-full"),
        _ => (None, "redeem-refused"),
    };
    RedeemError::Refused {
        server,
        field,
        key,
        detail: error.to_string(),
    }
}

/// Every invite (or the batch `batch`, when given) as CSV: `code,link`.
pub async fn csv_text(state: &AppState, batch: &str) -> Result<String, crate::store::StoreError> {
    let codes: Vec<String> = if batch.is_empty() {
        state
            .store
            .list_invites(
                crate::store::invites::InviteFilter::All,
                "",
                state.clock.now(),
                100_000,
            )
            .await?
            .into_iter()
            .map(|i| i.code)
            .collect()
    } else {
        state
            .store
            .batch_invites(batch)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    };
    let mut out = String::from("code,link\r\n");
    for code in codes {
        // Codes are letters, digits, - and _: nothing needs quoting.
        out.push_str(&format!("{code},{}\r\n", invite_url(state, &code)));
    }
    Ok(out)
}

/// A CSV download, as the page and the API answer it.
pub fn csv_response(text: String) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"invites.csv\"",
            ),
        ],
        text,
    )
        .into_response()
}

/// The invite's link as an SVG QR code, as the page and the API answer it.
pub fn qr_response(
    state: &AppState,
    invite: &crate::store::invites::InviteRow,
) -> Result<axum::response::Response, crate::web::error::AppError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let svg = crate::web::svg::qr(&invite_url(state, &invite.code))
        .ok_or_else(crate::web::error::AppError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"invite.svg\"",
            ),
        ],
        svg,
    )
        .into_response())
}
