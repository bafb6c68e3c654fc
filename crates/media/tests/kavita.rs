//! The Kavita client against its fake: the invite-and-confirm account, roles, the age rating,
//! rollback, both ways of authenticating, and the quirks of the contract.

use fakes::kavita::{FakeKavita, INSTALL_ID, LEGACY_VERSION, VERSION};
use media::kavita::KavitaClient;
use media::{AccountStatus, GrantSpec, Identity, MediaError, Permissions, ServerKind};
use serde_json::Value;

fn client(fake: &FakeKavita) -> KavitaClient {
    KavitaClient::new(&fake.url(), &fake.api_key()).unwrap()
}

fn reader(name: &str, email: &str, libraries: &[String], downloads: bool) -> GrantSpec {
    GrantSpec {
        identity: Identity::Account {
            username: name.into(),
            password: "a long password".into(),
            email: Some(email.into()),
        },
        libraries: libraries.to_vec(),
        permissions: Permissions {
            allow_downloads: downloads,
            ..Permissions::default()
        },
    }
}

fn body_of(fake: &FakeKavita, path: &str) -> Value {
    let sent = fake.control().requests_to(path);
    serde_json::from_str(&sent.last().expect("a call was made").body).unwrap()
}

#[tokio::test]
async fn probe_reads_the_version_and_install_and_wants_an_administrators_key() {
    let fake = FakeKavita::start().await;
    let info = client(&fake).probe().await.unwrap();
    assert_eq!(info.kind, ServerKind::Kavita);
    assert_eq!(
        (info.version.as_str(), info.id.as_str()),
        (VERSION, INSTALL_ID)
    );
    assert_eq!(
        fake.control().requests()[0].header("x-api-key"),
        Some(fake.api_key().as_str())
    );

    let wrong = KavitaClient::new(&fake.url(), "nope").unwrap();
    assert_eq!(wrong.probe().await.unwrap_err(), MediaError::Unauthorized);

    fake.add_user("reader", "reader@example.com", "secret1");
    let members_key = fake.auth_key_for("reader");
    let member = KavitaClient::new(&fake.url(), &members_key).unwrap();
    assert_eq!(member.probe().await.unwrap_err(), MediaError::NotOwner);
}

#[tokio::test]
async fn an_older_kavita_gets_the_key_traded_for_a_session_once() {
    let fake = FakeKavita::start_legacy().await;
    let kavita = client(&fake);
    assert_eq!(kavita.probe().await.unwrap().version, LEGACY_VERSION);
    let manga = fake.library_id("Manga");
    kavita
        .grant(&reader(
            "mei",
            "mei@example.com",
            std::slice::from_ref(&manga),
            false,
        ))
        .await
        .unwrap();
    assert!(fake.signs_in("mei", "a long password"));
    let trades = fake.control().requests_to("/api/Plugin/authenticate");
    assert_eq!(trades.len(), 1, "one session for the whole client");
    assert!(trades[0].query.contains("pluginName=usher"));
    let bearer = fake
        .control()
        .requests_to("/api/Account/invite")
        .pop()
        .unwrap();
    assert!(
        bearer
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
}

#[tokio::test]
async fn a_grant_invites_and_confirms_with_login_no_age_limit_and_exactly_the_chosen_libraries() {
    let fake = FakeKavita::start().await;
    let (manga, comics) = (fake.library_id("Manga"), fake.library_id("Comics"));
    let out = client(&fake)
        .grant(&reader(
            "ana.reads",
            "ana@example.com",
            std::slice::from_ref(&comics),
            false,
        ))
        .await
        .unwrap();
    let user = fake.user("ana.reads").unwrap();
    assert_eq!(out.remote_id, user.id.to_string());
    assert_eq!(out.username, "ana.reads");
    assert!(!user.pending && user.email == "ana@example.com");
    assert_eq!(user.libraries, vec![comics.parse::<i64>().unwrap()]);
    assert!(!user.libraries.contains(&manga.parse::<i64>().unwrap()));
    assert!(user.has_role("Login") && !user.has_role("Download") && !user.has_role("Admin"));
    assert!(
        user.sees_series_rated(14) && user.sees_series_rated(0),
        "no age restriction: rated and unrated series show"
    );
    assert!(fake.signs_in("ANA.reads", "a long password"));

    let invite = body_of(&fake, "/api/Account/invite");
    assert_eq!(invite["ageRestriction"]["ageRating"], -1);
    assert_eq!(invite["libraries"], serde_json::json!([2]));
    let roles: Vec<&str> = invite["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(roles.contains(&"Login") && !roles.contains(&"Pleb"));
    // The token came URL-encoded in the link and went back decoded.
    let confirm = body_of(&fake, "/api/Account/confirm-email");
    assert!(confirm["token"].as_str().unwrap().contains('+'));
}

#[tokio::test]
async fn downloads_are_the_download_role() {
    let fake = FakeKavita::start().await;
    let kavita = client(&fake);
    let out = kavita
        .grant(&reader("dl", "dl@example.com", &[], true))
        .await
        .unwrap();
    assert!(fake.user("dl").unwrap().has_role("Download"));
    kavita
        .update_access(&out.remote_id, &[], &Permissions::default())
        .await
        .unwrap();
    let user = fake.user("dl").unwrap();
    assert!(!user.has_role("Download") && user.has_role("Login"));
}

#[tokio::test]
async fn a_taken_name_or_email_is_refused_before_anything_is_made() {
    let fake = FakeKavita::start().await;
    fake.add_user("Bo", "bo@example.com", "secret1");
    let kavita = client(&fake);
    let err = kavita
        .grant(&reader("bo", "other@example.com", &[], false))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MediaError::AlreadyExists(m) if m.contains("name is taken")),
        "{err}"
    );
    let err = kavita
        .grant(&reader("bobby", "BO@example.com", &[], false))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MediaError::AlreadyExists(m) if m.contains("email")),
        "{err}"
    );
    assert!(fake.control().requests_to("/api/Account/invite").is_empty());
    assert_eq!(fake.users().len(), 2);
}

