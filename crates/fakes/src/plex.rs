//! Fake plex.tv and Plex Media Server, following `shared/reference/plex-api.md`.
//!
//! Layout: one listener serves plex.tv (both API generations), `clients.plex.tv` and the
//! `app.plex.tv/auth` page, so [`FakePlex::plex_tv_url`], [`FakePlex::clients_url`] and
//! [`FakePlex::app_url`] are one address. Each seeded Plex Media Server gets a listener of its own
//! ([`FakePlex::server_url`]). Every listener shares one [`Control`], so the request log holds
//! plex.tv and server calls in the order they arrived.
//!
//! The reference leaves some answers undocumented (the share-limit body, unknown section ids,
//! Plex Pass refusals, unknown users). Those bodies are modelled here in the reference's v1 and v2
//! error shapes, with wording a client can recognise: the limit errors say "limit", Plex Pass
//! refusals say "Plex Pass", unknown people say "Unable to find". Their v2 error codes (19xx) are
//! made up.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::control::{Control, Running};

/// The names, ids and tokens [`FakePlex::seeded_demo`] starts with.
pub mod demo {
    pub const OWNER_ID: u64 = 1_000_001;
    pub const OWNER_USERNAME: &str = "usher-owner";
    pub const OWNER_EMAIL: &str = "owner@example.com";
    pub const OWNER_TOKEN: &str = "demo-owner-token";

    pub const SERVER_ID: &str = "5f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5";
    pub const SERVER_NAME: &str = "Home Plex";
    pub const SERVER_VERSION: &str = "1.41.3.9314-a0bfb8370";

    /// (global section id, local key, title, type). Global ids deliberately share no value with
    /// local keys, so a client that shares by local key is refused.
    pub const LIBRARIES: [(u64, u32, &str, &str); 3] = [
        (81_234_001, 1, "Movies", "movie"),
        (81_234_002, 2, "TV Shows", "show"),
        (81_234_003, 3, "Music", "artist"),
    ];

    /// Friend accounts that exist on plex.tv: (id, username, email, token).
    pub const FRIENDS: [(u64, &str, &str, &str); 3] = [
        (2_000_002, "alice", "alice@example.com", "demo-alice-token"),
        (2_000_003, "bob", "bob@example.com", "demo-bob-token"),
        (2_000_004, "carol", "carol@example.com", "demo-carol-token"),
    ];
}

/// Calls per second one token (or, without a token, one client identifier) may make before
/// plex.tv answers 429. The real limit is around 10; the default is high so ordinary tests never
/// meet it.
pub const DEFAULT_RATE_LIMIT: u32 = 1_000;
/// Friends plus Home members one owner can share with.
pub const DEFAULT_SHARE_LIMIT: usize = 100;
/// Plex Home members, the owner included.
pub const HOME_LIMIT: usize = 15;
/// Seconds a sign-in PIN lives.
pub const PIN_LIFETIME: u64 = 900;

const ALREADY_SHARING: &str =
    "You're already sharing this server with {}. Please edit your existing share.";
const REMOVED: &str = "This endpoint was deprecated and removed";

// ---------------------------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------------------------

/// A plex.tv account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlexAccount {
    pub id: u64,
    pub uuid: String,
    pub username: String,
    pub email: String,
    pub token: String,
    pub plex_pass: bool,
}

impl PlexAccount {
    pub fn new(id: u64, username: &str, email: &str, token: &str) -> Self {
        PlexAccount {
            id,
            uuid: format!("{:016x}", id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            username: username.into(),
            email: email.into(),
            token: token.into(),
            plex_pass: false,
        }
    }

    pub fn with_plex_pass(mut self, plex_pass: bool) -> Self {
        self.plex_pass = plex_pass;
        self
    }
}

/// A library section of a seeded server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlexLibrary {
    /// plex.tv's global section id, what the sharing API takes.
    pub global_id: u64,
    /// The server-local section key.
    pub key: u32,
    pub title: String,
    /// movie, show, artist or photo.
    pub kind: String,
}

/// A Plex Media Server to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlexServer {
    pub machine_id: String,
    pub name: String,
    pub version: String,
    /// The owning account; `None` means the builder's owner.
    pub owner_id: Option<u64>,
    pub libraries: Vec<PlexLibrary>,
}

impl PlexServer {
    pub fn new(machine_id: &str, name: &str) -> Self {
        PlexServer {
            machine_id: machine_id.into(),
            name: name.into(),
            version: demo::SERVER_VERSION.into(),
            owner_id: None,
            libraries: Vec::new(),
        }
    }

    pub fn library(mut self, global_id: u64, key: u32, title: &str, kind: &str) -> Self {
        self.libraries.push(PlexLibrary {
            global_id,
            key,
            title: title.into(),
            kind: kind.into(),
        });
        self
    }

    pub fn owned_by(mut self, account_id: u64) -> Self {
        self.owner_id = Some(account_id);
        self
    }
}

/// Builds a [`FakePlex`]: accounts, servers and limits, then [`FakePlexBuilder::start`].
#[derive(Debug, Clone)]
pub struct FakePlexBuilder {
    owner: PlexAccount,
    accounts: Vec<PlexAccount>,
    servers: Vec<PlexServer>,
    rate_limit: u32,
    share_limit: usize,
}

impl FakePlexBuilder {
    /// `owner` owns every server added without [`PlexServer::owned_by`].
    pub fn new(owner: PlexAccount) -> Self {
        FakePlexBuilder {
            owner,
            accounts: Vec::new(),
            servers: Vec::new(),
            rate_limit: DEFAULT_RATE_LIMIT,
            share_limit: DEFAULT_SHARE_LIMIT,
        }
    }

    /// Another plex.tv account (a friend, or the owner of another server).
    pub fn account(mut self, account: PlexAccount) -> Self {
        self.accounts.push(account);
        self
    }

    pub fn server(mut self, server: PlexServer) -> Self {
        self.servers.push(server);
        self
    }

    pub fn rate_limit(mut self, calls_per_second: u32) -> Self {
        self.rate_limit = calls_per_second;
        self
    }

    pub fn share_limit(mut self, users: usize) -> Self {
        self.share_limit = users;
        self
    }

    pub async fn start(self) -> std::io::Result<FakePlex> {
        let control = Control::default();
        let mut state = PlexState {
            accounts: Vec::new(),
            servers: Vec::new(),
            shares: Vec::new(),
            friendships: Vec::new(),
            home: Vec::new(),
            pins: Vec::new(),
            rate: HashMap::new(),
            rate_limit: self.rate_limit,
            share_limit: self.share_limit,
            v2_friends_removed: false,
            next_id: 50_000_001,
            next_pin: 111_222_333,
        };
        let owner_id = self.owner.id;
        for account in std::iter::once(self.owner).chain(self.accounts) {
            state.accounts.push(Account::from_seed(account));
        }
        for (n, seed) in self.servers.into_iter().enumerate() {
            state.servers.push(Server {
                numeric_id: 9_000_001 + n as u64,
                owner_id: seed.owner_id.unwrap_or(owner_id),
                machine_id: seed.machine_id,
                name: seed.name,
                version: seed.version,
                libraries: seed.libraries,
                url: String::new(),
                partial_fetches: 0,
            });
        }
        let machine_ids: Vec<String> = state.servers.iter().map(|s| s.machine_id.clone()).collect();
        let shared = Arc::new(Mutex::new(state));

        let tv = control.layer(
            Router::new()
                .fallback(plex_tv)
                .with_state(Shared(shared.clone())),
        );
        let plex_tv = Running::start(tv, control.clone()).await?;
        let mut servers = Vec::new();
        for mid in machine_ids {
            let router = control.layer(Router::new().fallback(pms).with_state(PmsShared {
                state: shared.clone(),
                machine_id: mid.clone(),
            }));
            let running = Running::start(router, control.clone()).await?;
            let url = running.url();
            if let Some(s) = lock(&shared)
                .servers
                .iter_mut()
                .find(|s| s.machine_id == mid)
            {
                s.url = url;
            }
            servers.push((mid, running));
        }
        Ok(FakePlex {
            state: shared,
            control,
            plex_tv,
            servers,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The running fake and what tests can see of it
// ---------------------------------------------------------------------------------------------

/// plex.tv plus its Plex Media Servers, listening on loopback. Dropping it stops them.
pub struct FakePlex {
    state: Arc<Mutex<PlexState>>,
    control: Control,
    plex_tv: Running,
    servers: Vec<(String, Running)>,
}

/// One share as plex.tv keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareView {
    /// The `sharedServerId`.
    pub id: u64,
    pub machine_id: String,
    /// The invited plex.tv account; `None` for an invite to an email without an account.
    pub user_id: Option<u64>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub accepted: bool,
    /// Global section ids.
    pub section_ids: Vec<u64>,
    pub all_libraries: bool,
    pub allow_sync: bool,
    pub allow_camera_upload: bool,
    pub allow_channels: bool,
    pub allow_tuners: u8,
    pub filter_movies: String,
    pub filter_television: String,
    pub filter_music: String,
}

/// A member of the owner's Plex Home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeUserView {
    pub id: u64,
    pub title: String,
    /// Managed users have no plex.tv login of their own.
    pub managed: bool,
}

/// A sign-in PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinView {
    pub id: u64,
    pub code: String,
    pub client_identifier: String,
    pub approved: bool,
}

impl FakePlex {
    pub fn builder(owner: PlexAccount) -> FakePlexBuilder {
        FakePlexBuilder::new(owner)
    }

