//! Access on the servers is exactly what usher shows: one share per account, nothing left
//! behind on removal, defaults and profiles honoured on every path.

use fakes::plex::demo;
use reqwest::StatusCode;
use serde_json::{Value, json};
use usher::domain::ids::*;

use crate::helpers::*;

const MOVIES: u64 = demo::LIBRARIES[0].0;
const TV: u64 = demo::LIBRARIES[1].0;

/// A one-use Plex invite with `permissions`.
async fn plex_invite(w: &World, permissions: media::Permissions) -> String {
    w.invite(&[w.plex_id], "1", |i| {
        i.targets[0].permissions = Some(permissions.into())
    })
    .await
}

/// Redeems `code` through the API as `body`; returns the new member's id.
async fn redeem(w: &World, code: &str, body: Value) -> MemberId {
    let res = w.redeem_api(code, body).await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    MemberId(v["member"]["id"].as_i64().unwrap())
}

/// Live grants on a server: (grant id, member id, identity).
async fn live_grants(w: &World, server_id: ServerId) -> Vec<(GrantId, MemberId, String)> {
    sqlx::query_as(
        "SELECT id, member_id, identity FROM grants
         WHERE server_id = ? AND status IN ('provisioning', 'pending', 'active', 'disabled')",
    )
    .bind(server_id)
    .fetch_all(&db(&w.app.state).await)
    .await
    .unwrap()
}

async fn actions(w: &World, member: MemberId) -> Vec<(String, String)> {
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
            i.targets[0].permissions = Some(
                media::Permissions {
                    filter_movies: "contentRating=G%2CPG".into(),
                    ..Default::default()
                }
                .into(),
            );
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
    assert_eq!(old.status.as_str(), "removed");
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
    assert_eq!(removed, usher::provisioning::Outcome::Done);
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
    let kids = plex_invite(
        &w,
        media::Permissions {
            filter_television: "label!=horror".into(),
            ..Default::default()
        },
    )
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
        .execute(&db(&w.app.state).await)
        .await
        .unwrap();
    sqlx::query("UPDATE grants SET libraries = ? WHERE id = ?")
        .bind(json!([TV.to_string()]).to_string())
        .bind(g2.id)
        .execute(&db(&w.app.state).await)
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
    let said = actions(&w, second).await;
    assert!(
        said.iter()
            .any(|(a, d)| a == "grant.share_kept" && d.contains("carol")),
        "{said:?}"
    );
}

