use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// Creates an API key that may do everything through the admin page and returns it.
pub async fn api_key(app: &TestApp, name: &str) -> String {
    scoped_key(app, name, "full").await
}

/// Creates an API key with `scope` (read, requests, full) through the admin page.
pub async fn scoped_key(app: &TestApp, name: &str, scope: &str) -> String {
    let res = app
        .post_form("/admin/api-keys", &[("name", name), ("scope", scope)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let start = page
        .find("id=\"new-key\"")
        .map(|_| page.find("value=\"ush_").unwrap() + 7)
        .unwrap();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

pub struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{}", self.base, path);
        let mut req = match method {
            "GET" => self.http.get(url),
            "POST" => self.http.post(url),
            "PUT" => self.http.put(url),
            "PATCH" => self.http.patch(url),
            "DELETE" => self.http.delete(url),
            _ => unreachable!(),
        }
        .bearer_auth(&self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            },
        )
    }
}

pub async fn api(w: &World) -> Api {
    Api {
        base: w.app.base.clone(),
        key: api_key(&w.app, "script").await,
        http: reqwest::Client::new(),
    }
}

/// A call to endpoint `e` with its path parameters filled in (ids that exist nowhere) and an
/// empty JSON body where it takes one.
fn sample_call(
    http: &reqwest::Client,
    w: &World,
    e: &usher::web::api::Endpoint,
) -> (String, reqwest::RequestBuilder) {
    let path = e
        .path
        .replace("{id}", "999")
        .replace("{code}", "ABCDEFGH")
        .replace("{grant}", "999");
    let req = match e.method {
        "get" => http.get(w.app.url(&path)),
        "post" => http.post(w.app.url(&path)).json(&json!({})),
        "put" => http.put(w.app.url(&path)).json(&json!({})),
        "patch" => http.patch(w.app.url(&path)).json(&json!({})),
        "delete" => http.delete(w.app.url(&path)),
        m => panic!("unexpected method {m}"),
    };
    (path, req)
}

#[tokio::test]
async fn every_protected_endpoint_refuses_a_caller_without_a_valid_key() {
    let w = world().await;
    let http = reqwest::Client::new();
    for e in usher::router::endpoints() {
        if e.public {
            continue;
        }
        for key in [None, Some("ush_wrong")] {
            let (path, mut req) = sample_call(&http, &w, &e);
            if let Some(k) = key {
                req = req.header("x-api-key", k);
            }
            let res = req.send().await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{} {path} with {key:?}",
                e.method
            );
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized", "{} {path}", e.method);
        }
    }
}