    /// The demo seed (see [`demo`]) as a builder, for tests that change a limit before starting.
    pub fn demo_builder() -> FakePlexBuilder {
        let owner = PlexAccount::new(
            demo::OWNER_ID,
            demo::OWNER_USERNAME,
            demo::OWNER_EMAIL,
            demo::OWNER_TOKEN,
        )
        .with_plex_pass(true);
        let mut server = PlexServer::new(demo::SERVER_ID, demo::SERVER_NAME);
        for (global_id, key, title, kind) in demo::LIBRARIES {
            server = server.library(global_id, key, title, kind);
        }
        let mut builder = FakePlexBuilder::new(owner).server(server);
        for (id, username, email, token) in demo::FRIENDS {
            builder = builder.account(PlexAccount::new(id, username, email, token));
        }
        builder
    }

    /// An owner with Plex Pass, one server "Home Plex" with Movies, TV Shows and Music, and the
    /// friends alice, bob and carol. Names, ids and tokens are in [`demo`].
    pub async fn seeded_demo() -> std::io::Result<FakePlex> {
        Self::demo_builder().start().await
    }

    /// Same as [`FakePlex::seeded_demo`].
    pub async fn start() -> std::io::Result<FakePlex> {
        Self::seeded_demo().await
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    pub fn plex_tv_url(&self) -> String {
        self.plex_tv.url()
    }

    /// Where `clients.plex.tv` calls go: the plex.tv listener serves both hosts.
    pub fn clients_url(&self) -> String {
        self.plex_tv.url()
    }

    /// Where `app.plex.tv` lives: `/auth` is a sign-in page that approves PINs.
    pub fn app_url(&self) -> String {
        self.plex_tv.url()
    }

    /// The base URL of the seeded server with this machine id.
    ///
    /// # Panics
    /// When no server with that id was seeded.
    pub fn server_url(&self, machine_id: &str) -> String {
        self.servers
            .iter()
            .find(|(mid, _)| mid == machine_id)
            .map(|(_, r)| r.url())
            .unwrap_or_else(|| panic!("no fake Plex server {machine_id}"))
    }

    fn state(&self) -> MutexGuard<'_, PlexState> {
        lock(&self.state)
    }

    /// Every share of a server, pending and accepted, oldest first.
    pub fn shares_of(&self, machine_id: &str) -> Vec<ShareView> {
        let st = self.state();
        st.shares
            .iter()
            .filter(|s| s.machine_id == machine_id)
            .map(|s| st.share_view(s))
            .collect()
    }

    /// Home members of an account, the owner excluded.
    pub fn home_users(&self, owner_id: u64) -> Vec<HomeUserView> {
        let st = self.state();
        st.home
            .iter()
            .filter(|(o, _)| *o == owner_id)
            .filter_map(|(_, u)| st.account(*u))
            .map(|a| HomeUserView {
                id: a.id,
                title: a.title.clone(),
                managed: a.managed,
            })
            .collect()
    }

    /// Accounts (or bare emails) the owner has a friendship with, and whether it was accepted.
    pub fn friends_of(&self, owner_id: u64) -> Vec<(String, bool)> {
        let st = self.state();
        st.friendships
            .iter()
            .filter(|f| f.owner_id == owner_id)
            .map(|f| (st.invitee_name(&f.invitee), f.accepted))
            .collect()
    }

    pub fn pin(&self, pin_id: u64) -> Option<PinView> {
        self.state()
            .pins
            .iter()
            .find(|p| p.id == pin_id)
            .map(|p| PinView {
                id: p.id,
                code: p.code.clone(),
                client_identifier: p.client_identifier.clone(),
                approved: p.auth_token.is_some(),
            })
    }

    /// Approves a PIN as the account with this username or email, as if the person signed in at
    /// app.plex.tv. False when either is unknown.
    pub fn approve_pin(&self, pin_id: u64, account: &str) -> bool {
        let mut st = self.state();
        let Some(token) = st.find_account(account).and_then(|a| a.token.clone()) else {
            return false;
        };
        match st.pins.iter_mut().find(|p| p.id == pin_id) {
            Some(pin) => {
                pin.auth_token = Some(token);
                true
            }
            None => false,
        }
    }

    /// Makes a PIN expire now.
    pub fn expire_pin(&self, pin_id: u64) {
        if let Some(pin) = self.state().pins.iter_mut().find(|p| p.id == pin_id) {
            pin.expires_at = 0;
        }
    }

    /// Accepts every pending invite (shares and friendship) to the account or email `who`, as if
    /// the friend clicked the link in Plex's email. Returns how many shares became active.
    pub fn accept_invites(&self, who: &str) -> usize {
        let mut st = self.state();
        let target = st.find_account(who).map(|a| a.id);
        let matches = |inv: &Invitee| match inv {
            Invitee::Account(id) => Some(*id) == target,
            Invitee::Email(e) => e.eq_ignore_ascii_case(who),
        };
        let now = now_secs();
        let mut n = 0;
        for share in st.shares.iter_mut() {
            if share.accepted_at.is_none() && matches(&share.invitee) {
                share.accepted_at = Some(now);
                n += 1;
            }
        }
        for f in st.friendships.iter_mut() {
            if matches(&f.invitee) {
                f.accepted = true;
            }
        }
        n
    }

    /// Adds a plex.tv account after start.
    pub fn add_account(&self, account: PlexAccount) {
        self.state().accounts.push(Account::from_seed(account));
    }

    /// Seeds a share directly, bypassing validation: for tests that need many friends.
    /// `who` is an account's username or email, or else an email without an account.
    pub fn add_share(
        &self,
        machine_id: &str,
        who: &str,
        section_ids: &[u64],
        accepted: bool,
    ) -> u64 {
        let mut st = self.state();
        let owner_id = st
            .server(machine_id)
            .map(|s| s.owner_id)
            .unwrap_or(demo::OWNER_ID);
        let invitee = match st.find_account(who) {
            Some(a) => Invitee::Account(a.id),
            None => Invitee::Email(who.trim().to_ascii_lowercase()),
        };
        let id = st.new_id();
        let now = now_secs();
        st.shares.push(Share {
            id,
            machine_id: machine_id.into(),
            owner_id,
            invitee: invitee.clone(),
            invited_at: now,
            accepted_at: accepted.then_some(now),
            section_ids: section_ids.to_vec(),
            all_libraries: section_ids.is_empty(),
            settings: Settings::default(),
            access_token: random_hex(20),
            invite_token: random_hex(16),
        });
        st.ensure_friendship(owner_id, &invitee, accepted);
        id
    }

    /// The next `times` fetches of the server's sections from plex.tv (v1 or v2) list one section
    /// fewer than the server has, as plex.tv is seen to do while it catches up.
    pub fn set_partial_sections(&self, machine_id: &str, times: u32) {
        if let Some(s) = self
            .state()
            .servers
            .iter_mut()
            .find(|s| s.machine_id == machine_id)
        {
            s.partial_fetches = times;
        }
    }

    pub fn set_rate_limit(&self, calls_per_second: u32) {
        let mut st = self.state();
        st.rate_limit = calls_per_second;
        st.rate.clear();
    }

    pub fn set_share_limit(&self, users: usize) {
        self.state().share_limit = users;
    }

    /// Makes `/api/v2/friends` answer 410, as reported in places since August 2026.
    pub fn set_v2_friends_removed(&self, removed: bool) {
        self.state().v2_friends_removed = removed;
    }
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct Shared(Arc<Mutex<PlexState>>);

#[derive(Clone)]
struct PmsShared {
    state: Arc<Mutex<PlexState>>,
    machine_id: String,
}

fn lock(m: &Mutex<PlexState>) -> MutexGuard<'_, PlexState> {
    // A panicking test thread must not take every later request down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct PlexState {
    accounts: Vec<Account>,
    servers: Vec<Server>,
    shares: Vec<Share>,
    friendships: Vec<Friendship>,
    /// (owner id, member id); the owner is implicitly a member of its own Home.
    home: Vec<(u64, u64)>,
    pins: Vec<Pin>,
    rate: HashMap<String, (Instant, u32)>,
    rate_limit: u32,
    share_limit: usize,
    v2_friends_removed: bool,
    next_id: u64,
    next_pin: u64,
}

struct Account {
    id: u64,
    uuid: String,
    username: String,
    email: String,
    title: String,
    /// Managed Home users have no token of their own.
    token: Option<String>,
    plex_pass: bool,
    managed: bool,
}

impl Account {
    fn from_seed(a: PlexAccount) -> Self {
        Account {
            id: a.id,
            uuid: a.uuid,
            title: a.username.clone(),
            username: a.username,
            email: a.email,
            token: Some(a.token),
            plex_pass: a.plex_pass,
            managed: false,
        }
    }

