//! plex.tv and Plex Media Server, following `shared/reference/plex-api.md`.
//!
//! Two types: [`PlexServerClient`] manages one owned server (probe, libraries, shares) with the
//! owner's token; [`PlexAuth`] runs "Sign in with Plex" and lists an account's servers, before
//! any server is connected.
//!
//! plex.tv speaks two API generations. Sharing prefers the v1 calls python-plexapi uses and falls
//! back to v2 when plex.tv answers 404 or 410; reading shares prefers the v2 lists, since the v1
//! pending-invite list is gone. Libraries are always shared by plex.tv's *global* section ids,
//! resolved from the server's local keys, never by the local keys themselves.
//!
//! Tokens travel only in the `X-Plex-Token` header, never in a URL or an error message.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quick_xml::events::{BytesStart, Event};
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde_json::{Value, json};

use crate::http::{join, parse_base_url};
use crate::{
    AccountStatus, ClientInfo, GrantOutcome, GrantSpec, Identity, Library, MediaError, Permissions,
    RemoteAccount, ServerInfo, ServerKind,
};

/// The plex.tv base URLs; each is configurable (USHER_PLEX_TV_URL, …) so tests use the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlexEndpoints {
    pub plex_tv: String,
    pub clients: String,
    pub app: String,
}

impl Default for PlexEndpoints {
    fn default() -> Self {
        PlexEndpoints {
            plex_tv: "https://plex.tv".into(),
            clients: "https://clients.plex.tv".into(),
            app: "https://app.plex.tv".into(),
        }
    }
}

impl PlexEndpoints {
    /// All three hosts at one base URL, as a single fake serves them.
    pub fn at(base: &str) -> Self {
        PlexEndpoints {
            plex_tv: base.into(),
            clients: base.into(),
            app: base.into(),
        }
    }

    fn checked(self) -> Result<Self, MediaError> {
        Ok(PlexEndpoints {
            plex_tv: parse_base_url(&self.plex_tv)?,
            clients: parse_base_url(&self.clients)?,
            app: parse_base_url(&self.app)?,
        })
    }
}

/// How many times `libraries` asks plex.tv for a server's sections before giving up: plex.tv
/// has been seen to list a server's sections partially for a while after they change.
pub const SECTION_FETCH_ATTEMPTS: usize = 3;

/// `allowTuners` for a grant with Live TV: 1 is Live TV without DVR, so friends cannot record to
/// the owner's disk.
const LIVE_TV_TUNERS: u8 = 1;

// ---------------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------------

/// The HTTP client plus the X-Plex-* headers every call carries.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    headers: HeaderMap,
}

/// What a call answered, read whole.
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    body: String,
    /// The path called, for messages (never the query, never a token).
    path: String,
    /// The token used, so it can be scrubbed from anything quoted back.
    token: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

impl Api {
    fn new(info: &ClientInfo) -> Result<Api, MediaError> {
        let mut headers = HeaderMap::new();
        let pairs = [
            ("x-plex-product", &info.product),
            ("x-plex-version", &info.version),
            ("x-plex-client-identifier", &info.client_identifier),
            ("x-plex-platform", &info.platform),
            ("x-plex-device", &info.platform),
            ("x-plex-device-name", &info.device_name),
        ];
        for (name, value) in pairs {
            let value = HeaderValue::from_str(value).map_err(|_| {
                MediaError::Invalid(format!(
                    "{name} `{value}` has characters an HTTP header cannot carry"
                ))
            })?;
            headers.insert(HeaderName::from_static(name), value);
        }
        Ok(Api {
            http: crate::http::client()?,
            headers,
        })
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        format: Format,
        body: Option<&Value>,
    ) -> Result<Answer, MediaError> {
        let mut headers = self.headers.clone();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static(match format {
                Format::Json => "application/json",
                Format::Xml => "application/xml",
            }),
        );
        if let Some(token) = token {
            let value = HeaderValue::from_str(token).map_err(|_| {
                MediaError::Invalid(
                    "the Plex token has characters a token cannot have: paste it again".into(),
                )
            })?;
            headers.insert(HeaderName::from_static("x-plex-token"), value);
        }
        let mut request = self.http.request(method, url).headers(headers);
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let path = response.url().path().to_string();
        let body = response.text().await?;
        Ok(Answer {
            status,
            retry_after,
            body,
            path,
            token: token.map(str::to_string),
        })
    }
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// 404 or 410: the call is not (or no longer) offered here, so the other API generation may
    /// still answer.
    fn gone(&self) -> bool {
        matches!(self.status, 404 | 410)
    }

    fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, MediaError> {
        serde_json::from_str(&self.body).map_err(|e| {
            MediaError::Protocol(format!(
                "{} answered JSON usher could not read: {e}",
                self.path
            ))
        })
    }

    fn xml(&self) -> Result<Node, MediaError> {
        parse_xml(&self.body).map_err(|e| {
            MediaError::Protocol(format!(
                "{} answered XML usher could not read: {e}",
                self.path
            ))
        })
    }

    /// The human message in any of plex.tv's error shapes, scrubbed of the token.
    fn message(&self) -> String {
        let body = self.body.trim();
        let mut msg = None;
        if body.starts_with('{') {
            if let Ok(v) = serde_json::from_str::<Value>(body) {
                msg = v["errors"][0]["message"]
                    .as_str()
                    .or(v["error"].as_str())
                    .map(str::to_string);
            }
        } else if body.starts_with('<')
            && let Ok(root) = parse_xml(body)
        {
            msg = match root.name.as_str() {
                "Response" => root.attr("status").map(str::to_string),
                "errors" => root
                    .child("error")
                    .and_then(|e| e.attr("message"))
                    .map(str::to_string),
                _ => None,
            };
        }
        let mut msg = msg.unwrap_or_else(|| {
            if body.starts_with('<') || body.is_empty() {
                String::new()
            } else {
                body.chars().take(200).collect()
            }
        });
        if let Some(token) = self.token.as_deref().filter(|t| !t.is_empty()) {
            msg = msg.replace(token, "[token]");
        }
        msg
    }

    /// Maps a non-success answer to what a person can act on. `what` names the thing asked for.
    fn error(&self, what: &str) -> MediaError {
        let msg = self.message();
        let lower = msg.to_ascii_lowercase();
        let detail = if msg.is_empty() {
            format!("{} {}", self.status, self.path)
        } else {
            msg.clone()
        };
        match self.status {
            429 => MediaError::RateLimited {
                retry_after: self.retry_after,
            },
            401 => MediaError::Unauthorized,
            422 if lower.contains("invalid token") => MediaError::Unauthorized,
            410 => MediaError::EndpointRemoved(self.path.clone()),
            _ if lower.contains("plex pass") => MediaError::PlexPassRequired,
            400 | 422 if lower.contains("already sharing") => MediaError::AlreadyExists(msg),
            400 | 403 | 422 if lower.contains("limit") => MediaError::LimitReached(msg),
            400 | 404 | 422 if lower.contains("unable to find") => MediaError::NotFound(format!(
                "plex.tv has no account like that ({msg}): check the spelling, or use their email"
            )),
            403 => MediaError::NotOwner,
            404 => MediaError::NotFound(what.to_string()),
            400 | 422 => MediaError::Invalid(format!("plex.tv refused {what}: {detail}")),
            status => MediaError::Server {
                status,
                message: detail,
            },
        }
    }
}