#[tokio::test]
async fn names_kavita_would_refuse_halfway_are_refused_first() {
    let fake = FakeKavita::start().await;
    let kavita = client(&fake);
    for name in ["Ana Lee", "Élodie"] {
        let err = kavita
            .grant(&reader(name, "x@example.com", &[], false))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, MediaError::Invalid(m) if m.contains("ASCII")),
            "{err}"
        );
    }
    let no_email = GrantSpec {
        identity: Identity::Account {
            username: "ana".into(),
            password: "a long password".into(),
            email: None,
        },
        libraries: vec![],
        permissions: Permissions::default(),
    };
    let err = kavita.grant(&no_email).await.unwrap_err();
    assert!(
        matches!(&err, MediaError::Invalid(m) if m.contains("email")),
        "{err}"
    );
    assert!(fake.control().requests_to("/api/Account/invite").is_empty());
}

#[tokio::test]
async fn a_failed_confirmation_deletes_the_pending_account() {
    let fake = FakeKavita::start().await;
    fake.control()
        .fail_next("POST /api/Account/confirm-email", 500);
    let err = client(&fake)
        .grant(&reader("cy", "cy@example.com", &[], false))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("removed again"), "{err}");
    assert_eq!(fake.users().len(), 1, "only the administrator is left");
}

#[tokio::test]
async fn a_lost_invite_answer_leaves_no_pending_account_behind() {
    let fake = FakeKavita::start().await;
    fake.control()
        .lose_next_answer("POST /api/Account/invite", 200);
    let err = client(&fake)
        .grant(&reader("di", "di@example.com", &[], false))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("removed again"), "{err}");
    assert_eq!(fake.users().len(), 1);
}

#[tokio::test]
async fn a_role_refused_halfway_through_the_invite_is_undone() {
    let fake = FakeKavita::start().await;
    // An invite whose roles Kavita refuses after saving the pending account (as a repeated
    // role does) is cleaned up like any other failure.
    fake.control()
        .lose_next_answer("POST /api/Account/invite", 400);
    let err = client(&fake)
        .grant(&reader("el", "el@example.com", &[], false))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Invalid(_)), "{err}");
    assert_eq!(fake.users().len(), 1);
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_finishes_the_account_instead_of_refusing_it() {
    // The confirmation worked but its answer was lost: the retry signs in and finishes.
    let fake = FakeKavita::start().await;
    let comics = fake.library_id("Comics");
    let spec = reader(
        "eve",
        "eve@example.com",
        std::slice::from_ref(&comics),
        false,
    );
    fake.control()
        .lose_next_answer("POST /api/Account/confirm-email", 504);
    fake.control()
        .fail_next("DELETE /api/Users/delete-user", 500);
    let kavita = client(&fake);
    assert!(kavita.grant(&spec).await.is_err());
    let again = kavita.grant_again(&spec).await.unwrap();
    assert_eq!(again.remote_id, fake.user("eve").unwrap().id.to_string());

    // The invite worked but nothing after it ran, not even the clean-up: the retry confirms
    // the open invite.
    let fake = FakeKavita::start().await;
    let spec = reader("fay", "fay@example.com", &[], true);
    fake.control()
        .lose_next_answer("POST /api/Account/invite", 504);
    fake.control()
        .fail_next("DELETE /api/Users/delete-user", 500);
    let kavita = client(&fake);
    assert!(kavita.grant(&spec).await.is_err());
    assert!(fake.user("fay@example.com").is_some_and(|u| u.pending));
    let again = kavita.grant_again(&spec).await.unwrap();
    let user = fake.user("fay").unwrap();
    assert_eq!(again.remote_id, user.id.to_string());
    assert!(!user.pending && user.has_role("Download"));
    assert!(fake.signs_in("fay", "a long password"));

    // Someone else's account with that name is never taken over.
    let fake = FakeKavita::start().await;
    fake.add_user("gus", "gus@example.com", "their own password");
    let err = client(&fake)
        .grant_again(&reader("gus", "new@example.com", &[], false))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)), "{err}");
}