#[tokio::test]
async fn a_keys_scope_decides_every_endpoint_it_may_call() {
    let w = world().await;
    let read = scoped_key(&w.app, "dashboard", "read").await;
    let requests = scoped_key(&w.app, "approver", "requests").await;
    let http = reqwest::Client::new();
    for e in usher::router::endpoints() {
        if e.public {
            continue;
        }
        let queue = e.path.starts_with("/api/v1/requests");
        for (key, allowed) in [(&read, e.method == "get"), (&requests, queue)] {
            let (path, req) = sample_call(&http, &w, &e);
            let res = req.header("x-api-key", key).send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let refused =
                status == StatusCode::FORBIDDEN && body["error"]["code"] == "forbidden_scope";
            assert_eq!(!refused, allowed, "{} {path}: {status} {body}", e.method);
            if refused {
                let detail = body["error"]["message"].as_str().unwrap_or_default();
                assert!(detail.contains("needs"), "{detail}");
            }
        }
    }
    // The page lists each key with what it may do.
    let (_, page) = w.app.get_text("/admin/api-keys").await;
    assert!(
        page.contains("Read only") && page.contains("Requests"),
        "{page}"
    );
    // A form without a scope is refused rather than guessed.
    let res = w.app.post_form("/admin/api-keys", &[("name", "x")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn keys_are_made_and_revoked_through_the_api_by_a_full_key_only() {
    let w = world().await;
    let full = api(&w).await;
    let (status, made) = full
        .call(
            "POST",
            "/api/v1/api-keys",
            Some(json!({"name": "sensor", "scope": "read"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let key = made["key"].as_str().unwrap().to_string();
    let reader = Api {
        base: w.app.base.clone(),
        key: key.clone(),
        http: reqwest::Client::new(),
    };
    let (status, _) = reader.call("GET", "/api/v1/members", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = reader
        .call(
            "POST",
            "/api/v1/api-keys",
            Some(json!({"name": "wider", "scope": "full"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a read key makes no keys: {body}"
    );
    let (status, body) = full
        .call(
            "POST",
            "/api/v1/api-keys",
            Some(json!({"name": "x", "scope": "root"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "scope", "{body}");
    let (_, listed) = full.call("GET", "/api/v1/api-keys", None).await;
    assert!(
        !listed.to_string().contains(&key) && listed["items"][0].get("key").is_none(),
        "no key is ever listed: {listed}"
    );
    let id = made["id"].as_i64().unwrap();
    let (status, _) = full
        .call("DELETE", &format!("/api/v1/api-keys/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = reader.call("GET", "/api/v1/members", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked at once");
}

#[tokio::test]
async fn keys_are_shown_once_stored_hashed_and_revocable() {
    let w = world().await;
    let key = api_key(&w.app, "home-assistant").await;
    assert!(key.starts_with("ush_") && key.len() > 40);
    let (_, page) = w.app.get_text("/admin/api-keys").await;
    assert!(
        page.contains("home-assistant") && !page.contains(&key),
        "never shown again"
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM api_keys")
        .fetch_all(&db(&w.app.state).await)
        .await
        .unwrap();
    assert!(!stored.iter().any(|h| h.contains(&key)));

    let http = reqwest::Client::new();
    let res = http
        .get(w.app.url("/api/v1/stats"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, page) = w.app.get_text("/admin/api-keys").await;
    assert!(!page.contains(">never<"), "last use recorded");
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(&db(&w.app.state).await)
        .await
        .unwrap();
    w.app
        .post_form(&format!("/admin/api-keys/{id}/revoke"), &[])
        .await;
    let res = http
        .get(w.app.url("/api/v1/stats"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn servers_can_be_connected_listed_and_scanned() {
    let w = world().await;
    let a = api(&w).await;
    let emby = fakes::jellyfin::FakeJellyfin::start(fakes::jellyfin::FakeKind::Emby).await;
    let (status, body) = a
        .call(
            "POST",
            "/api/v1/servers",
            Some(
                json!({"kind": "emby", "name": "Den", "url": emby.url(), "token": emby.api_key()}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["library_count"], 3);
    assert!(
        !body.to_string().contains(&emby.api_key()),
        "no secrets in responses"
    );
    let id = body["id"].as_i64().unwrap();
    let (status, body) = a
        .call(
            "POST",
            "/api/v1/servers",
            Some(json!({"kind": "emby", "name": "den", "url": emby.url(), "token": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["field"], "name");
    let (_, list) = a.call("GET", "/api/v1/servers", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let (_, libs) = a
        .call("GET", &format!("/api/v1/servers/{id}/libraries"), None)
        .await;
    assert_eq!(libs["items"][0]["sharing_id"].as_str().unwrap().len(), 32);
    let (status, _) = a
        .call("POST", &format!("/api/v1/servers/{id}/test"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = a
        .call("DELETE", &format!("/api/v1/servers/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = a.call("GET", &format!("/api/v1/servers/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn invites_page_through_with_cursors_and_redemptions_show_up() {
    let w = world().await;
    let a = api(&w).await;
    let mut codes = Vec::new();
    for i in 0..5 {
        let (status, body) = a
            .call("POST", "/api/v1/invites", Some(json!({"servers": [{"server_id": w.jf_id}], "uses": 2, "label": format!("batch {i}")})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        codes.push(body["code"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/invites?limit=2&cursor={c}"),
            None => "/api/v1/invites?limit=2".into(),
        };
        let (status, page) = a.call("GET", &path, None).await;
        assert_eq!(status, StatusCode::OK);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|i| i["code"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    seen.sort();
    codes.sort();
    assert_eq!(seen, codes, "every invite exactly once");

    let code = &codes[0];
    let res = w
        .redeem_api(
            code,
            json!({"username": "apiuser", "password": "a good password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, detail) = a
        .call("GET", &format!("/api/v1/invites/{code}/redemptions"), None)
        .await;
    assert_eq!(detail["redemptions"][0]["grants"][0]["status"], "active");
    let (status, body) = a
        .call("POST", &format!("/api/v1/invites/{code}/disable"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["disabled"], true);

    let (status, body) = a
        .call(
            "POST",
            "/api/v1/invites",
            Some(json!({"servers": [{"server_id": w.jf_id}], "uses": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "uses");
    // The same sentence the invite form and `usher invite create` give.
    assert_eq!(
        body["error"]["message"],
        "Uses must be a number from 1 to 1000, or unlimited."
    );
    let (status, body) = a.call("GET", "/api/v1/invites?limit=9999", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "limit");
}

#[tokio::test]
async fn requests_are_approved_and_declined_through_the_api() {
    let w = world().await;
    let a = api(&w).await;
    w.ask(&[
        ("Uma", "alice@example.com"),
        ("Vic", "vic@example.com"),
        ("Wyn", "carol@example.com"),
    ])
    .await;
    let (_, list) = a.call("GET", "/api/v1/requests?status=pending", None).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let uma = items.iter().find(|r| r["name"] == "Uma").unwrap()["id"]
        .as_i64()
        .unwrap();
    let vic = items.iter().find(|r| r["name"] == "Vic").unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, body) = a
        .call(
            "POST",
            &format!("/api/v1/requests/{uma}/approve"),
            Some(json!({"servers": [{"server_id": w.plex_id, "libraries": ["81234001"]}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
    assert_eq!(body["decided_by"], "api:script");
    assert_eq!(w.plex.shares_of(fakes::plex::demo::SERVER_ID).len(), 1);
    let (status, _) = a
        .call(
            "POST",
            &format!("/api/v1/requests/{uma}/approve"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = a
        .call(
            "POST",
            &format!("/api/v1/requests/{vic}/decline"),
            Some(json!({"reason": "full"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "declined");

    // An approval can start from a profile instead of the request settings.
    let wyn = items.iter().find(|r| r["name"] == "Wyn").unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, profile) = a
        .call(
            "POST",
            "/api/v1/profiles",
            Some(json!({"name": "TV only", "duration": "7d",
                "servers": [{"server_id": w.plex_id, "libraries": ["81234002"]}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{profile}");
    let (status, body) = a
        .call(
            "POST",
            &format!("/api/v1/requests/{wyn}/approve"),
            Some(json!({"profile_id": 999})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = a
        .call(
            "POST",
            &format!("/api/v1/requests/{wyn}/approve"),
            Some(json!({"profile_id": profile["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let shares = w.plex.shares_of(fakes::plex::demo::SERVER_ID);
    let carol = shares
        .iter()
        .find(|s| s.email.as_deref() == Some("carol@example.com"))
        .unwrap();
    assert_eq!(carol.section_ids, vec![81_234_002]);
}

#[tokio::test]
async fn members_events_stats_and_settings_are_readable_without_secrets() {
    let w = world().await;
    let a = api(&w).await;
    let code = w.invite(&[w.jf_id], "3", |_| {}).await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "wes", "password": "a good password"}),
        )
        .await;
    let member = res.json::<Value>().await.unwrap()["member"]["id"]
        .as_i64()
        .unwrap();
    let (_, list) = a.call("GET", "/api/v1/members?q=wes", None).await;
    assert_eq!(list["items"][0]["id"], member);
    let (status, m) = a
        .call(
            "POST",
            &format!("/api/v1/members/{member}/expiry"),
            Some(json!({"expires_at": "2027-01-31"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert!(
        m["grants"][0]["expires_at"]
            .as_str()
            .unwrap()
            .starts_with("2027-01-31")
    );
    let (status, _) = a
        .call(
            "POST",
            &format!("/api/v1/members/{member}/expiry"),
            Some(json!({"expires_at": "soonish"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "text the schema allows"
    );

    let (_, events) = a.call("GET", "/api/v1/events?limit=3", None).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 3);
    let next = events["next_cursor"].as_str().unwrap();
    let (_, more) = a
        .call(
            "GET",
            &format!("/api/v1/events?limit=3&cursor={next}"),
            None,
        )
        .await;
    assert!(more["items"][0]["id"].as_i64().unwrap() < events["items"][2]["id"].as_i64().unwrap());
    assert!(
        events["items"][0]["at"].as_str().unwrap().ends_with('Z'),
        "ISO 8601 times"
    );

    let (_, stats) = a.call("GET", "/api/v1/stats", None).await;
    assert_eq!(stats["redeemed_7_days"], 1);
    let (_, settings) = a.call("GET", "/api/v1/settings", None).await;
    assert!(settings["telegram"]["has_token"].is_boolean());
    assert!(settings["telegram"].get("token_sealed").is_none());
}

#[tokio::test]
async fn the_committed_openapi_document_matches_the_code_and_is_served() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.json"
    ))
    .unwrap();
    assert_eq!(
        committed,
        usher::router::openapi_text(),
        "run `usher openapi > docs/openapi.json`"
    );
    let app = spawn_app().await;
    let (status, served) = app.get_text("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served, committed);
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for e in usher::router::endpoints() {
        assert!(
            doc["paths"][e.path][e.method].is_object(),
            "{} {} documented",
            e.method,
            e.path
        );
    }
    let (status, docs) = app.get_text("/api/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        docs.contains("/api/v1/invites/{code}/redeem") && !docs.contains("src=\"http"),
        "no CDN"
    );
}

#[tokio::test]
async fn malformed_json_gets_the_error_shape_not_a_500() {
    let w = world().await;
    let a = api(&w).await;
    let res = reqwest::Client::new()
        .post(w.app.url("/api/v1/invites"))
        .bearer_auth(&a.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(body["error"]["message"].as_str().unwrap().len() > 10);
}

#[tokio::test]
async fn notification_channels_are_listed_without_secrets() {
    let w = world().await;
    let a = api(&w).await;
    let res = w
        .app
        .post_form(
            "/admin/settings/notifications",
            &[
                ("kind", "webhook"),
                ("name", "hook"),
                ("url", "http://127.0.0.1:9/hook"),
                ("event", "invite.redeemed"),
                ("lang", "en"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    let (status, list) = a.call("GET", "/api/v1/notifications", None).await;
    assert_eq!(status, StatusCode::OK);
    let text = list.to_string();
    assert!(
        !text.contains("/hook") && !text.contains("secret_sealed"),
        "{text}"
    );
    assert_eq!(list["items"][0]["kind"], "webhook");
    let id = list["items"][0]["id"].as_i64().unwrap();
    let (status, body) = a
        .call("POST", &format!("/api/v1/notifications/{id}/test"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "delivery_failed");
}

#[tokio::test]
async fn a_server_is_edited_and_its_defaults_libraries_and_expiry_set_through_the_api() {
    let w = world().await;
    let api = api(&w).await;
    let id = w.jf_id;
    let (status, body) = api
        .call(
            "PATCH",
            &format!("/api/v1/servers/{id}"),
            Some(json!({"name": "Den Jellyfin", "friend_url": "https://watch.example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Den Jellyfin");
    assert_eq!(body["friend_url"], "https://watch.example.com");
    assert_eq!(body["url"], w.jf.url(), "what was left out stays");

    let (status, body) = api
        .call(
            "PUT",
            &format!("/api/v1/servers/{id}/defaults"),
            Some(json!({"allow_downloads": true, "allow_live_tv": false, "allow_camera_upload": false, "max_sessions": 3, "request_default": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["defaults"]["max_sessions"], 3);
    assert_eq!(body["defaults"]["allow_downloads"], true);
    let (status, body) = api
        .call(
            "PUT",
            &format!("/api/v1/servers/{id}/defaults"),
            Some(json!({"allow_downloads": true, "allow_live_tv": false, "allow_camera_upload": false, "max_sessions": 500, "request_default": true})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "max_sessions", "{body}");

    let (_, libraries) = api
        .call("GET", &format!("/api/v1/servers/{id}/libraries"), None)
        .await;
    let first = libraries["items"][0]["id"].as_i64().unwrap();
    let (status, body) = api
        .call(
            "PUT",
            &format!("/api/v1/servers/{id}/libraries"),
            Some(json!({"offered": [first], "default": [first]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let offered: Vec<bool> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["offered"].as_bool().unwrap())
        .collect();
    assert_eq!(offered.iter().filter(|o| **o).count(), 1, "{body}");
    let (status, body) = api
        .call(
            "PUT",
            &format!("/api/v1/servers/{id}/libraries"),
            Some(json!({"offered": [999_999]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "libraries", "{body}");

    let (status, body) = api
        .call(
            "PUT",
            &format!("/api/v1/servers/{id}/expiry"),
            Some(json!({"action": "disable_then_remove", "remove_after_days": 14})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expiry"]["action"], "disable_then_remove");
    assert_eq!(body["expiry"]["remove_after_days"], 14);
    let (status, _) = api
        .call(
            "PUT",
            &format!("/api/v1/servers/{id}/expiry"),
            Some(json!({"action": "forget"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    w.jf.add_user(fakes::jellyfin::SeedUser::member("imported-friend", "pw"));
    let (status, body) = api
        .call("POST", &format!("/api/v1/servers/{id}/sync"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["imported"], 1, "{body}");

    // Each change is in the audit log under the key's name.
    let (_, events) = api.call("GET", "/api/v1/events", None).await;
    for action in [
        "server.updated",
        "server.defaults_changed",
        "server.libraries_changed",
        "server.expiry_changed",
    ] {
        assert!(
            events["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == action && e["actor"] == "api:script"),
            "{action}: {events}"
        );
    }
}

#[tokio::test]
async fn a_members_notes_access_and_pause_are_managed_through_the_api_and_the_list_filters() {
    let w = world().await;
    let api = api(&w).await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let res = w
        .redeem_api(
            &code,
            json!({"username": "ada", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let redeemed: Value = res.json().await.unwrap();
    let member = redeemed["member"]["id"].as_i64().unwrap();
    let (_, m) = api
        .call("GET", &format!("/api/v1/members/{member}"), None)
        .await;
    let grant = m["grants"][0]["id"].as_i64().unwrap();
    let libraries: Vec<String> = m["grants"][0]["libraries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert!(libraries.len() > 1, "{m}");

    let (status, m) = api
        .call(
            "PUT",
            &format!("/api/v1/members/{member}/notes"),
            Some(json!({"notes": "Ada's cousin"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["notes"], "Ada's cousin");

    let (status, m) = api
        .call(
            "PUT",
            &format!("/api/v1/members/{member}/grants/{grant}/access"),
            Some(json!({"libraries": [libraries[0]], "permissions": {"allow_downloads": false}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["grants"][0]["libraries"], json!([libraries[0]]));
    assert_eq!(m["grants"][0]["permissions"]["allow_downloads"], false);
    let user = w.jf.user_by_name("ada").unwrap();
    assert_eq!(user.enabled_folders(), vec![libraries[0].clone()]);
    assert_eq!(user.policy_bool("EnableContentDownloading"), Some(false));
    let (status, body) = api
        .call(
            "PUT",
            &format!("/api/v1/members/{member}/grants/{grant}/access"),
            Some(json!({"libraries": ["no-such-library"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "libraries", "{body}");

    let (status, m) = api
        .call(
            "POST",
            &format!("/api/v1/members/{member}/grants/{grant}/pause"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["grants"][0]["status"], "disabled");
    assert!(w.jf.user_by_name("ada").unwrap().is_disabled());
    let (_, paused) = api
        .call("GET", "/api/v1/members?status=disabled", None)
        .await;
    assert_eq!(paused["items"].as_array().unwrap().len(), 1, "{paused}");
    let (_, active) = api.call("GET", "/api/v1/members?status=active", None).await;
    assert_eq!(active["items"].as_array().unwrap().len(), 0, "{active}");
    let (status, _) = api
        .call(
            "POST",
            &format!("/api/v1/members/{member}/grants/{grant}/pause"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "already paused");
    let (status, m) = api
        .call(
            "POST",
            &format!("/api/v1/members/{member}/grants/{grant}/resume"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert!(!w.jf.user_by_name("ada").unwrap().is_disabled());

    let jf = w.jf_id;
    let (_, there) = api
        .call(
            "GET",
            &format!("/api/v1/members?server={jf}&origin=invite&sort=created&order=desc"),
            None,
        )
        .await;
    assert_eq!(there["items"].as_array().unwrap().len(), 1, "{there}");
    for (query, field) in [
        ("status=sleepy", "status"),
        ("sort=age", "sort"),
        ("order=up", "order"),
        ("server=x", "server"),
    ] {
        let (status, body) = api
            .call("GET", &format!("/api/v1/members?{query}"), None)
            .await;
        assert!(status.is_client_error(), "{query}: {status} {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(" is "),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_invites_qr_csv_and_detail_come_from_the_api() {
    let w = world().await;
    let key = api_key(&w.app, "script").await;
    let code = w.invite(&[w.jf_id], "2", |_| {}).await;
    let http = reqwest::Client::new();
    let get = |path: String| http.get(w.app.url(&path)).bearer_auth(&key).send();
    let qr = get(format!("/api/v1/invites/{}/qr.svg", code.to_lowercase()))
        .await
        .unwrap();
    assert_eq!(qr.status(), StatusCode::OK);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.unwrap().starts_with("<?xml"));
    let csv = get("/api/v1/invites.csv".into()).await.unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("code,link\r\n") && text.contains(&code),
        "{text}"
    );
    let res = w
        .redeem_api(
            &code,
            json!({"username": "eve", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let detail: Value = get(format!("/api/v1/invites/{code}/redemptions"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["servers"][0]["name"], "Home Jellyfin", "{detail}");
    assert_eq!(detail["redemptions"][0]["name"], "eve", "{detail}");
    let missing = get("/api/v1/invites/NOPE1234/qr.svg".into()).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_audit_log_is_filtered_and_exported_through_the_api() {
    let w = world().await;
    let api = api(&w).await;
    w.invite(&[w.jf_id], "1", |_| {}).await;
    let jf = w.jf_id;
    api.call(
        "PUT",
        &format!("/api/v1/servers/{jf}/expiry"),
        Some(json!({"action": "remove"})),
    )
    .await;
    let (status, body) = api
        .call("GET", "/api/v1/events?action=server.*&actor=api", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("server.")),
        "{body}"
    );
    assert_eq!(items[0]["server_id"], jf.get(), "{body}");
    let (_, one) = api.call("GET", "/api/v1/events?limit=1", None).await;
    let cursor = one["next_cursor"].as_str().unwrap().to_string();
    let (_, next) = api
        .call(
            "GET",
            &format!("/api/v1/events?limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert!(next["items"][0]["id"].as_i64() < one["items"][0]["id"].as_i64());
    for (query, field) in [
        ("from=yesterday", "from"),
        ("action=DROP TABLE", "action"),
        ("server=x", "server"),
    ] {
        let (status, body) = api
            .call("GET", &format!("/api/v1/events?{query}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    let key = api_key(&w.app, "sheet").await;
    let csv = reqwest::Client::new()
        .get(w.app.url("/api/v1/events.csv?action=server.expiry_changed"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert!(
        text.contains("id,at,actor,action") && text.contains("server.expiry_changed"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[tokio::test]
async fn access_profiles_are_made_changed_copied_applied_and_deleted_through_the_api() {
    let w = world().await;
    let api = api(&w).await;
    let (_, libraries) = api
        .call(
            "GET",
            &format!("/api/v1/servers/{}/libraries", w.jf_id),
            None,
        )
        .await;
    let first = libraries["items"][0]["sharing_id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"name": "Family", "duration": "30d", "servers": [
        {"server_id": w.jf_id, "libraries": [first], "permissions": {"allow_downloads": true}}
    ]});
    let (status, made) = api.call("POST", "/api/v1/profiles", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_i64().unwrap();
    assert_eq!(made["servers"][0]["permissions"]["allow_downloads"], true);
    let (status, body) = api
        .call(
            "POST",
            "/api/v1/profiles",
            Some(json!({"name": "Broken", "servers": [{"server_id": w.jf_id, "libraries": ["nope"]}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, changed) = api
        .call(
            "PUT",
            &format!("/api/v1/profiles/{id}"),
            Some(json!({"name": "Family", "duration": "", "servers": [{"server_id": w.jf_id, "libraries": [first]}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["duration"], "");
    let (status, copy) = api
        .call("POST", &format!("/api/v1/profiles/{id}/duplicate"), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{copy}");
    assert_eq!(copy["name"], "Family (2)");
    let profile = usher::domain::ids::ProfileId(id);
    w.invite(&[], "1", |i| i.profile = Some(profile)).await;
    let (status, report) = api
        .call("POST", &format!("/api/v1/profiles/{id}/apply"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (status, body) = api
        .call("DELETE", &format!("/api/v1/profiles/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "an invite uses it: {body}");
    let other = copy["id"].as_i64().unwrap();
    let (status, _) = api
        .call(
            "DELETE",
            &format!("/api/v1/profiles/{id}?reassign={other}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = api.call("GET", "/api/v1/profiles", None).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(
        listed["items"][0]["invites"], 1,
        "the invite moved: {listed}"
    );
}

#[tokio::test]
async fn every_server_is_synced_at_once_and_a_failing_one_is_named_beside_the_others() {
    let w = world().await;
    let a = api(&w).await;
    w.jf.control().fail_next("/Users", 500);
    let (status, body) = a.call("POST", "/api/v1/servers/sync", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{body}");
    let plex = items.iter().find(|i| i["server"] == "Home Plex").unwrap();
    assert!(plex["accounts"].is_number(), "{body}");
    let jf = items
        .iter()
        .find(|i| i["server"] == "Home Jellyfin")
        .unwrap();
    assert!(jf["error"].is_string(), "{body}");
}

#[tokio::test]
async fn a_body_is_an_object_and_a_whole_number_may_be_written_with_a_fraction() {
    let w = world().await;
    let a = api(&w).await;
    // JSON Schema calls 48.0 an integer, as JSON does.
    let (status, body) = a
        .call(
            "PATCH",
            "/api/v1/settings/requests",
            Some(json!({"expiry_hours": 48.0})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["requests"]["expiry_hours"], 48);
    let (status, _) = a
        .call(
            "PATCH",
            "/api/v1/settings/requests",
            Some(json!({"expiry_hours": 48.5})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A list is not the fields in order.
    for body in [json!([]), json!([true]), json!(null), json!("x")] {
        let (status, answer) = a
            .call("PATCH", "/api/v1/settings/requests", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("JSON object")
        );
    }
    // A query string that does not fit answers the API's error shape, not plain text.
    let res = reqwest::Client::new()
        .get(w.app.url("/api/v1/events?unknown=1"))
        .bearer_auth(&a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["code"], "bad_request", "{v}");
}