/// `Retry-After` as seconds or an HTTP date; `None` when absent or unreadable.
fn parse_retry_after(raw: &str, now: SystemTime) -> Option<Duration> {
    let raw = raw.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    let parts: Vec<&str> = raw.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').filter_map(|p| p.parse().ok()).collect();
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let at = days * 86_400 + h * 3600 + m * 60 + s;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(Duration::from_secs(at.saturating_sub(now).max(0) as u64))
}

// ---------------------------------------------------------------------------------------------
// A small XML tree: plex.tv's XML is attribute-heavy and shallow.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every element called `name` at any depth, this one included, in document order.
    fn all<'a>(&'a self, name: &str, out: &mut Vec<&'a Node>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.all(name, out);
        }
    }

    fn find_all(&self, name: &str) -> Vec<&Node> {
        let mut out = Vec::new();
        self.all(name, &mut out);
        out
    }
}

fn node_from(start: &BytesStart<'_>) -> Result<Node, String> {
    let name = start.name().as_ref().to_string();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let key = attr.key.as_ref().to_string();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Node {
        name,
        attrs,
        children: Vec::new(),
    })
}

/// The root element of `text`.
fn parse_xml(text: &str) -> Result<Node, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => stack.push(node_from(&e)?),
            Event::Empty(e) => {
                let node = node_from(&e)?;
                stack.last_mut().expect("document").children.push(node);
            }
            Event::End(_) => {
                let node = stack.pop().expect("open element");
                stack
                    .last_mut()
                    .ok_or("unbalanced XML")?
                    .children
                    .push(node);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut doc = stack
        .pop()
        .filter(|_| stack.is_empty())
        .ok_or("unclosed XML")?;
    if doc.children.is_empty() {
        return Err("no XML element".into());
    }
    Ok(doc.children.swap_remove(0))
}

// ---------------------------------------------------------------------------------------------
// Sharing settings
// ---------------------------------------------------------------------------------------------

/// A grant's settings as plex.tv's sharing calls take them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShareSettings {
    allow_sync: bool,
    allow_camera_upload: bool,
    allow_tuners: u8,
    filter_movies: String,
    filter_television: String,
    filter_music: String,
}

impl ShareSettings {
    fn from_permissions(p: &Permissions) -> Result<Self, MediaError> {
        Ok(ShareSettings {
            allow_sync: p.allow_downloads,
            allow_camera_upload: p.allow_camera_upload,
            allow_tuners: if p.allow_live_tv { LIVE_TV_TUNERS } else { 0 },
            filter_movies: encode_filter(&p.filter_movies)?,
            filter_television: encode_filter(&p.filter_television)?,
            filter_music: encode_filter(&p.filter_music)?,
        })
    }

    /// v1 (python-plexapi) style: flags as "0"/"1" strings. Channels are a retired Plex feature
    /// usher never grants.
    fn v1(&self) -> Value {
        let b = |v: bool| if v { "1" } else { "0" };
        json!({
            "allowSync": b(self.allow_sync),
            "allowCameraUpload": b(self.allow_camera_upload),
            "allowChannels": "0",
            "allowTuners": self.allow_tuners.to_string(),
            "filterMovies": self.filter_movies,
            "filterTelevision": self.filter_television,
            "filterMusic": self.filter_music,
        })
    }

    fn v2(&self) -> Value {
        json!({
            "allowChannels": false,
            "allowSubtitleAdmin": false,
            "allowSync": self.allow_sync,
            "allowCameraUpload": self.allow_camera_upload,
            "allowTuners": self.allow_tuners,
            "filterMovies": self.filter_movies,
            "filterMusic": self.filter_music,
            "filterTelevision": self.filter_television,
            "filterPhotos": null,
            "filterAll": null,
        })
    }