    fn thumb(&self) -> String {
        format!("https://plex.tv/users/{}/avatar?c=1", self.uuid)
    }
}

struct Server {
    numeric_id: u64,
    machine_id: String,
    name: String,
    version: String,
    owner_id: u64,
    libraries: Vec<PlexLibrary>,
    url: String,
    partial_fetches: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Invitee {
    Account(u64),
    /// An invite to an email with no plex.tv account.
    Email(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Settings {
    allow_sync: bool,
    allow_camera_upload: bool,
    allow_channels: bool,
    allow_subtitle_admin: bool,
    allow_tuners: u8,
    filter_movies: String,
    filter_television: String,
    filter_music: String,
}

struct Share {
    id: u64,
    machine_id: String,
    owner_id: u64,
    invitee: Invitee,
    invited_at: u64,
    accepted_at: Option<u64>,
    section_ids: Vec<u64>,
    all_libraries: bool,
    settings: Settings,
    access_token: String,
    invite_token: String,
}

struct Friendship {
    owner_id: u64,
    invitee: Invitee,
    accepted: bool,
}

struct Pin {
    id: u64,
    code: String,
    client_identifier: String,
    created_at: u64,
    expires_at: u64,
    auth_token: Option<String>,
}

/// Why plex.tv refuses a share, rendered in the v1 or v2 shape by the caller.
enum Refusal {
    NoServer,
    NotOwner,
    Already(String),
    Limit(usize),
    PlexPass,
    UnknownSections(Vec<u64>),
    UnknownUser(String),
    ShareWithSelf,
    Bad(String),
}

impl Refusal {
    /// (v1 status, v2 status, v2 code, message)
    fn parts(&self) -> (u16, u16, u32, String) {
        match self {
            Refusal::NoServer => (404, 404, 1002, "Resource not found".into()),
            Refusal::NotOwner => (403, 403, 1901, "You do not own this server".into()),
            Refusal::Already(name) => (400, 422, 1902, ALREADY_SHARING.replace("{}", name)),
            Refusal::Limit(n) => (
                400,
                400,
                1903,
                format!(
                    "You have reached the limit of {n} users you can share with. Remove a friend to share with someone new."
                ),
            ),
            Refusal::PlexPass => (
                400,
                400,
                1904,
                "This feature requires an active Plex Pass subscription".into(),
            ),
            Refusal::UnknownSections(ids) => (
                400,
                400,
                1905,
                format!("Invalid library section ids: {}", join_ids(ids)),
            ),
            Refusal::UnknownUser(who) => (
                400,
                400,
                1906,
                format!("Unable to find a Plex user named {who}"),
            ),
            Refusal::ShareWithSelf => (
                400,
                400,
                1907,
                "You cannot share a server with yourself".into(),
            ),
            Refusal::Bad(m) => (400, 400, 1908, m.clone()),
        }
    }

    fn v1(&self) -> Response {
        let (status, _, _, message) = self.parts();
        v1_error(status, &message)
    }

    fn v2(&self, req: &Req) -> Response {
        let (_, status, code, message) = self.parts();
        v2_error(req, status, code, &message)
    }
}

struct NewShare {
    machine_id: String,
    /// An email or username, or an account id.
    who: Result<String, u64>,
    section_ids: Vec<u64>,
    settings: Settings,
    friendship: bool,
}

impl PlexState {
    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn account(&self, id: u64) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    fn account_by_token(&self, token: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.token.as_deref() == Some(token))
    }

    /// By username or email, case-insensitive; managed users have neither.
    fn find_account(&self, who: &str) -> Option<&Account> {
        let who = who.trim();
        if who.is_empty() {
            return None;
        }
        self.accounts.iter().find(|a| {
            !a.managed
                && (a.username.eq_ignore_ascii_case(who) || a.email.eq_ignore_ascii_case(who))
        })
    }

    fn server(&self, machine_id: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.machine_id == machine_id)
    }

    fn invitee_name(&self, inv: &Invitee) -> String {
        match inv {
            Invitee::Account(id) => self
                .account(*id)
                .map(|a| {
                    if a.username.is_empty() {
                        a.title.clone()
                    } else {
                        a.username.clone()
                    }
                })
                .unwrap_or_default(),
            Invitee::Email(e) => e.clone(),
        }
    }

    fn share_view(&self, s: &Share) -> ShareView {
        let account = match &s.invitee {
            Invitee::Account(id) => self.account(*id),
            Invitee::Email(_) => None,
        };
        ShareView {
            id: s.id,
            machine_id: s.machine_id.clone(),
            user_id: account.map(|a| a.id),
            username: account
                .map(|a| a.username.clone())
                .filter(|u| !u.is_empty()),
            email: match &s.invitee {
                Invitee::Email(e) => Some(e.clone()),
                Invitee::Account(_) => account.map(|a| a.email.clone()).filter(|e| !e.is_empty()),
            },
            accepted: s.accepted_at.is_some(),
            section_ids: s.section_ids.clone(),
            all_libraries: s.all_libraries,
            allow_sync: s.settings.allow_sync,
            allow_camera_upload: s.settings.allow_camera_upload,
            allow_channels: s.settings.allow_channels,
            allow_tuners: s.settings.allow_tuners,
            filter_movies: s.settings.filter_movies.clone(),
            filter_television: s.settings.filter_television.clone(),
            filter_music: s.settings.filter_music.clone(),
        }
    }

    fn ensure_friendship(&mut self, owner_id: u64, invitee: &Invitee, accepted: bool) {
        if !self
            .friendships
            .iter()
            .any(|f| f.owner_id == owner_id && &f.invitee == invitee)
        {
            self.friendships.push(Friendship {
                owner_id,
                invitee: invitee.clone(),
                accepted,
            });
        }
    }

    /// Everyone the owner shares with: friends, share invitees and Home members.
    fn shared_users(&self, owner_id: u64) -> HashSet<Invitee> {
        let mut set: HashSet<Invitee> = self
            .shares
            .iter()
            .filter(|s| s.owner_id == owner_id)
            .map(|s| s.invitee.clone())
            .collect();
        set.extend(
            self.friendships
                .iter()
                .filter(|f| f.owner_id == owner_id)
                .map(|f| f.invitee.clone()),
        );
        set.extend(
            self.home
                .iter()
                .filter(|(o, _)| *o == owner_id)
                .map(|(_, u)| Invitee::Account(*u)),
        );
        set
    }

    /// Checks the owner may share with `invitee`: the plex.tv-wide user limit.
    fn check_limit(&self, owner_id: u64, invitee: &Invitee) -> Result<(), Refusal> {
        let users = self.shared_users(owner_id);
        if !users.contains(invitee) && users.len() >= self.share_limit {
            return Err(Refusal::Limit(self.share_limit));
        }
        Ok(())
    }

    fn owned_server(&self, owner_id: u64, machine_id: &str) -> Result<&Server, Refusal> {
        let server = self.server(machine_id).ok_or(Refusal::NoServer)?;
        if server.owner_id != owner_id {
            return Err(Refusal::NotOwner);
        }
        Ok(server)
    }

    fn check_sections(&self, server: &Server, ids: &[u64]) -> Result<(), Refusal> {
        let unknown: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| !server.libraries.iter().any(|l| l.global_id == *id))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(Refusal::UnknownSections(unknown))
        }
    }

    fn check_settings(&self, owner_id: u64, settings: &Settings) -> Result<(), Refusal> {
        let mut uses_labels = false;
        for filter in [
            &settings.filter_movies,
            &settings.filter_television,
            &settings.filter_music,
        ] {
            uses_labels |= check_filter(filter).map_err(Refusal::Bad)?;
        }
        if settings.allow_tuners > 2 {
            return Err(Refusal::Bad("allowTuners must be 0, 1 or 2".into()));
        }
        if uses_labels && !self.account(owner_id).is_some_and(|a| a.plex_pass) {
            return Err(Refusal::PlexPass);
        }
        Ok(())
    }

    fn create_share(&mut self, owner_id: u64, new: NewShare) -> Result<u64, Refusal> {
        let server = self.owned_server(owner_id, &new.machine_id)?;
        self.check_sections(server, &new.section_ids)?;
        self.check_settings(owner_id, &new.settings)?;
        let invitee = match &new.who {
            Ok(who) => match self.find_account(who) {
                Some(a) => Invitee::Account(a.id),
                None if who.contains('@') => Invitee::Email(who.trim().to_ascii_lowercase()),
                None => return Err(Refusal::UnknownUser(who.trim().to_string())),
            },
            Err(id) => match self.account(*id) {
                Some(a) => Invitee::Account(a.id),
                None => return Err(Refusal::UnknownUser(id.to_string())),
            },
        };
        if invitee == Invitee::Account(owner_id) {
            return Err(Refusal::ShareWithSelf);
        }
        if self
            .shares
            .iter()
            .any(|s| s.machine_id == new.machine_id && s.invitee == invitee)
        {
            return Err(Refusal::Already(self.invitee_name(&invitee)));
        }
        self.check_limit(owner_id, &invitee)?;
        // Managed Home users cannot be emailed an invite: their shares are active at once.
        let managed =
            matches!(invitee, Invitee::Account(id) if self.account(id).is_some_and(|a| a.managed));
        let now = now_secs();
        let id = self.new_id();
        self.shares.push(Share {
            id,
            machine_id: new.machine_id,
            owner_id,
            invitee: invitee.clone(),
            invited_at: now,
            accepted_at: managed.then_some(now),
            all_libraries: new.section_ids.is_empty(),
            section_ids: new.section_ids,
            settings: new.settings,
            access_token: random_hex(20),
            invite_token: random_hex(16),
        });
        if new.friendship && !managed {
            self.ensure_friendship(owner_id, &invitee, false);
        }
        Ok(id)
    }

    fn share_index(&self, owner_id: u64, id: u64) -> Result<usize, Refusal> {
        let i = self
            .shares
            .iter()
            .position(|s| s.id == id)
            .ok_or(Refusal::NoServer)?;
        if self.shares[i].owner_id != owner_id {
            return Err(Refusal::NotOwner);
        }
        Ok(i)
    }

    /// Resolves a user id from a URL (an account id, or the email of an email invite).
    fn invitee_from_path(&self, raw: &str) -> Invitee {
        match raw.parse::<u64>() {
            Ok(id) => Invitee::Account(id),
            Err(_) => Invitee::Email(raw.to_ascii_lowercase()),
        }
    }

