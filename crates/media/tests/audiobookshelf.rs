//! The Audiobookshelf client against its fake: every operation and the quirks of the contract.

use fakes::audiobookshelf::FakeAudiobookshelf;
use media::audiobookshelf::AudiobookshelfClient;
use media::{AccountStatus, GrantSpec, Identity, MediaError, Permissions, ServerKind};

fn client(fake: &FakeAudiobookshelf) -> AudiobookshelfClient {
    AudiobookshelfClient::new(&fake.url(), &fake.api_key()).unwrap()
}

fn account(username: &str, libraries: &[String], downloads: bool) -> GrantSpec {
    GrantSpec {
        identity: Identity::Account {
            username: username.into(),
            password: "a long password".into(),
            email: Some(format!("{}@example.com", username.to_lowercase())),
        },
        libraries: libraries.to_vec(),
        permissions: Permissions {
            allow_downloads: downloads,
            ..Permissions::default()
        },
    }
}

#[tokio::test]
async fn probe_checks_the_app_and_that_the_key_is_an_administrators() {
    let fake = FakeAudiobookshelf::start().await;
    let info = client(&fake).probe().await.unwrap();
    assert_eq!(info.kind, ServerKind::Audiobookshelf);
    assert_eq!(info.name, "Story Shelf");
    assert_eq!(info.version, "2.36.0");
    let authorize = &fake.control().requests_to("/api/authorize")[0];
    assert_eq!(
        authorize.header("authorization"),
        Some(format!("Bearer {}", fake.api_key()).as_str())
    );

    let wrong = AudiobookshelfClient::new(&fake.url(), "not-the-key").unwrap();
    assert_eq!(wrong.probe().await.unwrap_err(), MediaError::Unauthorized);
    assert!(matches!(
        AudiobookshelfClient::new(&fake.url(), "  "),
        Err(MediaError::Invalid(m)) if m.contains("API Keys")
    ));
}

#[tokio::test]
async fn libraries_carry_the_ids_access_is_granted_by() {
    let fake = FakeAudiobookshelf::start().await;
    let libraries = client(&fake).libraries().await.unwrap();
    let names: Vec<_> = libraries.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Audiobooks", "Podcasts", "Kids"]);
    assert_eq!(libraries[0].id, fake.library_id("Audiobooks"));
    assert_eq!(libraries[1].kind, "podcast");
}

#[tokio::test]
async fn a_grant_makes_an_active_account_that_opens_only_the_chosen_libraries() {
    let fake = FakeAudiobookshelf::start().await;
    let books = fake.library_id("Audiobooks");
    let c = client(&fake);
    let out = c
        .grant(&account("Maya", std::slice::from_ref(&books), false))
        .await
        .unwrap();
    let user = fake.user_by_name("Maya").unwrap();
    assert_eq!(out.remote_id, user.id);
    assert!(user.is_active, "a new account is inactive unless told");
    assert!(!user.permission("accessAllLibraries"));
    assert_eq!(
        user.visible_libraries(&fake.libraries()),
        vec![books.clone()]
    );
    assert!(!user.permission("download"));
    assert!(user.permission("accessExplicitContent"));
    assert!(!user.permission("upload") && !user.permission("delete"));
    assert_eq!(user.kind, "user");
    assert_eq!(user.email.as_deref(), Some("maya@example.com"));
    assert!(
        fake.signs_in("maya", "a long password"),
        "sign-in ignores case"
    );
}

#[tokio::test]
async fn a_name_taken_in_another_case_is_refused_before_the_server_would_accept_it() {
    let fake = FakeAudiobookshelf::start().await;
    fake.add_user("bob", "their own", &[]);
    let err = client(&fake)
        .grant(&account("Bob", &[], true))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)), "{err}");
    assert_eq!(fake.users().len(), 2, "no second Bob");
    // The exact name is refused by the server itself, in its own words.
    let err = client(&fake)
        .grant(&account("bob", &[], true))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)), "{err}");
}

#[tokio::test]
async fn updating_access_sends_the_list_with_permissions_so_the_server_applies_it() {
    let fake = FakeAudiobookshelf::start().await;
    let (books, pods) = (fake.library_id("Audiobooks"), fake.library_id("Podcasts"));
    let c = client(&fake);
    let out = c
        .grant(&account("Ines", std::slice::from_ref(&books), false))
        .await
        .unwrap();
    c.update_access(
        &out.remote_id,
        &[pods.clone(), books.clone()],
        &Permissions {
            allow_downloads: true,
            ..Permissions::default()
        },
    )
    .await
    .unwrap();
    let user = fake.user_by_name("Ines").unwrap();
    let mut seen = user.visible_libraries(&fake.libraries());
    seen.sort();
    let mut want = vec![books, pods];
    want.sort();
    assert_eq!(seen, want);
    assert!(user.permission("download"));
    let patch = fake
        .control()
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PATCH")
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&patch.body).unwrap();
    assert!(body["permissions"].is_object(), "{body}");
}