    /// The query of v1's `PUT /api/v2/sharings/{userId}`.
    fn query(&self) -> String {
        let b = |v: bool| if v { "1" } else { "0" };
        let pairs = [
            ("allowSync", b(self.allow_sync).to_string()),
            ("allowCameraUpload", b(self.allow_camera_upload).to_string()),
            ("allowChannels", "0".to_string()),
            ("allowTuners", self.allow_tuners.to_string()),
            ("filterMovies", self.filter_movies.clone()),
            ("filterTelevision", self.filter_television.clone()),
            ("filterMusic", self.filter_music.clone()),
        ];
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Turns `contentRating=G,PG|label!=kids` into plex.tv's wire format: pairs joined by `|`, several
/// values joined by a literal `%2C`. Values already joined by `%2C` pass through.
pub fn encode_filter(raw: &str) -> Result<String, MediaError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    let mut pairs = Vec::new();
    for pair in raw.split('|') {
        let Some((key, values)) = pair.split_once('=') else {
            return Err(MediaError::Invalid(format!(
                "content filter `{pair}` needs a key and values, like contentRating=G,PG"
            )));
        };
        let key = key.trim();
        if !matches!(key, "contentRating" | "contentRating!" | "label" | "label!") {
            return Err(MediaError::Invalid(format!(
                "content filter key `{key}` is not one Plex knows: use contentRating, contentRating!, label or label!"
            )));
        }
        let values: Vec<&str> = values
            .split(',')
            .flat_map(|v| v.split("%2C"))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return Err(MediaError::Invalid(format!(
                "content filter `{key}` has no values"
            )));
        }
        pairs.push(format!("{key}={}", values.join("%2C")));
    }
    Ok(pairs.join("|"))
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Library ids as plex.tv's sharing calls take them (global section ids are numbers).
fn section_ids(libraries: &[String]) -> Result<Vec<u64>, MediaError> {
    if libraries.is_empty() {
        return Err(MediaError::Invalid(
            "choose at least one library to share: plex.tv cannot share a server without one"
                .into(),
        ));
    }
    libraries
        .iter()
        .map(|l| {
            l.trim().parse::<u64>().map_err(|_| {
                MediaError::Invalid(format!(
                    "`{l}` is not a Plex library id: refresh the server's libraries in usher"
                ))
            })
        })
        .collect()
}

fn share_id(remote_id: &str) -> Result<u64, MediaError> {
    remote_id
        .trim()
        .parse()
        .map_err(|_| MediaError::Invalid(format!("`{remote_id}` is not a Plex share id")))
}

// ---------------------------------------------------------------------------------------------
// Shares as plex.tv lists them
// ---------------------------------------------------------------------------------------------

/// One share, from either API generation.
#[derive(Debug, Clone)]
struct ShareRecord {
    id: String,
    machine_id: String,
    /// The invited account; `None` for an invite to an email without an account.
    user_id: Option<String>,
    username: String,
    email: Option<String>,
    accepted: bool,
    libraries: Vec<String>,
    all_libraries: bool,
}

impl ShareRecord {
    fn matches(&self, who: &str) -> bool {
        let who = who.trim();
        self.username.eq_ignore_ascii_case(who)
            || self
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(who))
    }

    fn outcome(&self) -> GrantOutcome {
        GrantOutcome {
            remote_id: self.id.clone(),
            remote_user_id: self.user_id.clone(),
            username: self.username.clone(),
            pending: !self.accepted,
        }
    }

    fn into_account(self) -> RemoteAccount {
        RemoteAccount {
            remote_id: self.id,
            remote_user_id: self.user_id,
            username: self.username,
            email: self.email,
            status: if self.accepted {
                AccountStatus::Active
            } else {
                AccountStatus::Pending
            },
            libraries: self.libraries,
            all_libraries: self.all_libraries,
            is_admin: false,
        }
    }

