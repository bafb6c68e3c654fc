//! Access on the servers is exactly what usher shows: one share per account, nothing left
//! behind on removal, defaults and profiles honoured on every path.

use fakes::plex::demo;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const MOVIES: u64 = demo::LIBRARIES[0].0;
const TV: u64 = demo::LIBRARIES[1].0;

/// Redeems `code` through the API as `body`; returns the new member's id.
async fn redeem(w: &World, code: &str, body: Value) -> i64 {
    let res = w.redeem_api(code, body).await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["member"]["id"].as_i64().unwrap()
}

/// Live grants on a server: (grant id, member id, identity).
async fn live_grants(w: &World, server_id: i64) -> Vec<(i64, i64, String)> {
    sqlx::query_as(
        "SELECT id, member_id, identity FROM grants
         WHERE server_id = ? AND status IN ('provisioning', 'pending', 'active', 'disabled')",
    )
    .bind(server_id)
    .fetch_all(w.app.state.store.pool())
    .await
    .unwrap()
}

async fn actions(w: &World, member: i64) -> Vec<(String, String)> {
    w.app
        .state
        .store
        .member_events(member, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail.unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn a_second_redemption_by_the_same_plex_account_joins_its_share() {
    let w = world().await;
    let kids = w
        .invite(&[w.plex_id], "1", |i| {
            i.targets[0].libraries = Some(vec![MOVIES.to_string()]);
            i.targets[0].permissions = Some(media::Permissions {
                filter_movies: "contentRating=G%2CPG".into(),
                ..Default::default()
            });
            i.duration = "30d".into();
        })
        .await;
    let first = redeem(&w, &kids, json!({"email": "alice@example.com"})).await;

    // The same account again, spelled as its username, through an invite for another library.
    let tv = w
        .invite(&[w.plex_id], "1", |i| {
            i.targets[0].libraries = Some(vec![TV.to_string()]);
            i.duration = "7d".into();
        })
        .await;
    let second = redeem(&w, &tv, json!({"plex_username": "alice"})).await;

    let shares = w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1, "{shares:?}");
    let mut sections = shares[0].section_ids.clone();
    sections.sort();
    assert_eq!(sections, vec![MOVIES, TV], "both invites' libraries");
    assert_eq!(
        shares[0].filter_movies, "contentRating=G%2CPG",
        "the filter is kept"
    );

    let live = live_grants(&w, w.plex_id).await;
    assert_eq!(live.len(), 1, "one live grant per account: {live:?}");
    assert_eq!(live[0].1, second);
    let grant = w.app.state.store.grant(live[0].0).await.unwrap().unwrap();
    let terms = grant.terms().unwrap();
    assert_eq!(terms.libraries.len(), 2);
    assert_eq!(terms.permissions.filter_movies, "contentRating=G%2CPG");
    let now = w.app.state.clock.now();
    assert!(
        terms.expires_at.unwrap() > now + 29 * 86_400,
        "the later end wins"
    );
    let old = &w.app.state.store.member_grants(first).await.unwrap()[0];
    assert_eq!(old.status, "removed");
    assert!(
        old.last_error.as_deref().unwrap().contains(&tv),
        "{:?}",
        old.last_error
    );

    // Both histories say what happened to the share.
    let (new_events, old_events) = (actions(&w, second).await, actions(&w, first).await);
    let combined = new_events
        .iter()
        .find(|(a, _)| a == "grant.combined")
        .unwrap_or_else(|| panic!("{new_events:?}"));
    assert!(
        combined.1.contains("Movies, TV Shows") && combined.1.contains("filters kept"),
        "{combined:?}"
    );
    assert!(
        old_events.iter().any(|(a, _)| a == "grant.superseded"),
        "{old_events:?}"
    );

    // The dashboard counts people with live access.
    let per_server = w.app.state.store.members_per_server().await.unwrap();
    assert!(
        per_server.contains(&("Home Plex".to_string(), 1)),
        "{per_server:?}"
    );

    // Removing the one live grant ends the share; the old one cannot be removed twice.
    let removed = usher::members::remove_grant(&w.app.state, second, live[0].0, "owner")
        .await
        .unwrap();
    assert_eq!(removed, usher::jobs::Outcome::Done);
    assert!(w.plex.shares_of(demo::SERVER_ID).is_empty());
    assert!(
        usher::members::remove_grant(&w.app.state, first, old.id, "owner")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn redeeming_twice_with_the_same_email_never_wipes_the_filter() {
    let w = world().await;
    let kids = w
        .invite(&[w.plex_id], "1", |i| {
            i.targets[0].permissions = Some(media::Permissions {
                filter_television: "label!=horror".into(),
                ..Default::default()
            });
        })
        .await;
    redeem(&w, &kids, json!({"email": "bob@example.com"})).await;
    let plain = w.invite(&[w.plex_id], "1", |_| {}).await;
    redeem(&w, &plain, json!({"email": "Bob@Example.com"})).await;
    let shares = w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].filter_television, "label!=horror");
    assert_eq!(live_grants(&w, w.plex_id).await.len(), 1);
}

#[tokio::test]
async fn a_share_two_old_grants_hold_survives_removing_one() {
    // Databases from before one-share-per-account can hold two live grants on one share.
    let w = world().await;
    let a = w.invite(&[w.plex_id], "1", |_| {}).await;
    let first = redeem(&w, &a, json!({"email": "carol@example.com"})).await;
    let g1 = w.app.state.store.member_grants(first).await.unwrap()[0].clone();
    let b = w
        .invite(&[w.plex_id], "1", |i| {
            i.targets[0].libraries = Some(vec![TV.to_string()])
        })
        .await;
    let second = redeem(&w, &b, json!({"email": "carol@example.com"})).await;
    let g2 = w.app.state.store.member_grants(second).await.unwrap()[0].clone();
    // Bring the first back to life as the old code left it.
    sqlx::query("UPDATE grants SET status = 'active', last_error = NULL WHERE id = ?")
        .bind(g1.id)
        .execute(w.app.state.store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE grants SET libraries = ? WHERE id = ?")
        .bind(json!([TV.to_string()]).to_string())
        .bind(g2.id)
        .execute(w.app.state.store.pool())
        .await
        .unwrap();
    usher::members::remove_grant(&w.app.state, second, g2.id, "owner")
        .await
        .unwrap();
    let shares = w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1, "the first member keeps Plex");
    let g1 = w.app.state.store.grant(g1.id).await.unwrap().unwrap();
    let mut want: Vec<u64> = g1
        .library_ids()
        .unwrap()
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    want.sort();
    let mut got = shares[0].section_ids.clone();
    got.sort();
    assert_eq!(got, want, "with the first member's libraries");
}

#[tokio::test]
async fn removing_a_plex_home_member_removes_the_managed_user() {
    let w = world().await;
    let code = w
        .invite(&[w.plex_id], "1", |i| {
            i.targets[0].permissions = Some(media::Permissions {
                plex_home: true,
                ..Default::default()
            });
        })
        .await;
    let member = redeem(&w, &code, json!({"plex_username": "Kid"})).await;
    let homes = |w: &World| {
        w.plex
            .home_users(demo::OWNER_ID)
            .into_iter()
            .filter(|u| u.managed)
            .count()
    };
    assert_eq!(homes(&w), 1, "{:?}", w.plex.home_users(demo::OWNER_ID));
    let grant = w.app.state.store.member_grants(member).await.unwrap()[0].id;
    let done = usher::members::remove_grant(&w.app.state, member, grant, "owner")
        .await
        .unwrap();
    assert_eq!(done, usher::jobs::Outcome::Done);
    assert!(w.plex.shares_of(demo::SERVER_ID).is_empty());
    assert_eq!(homes(&w), 0, "{:?}", w.plex.home_users(demo::OWNER_ID));
}

#[tokio::test]
async fn unreadable_stored_libraries_stop_the_job_instead_of_granting_nothing() {
    let w = world().await;
    let code = w.invite(&[w.plex_id], "1", |_| {}).await;
    let member = redeem(&w, &code, json!({"email": "alice@example.com"})).await;
    let grant = w.app.state.store.member_grants(member).await.unwrap()[0].id;
    let before = w.plex.shares_of(demo::SERVER_ID)[0].section_ids.clone();
    sqlx::query("UPDATE grants SET libraries = '[\"81234001\",' WHERE id = ?")
        .bind(grant)
        .execute(w.app.state.store.pool())
        .await
        .unwrap();
    let job = w
        .app
        .state
        .store
        .queue_grant_job(grant, "update", &[], w.app.state.clock.now())
        .await
        .unwrap();
    let outcome = usher::jobs::run_job(&w.app.state, job).await.unwrap();
    let usher::jobs::Outcome::Failed(e) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(e.to_string().contains("damaged"), "{e}");
    assert_eq!(
        w.plex.shares_of(demo::SERVER_ID)[0].section_ids,
        before,
        "the share is untouched"
    );
    let g = w.app.state.store.grant(grant).await.unwrap().unwrap();
    assert!(g.last_error.unwrap().contains("libraries of grant"));
}

/// A usher world with an Emby server as well; returns the Emby fake and its server id.
async fn with_emby(w: &World) -> (fakes::jellyfin::FakeJellyfin, i64) {
    let emby = fakes::jellyfin::FakeJellyfin::start(fakes::jellyfin::FakeKind::Emby).await;
    let id = usher::servers::add(
        &w.app.state,
        &usher::servers::ServerInput {
            kind: "emby".into(),
            name: "Home Emby".into(),
            url: emby.url(),
            token: emby.api_key(),
        },
        "test",
    )
    .await
    .unwrap();
    (emby, id)
}

/// The server made the account, but its answer never arrived (a timeout, or usher died
/// waiting): the retry finds the account its own attempt made and finishes it.
async fn retry_after_a_lost_answer(w: &World, fake: &fakes::jellyfin::FakeJellyfin, server: i64) {
    let code = w.invite(&[server], "1", |_| {}).await;
    fake.control().lose_next_answer("/Users/New", 504);
    let res = w
        .redeem_api(
            &code,
            json!({"username": "Dora", "password": "a long password"}),
        )
        .await;
    let v: Value = res.json().await.unwrap();
    let member = v["member"]["id"].as_i64().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(fake.users().iter().filter(|u| u.name == "Dora").count(), 1);
    w.app.state.clock.advance(3600);
    usher::jobs::run_due(&w.app.state).await.unwrap();
    let g = &w.app.state.store.member_grants(member).await.unwrap()[0];
    assert_eq!(g.status, "active", "{:?}", g.last_error);
    let user = fake.user_by_name("Dora").unwrap();
    assert_eq!(g.remote_id.as_deref(), Some(user.id.as_str()));
    assert!(user.password_matches("a long password"));
    assert!(!user.is_admin() && !user.is_disabled());
    assert!(!user.enabled_folders().is_empty());
    assert_eq!(
        fake.users()
            .iter()
            .filter(|u| u.name.eq_ignore_ascii_case("dora"))
            .count(),
        1,
        "exactly one account"
    );
}

#[tokio::test]
async fn a_jellyfin_account_made_before_a_lost_answer_is_adopted_on_retry() {
    let w = world().await;
    retry_after_a_lost_answer(&w, &w.jf, w.jf_id).await;
}

#[tokio::test]
async fn an_emby_account_made_before_a_lost_answer_is_adopted_on_retry() {
    let w = world().await;
    let (emby, id) = with_emby(&w).await;
    retry_after_a_lost_answer(&w, &emby, id).await;
}

#[tokio::test]
async fn a_stranger_with_the_name_is_never_adopted_on_retry() {
    // The first attempt failed before it could check the name (the server was unreachable); the
    // name belongs to someone the owner made by hand.
    let w = world().await;
    let (emby, id) = with_emby(&w).await;
    let code = w.invite(&[id], "1", |_| {}).await;
    emby.control().fail_next("/Users/Query", 503);
    emby.control().fail_next("/Users", 503);
    let res = w
        .redeem_api(
            &code,
            json!({"username": "Grandpa", "password": "a long password"}),
        )
        .await;
    let v: Value = res.json().await.unwrap();
    let member = v["member"]["id"].as_i64().unwrap_or_else(|| panic!("{v}"));
    let mut stranger = fakes::jellyfin::SeedUser::member("grandpa", "x");
    stranger.password = None;
    emby.add_user(stranger);
    w.app.state.clock.advance(3600);
    usher::jobs::run_due(&w.app.state).await.unwrap();
    let g = &w.app.state.store.member_grants(member).await.unwrap()[0];
    assert_eq!(g.status, "failed");
    assert!(emby.user_by_name("grandpa").unwrap().password.is_none());
}
