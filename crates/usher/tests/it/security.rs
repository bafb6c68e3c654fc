//! The security sweep. These tests enumerate: every route comes from the router's own table
//! (`usher::router::route_table`), so a route added later is checked without anyone remembering to.

use std::collections::BTreeSet;
use std::time::Duration;
use usher::domain::ids::*;

use fakes::plex::{FakePlex, demo};
use fakes::smtp::SmtpSink;
use fakes::telegram::FakeTelegram;
use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use usher::router::route_table;
use usher::web::{Access, RouteInfo};

use crate::binary::serve;
use crate::helpers::*;

/// A path to request for a route pattern, with its parameters filled in.
fn concrete(route: &RouteInfo, code: &str) -> String {
    let path = route
        .path
        .replace("{id}", "1")
        .replace("{grant}", "1")
        .replace("{code}", code)
        .replace("{name}", "app.css")
        .replace("{kind}", "plex")
        .replace("{token}", "no-such-token")
        .replace("{file}", "accent-1f6feb.css");
    assert!(
        !path.contains('{'),
        "teach concrete() the parameter in {}",
        route.path
    );
    path
}

/// Routes that take no browser CSRF token: they are called by programs that prove themselves
/// otherwise (the public JSON API holds no session; the webhook checks Telegram's secret).
fn csrf_exempt(route: &RouteInfo) -> bool {
    route.path.starts_with("/api/") || route.path == "/telegram/webhook"
}

/// Calls a route as a browser would: a page is fetched, a form is posted with `token` alone.
async fn call(
    client: &reqwest::Client,
    route: &RouteInfo,
    url: &str,
    token: &str,
) -> reqwest::Response {
    if route.method == Method::GET {
        return client.get(url).send().await.unwrap();
    }
    client
        .request(route.method.clone(), url)
        .form(&[("csrf", token)])
        .send()
        .await
        .unwrap()
}

#[test]
fn the_route_table_lists_each_route_once_and_only_admin_pages_under_admin() {
    let table = route_table();
    assert!(table.len() > 60, "{} routes", table.len());
    let mut seen = BTreeSet::new();
    for r in &table {
        assert!(
            seen.insert((r.method.to_string(), r.path)),
            "{} {} twice",
            r.method,
            r.path
        );
        if r.path == "/admin" || r.path.starts_with("/admin/") {
            assert!(
                matches!(r.access, Access::Admin(_)),
                "{} {}",
                r.method,
                r.path
            );
        }
        if csrf_exempt(r) {
            assert!(
                !matches!(r.access, Access::Admin(_)),
                "{} {} is exempt from CSRF checks, so it must not act for a signed-in browser",
                r.method,
                r.path
            );
        }
    }
}