    /// Removes the friendship and every share from `owner_id` to `invitee`. False when there was
    /// nothing to remove.
    fn remove_friend(&mut self, owner_id: u64, invitee: &Invitee) -> bool {
        let before = self.shares.len() + self.friendships.len();
        self.shares
            .retain(|s| !(s.owner_id == owner_id && &s.invitee == invitee));
        self.friendships
            .retain(|f| !(f.owner_id == owner_id && &f.invitee == invitee));
        before != self.shares.len() + self.friendships.len()
    }

    /// A server's sections as plex.tv lists them, honouring the partial-list quirk.
    fn listed_sections(&mut self, machine_id: &str) -> Vec<PlexLibrary> {
        let Some(server) = self.servers.iter_mut().find(|s| s.machine_id == machine_id) else {
            return Vec::new();
        };
        let mut libs = server.libraries.clone();
        if server.partial_fetches > 0 {
            server.partial_fetches -= 1;
            libs.pop();
        }
        libs
    }

    /// Counts a call against the caller's per-second budget; `Some(retry_after)` when over.
    fn over_rate(&mut self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let limit = self.rate_limit;
        let entry = self.rate.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(1) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            let left = Duration::from_secs(1).saturating_sub(now.duration_since(entry.0));
            Some(left.as_secs_f64().ceil().max(1.0) as u64)
        } else {
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and responses
// ---------------------------------------------------------------------------------------------

struct Req {
    method: Method,
    segs: Vec<String>,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Req {
    async fn read(req: Request) -> Result<Req, Response> {
        let (parts, body) = req.into_parts();
        let body = to_bytes(body, 1024 * 1024)
            .await
            .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response())?;
        let query = parts
            .uri
            .query()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .unwrap_or_default()
            .into_iter()
            .collect();
        let segs = parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        Ok(Req {
            method: parts.method,
            segs,
            query,
            headers: parts.headers,
            body,
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn wants_json(&self) -> bool {
        self.header("accept")
            .is_some_and(|a| a.contains("application/json"))
    }

    fn token(&self) -> Option<&str> {
        self.header("x-plex-token")
            .or_else(|| self.param("X-Plex-Token"))
    }

    fn client_id(&self) -> Option<&str> {
        self.header("x-plex-client-identifier")
            .or_else(|| self.param("X-Plex-Client-Identifier"))
    }

    fn segs(&self) -> Vec<&str> {
        self.segs.iter().map(String::as_str).collect()
    }

    fn json_body(&self) -> Result<Value, String> {
        if self.body.is_empty() {
            return Err("A JSON body is required".into());
        }
        serde_json::from_slice(&self.body).map_err(|e| format!("The body is not valid JSON: {e}"))
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A tiny XML element builder; attribute values are escaped.
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<El>,
}

impl El {
    fn new(name: &str) -> El {
        El {
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    fn attr(mut self, key: &str, value: impl ToString) -> El {
        self.attrs.push((key.into(), value.to_string()));
        self
    }

    fn child(mut self, child: El) -> El {
        self.children.push(child);
        self
    }

    fn render(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            out.push_str(&escape_attr(v));
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            c.render(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }

    fn document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.render(&mut out);
        out.push('\n');
        out
    }
}

/// Escapes what a double-quoted attribute cannot hold; apostrophes stay as they are, as in
/// plex.tv's "You're already sharing…".
fn escape_attr(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn singular(plural: &str) -> &str {
    plural.strip_suffix('s').unwrap_or(plural)
}

/// plex.tv's XML rendering of its JSON: scalars become attributes, objects child elements,
/// arrays a wrapper with one child per item (`connections` → `<connection/>`).
fn json_to_el(name: &str, value: &Value) -> El {
    let mut el = El::new(name);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Null => {}
                    Value::Bool(b) => el = el.attr(k, if *b { "1" } else { "0" }),
                    Value::Number(n) => el = el.attr(k, n),
                    Value::String(s) => el = el.attr(k, s),
                    Value::Object(_) => el = el.child(json_to_el(k, v)),
                    Value::Array(items) => el = el.child(list_to_el(k, singular(k), items)),
                }
            }
        }
        Value::Array(items) => return list_to_el(name, singular(name), items),
        Value::Null => {}
        other => el = el.attr("id", scalar_text(other)),
    }
    el
}

fn list_to_el(name: &str, item: &str, items: &[Value]) -> El {
    let mut el = El::new(name).attr("size", items.len());
    for it in items {
        el = el.child(match it {
            Value::Object(_) => json_to_el(item, it),
            scalar => El::new(item).attr("id", scalar_text(scalar)),
        });
    }
    el
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "1" } else { "0" }.into(),
        other => other.to_string(),
    }
}

fn xml(status: u16, el: El) -> Response {
    let mut res = (status_code(status), el.document()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    res
}

fn json_res(status: u16, value: Value) -> Response {
    let mut res = (status_code(status), value.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    res
}

/// JSON when asked for, otherwise the same data as XML with root element `root`.
fn negotiated(req: &Req, status: u16, root: &str, value: Value) -> Response {
    if req.wants_json() {
        json_res(status, value)
    } else {
        xml(status, json_to_el(root, &value))
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn v1_error(status: u16, message: &str) -> Response {
    xml(
        status,
        El::new("Response")
            .attr("code", status)
            .attr("status", message),
    )
}

fn v2_error(req: &Req, status: u16, code: u32, message: &str) -> Response {
    if req.wants_json() {
        json_res(
            status,
            json!({"errors":[{"code":code,"message":message,"status":status}]}),
        )
    } else {
        xml(
            status,
            El::new("errors").child(
                El::new("error")
                    .attr("code", code)
                    .attr("message", message)
                    .attr("status", status),
            ),
        )
    }
}

fn empty(status: u16) -> Response {
    status_code(status).into_response()
}

// ---------------------------------------------------------------------------------------------
// plex.tv
// ---------------------------------------------------------------------------------------------

async fn plex_tv(State(Shared(state)): State<Shared>, request: Request) -> Response {
    let req = match Req::read(request).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let mut st = lock(&state);
    route_plex_tv(&mut st, &req)
}

fn route_plex_tv(st: &mut PlexState, req: &Req) -> Response {
    let segs = req.segs();
    let v2 = segs.starts_with(&["api", "v2"]);
    match segs.as_slice() {
        ["api", "friends", ..] | ["api", "invites", "requested" | "requests", ..] => {
            return v1_error(410, REMOVED);
        }
        ["auth"] => return auth_page(st),
        ["__fake", "approve"] if req.method == Method::POST => return fake_approve(st, req),
        _ => {}
    }
    if v2 && req.client_id().is_none() {
        return v2_error(req, 400, 1000, "X-Plex-Client-Identifier is missing");
    }
    let rate_key = req
        .token()
        .or(req.client_id())
        .unwrap_or("anonymous")
        .to_string();
    if let Some(retry_after) = st.over_rate(&rate_key) {
        let mut res = if v2 {
            v2_error(req, 429, 1003, "API rate limit exceeded")
        } else {
            v1_error(429, "API rate limit exceeded")
        };
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return res;
    }

    let m = &req.method;
    match (m, segs.as_slice()) {
        (&Method::POST, ["api", "v2", "pins"]) => return create_pin(st, req),
        (&Method::GET, ["api", "v2", "pins", id]) => return check_pin(st, req, id),
        _ => {}
    }

    let Some(me) = req
        .token()
        .and_then(|t| st.account_by_token(t))
        .map(|a| a.id)
    else {
        return if v2 {
            v2_error(req, 401, 1001, "User could not be authenticated")
        } else {
            v1_error(401, "User could not be authenticated")
        };
    };

    match (m, segs.as_slice()) {
        (&Method::GET, ["api", "v2", "user"]) => v2_user(st, req, me),
        (&Method::GET, ["api", "v2", "resources"]) => v2_resources(st, req, me),
        (&Method::GET, ["api", "v2", "servers", mid]) => v2_server(st, req, me, mid),
        (&Method::GET, ["api", "servers", mid]) => v1_server(st, me, mid),
        (&Method::GET, ["api", "servers", mid, "shared_servers"]) => v1_shares(st, me, mid),
        (&Method::POST, ["api", "servers", mid, "shared_servers"]) => {
            v1_create_share(st, req, me, mid)
        }
        (&Method::PUT, ["api", "servers", mid, "shared_servers", id]) => {
            v1_update_share(st, req, me, mid, id)
        }
        (&Method::DELETE, ["api", "servers", mid, "shared_servers", id]) => {
            v1_delete_share(st, me, mid, id)
        }
        (&Method::POST, ["api", "v2", "shared_servers"]) => v2_create_share(st, req, me),
        (
            &Method::GET,
            [
                "api",
                "v2",
                "shared_servers",
                "owned",
                which @ ("accepted" | "pending"),
            ],
        ) => v2_owned_shares(st, req, me, *which == "accepted"),
        (&Method::POST | &Method::PUT, ["api", "v2", "shared_servers", id]) => {
            v2_update_share(st, req, me, id)
        }
        (&Method::PUT, ["api", "v2", "sharings", user]) => v2_update_sharing(st, req, me, user),
        (&Method::DELETE, ["api", "v2", "sharings", user]) => v2_remove_friend(st, req, me, user),
        (_, ["api", "v2", "friends", ..]) if st.v2_friends_removed => v1_error(410, REMOVED),
        (&Method::DELETE, ["api", "v2", "friends", user]) => v2_remove_friend(st, req, me, user),
        (&Method::GET, ["api", "v2", "friends"]) => v2_friends(st, req, me),
        (&Method::POST, ["api", "v2", "friends", "invite"]) => v2_invite_friend(st, req, me),
        (&Method::GET, ["api", "users"]) => v1_users(st, me),
        (&Method::GET, ["api", "home", "users"]) => home_users(st, me),
        (&Method::POST, ["api", "home", "users"]) => home_add(st, req, me),
        (&Method::DELETE, ["api", "home", "users", id]) => home_remove(st, me, id),
        _ if v2 => v2_error(req, 404, 1002, "Resource not found"),
        _ => v1_error(404, "Not Found"),
    }
}

fn user_json(a: &Account) -> Value {
    json!({
        "id": a.id, "uuid": a.uuid, "username": a.username, "title": a.title,
        "email": a.email, "friendlyName": "", "authToken": a.token, "confirmed": true,
        "restricted": a.managed, "home": false, "guest": false, "homeAdmin": false,
        "homeSize": 1, "maxHomeSize": HOME_LIMIT, "thumb": a.thumb(),
        "subscription": {
            "active": a.plex_pass,
            "status": if a.plex_pass { "Active" } else { "Inactive" },
            "plan": if a.plex_pass { Value::from("lifetime") } else { Value::Null },
            "features": if a.plex_pass { json!(["home", "content_filter", "sync"]) } else { json!(["home"]) },
        },
        "profile": {"autoSelectAudio": true, "autoSelectSubtitle": 1},
        "entitlements": [], "services": [],
    })
}

fn v2_user(st: &PlexState, req: &Req, me: u64) -> Response {
    let Some(a) = st.account(me) else {
        return v2_error(req, 401, 1001, "User could not be authenticated");
    };
    let mut value = user_json(a);
    let home = st.home.iter().any(|(o, _)| *o == me);
    value["home"] = json!(home);
    value["homeAdmin"] = json!(home);
    value["homeSize"] = json!(1 + st.home.iter().filter(|(o, _)| *o == me).count());
    if req.wants_json() {
        return json_res(200, value);
    }
    // python-plexapi refuses the XML form without these two.
    if let Value::Object(map) = &mut value {
        map.insert("scrobbleTypes".into(), json!(""));
        map.insert("roles".into(), json!([]));
    }
    xml(200, json_to_el("user", &value))
}

fn connection(url: &str) -> Value {
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let port = parsed
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(32400);
    json!({"protocol": "http", "address": host, "port": port, "uri": url,
           "local": true, "relay": false, "IPv6": false})
}

fn v2_resources(st: &PlexState, req: &Req, me: u64) -> Response {
    let mut out = Vec::new();
    for server in &st.servers {
        let token = if server.owner_id == me {
            st.account(me).and_then(|a| a.token.clone())
        } else {
            st.shares
                .iter()
                .find(|s| {
                    s.machine_id == server.machine_id
                        && s.invitee == Invitee::Account(me)
                        && s.accepted_at.is_some()
                })
                .map(|s| s.access_token.clone())
        };
        let Some(token) = token else { continue };
        out.push(json!({
            "name": server.name, "product": "Plex Media Server",
            "productVersion": server.version, "platform": "Linux", "device": "PC",
            "clientIdentifier": server.machine_id, "provides": "server",
            "owned": server.owner_id == me, "home": false, "accessToken": token,
            "presence": true, "httpsRequired": false, "relay": true,
            "publicAddress": "127.0.0.1", "connections": [connection(&server.url)],
        }));
    }
    negotiated(req, 200, "resources", Value::Array(out))
}

fn section_json(l: &PlexLibrary) -> Value {
    json!({"id": l.global_id, "key": l.key, "title": l.title, "type": l.kind})
}

fn v2_server(st: &mut PlexState, req: &Req, me: u64, mid: &str) -> Response {
    let name = match st.owned_server(me, mid) {
        Ok(s) => s.name.clone(),
        Err(r) => return r.v2(req),
    };
    let sections: Vec<Value> = st.listed_sections(mid).iter().map(section_json).collect();
    negotiated(
        req,
        200,
        "server",
        json!({"name": name, "machineIdentifier": mid, "owned": true, "librarySections": sections}),
    )
}

fn v1_server(st: &mut PlexState, me: u64, mid: &str) -> Response {
    let server = match st.owned_server(me, mid) {
        Ok(s) => s,
        Err(r) => return r.v1(),
    };
    let mut el = El::new("Server")
        .attr("name", &server.name)
        .attr("address", "127.0.0.1")
        .attr("port", 32400)
        .attr("version", &server.version)
        .attr("scheme", "http")
        .attr("machineIdentifier", mid)
        .attr("owned", 1)
        .attr("synced", 0);
    for l in st.listed_sections(mid) {
        el = el.child(
            El::new("Section")
                .attr("id", l.global_id)
                .attr("key", l.key)
                .attr("type", &l.kind)
                .attr("title", &l.title),
        );
    }
    xml(200, myplex_container(mid, 1).child(el))
}

fn myplex_container(mid: &str, size: usize) -> El {
    El::new("MediaContainer")
        .attr("friendlyName", "myPlex")
        .attr("identifier", "com.plexapp.plugins.myplex")
        .attr("machineIdentifier", mid)
        .attr("size", size)
}

fn bit(b: bool) -> &'static str {
    if b { "1" } else { "0" }
}

fn shared_server_el(st: &PlexState, s: &Share) -> El {
    let view = st.share_view(s);
    let server = st.server(&s.machine_id);
    let mut el = El::new("SharedServer")
        .attr("id", s.id)
        .attr("username", view.username.clone().unwrap_or_default())
        .attr("email", view.email.clone().unwrap_or_default())
        .attr(
            "userID",
            view.user_id.map(|i| i.to_string()).unwrap_or_default(),
        )
        .attr("accessToken", &s.access_token)
        .attr("name", server.map(|s| s.name.as_str()).unwrap_or_default())
        .attr(
            "acceptedAt",
            s.accepted_at.map(|t| t.to_string()).unwrap_or_default(),
        )
        .attr("invitedAt", s.invited_at)
        .attr("allowSync", bit(s.settings.allow_sync))
        .attr("allowCameraUpload", bit(s.settings.allow_camera_upload))
        .attr("allowChannels", bit(s.settings.allow_channels))
        .attr("allowTuners", s.settings.allow_tuners)
        .attr("filterMovies", &s.settings.filter_movies)
        .attr("filterTelevision", &s.settings.filter_television)
        .attr("filterMusic", &s.settings.filter_music)
        .attr("owned", 0);
    for l in server.map(|s| s.libraries.as_slice()).unwrap_or_default() {
        let shared = s.all_libraries || s.section_ids.contains(&l.global_id);
        el = el.child(
            El::new("Section")
                .attr("id", l.global_id)
                .attr("key", l.key)
                .attr("title", &l.title)
                .attr("type", &l.kind)
                .attr("shared", bit(shared)),
        );
    }
    el
}

fn v1_shares(st: &PlexState, me: u64, mid: &str) -> Response {
    if let Err(r) = st.owned_server(me, mid) {
        return r.v1();
    }
    let shares: Vec<&Share> = st.shares.iter().filter(|s| s.machine_id == mid).collect();
    let mut root = myplex_container(mid, shares.len());
    for s in shares {
        root = root.child(shared_server_el(st, s));
    }
    xml(200, root)
}

/// A settings flag as clients send it: `"1"`/`"0"`, a boolean or a number.
fn flag(v: Option<&Value>, name: &str) -> Result<bool, Refusal> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n <= 1) => Ok(n.as_u64() == Some(1)),
        Some(Value::String(s)) if matches!(s.as_str(), "0" | "1" | "true" | "false") => {
            Ok(s == "1" || s == "true")
        }
        Some(_) => Err(Refusal::Bad(format!("{name} must be 0 or 1"))),
    }
}

fn small_number(v: Option<&Value>, name: &str) -> Result<u8, Refusal> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| Refusal::Bad(format!("{name} must be 0, 1 or 2"))),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| Refusal::Bad(format!("{name} must be 0, 1 or 2"))),
        Some(Value::Bool(b)) => Ok(u8::from(*b)),
        Some(_) => Err(Refusal::Bad(format!("{name} must be 0, 1 or 2"))),
    }
}

