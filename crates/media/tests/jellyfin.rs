//! The Jellyfin/Emby client against the fakes: every operation and every quirk of the contract.

use fakes::jellyfin::{ADMIN_NAME, FakeJellyfin, FakeKind, SeedUser};
use media::jellyfin::{JellyfinClient, validate_password, validate_username};
use media::{AccountStatus, ClientInfo, GrantSpec, Identity, MediaError, Permissions, ServerKind};
use serde_json::{Value, json};

fn server_kind(kind: FakeKind) -> ServerKind {
    match kind {
        FakeKind::Jellyfin | FakeKind::Jellyfin12 => ServerKind::Jellyfin,
        FakeKind::Emby => ServerKind::Emby,
    }
}

fn client_for(fake: &FakeJellyfin) -> JellyfinClient {
    client_as(fake, server_kind(fake.kind()))
}

fn client_as(fake: &FakeJellyfin, kind: ServerKind) -> JellyfinClient {
    JellyfinClient::new(
        kind,
        &fake.url(),
        &fake.api_key(),
        ClientInfo::new("test-device"),
    )
    .unwrap()
}

fn account(
    username: &str,
    password: &str,
    libraries: &[String],
    permissions: Permissions,
) -> GrantSpec {
    GrantSpec {
        identity: Identity::Account {
            username: username.into(),
            password: password.into(),
            email: None,
        },
        libraries: libraries.to_vec(),
        permissions,
    }
}

fn guid_of(fake: &FakeJellyfin, name: &str) -> String {
    fake.library_by_name(name).unwrap().guid
}

fn perms(downloads: bool, live_tv: bool, sessions: Option<u32>) -> Permissions {
    Permissions {
        allow_downloads: downloads,
        allow_live_tv: live_tv,
        max_sessions: sessions,
        ..Permissions::default()
    }
}

// --- validation -------------------------------------------------------------------------------

#[test]
fn usernames_with_letters_digits_and_the_allowed_marks_pass() {
    for name in [
        "alice",
        "Ana María",
        "o'brien",
        "j.doe_2@home",
        "张伟",
        "a-b",
    ] {
        assert_eq!(validate_username(name), Ok(()), "{name}");
    }
}

#[test]
fn a_username_with_another_character_is_refused_naming_the_character_and_the_rule() {
    let Err(MediaError::Invalid(msg)) = validate_username("ana/tv") else {
        panic!("refused")
    };
    assert_eq!(
        msg,
        "a user name can't contain `/`: use letters, digits, space, - ' . _ @ only"
    );
    assert!(
        matches!(validate_username("ana+tv"), Err(MediaError::Invalid(m)) if m.contains("`+`"))
    );
    assert!(
        matches!(validate_username("a\tb"), Err(MediaError::Invalid(m)) if m.contains("U+0009"))
    );
}

#[test]
fn blank_padded_and_dot_usernames_are_refused_with_their_own_reason() {
    assert_eq!(
        validate_username("  "),
        Err(MediaError::Invalid("choose a user name".into()))
    );
    assert_eq!(
        validate_username(" alice"),
        Err(MediaError::Invalid(
            "a user name can't start or end with a space".into()
        ))
    );
    for name in [".", ".."] {
        assert!(
            matches!(validate_username(name), Err(MediaError::Invalid(m)) if m.contains("can't be a user name"))
        );
    }
}

#[test]
fn a_password_must_be_present_not_blank_and_free_of_control_characters() {
    assert!(validate_password("correct horse").is_ok());
    assert!(
        matches!(validate_password(""), Err(MediaError::Invalid(m)) if m.contains("lets anyone sign in"))
    );
    assert!(
        matches!(validate_password("   "), Err(MediaError::Invalid(m)) if m.contains("only spaces"))
    );
    assert!(
        matches!(validate_password("a\nb"), Err(MediaError::Invalid(m)) if m.contains("control characters"))
    );
}

