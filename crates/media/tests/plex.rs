//! The Plex connector against the fake plex.tv and Plex Media Server.

use std::time::Duration;

use fakes::plex::{FakePlex, PlexAccount, PlexServer, demo};
use media::plex::{PlexAuth, PlexEndpoints, PlexServerClient, SECTION_FETCH_ATTEMPTS};
use media::{
    AccountStatus, ClientInfo, GrantSpec, Identity, MediaClient, MediaError, Permissions,
    ServerKind,
};
use serde_json::Value;

const CLIENT_ID: &str = "usher-test-installation";
const MOVIES: u64 = demo::LIBRARIES[0].0;
const SHOWS: u64 = demo::LIBRARIES[1].0;
const MUSIC: u64 = demo::LIBRARIES[2].0;
const ALICE: (u64, &str, &str, &str) = demo::FRIENDS[0];
const BOB: (u64, &str, &str, &str) = demo::FRIENDS[1];

fn info() -> ClientInfo {
    ClientInfo::new(CLIENT_ID)
}

fn endpoints(fake: &FakePlex) -> PlexEndpoints {
    PlexEndpoints {
        plex_tv: fake.plex_tv_url(),
        clients: fake.clients_url(),
        app: fake.app_url(),
    }
}

fn client_as(fake: &FakePlex, token: &str) -> PlexServerClient {
    PlexServerClient::new(
        &fake.server_url(demo::SERVER_ID),
        token,
        info(),
        endpoints(fake),
    )
    .unwrap()
}

async fn setup() -> (FakePlex, PlexServerClient) {
    let fake = FakePlex::seeded_demo().await.unwrap();
    let client = client_as(&fake, demo::OWNER_TOKEN);
    (fake, client)
}

fn spec(who: &str, libraries: &[u64]) -> GrantSpec {
    GrantSpec {
        identity: Identity::PlexUser {
            email_or_username: who.into(),
        },
        libraries: libraries.iter().map(u64::to_string).collect(),
        permissions: Permissions::default(),
    }
}

fn ids(libraries: &[u64]) -> Vec<String> {
    libraries.iter().map(u64::to_string).collect()
}

fn v1_shares_path() -> String {
    format!("/api/servers/{}/shared_servers", demo::SERVER_ID)
}

fn body_of(fake: &FakePlex, path: &str, method: &str) -> Value {
    let req = fake
        .control()
        .requests_to(path)
        .into_iter()
        .rfind(|r| r.method == method)
        .unwrap_or_else(|| panic!("no {method} {path}"));
    serde_json::from_str(&req.body).unwrap()
}

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

// --- probe -----------------------------------------------------------------------------------

#[tokio::test]
async fn probing_an_owned_server_returns_its_machine_id_name_and_version() {
    let (_fake, client) = setup().await;
    let info = client.probe().await.unwrap();
    assert_eq!(info.id, demo::SERVER_ID);
    assert_eq!(info.name, demo::SERVER_NAME);
    assert_eq!(info.version, demo::SERVER_VERSION);
    assert_eq!(info.kind, ServerKind::Plex);
    assert_eq!(info.warning, None);
}

#[tokio::test]
async fn probing_with_a_bad_token_is_unauthorized_and_never_repeats_the_token() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    let client = client_as(&fake, "not-a-real-token-12345");
    let err = client.probe().await.unwrap_err();
    assert_eq!(err, MediaError::Unauthorized);
    assert!(!err.to_string().contains("not-a-real-token-12345"));
    assert!(!format!("{client:?}").contains("not-a-real-token-12345"));
}

#[tokio::test]
async fn probing_with_a_friends_token_is_not_owner() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    fake.add_share(demo::SERVER_ID, ALICE.1, &[MOVIES], true);
    let err = client_as(&fake, ALICE.3).probe().await.unwrap_err();
    assert_eq!(err, MediaError::NotOwner);
    // A stranger whose token plex.tv knows is told the same, not "bad token".
    let err = client_as(&fake, BOB.3).probe().await.unwrap_err();
    assert_eq!(err, MediaError::NotOwner);
}