fn text(v: Option<&Value>, name: &str) -> Result<String, Refusal> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Refusal::Bad(format!("{name} must be a string"))),
    }
}

fn parse_settings(obj: Option<&Value>, base: &Settings) -> Result<Settings, Refusal> {
    let Some(obj) = obj else {
        return Ok(base.clone());
    };
    let Some(map) = obj.as_object() else {
        return Err(Refusal::Bad("settings must be an object".into()));
    };
    let get = |k: &str| map.get(k);
    let keep_flag = |k: &str, old: bool| -> Result<bool, Refusal> {
        if map.contains_key(k) {
            flag(get(k), k)
        } else {
            Ok(old)
        }
    };
    let keep_text = |k: &str, old: &str| -> Result<String, Refusal> {
        if map.contains_key(k) {
            text(get(k), k)
        } else {
            Ok(old.to_string())
        }
    };
    Ok(Settings {
        allow_sync: keep_flag("allowSync", base.allow_sync)?,
        allow_camera_upload: keep_flag("allowCameraUpload", base.allow_camera_upload)?,
        allow_channels: keep_flag("allowChannels", base.allow_channels)?,
        allow_subtitle_admin: keep_flag("allowSubtitleAdmin", base.allow_subtitle_admin)?,
        allow_tuners: if map.contains_key("allowTuners") {
            small_number(get("allowTuners"), "allowTuners")?
        } else {
            base.allow_tuners
        },
        filter_movies: keep_text("filterMovies", &base.filter_movies)?,
        filter_television: keep_text("filterTelevision", &base.filter_television)?,
        filter_music: keep_text("filterMusic", &base.filter_music)?,
    })
}

