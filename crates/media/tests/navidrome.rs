//! The Navidrome client against its fake: every operation and the quirks of the contract.

use fakes::navidrome::FakeNavidrome;
use media::navidrome::NavidromeClient;
use media::{GrantSpec, Identity, Login, MediaClient, MediaError, Permissions, ServerKind};

fn credential(user: &str, password: &str) -> String {
    Login {
        username: user.into(),
        password: password.into(),
    }
    .encode()
}

fn client(fake: &FakeNavidrome) -> NavidromeClient {
    let (user, password) = fake.admin_login();
    NavidromeClient::new(&fake.url(), &credential(&user, &password)).unwrap()
}

fn account(username: &str, libraries: &[String]) -> GrantSpec {
    GrantSpec {
        identity: Identity::Account {
            username: username.into(),
            password: "a long password".into(),
            email: Some(format!("{}@example.com", username.to_lowercase())),
        },
        libraries: libraries.to_vec(),
        permissions: Permissions::default(),
    }
}

#[tokio::test]
async fn probe_signs_in_as_an_administrator_and_reads_the_version() {
    let fake = FakeNavidrome::start().await;
    let info = client(&fake).probe().await.unwrap();
    assert_eq!(info.kind, ServerKind::Navidrome);
    assert_eq!(info.version, "0.63.2");
    let wrong = NavidromeClient::new(&fake.url(), &credential("admin", "nope")).unwrap();
    assert_eq!(wrong.probe().await.unwrap_err(), MediaError::Unauthorized);
    fake.add_user("dj", "spin", &[1]);
    let not_admin = NavidromeClient::new(&fake.url(), &credential("dj", "spin")).unwrap();
    assert_eq!(not_admin.probe().await.unwrap_err(), MediaError::NotOwner);
    assert!(NavidromeClient::new(&fake.url(), "just-a-token").is_err());
}

#[tokio::test]
async fn a_grant_gives_exactly_the_chosen_libraries_not_the_new_user_defaults() {
    let fake = FakeNavidrome::start().await;
    let books = fake.library_id("Audiobooks");
    let out = client(&fake)
        .grant(&account("Lena", std::slice::from_ref(&books)))
        .await
        .unwrap();
    let user = fake.user_by_name("Lena").unwrap();
    assert_eq!(out.remote_id, user.id);
    assert_eq!(user.libraries, vec![2], "Music (for new users) is not kept");
    assert!(!user.is_admin);
    assert_eq!(user.email, "lena@example.com");
    assert!(fake.signs_in("lena", "a long password"));
    // Users are made through the native API: the Subsonic calls that answer 501 are never used.
    assert!(
        fake.control()
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/rest/create"))
    );
}

#[tokio::test]
async fn names_differing_only_in_ascii_case_are_one_name() {
    let fake = FakeNavidrome::start().await;
    fake.add_user("marco", "x", &[1]);
    let music = fake.library_id("Music");
    let err = client(&fake)
        .grant(&account("MARCO", std::slice::from_ref(&music)))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)), "{err}");
    // The server folds ASCII only: Élodie and élodie are two users.
    client(&fake)
        .grant(&account("Élodie", std::slice::from_ref(&music)))
        .await
        .unwrap();
    client(&fake)
        .grant(&account("élodie", std::slice::from_ref(&music)))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_account_needs_a_library_and_nothing_is_made_without_one() {
    let fake = FakeNavidrome::start().await;
    let err = client(&fake)
        .grant(&account("Nadia", &[]))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Invalid(m) if m.contains("at least one library")));
    assert!(fake.user_by_name("Nadia").is_none());
}

#[tokio::test]
async fn when_choosing_libraries_fails_the_new_account_is_deleted() {
    let fake = FakeNavidrome::start().await;
    let music = fake.library_id("Music");
    let users_before = fake.users().len();
    let id = fake.next_user_id();
    fake.control()
        .fail_next(&format!("PUT /api/user/{id}/library"), 500);
    let err = client(&fake)
        .grant(&account("Omar", std::slice::from_ref(&music)))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("removed again"), "{err}");
    assert_eq!(fake.users().len(), users_before, "no half-made account");
}

#[tokio::test]
async fn updating_access_replaces_the_libraries() {
    let fake = FakeNavidrome::start().await;
    let (music, live) = (fake.library_id("Music"), fake.library_id("Live recordings"));
    let c = client(&fake);
    let out = c
        .grant(&account("Pablo", std::slice::from_ref(&music)))
        .await
        .unwrap();
    c.update_access(&out.remote_id, &[live, music], &Permissions::default())
        .await
        .unwrap();
    assert_eq!(fake.user_by_name("Pablo").unwrap().libraries, vec![3, 1]);
}