    /// A v2 share object (section 5b of the reference).
    fn from_v2(v: &Value) -> Option<ShareRecord> {
        let id = scalar(&v["id"])?;
        let invited = &v["invited"];
        // An email invite carries the email where the account id would be.
        let user_id = match (&v["invitedId"], &invited["id"]) {
            (Value::Number(n), _) | (_, Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let email = invited["email"]
            .as_str()
            .or(v["invitedEmail"].as_str())
            .filter(|e| !e.is_empty())
            .map(str::to_string);
        let username = [&invited["username"], &invited["title"], &v["invitedEmail"]]
            .iter()
            .find_map(|f| f.as_str().filter(|s| !s.is_empty()))
            .map(str::to_string)
            .or_else(|| email.clone())
            .unwrap_or_default();
        let accepted = v["accepted"].as_bool().unwrap_or(false)
            || invited["status"].as_str() == Some("accepted");
        let libraries = v["libraries"]
            .as_array()
            .map(|l| l.iter().filter_map(|l| scalar(&l["id"])).collect())
            .unwrap_or_default();
        Some(ShareRecord {
            id,
            machine_id: v["machineIdentifier"].as_str().unwrap_or_default().into(),
            user_id,
            username,
            email,
            accepted,
            libraries,
            all_libraries: v["allLibraries"].as_bool().unwrap_or(false),
        })
    }

    /// A v1 `SharedServer` element (section 5a of the reference).
    fn from_v1(el: &Node, machine_id: &str) -> Option<ShareRecord> {
        let nonempty = |k: &str| el.attr(k).filter(|v| !v.is_empty() && *v != "0");
        let email = nonempty("email").map(str::to_string);
        let username = nonempty("username")
            .map(str::to_string)
            .or_else(|| email.clone())
            .unwrap_or_default();
        let sections: Vec<&Node> = el.find_all("Section");
        let libraries: Vec<String> = sections
            .iter()
            .filter(|s| s.attr("shared") == Some("1"))
            .filter_map(|s| s.attr("id").map(str::to_string))
            .collect();
        Some(ShareRecord {
            id: nonempty("id")?.to_string(),
            machine_id: machine_id.into(),
            user_id: nonempty("userID").map(str::to_string),
            username,
            email,
            accepted: nonempty("acceptedAt").is_some(),
            // v1 lists every section with a flag, so "all libraries" cannot be told from "each
            // library"; the ids say what is shared either way.
            all_libraries: false,
            libraries,
        })
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Whom a share goes to.
enum Invitee<'a> {
    /// An email or plex.tv username.
    Person(&'a str),
    /// A managed Home user's account id.
    HomeUser(&'a str),
}

// ---------------------------------------------------------------------------------------------
// The server client
// ---------------------------------------------------------------------------------------------

/// One Plex Media Server, managed with its owner's plex.tv token.
#[derive(Clone)]
pub struct PlexServerClient {
    api: Api,
    endpoints: PlexEndpoints,
    url: String,
    token: String,
    /// Learnt from `/identity` on first use; a server keeps its machine id for life.
    machine_id: Arc<OnceLock<String>>,
}

impl fmt::Debug for PlexServerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlexServerClient")
            .field("url", &self.url)
            .field("endpoints", &self.endpoints)
            .field("token", &"[redacted]")
            .finish()
    }
}

impl PlexServerClient {
    /// `url` is the server's address; `token` the owner's plex.tv token.
    pub fn new(
        url: &str,
        token: &str,
        info: ClientInfo,
        endpoints: PlexEndpoints,
    ) -> Result<Self, MediaError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(MediaError::Invalid(
                "a Plex token is needed: sign in with Plex or paste the owner's token".into(),
            ));
        }
        Ok(PlexServerClient {
            api: Api::new(&info)?,
            endpoints: endpoints.checked()?,
            url: parse_base_url(url)?,
            token: token.to_string(),
            machine_id: Arc::new(OnceLock::new()),
        })
    }

    fn tv(&self, path: &str) -> String {
        join(&self.endpoints.plex_tv, path)
    }

    fn clients(&self, path: &str) -> String {
        join(&self.endpoints.clients, path)
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        format: Format,
        body: Option<&Value>,
    ) -> Result<Answer, MediaError> {
        self.api
            .call(method, url, Some(&self.token), format, body)
            .await
    }

    async fn get_json(&self, url: &str, what: &str) -> Result<Answer, MediaError> {
        let answer = self.call(Method::GET, url, Format::Json, None).await?;
        if answer.ok() {
            Ok(answer)
        } else {
            Err(answer.error(what))
        }
    }

    /// A Plex Media Server call. A 404, or a refusal of the call a real server answers without
    /// a token, means the URL is not a Plex server.
    async fn pms(&self, path: &str, token: bool, format: Format) -> Result<Answer, MediaError> {
        let url = join(&self.url, path);
        let tokenless = !token;
        let token = token.then_some(self.token.as_str());
        let answer = self
            .api
            .call(Method::GET, &url, token, format, None)
            .await?;
        match answer.status {
            s if (200..300).contains(&s) => Ok(answer),
            s if s == 404 || (tokenless && matches!(s, 401 | 403)) => {
                Err(MediaError::Protocol(format!(
                    "{} does not answer like a Plex Media Server: check the URL and port (usually 32400)",
                    self.url
                )))
            }
            _ => Err(answer.error("the server")),
        }
    }

    async fn machine_id(&self) -> Result<String, MediaError> {
        if let Some(id) = self.machine_id.get() {
            return Ok(id.clone());
        }
        let identity = self.pms("/identity", false, Format::Xml).await?.xml()?;
        let id = identity
            .attr("machineIdentifier")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                MediaError::Protocol(format!(
                    "{} gave no machineIdentifier: is it a Plex Media Server?",
                    self.url
                ))
            })?
            .to_string();
        Ok(self.machine_id.get_or_init(|| id).clone())
    }

    /// Who the server is, and that the token's account owns it.
    pub async fn probe(&self) -> Result<ServerInfo, MediaError> {
        let id = self.machine_id().await?;
        // plex.tv first: it tells a bad token from a good token of the wrong account, which the
        // server alone cannot.
        let resources: Vec<Value> = self
            .get_json(
                &self.tv("/api/v2/resources?includeHttps=1&includeRelay=1&includeIPv6=1"),
                "the account's servers",
            )
            .await?
            .json()?;
        let owned = resources.iter().any(|r| {
            r["clientIdentifier"].as_str() == Some(id.as_str())
                && r["provides"].as_str().is_some_and(|p| p.contains("server"))
                && r["owned"].as_bool() == Some(true)
        });
        if !owned {
            return Err(MediaError::NotOwner);
        }
        let root = self.pms("/", true, Format::Xml).await?.xml()?;
        let name = root.attr("friendlyName").unwrap_or_default().to_string();
        let version = root.attr("version").unwrap_or_default().to_string();
        let warning = (root.attr("allowSharing") == Some("0")).then(|| {
            "sharing is turned off on this server: enable it in Plex's settings before inviting anyone"
                .to_string()
        });
        Ok(ServerInfo {
            id,
            name,
            version,
            kind: ServerKind::Plex,
            warning,
        })
    }

    /// Every library with plex.tv's global section id as [`Library::id`].
    pub async fn libraries(&self) -> Result<Vec<Library>, MediaError> {
        let mid = self.machine_id().await?;
        let local: Value = self
            .pms("/library/sections", true, Format::Json)
            .await?
            .json()?;
        let local: Vec<(String, String, String)> = local["MediaContainer"]["Directory"]
            .as_array()
            .map(|dirs| {
                dirs.iter()
                    .filter_map(|d| {
                        Some((
                            scalar(&d["key"])?,
                            d["title"].as_str().unwrap_or_default().to_string(),
                            d["type"].as_str().unwrap_or_default().to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut listed = 0;
        for _ in 0..SECTION_FETCH_ATTEMPTS {
            let global = self.global_sections(&mid).await?;
            let found: Option<Vec<Library>> = local
                .iter()
                .map(|(key, title, kind)| {
                    global
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, id)| Library {
                            id: id.clone(),
                            local_key: key.clone(),
                            name: title.clone(),
                            kind: kind.clone(),
                        })
                })
                .collect();
            if let Some(libraries) = found {
                return Ok(libraries);
            }
            listed = global.len();
        }
        Err(MediaError::Server {
            status: 503,
            message: format!(
                "plex.tv listed {listed} of the server's {} libraries; it catches up within minutes, so try again shortly",
                local.len()
            ),
        })
    }

    /// (local key, global id) pairs as plex.tv lists them: v2 first, v1 when v2 is gone.
    async fn global_sections(&self, mid: &str) -> Result<Vec<(String, String)>, MediaError> {
        let what = "this server on plex.tv";
        let v2 = self
            .call(
                Method::GET,
                &self.tv(&format!("/api/v2/servers/{}", encode(mid))),
                Format::Json,
                None,
            )
            .await?;
        if v2.ok() {
            let server: Value = v2.json()?;
            return Ok(server["librarySections"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .filter_map(|s| Some((scalar(&s["key"])?, scalar(&s["id"])?)))
                        .collect()
                })
                .unwrap_or_default());
        }
        if !v2.gone() {
            return Err(v2.error(what));
        }
        let v1 = self
            .call(
                Method::GET,
                &self.tv(&format!("/api/servers/{}", encode(mid))),
                Format::Xml,
                None,
            )
            .await?;
        if !v1.ok() {
            return Err(v1.error(what));
        }
        Ok(v1
            .xml()?
            .find_all("Section")
            .iter()
            .filter_map(|s| Some((s.attr("key")?.to_string(), s.attr("id")?.to_string())))
            .collect())
    }

    /// Shares the server with a plex.tv account, or with a new managed Plex Home user when
    /// `permissions.plex_home` is set. Granting what is already shared updates the share.
    pub async fn grant(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let Identity::PlexUser { email_or_username } = &spec.identity else {
            return Err(MediaError::Invalid(
                "Plex shares go to a plex.tv account: give an email or Plex username".into(),
            ));
        };
        let who = email_or_username.trim();
        if who.is_empty() {
            return Err(MediaError::Invalid(
                "give the friend's email or Plex username".into(),
            ));
        }
        if spec.permissions.plex_home {
            return self
                .grant_home_user(who, &spec.libraries, &spec.permissions)
                .await;
        }
        let ids = section_ids(&spec.libraries)?;
        let settings = ShareSettings::from_permissions(&spec.permissions)?;
        self.share(Invitee::Person(who), &ids, &settings).await
    }

    /// Creates (or reuses) a managed Plex Home user called `name` and shares the libraries with
    /// it, as [`PlexServerClient::grant`] does when `permissions.plex_home` is set. Managed users
    /// need no invite, so the grant is never pending.
    pub async fn grant_home_user(
        &self,
        name: &str,
        libraries: &[String],
        permissions: &Permissions,
    ) -> Result<GrantOutcome, MediaError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(MediaError::Invalid("give the Home user a name".into()));
        }
        let ids = section_ids(libraries)?;
        let settings = ShareSettings::from_permissions(permissions)?;
        let user_id = self.home_user(name).await?;
        let mut outcome = self
            .share(Invitee::HomeUser(&user_id), &ids, &settings)
            .await?;
        outcome.pending = false;
        if outcome.username.is_empty() {
            outcome.username = name.to_string();
        }
        Ok(outcome)
    }

    /// The id of the managed Home user titled `name`, made if missing, so a retried grant does
    /// not fill the Home with duplicates.
    async fn home_user(&self, name: &str) -> Result<String, MediaError> {
        let list = self
            .call(Method::GET, &self.tv("/api/home/users"), Format::Xml, None)
            .await?;
        if !list.ok() {
            return Err(list.error("the Plex Home"));
        }
        let root = list.xml()?;
        if let Some(id) = root
            .find_all("User")
            .iter()
            .find(|u| {
                u.attr("restricted") == Some("1")
                    && u.attr("title")
                        .is_some_and(|t| t.eq_ignore_ascii_case(name))
            })
            .and_then(|u| u.attr("id"))
        {
            return Ok(id.to_string());
        }
        let made = self
            .call(
                Method::POST,
                &self.tv(&format!("/api/home/users?title={}", encode(name))),
                Format::Xml,
                None,
            )
            .await?;
        if !made.ok() {
            return Err(made.error("a Plex Home user"));
        }
        made.xml()?
            .find_all("User")
            .first()
            .and_then(|u| u.attr("id"))
            .map(str::to_string)
            .ok_or_else(|| MediaError::Protocol("plex.tv made a Home user without an id".into()))
    }

    /// Removes a member of the owner's Plex Home (a managed user is deleted with its shares).
    /// Removing someone already gone succeeds.
    pub async fn remove_home_user(&self, user_id: &str) -> Result<(), MediaError> {
        let answer = self
            .call(
                Method::DELETE,
                &self.tv(&format!("/api/home/users/{}", encode(user_id))),
                Format::Xml,
                None,
            )
            .await?;
        if answer.ok() || answer.status == 404 {
            Ok(())
        } else {
            Err(answer.error("the Plex Home user"))
        }
    }

    async fn share(
        &self,
        invitee: Invitee<'_>,
        ids: &[u64],
        settings: &ShareSettings,
    ) -> Result<GrantOutcome, MediaError> {
        let mid = self.machine_id().await?;
        match self.create_share(&mid, &invitee, ids, settings).await {
            Err(MediaError::AlreadyExists(msg)) => {
                let shares = self.shares(&mid).await?;
                let existing = shares.iter().find(|s| match invitee {
                    Invitee::Person(who) => s.matches(who),
                    Invitee::HomeUser(id) => s.user_id.as_deref() == Some(id),
                });
                let Some(existing) = existing else {
                    return Err(MediaError::AlreadyExists(msg));
                };
                self.update_share(
                    &mid,
                    &existing.id,
                    existing.user_id.as_deref(),
                    ids,
                    settings,
                )
                .await?;
                Ok(existing.outcome())
            }
            other => other,
        }
    }

    /// v1 `shared_servers` (python-plexapi's body); v2 when v1 answers 404 or 410.
    async fn create_share(
        &self,
        mid: &str,
        invitee: &Invitee<'_>,
        ids: &[u64],
        settings: &ShareSettings,
    ) -> Result<GrantOutcome, MediaError> {
        let what = "the invite";
        let mut shared = json!({"library_section_ids": ids});
        match invitee {
            Invitee::Person(who) => shared["invited_email"] = json!(who),
            Invitee::HomeUser(id) => shared["invited_id"] = json!(id.parse::<u64>().ok()),
        }
        let body =
            json!({"server_id": mid, "shared_server": shared, "sharing_settings": settings.v1()});
        let v1 = self
            .call(
                Method::POST,
                &self.tv(&format!("/api/servers/{}/shared_servers", encode(mid))),
                Format::Xml,
                Some(&body),
            )
            .await?;
        if v1.ok() {
            let root = v1.xml()?;
            let el = root.find_all("SharedServer");
            return el
                .first()
                .and_then(|el| ShareRecord::from_v1(el, mid))
                .map(|s| s.outcome())
                .ok_or_else(|| MediaError::Protocol("plex.tv confirmed no share".into()));
        }
        if !v1.gone() {
            return Err(v1.error(what));
        }
        let mut body = json!({
            "machineIdentifier": mid,
            "librarySectionIds": ids,
            "skipFriendship": true,
            "settings": settings.v2(),
        });
        match invitee {
            Invitee::Person(who) => body["invitedEmail"] = json!(who),
            Invitee::HomeUser(id) => body["invitedId"] = json!(id.parse::<u64>().ok()),
        }
        let v2 = self
            .call(
                Method::POST,
                &self.clients("/api/v2/shared_servers"),
                Format::Json,
                Some(&body),
            )
            .await?;
        if !v2.ok() {
            return Err(v2.error(what));
        }
        ShareRecord::from_v2(&v2.json()?)
            .map(|s| s.outcome())
            .ok_or_else(|| MediaError::Protocol("plex.tv confirmed no share".into()))
    }

    /// Changes a share's libraries and settings. `remote_id` is [`GrantOutcome::remote_id`].
    pub async fn update_access(
        &self,
        remote_id: &str,
        libraries: &[String],
        permissions: &Permissions,
    ) -> Result<(), MediaError> {
        share_id(remote_id)?;
        let ids = section_ids(libraries)?;
        let settings = ShareSettings::from_permissions(permissions)?;
        let mid = self.machine_id().await?;
        self.update_share(&mid, remote_id.trim(), None, &ids, &settings)
            .await
    }

    /// v2 (one call for libraries and settings); v1 when v2 answers 404 or 410.
    async fn update_share(
        &self,
        mid: &str,
        id: &str,
        user_id: Option<&str>,
        ids: &[u64],
        settings: &ShareSettings,
    ) -> Result<(), MediaError> {
        let what = "this Plex share (it may have been removed in Plex)";
        let body = json!({"settings": settings.v2(), "librarySectionIds": ids});
        let v2 = self
            .call(
                Method::POST,
                &self.clients(&format!("/api/v2/shared_servers/{}", encode(id))),
                Format::Json,
                Some(&body),
            )
            .await?;
        if v2.ok() {
            return Ok(());
        }
        if !v2.gone() {
            return Err(v2.error(what));
        }
        let body = json!({"server_id": mid, "shared_server": {"library_section_ids": ids}});
        let v1 = self
            .call(
                Method::PUT,
                &self.tv(&format!(
                    "/api/servers/{}/shared_servers/{}",
                    encode(mid),
                    encode(id)
                )),
                Format::Xml,
                Some(&body),
            )
            .await?;
        if !v1.ok() {
            return Err(v1.error(what));
        }
        let from_answer = v1
            .xml()?
            .find_all("SharedServer")
            .first()
            .and_then(|el| ShareRecord::from_v1(el, mid))
            .and_then(|s| s.user_id);
        let Some(user_id) = from_answer.or(user_id.map(str::to_string)) else {
            return Err(MediaError::Unsupported(
                "the libraries were updated, but plex.tv only lets usher change this invite's settings once it is accepted"
                    .into(),
            ));
        };
        let settings_url = self.tv(&format!(
            "/api/v2/sharings/{}?{}",
            encode(&user_id),
            settings.query()
        ));
        let answer = self
            .call(Method::PUT, &settings_url, Format::Json, None)
            .await?;
        if answer.ok() {
            Ok(())
        } else {
            Err(answer.error(what))
        }
    }

    /// Ends a share. Removing a share that is already gone succeeds.
    pub async fn remove(&self, remote_id: &str) -> Result<(), MediaError> {
        share_id(remote_id)?;
        let id = remote_id.trim();
        let mid = self.machine_id().await?;
        let answer = self
            .call(
                Method::DELETE,
                &self.tv(&format!(
                    "/api/servers/{}/shared_servers/{}",
                    encode(&mid),
                    encode(id)
                )),
                Format::Xml,
                None,
            )
            .await?;
        if answer.ok() {
            return Ok(());
        }
        if !answer.gone() {
            return Err(answer.error("the share"));
        }
        // A 404 means the share is gone, unless the call itself is: a share still listed must
        // not be reported as removed. Without the v1 call only "remove the friend" is left, which
        // ends every share to that person: do it only when this server is the only one they share.
        let all = match self.all_v2_shares().await {
            Ok(all) => all,
            Err(MediaError::EndpointRemoved(_) | MediaError::NotFound(_))
                if answer.status == 404 =>
            {
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let Some(share) = all.iter().find(|s| s.id == id) else {
            return Ok(());
        };
        let user = share
            .user_id
            .clone()
            .or_else(|| share.email.clone())
            .ok_or_else(|| MediaError::EndpointRemoved(answer.path.clone()))?;
        if all
            .iter()
            .any(|s| s.id != share.id && s.user_id == share.user_id && s.email == share.email)
        {
            return Err(MediaError::EndpointRemoved(format!(
                "{} (the fallback would also end this friend's other shares)",
                answer.path
            )));
        }
        let removed = self
            .call(
                Method::DELETE,
                &self.tv(&format!("/api/v2/sharings/{}", encode(&user))),
                Format::Json,
                None,
            )
            .await?;
        if removed.ok() || removed.status == 404 {
            Ok(())
        } else {
            Err(removed.error("the share"))
        }
    }

    /// Everyone the server is shared with, accepted and pending, with their libraries. The owner
    /// is not listed.
    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        let mid = self.machine_id().await?;
        Ok(self
            .shares(&mid)
            .await?
            .into_iter()
            .map(ShareRecord::into_account)
            .collect())
    }

    /// This server's shares: the v2 owned lists, or v1 `shared_servers` when those are gone.
    async fn shares(&self, mid: &str) -> Result<Vec<ShareRecord>, MediaError> {
        match self.all_v2_shares().await {
            Ok(all) => Ok(all.into_iter().filter(|s| s.machine_id == mid).collect()),
            Err(MediaError::EndpointRemoved(_) | MediaError::NotFound(_)) => {
                let answer = self
                    .call(
                        Method::GET,
                        &self.tv(&format!("/api/servers/{}/shared_servers", encode(mid))),
                        Format::Xml,
                        None,
                    )
                    .await?;
                if !answer.ok() {
                    return Err(answer.error("the server's shares"));
                }
                Ok(answer
                    .xml()?
                    .find_all("SharedServer")
                    .iter()
                    .filter_map(|el| ShareRecord::from_v1(el, mid))
                    .collect())
            }
            Err(e) => Err(e),
        }
    }

    /// Every share the owner has, on any server.
    async fn all_v2_shares(&self) -> Result<Vec<ShareRecord>, MediaError> {
        let mut out = Vec::new();
        for which in ["accepted", "pending"] {
            let list: Vec<Value> = self
                .get_json(
                    &self.clients(&format!("/api/v2/shared_servers/owned/{which}")),
                    "the list of shares",
                )
                .await?
                .json()?;
            out.extend(list.iter().filter_map(ShareRecord::from_v2));
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Sign in with Plex
// ---------------------------------------------------------------------------------------------

/// A sign-in PIN from plex.tv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlexPin {
    pub id: u64,
    pub code: String,
    /// As plex.tv wrote it (ISO 8601), for display.
    pub expires_at: Option<String>,
}

/// A plex.tv account, as `/api/v2/user` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlexUser {
    pub id: u64,
    pub uuid: String,
    /// May be an email address.
    pub username: String,
    pub email: String,
    pub title: String,
    pub thumb: Option<String>,
}

/// One address of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlexConnection {
    pub uri: String,
    pub local: bool,
    pub relay: bool,
}

/// A server on an account, as `/api/v2/resources` lists it.
#[derive(Clone, PartialEq, Eq)]
pub struct PlexResource {
    pub name: String,
    pub machine_id: String,
    pub version: String,
    pub owned: bool,
    /// The token for this server: the owner's own token when `owned`.
    pub access_token: String,
    pub connections: Vec<PlexConnection>,
}

impl fmt::Debug for PlexResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlexResource")
            .field("name", &self.name)
            .field("machine_id", &self.machine_id)
            .field("version", &self.version)
            .field("owned", &self.owned)
            .field("access_token", &"[redacted]")
            .field("connections", &self.connections)
            .finish()
    }
}