fn section_ids(v: Option<&Value>, name: &str) -> Result<Vec<u64>, Refusal> {
    let bad = || Refusal::Bad(format!("{name} must be a list of section ids"));
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::Number(n) => n.as_u64().ok_or_else(bad),
                Value::String(s) => s.parse().map_err(|_| bad()),
                _ => Err(bad()),
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// Checks a filter in the wire format; true when it filters by label (a Plex Pass feature).
fn check_filter(filter: &str) -> Result<bool, String> {
    let mut labels = false;
    if filter.is_empty() {
        return Ok(false);
    }
    for pair in filter.split('|') {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!("Invalid filter `{pair}`: expected key=value"));
        };
        match key {
            "contentRating" | "contentRating!" => {}
            "label" | "label!" => labels = true,
            _ => return Err(format!("Invalid filter key `{key}`")),
        }
        if value.is_empty() || value.contains(',') {
            return Err(format!(
                "Invalid filter value `{value}`: separate several values with %2C"
            ));
        }
    }
    Ok(labels)
}

fn is_json(req: &Req) -> bool {
    req.header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
}

fn v1_create_share(st: &mut PlexState, req: &Req, me: u64, mid: &str) -> Response {
    if !is_json(req) {
        return v1_error(400, "Content-Type must be application/json");
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return v1_error(400, &m),
    };
    let parsed = (|| -> Result<NewShare, Refusal> {
        if let Some(sid) = body.get("server_id")
            && scalar_text(sid) != mid
        {
            return Err(Refusal::Bad("server_id does not match the URL".into()));
        }
        let shared = body
            .get("shared_server")
            .and_then(Value::as_object)
            .ok_or_else(|| Refusal::Bad("shared_server is required".into()))?;
        let who = match (shared.get("invited_email"), shared.get("invited_id")) {
            (Some(Value::String(e)), _) if !e.trim().is_empty() => Ok(e.clone()),
            (_, Some(id)) => Err(scalar_text(id)
                .parse::<u64>()
                .map_err(|_| Refusal::Bad("invited_id must be a number".into()))?),
            _ => {
                return Err(Refusal::Bad(
                    "invited_email or invited_id is required".into(),
                ));
            }
        };
        Ok(NewShare {
            machine_id: mid.to_string(),
            who,
            section_ids: section_ids(shared.get("library_section_ids"), "library_section_ids")?,
            settings: parse_settings(body.get("sharing_settings"), &Settings::default())?,
            friendship: true,
        })
    })();
    let result = parsed.and_then(|new| st.create_share(me, new));
    match result {
        Ok(id) => {
            let share = st.shares.iter().find(|s| s.id == id).expect("just made");
            xml(
                200,
                myplex_container(mid, 1).child(shared_server_el(st, share)),
            )
        }
        Err(r) => r.v1(),
    }
}

fn v1_update_share(st: &mut PlexState, req: &Req, me: u64, mid: &str, id: &str) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return v1_error(404, "Not Found");
    };
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return v1_error(400, &m),
    };
    let result = (|| -> Result<usize, Refusal> {
        let i = st.share_index(me, id)?;
        if st.shares[i].machine_id != mid {
            return Err(Refusal::NoServer);
        }
        let shared = body
            .get("shared_server")
            .ok_or_else(|| Refusal::Bad("shared_server is required".into()))?;
        let ids = section_ids(shared.get("library_section_ids"), "library_section_ids")?;
        st.check_sections(st.server(mid).ok_or(Refusal::NoServer)?, &ids)?;
        st.shares[i].all_libraries = ids.is_empty();
        st.shares[i].section_ids = ids;
        Ok(i)
    })();
    match result {
        Ok(i) => xml(
            200,
            myplex_container(mid, 1).child(shared_server_el(st, &st.shares[i])),
        ),
        Err(r) => r.v1(),
    }
}

fn v1_delete_share(st: &mut PlexState, me: u64, mid: &str, id: &str) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return v1_error(404, "Not Found");
    };
    match st.share_index(me, id) {
        Ok(i) if st.shares[i].machine_id == mid => {
            st.shares.remove(i);
            empty(200)
        }
        Ok(_) => v1_error(404, "Not Found"),
        Err(r) => r.v1(),
    }
}

fn share_json(st: &PlexState, s: &Share) -> Value {
    let view = st.share_view(s);
    let server = st.server(&s.machine_id);
    let status = if view.accepted { "accepted" } else { "pending" };
    let invited = match &s.invitee {
        Invitee::Account(id) => {
            let a = st.account(*id);
            json!({
                "id": id, "uuid": a.map(|a| a.uuid.clone()),
                "title": a.map(|a| a.title.clone()), "username": view.username,
                "email": view.email, "restricted": a.is_some_and(|a| a.managed),
                "home": st.home.iter().any(|(o, u)| *o == s.owner_id && u == id),
                "status": status, "thumb": a.map(Account::thumb),
            })
        }
        // An invite to an email with no account carries the email as its id.
        Invitee::Email(e) => json!({
            "id": e, "uuid": null, "title": e, "username": null, "email": e,
            "restricted": false, "home": false, "status": "pending", "thumb": null,
        }),
    };
    let libraries: Vec<Value> = server
        .map(|sv| {
            sv.libraries
                .iter()
                .filter(|l| s.all_libraries || s.section_ids.contains(&l.global_id))
                .map(section_json)
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": s.id, "name": server.map(|s| s.name.clone()), "ownerId": s.owner_id,
        "invitedId": view.user_id,
        "invitedEmail": match &s.invitee { Invitee::Email(e) => Some(e.clone()), _ => None },
        "serverId": server.map(|s| s.numeric_id), "accepted": view.accepted,
        "acceptedAt": s.accepted_at, "deletedAt": null, "owned": true,
        "inviteToken": s.invite_token, "machineIdentifier": s.machine_id,
        "numLibraries": libraries.len(), "allLibraries": s.all_libraries,
        "invited": invited,
        "sharingSettings": {
            "allowChannels": s.settings.allow_channels, "allowSync": s.settings.allow_sync,
            "allowCameraUpload": s.settings.allow_camera_upload,
            "allowSubtitleAdmin": s.settings.allow_subtitle_admin,
            "allowTuners": s.settings.allow_tuners,
            "filterMovies": s.settings.filter_movies, "filterMusic": s.settings.filter_music,
            "filterTelevision": s.settings.filter_television,
            "filterPhotos": null, "filterAll": null,
        },
        "libraries": libraries,
    })
}

fn v2_create_share(st: &mut PlexState, req: &Req, me: u64) -> Response {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return v2_error(req, 400, 1908, &m),
    };
    let parsed = (|| -> Result<NewShare, Refusal> {
        let mid = match body.get("machineIdentifier") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(Refusal::Bad("machineIdentifier is required".into())),
        };
        let who = match (body.get("invitedEmail"), body.get("invitedId")) {
            (Some(Value::String(e)), _) if !e.trim().is_empty() => Ok(e.clone()),
            (_, Some(id)) if !id.is_null() => Err(scalar_text(id)
                .parse::<u64>()
                .map_err(|_| Refusal::Bad("invitedId must be a number".into()))?),
            _ => return Err(Refusal::Bad("invitedEmail is required".into())),
        };
        Ok(NewShare {
            machine_id: mid,
            who,
            section_ids: section_ids(body.get("librarySectionIds"), "librarySectionIds")?,
            settings: parse_settings(body.get("settings"), &Settings::default())?,
            friendship: !body
                .get("skipFriendship")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    })();
    match parsed.and_then(|new| st.create_share(me, new)) {
        Ok(id) => {
            let share = st.shares.iter().find(|s| s.id == id).expect("just made");
            negotiated(req, 201, "sharedServer", share_json(st, share))
        }
        Err(r) => r.v2(req),
    }
}

fn v2_owned_shares(st: &PlexState, req: &Req, me: u64, accepted: bool) -> Response {
    let list: Vec<Value> = st
        .shares
        .iter()
        .filter(|s| s.owner_id == me && s.accepted_at.is_some() == accepted)
        .map(|s| share_json(st, s))
        .collect();
    negotiated(req, 200, "sharedServers", Value::Array(list))
}

fn v2_update_share(st: &mut PlexState, req: &Req, me: u64, id: &str) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return v2_error(req, 404, 1002, "Resource not found");
    };
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return v2_error(req, 400, 1908, &m),
    };
    let result = (|| -> Result<usize, Refusal> {
        let i = st.share_index(me, id)?;
        let settings = parse_settings(body.get("settings"), &st.shares[i].settings)?;
        st.check_settings(me, &settings)?;
        let ids = if body.get("librarySectionIds").is_some() {
            let ids = section_ids(body.get("librarySectionIds"), "librarySectionIds")?;
            let server = st
                .server(&st.shares[i].machine_id)
                .ok_or(Refusal::NoServer)?;
            st.check_sections(server, &ids)?;
            Some(ids)
        } else {
            None
        };
        let share = &mut st.shares[i];
        share.settings = settings;
        if let Some(ids) = ids {
            share.all_libraries = ids.is_empty();
            share.section_ids = ids;
        }
        Ok(i)
    })();
    match result {
        Ok(i) => negotiated(req, 200, "sharedServer", share_json(st, &st.shares[i])),
        Err(r) => r.v2(req),
    }
}