#[tokio::test]
async fn probing_a_closed_port_is_unreachable() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    let client = PlexServerClient::new(
        &closed_port_url(),
        demo::OWNER_TOKEN,
        info(),
        endpoints(&fake),
    )
    .unwrap();
    let err = client.probe().await.unwrap_err();
    assert!(matches!(err, MediaError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn probing_something_that_is_not_plex_says_so() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    let client = PlexServerClient::new(
        &fake.plex_tv_url(),
        demo::OWNER_TOKEN,
        info(),
        endpoints(&fake),
    )
    .unwrap();
    let err = client.probe().await.unwrap_err();
    assert!(matches!(err, MediaError::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("32400"), "{err}");
}

#[tokio::test]
async fn a_rate_limited_call_reports_retry_after() {
    let (fake, client) = setup().await;
    fake.set_rate_limit(0);
    let err = client.probe().await.unwrap_err();
    assert_eq!(
        err,
        MediaError::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_failing_plex_tv_is_a_retryable_server_error() {
    let (fake, client) = setup().await;
    fake.control().fail_next("/api/v2/resources", 503);
    let err = client.probe().await.unwrap_err();
    assert!(
        matches!(err, MediaError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    client.probe().await.unwrap();
}

#[tokio::test]
async fn the_media_client_enum_dispatches_to_plex() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    let client = MediaClient::new(
        ServerKind::Plex,
        &fake.server_url(demo::SERVER_ID),
        demo::OWNER_TOKEN,
        &info(),
        &endpoints(&fake),
    )
    .unwrap();
    assert_eq!(client.probe().await.unwrap().id, demo::SERVER_ID);
    assert!(!client.can_disable());
}

// --- libraries -------------------------------------------------------------------------------

#[tokio::test]
async fn libraries_carry_global_ids_and_local_keys() {
    let (_fake, client) = setup().await;
    let libraries = client.libraries().await.unwrap();
    let got: Vec<(String, String, String, String)> = libraries
        .into_iter()
        .map(|l| (l.id, l.local_key, l.name, l.kind))
        .collect();
    let want: Vec<(String, String, String, String)> = demo::LIBRARIES
        .iter()
        .map(|(g, k, t, kind)| {
            (
                g.to_string(),
                k.to_string(),
                t.to_string(),
                kind.to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn libraries_are_fetched_again_when_plex_tv_lists_fewer_sections() {
    let (fake, client) = setup().await;
    fake.set_partial_sections(demo::SERVER_ID, SECTION_FETCH_ATTEMPTS as u32 - 1);
    let libraries = client.libraries().await.unwrap();
    assert_eq!(libraries.len(), 3);
    let path = format!("/api/v2/servers/{}", demo::SERVER_ID);
    assert_eq!(
        fake.control().requests_to(&path).len(),
        SECTION_FETCH_ATTEMPTS
    );
}

#[tokio::test]
async fn libraries_fail_clearly_when_plex_tv_keeps_listing_fewer_sections() {
    let (fake, client) = setup().await;
    fake.set_partial_sections(demo::SERVER_ID, 100);
    let err = client.libraries().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("listed 2 of the server's 3 libraries"),
        "{err}"
    );
    assert!(err.is_retryable());
    let path = format!("/api/v2/servers/{}", demo::SERVER_ID);
    assert_eq!(
        fake.control().requests_to(&path).len(),
        SECTION_FETCH_ATTEMPTS,
        "a bounded number of fetches"
    );
}

#[tokio::test]
async fn libraries_fall_back_to_v1_when_v2_servers_is_gone() {
    for status in [404, 410] {
        let (fake, client) = setup().await;
        fake.control()
            .fail_next(&format!("/api/v2/servers/{}", demo::SERVER_ID), status);
        let libraries = client.libraries().await.unwrap();
        assert_eq!(libraries[0].id, MOVIES.to_string());
        assert_eq!(
            fake.control()
                .requests_to(&format!("/api/servers/{}", demo::SERVER_ID))
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn libraries_of_a_server_the_token_does_not_own_is_not_owner() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    fake.add_share(demo::SERVER_ID, ALICE.1, &[MOVIES], true);
    let err = client_as(&fake, ALICE.3).libraries().await.unwrap_err();
    assert_eq!(err, MediaError::NotOwner);
}

// --- grant -----------------------------------------------------------------------------------

#[tokio::test]
async fn granting_invites_by_global_section_ids_and_is_pending_until_accepted() {
    let (fake, client) = setup().await;
    let outcome = client
        .grant(&spec(ALICE.2, &[MOVIES, MUSIC]))
        .await
        .unwrap();
    assert!(outcome.pending);
    assert_eq!(outcome.username, ALICE.1);
    assert_eq!(outcome.remote_user_id, Some(ALICE.0.to_string()));

    let body = body_of(&fake, &v1_shares_path(), "POST");
    assert_eq!(body["server_id"], demo::SERVER_ID);
    assert_eq!(
        body["shared_server"]["library_section_ids"],
        serde_json::json!([MOVIES, MUSIC])
    );
    assert_eq!(body["shared_server"]["invited_email"], ALICE.2);

    let shares = fake.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].id.to_string(), outcome.remote_id);
    assert_eq!(shares[0].section_ids, [MOVIES, MUSIC]);
    assert!(!shares[0].accepted);
}

#[tokio::test]
async fn granting_sends_the_chosen_settings_and_filters_in_plex_format() {
    let (fake, client) = setup().await;
    let mut grant = spec(BOB.1, &[MOVIES]);
    grant.permissions = Permissions {
        allow_downloads: true,
        allow_live_tv: true,
        allow_camera_upload: true,
        filter_movies: "contentRating=G,PG".into(),
        filter_television: "label!=scary".into(),
        ..Permissions::default()
    };
    client.grant(&grant).await.unwrap();
    let settings = &body_of(&fake, &v1_shares_path(), "POST")["sharing_settings"];
    assert_eq!(settings["allowSync"], "1");
    assert_eq!(settings["allowCameraUpload"], "1");
    assert_eq!(settings["allowChannels"], "0");
    assert_eq!(settings["filterMovies"], "contentRating=G%2CPG");
    let share = &fake.shares_of(demo::SERVER_ID)[0];
    assert!(share.allow_sync && share.allow_camera_upload);
    assert_eq!(share.allow_tuners, 1);
    assert_eq!(share.filter_movies, "contentRating=G%2CPG");
    assert_eq!(share.filter_television, "label!=scary");
}

#[tokio::test]
async fn granting_falls_back_to_v2_when_the_v1_call_answers_404_or_410() {
    for status in [404, 410] {
        let (fake, client) = setup().await;
        fake.control().fail_next(&v1_shares_path(), status);
        let outcome = client.grant(&spec(ALICE.1, &[SHOWS])).await.unwrap();
        assert!(outcome.pending);
        let body = body_of(&fake, "/api/v2/shared_servers", "POST");
        assert_eq!(body["machineIdentifier"], demo::SERVER_ID);
        assert_eq!(body["invitedEmail"], ALICE.1);
        assert_eq!(body["librarySectionIds"], serde_json::json!([SHOWS]));
        assert_eq!(body["skipFriendship"], true);
        let shares = fake.shares_of(demo::SERVER_ID);
        assert_eq!(shares.len(), 1, "status {status}");
        assert_eq!(shares[0].id.to_string(), outcome.remote_id);
    }
}

#[tokio::test]
async fn granting_what_is_already_shared_updates_the_share() {
    let (fake, client) = setup().await;
    let first = client.grant(&spec(ALICE.1, &[MOVIES])).await.unwrap();
    fake.accept_invites(ALICE.1);
    let mut again = spec(ALICE.2, &[MOVIES, SHOWS]);
    again.permissions.allow_downloads = true;
    let second = client.grant(&again).await.unwrap();
    assert_eq!(second.remote_id, first.remote_id);
    assert!(!second.pending);
    let shares = fake.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].section_ids, [MOVIES, SHOWS]);
    assert!(shares[0].allow_sync);
}

#[tokio::test]
async fn granting_when_v2_answers_already_shared_updates_the_share_too() {
    let (fake, client) = setup().await;
    let first = client.grant(&spec(BOB.1, &[MOVIES])).await.unwrap();
    fake.control().fail_next(&v1_shares_path(), 410);
    let second = client.grant(&spec(BOB.1, &[MUSIC])).await.unwrap();
    assert_eq!(second.remote_id, first.remote_id);
    assert!(second.pending);
    assert_eq!(fake.shares_of(demo::SERVER_ID)[0].section_ids, [MUSIC]);
}

#[tokio::test]
async fn granting_past_the_share_limit_is_limit_reached() {
    let (fake, client) = setup().await;
    for n in 0..100 {
        fake.add_share(
            demo::SERVER_ID,
            &format!("f{n}@example.com"),
            &[MOVIES],
            true,
        );
    }
    let err = client.grant(&spec(ALICE.1, &[MOVIES])).await.unwrap_err();
    assert!(matches!(err, MediaError::LimitReached(_)), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn granting_label_filters_without_plex_pass_needs_plex_pass() {
    let owner = PlexAccount::new(1, "owner", "owner@example.com", "owner-token");
    let fake = FakePlex::builder(owner)
        .server(PlexServer::new(demo::SERVER_ID, "S").library(700, 1, "Movies", "movie"))
        .account(PlexAccount::new(2, "amy", "amy@example.com", "amy-token"))
        .start()
        .await
        .unwrap();
    let client = client_as(&fake, "owner-token");
    let mut grant = spec("amy", &[700]);
    grant.permissions.filter_movies = "label=family".into();
    assert_eq!(
        client.grant(&grant).await.unwrap_err(),
        MediaError::PlexPassRequired
    );
}

#[tokio::test]
async fn granting_to_an_unknown_username_is_not_found() {
    let (_fake, client) = setup().await;
    let err = client
        .grant(&spec("no-such-user", &[MOVIES]))
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn granting_to_an_email_without_an_account_is_a_pending_invite() {
    let (fake, client) = setup().await;
    let outcome = client
        .grant(&spec("new.person@example.com", &[MOVIES]))
        .await
        .unwrap();
    assert!(outcome.pending);
    assert_eq!(outcome.remote_user_id, None);
    assert_eq!(outcome.username, "new.person@example.com");
    assert_eq!(fake.shares_of(demo::SERVER_ID).len(), 1);
}

#[tokio::test]
async fn granting_by_local_keys_is_refused_by_plex_tv() {
    let (fake, client) = setup().await;
    let err = client.grant(&spec(ALICE.1, &[1, 2])).await.unwrap_err();
    assert!(matches!(err, MediaError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("section ids"), "{err}");
    assert!(fake.shares_of(demo::SERVER_ID).is_empty());
}

#[tokio::test]
async fn granting_without_libraries_or_to_a_local_account_is_refused_before_calling_plex() {
    let (fake, client) = setup().await;
    let err = client.grant(&spec(ALICE.1, &[])).await.unwrap_err();
    assert!(matches!(err, MediaError::Invalid(_)));
    let local = GrantSpec {
        identity: Identity::Account {
            username: "x".into(),
            password: "y".into(),
            email: None,
        },
        libraries: ids(&[MOVIES]),
        permissions: Permissions::default(),
    };
    assert!(matches!(
        client.grant(&local).await.unwrap_err(),
        MediaError::Invalid(_)
    ));
    let mut bad_filter = spec(ALICE.1, &[MOVIES]);
    bad_filter.permissions.filter_music = "genre=Jazz".into();
    assert!(matches!(
        client.grant(&bad_filter).await.unwrap_err(),
        MediaError::Invalid(_)
    ));
    assert!(fake.control().requests().is_empty());
}

#[tokio::test]
async fn granting_on_a_server_the_token_does_not_own_is_not_owner() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    let err = client_as(&fake, BOB.3)
        .grant(&spec(ALICE.1, &[MOVIES]))
        .await
        .unwrap_err();
    assert_eq!(err, MediaError::NotOwner);
}

#[tokio::test]
async fn a_plex_home_grant_makes_a_managed_user_once_and_shares_with_it() {
    let (fake, client) = setup().await;
    let mut grant = spec("Kids", &[MOVIES]);
    grant.permissions.plex_home = true;
    let outcome = client.grant(&grant).await.unwrap();
    assert!(!outcome.pending);
    assert_eq!(outcome.username, "Kids");
    let home = fake.home_users(demo::OWNER_ID);
    assert_eq!(home.len(), 1);
    assert!(home[0].managed);
    assert_eq!(outcome.remote_user_id, Some(home[0].id.to_string()));
    let body = body_of(&fake, &v1_shares_path(), "POST");
    assert_eq!(body["shared_server"]["invited_id"], home[0].id);

    // A retried grant reuses the Home user and updates the share.
    grant.libraries = ids(&[MOVIES, SHOWS]);
    let again = client.grant(&grant).await.unwrap();
    assert_eq!(again.remote_id, outcome.remote_id);
    assert_eq!(fake.home_users(demo::OWNER_ID).len(), 1);
    let shares = fake.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    assert!(shares[0].accepted);
    assert_eq!(shares[0].section_ids, [MOVIES, SHOWS]);

    client
        .remove_home_user(&home[0].id.to_string())
        .await
        .unwrap();
    assert!(fake.home_users(demo::OWNER_ID).is_empty());
    assert!(fake.shares_of(demo::SERVER_ID).is_empty());
    client
        .remove_home_user(&home[0].id.to_string())
        .await
        .unwrap();
}

// --- update, remove, accounts ----------------------------------------------------------------

#[tokio::test]
async fn updating_access_changes_libraries_and_settings_by_global_id() {
    let (fake, client) = setup().await;
    let outcome = client.grant(&spec(ALICE.1, &[MOVIES])).await.unwrap();
    let permissions = Permissions {
        allow_downloads: true,
        filter_music: "contentRating!=explicit".into(),
        ..Permissions::default()
    };
    client
        .update_access(&outcome.remote_id, &ids(&[SHOWS, MUSIC]), &permissions)
        .await
        .unwrap();
    let path = format!("/api/v2/shared_servers/{}", outcome.remote_id);
    let body = body_of(&fake, &path, "POST");
    assert_eq!(body["librarySectionIds"], serde_json::json!([SHOWS, MUSIC]));
    assert_eq!(body["settings"]["allowSync"], true);
    let share = &fake.shares_of(demo::SERVER_ID)[0];
    assert_eq!(share.section_ids, [SHOWS, MUSIC]);
    assert!(share.allow_sync);
    assert_eq!(share.filter_music, "contentRating!=explicit");
}

#[tokio::test]
async fn updating_access_falls_back_to_v1_when_v2_is_gone() {
    let (fake, client) = setup().await;
    let outcome = client.grant(&spec(ALICE.1, &[MOVIES])).await.unwrap();
    fake.accept_invites(ALICE.1);
    let path = format!("/api/v2/shared_servers/{}", outcome.remote_id);
    fake.control().fail_next(&path, 410);
    let permissions = Permissions {
        allow_live_tv: true,
        ..Permissions::default()
    };
    client
        .update_access(&outcome.remote_id, &ids(&[MUSIC]), &permissions)
        .await
        .unwrap();
    let v1 = body_of(
        &fake,
        &format!("{}/{}", v1_shares_path(), outcome.remote_id),
        "PUT",
    );
    assert_eq!(
        v1["shared_server"]["library_section_ids"],
        serde_json::json!([MUSIC])
    );
    let settings = fake
        .control()
        .requests_to(&format!("/api/v2/sharings/{}", ALICE.0));
    assert_eq!(settings.len(), 1);
    assert!(
        settings[0].query.contains("allowTuners=1"),
        "{}",
        settings[0].query
    );
    let share = &fake.shares_of(demo::SERVER_ID)[0];
    assert_eq!(share.section_ids, [MUSIC]);
    assert_eq!(share.allow_tuners, 1);
}

#[tokio::test]
async fn updating_a_share_that_is_gone_is_not_found() {
    let (_fake, client) = setup().await;
    let err = client
        .update_access("987654", &ids(&[MOVIES]), &Permissions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn removing_a_share_ends_it_and_removing_it_again_succeeds() {
    let (fake, client) = setup().await;
    let outcome = client.grant(&spec(ALICE.1, &[MOVIES])).await.unwrap();
    client.remove(&outcome.remote_id).await.unwrap();
    assert!(fake.shares_of(demo::SERVER_ID).is_empty());
    client.remove(&outcome.remote_id).await.unwrap();
}

#[tokio::test]
async fn removing_falls_back_to_ending_the_sharing_when_the_v1_call_is_gone() {
    let (fake, client) = setup().await;
    let outcome = client.grant(&spec(BOB.1, &[MOVIES])).await.unwrap();
    let path = format!("{}/{}", v1_shares_path(), outcome.remote_id);
    fake.control().fail_next(&path, 410);
    client.remove(&outcome.remote_id).await.unwrap();
    assert!(fake.shares_of(demo::SERVER_ID).is_empty());
    assert_eq!(
        fake.control()
            .requests_to(&format!("/api/v2/sharings/{}", BOB.0))
            .len(),
        1
    );
}

#[tokio::test]
async fn removing_does_not_trust_a_404_while_plex_tv_still_lists_the_share() {
    let (fake, client) = setup().await;
    let outcome = client.grant(&spec(BOB.1, &[MOVIES])).await.unwrap();
    let path = format!("{}/{}", v1_shares_path(), outcome.remote_id);
    fake.control().fail_next(&path, 404);
    client.remove(&outcome.remote_id).await.unwrap();
    assert!(fake.shares_of(demo::SERVER_ID).is_empty());
}

#[tokio::test]
async fn removing_without_the_v1_call_refuses_to_end_the_friends_other_shares() {
    let fake = FakePlex::demo_builder()
        .server(PlexServer::new("second", "Cabin").library(990_001, 1, "Movies", "movie"))
        .start()
        .await
        .unwrap();
    let client = client_as(&fake, demo::OWNER_TOKEN);
    let outcome = client.grant(&spec(BOB.1, &[MOVIES])).await.unwrap();
    fake.add_share("second", BOB.1, &[990_001], true);
    fake.control()
        .fail_next(&format!("{}/{}", v1_shares_path(), outcome.remote_id), 410);
    let err = client.remove(&outcome.remote_id).await.unwrap_err();
    assert!(matches!(err, MediaError::EndpointRemoved(_)), "{err:?}");
    assert_eq!(fake.shares_of("second").len(), 1);
}

#[tokio::test]
async fn accounts_list_accepted_and_pending_shares_with_their_libraries() {
    let (fake, client) = setup().await;
    let alice = client
        .grant(&spec(ALICE.1, &[MOVIES, SHOWS]))
        .await
        .unwrap();
    let bob = client.grant(&spec(BOB.2, &[MUSIC])).await.unwrap();
    let stranger = client
        .grant(&spec("someone@example.com", &[MOVIES]))
        .await
        .unwrap();
    fake.accept_invites(ALICE.1);

    let mut accounts = client.accounts().await.unwrap();
    accounts.sort_by(|a, b| a.username.cmp(&b.username));
    assert_eq!(accounts.len(), 3);
    let a = &accounts[0];
    assert_eq!(a.username, ALICE.1);
    assert_eq!(a.remote_id, alice.remote_id);
    assert_eq!(a.remote_user_id, Some(ALICE.0.to_string()));
    assert_eq!(a.email.as_deref(), Some(ALICE.2));
    assert_eq!(a.status, AccountStatus::Active);
    assert_eq!(a.libraries, ids(&[MOVIES, SHOWS]));
    assert!(!a.all_libraries && !a.is_admin);
    let b = &accounts[1];
    assert_eq!(
        (b.username.as_str(), b.status),
        (BOB.1, AccountStatus::Pending)
    );
    assert_eq!(b.remote_id, bob.remote_id);
    assert_eq!(b.libraries, ids(&[MUSIC]));
    let s = &accounts[2];
    assert_eq!(s.remote_id, stranger.remote_id);
    assert_eq!(s.remote_user_id, None);
    assert_eq!(s.email.as_deref(), Some("someone@example.com"));
    assert_eq!(s.status, AccountStatus::Pending);
}

#[tokio::test]
async fn accounts_only_list_shares_of_this_server() {
    let fake = FakePlex::demo_builder()
        .server(PlexServer::new("second", "Cabin").library(990_001, 1, "Movies", "movie"))
        .start()
        .await
        .unwrap();
    fake.add_share("second", ALICE.1, &[990_001], true);
    let client = client_as(&fake, demo::OWNER_TOKEN);
    assert!(client.accounts().await.unwrap().is_empty());
}

#[tokio::test]
async fn accounts_fall_back_to_v1_when_the_v2_lists_are_gone() {
    let (fake, client) = setup().await;
    client.grant(&spec(ALICE.1, &[MOVIES])).await.unwrap();
    client.grant(&spec(BOB.1, &[MUSIC])).await.unwrap();
    fake.accept_invites(BOB.1);
    fake.control()
        .fail_next("/api/v2/shared_servers/owned/accepted", 410);
    let mut accounts = client.accounts().await.unwrap();
    accounts.sort_by(|a, b| a.username.cmp(&b.username));
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0].status, AccountStatus::Pending);
    assert_eq!(accounts[0].libraries, ids(&[MOVIES]));
    assert_eq!(accounts[1].status, AccountStatus::Active);
    assert_eq!(accounts[1].remote_user_id, Some(BOB.0.to_string()));
    assert_eq!(fake.control().requests_to(&v1_shares_path()).len(), 3);
}

// --- every call ------------------------------------------------------------------------------

#[tokio::test]
async fn every_call_sends_the_x_plex_headers_and_keeps_the_token_out_of_urls() {
    let (fake, client) = setup().await;
    client.probe().await.unwrap();
    client.libraries().await.unwrap();
    let outcome = client.grant(&spec(ALICE.1, &[MOVIES])).await.unwrap();
    client
        .update_access(&outcome.remote_id, &ids(&[MUSIC]), &Permissions::default())
        .await
        .unwrap();
    client.accounts().await.unwrap();
    client.remove(&outcome.remote_id).await.unwrap();

    let requests = fake.control().requests();
    assert!(requests.len() >= 10);
    let expected = info();
    for r in &requests {
        let what = format!("{} {}", r.method, r.path);
        assert_eq!(
            r.header("x-plex-product"),
            Some(expected.product.as_str()),
            "{what}"
        );
        assert_eq!(
            r.header("x-plex-version"),
            Some(expected.version.as_str()),
            "{what}"
        );
        assert_eq!(
            r.header("x-plex-client-identifier"),
            Some(CLIENT_ID),
            "{what}"
        );
        assert_eq!(
            r.header("x-plex-platform"),
            Some(expected.platform.as_str()),
            "{what}"
        );
        assert_eq!(
            r.header("x-plex-device-name"),
            Some(expected.device_name.as_str()),
            "{what}"
        );
        assert!(r.header("x-plex-device").is_some(), "{what}");
        assert!(!r.query.contains(demo::OWNER_TOKEN), "{what}");
        if r.path != "/identity" {
            assert_eq!(r.header("x-plex-token"), Some(demo::OWNER_TOKEN), "{what}");
        }
    }
}

// --- sign in with Plex -----------------------------------------------------------------------

fn auth(fake: &FakePlex) -> PlexAuth {
    PlexAuth::new(info(), endpoints(fake)).unwrap()
}

#[tokio::test]
async fn signing_in_with_plex_gives_the_token_once_the_pin_is_approved() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    let auth = auth(&fake);
    let pin = auth.create_pin().await.unwrap();
    assert_eq!(pin.code.len(), 25, "a strong PIN");
    let created = &fake.control().requests_to("/api/v2/pins")[0];
    assert_eq!(created.query, "strong=true");
    assert_eq!(created.header("x-plex-token"), None);

    let url = auth.auth_url(&pin, "https://usher.example.com/i/abc?step=2");
    assert!(
        url.starts_with(&format!("{}/auth#?", fake.app_url())),
        "{url}"
    );
    assert!(url.contains(&format!("clientID={CLIENT_ID}")), "{url}");
    assert!(url.contains(&format!("code={}", pin.code)), "{url}");
    assert!(
        url.contains("forwardUrl=https%3A%2F%2Fusher.example.com%2Fi%2Fabc%3Fstep%3D2"),
        "{url}"
    );
    assert!(
        url.contains("context%5Bdevice%5D%5Bproduct%5D=usher"),
        "{url}"
    );

    assert_eq!(auth.check_pin(pin.id).await.unwrap(), None);
    assert!(fake.approve_pin(pin.id, ALICE.1));
    let token = auth.check_pin(pin.id).await.unwrap().expect("approved");
    assert_eq!(token, ALICE.3);

    let user = auth.user(&token).await.unwrap();
    assert_eq!(user.id, ALICE.0);
    assert_eq!(user.username, ALICE.1);
    assert_eq!(user.email, ALICE.2);
    assert!(user.thumb.unwrap().contains("/avatar"));
}

#[tokio::test]
async fn checking_an_expired_pin_says_to_start_again() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    let auth = auth(&fake);
    let pin = auth.create_pin().await.unwrap();
    fake.expire_pin(pin.id);
    let err = auth.check_pin(pin.id).await.unwrap_err();
    assert!(matches!(err, MediaError::NotFound(_)), "{err:?}");
    assert!(err.to_string().contains("again"), "{err}");
}

#[tokio::test]
async fn polling_a_pin_too_fast_is_rate_limited() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    let auth = auth(&fake);
    let pin = auth.create_pin().await.unwrap();
    fake.set_rate_limit(0);
    assert!(matches!(
        auth.check_pin(pin.id).await.unwrap_err(),
        MediaError::RateLimited {
            retry_after: Some(_)
        }
    ));
}

#[tokio::test]
async fn the_owner_can_list_their_servers_to_pick_one() {
    let fake = FakePlex::seeded_demo().await.unwrap();
    fake.add_share(demo::SERVER_ID, ALICE.1, &[MOVIES], true);
    let auth = auth(&fake);
    let servers = auth.servers(demo::OWNER_TOKEN).await.unwrap();
    assert_eq!(servers.len(), 1);
    let s = &servers[0];
    assert_eq!(s.name, demo::SERVER_NAME);
    assert_eq!(s.machine_id, demo::SERVER_ID);
    assert!(s.owned);
    assert_eq!(s.access_token, demo::OWNER_TOKEN);
    assert_eq!(s.connections[0].uri, fake.server_url(demo::SERVER_ID));
    assert!(!format!("{s:?}").contains(demo::OWNER_TOKEN));

    let shared = auth.servers(ALICE.3).await.unwrap();
    assert!(!shared[0].owned);
    assert_eq!(
        auth.servers("bad-token").await.unwrap_err(),
        MediaError::Unauthorized
    );
    assert_eq!(
        auth.user("bad-token").await.unwrap_err(),
        MediaError::Unauthorized
    );
}