/// "Sign in with Plex" and an account's servers; needs no server.
#[derive(Debug, Clone)]
pub struct PlexAuth {
    api: Api,
    endpoints: PlexEndpoints,
    product: String,
    client_identifier: String,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Api")
    }
}

impl PlexAuth {
    pub fn new(info: ClientInfo, endpoints: PlexEndpoints) -> Result<Self, MediaError> {
        Ok(PlexAuth {
            api: Api::new(&info)?,
            endpoints: endpoints.checked()?,
            product: info.product,
            client_identifier: info.client_identifier,
        })
    }

    fn tv(&self, path: &str) -> String {
        join(&self.endpoints.plex_tv, path)
    }

    /// Asks plex.tv for a new (strong) PIN.
    pub async fn create_pin(&self) -> Result<PlexPin, MediaError> {
        let answer = self
            .api
            .call(
                Method::POST,
                &self.tv("/api/v2/pins?strong=true"),
                None,
                Format::Json,
                None,
            )
            .await?;
        if !answer.ok() {
            return Err(answer.error("a sign-in code"));
        }
        let pin: Value = answer.json()?;
        Ok(PlexPin {
            id: pin["id"]
                .as_u64()
                .ok_or_else(|| MediaError::Protocol("plex.tv gave a PIN without an id".into()))?,
            code: pin["code"]
                .as_str()
                .ok_or_else(|| MediaError::Protocol("plex.tv gave a PIN without a code".into()))?
                .to_string(),
            expires_at: pin["expiresAt"].as_str().map(str::to_string),
        })
    }