fn v2_update_sharing(st: &mut PlexState, req: &Req, me: u64, user: &str) -> Response {
    let invitee = st.invitee_from_path(user);
    let indices: Vec<usize> = (0..st.shares.len())
        .filter(|i| st.shares[*i].owner_id == me && st.shares[*i].invitee == invitee)
        .collect();
    if indices.is_empty() {
        return v2_error(req, 404, 1002, "Resource not found");
    }
    let query: Map<String, Value> = req
        .query
        .iter()
        .filter(|(k, _)| !k.starts_with("X-Plex"))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let query = Value::Object(query);
    for i in indices {
        let settings = match parse_settings(Some(&query), &st.shares[i].settings) {
            Ok(s) => s,
            Err(r) => return r.v2(req),
        };
        if let Err(r) = st.check_settings(me, &settings) {
            return r.v2(req);
        }
        st.shares[i].settings = settings;
    }
    empty(204)
}

fn v2_remove_friend(st: &mut PlexState, req: &Req, me: u64, user: &str) -> Response {
    let invitee = st.invitee_from_path(user);
    if st.remove_friend(me, &invitee) {
        empty(204)
    } else {
        v2_error(req, 404, 1002, "Resource not found")
    }
}

fn friend_json(st: &PlexState, f: &Friendship) -> Value {
    let (id, uuid, title, username, email, thumb) = match &f.invitee {
        Invitee::Account(id) => {
            let a = st.account(*id);
            (
                json!(id),
                json!(a.map(|a| a.uuid.clone())),
                json!(a.map(|a| a.title.clone())),
                json!(a.map(|a| a.username.clone())),
                json!(a.map(|a| a.email.clone())),
                json!(a.map(Account::thumb)),
            )
        }
        Invitee::Email(e) => (
            json!(e),
            json!(null),
            json!(e),
            json!(null),
            json!(e),
            json!(null),
        ),
    };
    let shared: Vec<Value> = st
        .shares
        .iter()
        .filter(|s| s.owner_id == f.owner_id && s.invitee == f.invitee)
        .map(|s| share_json(st, s))
        .collect();
    json!({
        "id": id, "uuid": uuid, "title": title, "username": username, "email": email,
        "restricted": false, "home": false, "thumb": thumb,
        "status": if f.accepted { "accepted" } else { "pending" },
        "sharingSettings": shared.first().map(|s| s["sharingSettings"].clone()),
        "sharedServers": shared,
    })
}

fn v2_friends(st: &PlexState, req: &Req, me: u64) -> Response {
    let list: Vec<Value> = st
        .friendships
        .iter()
        .filter(|f| f.owner_id == me)
        .map(|f| friend_json(st, f))
        .collect();
    negotiated(req, 200, "friends", Value::Array(list))
}

fn v2_invite_friend(st: &mut PlexState, req: &Req, me: u64) -> Response {
    let Some(who) = req.param("identifier").map(str::to_string) else {
        return v2_error(req, 400, 1908, "identifier is required");
    };
    let invitee = match st.find_account(&who) {
        Some(a) if a.id == me => return Refusal::ShareWithSelf.v2(req),
        Some(a) => Invitee::Account(a.id),
        None if who.contains('@') => Invitee::Email(who.trim().to_ascii_lowercase()),
        None => return Refusal::UnknownUser(who).v2(req),
    };
    if let Err(r) = st.check_limit(me, &invitee) {
        return r.v2(req);
    }
    st.ensure_friendship(me, &invitee, false);
    let f = st
        .friendships
        .iter()
        .find(|f| f.owner_id == me && f.invitee == invitee)
        .expect("just made");
    let mut value = friend_json(st, f);
    if let Value::Object(map) = &mut value {
        map.retain(|k, _| {
            matches!(
                k.as_str(),
                "id" | "uuid" | "title" | "username" | "home" | "status"
            )
        });
    }
    negotiated(req, 201, "friend", value)
}

fn v1_users(st: &PlexState, me: u64) -> Response {
    let mut people: Vec<Invitee> = Vec::new();
    for inv in st
        .friendships
        .iter()
        .filter(|f| f.owner_id == me)
        .map(|f| f.invitee.clone())
        .chain(
            st.home
                .iter()
                .filter(|(o, _)| *o == me)
                .map(|(_, u)| Invitee::Account(*u)),
        )
        .chain(
            st.shares
                .iter()
                .filter(|s| s.owner_id == me)
                .map(|s| s.invitee.clone()),
        )
    {
        // Invites to an email without an account are not users yet.
        if matches!(inv, Invitee::Account(_)) && !people.contains(&inv) {
            people.push(inv);
        }
    }
    let mut root = El::new("MediaContainer")
        .attr("friendlyName", "myPlex")
        .attr("identifier", "com.plexapp.plugins.myplex")
        .attr("totalSize", people.len())
        .attr("size", people.len());
    for inv in people {
        let Invitee::Account(id) = inv else { continue };
        let Some(a) = st.account(id) else { continue };
        let home = st.home.iter().any(|(o, u)| *o == me && *u == id);
        let first = st
            .shares
            .iter()
            .find(|s| s.owner_id == me && s.invitee == inv);
        let settings = first.map(|s| s.settings.clone()).unwrap_or_default();
        let mut user = El::new("User")
            .attr("id", a.id)
            .attr("title", &a.title)
            .attr("username", &a.username)
            .attr("email", &a.email)
            .attr("thumb", a.thumb())
            .attr("protected", 0)
            .attr("home", bit(home))
            .attr("allowTuners", settings.allow_tuners)
            .attr("allowSync", bit(settings.allow_sync))
            .attr("allowCameraUpload", bit(settings.allow_camera_upload))
            .attr("allowChannels", bit(settings.allow_channels))
            .attr("filterAll", "")
            .attr("filterMovies", &settings.filter_movies)
            .attr("filterMusic", &settings.filter_music)
            .attr("filterPhotos", "")
            .attr("filterTelevision", &settings.filter_television)
            .attr("restricted", bit(a.managed));
        for s in st
            .shares
            .iter()
            .filter(|s| s.owner_id == me && s.invitee == inv)
        {
            let server = st.server(&s.machine_id);
            user = user.child(
                El::new("Server")
                    .attr("id", s.id)
                    .attr("serverId", server.map(|s| s.numeric_id).unwrap_or_default())
                    .attr("machineIdentifier", &s.machine_id)
                    .attr("name", server.map(|s| s.name.as_str()).unwrap_or_default())
                    .attr("lastSeenAt", s.accepted_at.unwrap_or(0))
                    .attr(
                        "numLibraries",
                        if s.all_libraries {
                            server.map(|s| s.libraries.len()).unwrap_or(0)
                        } else {
                            s.section_ids.len()
                        },
                    )
                    .attr("allLibraries", bit(s.all_libraries))
                    .attr("owned", 1)
                    .attr("pending", bit(s.accepted_at.is_none())),
            );
        }
        root = root.child(user);
    }
    xml(200, root)
}

fn home_user_el(a: &Account, admin: bool) -> El {
    El::new("User")
        .attr("id", a.id)
        .attr("uuid", &a.uuid)
        .attr("admin", bit(admin))
        .attr("guest", 0)
        .attr("restricted", bit(a.managed))
        .attr("protected", 0)
        .attr("title", &a.title)
        .attr("username", &a.username)
        .attr("email", &a.email)
        .attr("thumb", a.thumb())
}

fn home_users(st: &PlexState, me: u64) -> Response {
    let members: Vec<&Account> = st
        .home
        .iter()
        .filter(|(o, _)| *o == me)
        .filter_map(|(_, u)| st.account(*u))
        .collect();
    let mut root = El::new("MediaContainer")
        .attr("friendlyName", "myPlex")
        .attr("identifier", "com.plexapp.plugins.myplex")
        .attr("size", members.len() + 1);
    if let Some(owner) = st.account(me) {
        root = root.child(home_user_el(owner, true));
    }
    for a in members {
        root = root.child(home_user_el(a, false));
    }
    xml(200, root)
}

fn home_add(st: &mut PlexState, req: &Req, me: u64) -> Response {
    let members = st.home.iter().filter(|(o, _)| *o == me).count();
    if members + 1 >= HOME_LIMIT {
        return v1_error(
            400,
            &format!("Plex Home member limit reached: a Home holds at most {HOME_LIMIT} members"),
        );
    }
    let id = if let Some(title) = req.param("title") {
        let title = title.trim().to_string();
        if let Err(r) = st.check_limit(me, &Invitee::Account(0)) {
            return r.v1();
        }
        let id = st.new_id();
        st.accounts.push(Account {
            id,
            uuid: format!("{:016x}", id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            username: String::new(),
            email: String::new(),
            title,
            token: None,
            plex_pass: false,
            managed: true,
        });
        id
    } else if let Some(email) = req.param("invitedEmail") {
        if !st.account(me).is_some_and(|a| a.plex_pass) {
            return Refusal::PlexPass.v1();
        }
        let Some(id) = st.find_account(email).map(|a| a.id) else {
            return Refusal::UnknownUser(email.to_string()).v1();
        };
        if id == me || st.home.contains(&(me, id)) {
            return v1_error(400, "This user is already a member of your Plex Home");
        }
        if let Err(r) = st.check_limit(me, &Invitee::Account(id)) {
            return r.v1();
        }
        id
    } else {
        return v1_error(400, "title or invitedEmail is required");
    };
    st.home.push((me, id));
    let a = st.account(id).expect("just added");
    xml(201, home_user_el(a, false))
}

fn home_remove(st: &mut PlexState, me: u64, id: &str) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return v1_error(404, "Not Found");
    };
    let Some(i) = st.home.iter().position(|m| *m == (me, id)) else {
        return v1_error(404, "Not Found");
    };
    st.home.remove(i);
    if st.account(id).is_some_and(|a| a.managed) {
        st.accounts.retain(|a| a.id != id);
        st.shares.retain(|s| s.invitee != Invitee::Account(id));
    }
    empty(204)
}