#[test]
fn a_client_needs_an_http_url_and_an_api_key() {
    let info = ClientInfo::new("x");
    assert!(matches!(
        JellyfinClient::new(ServerKind::Jellyfin, "jellyfin.local", "k", info.clone()),
        Err(MediaError::Invalid(_))
    ));
    assert!(matches!(
        JellyfinClient::new(ServerKind::Jellyfin, "http://h:8096", " ", info.clone()),
        Err(MediaError::Invalid(m)) if m.contains("API key")
    ));
    assert!(matches!(
        JellyfinClient::new(ServerKind::Plex, "http://h:32400", "k", info),
        Err(MediaError::Invalid(_))
    ));
}

// --- probe ------------------------------------------------------------------------------------

#[tokio::test]
async fn probing_reads_the_name_version_and_id_of_each_kind() {
    for (kind, name, version) in [
        (FakeKind::Jellyfin, "Home Jellyfin", "10.11.5"),
        (FakeKind::Jellyfin12, "Home Jellyfin", "12.0.0"),
        (FakeKind::Emby, "Home Emby", "4.9.1.80"),
    ] {
        let fake = FakeJellyfin::start(kind).await;
        let info = client_for(&fake).probe().await.unwrap();
        assert_eq!(info.name, name);
        assert_eq!(info.version, version);
        assert_eq!(info.id, fake.server_id());
        assert_eq!(info.kind, server_kind(kind));
        assert_eq!(info.warning, None);
        assert_eq!(
            fake.control().requests_to("/Library/MediaFolders").len(),
            1,
            "the key was checked"
        );
    }
}

#[tokio::test]
async fn probing_with_the_wrong_kind_configured_warns_instead_of_failing() {
    let jf12 = FakeJellyfin::start(FakeKind::Jellyfin12).await;
    let info = client_as(&jf12, ServerKind::Emby).probe().await.unwrap();
    assert_eq!(info.kind, ServerKind::Jellyfin);
    assert_eq!(
        info.warning.as_deref(),
        Some("this server looks like Jellyfin, not Emby: change the server kind to Jellyfin")
    );

    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let info = client_as(&emby, ServerKind::Jellyfin)
        .probe()
        .await
        .unwrap();
    assert_eq!(info.kind, ServerKind::Emby);
    assert!(
        info.warning
            .unwrap()
            .contains("looks like Emby, not Jellyfin")
    );
}

#[tokio::test]
async fn probing_with_a_wrong_key_is_unauthorized_and_never_echoes_the_key() {
    let fake = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let client = JellyfinClient::new(
        ServerKind::Jellyfin,
        &fake.url(),
        "wrong-key-0123",
        ClientInfo::new("x"),
    )
    .unwrap();
    let err = client.probe().await.unwrap_err();
    assert_eq!(err, MediaError::Unauthorized);
    assert!(!err.to_string().contains("wrong-key-0123"));
}

#[tokio::test]
async fn probing_a_closed_port_is_unreachable_and_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = JellyfinClient::new(
        ServerKind::Jellyfin,
        &url,
        "secret-key",
        ClientInfo::new("x"),
    )
    .unwrap();
    let err = client.probe().await.unwrap_err();
    assert!(matches!(err, MediaError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(!err.to_string().contains("secret-key"));
}

#[tokio::test]
async fn probing_something_that_does_not_answer_json_is_a_protocol_error() {
    let fake = FakeJellyfin::start(FakeKind::Jellyfin).await;
    fake.control().fail_next("/System/Info/Public", 200);
    let err = client_for(&fake).probe().await.unwrap_err();
    assert!(
        matches!(&err, MediaError::Protocol(m) if m.contains("public info")),
        "{err:?}"
    );
}

// --- authentication headers -------------------------------------------------------------------

#[tokio::test]
async fn jellyfin_gets_only_the_mediabrowser_authorization_header_and_emby_also_gets_its_token() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    client_for(&jf).libraries().await.unwrap();
    let sent = &jf.control().requests_to("/Library/MediaFolders")[0];
    let auth = sent.header("authorization").unwrap();
    assert!(auth.starts_with(
        "MediaBrowser Client=\"usher\", Device=\"usher\", DeviceId=\"test-device\", Version="
    ));
    assert!(auth.ends_with(&format!("Token=\"{}\"", jf.api_key())));
    assert_eq!(sent.header("x-emby-token"), None);
    assert!(!sent.query.to_ascii_lowercase().contains("api"));

    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    client_for(&emby).libraries().await.unwrap();
    let sent = &emby.control().requests_to("/Library/MediaFolders")[0];
    assert!(
        sent.header("authorization")
            .unwrap()
            .starts_with("MediaBrowser ")
    );
    assert_eq!(sent.header("x-emby-token"), Some(emby.api_key().as_str()));
}