    /// Where to send the person to approve `pin`; plex.tv sends them back to `forward_url`.
    pub fn auth_url(&self, pin: &PlexPin, forward_url: &str) -> String {
        format!(
            "{}/auth#?clientID={}&code={}&forwardUrl={}&context%5Bdevice%5D%5Bproduct%5D={}",
            self.endpoints.app,
            encode(&self.client_identifier),
            encode(&pin.code),
            encode(forward_url),
            encode(&self.product),
        )
    }

    /// The account's token once the person approved the PIN, `None` while they have not.
    pub async fn check_pin(&self, pin_id: u64) -> Result<Option<String>, MediaError> {
        let answer = self
            .api
            .call(
                Method::GET,
                &self.tv(&format!("/api/v2/pins/{pin_id}")),
                None,
                Format::Json,
                None,
            )
            .await?;
        if answer.status == 404 {
            return Err(MediaError::NotFound(
                "the Plex sign-in code (it expires after 15 minutes): start signing in again"
                    .into(),
            ));
        }
        if !answer.ok() {
            return Err(answer.error("the Plex sign-in code"));
        }
        let pin: Value = answer.json()?;
        Ok(pin["authToken"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string))
    }

    /// The account a token belongs to.
    pub async fn user(&self, token: &str) -> Result<PlexUser, MediaError> {
        let answer = self
            .api
            .call(
                Method::GET,
                &self.tv("/api/v2/user"),
                Some(token),
                Format::Json,
                None,
            )
            .await?;
        if !answer.ok() {
            return Err(answer.error("the Plex account"));
        }
        let user: Value = answer.json()?;
        let text = |k: &str| user[k].as_str().unwrap_or_default().to_string();
        Ok(PlexUser {
            id: user["id"].as_u64().ok_or_else(|| {
                MediaError::Protocol("plex.tv gave an account without an id".into())
            })?,
            uuid: text("uuid"),
            username: text("username"),
            email: text("email"),
            title: text("title"),
            thumb: user["thumb"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        })
    }

    /// The Plex Media Servers the account can reach, owned or shared with it.
    pub async fn servers(&self, token: &str) -> Result<Vec<PlexResource>, MediaError> {
        let answer = self
            .api
            .call(
                Method::GET,
                &self.tv("/api/v2/resources?includeHttps=1&includeRelay=1&includeIPv6=1"),
                Some(token),
                Format::Json,
                None,
            )
            .await?;
        if !answer.ok() {
            return Err(answer.error("the account's servers"));
        }
        let list: Vec<Value> = answer.json()?;
        Ok(list
            .iter()
            .filter(|r| r["provides"].as_str().is_some_and(|p| p.contains("server")))
            .filter_map(|r| {
                Some(PlexResource {
                    name: r["name"].as_str().unwrap_or_default().to_string(),
                    machine_id: r["clientIdentifier"].as_str()?.to_string(),
                    version: r["productVersion"].as_str().unwrap_or_default().to_string(),
                    owned: r["owned"].as_bool().unwrap_or(false),
                    access_token: r["accessToken"].as_str().unwrap_or_default().to_string(),
                    connections: r["connections"]
                        .as_array()
                        .map(|c| {
                            c.iter()
                                .filter_map(|c| {
                                    Some(PlexConnection {
                                        uri: c["uri"].as_str()?.to_string(),
                                        local: c["local"].as_bool().unwrap_or(false),
                                        relay: c["relay"].as_bool().unwrap_or(false),
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_written_in_plex_wire_format() {
        assert_eq!(encode_filter("").unwrap(), "");
        assert_eq!(
            encode_filter("contentRating=G,PG").unwrap(),
            "contentRating=G%2CPG"
        );
        assert_eq!(
            encode_filter("contentRating=G%2CPG|label!=kids").unwrap(),
            "contentRating=G%2CPG|label!=kids"
        );
        assert!(matches!(
            encode_filter("genre=Drama"),
            Err(MediaError::Invalid(_))
        ));
        assert!(matches!(
            encode_filter("contentRating"),
            Err(MediaError::Invalid(_))
        ));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn xml_trees_keep_attributes_and_nesting() {
        let root = parse_xml(
            r#"<?xml version="1.0"?><MediaContainer size="1"><Server name="a &amp; b"><Section id="123" key="2"/></Server></MediaContainer>"#,
        )
        .unwrap();
        assert_eq!(root.name, "MediaContainer");
        assert_eq!(root.child("Server").unwrap().attr("name"), Some("a & b"));
        assert_eq!(root.find_all("Section")[0].attr("id"), Some("123"));
    }

    #[test]
    fn error_messages_never_repeat_the_token() {
        let answer = Answer {
            status: 400,
            retry_after: None,
            body: r#"{"errors":[{"code":1,"message":"bad token sekrit","status":400}]}"#.into(),
            path: "/api/v2/x".into(),
            token: Some("sekrit".into()),
        };
        let err = answer.error("x").to_string();
        assert!(!err.contains("sekrit"), "{err}");
    }

    #[test]
    fn plex_tv_answers_map_to_actionable_errors() {
        let answer = |status: u16, body: &str| Answer {
            status,
            retry_after: None,
            body: body.into(),
            path: "/api/x".into(),
            token: None,
        };
        assert_eq!(
            answer(422, r#"{"errors":[{"message":"Invalid token"}]}"#).error("x"),
            MediaError::Unauthorized
        );
        assert!(matches!(
            answer(400, r#"<Response code="400" status="You're already sharing this server with bob. Please edit your existing share."/>"#).error("x"),
            MediaError::AlreadyExists(_)
        ));
        assert_eq!(
            answer(
                410,
                r#"<Response code="410" status="This endpoint was deprecated and removed"/>"#
            )
            .error("x"),
            MediaError::EndpointRemoved("/api/x".into())
        );
        assert_eq!(answer(403, "").error("x"), MediaError::NotOwner);
        assert!(matches!(
            answer(502, "").error("x"),
            MediaError::Server { status: 502, .. }
        ));
    }
}