fn pin_json(p: &Pin) -> Value {
    json!({
        "id": p.id, "code": p.code, "product": "usher", "trusted": false,
        "clientIdentifier": p.client_identifier, "expiresIn": p.expires_at.saturating_sub(now_secs()),
        "createdAt": iso8601(p.created_at), "expiresAt": iso8601(p.expires_at),
        "authToken": p.auth_token, "newRegistration": null,
    })
}

fn create_pin(st: &mut PlexState, req: &Req) -> Response {
    let client = req.client_id().unwrap_or_default().to_string();
    let strong = req.param("strong") == Some("true");
    let now = now_secs();
    st.next_pin += 1;
    let pin = Pin {
        id: st.next_pin,
        code: if strong {
            random_code(25)
        } else {
            random_code(4).to_ascii_uppercase()
        },
        client_identifier: client,
        created_at: now,
        expires_at: now + PIN_LIFETIME,
        auth_token: None,
    };
    let res = negotiated(req, 201, "pin", pin_json(&pin));
    st.pins.push(pin);
    res
}

fn check_pin(st: &PlexState, req: &Req, id: &str) -> Response {
    let client = req.client_id().unwrap_or_default();
    let pin = id
        .parse::<u64>()
        .ok()
        .and_then(|id| st.pins.iter().find(|p| p.id == id))
        .filter(|p| p.client_identifier == client && p.expires_at > now_secs());
    match pin {
        Some(p) => negotiated(req, 200, "pin", pin_json(p)),
        None => v2_error(req, 404, 1002, "Resource not found"),
    }
}

/// The app.plex.tv sign-in page: the browser keeps `#?clientID=…&code=…&forwardUrl=…` to itself,
/// so a small script reads it, approves the PIN as the chosen account and forwards.
fn auth_page(st: &PlexState) -> Response {
    let mut buttons = String::new();
    for a in st.accounts.iter().filter(|a| !a.managed) {
        let name = escape_attr(&a.username);
        buttons.push_str(&format!(
            "<li><button type=\"button\" data-account=\"{name}\">Sign in as {name}</button></li>"
        ));
    }
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Plex (fake)</title></head>\
<body><h1>Sign in to Plex</h1><p>This is the fake plex.tv of usher's demo.</p><ul>{buttons}</ul>\
<script>\
const q=new URLSearchParams(location.hash.replace(/^#\\??/,''));\
document.querySelectorAll('button[data-account]').forEach(b=>b.addEventListener('click',async()=>{{\
const u=new URLSearchParams({{code:q.get('code')||'',account:b.dataset.account}});\
await fetch('/__fake/approve?'+u,{{method:'POST'}});\
const f=q.get('forwardUrl');if(f){{location.href=f}}else{{document.body.append('Signed in.')}}}}));\
</script></body></html>"
    );
    let mut res = (StatusCode::OK, page).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

fn fake_approve(st: &mut PlexState, req: &Req) -> Response {
    let (Some(code), Some(who)) = (req.param("code"), req.param("account")) else {
        return empty(400);
    };
    let Some(token) = st.find_account(who).and_then(|a| a.token.clone()) else {
        return empty(404);
    };
    match st.pins.iter_mut().find(|p| p.code == code) {
        Some(pin) => {
            pin.auth_token = Some(token);
            empty(204)
        }
        None => empty(404),
    }
}

// ---------------------------------------------------------------------------------------------
// Plex Media Server
// ---------------------------------------------------------------------------------------------

async fn pms(State(s): State<PmsShared>, request: Request) -> Response {
    let req = match Req::read(request).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let st = lock(&s.state);
    let Some(server) = st.server(&s.machine_id) else {
        return empty(503);
    };
    let segs = req.segs();
    if req.method != Method::GET {
        return empty(405);
    }
    if segs.as_slice() == ["identity"] {
        return pms_container(
            &req,
            json!({"size": 0, "claimed": "1", "machineIdentifier": server.machine_id,
                   "version": server.version}),
            Vec::new(),
        );
    }
    let owner = st.account(server.owner_id);
    let token = req.token();
    let is_owner = token.is_some() && owner.and_then(|o| o.token.as_deref()) == token;
    // A friend reaches the server with the share's access token or their own plex.tv token.
    let friend = token.and_then(|t| st.account_by_token(t)).map(|a| a.id);
    let share = st.shares.iter().find(|sh| {
        sh.machine_id == server.machine_id
            && sh.accepted_at.is_some()
            && (Some(sh.access_token.as_str()) == token
                || friend.is_some_and(|f| sh.invitee == Invitee::Account(f)))
    });
    if !is_owner && share.is_none() {
        let mut res = (
            StatusCode::UNAUTHORIZED,
            "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>",
        )
            .into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        return res;
    }
    match segs.as_slice() {
        [] => pms_container(
            &req,
            json!({"size": 0, "friendlyName": server.name, "machineIdentifier": server.machine_id,
                   "myPlexUsername": owner.map(|o| o.username.clone()), "myPlex": "1",
                   "allowSharing": "1", "claimed": "1", "version": server.version}),
            Vec::new(),
        ),
        ["library", "sections"] => {
            let visible = server.libraries.iter().filter(|l| {
                share.is_none_or(|sh| sh.all_libraries || sh.section_ids.contains(&l.global_id))
            });
            let dirs: Vec<Value> = visible
                .map(|l| {
                    json!({
                        "allowSync": "1", "key": l.key.to_string(), "type": l.kind,
                        "title": l.title, "agent": agent(&l.kind), "scanner": scanner(&l.kind),
                        "language": "en-US", "uuid": format!("{:08x}-0000-4000-8000-{:012x}", l.global_id, l.key),
                        "updatedAt": "1656868084", "createdAt": "1656868084",
                        "scannedAt": "1657871471", "hidden": "0", "filters": "1", "refreshing": "0",
                        "Location": [{"id": l.key, "path": format!("/data/{}", l.title)}],
                    })
                })
                .collect();
            pms_container(
                &req,
                json!({"size": dirs.len(), "allowSync": "0", "title1": "Plex Library"}),
                dirs,
            )
        }
        _ => empty(404),
    }
}

fn agent(kind: &str) -> &'static str {
    match kind {
        "movie" => "tv.plex.agents.movie",
        "show" => "tv.plex.agents.series",
        "artist" => "tv.plex.agents.music",
        _ => "com.plexapp.agents.none",
    }
}

fn scanner(kind: &str) -> &'static str {
    match kind {
        "movie" => "Plex Movie",
        "show" => "Plex TV Series",
        "artist" => "Plex Music",
        _ => "Plex Photo Scanner",
    }
}

/// A PMS `MediaContainer` in JSON (`{"MediaContainer":{…,"Directory":[…]}}`) or XML.
fn pms_container(req: &Req, attrs: Value, directories: Vec<Value>) -> Response {
    if req.wants_json() {
        let mut mc = attrs;
        if !directories.is_empty() {
            mc["Directory"] = Value::Array(directories);
        }
        return json_res(200, json!({ "MediaContainer": mc }));
    }
    let mut root = json_to_el("MediaContainer", &attrs);
    for d in &directories {
        let mut el = El::new("Directory");
        let mut children = Vec::new();
        if let Value::Object(map) = d {
            for (k, v) in map {
                match v {
                    Value::Array(items) => {
                        children.extend(items.iter().map(|i| json_to_el(k, i)));
                    }
                    other => el = el.attr(k, scalar_text(other)),
                }
            }
        }
        el.children = children;
        root = root.child(el);
    }
    xml(200, root)
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2024-05-01T12:00:00Z` from seconds since the epoch.
fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

fn random_hex(bytes: usize) -> String {
    let mut out = String::new();
    while out.len() < bytes * 2 {
        out.push_str(&format!("{:016x}", random_u64()));
    }
    out.truncate(bytes * 2);
    out
}

fn random_code(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut r = random_u64();
        for _ in 0..8 {
            if out.len() == len {
                break;
            }
            out.push(ALPHABET[(r % ALPHABET.len() as u64) as usize] as char);
            r /= ALPHABET.len() as u64;
        }
    }
    out
}

fn join_ids(ids: &[u64]) -> String {
    ids.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_656_868_084), "2022-07-03T17:08:04Z");
    }

    #[test]
    fn filters_follow_the_wire_format() {
        assert_eq!(check_filter(""), Ok(false));
        assert_eq!(check_filter("contentRating=G%2CPG|label!=kids"), Ok(true));
        assert!(check_filter("contentRating=G,PG").is_err());
        assert!(check_filter("genre=Drama").is_err());
    }

    #[test]
    fn json_becomes_plex_style_xml() {
        let el = json_to_el(
            "resource",
            &json!({"name":"Box","owned":true,"connections":[{"uri":"http://a"}],"plan":null}),
        );
        let mut out = String::new();
        el.render(&mut out);
        assert_eq!(
            out,
            r#"<resource name="Box" owned="1"><connections size="1"><connection uri="http://a"/></connections></resource>"#
        );
    }
}
