//! The fake plex.tv and Plex Media Server answer as `shared/reference/plex-api.md` says the real
//! ones do.

use fakes::plex::{FakePlex, PlexAccount, PlexServer, demo};
use serde_json::{Value, json};

const CLIENT_ID: &str = "fake-test-client";

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

struct Call<'a> {
    method: reqwest::Method,
    url: String,
    token: Option<&'a str>,
    json: bool,
    client_id: bool,
    body: Option<Value>,
}

impl<'a> Call<'a> {
    fn new(method: reqwest::Method, url: String) -> Self {
        Call {
            method,
            url,
            token: Some(demo::OWNER_TOKEN),
            json: true,
            client_id: true,
            body: None,
        }
    }
    fn get(url: String) -> Self {
        Self::new(reqwest::Method::GET, url)
    }
    fn post(url: String, body: Value) -> Self {
        let mut c = Self::new(reqwest::Method::POST, url);
        c.body = Some(body);
        c
    }
    fn token(mut self, token: Option<&'a str>) -> Self {
        self.token = token;
        self
    }
    fn xml(mut self) -> Self {
        self.json = false;
        self
    }
    fn without_client_id(mut self) -> Self {
        self.client_id = false;
        self
    }
    async fn send(self) -> (u16, String, reqwest::header::HeaderMap) {
        let mut req = http().request(self.method, &self.url);
        if let Some(t) = self.token {
            req = req.header("X-Plex-Token", t);
        }
        if self.client_id {
            req = req.header("X-Plex-Client-Identifier", CLIENT_ID);
        }
        if self.json {
            req = req.header("Accept", "application/json");
        }
        if let Some(body) = self.body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let res = req.send().await.expect("fake answers");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, res.text().await.unwrap(), headers)
    }
}

async fn demo_fake() -> FakePlex {
    FakePlex::seeded_demo().await.expect("fake starts")
}

fn tv(fake: &FakePlex, path: &str) -> String {
    format!("{}{path}", fake.plex_tv_url())
}

fn shares_path() -> String {
    format!("/api/servers/{}/shared_servers", demo::SERVER_ID)
}

fn v1_invite(who: &str, ids: &[u64]) -> Value {
    json!({"server_id": demo::SERVER_ID,
           "shared_server": {"library_section_ids": ids, "invited_email": who},
           "sharing_settings": {"allowSync": "0", "allowCameraUpload": "0", "allowChannels": "0",
                                "filterMovies": "", "filterTelevision": "", "filterMusic": ""}})
}

fn v2_invite(who: &str, ids: &[u64]) -> Value {
    json!({"invitedEmail": who, "machineIdentifier": demo::SERVER_ID, "librarySectionIds": ids,
           "skipFriendship": true,
           "settings": {"allowChannels": true, "allowSubtitleAdmin": true, "allowSync": true,
                        "allowCameraUpload": false, "allowTuners": 0, "filterMovies": "",
                        "filterMusic": "", "filterTelevision": "", "filterPhotos": null,
                        "filterAll": null}})
}

const MOVIES: u64 = demo::LIBRARIES[0].0;
const MUSIC: u64 = demo::LIBRARIES[2].0;

#[tokio::test]
async fn v2_calls_without_a_client_identifier_get_the_documented_400() {
    let fake = demo_fake().await;
    let (status, body, _) = Call::get(tv(&fake, "/api/v2/user"))
        .without_client_id()
        .send()
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"errors":[{"code":1000,"message":"X-Plex-Client-Identifier is missing","status":400}]}"#
    );
}

#[tokio::test]
async fn a_bad_token_gets_the_documented_401_in_json_and_xml() {
    let fake = demo_fake().await;
    let (status, body, _) = Call::get(tv(&fake, "/api/v2/user"))
        .token(Some("nope"))
        .send()
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        r#"{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}"#
    );
    let (status, body, _) = Call::get(tv(&fake, "/api/v2/user"))
        .token(None)
        .xml()
        .send()
        .await;
    assert_eq!(status, 401);
    assert!(
        body.contains(
            r#"<errors><error code="1001" message="User could not be authenticated" status="401"/></errors>"#
        ),
        "{body}"
    );
}