#[tokio::test]
async fn jellyfin_12_which_refuses_legacy_headers_serves_every_operation_of_the_client() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin12).await;
    let client = client_for(&jf);
    client.probe().await.unwrap();
    let movies = guid_of(&jf, "Movies");
    let outcome = client
        .grant(&account(
            "zoe",
            "pw-zoe",
            std::slice::from_ref(&movies),
            Permissions::default(),
        ))
        .await
        .unwrap();
    client
        .update_access(&outcome.remote_id, &[], &Permissions::default())
        .await
        .unwrap();
    client.set_disabled(&outcome.remote_id, true).await.unwrap();
    client
        .set_password(&outcome.remote_id, "pw-2")
        .await
        .unwrap();
    assert_eq!(client.accounts().await.unwrap().len(), 2);
    client.remove(&outcome.remote_id).await.unwrap();
    assert!(jf.user_by_name("zoe").is_none());
}

// --- libraries --------------------------------------------------------------------------------

#[tokio::test]
async fn jellyfin_libraries_are_shared_by_their_folder_id() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let libraries = client_for(&jf).libraries().await.unwrap();
    let names: Vec<&str> = libraries.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Movies", "Shows", "Music"]);
    assert_eq!(libraries[0].id, guid_of(&jf, "Movies"));
    assert_eq!(libraries[0].local_key, libraries[0].id);
    assert_eq!(libraries[1].kind, "tvshows");
}

#[tokio::test]
async fn emby_libraries_are_shared_by_guid_with_the_numeric_id_as_local_key() {
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let libraries = client_for(&emby).libraries().await.unwrap();
    let movies = emby.library_by_name("Movies").unwrap();
    assert_eq!(libraries[0].id, movies.guid);
    assert_eq!(libraries[0].local_key, movies.emby_id);
    assert_eq!(libraries[0].kind, "movies");
}

// --- grant ------------------------------------------------------------------------------------

#[tokio::test]
async fn granting_on_jellyfin_creates_a_hidden_account_limited_to_the_chosen_libraries() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let client = client_for(&jf);
    let chosen = vec![guid_of(&jf, "Movies"), guid_of(&jf, "Music")];
    let outcome = client
        .grant(&account(
            "Alice",
            "s3cret!",
            &chosen,
            perms(false, false, Some(2)),
        ))
        .await
        .unwrap();
    assert!(!outcome.pending);
    assert_eq!(outcome.username, "Alice");
    let user = jf.user_by_name("alice").unwrap();
    assert_eq!(outcome.remote_id, user.id);
    assert!(user.password_matches("s3cret!"));
    assert!(!user.all_folders());
    assert_eq!(user.enabled_folders(), chosen);
    assert_eq!(user.policy_bool("EnableContentDownloading"), Some(false));
    assert_eq!(user.policy_bool("EnableLiveTvAccess"), Some(false));
    assert_eq!(user.policy_i64("MaxActiveSessions"), Some(2));
    assert_eq!(user.policy_bool("IsHidden"), Some(true));
    assert!(!user.is_admin() && !user.is_disabled());
    // Fields usher does not set keep the values the server gave the new account, which a
    // partial post would have reset to constructor defaults.
    assert_eq!(user.policy_bool("EnableLiveTvManagement"), Some(false));
    assert_eq!(
        user.policy_str("AuthenticationProviderId"),
        Some("Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider")
    );
    assert_eq!(
        user.policy_str("PasswordResetProviderId"),
        Some("Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider")
    );
    assert_eq!(
        user.policy_str("SyncPlayAccess"),
        Some("CreateAndJoinGroups")
    );
}

