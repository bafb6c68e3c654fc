//! The Komga client against its fake: every operation and the quirks of the contract.

use fakes::komga::FakeKomga;
use media::komga::KomgaClient;
use media::{GrantSpec, Identity, MediaError, Permissions, ServerKind};

fn client(fake: &FakeKomga) -> KomgaClient {
    KomgaClient::new(&fake.url(), &fake.api_key()).unwrap()
}

fn reader(email: &str, libraries: &[String], downloads: bool) -> GrantSpec {
    GrantSpec {
        identity: Identity::Account {
            username: email.into(),
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

#[tokio::test]
async fn probe_checks_the_key_is_an_administrators() {
    let fake = FakeKomga::start().await;
    let info = client(&fake).probe().await.unwrap();
    assert_eq!(info.kind, ServerKind::Komga);
    assert_eq!(
        info.version,
        fakes::komga::VERSION,
        "read from the actuator"
    );
    let wrong = KomgaClient::new(&fake.url(), "nope").unwrap();
    assert_eq!(wrong.probe().await.unwrap_err(), MediaError::Unauthorized);
    assert_eq!(
        fake.control().requests()[0].header("x-api-key"),
        Some(fake.api_key().as_str())
    );
}

#[tokio::test]
async fn a_grant_can_read_pages_in_exactly_the_chosen_libraries() {
    let fake = FakeKomga::start().await;
    let (comics, manga) = (fake.library_id("Comics"), fake.library_id("Manga"));
    let out = client(&fake)
        .grant(&reader(
            "ana@example.com",
            std::slice::from_ref(&comics),
            false,
        ))
        .await
        .unwrap();
    let user = fake.user_by_email("ana@example.com").unwrap();
    assert_eq!(out.remote_id, user.id);
    assert!(user.can_read_pages_in(&comics), "PAGE_STREAMING is sent");
    assert!(!user.can_read_pages_in(&manga), "not every library");
    assert!(!user.has_role("FILE_DOWNLOAD") && !user.has_role("ADMIN"));
    assert!(fake.signs_in("ANA@example.com", "a long password"));
}

#[tokio::test]
async fn an_email_with_an_account_in_another_case_is_refused() {
    let fake = FakeKomga::start().await;
    fake.add_user("bo@example.com", "x", &[]);
    let err = client(&fake)
        .grant(&reader("Bo@Example.com", &[], true))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)), "{err}");
    assert_eq!(fake.users().len(), 2);
}

#[tokio::test]
async fn a_login_that_is_not_an_email_is_refused_in_the_servers_words() {
    let fake = FakeKomga::start().await;
    let err = client(&fake)
        .grant(&reader("not-an-email", &[], false))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MediaError::Invalid(m) if m.contains("well-formed email")),
        "{err}"
    );
}

#[tokio::test]
async fn updating_access_is_read_back_since_the_answer_has_no_body() {
    let fake = FakeKomga::start().await;
    let (comics, manga) = (fake.library_id("Comics"), fake.library_id("Manga"));
    let c = client(&fake);
    let out = c
        .grant(&reader(
            "cy@example.com",
            std::slice::from_ref(&comics),
            false,
        ))
        .await
        .unwrap();
    c.update_access(
        &out.remote_id,
        std::slice::from_ref(&manga),
        &Permissions {
            allow_downloads: true,
            ..Permissions::default()
        },
    )
    .await
    .unwrap();
    let user = fake.user_by_email("cy@example.com").unwrap();
    assert_eq!(user.shared_ids, vec![manga]);
    assert!(user.has_role("FILE_DOWNLOAD") && user.has_role("PAGE_STREAMING"));
    let patches = fake
        .control()
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 1);
}

#[tokio::test]
async fn pausing_is_not_offered_and_removal_deletes() {
    let fake = FakeKomga::start().await;
    let c = client(&fake);
    let out = c
        .grant(&reader("di@example.com", &[], false))
        .await
        .unwrap();
    assert!(!ServerKind::Komga.can_disable());
    c.remove(&out.remote_id).await.unwrap();
    assert!(fake.user_by_email("di@example.com").is_none());
    c.remove(&out.remote_id).await.unwrap();
}

#[tokio::test]
async fn a_password_change_lets_the_reader_sign_in_with_it() {
    let fake = FakeKomga::start().await;
    let c = client(&fake);
    let out = c
        .grant(&reader("ed@example.com", &[], false))
        .await
        .unwrap();
    c.set_password(&out.remote_id, "another one").await.unwrap();
    assert!(fake.signs_in("ed@example.com", "another one"));
}

#[tokio::test]
async fn a_cut_off_attempt_is_finished_with_the_readers_own_password_only() {
    let fake = FakeKomga::start().await;
    let comics = fake.library_id("Comics");
    let c = client(&fake);
    fake.control().lose_next_answer("POST /api/v2/users", 504);
    let spec = reader("fi@example.com", std::slice::from_ref(&comics), false);
    assert!(c.grant(&spec).await.unwrap_err().is_retryable());
    let again = c.grant_again(&spec).await.unwrap();
    assert_eq!(
        again.remote_id,
        fake.user_by_email("fi@example.com").unwrap().id
    );
    assert!(
        fake.user_by_email("fi@example.com")
            .unwrap()
            .can_read_pages_in(&comics)
    );

    fake.add_user("gu@example.com", "theirs", &[]);
    let err = c
        .grant_again(&reader("gu@example.com", &[], false))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)));
}

#[tokio::test]
async fn accounts_are_listed_by_email_and_the_administrator_is_never_managed() {
    let fake = FakeKomga::start().await;
    fake.add_user("ho@example.com", "x", &[&fake.library_id("Manga")]);
    let c = client(&fake);
    let accounts = c.accounts().await.unwrap();
    let ho = accounts
        .iter()
        .find(|a| a.username == "ho@example.com")
        .unwrap();
    assert_eq!(ho.libraries, vec![fake.library_id("Manga")]);
    let admin = accounts.iter().find(|a| a.is_admin).unwrap();
    assert!(matches!(
        c.remove(&admin.remote_id).await,
        Err(MediaError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_server_that_hides_its_build_is_still_connected() {
    let fake = FakeKomga::start().await;
    fake.control().fail_next("/actuator/info", 404);
    let info = client(&fake).probe().await.unwrap();
    assert_eq!(info.version, "");
}