#[tokio::test]
async fn a_password_change_sends_the_whole_account_so_nothing_is_blanked() {
    let fake = FakeNavidrome::start().await;
    let music = fake.library_id("Music");
    let c = client(&fake);
    let out = c
        .grant(&account("Quinn", std::slice::from_ref(&music)))
        .await
        .unwrap();
    c.set_password(&out.remote_id, "another long one")
        .await
        .unwrap();
    let user = fake.user_by_name("Quinn").unwrap();
    assert_eq!(user.email, "quinn@example.com");
    assert_eq!(user.name, "Quinn");
    assert!(fake.signs_in("Quinn", "another long one"));
}

#[tokio::test]
async fn pausing_is_refused_as_unsupported_and_removal_deletes() {
    let fake = FakeNavidrome::start().await;
    let music = fake.library_id("Music");
    let (user, password) = fake.admin_login();
    let c = MediaClient::new(
        ServerKind::Navidrome,
        &fake.url(),
        &credential(&user, &password),
        &media::ClientInfo::new("t"),
        &media::plex::PlexEndpoints::default(),
    )
    .unwrap();
    assert!(!c.can_disable());
    let out = c
        .grant(&account("Rita", std::slice::from_ref(&music)))
        .await
        .unwrap();
    assert!(matches!(
        c.set_disabled(&out.remote_id, true).await,
        Err(MediaError::Unsupported(_))
    ));
    c.remove(&out.remote_id).await.unwrap();
    assert!(fake.user_by_name("Rita").is_none());
    c.remove(&out.remote_id).await.unwrap();
}

#[tokio::test]
async fn an_expired_session_is_renewed_by_signing_in_again() {
    let fake = FakeNavidrome::start().await;
    let c = client(&fake);
    assert_eq!(c.libraries().await.unwrap().len(), 3);
    fake.expire_sessions();
    assert_eq!(c.libraries().await.unwrap().len(), 3);
    let logins = fake.control().requests_to("/auth/login").len();
    assert_eq!(logins, 2);
}

#[tokio::test]
async fn accounts_list_members_with_their_libraries_and_flag_the_administrator() {
    let fake = FakeNavidrome::start().await;
    fake.add_user("sam", "x", &[1, 2]);
    let accounts = client(&fake).accounts().await.unwrap();
    let sam = accounts.iter().find(|a| a.username == "sam").unwrap();
    assert_eq!(sam.libraries, vec!["1".to_string(), "2".to_string()]);
    assert!(!sam.is_admin);
    let admin = accounts.iter().find(|a| a.username == "admin").unwrap();
    assert!(admin.is_admin && admin.all_libraries);
    let err = client(&fake).remove(&admin.remote_id).await.unwrap_err();
    assert!(matches!(err, MediaError::Invalid(_)));
}

#[tokio::test]
async fn a_cut_off_attempt_is_finished_by_the_member_password_not_someone_elses() {
    let fake = FakeNavidrome::start().await;
    let music = fake.library_id("Music");
    let c = client(&fake);
    fake.control().lose_next_answer("POST /api/user", 504);
    let spec = account("Tao", std::slice::from_ref(&music));
    assert!(c.grant(&spec).await.unwrap_err().is_retryable());
    let again = c.grant_again(&spec).await.unwrap();
    assert_eq!(again.remote_id, fake.user_by_name("Tao").unwrap().id);
    assert_eq!(fake.user_by_name("Tao").unwrap().libraries, vec![1]);

    fake.add_user("Uli", "their own password", &[2]);
    let err = c.grant_again(&account("Uli", &[music])).await.unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)));
    assert_eq!(fake.user_by_name("Uli").unwrap().libraries, vec![2]);
}

#[tokio::test]
async fn clients_made_one_per_job_share_one_sign_in() {
    let fake = FakeNavidrome::start().await;
    for _ in 0..4 {
        client(&fake).libraries().await.unwrap();
    }
    assert_eq!(
        fake.control().requests_to("/auth/login").len(),
        1,
        "Navidrome limits sign-ins; a session is reused"
    );
    // Other credentials never borrow that session.
    let wrong = NavidromeClient::new(&fake.url(), &credential("admin", "nope")).unwrap();
    assert_eq!(
        wrong.libraries().await.unwrap_err(),
        MediaError::Unauthorized
    );
}
