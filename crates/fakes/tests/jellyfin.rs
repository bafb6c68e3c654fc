//! The fake Jellyfin and Emby behave as `reference/jellyfin-emby-api.md` says the real servers do.

use fakes::jellyfin::{
    ADMIN_NAME, ADMIN_PASSWORD, EMBY_API_KEY, FakeJellyfin, FakeKind, JELLYFIN_API_KEY, SeedUser,
};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

const AUTH_FIELDS: &str = r#"Client="tests", Device="runner", DeviceId="dev-1", Version="1.0""#;

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

struct Api {
    http: Client,
    base: String,
    key: String,
}

impl Api {
    fn new(fake: &FakeJellyfin) -> Api {
        Api {
            http: client(),
            base: fake.url(),
            key: fake.api_key(),
        }
    }

    fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        rb.header(
            "Authorization",
            format!(r#"MediaBrowser {AUTH_FIELDS}, Token="{}""#, self.key),
        )
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.get(format!("{}{path}", self.base)))
    }

    fn post(&self, path: &str, body: Value) -> RequestBuilder {
        self.auth(self.http.post(format!("{}{path}", self.base)).json(&body))
    }

    fn delete(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.delete(format!("{}{path}", self.base)))
    }

    fn bare(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    async fn create(&self, name: &str, password: &str) -> Value {
        let resp = self
            .post("/Users/New", json!({"Name": name, "Password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    async fn sign_in(&self, name: &str, password: &str) -> Response {
        self.http
            .post(format!("{}/Users/AuthenticateByName", self.base))
            .header("Authorization", format!("MediaBrowser {AUTH_FIELDS}"))
            .json(&json!({"Username": name, "Pw": password}))
            .send()
            .await
            .unwrap()
    }
}

async fn text(resp: Response) -> (StatusCode, String, String) {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, resp.text().await.unwrap())
}

fn id_of(user: &Value) -> String {
    user["Id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_default_seed_has_a_named_server_three_libraries_an_admin_and_a_key() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    assert_eq!(jf.server_name(), "Home Jellyfin");
    assert_eq!(jf.api_key(), JELLYFIN_API_KEY);
    let names: Vec<String> = jf.libraries().into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["Movies", "Shows", "Music"]);
    let admin = jf.user_by_name(ADMIN_NAME).unwrap();
    assert!(admin.is_admin());
    assert!(admin.password_matches(ADMIN_PASSWORD));

    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    assert_eq!(emby.server_name(), "Home Emby");
    assert_eq!(emby.api_key(), EMBY_API_KEY);
    let movies = emby.library_by_name("Movies").unwrap();
    assert!(movies.emby_id.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(movies.guid.len(), 32);
}

#[tokio::test]
async fn public_info_needs_no_token_and_only_jellyfin_names_its_product() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    for (fake, has_product) in [(&jf, true), (&emby, false)] {
        let api = Api::new(fake);
        let info: Value = api
            .bare(reqwest::Method::GET, "/System/Info/Public")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["Id"], fake.server_id());
        assert_eq!(info["ServerName"], fake.server_name());
        assert_eq!(info.get("ProductName").is_some(), has_product);
    }
}

#[tokio::test]
async fn routes_and_query_names_are_matched_without_regard_to_case() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let resp = api
        .bare(
            reqwest::Method::GET,
            &format!("/LIBRARY/mediaFolders?APIKEY={}", jf.api_key()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["TotalRecordCount"], 3);
    assert_eq!(body["Items"][0]["Id"], jf.libraries()[0].guid);
}

#[tokio::test]
async fn a_missing_or_wrong_token_gets_401() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let none = api
        .bare(reqwest::Method::GET, "/Users")
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let wrong = api
        .bare(reqwest::Method::GET, "/Users")
        .header("Authorization", r#"MediaBrowser Token="nope""#)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn jellyfin_12_refuses_every_legacy_token_source_but_takes_the_authorization_header() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin12).await;
    let api = Api::new(&jf);
    let key = jf.api_key();
    let get = || api.bare(reqwest::Method::GET, "/Library/MediaFolders");
    let legacy = [
        get().header("X-Emby-Token", &key),
        get().header("X-MediaBrowser-Token", &key),
        get().header(
            "X-Emby-Authorization",
            format!(r#"MediaBrowser Token="{key}""#),
        ),
        api.bare(
            reqwest::Method::GET,
            &format!("/Library/MediaFolders?api_key={key}"),
        ),
        // A legacy header next to a good Authorization header is still refused.
        api.get("/Library/MediaFolders")
            .header("X-Emby-Token", &key),
    ];
    for request in legacy {
        assert_eq!(
            request.send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let modern = [
        api.get("/Library/MediaFolders"),
        get().header("Authorization", format!(r#"MediaBrowser Token="{key}""#)),
        api.bare(
            reqwest::Method::GET,
            &format!("/Library/MediaFolders?ApiKey={key}"),
        ),
    ];
    for request in modern {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn jellyfin_10_and_emby_still_take_the_legacy_token_header_and_the_emby_prefix() {
    for kind in [FakeKind::Jellyfin, FakeKind::Emby] {
        let fake = FakeJellyfin::start(kind).await;
        let api = Api::new(&fake);
        let resp = api
            .bare(reqwest::Method::GET, "/emby/Library/MediaFolders")
            .header("X-Emby-Token", fake.api_key())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{kind:?}");
    }
    let jf12 = FakeJellyfin::start(FakeKind::Jellyfin12).await;
    let resp = Api::new(&jf12)
        .get("/emby/System/Info/Public")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn emby_library_folders_carry_a_numeric_id_and_a_guid() {
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let body: Value = Api::new(&emby)
        .get("/Library/MediaFolders")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let movies = &body["Items"][0];
    assert_eq!(movies["Name"], "Movies");
    assert_eq!(
        movies["Id"],
        emby.library_by_name("Movies").unwrap().emby_id
    );
    assert_eq!(movies["Guid"], emby.library_by_name("Movies").unwrap().guid);
    assert_eq!(movies["CollectionType"], "movies");
}

#[tokio::test]
async fn a_new_jellyfin_user_is_hidden_sees_every_folder_and_has_the_password_it_was_given() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let predicted = jf.next_user_id();
    let user = api
        .post(
            "/Users/New",
            json!({"Name": "alice", "Password": "pw1", "Policy": {"IsAdministrator": true}}),
        )
        .send()
        .await
        .unwrap();
    let user: Value = user.json().await.unwrap();
    assert_eq!(id_of(&user), predicted);
    assert_eq!(user["HasPassword"], true);
    assert_eq!(user["Policy"]["IsHidden"], true);
    assert_eq!(user["Policy"]["EnableAllFolders"], true);
    assert_eq!(
        user["Policy"]["IsAdministrator"], false,
        "a posted policy is ignored"
    );
    assert_eq!(user["Policy"]["EnableLiveTvManagement"], false);
    assert!(jf.user(&predicted).unwrap().password_matches("pw1"));
}

#[tokio::test]
async fn a_duplicate_name_in_any_case_and_an_invalid_name_get_the_same_plain_400() {
    for kind in [FakeKind::Jellyfin, FakeKind::Jellyfin12, FakeKind::Emby] {
        let fake = FakeJellyfin::start(kind).await;
        let api = Api::new(&fake);
        api.create("Alice", "pw").await;
        for name in ["aLICE", "bad/name", " alice2", ".."] {
            let resp = api
                .post("/Users/New", json!({"Name": name}))
                .send()
                .await
                .unwrap();
            let (status, content_type, body) = text(resp).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{kind:?} {name}");
            assert!(content_type.starts_with("text/plain"));
            assert_eq!(body, "Error processing request.");
        }
        assert_eq!(fake.users().len(), 2);
    }
}

#[tokio::test]
async fn jellyfin_10_11_accepts_a_plus_in_names_but_emby_does_not() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    api.create("ana+tv", "pw").await;
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let resp = Api::new(&emby)
        .post("/Users/New", json!({"Name": "ana+tv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn emby_creates_users_without_a_password_and_wants_a_reset_before_replacing_one() {
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let api = Api::new(&emby);
    let user = api.create("bob", "ignored").await;
    let id = id_of(&user);
    assert_eq!(user["HasPassword"], false);
    assert!(emby.user(&id).unwrap().password_matches(""));
    assert_eq!(api.sign_in("bob", "").await.status(), StatusCode::OK);

    let set = |pw: &str| {
        api.post(
            &format!("/Users/{id}/Password"),
            json!({"Id": id, "CurrentPw": "", "NewPw": pw, "ResetPassword": false}),
        )
    };
    assert_eq!(
        set("first").send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert!(emby.user(&id).unwrap().password_matches("first"));
    assert_eq!(
        set("second").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "replacing a password needs a reset first"
    );
    let reset = api
        .post(
            &format!("/Users/{id}/Password"),
            json!({"Id": id, "ResetPassword": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        set("second").send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert!(emby.user(&id).unwrap().password_matches("second"));
}

#[tokio::test]
async fn jellyfin_lets_the_api_key_set_a_password_on_both_routes_without_the_old_one() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let id = id_of(&api.create("carol", "old").await);
    let body = json!({"CurrentPw": "", "NewPw": "new", "ResetPassword": false});
    let resp = api
        .post(&format!("/Users/Password?userId={id}"), body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(jf.user(&id).unwrap().password_matches("new"));
    let body = json!({"CurrentPw": "", "NewPw": "newer", "ResetPassword": false});
    let resp = api
        .post(&format!("/Users/{id}/Password"), body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(jf.user(&id).unwrap().password_matches("newer"));
}

#[tokio::test]
async fn a_jellyfin_policy_without_provider_ids_is_refused_with_problem_details() {
    for kind in [FakeKind::Jellyfin, FakeKind::Jellyfin12] {
        let jf = FakeJellyfin::start(kind).await;
        let api = Api::new(&jf);
        let user = api.create("dave", "pw").await;
        let mut policy = user["Policy"].clone();
        policy
            .as_object_mut()
            .unwrap()
            .remove("AuthenticationProviderId");
        policy["PasswordResetProviderId"] = json!("");
        policy["EnableAllFolders"] = json!(false);
        let resp = api
            .post(&format!("/Users/{}/Policy", id_of(&user)), policy)
            .send()
            .await
            .unwrap();
        let (status, content_type, body) = text(resp).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(content_type.starts_with("application/problem+json"));
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["title"], "One or more validation errors occurred.");
        assert!(body["errors"]["AuthenticationProviderId"].is_array());
        assert!(body["errors"]["PasswordResetProviderId"].is_array());
        assert!(
            jf.user(&id_of(&user)).unwrap().all_folders(),
            "nothing was stored"
        );
    }
}

#[tokio::test]
async fn fields_left_out_of_a_posted_policy_take_constructor_defaults_not_current_values() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let user = api.create("erin", "pw").await;
    let id = id_of(&user);
    let mut full = user["Policy"].clone();
    full["EnableAllFolders"] = json!(false);
    full["EnabledFolders"] = json!([jf.libraries()[0].guid]);
    full["IsHidden"] = json!(false);
    full["EnableContentDownloading"] = json!(false);
    let resp = api
        .post(&format!("/Users/{id}/Policy"), full)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(!jf.user(&id).unwrap().all_folders());

    // A client that forgets read-modify-write posts only what it wants to change.
    let partial = json!({
        "IsDisabled": true,
        "AuthenticationProviderId": user["Policy"]["AuthenticationProviderId"],
        "PasswordResetProviderId": user["Policy"]["PasswordResetProviderId"],
    });
    let resp = api
        .post(&format!("/Users/{id}/Policy"), partial)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let after = jf.user(&id).unwrap();
    assert!(after.is_disabled());
    assert!(after.all_folders(), "EnableAllFolders fell back to true");
    assert!(after.enabled_folders().is_empty());
    assert_eq!(after.policy_bool("IsHidden"), Some(true));
    assert_eq!(after.policy_bool("EnableContentDownloading"), Some(true));
    assert_eq!(after.policy_bool("EnableLiveTvManagement"), Some(true));
}

#[tokio::test]
async fn policy_property_names_are_matched_without_regard_to_case() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let user = api.create("fay", "pw").await;
    let id = id_of(&user);
    let mut policy = serde_json::Map::new();
    for (k, v) in user["Policy"].as_object().unwrap() {
        policy.insert(k.to_ascii_lowercase(), v.clone());
    }
    policy.insert("enableallfolders".into(), json!(false));
    let resp = api
        .post(&format!("/Users/{id}/Policy"), Value::Object(policy))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let after = jf.user(&id).unwrap();
    assert!(!after.all_folders());
    assert_eq!(after.policy_bool("EnableLiveTvManagement"), Some(false));
}

#[tokio::test]
async fn jellyfin_refuses_folder_ids_that_are_not_guids_and_accepts_hyphenated_ones() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let user = api.create("gus", "pw").await;
    let id = id_of(&user);
    let mut policy = user["Policy"].clone();
    policy["EnableAllFolders"] = json!(false);
    policy["EnabledFolders"] = json!(["3"]);
    let resp = api
        .post(&format!("/Users/{id}/Policy"), policy.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let guid = jf.libraries()[1].guid.clone();
    let hyphenated = format!(
        "{}-{}-{}-{}-{}",
        &guid[..8],
        &guid[8..12],
        &guid[12..16],
        &guid[16..20],
        &guid[20..]
    )
    .to_uppercase();
    policy["EnabledFolders"] = json!([hyphenated]);
    let resp = api
        .post(&format!("/Users/{id}/Policy"), policy)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(jf.user(&id).unwrap().enabled_folders(), [guid]);
}

#[tokio::test]
async fn emby_silently_drops_numeric_folder_ids_and_keeps_guids() {
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let api = Api::new(&emby);
    let user = api.create("hal", "").await;
    let id = id_of(&user);
    let movies = emby.library_by_name("Movies").unwrap();
    let shows = emby.library_by_name("Shows").unwrap();
    let mut policy = user["Policy"].clone();
    policy["EnableAllFolders"] = json!(false);
    policy["EnabledFolders"] = json!([movies.emby_id, shows.guid]);
    let resp = api
        .post(&format!("/Users/{id}/Policy"), policy)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(emby.user(&id).unwrap().enabled_folders(), [shows.guid]);
}

#[tokio::test]
async fn a_null_policy_array_is_refused() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let user = api.create("ida", "pw").await;
    let mut policy = user["Policy"].clone();
    policy["BlockedTags"] = Value::Null;
    let resp = api
        .post(&format!("/Users/{}/Policy", id_of(&user)), policy)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_policy_posted_without_a_json_content_type_gets_415() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let user = api.create("jo", "pw").await;
    let resp = api
        .auth(
            api.http
                .post(format!("{}/Users/{}/Policy", api.base, id_of(&user)))
                .body(user["Policy"].to_string()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn an_unknown_user_is_a_404_with_a_json_string_and_a_malformed_id_a_problem() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let resp = api
        .get("/Users/0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap();
    let (status, _, body) = text(resp).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, "\"User not found\"");
    let resp = api.get("/Users/not-a-guid").send().await.unwrap();
    let (status, content_type, _) = text(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(content_type.starts_with("application/problem+json"));
}

#[tokio::test]
async fn deleting_a_user_answers_204_then_404_and_the_last_admin_cannot_be_deleted() {
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let api = Api::new(&emby);
    let id = id_of(&api.create("kim", "").await);
    let first = api
        .post(&format!("/Users/{id}/Delete"), json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    let again = api.delete(&format!("/Users/{id}")).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let admin = emby.user_by_name(ADMIN_NAME).unwrap();
    let resp = api
        .delete(&format!("/Users/{}", admin.id))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(emby.user(&admin.id).is_some());
}

#[tokio::test]
async fn emby_lists_users_through_query_and_as_a_bare_array() {
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let api = Api::new(&emby);
    let query: Value = api
        .get("/Users/Query")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(query["TotalRecordCount"], 1);
    assert_eq!(query["Items"][0]["Name"], ADMIN_NAME);
    let bare: Value = api
        .get("/Users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bare.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn user_lists_filter_by_hidden_and_disabled() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    jf.add_user(SeedUser {
        is_disabled: true,
        ..SeedUser::member("off", "pw")
    });
    let api = Api::new(&jf);
    let disabled: Value = api
        .get("/Users?isDisabled=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disabled.as_array().unwrap().len(), 1);
    assert_eq!(disabled[0]["Name"], "off");
    let visible: Value = api
        .get("/Users?isHidden=false")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(visible[0]["Name"], ADMIN_NAME);
}

#[tokio::test]
async fn signing_in_needs_the_client_fields_and_a_member_token_is_no_admin() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    jf.add_user(SeedUser::member("lee", "pw"));
    let api = Api::new(&jf);
    let bare = api
        .http
        .post(format!("{}/Users/AuthenticateByName", api.base))
        .header("Authorization", r#"MediaBrowser Client="x""#)
        .json(&json!({"Username": "lee", "Pw": "pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        api.sign_in("lee", "wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let ok: Value = api.sign_in("LEE", "pw").await.json().await.unwrap();
    let token = ok["AccessToken"].as_str().unwrap().to_string();
    assert_eq!(ok["User"]["Name"], "lee");

    let as_member = Api {
        http: api.http.clone(),
        base: api.base.clone(),
        key: token,
    };
    let resp = as_member.get("/Library/MediaFolders").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let me = as_member
        .get(&format!("/Users/{}", ok["User"]["Id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn disabling_a_user_revokes_its_tokens_and_refuses_its_sign_in() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let user = api.create("max", "pw").await;
    let id = id_of(&user);
    let signed_in: Value = api.sign_in("max", "pw").await.json().await.unwrap();
    let as_member = Api {
        http: api.http.clone(),
        base: api.base.clone(),
        key: signed_in["AccessToken"].as_str().unwrap().into(),
    };
    assert_eq!(
        as_member
            .get(&format!("/Users/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let mut policy = user["Policy"].clone();
    policy["IsDisabled"] = json!(true);
    let resp = api
        .post(&format!("/Users/{id}/Policy"), policy)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        as_member
            .get(&format!("/Users/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.sign_in("max", "pw").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn quick_connect_lets_the_api_key_authorize_a_code_for_a_named_user() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    let id = id_of(&api.create("ned", "pw").await);
    let enabled: Value = api
        .get("/QuickConnect/Enabled")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(enabled, json!(true));
    let code = jf.quick_connect_initiate();
    let resp = api
        .auth(api.http.post(format!(
            "{}/QuickConnect/Authorize?code={code}&userId={id}",
            api.base
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!(true));
    assert_eq!(jf.quick_connect_authorized_user(&code), Some(id.clone()));

    let unknown = api
        .auth(api.http.post(format!(
            "{}/QuickConnect/Authorize?code=000000&userId={id}",
            api.base
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    jf.set_quick_connect_enabled(false);
    let off: Value = api
        .get("/QuickConnect/Enabled")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(off, json!(false));
}

#[tokio::test]
async fn every_request_is_recorded_and_a_failure_can_be_injected_on_a_path() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let api = Api::new(&jf);
    jf.control().fail_next("/users", 503);
    assert_eq!(
        api.get("/Users").send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        api.get("/Users").send().await.unwrap().status(),
        StatusCode::OK
    );
    let recorded = jf.control().requests_to("/Users");
    assert_eq!(recorded.len(), 2);
    assert!(
        recorded[0]
            .header("authorization")
            .unwrap()
            .contains("Token=")
    );
}