#[tokio::test]
async fn an_update_replaces_libraries_and_keeps_the_owners_own_settings() {
    let fake = FakeKavita::start().await;
    let (manga, comics) = (fake.library_id("Manga"), fake.library_id("Comics"));
    let kavita = client(&fake);
    let out = kavita
        .grant(&reader(
            "hal",
            "hal@example.com",
            std::slice::from_ref(&manga),
            false,
        ))
        .await
        .unwrap();
    fake.edit("hal", |u| {
        u.age_rating = 9;
        u.roles.push("Promote".into());
    });
    kavita
        .update_access(
            &out.remote_id,
            std::slice::from_ref(&comics),
            &Permissions::default(),
        )
        .await
        .unwrap();
    let user = fake.user("hal").unwrap();
    assert_eq!(user.libraries, vec![comics.parse::<i64>().unwrap()]);
    assert_eq!(user.age_rating, 9, "the owner's age limit stays");
    assert!(user.has_role("Promote") && user.has_role("Login"));
    let sent = body_of(&fake, "/api/Account/update");
    assert!(
        !sent["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "Pleb"),
        "Pleb is never sent"
    );
}

#[tokio::test]
async fn remove_deletes_by_name_and_is_idempotent_and_administrators_are_left_alone() {
    let fake = FakeKavita::start().await;
    let kavita = client(&fake);
    let out = kavita
        .grant(&reader("ivy", "ivy@example.com", &[], false))
        .await
        .unwrap();
    let session = fake.session_for("ivy").unwrap();
    kavita.remove(&out.remote_id).await.unwrap();
    assert!(fake.user("ivy").is_none());
    let deleted = fake
        .control()
        .requests_to("/api/Users/delete-user")
        .pop()
        .unwrap();
    assert!(deleted.query.contains("username=ivy"), "{}", deleted.query);
    kavita.remove(&out.remote_id).await.unwrap();
    // A deleted account's sessions end with it.
    let reply = reqwest_get(&fake, &session).await;
    assert_eq!(reply, 401);

    let err = kavita.remove("1").await.unwrap_err();
    assert!(
        matches!(&err, MediaError::Invalid(m) if m.contains("administrator")),
        "{err}"
    );
    assert!(fake.user("admin").is_some());
}

async fn reqwest_get(fake: &FakeKavita, session: &str) -> u16 {
    media::http::install_crypto();
    reqwest::Client::new()
        .get(format!("{}/api/Library/libraries", fake.url()))
        .bearer_auth(session)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn accounts_tell_pending_disabled_and_libraries_though_the_list_gives_ids_as_zero() {
    let fake = FakeKavita::start().await;
    let comics = fake.library_id("Comics");
    let kavita = client(&fake);
    kavita
        .grant(&reader(
            "jo",
            "jo@example.com",
            std::slice::from_ref(&comics),
            false,
        ))
        .await
        .unwrap();
    fake.add_user("kim", "kim@example.com", "secret1");
    fake.edit("kim", |u| u.roles.retain(|r| r != "Login"));
    fake.control()
        .lose_next_answer("POST /api/Account/invite", 504);
    fake.control()
        .fail_next("DELETE /api/Users/delete-user", 500);
    let _ = kavita
        .grant(&reader("lu", "lu@example.com", &[], false))
        .await;

    let accounts = kavita.accounts().await.unwrap();
    let by = |name: &str| accounts.iter().find(|a| a.username == name).unwrap();
    assert_eq!(by("jo").libraries, vec![comics]);
    assert_eq!(by("jo").status, AccountStatus::Active);
    assert_eq!(by("kim").status, AccountStatus::Disabled);
    assert!(by("admin").is_admin);
    assert_eq!(by("lu@example.com").status, AccountStatus::Pending);
    assert_eq!(accounts.len(), 4);
}

#[tokio::test]
async fn a_password_is_set_by_the_exact_name_kavita_has() {
    let fake = FakeKavita::start().await;
    let kavita = client(&fake);
    let out = kavita
        .grant(&reader("Max.R", "max@example.com", &[], false))
        .await
        .unwrap();
    kavita
        .set_password(&out.remote_id, "another password")
        .await
        .unwrap();
    assert!(fake.signs_in("max.r", "another password"));
    assert!(!fake.signs_in("max.r", "a long password"));
    let err = kavita
        .set_password(&out.remote_id, "short")
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Invalid(_)), "{err}");
}

#[tokio::test]
async fn pausing_is_refused_because_signed_in_apps_would_keep_reading() {
    let fake = FakeKavita::start().await;
    let kavita = media::MediaClient::new(
        ServerKind::Kavita,
        &fake.url(),
        &fake.api_key(),
        &media::ClientInfo::new("test"),
        &media::plex::PlexEndpoints::default(),
    )
    .unwrap();
    assert!(!kavita.can_disable());
    let err = kavita.set_disabled("2", true).await.unwrap_err();
    assert!(matches!(err, MediaError::Unsupported(_)), "{err}");
    assert!(fake.control().requests().is_empty());
}