#[tokio::test]
async fn removing_a_plex_home_member_removes_the_managed_user() {
    let w = world().await;
    let code = plex_invite(
        &w,
        media::Permissions {
            plex_home: true,
            ..Default::default()
        },
    )
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
    assert_eq!(done, usher::provisioning::Outcome::Done);
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
        .execute(&db(&w.app.state).await)
        .await
        .unwrap();
    let job = w
        .app
        .state
        .store
        .queue_grant_job(
            grant,
            usher::domain::JobKind::Update,
            &[],
            w.app.state.clock.now(),
        )
        .await
        .unwrap();
    let outcome = usher::provisioning::run_job(&w.app.state, job)
        .await
        .unwrap();
    let usher::provisioning::Outcome::Failed(e) = outcome else {
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
async fn with_emby(w: &World) -> (fakes::jellyfin::FakeJellyfin, ServerId) {
    let emby = fakes::jellyfin::FakeJellyfin::start(fakes::jellyfin::FakeKind::Emby).await;
    let id = usher::servers::add(
        &w.app.state,
        &usher::servers::ServerInput {
            kind: "emby".into(),
            name: "Home Emby".into(),
            url: emby.url(),
            token: emby.api_key().into(),
            ..Default::default()
        },
        "test",
    )
    .await
    .unwrap();
    (emby, id)
}

/// The server made the account, but its answer never arrived (a timeout, or usher died
/// waiting): the retry finds the account its own attempt made and finishes it.
async fn retry_after_a_lost_answer(
    w: &World,
    fake: &fakes::jellyfin::FakeJellyfin,
    server: ServerId,
) {
    let code = w.invite(&[server], "1", |_| {}).await;
    fake.control().lose_next_answer("/Users/New", 504);
    let res = w
        .redeem_api(
            &code,
            json!({"username": "Dora", "password": "a long password"}),
        )
        .await;
    let v: Value = res.json().await.unwrap();
    let member = MemberId(v["member"]["id"].as_i64().unwrap_or_else(|| panic!("{v}")));
    assert_eq!(fake.users().iter().filter(|u| u.name == "Dora").count(), 1);
    w.app.state.clock.advance(3600);
    usher::provisioning::run_due(&w.app.state).await.unwrap();
    let g = &w.app.state.store.member_grants(member).await.unwrap()[0];
    assert_eq!(g.status.as_str(), "active", "{:?}", g.last_error);
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
    let member = MemberId(v["member"]["id"].as_i64().unwrap_or_else(|| panic!("{v}")));
    let mut stranger = fakes::jellyfin::SeedUser::member("grandpa", "x");
    stranger.password = None;
    emby.add_user(stranger);
    w.app.state.clock.advance(3600);
    usher::provisioning::run_due(&w.app.state).await.unwrap();
    let g = &w.app.state.store.member_grants(member).await.unwrap()[0];
    assert_eq!(g.status.as_str(), "failed");
    assert!(emby.user_by_name("grandpa").unwrap().password.is_none());
}

/// Sets a server's defaults as the Servers page does.
async fn set_defaults(w: &World, server: ServerId, camera: bool, max_sessions: Option<i64>) {
    usher::servers::set_defaults(
        &w.app.state,
        server,
        usher::store::servers::ServerDefaults {
            allow_downloads: false,
            allow_live_tv: false,
            allow_camera_upload: camera,
            max_sessions,
            request_default: true,
        },
        "test",
    )
    .await
    .unwrap();
}

/// What a `usher` process needs to reach the fake plex.tv.
fn plex_env(w: &World) -> Vec<(&'static str, String)> {
    vec![
        ("USHER_PLEX_TV_URL", w.plex.plex_tv_url()),
        ("USHER_PLEX_CLIENTS_URL", w.plex.clients_url()),
        ("USHER_PLEX_APP_URL", w.plex.app_url()),
    ]
}

async fn submit_request(w: &World, name: &str, email: &str) -> RequestId {
    match usher::requests::submit(
        &w.app.state,
        &usher::requests::RequestInput {
            name: name.into(),
            email: email.into(),
            ..Default::default()
        },
        "10.9.9.9",
    )
    .await
    .unwrap()
    {
        usher::requests::Submitted::Pending(id) | usher::requests::Submitted::Approved(id) => id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_web_approval_form_keeps_the_server_defaults_it_shows() {
    let w = world().await;
    set_defaults(&w, w.plex_id, true, None).await;
    set_defaults(&w, w.jf_id, false, Some(3)).await;
    let id = submit_request(&w, "Uma", "alice@example.com").await;
    let (_, page) = w.app.get_text("/admin/requests").await;
    let action = format!("/admin/requests/{id}/approve");
    let fields = form_fields(&page, &action);
    let res = w.app.post_fields(&action, &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{fields:?}");
    let shares = w.plex.shares_of(demo::SERVER_ID);
    assert_eq!(shares.len(), 1);
    assert!(shares[0].allow_camera_upload, "camera upload stays on");
    // Jellyfin approvals become a personal invite: it carries the streams limit.
    let r = w.app.state.store.request(id).await.unwrap().unwrap();
    let targets = w
        .app
        .state
        .store
        .invite_targets(r.invite_id.unwrap())
        .await
        .unwrap();
    let p = targets[0].permissions.clone();
    assert_eq!(p.max_sessions, Some(3));
}

#[tokio::test]
async fn the_request_profile_is_where_every_approval_starts() {
    let w = world().await;
    let plex = w.plex_id.to_string();
    let res = w
        .app
        .post_form(
            "/admin/profiles",
            &[
                ("name", "Music only"),
                ("server", &plex),
                (&format!("lib_{plex}"), "81234003"),
                (&format!("downloads_{plex}"), "on"),
                (&format!("filter_music_{plex}"), "label!=explicit"),
                ("duration", "14d"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let profile = w.app.state.store.profiles().await.unwrap()[0].profile.id;
    let mut settings = w.app.state.store.settings().await.unwrap();
    settings.requests.profile_id = Some(profile);
    settings.requests.auto_approve = true;
    w.app
        .state
        .store
        .save_settings(&settings, w.app.clock.now())
        .await
        .unwrap();

    // Auto-approve.
    submit_request(&w, "Vic", "alice@example.com").await;
    let share = |who: &str| {
        w.plex
            .shares_of(demo::SERVER_ID)
            .into_iter()
            .find(|s| s.email.as_deref() == Some(who))
            .unwrap_or_else(|| panic!("no share for {who}"))
    };
    let s = share("alice@example.com");
    assert_eq!(s.section_ids, vec![demo::LIBRARIES[2].0]);
    assert!(s.allow_sync);
    assert_eq!(s.filter_music, "label!=explicit");

    // The API, without servers named, and with a change that keeps the rest of the profile.
    settings.requests.auto_approve = false;
    w.app
        .state
        .store
        .save_settings(&settings, w.app.clock.now())
        .await
        .unwrap();
    let by_api = submit_request(&w, "Wes", "bob@example.com").await;
    let (status, v) = crate::api::api(&w)
        .await
        .call(
            "POST",
            &format!("/api/v1/requests/{by_api}/approve"),
            Some(json!({"servers": [{"server_id": w.plex_id, "permissions": {"allow_live_tv": true}}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let s = share("bob@example.com");
    assert_eq!(
        s.section_ids,
        vec![demo::LIBRARIES[2].0],
        "the profile's libraries"
    );
    assert!(s.allow_sync, "the profile's downloads");
    assert_eq!(s.filter_music, "label!=explicit");

    // The CLI.
    let by_cli = submit_request(&w, "Xan", "carol@example.com").await;
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let env = plex_env(&w);
    let out = tokio::task::spawn_blocking(move || {
        crate::cli::usher_env(
            Some(now),
            &dir,
            &["request", "approve", &by_cli.to_string()],
            "",
            &env,
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = share("carol@example.com");
    assert_eq!(s.section_ids, vec![demo::LIBRARIES[2].0]);
    assert_eq!(s.filter_music, "label!=explicit");
    let grant = sqlx::query_scalar::<_, Option<i64>>(
        "SELECT expires_at FROM grants WHERE identity = 'carol@example.com'",
    )
    .fetch_one(&db(&w.app.state).await)
    .await
    .unwrap();
    assert!(grant.is_some(), "the profile's 14 days");
}

#[tokio::test]
async fn content_filters_are_set_from_the_invite_form_the_api_and_the_cli() {
    let w = world().await;
    set_defaults(&w, w.plex_id, true, None).await;
    let plex = w.plex_id.to_string();
    // The form: spelled as people write it, stored as Plex spells it, refused when wrong.
    let bad = w
        .app
        .post_form(
            "/admin/invites",
            &[
                ("server", &plex),
                (&format!("lib_{plex}"), "81234001"),
                (&format!("filter_movies_{plex}"), "year=1999"),
                ("uses", "1"),
                ("expires", "7d"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await.unwrap();
    assert!(
        page.contains("filters know rating") && page.contains("value=\"year=1999\""),
        "{page}"
    );
    let res = w
        .app
        .post_form(
            "/admin/invites",
            &[
                ("server", &plex),
                (&format!("lib_{plex}"), "81234001"),
                (&format!("camera_{plex}"), "on"),
                (&format!("filter_movies_{plex}"), "rating = G, PG"),
                ("uses", "1"),
                ("expires", "7d"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let code = location(&res)
        .trim_start_matches("/admin/invites/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    redeem(&w, &code, json!({"email": "alice@example.com"})).await;
    let s = &w.plex.shares_of(demo::SERVER_ID)[0];
    assert_eq!(s.filter_movies, "contentRating=G%2CPG");

    // The API: named fields change, the rest keeps the server's defaults (camera upload).
    let api = crate::api::api(&w).await;
    let invite = |permissions: Value| {
        api.call(
            "POST",
            "/api/v1/invites",
            Some(json!({"servers": [{"server_id": w.plex_id, "permissions": permissions}]})),
        )
    };
    let (status, v) = invite(json!({"filter_television": "label!=horror"})).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let api_code = v["code"].as_str().unwrap().to_string();
    redeem(&w, &api_code, json!({"email": "bob@example.com"})).await;
    let s = w
        .plex
        .shares_of(demo::SERVER_ID)
        .into_iter()
        .find(|s| s.email.as_deref() == Some("bob@example.com"))
        .unwrap();
    assert_eq!(s.filter_television, "label!=horror");
    assert!(s.allow_camera_upload, "the default the call left out");
    let (status, v) = invite(json!({"filter_music": "label"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "filter_music", "{v}");

    // The CLI.
    let dir = w.app.data_dir();
    let now = w.app.clock.now();
    let out = tokio::task::spawn_blocking(move || {
        crate::cli::usher_env(
            Some(now),
            &dir,
            &[
                "invite",
                "create",
                "--server",
                "Home Plex",
                "--filter-tv",
                "rating!=TV-MA",
                "--json",
            ],
            "",
            &[],
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli_code = v["code"].as_str().unwrap().to_string();
    redeem(&w, &cli_code, json!({"email": "carol@example.com"})).await;
    let s = w
        .plex
        .shares_of(demo::SERVER_ID)
        .into_iter()
        .find(|s| s.email.as_deref() == Some("carol@example.com"))
        .unwrap();
    assert_eq!(s.filter_television, "contentRating!=TV-MA");
}

#[tokio::test]
async fn the_member_page_changes_filters_and_keeps_them_otherwise() {
    let w = world().await;
    let code = plex_invite(
        &w,
        media::Permissions {
            filter_movies: "contentRating=G".into(),
            ..Default::default()
        },
    )
    .await;
    let member = redeem(&w, &code, json!({"email": "alice@example.com"})).await;
    let grant = w.app.state.store.member_grants(member).await.unwrap()[0].id;
    let (_, page) = w.app.get_text(&format!("/admin/members/{member}")).await;
    assert!(
        page.contains("value=\"rating=G\""),
        "the filter is shown as people write it"
    );
    let action = format!("/admin/members/{member}/grants/{grant}/access");
    // Saved as shown: nothing changes.
    let fields = form_fields(&page, &action);
    w.app.post_fields(&action, &fields).await;
    assert_eq!(
        w.plex.shares_of(demo::SERVER_ID)[0].filter_movies,
        "contentRating=G"
    );
    // Changed.
    let changed: Vec<(String, String)> = fields
        .into_iter()
        .map(|(k, v)| {
            if k == "filter_movies" {
                (k, "rating=G,PG".into())
            } else {
                (k, v)
            }
        })
        .collect();
    w.app.post_fields(&action, &changed).await;
    assert_eq!(
        w.plex.shares_of(demo::SERVER_ID)[0].filter_movies,
        "contentRating=G%2CPG"
    );
}

/// Makes the database refuse `statement` on `table` from now on, as a failing disk would.
async fn refuse(w: &World, statement: &str, table: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TRIGGER refuse_{table} BEFORE {statement} ON {table}
         BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
    )))
    .execute(&db(&w.app.state).await)
    .await
    .unwrap();
}

#[tokio::test]
async fn an_invite_is_made_with_its_event_or_not_at_all() {
    let w = world().await;
    refuse(&w, "INSERT", "events").await;
    let input = usher::invites::CreateInput {
        targets: vec![usher::invites::TargetInput {
            server_id: w.plex_id,
            libraries: None,
            permissions: None,
        }],
        uses: "1".into(),
        expires: "7d".into(),
        code: "no-trace".into(),
        ..Default::default()
    };
    assert!(
        usher::invites::create(&w.app.state, &input, "test")
            .await
            .is_err()
    );
    assert!(
        w.app
            .state
            .store
            .invite_by_code("no-trace")
            .await
            .unwrap()
            .is_none()
    );
    let targets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invite_servers")
        .fetch_one(&db(&w.app.state).await)
        .await
        .unwrap();
    assert_eq!(targets, 0);
}

#[tokio::test]
async fn members_from_a_profile_invite_hold_the_profile_from_the_start() {
    let w = world().await;
    let plex = w.plex_id.to_string();
    w.app
        .post_form(
            "/admin/profiles",
            &[
                ("name", "Kids"),
                ("server", &plex),
                (&format!("lib_{plex}"), "81234001"),
            ],
        )
        .await;
    let profile = w.app.state.store.profiles().await.unwrap()[0].profile.id;
    let code = w
        .invite(&[], "1", |i| {
            i.targets.clear();
            i.profile = Some(profile);
        })
        .await;
    // Nothing may touch the grants after the redemption's own transaction.
    refuse(&w, "UPDATE OF profile_id", "grants").await;
    let member = redeem(&w, &code, json!({"email": "alice@example.com"})).await;
    let held: Option<ProfileId> =
        sqlx::query_scalar("SELECT profile_id FROM grants WHERE member_id = ?")
            .bind(member)
            .fetch_one(&db(&w.app.state).await)
            .await
            .unwrap();
    assert_eq!(held, Some(profile));
}

#[tokio::test]
async fn a_share_moves_to_the_new_grant_whole_or_not_at_all() {
    let w = world().await;
    let a = w.invite(&[w.plex_id], "1", |_| {}).await;
    let first = redeem(&w, &a, json!({"email": "alice@example.com"})).await;
    let before = w.app.state.store.member_grants(first).await.unwrap()[0].clone();
    // Ending the old grant fails after the new one took the combined access.
    sqlx::query(
        "CREATE TRIGGER refuse_ending BEFORE UPDATE OF status ON grants
         WHEN NEW.status = 'removed' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
    )
    .execute(&db(&w.app.state).await)
    .await
    .unwrap();
    let b = w
        .invite(&[w.plex_id], "1", |i| {
            i.targets[0].libraries = Some(vec![TV.to_string()])
        })
        .await;
    let res = w
        .redeem_api(&b, json!({"email": "alice@example.com"}))
        .await;
    let v: Value = res.json().await.unwrap();
    let second = MemberId(v["member"]["id"].as_i64().unwrap_or_else(|| panic!("{v}")));
    let after = w.app.state.store.grant(before.id).await.unwrap().unwrap();
    assert_eq!(after.status, before.status, "the old grant is untouched");
    let newer = &w.app.state.store.member_grants(second).await.unwrap()[0];
    assert_eq!(
        newer.library_ids().unwrap(),
        vec![TV.to_string()],
        "and the new one holds only its own libraries until the move is whole"
    );
}

#[tokio::test]
async fn the_telegram_webhook_secret_is_sealed_at_rest() {
    let w = world().await;
    let state = &w.app.state;
    let mut s = state.store.settings().await.unwrap();
    s.telegram.mode = usher::domain::settings::TelegramMode::Webhook;
    s.telegram
        .set_webhook_secret(&state.key, "webhook-s3cret-value");
    state
        .store
        .save_settings(&s, w.app.clock.now())
        .await
        .unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT CAST(value AS TEXT) FROM settings")
        .fetch_all(&db(state).await)
        .await
        .unwrap();
    assert!(
        !stored.iter().any(|v| v.contains("webhook-s3cret-value")),
        "{stored:?}"
    );
    let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "first_name": "X"}, "text": "/help"}});
    let post = |secret: &'static str| {
        reqwest::Client::new()
            .post(w.app.url("/telegram/webhook"))
            .header("x-telegram-bot-api-secret-token", secret)
            .json(&update)
            .send()
    };
    assert_eq!(
        post("webhook-s3cret-value").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        post("wrong").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn passwords_never_print_through_debug() {
    let input = usher::invites::RedeemInput {
        username: "dora".into(),
        password: "hunter2-very-secret".into(),
        password_confirm: Some("hunter2-very-secret".into()),
        ..Default::default()
    };
    let spec = media::GrantSpec {
        identity: media::Identity::Account {
            username: "dora".into(),
            password: "hunter2-very-secret".into(),
            email: None,
        },
        libraries: vec![],
        permissions: Default::default(),
    };
    let server = usher::servers::ServerInput {
        token: "plex-token-very-secret".into(),
        ..Default::default()
    };
    let printed = format!("{input:?} {spec:?} {server:?}");
    assert!(!printed.contains("very-secret"), "{printed}");
    assert!(printed.contains("dora"));
}

/// Email through an SMTP sink.
async fn with_email(w: &World) -> fakes::smtp::SmtpSink {
    let mail = fakes::smtp::SmtpSink::start().await;
    let mut s = w.app.state.store.settings().await.unwrap();
    s.smtp.host = "127.0.0.1".into();
    s.smtp.port = mail.port();
    s.smtp.security = usher::domain::settings::SmtpSecurity::None;
    s.smtp.from = "usher <usher@example.com>".into();
    w.app
        .state
        .store
        .save_settings(&s, w.app.clock.now())
        .await
        .unwrap();
    mail
}

/// Fills the public request form as a visitor speaking `lang`.
async fn request_in(w: &World, lang: &str, name: &str, email: &str) -> RequestId {
    let visitor = cookie_client();
    let page = visitor
        .get(w.app.url("/request"))
        .header("accept-language", lang)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap();
    let res = visitor
        .post(w.app.url("/request"))
        .header("accept-language", lang)
        .form(&[("csrf", csrf.as_str()), ("name", name), ("email", email)])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    w.app
        .state
        .store
        .requests(50)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.email == email)
        .unwrap()
        .id
}

#[tokio::test]
async fn requesters_and_members_are_written_to_in_their_own_language_through_the_outbox() {
    let w = world().await;
    let mail = with_email(&w).await;
    let approved = request_in(&w, "es-ES,es;q=0.9", "Lola", "alice@example.com").await;
    let declined = request_in(&w, "es", "Pepe", "pepe@example.com").await;
    let settings = w.app.state.store.settings().await.unwrap();
    let start = usher::requests::starting_selection(&w.app.state, &settings)
        .await
        .unwrap();
    usher::requests::approve(&w.app.state, approved, &start, "owner")
        .await
        .unwrap();
    usher::requests::decline(&w.app.state, declined, Some("lleno"), "owner")
        .await
        .unwrap();
    let queued: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM notify_deliveries WHERE recipient IS NOT NULL")
            .fetch_one(&db(&w.app.state).await)
            .await
            .unwrap();
    assert_eq!(queued, 2, "both answers are in the outbox");
    usher::notify::deliver_due(&w.app.state).await.unwrap();
    let got = mail.wait_for(2).await;
    let to = |who: &str| {
        got.iter()
            .find(|m| m.to == vec![who.to_string()])
            .unwrap_or_else(|| panic!("nothing to {who}"))
    };
    let yes = to("alice@example.com");
    assert_eq!(yes.subject().as_deref(), Some("Tu acceso fue aprobado"));
    let body = yes.text_body().unwrap();
    assert!(
        body.contains("Hola, Lola") && body.contains("Plex te enviará"),
        "{body}"
    );
    let no = to("pepe@example.com");
    assert_eq!(
        no.subject().as_deref(),
        Some("Sobre tu solicitud de acceso")
    );
    assert!(no.text_body().unwrap().contains("Motivo: lleno"));

    // A member who joins through a Spanish invite page is welcomed in Spanish.
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let (_, res) = w
        .post_invite_form(
            &code,
            "es",
            &[
                ("email", "nina@example.com"),
                ("username", "nina"),
                ("password", "a long password"),
                ("password_confirm", "a long password"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    usher::notify::deliver_due(&w.app.state).await.unwrap();
    let got = mail.wait_for(3).await;
    let hi = got
        .iter()
        .find(|m| m.to == vec!["nina@example.com".to_string()])
        .unwrap();
    assert_eq!(hi.subject().as_deref(), Some("Bienvenido a Home Jellyfin"));
    let body = hi.text_body().unwrap();
    assert!(body.contains("· nina") && body.contains("/guide"), "{body}");
}

#[tokio::test]
async fn an_accepted_plex_invite_shows_within_minutes() {
    let w = world().await;
    let code = w.invite(&[w.plex_id], "1", |_| {}).await;
    let member = redeem(&w, &code, json!({"email": "alice@example.com"})).await;
    let status = |w: &World| {
        let store = w.app.state.store.clone();
        async move {
            store.member_grants(member).await.unwrap()[0]
                .status
                .as_str()
        }
    };
    assert_eq!(status(&w).await, "pending");
    w.app.clock.advance(61);
    usher::provisioning::run_due(&w.app.state).await.unwrap();
    assert_eq!(status(&w).await, "pending", "not accepted yet");

    assert_eq!(w.plex.accept_invites("alice@example.com"), 1);
    w.app.clock.advance(60);
    usher::provisioning::run_due(&w.app.state).await.unwrap();
    assert_eq!(
        status(&w).await,
        "pending",
        "the next check is two minutes on"
    );
    w.app.clock.advance(61);
    usher::provisioning::run_due(&w.app.state).await.unwrap();
    assert_eq!(status(&w).await, "active");
    assert!(
        actions(&w, member)
            .await
            .iter()
            .any(|(a, _)| a == "grant.accepted")
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM acceptance_checks")
        .fetch_one(&db(&w.app.state).await)
        .await
        .unwrap();
    assert_eq!(left, 0, "no more checks once accepted");
}

const GUIDE: &str = "https://guide.example.com";

async fn post_request(w: &World, origin: Option<&str>, ip: &str, body: Value) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(w.app.url("/api/v1/requests"))
        .header("x-forwarded-for", ip)
        .json(&body);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_guide_page_on_an_allowed_site_posts_requests_as_json() {
    let w = world_with(|c| {
        c.allowed_origins = GUIDE.into();
        c.trust_proxy_headers = true;
    })
    .await;
    // The browser's preflight: allowed sites only.
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, w.app.url("/api/v1/requests"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight(GUIDE).await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(ok.headers()["access-control-allow-origin"], GUIDE);
    assert!(
        ok.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("content-type")
    );
    let evil = preflight("https://evil.example").await.unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    // From the guide page, in Spanish.
    let res = post_request(
        &w,
        Some(GUIDE),
        "10.1.1.1",
        json!({"name": "Rosa", "email": "rosa@example.com", "note": "hola", "lang": "es"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["access-control-allow-origin"], GUIDE);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "pending");
    assert!(
        v["message"].as_str().unwrap().contains("Solicitud enviada"),
        "{v}"
    );
    let stored = w.app.state.store.requests(10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].name.as_str(), stored[0].lang.as_str()),
        ("Rosa", "es")
    );

    // Mistakes are explained, readable by the guide page too.
    let res = post_request(
        &w,
        Some(GUIDE),
        "10.1.1.2",
        json!({"name": "R", "email": "nope"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.headers()["access-control-allow-origin"], GUIDE);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["field"], "name", "{v}");
    let res = post_request(
        &w,
        Some(GUIDE),
        "10.1.1.2",
        json!({"name": "Rosa", "surname": "x"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Another site is refused by its Origin, and nothing is kept.
    let res = post_request(
        &w,
        Some("https://evil.example"),
        "10.1.1.3",
        json!({"name": "Mallory", "email": "m@example.com"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // A bot filling the honeypot is answered like a person, and nothing is kept.
    let res = post_request(
        &w,
        Some(GUIDE),
        "10.1.1.4",
        json!({"name": "Bot Bot", "email": "bot@example.com", "website": "http://spam"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(w.app.state.store.requests(10).await.unwrap().len(), 1);

    // One email asks at most three times a day, whatever address it comes from.
    for i in 0..3 {
        let res = post_request(
            &w,
            None,
            &format!("10.2.0.{i}"),
            json!({"name": "Sam", "email": "sam@example.com"}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED, "try {i}");
        let id = w.app.state.store.requests(10).await.unwrap()[0].id;
        usher::requests::decline(&w.app.state, id, None, "owner")
            .await
            .unwrap();
    }
    let res = post_request(
        &w,
        None,
        "10.2.0.9",
        json!({"name": "Sam", "email": "SAM@example.com"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["field"], "email");
}

#[tokio::test]
async fn the_invite_page_says_what_it_allows_besides_libraries() {
    let w = world().await;
    let code = plex_invite(
        &w,
        media::Permissions {
            allow_downloads: true,
            filter_movies: "contentRating=G%2CPG".into(),
            ..Default::default()
        },
    )
    .await;
    let (status, page) = w.app.get_text(&format!("/admin/invites/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Allow downloads and sync · Movies: rating=G,PG"),
        "{page}"
    );
}