#[tokio::test]
async fn granting_posts_the_whole_policy_the_server_returned() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let outcome = client_for(&jf)
        .grant(&account("bea", "pw", &[], Permissions::default()))
        .await
        .unwrap();
    let posted = &jf
        .control()
        .requests_to(&format!("/Users/{}/Policy", outcome.remote_id))[0];
    let posted: serde_json::Map<String, Value> = serde_json::from_str(&posted.body).unwrap();
    let created: Value = {
        let create = &jf.control().requests_to("/Users/New")[0];
        serde_json::from_str(&create.body).unwrap()
    };
    assert_eq!(created, json!({"Name": "bea", "Password": "pw"}));
    let stored = jf.policy_of(&outcome.remote_id).unwrap();
    let posted_keys: Vec<&String> = posted.keys().collect();
    let stored_keys: Vec<&String> = stored.keys().collect();
    assert_eq!(posted_keys, stored_keys, "every policy field is sent back");
    assert_eq!(posted["EnabledFolders"], json!([]));
    assert_eq!(
        posted["EnableAllFolders"],
        json!(false),
        "no library means none, not all"
    );
}

#[tokio::test]
async fn granting_on_emby_creates_without_a_password_then_sets_it_and_restricts_by_guid() {
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let client = client_for(&emby);
    let shows = emby.library_by_name("Shows").unwrap();
    let movies = emby.library_by_name("Movies").unwrap();
    let permissions = Permissions {
        allow_camera_upload: false,
        ..perms(true, true, Some(3))
    };
    // The numeric id names the folder too; it must arrive as the Guid or Emby ignores it.
    let outcome = client
        .grant(&account(
            "carl",
            "pw-carl",
            &[shows.guid.clone(), movies.emby_id.clone()],
            permissions,
        ))
        .await
        .unwrap();
    let user = emby.user(&outcome.remote_id).unwrap();
    assert!(user.password_matches("pw-carl"));
    assert!(!user.password_matches(""));
    assert_eq!(user.enabled_folders(), [shows.guid, movies.guid]);
    assert!(!user.all_folders());
    assert_eq!(user.policy_i64("SimultaneousStreamLimit"), Some(3));
    assert_eq!(user.policy_bool("AllowCameraUpload"), Some(false));
    assert_eq!(user.policy_bool("EnableContentDownloading"), Some(true));
    assert_eq!(user.policy_bool("EnableLiveTvAccess"), Some(true));
    assert_eq!(user.policy_bool("EnableLiveTvManagement"), Some(false));
    assert_eq!(user.policy_bool("IsHiddenRemotely"), Some(true));
    assert!(!user.policy.contains_key("MaxActiveSessions"));

    let create = &emby.control().requests_to("/Users/New")[0];
    assert!(
        !create.body.contains("pw-carl"),
        "Emby's create takes no password"
    );
    let password = &emby
        .control()
        .requests_to(&format!("/Users/{}/Password", outcome.remote_id))[0];
    let body: Value = serde_json::from_str(&password.body).unwrap();
    assert_eq!(
        body,
        json!({"Id": outcome.remote_id, "CurrentPw": "", "NewPw": "pw-carl", "ResetPassword": false})
    );
}

#[tokio::test]
async fn the_duplicate_check_ignores_case_and_happens_before_anything_is_created() {
    for kind in [FakeKind::Jellyfin, FakeKind::Emby] {
        let fake = FakeJellyfin::start(kind).await;
        fake.add_user(SeedUser::member("Dana", "pw"));
        let err = client_for(&fake)
            .grant(&account("dANA", "pw", &[], Permissions::default()))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, MediaError::AlreadyExists(m) if m.starts_with("that name is taken")),
            "{err:?}"
        );
        assert!(fake.control().requests_to("/Users/New").is_empty());
        assert_eq!(fake.users().len(), 2);
    }
}