#[tokio::test]
async fn every_admin_and_secret_route_refuses_an_anonymous_caller() {
    let w = world_with(|c| c.metrics_token = Some("metrics-secret-token".into())).await;
    let code = w.invite(&[w.jf_id], "5", |_| {}).await;
    let anon = cookie_client();
    let token = w.app.csrf_for(&anon).await;
    let mut checked = 0;
    let mut failures = Vec::new();
    for r in route_table().iter().filter(|r| r.access != Access::Public) {
        let path = concrete(r, &code);
        let url = w.app.url(&path);
        // With a valid anonymous CSRF token, so only the missing sign-in can refuse it.
        let res = call(&anon, r, &url, &token).await;
        let status = res.status();
        let loc = location(&res);
        let body = res.text().await.unwrap();
        let ok = match r.access {
            Access::Admin(_) if path.starts_with("/api/") => {
                status == StatusCode::UNAUTHORIZED && body.contains("\"error\"")
            }
            Access::Admin(_) => {
                status == StatusCode::SEE_OTHER && loc.starts_with("/login?next=%2F")
            }
            Access::Secret => matches!(status.as_u16(), 401 | 403 | 404),
            Access::ApiKey => status == StatusCode::UNAUTHORIZED && body.contains("\"error\""),
            Access::Public => unreachable!(),
        };
        if !ok {
            failures.push(format!("{} {path} → {status} {loc}", r.method));
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "anonymous callers got through: {failures:#?}"
    );
    assert!(checked > 40, "only {checked} routes checked");
    // Nothing happened: the invite and both servers are still there and unchanged.
    assert_untouched(&w, &code).await;
}

/// The invite `code` is still on and both servers are still connected.
async fn assert_untouched(w: &World, code: &str) {
    let invite = w
        .app
        .state
        .store
        .invite_by_code(code)
        .await
        .unwrap()
        .unwrap();
    assert!(!invite.disabled);
    assert_eq!(w.app.state.store.server_count().await.unwrap(), 2);
}

#[tokio::test]
async fn every_admin_route_lets_in_exactly_the_roles_it_names() {
    use usher::domain::Role;
    let mut checked = 0;
    for role in [Role::Approver, Role::Admin, Role::Owner] {
        let w = world().await;
        let code = w.invite(&[w.jf_id], "5", |_| {}).await;
        let client = w.app.signed_in_as(role).await;
        let token = w.app.csrf_for(&client).await;
        let mut failures = Vec::new();
        // Pages first, then the forms: a form that is let in may act (and remove what a later
        // page shows), but only after every page has been asked.
        let mut routes: Vec<_> = route_table()
            .into_iter()
            .filter_map(|r| match r.access {
                Access::Admin(needed) => Some((r, needed)),
                _ => None,
            })
            .collect();
        routes.sort_by_key(|(r, _)| r.method != Method::GET);
        for (r, needed) in routes {
            let url = w.app.url(&concrete(&r, &code));
            let res = call(&client, &r, &url, &token).await;
            let status = res.status();
            let body = res.text().await.unwrap();
            let refused_for_role = status == StatusCode::FORBIDDEN
                && (body.contains("your role does not include it")
                    || body.contains("Only the owner can open this page"));
            if role.allows(needed) == refused_for_role {
                failures.push(format!(
                    "{role} on {} {} (needs {needed}) → {status}",
                    r.method, r.path
                ));
            }
            checked += 1;
        }
        assert!(failures.is_empty(), "{failures:#?}");
        if role == Role::Approver {
            // Everything an approver may not do was refused before it happened.
            assert_untouched(&w, &code).await;
        }
    }
    assert!(checked > 150, "only {checked} checks");
}

#[test]
fn the_queue_and_the_members_list_are_for_approvers_and_secrets_for_the_owner() {
    use usher::domain::Role;
    let table = route_table();
    let needs = |method: &str, path: &str| {
        table
            .iter()
            .find(|r| r.method.as_str() == method && r.path == path)
            .map(|r| r.access)
            .unwrap_or_else(|| panic!("no route {method} {path}"))
    };
    let approver: BTreeSet<(String, &str)> = table
        .iter()
        .filter(|r| r.access == Access::Admin(Role::Approver))
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let mut expected: BTreeSet<(String, &str)> = [
        ("GET", "/admin"),
        ("GET", "/admin/requests"),
        ("POST", "/admin/requests/{id}/approve"),
        ("POST", "/admin/requests/{id}/decline"),
        ("GET", "/admin/members"),
        ("GET", "/admin/members/{id}"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_string(), p))
    .collect();
    // One's own account is every admin's.
    expected.extend(
        table
            .iter()
            .filter(|r| r.path.starts_with("/admin/account"))
            .map(|r| (r.method.to_string(), r.path)),
    );
    assert_eq!(approver, expected);
    for r in &table {
        let secret = [
            "/admin/api-keys",
            "/admin/settings/telegram",
            "/admin/settings/email",
        ]
        .iter()
        .chain(
            [
                "/admin/settings/notifications",
                "/admin/servers/plex/",
                "/admin/admins",
            ]
            .iter(),
        )
        .any(|p| r.path.starts_with(p));
        if secret {
            assert_eq!(
                r.access,
                Access::Admin(Role::Owner),
                "{} {}",
                r.method,
                r.path
            );
        }
    }
    for (m, p) in [
        ("POST", "/admin/servers"),
        ("GET", "/admin/servers/new"),
        ("POST", "/admin/servers/{id}/edit"),
    ] {
        assert_eq!(
            needs(m, p),
            Access::Admin(Role::Owner),
            "{m} {p} sends a server's credentials"
        );
    }
}

#[tokio::test]
async fn an_approver_lands_on_the_queue_and_sees_only_what_the_role_opens() {
    let w = world().await;
    let client = w.app.signed_in_as(usher::domain::Role::Approver).await;
    let res = client.get(w.app.url("/admin")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/requests");
    let page = client
        .get(w.app.url("/admin/requests"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for hidden in [
        "/admin/invites",
        "/admin/servers",
        "/admin/settings",
        "/admin/events",
    ] {
        assert!(
            !page.contains(&format!("href=\"{hidden}\"")),
            "the menu links {hidden}"
        );
    }
    assert!(page.contains("href=\"/admin/members\""));
    let members = client
        .get(w.app.url("/admin/members"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !members.contains("action=\"/admin/members/sync\""),
        "read-only: no sync button"
    );
}

#[tokio::test]
async fn every_state_changing_route_refuses_a_request_without_the_csrf_token() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "5", |_| {}).await;
    let token = w.app.csrf().await;
    let forged = "0".repeat(token.len());
    let mut checked = 0;
    let mut failures = Vec::new();
    for r in route_table().iter().filter(|r| r.method != Method::GET) {
        let path = concrete(r, &code);
        let url = w.app.url(&path);
        if csrf_exempt(r) {
            // A signed-in browser's cookies must not carry weight on a route without the check.
            let res = w
                .app
                .client
                .request(r.method.clone(), &url)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            assert_ne!(res.status(), StatusCode::OK, "{} {path}", r.method);
            continue;
        }
        let no_token = [("name", "x")];
        let forged_token = [("csrf", forged.as_str()), ("name", "x")];
        let good_token = [("csrf", token.as_str()), ("name", "x")];
        // This site over https is another origin than this site over http.
        let other_scheme = w.app.base.replacen("http://", "https://", 1);
        let attempts = [
            ("no token", &no_token[..], None),
            ("a forged token", &forged_token[..], None),
            (
                "another site's page",
                &good_token[..],
                Some("https://evil.example"),
            ),
            (
                "this host under another scheme",
                &good_token[..],
                Some(other_scheme.as_str()),
            ),
        ];
        for (what, fields, origin) in attempts {
            let mut req = w.app.client.request(r.method.clone(), &url).form(fields);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            let res = req.send().await.unwrap();
            if res.status() != StatusCode::FORBIDDEN {
                failures.push(format!(
                    "{} {path} with {what} → {}",
                    r.method,
                    res.status()
                ));
            }
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "state changes without a valid token: {failures:#?}"
    );
    assert!(checked > 35, "only {checked} routes checked");
    // Still signed in, nothing removed, disabled or decided.
    assert_eq!(w.app.get("/admin").await.status(), StatusCode::OK);
    assert_eq!(w.app.state.store.server_count().await.unwrap(), 2);
    let invite = w
        .app
        .state
        .store
        .invite_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert!(!invite.disabled && invite.used == 0);
}

/// What a response is missing of the headers every answer must carry.
/// Every route that redirects to a `next` or `back` the caller gives stays on the site, whatever
/// a browser's normalisation makes of the target.
#[tokio::test]
async fn no_route_redirects_off_the_site() {
    let w = world().await;
    let evil = [
        "/%09/evil.example",
        "/%5C/evil.example",
        "//evil.example",
        "https://evil.example",
    ];
    for target in evil {
        for path in [
            format!("/login?next={target}"),
            format!("/login?back={target}"),
        ] {
            let res = w.app.get(&path).await;
            let to = res
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default();
            let resolved = url::Url::parse(&w.app.base).unwrap().join(&to).unwrap();
            assert_eq!(resolved.host_str(), Some("127.0.0.1"), "{path} → {to}");
            assert!(!to.contains('\t') && !to.contains('\\'), "{path} → {to:?}");
        }
        let decoded: String = url::form_urlencoded::parse(format!("x={target}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let res = w
            .app
            .post_form("/prefs", &[("theme", "light"), ("back", &decoded)])
            .await;
        assert_eq!(location(&res), "/", "back={target}");
    }
}

fn header_problems(res: &reqwest::Response) -> Vec<String> {
    let h = res.headers();
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let csp = get("content-security-policy");
    let mut problems = Vec::new();
    if !csp.contains("default-src 'none'") {
        problems.push(format!("CSP without default-src 'none': `{csp}`"));
    }
    if !csp.contains("frame-ancestors 'none'") {
        problems.push("CSP without frame-ancestors 'none'".into());
    }
    if csp.contains("unsafe-inline") || csp.contains("unsafe-eval") {
        problems.push(format!("CSP allows unsafe sources: `{csp}`"));
    }
    if !csp.contains("script-src 'self'") {
        problems.push("CSP without script-src 'self'".into());
    }
    if get("x-content-type-options") != "nosniff" {
        problems.push("no X-Content-Type-Options: nosniff".into());
    }
    if !matches!(
        get("referrer-policy"),
        "same-origin" | "no-referrer" | "strict-origin" | "strict-origin-when-cross-origin"
    ) {
        problems.push(format!("Referrer-Policy `{}`", get("referrer-policy")));
    }
    if get("x-frame-options") != "DENY" {
        problems.push("no X-Frame-Options: DENY".into());
    }
    problems
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let w = world_with(|c| c.metrics_token = Some("metrics-secret-token".into())).await;
    let code = w.invite(&[w.jf_id], "5", |_| {}).await;
    let anon = cookie_client();
    let anon_token = w.app.csrf_for(&anon).await;
    let admin = &w.app.client;
    let mut failures = Vec::new();
    let mut seen = 0;
    let mut check = |what: String, res: reqwest::Response| {
        let problems = header_problems(&res);
        if !problems.is_empty() {
            failures.push(format!(
                "{what} → {}: {}",
                res.status(),
                problems.join("; ")
            ));
        }
        seen += 1;
    };
    for r in route_table() {
        let path = concrete(&r, &code);
        let url = w.app.url(&path);
        if r.method == Method::GET {
            for (who, client) in [("anonymous", &anon), ("admin", admin)] {
                let res = client.get(&url).send().await.unwrap();
                check(format!("{who} GET {path}"), res);
                let res = client.head(&url).send().await.unwrap();
                check(format!("{who} HEAD {path}"), res);
            }
        } else {
            // Anonymous with a token reaches the handler (or the sign-in check); without one,
            // the CSRF refusal. The admin's state-changing calls are not made for real here.
            let res = anon
                .post(&url)
                .form(&[("csrf", anon_token.as_str())])
                .send()
                .await
                .unwrap();
            check(format!("anonymous POST {path}"), res);
            let res = admin.post(&url).form(&[("x", "y")]).send().await.unwrap();
            check(format!("admin POST {path} without token"), res);
            let res = anon
                .post(&url)
                .header("content-type", "application/json")
                .body("{not json")
                .send()
                .await
                .unwrap();
            check(format!("anonymous POST {path} with bad JSON"), res);
        }
    }
    // Answers no route gives: unknown paths, wrong methods, unknown assets, an oversized form.
    for (method, path) in [
        (Method::GET, "/no/such/page".to_string()),
        (Method::GET, "/api/v1/no-such-thing".to_string()),
        (Method::DELETE, "/admin".to_string()),
        (Method::PUT, format!("/i/{code}")),
        (Method::GET, "/assets/app.0000000000.css".to_string()),
        (Method::GET, "/i/NO-SUCH-CODE".to_string()),
    ] {
        let res = anon
            .request(method.clone(), w.app.url(&path))
            .send()
            .await
            .unwrap();
        check(format!("{method} {path}"), res);
    }
    let res = anon
        .post(w.app.url("/request"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 300 * 1024])
        .send()
        .await
        .unwrap();
    check("an oversized form".into(), res);
    let res = anon
        .get(w.app.url("/metrics"))
        .bearer_auth("metrics-secret-token")
        .send()
        .await
        .unwrap();
    check("GET /metrics with the token".into(), res);
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(seen > 150, "only {seen} responses checked");
}

// --- secrets never reach the log ---------------------------------------------------------------

const ADMIN_PASSWORD: &str = "owner-password-5f3a9c";
const WRONG_PASSWORD: &str = "wrong-password-7d21e4";
const MEMBER_PASSWORD: &str = "member-password-b81c07";
const FORM_PASSWORD: &str = "form-password-44e0d9";
const PASSPHRASE: &str = "passphrase-c6d2f1";
const SMTP_PASSWORD: &str = "smtp-password-93ab6e";
const METRICS_TOKEN: &str = "metrics-token-0e7f52";

/// `name="lib_ID" value="…"` pairs on the new-invite page: (server id, library id).
fn library_choices(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("name=\"lib_") {
        rest = &rest[i + 10..];
        let sid = rest[..rest.find('"').unwrap()].to_string();
        let v = rest.find("value=\"").unwrap() + 7;
        let value = rest[v..v + rest[v..].find('"').unwrap()].to_string();
        out.push((sid, value));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_run_with_debug_logging_never_prints_a_secret() {
    let plex = FakePlex::seeded_demo().await.unwrap();
    let jf = fakes::jellyfin::FakeJellyfin::start(fakes::jellyfin::FakeKind::Jellyfin).await;
    let tg = FakeTelegram::start().await;
    let mail = SmtpSink::builder()
        .with_auth("mailer", SMTP_PASSWORD)
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("USHER_LOG", "debug".to_string()),
        ("USHER_PLEX_TV_URL", plex.plex_tv_url()),
        ("USHER_PLEX_CLIENTS_URL", plex.clients_url()),
        ("USHER_PLEX_APP_URL", plex.app_url()),
        ("USHER_TELEGRAM_API_URL", tg.url()),
        ("USHER_METRICS_TOKEN", METRICS_TOKEN.to_string()),
    ];
    let served = serve(dir.path(), &env).await;
    let setup_line = served.wait_for_line("setup?token=", Duration::from_secs(10));
    let setup_token = setup_line
        .split("token=")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();

    let client = cookie_client();
    let csrf = |client: reqwest::Client, url: String| async move {
        let page = client.get(url).send().await.unwrap().text().await.unwrap();
        extract_csrf(&page).expect("a CSRF token")
    };
    let post = |path: &str, token: &str, fields: &[(&str, &str)]| {
        let mut all = vec![("csrf", token)];
        all.extend_from_slice(fields);
        client.post(served.url(path)).form(&all).send()
    };

    // First-run setup, a failed and a good sign-in.
    let t = csrf(client.clone(), served.url("/setup")).await;
    let res = post(
        "/setup",
        &t,
        &[
            ("token", &setup_token),
            ("username", "owner"),
            ("password", ADMIN_PASSWORD),
            ("password_confirm", ADMIN_PASSWORD),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let t = csrf(client.clone(), served.url("/admin")).await;
    post("/logout", &t, &[]).await.unwrap();
    let t = csrf(client.clone(), served.url("/login")).await;
    let res = post(
        "/login",
        &t,
        &[("username", "owner"), ("password", WRONG_PASSWORD)],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = post(
        "/login",
        &t,
        &[("username", "owner"), ("password", ADMIN_PASSWORD)],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("usher_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    let t = csrf(client.clone(), served.url("/admin")).await;

    // Servers with their token and API key, one of them failing a call first.
    for (kind, name, url, token) in [
        (
            "plex",
            "Home Plex",
            plex.server_url(demo::SERVER_ID),
            demo::OWNER_TOKEN.to_string(),
        ),
        ("jellyfin", "Home Jellyfin", jf.url(), jf.api_key()),
    ] {
        let res = post(
            "/admin/servers",
            &t,
            &[
                ("kind", kind),
                ("name", name),
                ("url", &url),
                ("token", &token),
            ],
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "adding {name}");
    }
    let res = post(
        "/admin/servers",
        &t,
        &[
            ("kind", "jellyfin"),
            ("name", "Wrong key"),
            ("url", &jf.url()),
            ("token", "0123456789abcdef0123456789abcdef"),
        ],
    )
    .await
    .unwrap();
    assert_ne!(
        res.status(),
        StatusCode::SEE_OTHER,
        "a wrong key is refused"
    );

    // An invite for both servers with a passphrase.
    let page = client
        .get(served.url("/admin/invites/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let choices = library_choices(&page);
    let mut fields: Vec<(String, String)> = vec![
        ("uses".into(), "5".into()),
        ("expires".into(), "7d".into()),
        ("passphrase".into(), PASSPHRASE.into()),
    ];
    let servers: BTreeSet<String> = choices.iter().map(|(s, _)| s.clone()).collect();
    for s in &servers {
        fields.push(("server".into(), s.clone()));
    }
    for (s, l) in &choices {
        fields.push((format!("lib_{s}"), l.clone()));
    }
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = post("/admin/invites", &t, &borrowed).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let code = location(&res)
        .trim_start_matches("/admin/invites/")
        .split('?')
        .next()
        .unwrap()
        .to_string();

    // Redemptions with passwords: the API, the form, and one the server fails at first.
    let friend = demo::FRIENDS[0].2;
    let res = reqwest::Client::new()
        .post(served.url(&format!("/api/v1/invites/{code}/redeem")))
        .json(&serde_json::json!({
            "plex_username": friend,
            "username": "apiuser",
            "password": MEMBER_PASSWORD,
            "passphrase": PASSPHRASE,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let visitor = cookie_client();
    let page = visitor
        .get(served.url(&format!("/i/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let vt = extract_csrf(&page).unwrap();
    jf.control().fail_next("/Users/New", 500);
    let res = visitor
        .post(served.url(&format!("/i/{code}")))
        .form(&[
            ("csrf", vt.as_str()),
            ("plex_account", demo::FRIENDS[1].2),
            ("username", "formuser"),
            ("password", FORM_PASSWORD),
            ("password_confirm", FORM_PASSWORD),
            ("passphrase", PASSPHRASE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A wrong passphrase, and a mistyped password confirmation, are refused without echoing.
    let res = visitor
        .post(served.url(&format!("/i/{code}")))
        .form(&[
            ("csrf", vt.as_str()),
            ("plex_account", demo::FRIENDS[2].2),
            ("username", "typo"),
            ("password", MEMBER_PASSWORD),
            ("password_confirm", FORM_PASSWORD),
            ("passphrase", "not the passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());

    // Telegram and email settings with their secrets, and their test buttons.
    let res = post(
        "/admin/settings/telegram",
        &t,
        &[
            ("token", fakes::telegram::TOKEN),
            ("allowed_ids", &fakes::telegram::OWNER_ID.to_string()),
            ("chat_id", &fakes::telegram::OWNER_ID.to_string()),
            ("mode", "polling"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    post("/admin/settings/telegram/test", &t, &[])
        .await
        .unwrap();
    let port = mail.port().to_string();
    let res = post(
        "/admin/settings/email",
        &t,
        &[
            ("host", "127.0.0.1"),
            ("port", &port),
            ("security", "none"),
            ("username", "mailer"),
            ("password", SMTP_PASSWORD),
            ("from", "usher <usher@example.com>"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    post(
        "/admin/settings/email/test",
        &t,
        &[("to", "owner@example.com")],
    )
    .await
    .unwrap();
    mail.wait_for(1).await;

    // Two requests announced on Telegram, while Telegram fails once.
    tg.control()
        .fail_next(&format!("/bot{}/sendMessage", fakes::telegram::TOKEN), 500);
    for (name, email) in [("Lu", "lu@example.com"), ("Mo", "mo@example.com")] {
        let rt = token_of_served(&served, &visitor).await;
        let res = visitor
            .post(served.url("/request"))
            .form(&[("csrf", rt.as_str()), ("name", name), ("email", email)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let res = reqwest::Client::new()
        .get(served.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // One announcement went out and one is waiting to be tried again, so the log has both
    // kinds of lines.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !(served.log().contains("notification will be retried")
        && tg
            .messages(fakes::telegram::OWNER_ID)
            .iter()
            .any(|m| m.text.contains("@example.com")))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no announcement: {}",
            served.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let key = std::fs::read_to_string(dir.path().join("secret.key")).unwrap_or_default();
    let log = tokio::task::spawn_blocking(move || served.stop())
        .await
        .unwrap();

    assert!(
        log.lines().filter(|l| l.contains("DEBUG")).count() > 20,
        "debug logging was on: {log}"
    );
    let secrets = [
        ("admin password", ADMIN_PASSWORD.to_string()),
        ("mistyped admin password", WRONG_PASSWORD.to_string()),
        ("member password (API)", MEMBER_PASSWORD.to_string()),
        ("member password (form)", FORM_PASSWORD.to_string()),
        ("invite passphrase", PASSPHRASE.to_string()),
        ("Plex token", demo::OWNER_TOKEN.to_string()),
        ("Jellyfin API key", jf.api_key()),
        ("Telegram bot token", fakes::telegram::TOKEN.to_string()),
        (
            "Telegram bot token (secret part)",
            fakes::telegram::TOKEN
                .split(':')
                .nth(1)
                .unwrap()
                .to_string(),
        ),
        ("SMTP password", SMTP_PASSWORD.to_string()),
        ("metrics token", METRICS_TOKEN.to_string()),
        ("session cookie", session),
        ("secret key", key.trim().to_string()),
    ];
    for (what, secret) in secrets {
        assert!(secret.len() >= 8, "{what} is too short to search for");
        assert!(
            !log.contains(&secret),
            "the log prints the {what}:\n{}",
            log.lines()
                .filter(|l| l.contains(&secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

async fn token_of_served(served: &crate::binary::Served, client: &reqwest::Client) -> String {
    let page = client
        .get(served.url("/request"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    extract_csrf(&page).expect("the request form carries a CSRF token")
}

// --- parsers never panic ------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn invite_codes_normalize_idempotently(input in any::<String>()) {
        if let Some(code) = usher::domain::rules::InviteCode::parse(&input) {
            prop_assert_eq!(usher::domain::rules::InviteCode::parse(&code), Some(code.clone()));
            prop_assert!(code.len() <= usher::domain::rules::MAX_CODE);
            prop_assert!(code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_'));
        }
        if let Ok(code) = usher::domain::rules::InviteCode::custom(&input) {
            prop_assert_eq!(usher::domain::rules::InviteCode::custom(&code), Ok(code.clone()));
            prop_assert!(code.len() >= usher::domain::rules::MIN_CUSTOM_CODE);
        }
    }

    #[test]
    fn codes_that_look_like_codes_are_accepted_in_any_case(code in "[a-zA-Z0-9_-]{4,32}", pad in "[ \t]{0,3}") {
        let typed = format!("{pad}{code}{pad}");
        let normalized = usher::domain::rules::InviteCode::custom(&typed);
        let expected = code.to_ascii_uppercase();
        prop_assert_eq!(normalized.as_deref(), Ok(expected.as_str()));
    }

    #[test]
    fn generated_codes_are_valid_codes(_n in 0..100u8) {
        let code = usher::domain::rules::InviteCode::generate();
        prop_assert_eq!(usher::domain::rules::InviteCode::custom(&code), Ok(code.clone()));
    }

    #[test]
    fn durations_parse_without_panicking(input in any::<String>()) {
        if let Ok(seconds) = usher::domain::rules::Duration::parse(&input).map(usher::domain::rules::Duration::seconds) {
            prop_assert!(seconds > 0 && seconds <= 100 * 365 * 86_400);
        }
    }

    #[test]
    fn durations_round_trip(n in 1..1000i64, unit in prop::sample::select(vec![("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800), ("y", 31_536_000)])) {
        let (suffix, seconds) = unit;
        let parsed = usher::domain::rules::Duration::parse(&format!("{n}{suffix}")).map(usher::domain::rules::Duration::seconds);
        if n * seconds <= 100 * 365 * 86_400 {
            prop_assert_eq!(parsed, Ok(n * seconds));
        } else {
            prop_assert!(parsed.is_err());
        }
    }

    #[test]
    fn expiry_and_uses_parse_without_panicking(input in any::<String>(), now in 0..4_000_000_000i64) {
        if let Ok(Some(at)) = usher::domain::rules::parse_expiry(&input, now) {
            prop_assert!(at > now);
        }
        if let Ok(Some(n)) = usher::domain::rules::parse_uses(&input) {
            prop_assert!((1..=usher::domain::rules::MAX_USES).contains(&n));
        }
    }

    #[test]
    fn dates_round_trip(y in 2000..2200i32, m in 1..=12u8, d in 1..=28u8, h in 0..24u8, min in 0..60u8) {
        let now = 946_684_800; // 2000-01-01
        let at = usher::domain::rules::parse_expiry(&format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}"), now).unwrap().unwrap();
        prop_assert_eq!(usher::clock::rfc3339(at), format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:00Z"));
    }

    #[test]
    fn uses_round_trip(n in 1..=1000i64) {
        prop_assert_eq!(usher::domain::rules::parse_uses(&n.to_string()), Ok(Some(n)));
    }

    #[test]
    fn callback_data_round_trips(kind in 0..6u8, r in 1..i64::MAX, l in 1..i64::MAX) {
        use usher::requests::keyboard::Callback;
        let cb = match kind {
            0 => Callback::Approve(RequestId(r)),
            1 => Callback::Decline(RequestId(r)),
            2 => Callback::Toggle(RequestId(r), l),
            3 => Callback::Send(RequestId(r)),
            4 => Callback::Cancel(RequestId(r)),
            _ => Callback::Retry(RequestId(r)),
        };
        let data = cb.encode();
        prop_assert!(data.len() <= 64, "Telegram allows 64 bytes");
        prop_assert_eq!(Callback::parse(&data), Some(cb));
    }

    #[test]
    fn any_callback_data_parses_without_panicking(data in any::<String>()) {
        use usher::requests::keyboard::Callback;
        if let Some(cb) = Callback::parse(&data) {
            prop_assert!(cb.request_id().get() > 0);
            prop_assert_eq!(Callback::parse(&cb.encode()), Some(cb));
        }
    }

    #[test]
    fn emails_validate_without_panicking(input in any::<String>()) {
        if let Ok(email) = usher::domain::rules::Email::parse(&input) {
            prop_assert_eq!(email.trim(), email.as_str());
            prop_assert_eq!(usher::domain::rules::Email::parse(&email), Ok(email.clone()));
            prop_assert_eq!(email.matches('@').count(), 1);
        }
    }

    #[test]
    fn plausible_emails_are_accepted(local in "[a-z0-9._+-]{1,20}", domain in "[a-z0-9-]{1,20}", tld in "[a-z]{2,6}") {
        let email = format!("{local}@{domain}.{tld}");
        let parsed = usher::domain::rules::Email::parse(&email);
        prop_assert_eq!(parsed.as_deref(), Ok(email.as_str()));
    }

    #[test]
    fn the_environment_parser_never_panics(
        vars in prop::collection::vec(("USHER_[A-Z_]{0,24}", any::<String>()), 0..6),
        known in prop::collection::vec((prop::sample::select(vec![
            "USHER_BIND", "USHER_LOG", "USHER_SESSION_DAYS", "USHER_TRUST_PROXY_HEADERS",
            "USHER_PUBLIC_URL", "USHER_PLEX_TV_URL", "USHER_PLEX__APP_URL", "USHER_SECRET_KEY",
            "USHER_LOG_FORMAT", "USHER_REDEMPTIONS_PER_HOUR", "USHER_ALLOWED_ORIGINS",
        ]), any::<String>()), 0..6),
    ) {
        use usher::config::{Config, Sources};
        // `_FILE` variables read files; those are tested by name elsewhere.
        let env: Vec<(String, String)> = vars
            .into_iter()
            .chain(known.into_iter().map(|(k, v)| (k.to_string(), v)))
            .filter(|(k, _)| !k.ends_with("_FILE"))
            .collect();
        let _ = Config::load(&Sources { env, ..Default::default() });
    }

    #[test]
    fn numbers_in_the_environment_parse_or_name_the_variable(n in any::<i64>()) {
        use usher::config::{Config, Sources};
        let env = vec![("USHER_SESSION_DAYS".to_string(), n.to_string())];
        match Config::load(&Sources { env, ..Default::default() }) {
            Ok(loaded) => prop_assert_eq!(i64::from(loaded.config.session_days), n),
            Err(e) => prop_assert!(e.to_string().contains("session_days") || e.to_string().contains("USHER_SESSION_DAYS"), "{}", e),
        }
    }
}

#[test]
fn a_log_filter_with_a_space_before_non_ascii_text_is_read_not_a_panic() {
    use usher::config::{Config, Sources};
    // The filter parser once panicked on a directive starting with a space before a
    // multi-byte character.
    for raw in [" \u{13c5}\u{a5}g=info", "info, \u{1249}x=debug", " warn"] {
        let env = vec![("USHER_LOG".to_string(), raw.to_string())];
        let loaded = std::panic::catch_unwind(|| {
            Config::load(&Sources {
                env,
                ..Default::default()
            })
        })
        .unwrap_or_else(|_| panic!("USHER_LOG={raw:?} panicked"));
        match loaded {
            Ok(l) => assert_eq!(l.config.log, usher::config::normalise_log_filter(raw)),
            Err(e) => assert!(e.to_string().contains("log"), "{e}"),
        }
    }
    assert_eq!(
        usher::config::normalise_log_filter(" info , usher=debug "),
        "info,usher=debug"
    );
}