#[tokio::test]
async fn the_account_answers_in_json_with_the_reference_fields() {
    let fake = demo_fake().await;
    let (status, body, _) = Call::get(tv(&fake, "/api/v2/user")).send().await;
    assert_eq!(status, 200);
    let user: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(user["id"], demo::OWNER_ID);
    assert_eq!(user["username"], demo::OWNER_USERNAME);
    assert_eq!(user["email"], demo::OWNER_EMAIL);
    assert_eq!(user["authToken"], demo::OWNER_TOKEN);
    for key in [
        "uuid",
        "title",
        "thumb",
        "subscription",
        "profile",
        "entitlements",
        "homeSize",
        "maxHomeSize",
    ] {
        assert!(!user[key].is_null(), "{key} missing from {body}");
    }
    assert!(user["subscription"]["features"].is_array());
}

#[tokio::test]
async fn the_account_in_xml_has_what_python_plexapi_requires() {
    let fake = demo_fake().await;
    let (status, body, headers) = Call::get(tv(&fake, "/api/v2/user")).xml().send().await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("application/xml")
    );
    assert!(body.contains("<user "), "{body}");
    assert!(body.contains(r#"scrobbleTypes="""#), "{body}");
    assert!(body.contains("<subscription "), "{body}");
    assert!(body.contains("<profile "), "{body}");
    assert!(body.contains("<feature id=\"home\"/>"), "{body}");
    assert!(body.contains("<entitlements"), "{body}");
    assert!(body.contains("<roles"), "{body}");
}

#[tokio::test]
async fn the_token_may_come_as_a_query_parameter() {
    let fake = demo_fake().await;
    let url = tv(
        &fake,
        &format!("/api/v2/user?X-Plex-Token={}", demo::OWNER_TOKEN),
    );
    let (status, body, _) = Call::get(url).token(None).send().await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn resources_list_the_owned_server_with_its_connections() {
    let fake = demo_fake().await;
    let (status, body, _) = Call::get(tv(
        &fake,
        "/api/v2/resources?includeHttps=1&includeRelay=1&includeIPv6=1",
    ))
    .send()
    .await;
    assert_eq!(status, 200);
    let list: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(list.len(), 1);
    let server = &list[0];
    assert_eq!(server["name"], demo::SERVER_NAME);
    assert_eq!(server["clientIdentifier"], demo::SERVER_ID);
    assert_eq!(server["provides"], "server");
    assert_eq!(server["owned"], true);
    assert_eq!(server["accessToken"], demo::OWNER_TOKEN);
    assert_eq!(server["product"], "Plex Media Server");
    assert_eq!(
        server["connections"][0]["uri"],
        fake.server_url(demo::SERVER_ID)
    );

    let (_, xml, _) = Call::get(tv(&fake, "/api/v2/resources")).xml().send().await;
    assert!(
        xml.contains("<resource ") && xml.contains("<connections") && xml.contains("<connection "),
        "{xml}"
    );
}

#[tokio::test]
async fn the_server_identity_needs_no_token_but_everything_else_does() {
    let fake = demo_fake().await;
    let pms = fake.server_url(demo::SERVER_ID);
    let (status, body, _) = Call::get(format!("{pms}/identity"))
        .token(None)
        .xml()
        .send()
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("<MediaContainer "), "{body}");
    assert!(
        body.contains(&format!(r#"machineIdentifier="{}""#, demo::SERVER_ID)),
        "{body}"
    );
    assert!(body.contains(r#"claimed="1""#), "{body}");

    let (status, _, _) = Call::get(format!("{pms}/")).token(None).send().await;
    assert_eq!(status, 401);
    let (status, body, _) = Call::get(format!("{pms}/")).xml().send().await;
    assert_eq!(status, 200);
    assert!(
        body.contains(&format!(r#"friendlyName="{}""#, demo::SERVER_NAME)),
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"myPlexUsername="{}""#, demo::OWNER_USERNAME)),
        "{body}"
    );
}

#[tokio::test]
async fn library_sections_come_as_xml_or_json_with_local_keys() {
    let fake = demo_fake().await;
    let pms = fake.server_url(demo::SERVER_ID);
    let (_, xml, _) = Call::get(format!("{pms}/library/sections"))
        .xml()
        .send()
        .await;
    assert!(
        xml.contains(r#"<Directory "#) && xml.contains(r#"key="1""#),
        "{xml}"
    );
    assert!(xml.contains(r#"title="Movies""#) && xml.contains(r#"type="movie""#));
    assert!(xml.contains("<Location "), "{xml}");

    let (_, json, _) = Call::get(format!("{pms}/library/sections")).send().await;
    let v: Value = serde_json::from_str(&json).unwrap();
    let dirs = v["MediaContainer"]["Directory"].as_array().unwrap();
    assert_eq!(v["MediaContainer"]["size"], 3);
    let keys: Vec<&str> = dirs.iter().map(|d| d["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["1", "2", "3"]);
}

#[tokio::test]
async fn both_generations_list_global_section_ids_that_differ_from_local_keys() {
    let fake = demo_fake().await;
    let (status, v1, _) = Call::get(tv(&fake, &format!("/api/servers/{}", demo::SERVER_ID)))
        .send()
        .await;
    assert_eq!(status, 200);
    assert!(v1.contains(r#"identifier="com.plexapp.plugins.myplex""#));
    assert!(
        v1.contains(&format!(
            r#"<Section id="{MOVIES}" key="1" type="movie" title="Movies"/>"#
        )),
        "{v1}"
    );

    let (status, v2, _) = Call::get(tv(&fake, &format!("/api/v2/servers/{}", demo::SERVER_ID)))
        .send()
        .await;
    assert_eq!(status, 200);
    let v2: Value = serde_json::from_str(&v2).unwrap();
    assert_eq!(v2["machineIdentifier"], demo::SERVER_ID);
    assert_eq!(v2["owned"], true);
    for section in v2["librarySections"].as_array().unwrap() {
        assert_ne!(section["id"], section["key"]);
    }
    assert_eq!(
        v2["librarySections"][0],
        json!({"id": MOVIES, "key": 1, "title": "Movies", "type": "movie"})
    );
}

#[tokio::test]
async fn sections_can_be_listed_partially_for_a_while() {
    let fake = demo_fake().await;
    fake.set_partial_sections(demo::SERVER_ID, 1);
    let url = tv(&fake, &format!("/api/v2/servers/{}", demo::SERVER_ID));
    let (_, first, _) = Call::get(url.clone()).send().await;
    let (_, second, _) = Call::get(url).send().await;
    let count = |b: &str| {
        serde_json::from_str::<Value>(b).unwrap()["librarySections"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&first), 2);
    assert_eq!(count(&second), 3);
}

#[tokio::test]
async fn removed_endpoints_answer_410_with_the_documented_body() {
    let fake = demo_fake().await;
    for path in [
        "/api/friends/1111",
        "/api/invites/requested",
        "/api/invites/requests",
    ] {
        let (status, body, _) = Call::get(tv(&fake, path)).send().await;
        assert_eq!(status, 410, "{path}");
        assert!(
            body.contains(
                r#"<Response code="410" status="This endpoint was deprecated and removed"/>"#
            ),
            "{body}"
        );
    }
    fake.set_v2_friends_removed(true);
    let (status, _, _) = Call::get(tv(&fake, "/api/v2/friends")).send().await;
    assert_eq!(status, 410);
}

#[tokio::test]
async fn a_python_plexapi_style_v1_invite_body_is_accepted() {
    let owner = PlexAccount::new(1, "owner", "owner@example.com", "owner-token");
    let fake = FakePlex::builder(owner)
        .server(
            PlexServer::new("abc123", "home")
                .library(123, 2, "Movies", "movie")
                .library(456, 3, "Music", "artist"),
        )
        .account(PlexAccount::new(
            1234,
            "bob-guest",
            "bob@example.com",
            "bob-token",
        ))
        .start()
        .await
        .unwrap();
    // The body exactly as section 5a of the reference shows it.
    let body = json!({"server_id":"abc123",
        "shared_server":{"library_section_ids":[123,456],"invited_email":"bob@example.com"},
        "sharing_settings":{"allowSync":"0","allowCameraUpload":"0","allowChannels":"0",
          "filterMovies":"","filterTelevision":"","filterMusic":""}});
    let (status, xml, _) = Call::post(tv(&fake, "/api/servers/abc123/shared_servers"), body)
        .token(Some("owner-token"))
        .xml()
        .send()
        .await;
    assert!(status == 200 || status == 201, "{status} {xml}");
    assert!(xml.contains("<SharedServer "), "{xml}");
    assert!(xml.contains(r#"username="bob-guest""#), "{xml}");
    assert!(xml.contains(r#"userID="1234""#), "{xml}");
    assert!(
        xml.contains(r#"<Section id="123" key="2" title="Movies" type="movie" shared="1"/>"#),
        "{xml}"
    );
    let shares = fake.shares_of("abc123");
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].section_ids, [123, 456]);
    assert_eq!(shares[0].user_id, Some(1234));
    assert!(!shares[0].accepted);
}

#[tokio::test]
async fn sharing_twice_answers_already_sharing_exactly_as_plex_tv_does() {
    let fake = demo_fake().await;
    let url = tv(&fake, &shares_path());
    let (status, _, _) = Call::post(url.clone(), v1_invite("bob", &[MOVIES]))
        .send()
        .await;
    assert_eq!(status, 200);
    let (status, body, _) = Call::post(url, v1_invite("bob@example.com", &[MUSIC]))
        .send()
        .await;
    assert_eq!(status, 400);
    assert!(
        body.contains(r#"<Response code="400" status="You're already sharing this server with bob. Please edit your existing share."/>"#),
        "{body}"
    );

    let (status, body, _) = Call::post(
        tv(&fake, "/api/v2/shared_servers"),
        v2_invite("bob", &[MOVIES]),
    )
    .send()
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("already sharing"), "{body}");
    assert_eq!(fake.shares_of(demo::SERVER_ID).len(), 1);
}

#[tokio::test]
async fn a_share_with_local_keys_is_refused() {
    let fake = demo_fake().await;
    let (status, body, _) = Call::post(tv(&fake, &shares_path()), v1_invite("alice", &[1, 2]))
        .send()
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("Invalid library section ids: 1, 2"), "{body}");
    let (status, _, _) = Call::post(
        tv(&fake, "/api/v2/shared_servers"),
        v2_invite("alice", &[3]),
    )
    .send()
    .await;
    assert_eq!(status, 400);
    assert!(fake.shares_of(demo::SERVER_ID).is_empty());
}

#[tokio::test]
async fn the_share_limit_refuses_the_next_new_user_but_not_existing_ones() {
    let fake = demo_fake().await;
    for n in 0..100 {
        fake.add_share(
            demo::SERVER_ID,
            &format!("friend{n}@example.com"),
            &[MOVIES],
            true,
        );
    }
    let (status, body, _) = Call::post(tv(&fake, &shares_path()), v1_invite("alice", &[MOVIES]))
        .send()
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("limit of 100 users"), "{body}");
    let (status, body, _) = Call::post(
        tv(&fake, "/api/v2/shared_servers"),
        v2_invite("alice", &[MOVIES]),
    )
    .send()
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("limit"), "{body}");
    // Someone already counted is not a new user: they get the already-sharing answer instead.
    let (status, body, _) = Call::post(
        tv(&fake, &shares_path()),
        v1_invite("friend7@example.com", &[MOVIES]),
    )
    .send()
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("already sharing"), "{body}");
}

#[tokio::test]
async fn hammering_plex_tv_gets_429_with_code_1003_and_retry_after() {
    let fake = FakePlex::demo_builder()
        .rate_limit(3)
        .start()
        .await
        .unwrap();
    let mut limited = None;
    for _ in 0..20 {
        let (status, body, headers) = Call::get(tv(&fake, "/api/v2/user")).send().await;
        if status == 429 {
            limited = Some((body, headers));
            break;
        }
    }
    let (body, headers) = limited.expect("the fourth call in a second is refused");
    assert_eq!(
        body,
        r#"{"errors":[{"code":1003,"message":"API rate limit exceeded","status":429}]}"#
    );
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(retry, 1);
    // Another token has its own budget.
    let (status, _, _) = Call::get(tv(&fake, "/api/v2/user"))
        .token(Some(demo::FRIENDS[0].3))
        .send()
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_v2_share_answers_201_in_the_reference_shape_and_is_pending_until_accepted() {
    let fake = demo_fake().await;
    let (status, body, _) = Call::post(
        tv(&fake, "/api/v2/shared_servers"),
        v2_invite("alice@example.com", &[MOVIES, MUSIC]),
    )
    .send()
    .await;
    assert_eq!(status, 201, "{body}");
    let share: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(share["machineIdentifier"], demo::SERVER_ID);
    assert_eq!(share["invitedId"], demo::FRIENDS[0].0);
    assert_eq!(share["accepted"], false);
    assert_eq!(share["numLibraries"], 2);
    assert_eq!(share["invited"]["username"], "alice");
    assert_eq!(share["invited"]["status"], "pending");
    assert_eq!(share["sharingSettings"]["allowSync"], true);
    assert_eq!(share["libraries"][0]["id"], MOVIES);
    // skipFriendship: no friend request.
    assert!(fake.friends_of(demo::OWNER_ID).is_empty());

    let list = |fake: &FakePlex, which: &str| {
        let url = tv(fake, &format!("/api/v2/shared_servers/owned/{which}"));
        async move {
            let (_, body, _) = Call::get(url).send().await;
            serde_json::from_str::<Vec<Value>>(&body).unwrap()
        }
    };
    assert_eq!(list(&fake, "pending").await.len(), 1);
    assert!(list(&fake, "accepted").await.is_empty());

    assert_eq!(fake.accept_invites("alice"), 1);
    assert_eq!(list(&fake, "accepted").await[0]["id"], share["id"]);
    // Now alice sees the server, but not as hers.
    let (_, body, _) = Call::get(tv(&fake, "/api/v2/resources"))
        .token(Some(demo::FRIENDS[0].3))
        .send()
        .await;
    let resources: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(resources[0]["owned"], false);
    assert_ne!(resources[0]["accessToken"], demo::OWNER_TOKEN);
}

#[tokio::test]
async fn an_email_without_an_account_becomes_a_pending_invite_whose_id_is_the_email() {
    let fake = demo_fake().await;
    let (status, _, _) = Call::post(
        tv(&fake, &shares_path()),
        v1_invite("newcomer@example.com", &[MOVIES]),
    )
    .send()
    .await;
    assert_eq!(status, 200);
    let (_, body, _) = Call::get(tv(&fake, "/api/v2/shared_servers/owned/pending"))
        .send()
        .await;
    let pending: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(pending[0]["invited"]["id"], "newcomer@example.com");
    assert_eq!(pending[0]["invitedId"], Value::Null);

    let (status, _, _) = Call::post(
        tv(&fake, &shares_path()),
        v1_invite("nobody-here", &[MOVIES]),
    )
    .send()
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn label_filters_need_plex_pass_on_the_owner() {
    let owner = PlexAccount::new(1, "owner", "owner@example.com", "owner-token");
    let fake = FakePlex::builder(owner)
        .server(PlexServer::new("m1", "S").library(700, 1, "Movies", "movie"))
        .account(PlexAccount::new(2, "amy", "amy@example.com", "amy-token"))
        .start()
        .await
        .unwrap();
    let mut body = json!({"server_id":"m1",
        "shared_server":{"library_section_ids":[700],"invited_email":"amy"},
        "sharing_settings":{"filterMovies":"label!=scary"}});
    let (status, answer, _) = Call::post(tv(&fake, "/api/servers/m1/shared_servers"), body.clone())
        .token(Some("owner-token"))
        .send()
        .await;
    assert_eq!(status, 400);
    assert!(answer.contains("Plex Pass"), "{answer}");
    body["sharing_settings"]["filterMovies"] = json!("contentRating=G%2CPG");
    let (status, _, _) = Call::post(tv(&fake, "/api/servers/m1/shared_servers"), body)
        .token(Some("owner-token"))
        .send()
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        fake.shares_of("m1")[0].filter_movies,
        "contentRating=G%2CPG"
    );
}

#[tokio::test]
async fn shares_are_updated_and_removed_through_either_generation() {
    let fake = demo_fake().await;
    let id = fake.add_share(demo::SERVER_ID, "alice", &[MOVIES], true);
    let put = |url: String, body: Option<Value>| {
        let mut c = Call::new(reqwest::Method::PUT, url);
        c.body = body;
        c.send()
    };
    let (status, _, _) = put(
        tv(&fake, &format!("{}/{id}", shares_path())),
        Some(json!({"server_id": demo::SERVER_ID, "shared_server": {"library_section_ids": [MUSIC]}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(fake.shares_of(demo::SERVER_ID)[0].section_ids, [MUSIC]);

    let (status, _, _) = put(
        tv(
            &fake,
            &format!(
                "/api/v2/sharings/{}?allowSync=1&filterMovies=contentRating%3DG",
                demo::FRIENDS[0].0
            ),
        ),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let share = &fake.shares_of(demo::SERVER_ID)[0];
    assert!(share.allow_sync);
    assert_eq!(share.filter_movies, "contentRating=G");

    let (status, _, _) = Call::post(
        tv(&fake, &format!("/api/v2/shared_servers/{id}")),
        json!({"settings": {"allowTuners": 2}, "librarySectionIds": [MOVIES, MUSIC]}),
    )
    .send()
    .await;
    assert_eq!(status, 200);
    let share = &fake.shares_of(demo::SERVER_ID)[0];
    assert_eq!(share.allow_tuners, 2);
    assert!(share.allow_sync, "settings not sent are kept");
    assert_eq!(share.section_ids, [MOVIES, MUSIC]);

    let delete = |path: String| Call::new(reqwest::Method::DELETE, path).send();
    let (status, _, _) = delete(tv(&fake, &format!("{}/{id}", shares_path()))).await;
    assert_eq!(status, 200);
    let (status, _, _) = delete(tv(&fake, &format!("{}/{id}", shares_path()))).await;
    assert_eq!(status, 404);

    fake.add_share(demo::SERVER_ID, "bob", &[MOVIES], false);
    let (status, _, _) = delete(tv(
        &fake,
        &format!("/api/v2/sharings/{}", demo::FRIENDS[1].0),
    ))
    .await;
    assert_eq!(status, 204);
    assert!(fake.shares_of(demo::SERVER_ID).is_empty());
}

#[tokio::test]
async fn v1_users_list_friends_with_their_shared_server_ids() {
    let fake = demo_fake().await;
    let id = fake.add_share(demo::SERVER_ID, "carol", &[MOVIES], true);
    let (status, xml, _) = Call::get(tv(&fake, "/api/users/")).send().await;
    assert_eq!(status, 200);
    assert!(xml.contains(r#"username="carol""#), "{xml}");
    assert!(
        xml.contains(&format!(r#"<Server id="{id}""#))
            && xml.contains(&format!(r#"machineIdentifier="{}""#, demo::SERVER_ID)),
        "{xml}"
    );
    assert!(xml.contains(r#"pending="0""#), "{xml}");
}

#[tokio::test]
async fn friends_can_be_invited_listed_and_removed_on_v2() {
    let fake = demo_fake().await;
    let (status, body, _) = Call::post(
        tv(&fake, "/api/v2/friends/invite?identifier=bob"),
        json!({}),
    )
    .send()
    .await;
    assert_eq!(status, 201);
    let friend: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        friend,
        json!({"id": demo::FRIENDS[1].0, "uuid": friend["uuid"], "title": "bob",
                              "username": "bob", "home": false, "status": "pending"})
    );
    let (_, body, _) = Call::get(tv(
        &fake,
        "/api/v2/friends?includeSharedServers=true&includeSharingSettings=true",
    ))
    .send()
    .await;
    let list: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["email"], "bob@example.com");
    let (status, _, _) = Call::new(
        reqwest::Method::DELETE,
        tv(&fake, &format!("/api/v2/friends/{}", demo::FRIENDS[1].0)),
    )
    .send()
    .await;
    assert_eq!(status, 204);
    assert!(fake.friends_of(demo::OWNER_ID).is_empty());
}

#[tokio::test]
async fn managed_home_users_are_made_listed_and_removed() {
    let fake = demo_fake().await;
    let (status, body, _) = Call::post(tv(&fake, "/api/home/users?title=Kids"), json!({}))
        .send()
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body.contains(r#"title="Kids""#) && body.contains(r#"restricted="1""#));
    let home = fake.home_users(demo::OWNER_ID);
    assert_eq!(home.len(), 1);
    assert!(home[0].managed);
    let (_, list, _) = Call::get(tv(&fake, "/api/home/users")).send().await;
    assert!(list.contains(r#"admin="1""#), "the owner is listed: {list}");
    assert!(list.contains(r#"username="" email="""#), "{list}");

    let (status, _, _) = Call::new(
        reqwest::Method::DELETE,
        tv(&fake, &format!("/api/home/users/{}", home[0].id)),
    )
    .send()
    .await;
    assert_eq!(status, 204);
    assert!(fake.home_users(demo::OWNER_ID).is_empty());
}

#[tokio::test]
async fn adding_an_existing_account_to_home_needs_plex_pass() {
    let owner = PlexAccount::new(1, "owner", "owner@example.com", "owner-token");
    let fake = FakePlex::builder(owner)
        .account(PlexAccount::new(2, "amy", "amy@example.com", "amy-token"))
        .start()
        .await
        .unwrap();
    let (status, body, _) = Call::post(
        tv(&fake, "/api/home/users?invitedEmail=amy%40example.com"),
        json!({}),
    )
    .token(Some("owner-token"))
    .send()
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("Plex Pass"), "{body}");
}

#[tokio::test]
async fn pins_are_strong_and_give_a_token_once_approved() {
    let fake = demo_fake().await;
    let (status, body, _) = Call::post(tv(&fake, "/api/v2/pins?strong=true"), json!({}))
        .token(None)
        .send()
        .await;
    assert_eq!(status, 201);
    let pin: Value = serde_json::from_str(&body).unwrap();
    let id = pin["id"].as_u64().unwrap();
    assert_eq!(pin["code"].as_str().unwrap().len(), 25);
    assert_eq!(pin["clientIdentifier"], CLIENT_ID);
    assert_eq!(pin["expiresIn"], 900);
    assert_eq!(pin["authToken"], Value::Null);
    assert!(pin["expiresAt"].as_str().unwrap().ends_with('Z'));

    let check = || {
        Call::get(tv(&fake, &format!("/api/v2/pins/{id}")))
            .token(None)
            .send()
    };
    let (_, body, _) = check().await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["authToken"],
        Value::Null
    );
    assert!(fake.approve_pin(id, "alice@example.com"));
    let (_, body, _) = check().await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["authToken"],
        demo::FRIENDS[0].3
    );

    // Another installation cannot read this PIN.
    let (status, _, _) = http()
        .get(tv(&fake, &format!("/api/v2/pins/{id}")))
        .header("X-Plex-Client-Identifier", "someone-else")
        .send()
        .await
        .map(|r| (r.status().as_u16(), (), ()))
        .unwrap();
    assert_eq!(status, 404);

    fake.expire_pin(id);
    let (status, _, _) = check().await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_app_sign_in_page_approves_a_pin_for_the_demo() {
    let fake = demo_fake().await;
    let (_, body, _) = Call::post(tv(&fake, "/api/v2/pins?strong=true"), json!({}))
        .token(None)
        .send()
        .await;
    let pin: Value = serde_json::from_str(&body).unwrap();
    let page = http()
        .get(format!("{}/auth", fake.app_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sign in as alice"), "{page}");
    let status = http()
        .post(format!(
            "{}/__fake/approve?code={}&account=bob",
            fake.app_url(),
            pin["code"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
    assert!(fake.pin(pin["id"].as_u64().unwrap()).unwrap().approved);
}

#[tokio::test]
async fn requests_are_recorded_and_failures_can_be_injected() {
    let fake = demo_fake().await;
    fake.control().fail_next("/api/v2/user", 503);
    let (status, _, _) = Call::get(tv(&fake, "/api/v2/user")).send().await;
    assert_eq!(status, 503);
    let (status, _, _) = Call::get(tv(&fake, "/api/v2/user")).send().await;
    assert_eq!(status, 200);
    let recorded = fake.control().requests_to("/api/v2/user");
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].header("x-plex-token"), Some(demo::OWNER_TOKEN));
}

#[tokio::test]
async fn every_seeded_server_has_its_own_listener() {
    let fake = FakePlex::demo_builder()
        .server(PlexServer::new("second", "Cabin Plex").library(990_001, 1, "Movies", "movie"))
        .start()
        .await
        .unwrap();
    assert_ne!(fake.server_url("second"), fake.server_url(demo::SERVER_ID));
    let (_, body, _) = Call::get(format!("{}/identity", fake.server_url("second")))
        .token(None)
        .xml()
        .send()
        .await;
    assert!(body.contains(r#"machineIdentifier="second""#), "{body}");
}