#[tokio::test]
async fn pausing_stops_sign_in_and_resuming_brings_it_back() {
    let fake = FakeAudiobookshelf::start().await;
    let c = client(&fake);
    let out = c.grant(&account("Oli", &[], true)).await.unwrap();
    c.set_disabled(&out.remote_id, true).await.unwrap();
    assert!(!fake.user_by_name("Oli").unwrap().is_active);
    assert!(!fake.signs_in("Oli", "a long password"));
    let listed = c.accounts().await.unwrap();
    let oli = listed.iter().find(|a| a.username == "Oli").unwrap();
    assert_eq!(oli.status, AccountStatus::Disabled);
    c.set_disabled(&out.remote_id, false).await.unwrap();
    assert!(fake.signs_in("Oli", "a long password"));
}

#[tokio::test]
async fn removal_deletes_and_an_account_already_gone_counts_as_removed() {
    let fake = FakeAudiobookshelf::start().await;
    let c = client(&fake);
    let out = c.grant(&account("Pia", &[], true)).await.unwrap();
    c.remove(&out.remote_id).await.unwrap();
    assert!(fake.user_by_name("Pia").is_none());
    c.remove(&out.remote_id).await.unwrap();
}

#[tokio::test]
async fn administrators_are_listed_as_such_and_never_managed() {
    let fake = FakeAudiobookshelf::start().await;
    let c = client(&fake);
    let accounts = c.accounts().await.unwrap();
    let root = accounts.iter().find(|a| a.username == "root").unwrap();
    assert!(root.is_admin && root.all_libraries);
    let err = c.set_disabled(&root.remote_id, true).await.unwrap_err();
    assert!(matches!(err, MediaError::Invalid(m) if m.contains("administrator")));
    let err = c.remove(&root.remote_id).await.unwrap_err();
    assert!(matches!(err, MediaError::Invalid(_)));
    assert!(fake.user_by_name("root").unwrap().is_active);
}

#[tokio::test]
async fn a_stale_library_is_named_and_nothing_is_made() {
    let fake = FakeAudiobookshelf::start().await;
    let err = client(&fake)
        .grant(&account("Quin", &["gone-library".into()], false))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Invalid(m) if m.contains("gone-library")));
    assert!(fake.user_by_name("Quin").is_none());
}

#[tokio::test]
async fn a_server_failure_while_creating_leaves_no_account_and_is_retried() {
    let fake = FakeAudiobookshelf::start().await;
    fake.control().fail_next("POST /api/users", 500);
    let err = client(&fake)
        .grant(&account("Rae", &[], false))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(fake.user_by_name("Rae").is_none());
}

#[tokio::test]
async fn an_unreadable_answer_to_a_create_is_finished_by_the_retry() {
    let fake = FakeAudiobookshelf::start().await;
    // The create works but its answer is lost in a way that reads as a bad answer.
    fake.control().lose_next_answer("POST /api/users", 200);
    let err = client(&fake)
        .grant(&account("Uma", &[], false))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Protocol(_)), "{err}");
    // The server made it; usher could not read that it did, so the retry finishes it.
    assert!(fake.user_by_name("Uma").is_some());
    let again = client(&fake)
        .grant_again(&account("Uma", &[], false))
        .await
        .unwrap();
    assert_eq!(again.remote_id, fake.user_by_name("Uma").unwrap().id);
}

#[tokio::test]
async fn an_answer_lost_after_the_account_was_made_is_finished_on_the_next_attempt() {
    let fake = FakeAudiobookshelf::start().await;
    let books = fake.library_id("Audiobooks");
    let c = client(&fake);
    fake.control().lose_next_answer("POST /api/users", 504);
    let spec = account("Sol", std::slice::from_ref(&books), false);
    let first = c.grant(&spec).await.unwrap_err();
    assert!(first.is_retryable(), "{first}");
    // A plain retry finds the name taken; the retry after a cut-off attempt signs in with the
    // member's password and finishes the account instead.
    assert!(matches!(
        c.grant(&spec).await,
        Err(MediaError::AlreadyExists(_))
    ));
    let again = c.grant_again(&spec).await.unwrap();
    assert_eq!(
        fake.users().iter().filter(|u| u.username == "Sol").count(),
        1
    );
    let sol = fake.user_by_name("Sol").unwrap();
    assert_eq!(again.remote_id, sol.id);
    assert!(sol.is_active);
    assert_eq!(sol.visible_libraries(&fake.libraries()), vec![books]);
}

#[tokio::test]
async fn someone_elses_account_with_the_name_is_never_taken_over() {
    let fake = FakeAudiobookshelf::start().await;
    fake.add_user("Tess", "a different password", &[]);
    let err = client(&fake)
        .grant_again(&account("Tess", &[], false))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)));
}

#[tokio::test]
async fn the_server_prefix_is_optional() {
    let fake = FakeAudiobookshelf::start().await;
    let prefixed =
        AudiobookshelfClient::new(&format!("{}/audiobookshelf", fake.url()), &fake.api_key())
            .unwrap();
    assert_eq!(prefixed.libraries().await.unwrap().len(), 3);
}