#[tokio::test]
async fn granting_again_finishes_the_account_an_interrupted_attempt_made_and_nothing_else() {
    for kind in [FakeKind::Jellyfin, FakeKind::Emby] {
        let fake = FakeJellyfin::start(kind).await;
        let client = client_for(&fake);
        let movies = vec![guid_of(&fake, "Movies")];
        // What an attempt cut off after creating the account leaves: a bare account with the
        // member's password and no libraries chosen yet.
        let id = fake.add_user(SeedUser::member("Erin", "erin's own pw"));
        let outcome = client
            .grant_again(
                &account("erin", "erin's own pw", &movies, Permissions::default()),
                false,
            )
            .await
            .unwrap();
        assert_eq!(outcome.remote_id, id, "{kind:?}");
        let user = fake.user(&id).unwrap();
        assert_eq!(user.enabled_folders(), movies, "{kind:?}");
        assert_eq!(user.policy_bool("IsHidden"), Some(true));
        assert_eq!(fake.users().len(), 2, "no second account");
        assert!(fake.control().requests_to("/Users/New").is_empty());

        // Someone else's account with that name, and an administrator's, stay taken.
        fake.add_user(SeedUser::member("Finn", "finn's pw"));
        let err = client
            .grant_again(
                &account("finn", "another pw", &movies, Permissions::default()),
                true,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, MediaError::AlreadyExists(_)),
            "{kind:?}: {err:?}"
        );
        let admin = fakes::jellyfin::ADMIN_PASSWORD;
        let err = client
            .grant_again(
                &account(ADMIN_NAME, admin, &movies, Permissions::default()),
                true,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, MediaError::AlreadyExists(_)),
            "{kind:?}: {err:?}"
        );
        let admin_user = fake.user_by_name(ADMIN_NAME).unwrap();
        assert!(admin_user.is_admin() && admin_user.all_folders());

        // A name nobody has is simply granted.
        client
            .grant_again(
                &account("gus", "gus's pw", &movies, Permissions::default()),
                false,
            )
            .await
            .unwrap();
        assert!(
            fake.user_by_name("gus")
                .unwrap()
                .password_matches("gus's pw")
        );

        // Emby makes an account without a password first: cut off there, the account has none.
        // It is finished only when the caller saw the name free before that attempt.
        let mut bare = SeedUser::member("Hana", "unused");
        bare.password = None;
        let hana = fake.add_user(bare);
        let spec = account("hana", "hana's pw", &movies, Permissions::default());
        assert!(matches!(
            client.grant_again(&spec, false).await,
            Err(MediaError::AlreadyExists(_))
        ));
        assert_eq!(
            client.grant_again(&spec, true).await.unwrap().remote_id,
            hana
        );
        let user = fake.user(&hana).unwrap();
        assert!(user.password_matches("hana's pw"), "{kind:?}");
        assert_eq!(user.enabled_folders(), movies);
    }
}

#[tokio::test]
async fn a_refused_name_or_password_never_reaches_the_server() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let client = client_for(&jf);
    let err = client
        .grant(&account("ana/tv", "pw", &[], Permissions::default()))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Invalid(m) if m.contains("letters, digits, space")));
    let err = client
        .grant(&account("ana", "", &[], Permissions::default()))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Invalid(_)));
    let err = client
        .grant(&GrantSpec {
            identity: Identity::PlexUser {
                email_or_username: "x@example.com".into(),
            },
            libraries: vec![],
            permissions: Permissions::default(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Invalid(m) if m.contains("not a Plex user")));
    assert!(jf.control().requests().is_empty());
}

#[tokio::test]
async fn an_unknown_library_is_refused_before_an_account_is_made() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let err = client_for(&jf)
        .grant(&account(
            "eve",
            "pw",
            &["0123456789abcdef0123456789abcdef".into()],
            Permissions::default(),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MediaError::Invalid(m) if m.contains("refresh the library list")),
        "{err:?}"
    );
    assert!(jf.control().requests_to("/Users/New").is_empty());
}

#[tokio::test]
async fn a_400_from_create_for_a_name_nobody_has_is_explained_as_a_refused_name() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    jf.control().fail_next("/Users/New", 400);
    let err = client_for(&jf)
        .grant(&account("fred", "pw", &[], Permissions::default()))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        MediaError::Invalid(
            "Jellyfin refused the user name `fred`: use letters, digits, space, - ' . _ @ only"
                .into()
        )
    );
}

