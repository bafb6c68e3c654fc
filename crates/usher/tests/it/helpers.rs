use std::path::{Path, PathBuf};
use std::sync::Arc;
use usher::domain::ids::*;

use reqwest::StatusCode;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use usher::clock::Clock;
use usher::config::Config;

pub const ADMIN: &str = "owner";
pub const PASSWORD: &str = "correct horse battery";
/// 2026-11-22T00:00:00Z: tests start from a fixed instant and move time by hand.
pub const START: i64 = 1_795_305_600;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub dir: Arc<tempfile::TempDir>,
    pub setup_url: Option<String>,
    pub state: usher::state::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
}

pub fn test_config(data_dir: &Path) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_path_buf(),
        ..Config::default()
    }
}

/// A fresh usher: new data dir, port 0, manual clock, no admin yet.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(dir.path());
    configure(&mut config);
    start(config, dir, Clock::manual(START), cookie_client()).await
}

pub fn cookie_client() -> reqwest::Client {
    media::http::install_crypto();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn start(
    config: Config,
    dir: Arc<tempfile::TempDir>,
    clock: Clock,
    client: reqwest::Client,
) -> TestApp {
    let app = usher::App::build_with_clock(config, clock.clone())
        .await
        .unwrap();
    let addr = app.local_addr();
    let setup_url = app.setup_url();
    let state = app.state().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        client,
        clock,
        dir,
        setup_url,
        state,
        shutdown: Some(tx),
        handle: Some(handle),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let res = self.get(path).await;
        let status = res.status();
        (status, res.text().await.unwrap())
    }

    /// The CSRF token the pages currently carry for this client's cookies.
    pub async fn csrf(&self) -> String {
        self.csrf_for(&self.client).await
    }

    /// The CSRF token the pages carry for another browser's cookies.
    pub async fn csrf_for(&self, client: &reqwest::Client) -> String {
        let res = client
            .get(self.url("/this-page-does-not-exist"))
            .send()
            .await
            .unwrap();
        let body = res.text().await.unwrap();
        extract_csrf(&body).unwrap_or_else(|| panic!("every page carries a CSRF token: {body}"))
    }

    /// Posts a form from another browser, with that browser's own token.
    pub async fn post_form_from(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf_for(client).await;
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        client.post(self.url(path)).form(&all).send().await.unwrap()
    }

    /// Runs `usher ARGS --data-dir DIR` on this app's data, at the time of its clock.
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        let dir = self.data_dir();
        let now = self.clock.now();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            usher_command(Some(now))
                .args(&args)
                .arg("--data-dir")
                .arg(&dir)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }

    /// Posts a form the way a browser on our own page would: with the current token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    pub fn setup_token(&self) -> String {
        let url = self
            .setup_url
            .as_ref()
            .expect("no setup link: an admin exists");
        url.split("token=").nth(1).unwrap().to_string()
    }

    /// Completes first-run setup as ADMIN and stays signed in.
    pub async fn setup_admin(&self) -> reqwest::Response {
        let token = self.setup_token();
        let res = self
            .post_form(
                "/setup",
                &[
                    ("token", &token),
                    ("username", ADMIN),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "setup should redirect");
        res
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_form("/login", &[("username", username), ("password", password)])
            .await
    }

    /// Signs `client` in through the login form, as a person would.
    pub async fn sign_in(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let token = self.csrf_for(client).await;
        client
            .post(self.url("/login"))
            .form(&[
                ("csrf", token.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }

    /// A browser of its own, signed in as a new admin named after `role` with that role.
    pub async fn signed_in_as(&self, role: usher::domain::Role) -> reqwest::Client {
        let name = format!("the-{role}");
        usher::auth::create_admin(&self.state.store, &name, PASSWORD, role, self.clock.now())
            .await
            .unwrap();
        let client = cookie_client();
        let res = self.sign_in(&client, &name, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name} signs in");
        client
    }

    /// Stops the server the way SIGTERM does and waits for it to finish.
    pub async fn stop(mut self) -> (Arc<tempfile::TempDir>, Clock, reqwest::Client) {
        self.shutdown.take().unwrap().send(()).unwrap();
        self.handle.take().unwrap().await.unwrap().unwrap();
        (self.dir.clone(), self.clock.clone(), self.client.clone())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A stranger's browser on a public page: a fresh cookie jar and the page's CSRF token.
pub async fn stranger_on(app: &TestApp, path: &str) -> (reqwest::Client, String) {
    let visitor = cookie_client();
    let page = visitor
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap_or_else(|| panic!("no CSRF token on {path}"));
    (visitor, csrf)
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// A page as another browser sees it.
pub async fn text_of(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A signed-in usher whose plex.tv endpoints point at `plex`.
pub async fn spawn_signed_in_with_plex(plex: &fakes::plex::FakePlex) -> TestApp {
    let (tv, clients, app_url) = (plex.plex_tv_url(), plex.clients_url(), plex.app_url());
    let app = spawn_with(move |c| {
        c.plex.tv_url = tv;
        c.plex.clients_url = clients;
        c.plex.app_url = app_url;
    })
    .await;
    app.setup_admin().await;
    app
}

/// A signed-in usher with no fakes configured.
pub async fn spawn_signed_in() -> TestApp {
    let app = spawn_app().await;
    app.setup_admin().await;
    app
}

/// The numeric id at the end of a `/admin/servers/{id}?…` redirect.
pub fn id_from_location<Id: std::str::FromStr>(res: &reqwest::Response) -> Id {
    let loc = location(res);
    assert!(!loc.is_empty(), "not a redirect: {}", res.status());
    let tail = loc.rsplit('/').next().unwrap();
    tail.split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no id in {loc}"))
}

/// A signed-in usher connected to a fake Plex (demo seed) and a fake Jellyfin.
pub struct World {
    pub app: TestApp,
    pub plex: fakes::plex::FakePlex,
    pub jf: fakes::jellyfin::FakeJellyfin,
    pub plex_id: ServerId,
    pub jf_id: ServerId,
}

pub async fn world() -> World {
    world_with(|_| {}).await
}

pub async fn world_with(configure: impl FnOnce(&mut Config) + Send + 'static) -> World {
    use fakes::jellyfin::{FakeJellyfin, FakeKind};
    use fakes::plex::{FakePlex, demo};
    let plex = FakePlex::seeded_demo().await.unwrap();
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let (tv, clients, app_url) = (plex.plex_tv_url(), plex.clients_url(), plex.app_url());
    let app = spawn_with(move |c| {
        c.plex.tv_url = tv;
        c.plex.clients_url = clients;
        c.plex.app_url = app_url;
        configure(c);
    })
    .await;
    app.setup_admin().await;
    let add = |kind: &str, name: &str, url: String, token: String| usher::servers::ServerInput {
        kind: kind.into(),
        name: name.into(),
        url,
        token: token.into(),
        ..Default::default()
    };
    let plex_id = usher::servers::add(
        &app.state,
        &add(
            "plex",
            "Home Plex",
            plex.server_url(demo::SERVER_ID),
            demo::OWNER_TOKEN.into(),
        ),
        "test",
    )
    .await
    .unwrap();
    let jf_id = usher::servers::add(
        &app.state,
        &add("jellyfin", "Home Jellyfin", jf.url(), jf.api_key()),
        "test",
    )
    .await
    .unwrap();
    World {
        app,
        plex,
        jf,
        plex_id,
        jf_id,
    }
}

impl World {
    /// Friends asking for access through the request form's service: (name, email) each.
    pub async fn ask(&self, people: &[(&str, &str)]) {
        for (name, email) in people {
            usher::requests::submit(
                &self.app.state,
                &usher::requests::RequestInput {
                    name: (*name).into(),
                    email: (*email).into(),
                    ..Default::default()
                },
                "10.2.2.2",
            )
            .await
            .unwrap();
        }
    }

    /// Connects one more server through the service; `user` is the administrator's name where
    /// the kind signs in with one (Navidrome).
    pub async fn connect(
        &self,
        kind: &str,
        name: &str,
        url: String,
        token: String,
        user: &str,
    ) -> ServerId {
        usher::servers::add(
            &self.app.state,
            &usher::servers::ServerInput {
                kind: kind.into(),
                name: name.into(),
                url,
                token: token.into(),
                username: user.into(),
            },
            "test",
        )
        .await
        .unwrap()
    }

    /// Creates an invite through the service with the given servers and options.
    pub async fn invite(
        &self,
        servers: &[ServerId],
        uses: &str,
        tweak: impl FnOnce(&mut usher::invites::CreateInput),
    ) -> String {
        let mut input = usher::invites::CreateInput {
            targets: servers
                .iter()
                .map(|id| usher::invites::TargetInput {
                    server_id: *id,
                    libraries: None,
                    permissions: None,
                })
                .collect(),
            uses: uses.into(),
            expires: "7d".into(),
            ..Default::default()
        };
        tweak(&mut input);
        usher::invites::create(&self.app.state, &input, "test")
            .await
            .unwrap()
            .code
    }

    /// How many times the invite `code` has been used.
    pub async fn uses(&self, code: &str) -> i64 {
        self.app
            .state
            .store
            .invite_by_code(code)
            .await
            .unwrap()
            .expect("the invite exists")
            .used
    }

    /// Opens `/i/{code}` in a fresh browser-like client speaking `lang` and posts its form with
    /// `fields`; returns the client (with its cookies) and the answer.
    pub async fn post_invite_form(
        &self,
        code: &str,
        lang: &str,
        fields: &[(&str, &str)],
    ) -> (reqwest::Client, reqwest::Response) {
        let visitor = cookie_client();
        let page = visitor
            .get(self.app.url(&format!("/i/{code}")))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = extract_csrf(&page).unwrap();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let res = visitor
            .post(self.app.url(&format!("/i/{code}")))
            .header("accept-language", lang)
            .form(&all)
            .send()
            .await
            .unwrap();
        (visitor, res)
    }

    /// Redeems through the public JSON API with a fresh client (like a stranger would).
    pub async fn redeem_api(&self, code: &str, body: serde_json::Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.app.url(&format!("/api/v1/invites/{code}/redeem")))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// The real `usher` binary without the test runner's own `USHER_*` variables. With `Some(now)`
/// its clock reads `now` at start: the time of the test's manual clock, so the process agrees
/// with the in-process app on the date whatever day the suite runs. `None` keeps the real clock,
/// for tests whose every part is a real process.
pub fn usher_command(now: Option<i64>) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_usher"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("USHER_") {
            cmd.env_remove(k);
        }
    }
    if let Some(now) = now {
        cmd.env(usher::clock::TEST_NOW_VAR, now.to_string());
    }
    cmd
}

/// What a browser sends when the form posting to `action` on `html` is submitted untouched:
/// named inputs with their values (checkboxes and radios only when checked) and each select's
/// selected option.
pub fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let end = html[start..].find("</form>").map(|e| start + e).unwrap();
    let form = &html[start..end];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!(" {name}=\"");
        let at = tag.find(&key)? + key.len();
        let len = tag[at..].find('"')?;
        Some(unescape(&tag[at..at + len]))
    };
    let flag = |tag: &str, name: &str| {
        tag.contains(&format!(" {name}>")) || tag.contains(&format!(" {name} "))
    };
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let close = rest.find('>').unwrap_or(rest.len() - 1);
        let tag = &rest[..=close];
        if tag.starts_with("<input") {
            let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
            if let Some(name) = attr(tag, "name")
                && !matches!(kind.as_str(), "submit" | "button")
                && (!matches!(kind.as_str(), "checkbox" | "radio") || flag(tag, "checked"))
            {
                out.push((name, attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("<select")
            && let Some(name) = attr(tag, "name")
        {
            let body_end = rest.find("</select>").unwrap_or(rest.len());
            let options = &rest[..body_end];
            let chosen = options
                .split("<option")
                .skip(1)
                .find(|o| {
                    flag(
                        &format!(" {}", o.split('>').next().unwrap_or("")),
                        "selected",
                    )
                })
                .or_else(|| options.split("<option").nth(1));
            if let Some(o) = chosen {
                out.push((name, attr(&format!(" {o}"), "value").unwrap_or_default()));
            }
        }
        rest = &rest[close + 1..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

impl TestApp {
    /// Posts `fields` as the signed-in admin (the session's CSRF token replaces the form's).
    pub async fn post_fields(&self, path: &str, fields: &[(String, String)]) -> reqwest::Response {
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| k != "csrf")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post_form(path, &borrowed).await
    }
}

/// The database file itself, through a connection of the test's own: for reading what usher
/// stored and for preparing states no page can make. usher's own pool stays inside its store.
pub async fn db(state: &usher::state::AppState) -> sqlx::SqlitePool {
    db_at(&state.config.database_path()).await
}

pub async fn db_at(path: &Path) -> sqlx::SqlitePool {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(5));
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .expect("the test opens the database")
}
