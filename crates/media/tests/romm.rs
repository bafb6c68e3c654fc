//! The RomM client against its fake: every operation and the quirks of the contract.

use fakes::romm::FakeRomm;
use media::romm::RommClient;
use media::{AccountStatus, GrantSpec, Identity, MediaError, Permissions, ServerKind};

fn client(fake: &FakeRomm) -> RommClient {
    RommClient::new(&fake.url(), &fake.token()).unwrap()
}

fn player(name: &str, platforms: &[String]) -> GrantSpec {
    GrantSpec {
        identity: Identity::Account {
            username: name.into(),
            password: "a long password".into(),
            email: None,
        },
        libraries: platforms.to_vec(),
        permissions: Permissions::default(),
    }
}

#[tokio::test]
async fn probe_reads_the_version_and_checks_the_token_is_an_administrators() {
    let fake = FakeRomm::start().await;
    let info = client(&fake).probe().await.unwrap();
    assert_eq!(
        (info.kind, info.version.as_str()),
        (ServerKind::Romm, "5.2.0")
    );
    assert!(info.warning.is_none());
    let wrong = RommClient::new(&fake.url(), "rmm_wrong").unwrap();
    assert_eq!(wrong.probe().await.unwrap_err(), MediaError::Unauthorized);
    fake.set_version("4.9.2");
    let old = client(&fake).probe().await.unwrap();
    assert!(old.warning.unwrap().contains("cannot limit"));
}

#[tokio::test]
async fn a_grant_sees_only_the_chosen_platforms() {
    let fake = FakeRomm::start().await;
    let (nes, snes) = (fake.platform_id("nes"), fake.platform_id("snes"));
    let out = client(&fake)
        .grant(&player("Mario", &[nes, snes]))
        .await
        .unwrap();
    let user = fake.user_by_name("mario").unwrap();
    assert_eq!(out.remote_id, user.id.to_string());
    assert_eq!(user.role, "user");
    assert_eq!(fake.visible_slugs("mario"), ["nes", "snes"]);
    assert!(
        fake.signs_in("Mario", "a long password"),
        "names ignore case"
    );
}

#[tokio::test]
async fn updating_access_hides_and_shows_platforms_to_match_the_choice() {
    let fake = FakeRomm::start().await;
    let c = client(&fake);
    let out = c
        .grant(&player("luigi", &[fake.platform_id("nes")]))
        .await
        .unwrap();
    c.update_access(
        &out.remote_id,
        &[fake.platform_id("psx"), fake.platform_id("gba")],
        &Permissions::default(),
    )
    .await
    .unwrap();
    assert_eq!(fake.visible_slugs("luigi"), ["psx", "gba"]);
}

#[tokio::test]
async fn pausing_uses_the_form_the_server_reads_and_is_checked() {
    let fake = FakeRomm::start().await;
    let c = client(&fake);
    let out = c.grant(&player("peach", &[])).await;
    // No platform chosen on RomM 5 means every platform hidden, which is allowed.
    let out = out.unwrap();
    c.set_disabled(&out.remote_id, true).await.unwrap();
    assert!(!fake.signs_in("peach", "a long password"));
    let accounts = c.accounts().await.unwrap();
    let peach = accounts.iter().find(|a| a.username == "peach").unwrap();
    assert_eq!(peach.status, AccountStatus::Disabled);
    c.set_disabled(&out.remote_id, false).await.unwrap();
    assert!(fake.signs_in("peach", "a long password"));
    let put = fake
        .control()
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PUT")
        .unwrap();
    assert!(
        put.header("content-type")
            .unwrap()
            .starts_with("application/x-www-form-urlencoded"),
        "RomM ignores a JSON body here"
    );
}

#[tokio::test]
async fn names_romm_refuses_are_explained_before_anything_is_sent() {
    let fake = FakeRomm::start().await;
    let err = client(&fake)
        .grant(&player("Zoë B", &[]))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Invalid(m) if m.contains("letters, digits")));
    assert_eq!(fake.users().len(), 1);
    fake.add_user("toad", "x");
    let err = client(&fake).grant(&player("TOAD", &[])).await.unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)));
}

#[tokio::test]
async fn romm_4_cannot_limit_platforms_so_only_all_of_them_can_be_given() {
    let fake = FakeRomm::start().await;
    fake.set_version("4.9.2");
    let all: Vec<String> = ["nes", "snes", "psx", "gba"]
        .iter()
        .map(|p| fake.platform_id(p))
        .collect();
    let err = client(&fake)
        .grant(&player("yoshi", &all[..1]))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Unsupported(_)), "{err}");
    assert!(fake.user_by_name("yoshi").is_none());
    client(&fake).grant(&player("yoshi", &all)).await.unwrap();
    assert_eq!(fake.user_by_name("yoshi").unwrap().role, "viewer");
}

#[tokio::test]
async fn when_hiding_fails_the_account_is_deleted_again() {
    let fake = FakeRomm::start().await;
    fake.control()
        .fail_next("POST /api/permissions/hidden", 500);
    let err = client(&fake)
        .grant(&player("wario", &[fake.platform_id("nes")]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("removed again"), "{err}");
    assert!(fake.user_by_name("wario").is_none());
}

#[tokio::test]
async fn removal_deletes_and_the_administrator_is_never_managed() {
    let fake = FakeRomm::start().await;
    let c = client(&fake);
    let out = c.grant(&player("daisy", &[])).await.unwrap();
    c.remove(&out.remote_id).await.unwrap();
    assert!(fake.user_by_name("daisy").is_none());
    c.remove(&out.remote_id).await.unwrap();
    assert!(matches!(c.remove("1").await, Err(MediaError::Invalid(_))));
}

#[tokio::test]
async fn a_cut_off_attempt_is_finished_with_the_members_password_only() {
    let fake = FakeRomm::start().await;
    let c = client(&fake);
    fake.control().lose_next_answer("POST /api/users", 504);
    let spec = player("kirby", &[fake.platform_id("gba")]);
    assert!(c.grant(&spec).await.unwrap_err().is_retryable());
    let again = c.grant_again(&spec).await.unwrap();
    assert_eq!(
        again.remote_id,
        fake.user_by_name("kirby").unwrap().id.to_string()
    );
    assert_eq!(fake.visible_slugs("kirby"), ["gba"]);
    fake.add_user("samus", "theirs");
    let err = c.grant_again(&player("samus", &[])).await.unwrap_err();
    assert!(matches!(err, MediaError::AlreadyExists(_)));
}