#[tokio::test]
async fn when_the_policy_step_fails_the_half_made_account_is_deleted_and_the_error_says_why() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let id = jf.next_user_id();
    jf.control().fail_next(&format!("/Users/{id}/Policy"), 500);
    let err = client_for(&jf)
        .grant(&account(
            "gina",
            "pw",
            &[guid_of(&jf, "Movies")],
            Permissions::default(),
        ))
        .await
        .unwrap_err();
    let MediaError::Server { status, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 500);
    assert!(
        message.contains("`gina` was removed again because setting it up failed"),
        "{message}"
    );
    assert!(err.is_retryable());
    assert!(jf.user_by_name("gina").is_none());
    assert!(jf.user(&id).is_none());
    let deletes: Vec<_> = jf
        .control()
        .requests_to(&format!("/Users/{id}"))
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
}

#[tokio::test]
async fn when_emby_refuses_the_password_the_password_less_account_is_deleted() {
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let id = emby.next_user_id();
    emby.control()
        .fail_next(&format!("/Users/{id}/Password"), 503);
    let err = client_for(&emby)
        .grant(&account("hank", "pw", &[], Permissions::default()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, MediaError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert!(emby.user_by_name("hank").is_none());
    assert!(
        emby.control()
            .requests_to(&format!("/Users/{id}/Policy"))
            .is_empty()
    );
}

#[tokio::test]
async fn a_failed_rollback_tells_the_owner_to_delete_the_account_by_hand() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let id = jf.next_user_id();
    jf.control().fail_next(&format!("/Users/{id}/Policy"), 500);
    jf.control().fail_next(&format!("/Users/{id}"), 500);
    let err = client_for(&jf)
        .grant(&account("ivy", "pw", &[], Permissions::default()))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("delete it in the Jellyfin dashboard"),
        "{err}"
    );
    assert!(jf.user_by_name("ivy").is_some());
}

// --- update, disable, password, remove --------------------------------------------------------

#[tokio::test]
async fn updating_access_replaces_libraries_and_permissions_and_keeps_everything_else() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let id = jf.add_user(SeedUser {
        authentication_provider_id: Some(
            "Jellyfin.Plugin.LDAP_Auth.LdapAuthenticationProviderPlugin".into(),
        ),
        ..SeedUser::member("jack", "pw")
    });
    let mut policy = jf.policy_of(&id).unwrap();
    policy.insert("BlockedTags".into(), json!(["horror"]));
    policy.insert("IsHidden".into(), json!(false));
    policy.insert("RemoteClientBitrateLimit".into(), json!(8_000_000));
    jf.set_policy(&id, policy);

    let shows = guid_of(&jf, "Shows");
    client_for(&jf)
        .update_access(&id, std::slice::from_ref(&shows), &perms(true, true, None))
        .await
        .unwrap();
    let user = jf.user(&id).unwrap();
    assert_eq!(user.enabled_folders(), [shows]);
    assert!(!user.all_folders());
    assert_eq!(user.policy_bool("EnableContentDownloading"), Some(true));
    assert_eq!(user.policy_bool("EnableLiveTvAccess"), Some(true));
    assert_eq!(user.policy_i64("MaxActiveSessions"), Some(0));
    assert_eq!(user.policy["BlockedTags"], json!(["horror"]));
    assert_eq!(user.policy_bool("IsHidden"), Some(false));
    assert_eq!(user.policy_i64("RemoteClientBitrateLimit"), Some(8_000_000));
    assert_eq!(
        user.policy_str("AuthenticationProviderId"),
        Some("Jellyfin.Plugin.LDAP_Auth.LdapAuthenticationProviderPlugin")
    );
}

#[tokio::test]
async fn updating_access_of_an_account_that_is_gone_is_not_found() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let err = client_for(&jf)
        .update_access(
            "0123456789abcdef0123456789abcdef",
            &[],
            &Permissions::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn disabling_and_enabling_flip_only_is_disabled() {
    for kind in [FakeKind::Jellyfin, FakeKind::Emby] {
        let fake = FakeJellyfin::start(kind).await;
        let client = client_for(&fake);
        let outcome = client
            .grant(&account(
                "kate",
                "pw",
                &[guid_of(&fake, "Movies")],
                Permissions::default(),
            ))
            .await
            .unwrap();
        let before = fake.policy_of(&outcome.remote_id).unwrap();
        client.set_disabled(&outcome.remote_id, true).await.unwrap();
        let mut disabled = fake.policy_of(&outcome.remote_id).unwrap();
        assert_eq!(disabled["IsDisabled"], json!(true));
        disabled.insert("IsDisabled".into(), json!(false));
        assert_eq!(disabled, before, "{kind:?}: nothing else changed");
        let listed = client.accounts().await.unwrap();
        let kate = listed.iter().find(|a| a.username == "kate").unwrap();
        assert_eq!(kate.status, AccountStatus::Disabled);

        client
            .set_disabled(&outcome.remote_id, false)
            .await
            .unwrap();
        assert_eq!(fake.policy_of(&outcome.remote_id).unwrap(), before);
    }
}

#[tokio::test]
async fn administrators_are_never_changed_or_removed() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let client = client_for(&jf);
    let admin = jf.user_by_name(ADMIN_NAME).unwrap();
    for err in [
        client.set_disabled(&admin.id, true).await.unwrap_err(),
        client.remove(&admin.id).await.unwrap_err(),
        client
            .update_access(&admin.id, &[], &Permissions::default())
            .await
            .unwrap_err(),
        client.set_password(&admin.id, "new-pw").await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, MediaError::Invalid(m) if m.contains("usher does not manage administrators")),
            "{err:?}"
        );
    }
    assert_eq!(jf.user(&admin.id).unwrap(), admin);
}

#[tokio::test]
async fn removing_deletes_the_account_and_removing_it_again_succeeds() {
    for kind in [FakeKind::Jellyfin12, FakeKind::Emby] {
        let fake = FakeJellyfin::start(kind).await;
        let client = client_for(&fake);
        let outcome = client
            .grant(&account("liam", "pw", &[], Permissions::default()))
            .await
            .unwrap();
        client.remove(&outcome.remote_id).await.unwrap();
        assert!(fake.user(&outcome.remote_id).is_none());
        client.remove(&outcome.remote_id).await.unwrap();
    }
}

#[tokio::test]
async fn setting_a_password_works_on_jellyfin_and_resets_first_on_emby() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let id = jf.add_user(SeedUser::member("mia", "old"));
    client_for(&jf).set_password(&id, "new-one").await.unwrap();
    assert!(jf.user(&id).unwrap().password_matches("new-one"));
    assert_eq!(jf.control().requests_to("/Users/Password").len(), 1);

    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let id = emby.add_user(SeedUser::member("mia", "old"));
    client_for(&emby)
        .set_password(&id, "new-one")
        .await
        .unwrap();
    assert!(emby.user(&id).unwrap().password_matches("new-one"));
    let calls = emby.control().requests_to(&format!("/Users/{id}/Password"));
    assert_eq!(calls.len(), 2);
    assert!(calls[0].body.contains("\"ResetPassword\":true"));

    assert!(matches!(
        client_for(&emby).set_password(&id, "").await,
        Err(MediaError::Invalid(_))
    ));
}

// --- accounts ---------------------------------------------------------------------------------

#[tokio::test]
async fn accounts_list_everybody_with_admins_flagged_and_libraries_summarised() {
    for kind in [FakeKind::Jellyfin, FakeKind::Emby] {
        let fake = FakeJellyfin::start(kind).await;
        let client = client_for(&fake);
        let music = guid_of(&fake, "Music");
        let outcome = client
            .grant(&account(
                "nora",
                "pw",
                std::slice::from_ref(&music),
                Permissions::default(),
            ))
            .await
            .unwrap();
        let accounts = client.accounts().await.unwrap();
        assert_eq!(accounts.len(), 2);
        let admin = accounts.iter().find(|a| a.username == ADMIN_NAME).unwrap();
        assert!(admin.is_admin);
        assert!(admin.all_libraries);
        assert_eq!(admin.status, AccountStatus::Active);
        let nora = accounts.iter().find(|a| a.username == "nora").unwrap();
        assert_eq!(nora.remote_id, outcome.remote_id);
        assert!(!nora.is_admin);
        assert!(!nora.all_libraries);
        assert_eq!(nora.libraries, [music]);
        assert_eq!(nora.email, None);
    }
}

// --- Quick Connect ----------------------------------------------------------------------------

#[tokio::test]
async fn quick_connect_signs_a_new_members_tv_in() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let client = client_for(&jf);
    let outcome = client
        .grant(&account("owen", "pw", &[], Permissions::default()))
        .await
        .unwrap();
    let code = jf.quick_connect_initiate();
    client
        .quick_connect_authorize(
            &format!(" {} {} ", &code[..3], &code[3..]),
            &outcome.remote_id,
        )
        .await
        .unwrap();
    assert_eq!(
        jf.quick_connect_authorized_user(&code),
        Some(outcome.remote_id.clone())
    );

    let err = client
        .quick_connect_authorize("999999", &outcome.remote_id)
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::NotFound(m) if m.contains("unknown or expired")));
    let err = client
        .quick_connect_authorize("12ab", &outcome.remote_id)
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Invalid(_)));

    jf.set_quick_connect_enabled(false);
    let err = client
        .quick_connect_authorize(&code, &outcome.remote_id)
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Unsupported(m) if m.contains("turned off")));
}

#[tokio::test]
async fn quick_connect_is_unsupported_on_emby() {
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let err = client_for(&emby)
        .quick_connect_authorize("123456", "whoever")
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Unsupported(m) if m.contains("Emby has no Quick Connect")));
    assert!(emby.control().requests().is_empty());
}

// --- error mapping ----------------------------------------------------------------------------

#[tokio::test]
async fn server_errors_are_retryable_and_refused_keys_are_not() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let client = client_for(&jf);
    jf.control().fail_next("/Users", 502);
    let err = client.accounts().await.unwrap_err();
    assert!(
        matches!(err, MediaError::Server { status: 502, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    jf.control().fail_next("/Users", 401);
    let err = client.accounts().await.unwrap_err();
    assert_eq!(err, MediaError::Unauthorized);
    assert!(!err.is_retryable());
    jf.control().fail_next("/Users", 429);
    assert!(matches!(
        client.accounts().await,
        Err(MediaError::RateLimited { .. })
    ));
    assert!(!format!("{err} {err:?}").contains(&jf.api_key()));
}

#[tokio::test]
async fn a_policy_read_without_provider_ids_is_posted_back_with_the_built_in_ones() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let id = jf.add_user(SeedUser::member("pia", "pw"));
    // A policy stored empty: nothing to read back, so the client must fill in the providers.
    jf.set_policy(&id, serde_json::Map::new());
    client_for(&jf)
        .update_access(&id, &[], &Permissions::default())
        .await
        .unwrap();
    assert_eq!(
        jf.user(&id).unwrap().policy_str("PasswordResetProviderId"),
        Some("Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider")
    );
}

#[tokio::test]
async fn a_validation_problem_is_reported_with_the_field_it_names() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let err = client_for(&jf).remove("not-a-guid").await.unwrap_err();
    let MediaError::Invalid(message) = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.starts_with("Jellyfin refused reading the account"),
        "{message}"
    );
    assert!(
        message.contains("userId: The value 'not-a-guid' is not valid."),
        "{message}"
    );
}

#[tokio::test]
async fn without_the_10_9_password_route_the_password_goes_to_the_older_one() {
    let jf = FakeJellyfin::start(FakeKind::Jellyfin).await;
    let id = jf.add_user(SeedUser::member("quinn", "old"));
    jf.control().fail_next("/Users/Password", 404);
    client_for(&jf).set_password(&id, "newer").await.unwrap();
    assert!(jf.user(&id).unwrap().password_matches("newer"));
    assert_eq!(
        jf.control()
            .requests_to(&format!("/Users/{id}/Password"))
            .len(),
        1
    );
}
