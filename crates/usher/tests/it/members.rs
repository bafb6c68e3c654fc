use fakes::jellyfin::{FakeKind, SeedUser};
use fakes::plex::demo;
use reqwest::StatusCode;
use usher::domain::ids::*;
use usher::domain::{GrantStatus, MemberOrigin};
use usher::members::expiry::{SweepReport, sweep};
use usher::store::invites::NewMember;
use usher::store::members::{ImportInto, ImportedGrant, MemberQuery, MemberSort, StatusFilter};

use crate::helpers::*;

const DAY: i64 = 86_400;

/// Redeems a new invite for one server through the service; returns the member id.
async fn redeem(
    w: &World,
    server: ServerId,
    duration: &str,
    input: usher::invites::RedeemInput,
) -> MemberId {
    let code = w
        .invite(&[server], "1", |i| i.duration = duration.into())
        .await;
    usher::invites::redeem(&w.app.state, &code, &input)
        .await
        .unwrap()
        .member_id
}

async fn plex_member(w: &World, who: &str, duration: &str) -> MemberId {
    let input = usher::invites::RedeemInput {
        plex_account: who.into(),
        ..Default::default()
    };
    redeem(w, w.plex_id, duration, input).await
}

async fn jf_member(w: &World, name: &str, duration: &str) -> MemberId {
    let input = usher::invites::RedeemInput {
        username: name.into(),
        password: "a good password".into(),
        ..Default::default()
    };
    redeem(w, w.jf_id, duration, input).await
}

/// The sharing id of a library on the fake Jellyfin.
fn jf_library(w: &World, name: &str) -> String {
    w.jf.library_by_name(name)
        .unwrap()
        .api_id(FakeKind::Jellyfin)
        .to_string()
}

async fn only_grant(w: &World, member: MemberId) -> usher::store::members::MemberGrantRow {
    let mut grants = w
        .app
        .state
        .store
        .grants_of_members(&[member])
        .await
        .unwrap();
    assert_eq!(grants.len(), 1);
    grants.remove(0)
}

async fn events_named(w: &World, member: MemberId, action: &str) -> usize {
    w.app
        .state
        .store
        .member_events(member, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == action)
        .count()
}

/// Deletes a member's account the way an owner would in Jellyfin's dashboard, behind usher's
/// back.
async fn delete_on_jellyfin(w: &World, member: MemberId) {
    let remote_id = only_grant(w, member).await.grant.remote_id.unwrap();
    media::MediaClient::new(
        media::ServerKind::Jellyfin,
        &w.jf.url(),
        &w.jf.api_key(),
        &media::ClientInfo::new("test-dashboard"),
        &media::plex::PlexEndpoints::default(),
    )
    .unwrap()
    .remove(&remote_id)
    .await
    .unwrap();
}

async fn set_expiry_action(w: &World, server: ServerId, action: &str, days: &str) {
    let res = w
        .app
        .post_form(
            &format!("/admin/servers/{server}/expiry"),
            &[("action", action), ("remove_after_days", days)],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/servers/{server}?done=expiry")
    );
}

#[tokio::test]
async fn expiry_removes_a_plex_share_once_the_clock_passes_it() {
    let w = world().await;
    let member = plex_member(&w, "alice@example.com", "30d").await;
    w.plex.accept_invites("alice");
    assert_eq!(w.plex.shares_of(demo::SERVER_ID).len(), 1);

    w.app.clock.advance(30 * DAY - 60);
    assert_eq!(
        sweep(&w.app.state).await.unwrap().removing,
        0,
        "not yet expired"
    );
    assert_eq!(w.plex.shares_of(demo::SERVER_ID).len(), 1);

    w.app.clock.advance(61);
    let report = sweep(&w.app.state).await.unwrap();
    assert_eq!(
        report,
        SweepReport {
            removing: 1,
            ..Default::default()
        }
    );
    assert!(
        w.plex.shares_of(demo::SERVER_ID).is_empty(),
        "the share is gone on Plex"
    );
    assert_eq!(
        only_grant(&w, member).await.grant.status.as_str(),
        "removed"
    );
    assert_eq!(
        sweep(&w.app.state).await.unwrap(),
        SweepReport::default(),
        "a second sweep at the same time does nothing"
    );
    // Still listed, with the history of what happened (a month later the owner signs in again).
    w.app.login(ADMIN, PASSWORD).await;
    let (status, page) = w.app.get_text("/admin/members?status=removed").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("alice"), "{page}");
    assert_eq!(events_named(&w, member, "grant.expired_remove").await, 1);
    assert_eq!(events_named(&w, member, "grant.removed").await, 1);
}

#[tokio::test]
async fn expiry_disables_a_jellyfin_account_when_the_server_says_so() {
    let w = world().await;
    set_expiry_action(&w, w.jf_id, "disable", "").await;
    let member = jf_member(&w, "dora", "7d").await;
    let user = w.jf.user_by_name("dora").unwrap();
    assert!(!user.is_disabled());

    w.app.clock.advance(7 * DAY + 1);
    let report = sweep(&w.app.state).await.unwrap();
    assert_eq!(report.disabling, 1);
    assert!(
        w.jf.user(&user.id).unwrap().is_disabled(),
        "IsDisabled on the fake"
    );
    assert_eq!(
        only_grant(&w, member).await.grant.status.as_str(),
        "disabled"
    );

    // Paused stays paused: never removed with this setting.
    w.app.clock.advance(400 * DAY);
    assert_eq!(sweep(&w.app.state).await.unwrap(), SweepReport::default());
    assert!(w.jf.user(&user.id).is_some());
}

#[tokio::test]
async fn pausing_an_account_already_deleted_on_the_server_does_not_fail_forever() {
    let w = world().await;
    set_expiry_action(&w, w.jf_id, "disable", "").await;
    let member = jf_member(&w, "ulla", "1d").await;
    delete_on_jellyfin(&w, member).await;
    w.app.clock.advance(DAY);
    let report = sweep(&w.app.state).await.unwrap();
    assert_eq!((report.disabling, report.retrying), (1, 0));
    let g = only_grant(&w, member).await;
    assert_eq!(g.grant.status.as_str(), "disabled");
    assert!(g.failing_kind.is_none());
}

#[tokio::test]
async fn disable_then_remove_pauses_first_and_removes_after_the_wait() {
    let w = world().await;
    set_expiry_action(&w, w.jf_id, "disable_then_remove", "7").await;
    let member = jf_member(&w, "erin", "1d").await;
    let id = w.jf.user_by_name("erin").unwrap().id;

    w.app.clock.advance(DAY);
    assert_eq!(sweep(&w.app.state).await.unwrap().disabling, 1);
    assert!(w.jf.user(&id).unwrap().is_disabled());

    w.app.clock.advance(7 * DAY - 1);
    assert_eq!(sweep(&w.app.state).await.unwrap(), SweepReport::default());
    assert!(w.jf.user(&id).is_some(), "kept during the wait");

    w.app.clock.advance(1);
    assert_eq!(sweep(&w.app.state).await.unwrap().removing, 1);
    assert!(w.jf.user(&id).is_none(), "removed after seven days");
    assert_eq!(
        only_grant(&w, member).await.grant.status.as_str(),
        "removed"
    );
}

#[tokio::test]
async fn the_server_page_refuses_a_bad_expiry_setting_clearly() {
    let w = world().await;
    for (action, days, expect) in [
        ("forever", "3", "Choose what happens"),
        ("disable_then_remove", "-1", "from 0 to 3650"),
        ("remove", "soon", "from 0 to 3650"),
    ] {
        let res = w
            .app
            .post_form(
                &format!("/admin/servers/{}/expiry", w.jf_id),
                &[("action", action), ("remove_after_days", days)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{action}");
        assert!(res.text().await.unwrap().contains(expect), "{expect}");
    }
    let (_, page) = w
        .app
        .get_text(&format!("/admin/servers/{}", w.plex_id))
        .await;
    assert!(
        page.contains("Plex cannot pause access"),
        "Plex explains it always removes"
    );
}

#[tokio::test]
async fn a_failing_removal_is_retried_until_the_server_confirms_and_the_member_stays_listed() {
    let w = world().await;
    let member = plex_member(&w, "bob@example.com", "2d").await;
    let share = only_grant(&w, member).await.grant.remote_id.unwrap();
    let path = format!("/api/servers/{}/shared_servers/{share}", demo::SERVER_ID);
    // Failures that look permanent as well as transient ones.
    for status in [400, 403, 500] {
        w.plex.control().fail_next(&path, status);
    }

    w.app.clock.advance(2 * DAY);
    let report = sweep(&w.app.state).await.unwrap();
    assert_eq!((report.removing, report.retrying), (1, 1));
    assert_eq!(w.plex.shares_of(demo::SERVER_ID).len(), 1, "still shared");

    let g = only_grant(&w, member).await;
    assert_eq!(g.failing_kind, Some(usher::domain::JobKind::Remove));
    assert_ne!(g.grant.status.as_str(), "removed");
    let (_, page) = w.app.get_text(&format!("/admin/members/{member}")).await;
    assert!(page.contains("Removal failing:"), "{page}");
    let (_, list) = w.app.get_text("/admin/members?status=failing").await;
    assert!(
        list.contains(&format!("data-member=\"{member}\"")),
        "listed as failing: {list}"
    );
    assert!(list.contains("Removal failing:"));

    // Backoff: nothing runs before the delay, then each retry fails once more.
    assert_eq!(usher::provisioning::run_due(&w.app.state).await.unwrap(), 0);
    w.app.clock.advance(30);
    assert_eq!(usher::provisioning::run_due(&w.app.state).await.unwrap(), 1);
    w.app.clock.advance(60);
    assert_eq!(usher::provisioning::run_due(&w.app.state).await.unwrap(), 1);
    assert_eq!(w.plex.shares_of(demo::SERVER_ID).len(), 1);
    assert_eq!(
        sweep(&w.app.state).await.unwrap(),
        SweepReport::default(),
        "the sweep does not queue a second removal"
    );
    w.app.clock.advance(120);
    assert_eq!(usher::provisioning::run_due(&w.app.state).await.unwrap(), 1);

    assert!(
        w.plex.shares_of(demo::SERVER_ID).is_empty(),
        "removed at last"
    );
    let g = only_grant(&w, member).await;
    assert_eq!(g.grant.status.as_str(), "removed");
    assert!(g.failing_kind.is_none());
    assert_eq!(
        events_named(&w, member, "notify.removal_failing").await,
        1,
        "the owner is told once"
    );
    let jobs = w.app.state.store.jobs_of_grant(g.grant.id).await.unwrap();
    let removal = jobs
        .iter()
        .find(|j| j.kind == usher::domain::JobKind::Remove)
        .unwrap();
    assert_eq!(removal.attempts, 4);
    let (_, list) = w.app.get_text("/admin/members").await;
    assert!(
        list.contains(&format!("data-member=\"{member}\"")),
        "still listed"
    );
}

#[test]
fn removal_backoff_is_capped_at_an_hour() {
    assert_eq!(usher::domain::rules::retry_delay(100), 3_600);
    use usher::domain::JobKind;
    assert!(JobKind::Remove.ends_access() && JobKind::Disable.ends_access());
    assert!(!JobKind::Update.ends_access() && !JobKind::Provision.ends_access());
}

#[tokio::test]
async fn reminders_are_recorded_exactly_once_per_grant_and_again_after_an_extension() {
    let w = world().await;
    let member = jf_member(&w, "fran", "10d").await;
    w.app.clock.advance(6 * DAY);
    assert_eq!(
        sweep(&w.app.state).await.unwrap().reminded,
        0,
        "more than 3 days left"
    );
    w.app.clock.advance(DAY + 1);
    assert_eq!(sweep(&w.app.state).await.unwrap().reminded, 1);
    assert_eq!(sweep(&w.app.state).await.unwrap().reminded, 0);
    w.app.clock.advance(3600);
    assert_eq!(sweep(&w.app.state).await.unwrap().reminded, 0);
    assert_eq!(events_named(&w, member, "notify.expiry_reminder").await, 1);
    assert!(only_grant(&w, member).await.reminded_at.is_some());

    let res = w
        .app
        .post_form(
            &format!("/admin/members/{member}/expiry"),
            &[("action", "extend")],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/members/{member}?done=expiry")
    );
    assert_eq!(sweep(&w.app.state).await.unwrap().reminded, 0);
    w.app.clock.advance(29 * DAY);
    assert_eq!(sweep(&w.app.state).await.unwrap().reminded, 0);
    w.app.clock.advance(DAY);
    assert_eq!(
        sweep(&w.app.state).await.unwrap().reminded,
        1,
        "a new date, a new reminder"
    );
    assert_eq!(events_named(&w, member, "notify.expiry_reminder").await, 2);
}

#[tokio::test]
async fn extending_expiry_keeps_the_time_of_day() {
    let w = world().await;
    let member = jf_member(&w, "gus", "").await;
    let page = format!("/admin/members/{member}");
    let res = w
        .app
        .post_form(
            &format!("{page}/expiry"),
            &[("action", "set"), ("date", "2026-12-31"), ("time", "18:00")],
        )
        .await;
    assert_eq!(location(&res), format!("{page}?done=expiry"));
    let at = only_grant(&w, member).await.grant.expires_at.unwrap();
    assert_eq!(usher::clock::rfc3339(at), "2026-12-31T18:00:00Z");

    w.app
        .post_form(&format!("{page}/expiry"), &[("action", "extend")])
        .await;
    let at = only_grant(&w, member).await.grant.expires_at.unwrap();
    assert_eq!(usher::clock::rfc3339(at), "2027-01-30T18:00:00Z");
    let (_, body) = w.app.get_text(&page).await;
    assert!(body.contains("2027-01-30 18:00 UTC") && body.contains("value=\"18:00\""));

    // Mistakes are explained, nothing changes.
    for (fields, expect) in [
        (vec![("action", "set"), ("date", "")], "Choose a date"),
        (
            vec![("action", "set"), ("date", "31/12/2026")],
            "not a date",
        ),
        (
            vec![("action", "set"), ("date", "2020-01-01")],
            "already past",
        ),
        (vec![("action", "sometime")], "Choose to save a date"),
    ] {
        let res = w.app.post_form(&format!("{page}/expiry"), &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{expect}");
        assert!(res.text().await.unwrap().contains(expect), "{expect}");
    }
    assert_eq!(only_grant(&w, member).await.grant.expires_at, Some(at));

    w.app
        .post_form(&format!("{page}/expiry"), &[("action", "clear")])
        .await;
    assert_eq!(only_grant(&w, member).await.grant.expires_at, None);
}

#[tokio::test]
async fn changing_libraries_on_the_member_page_reaches_the_servers() {
    let w = world().await;
    let jf = jf_member(&w, "hana", "").await;
    let plex = plex_member(&w, "carol@example.com", "").await;
    let movies = jf_library(&w, "Movies");
    let shows = jf_library(&w, "Shows");

    let g = only_grant(&w, jf).await.grant.id;
    let res = w
        .app
        .post_form(
            &format!("/admin/members/{jf}/grants/{g}/access"),
            &[("lib", &shows), ("downloads", "on"), ("max_sessions", "2")],
        )
        .await;
    assert_eq!(location(&res), format!("/admin/members/{jf}?done=saved"));
    let user = w.jf.user_by_name("hana").unwrap();
    assert!(!user.all_folders());
    assert_eq!(user.enabled_folders(), vec![shows.clone()]);
    assert_eq!(user.policy_bool("EnableContentDownloading"), Some(true));
    assert_eq!(events_named(&w, jf, "grant.updated").await, 1);

    let g = only_grant(&w, plex).await.grant.id;
    let res = w
        .app
        .post_form(
            &format!("/admin/members/{plex}/grants/{g}/access"),
            &[("lib", "81234002"), ("downloads", "on")],
        )
        .await;
    assert_eq!(location(&res), format!("/admin/members/{plex}?done=saved"));
    let share = &w.plex.shares_of(demo::SERVER_ID)[0];
    assert_eq!(share.section_ids, vec![81_234_002]);
    assert!(share.allow_sync);

    // Bad choices are refused on the page, the server untouched.
    let gj = only_grant(&w, jf).await.grant.id;
    for (fields, expect) in [
        (vec![("max_sessions", "2")], "at least one library"),
        (vec![("lib", "not-a-library")], "not offered"),
        (
            vec![("lib", movies.as_str()), ("max_sessions", "many")],
            "from 1 to 100",
        ),
    ] {
        let res = w
            .app
            .post_form(&format!("/admin/members/{jf}/grants/{gj}/access"), &fields)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{expect}");
        assert!(res.text().await.unwrap().contains(expect), "{expect}");
    }
    assert_eq!(
        w.jf.user_by_name("hana").unwrap().enabled_folders(),
        vec![shows]
    );
    // Another member's grant cannot be reached through this member.
    let res = w
        .app
        .post_form(
            &format!("/admin/members/{plex}/grants/{gj}/access"),
            &[("lib", movies.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_change_the_server_cannot_take_now_is_retried_by_the_worker() {
    let w = world().await;
    let member = jf_member(&w, "ivan", "").await;
    let g = only_grant(&w, member).await;
    let user = g.grant.remote_id.clone().unwrap();
    w.jf.control()
        .fail_next(&format!("/Users/{user}/Policy"), 503);
    let shows = jf_library(&w, "Shows");
    let res = w
        .app
        .post_form(
            &format!("/admin/members/{member}/grants/{}/access", g.grant.id),
            &[("lib", &shows)],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/members/{member}?done=queued")
    );
    let (_, page) = w.app.get_text(&format!("/admin/members/{member}")).await;
    assert!(page.contains("Change failing:"), "{page}");
    w.app.clock.advance(30);
    assert_eq!(usher::provisioning::run_due(&w.app.state).await.unwrap(), 1);
    assert_eq!(
        w.jf.user_by_name("ivan").unwrap().enabled_folders(),
        vec![shows]
    );
}

#[tokio::test]
async fn pausing_and_resuming_a_jellyfin_account_and_plex_offers_removal_only() {
    let w = world().await;
    let jf = jf_member(&w, "jo", "").await;
    let g = only_grant(&w, jf).await.grant.id;
    let res = w
        .app
        .post_form(&format!("/admin/members/{jf}/grants/{g}/disable"), &[])
        .await;
    assert_eq!(location(&res), format!("/admin/members/{jf}?done=disabled"));
    assert!(w.jf.user_by_name("jo").unwrap().is_disabled());
    let res = w
        .app
        .post_form(&format!("/admin/members/{jf}/grants/{g}/disable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "already paused");
    let res = w
        .app
        .post_form(&format!("/admin/members/{jf}/grants/{g}/enable"), &[])
        .await;
    assert_eq!(location(&res), format!("/admin/members/{jf}?done=enabled"));
    assert!(!w.jf.user_by_name("jo").unwrap().is_disabled());

    let plex = plex_member(&w, "alice", "").await;
    let g = only_grant(&w, plex).await.grant.id;
    let (_, page) = w.app.get_text(&format!("/admin/members/{plex}")).await;
    assert!(page.contains("Plex cannot pause access") && !page.contains("/disable\""));
    let res = w
        .app
        .post_form(&format!("/admin/members/{plex}/grants/{g}/disable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("Remove it instead"));
}

#[tokio::test]
async fn resuming_expired_access_asks_for_a_later_date_first() {
    let w = world().await;
    set_expiry_action(&w, w.jf_id, "disable", "").await;
    let member = jf_member(&w, "kim", "1d").await;
    w.app.clock.advance(DAY);
    sweep(&w.app.state).await.unwrap();
    let g = only_grant(&w, member).await.grant.id;
    let res = w
        .app
        .post_form(&format!("/admin/members/{member}/grants/{g}/enable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("set a later date"));
    w.app
        .post_form(
            &format!("/admin/members/{member}/expiry"),
            &[("action", "extend")],
        )
        .await;
    let res = w
        .app
        .post_form(&format!("/admin/members/{member}/grants/{g}/enable"), &[])
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/members/{member}?done=enabled")
    );
    assert!(!w.jf.user_by_name("kim").unwrap().is_disabled());
    assert_eq!(sweep(&w.app.state).await.unwrap(), SweepReport::default());
}

#[tokio::test]
async fn removing_access_needs_confirmation_and_keeps_the_member_and_history() {
    let w = world().await;
    let member = jf_member(&w, "lee", "").await;
    let g = only_grant(&w, member).await.grant.id;
    let path = format!("/admin/members/{member}/grants/{g}/remove");
    let res = w.app.post_form(&path, &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Tick the box"));
    assert!(w.jf.user_by_name("lee").is_some());

    let res = w.app.post_form(&path, &[("confirm", "yes")]).await;
    assert_eq!(
        location(&res),
        format!("/admin/members/{member}?done=removed")
    );
    assert!(w.jf.user_by_name("lee").is_none());
    let (status, page) = w.app.get_text(&format!("/admin/members/{member}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Removed") && page.contains("grant.removed"));
    assert!(page.contains("member.remove_requested") && page.contains("invite.redeemed"));
    let res = w.app.post_form(&path, &[("confirm", "yes")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "already removed");
}

#[tokio::test]
async fn notes_are_saved_and_limited() {
    let w = world().await;
    let member = jf_member(&w, "max", "").await;
    let path = format!("/admin/members/{member}/notes");
    let res = w
        .app
        .post_form(&path, &[("notes", "Pays <yearly> & watches anime")])
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/members/{member}?done=notes")
    );
    let (_, page) = w.app.get_text(&format!("/admin/members/{member}")).await;
    assert!(page.contains("Pays &lt;yearly&gt; &amp; watches anime"));
    let long = "x".repeat(2001);
    let res = w.app.post_form(&path, &[("notes", &long)]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("at most 2000"));
}

#[tokio::test]
async fn sync_imports_unknown_accounts_flags_gone_ones_and_marks_accepted_invites() {
    let w = world().await;
    let alice = plex_member(&w, "alice@example.com", "").await;
    let nina = jf_member(&w, "nina", "").await;
    assert_eq!(only_grant(&w, alice).await.grant.status.as_str(), "pending");
    // Access usher did not make: a Plex friend and a Jellyfin user added by hand.
    w.plex
        .add_share(demo::SERVER_ID, "bob", &[81_234_001], true);
    w.jf.add_user(SeedUser::member("dave", "pw"));

    let res = w.app.post_form("/admin/members/sync", &[]).await;
    assert_eq!(
        location(&res),
        "/admin/members?done=synced&imported=2&gone=0&failed=0"
    );
    let (_, page) = w.app.get_text(&location(&res)).await;
    assert!(page.contains("2 imported"), "{page}");
    let imported = |q: &str| {
        let q = q.to_string();
        let state = w.app.state.clone();
        async move {
            state
                .store
                .list_members(&MemberQuery {
                    search: q,
                    origin: Some(MemberOrigin::Imported),
                    ..Default::default()
                })
                .await
                .unwrap()
                .0
        }
    };
    let bob = imported("bob").await;
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].member.plex_account.as_deref(), Some("bob"));
    let bob_grant = only_grant(&w, bob[0].member.id).await;
    assert_eq!(bob_grant.grant.status.as_str(), "active");
    assert_eq!(bob_grant.grant.libraries, "[\"81234001\"]");
    let dave = imported("dave").await;
    assert_eq!(dave.len(), 1);
    assert!(
        imported("admin").await.is_empty(),
        "administrators are skipped"
    );
    assert_eq!(
        events_named(&w, dave[0].member.id, "member.imported").await,
        1
    );

    // Alice accepts; Nina's account is deleted in Jellyfin's dashboard.
    w.plex.accept_invites("alice");
    delete_on_jellyfin(&w, nina).await;

    let before = w
        .app
        .state
        .store
        .list_members(&MemberQuery::default())
        .await
        .unwrap()
        .1;
    let reports = usher::members::sync::sync_all(&w.app.state).await.unwrap();
    let totals: Vec<(&str, usize, usize, usize)> = reports
        .iter()
        .map(|(name, r)| {
            let r = r.as_ref().unwrap();
            (name.as_str(), r.imported, r.activated, r.gone)
        })
        .collect();
    assert_eq!(
        totals,
        vec![("Home Jellyfin", 0, 0, 1), ("Home Plex", 0, 1, 0)]
    );
    assert_eq!(only_grant(&w, alice).await.grant.status.as_str(), "active");
    let nina_grant = only_grant(&w, nina).await;
    assert!(nina_grant.gone_at.is_some());
    assert_eq!(
        nina_grant.grant.status.as_str(),
        "active",
        "history is not rewritten"
    );
    let (_, page) = w.app.get_text(&format!("/admin/members/{nina}")).await;
    assert!(page.contains("Gone from server"));
    let (_, list) = w.app.get_text("/admin/members?status=gone").await;
    assert!(list.contains(&format!("data-member=\"{nina}\"")));

    // Idempotent: nothing new the third time.
    let again = usher::members::sync::sync_all(&w.app.state).await.unwrap();
    for (_, r) in again {
        let r = r.unwrap();
        assert_eq!((r.imported, r.activated, r.gone, r.back), (0, 0, 0, 0));
    }
    let after = w
        .app
        .state
        .store
        .list_members(&MemberQuery::default())
        .await
        .unwrap()
        .1;
    assert_eq!(before, after);
    let server = w.app.state.store.server(w.plex_id).await.unwrap().unwrap();
    assert_eq!(server.synced_at, Some(w.app.clock.now()));
}

#[tokio::test]
async fn a_server_that_cannot_be_synced_says_why_on_its_page() {
    let w = world().await;
    w.jf.control().fail_next("/Users", 401);
    let res = w
        .app
        .post_form(&format!("/admin/servers/{}/sync", w.jf_id), &[])
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/servers/{}?done=sync-failed", w.jf_id)
    );
    let (_, page) = w.app.get_text(&location(&res)).await;
    assert!(page.contains("The last sync failed:") && page.contains("refused the token"));
    let (_, list) = w.app.get_text("/admin/members").await;
    assert!(list.contains("Home Jellyfin could not be synced"));
    let res = w
        .app
        .post_form(&format!("/admin/servers/{}/sync", w.jf_id), &[])
        .await;
    assert_eq!(
        location(&res),
        format!("/admin/servers/{}?done=synced", w.jf_id)
    );
}

/// Members inserted straight through the store: `n` of them, alternating servers, origins and
/// statuses, named so the order is known.
async fn seed_members(w: &World, n: usize) {
    let statuses = [
        GrantStatus::Active,
        GrantStatus::Pending,
        GrantStatus::Disabled,
        GrantStatus::Removed,
    ];
    for i in 0..n {
        let name = format!("user{i:04}");
        let email = format!("{name}@example.org");
        let (server, plex) = if i % 2 == 0 {
            (w.plex_id, true)
        } else {
            (w.jf_id, false)
        };
        let origin = MemberOrigin::ALL[i % 3];
        let remote = format!("seed-{i}");
        w.app
            .state
            .store
            .import_account(
                ImportInto::New(NewMember {
                    display_name: &name,
                    email: Some(&email),
                    plex_account: plex.then_some(name.as_str()),
                    username: (!plex).then_some(name.as_str()),
                    identity_key: &name,
                    origin,
                    invite_id: None,
                    invite_code: None,
                    lang: "en",
                }),
                ImportedGrant {
                    server_id: server,
                    status: statuses[i % 4],
                    identity: &name,
                    libraries: Vec::new(),
                    remote_id: &remote,
                    remote_user_id: None,
                },
                START + i as i64,
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn sorted_by_expiry_the_list_follows_each_members_earliest_live_grant_as_access_changes() {
    let w = world().await;
    let ana = jf_member(&w, "ana", "30d").await;
    let ben = jf_member(&w, "ben", "10d").await;
    let cai = jf_member(&w, "cai", "").await;
    jf_member(&w, "dee", "20d").await;
    let store = &w.app.state.store;
    let order = |descending: bool| async move {
        let (rows, total) = store
            .list_members(&MemberQuery {
                sort: MemberSort::Expires,
                descending,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(total, 4);
        rows.iter()
            .map(|r| (r.member.display_name.clone(), r.expires_at.is_some()))
            .collect::<Vec<_>>()
    };
    let names = |v: Vec<(String, bool)>| v.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    // Without an expiry comes last, in either direction.
    assert_eq!(names(order(false).await), ["ben", "dee", "ana", "cai"]);
    assert_eq!(names(order(true).await), ["ana", "dee", "ben", "cai"]);

    let now = w.app.clock.now();
    usher::members::change_expiry(
        &w.app.state,
        ana,
        usher::members::ExpiryChange::Set(now + 5 * DAY),
        "test",
    )
    .await
    .unwrap();
    assert_eq!(names(order(false).await), ["ana", "ben", "dee", "cai"]);

    // Ben's only access is taken away: he has no expiry left.
    let grant = only_grant(&w, ben).await.grant.id;
    usher::members::remove_grant(&w.app.state, ben, grant, "test")
        .await
        .unwrap();
    assert_eq!(only_grant(&w, ben).await.grant.status, GrantStatus::Removed);
    let asc = order(false).await;
    assert_eq!(names(asc.clone()), ["ana", "dee", "ben", "cai"]);
    assert!(!asc[2].1, "a removed grant's expiry does not count");
    assert_eq!(names(order(true).await), ["dee", "ana", "cai", "ben"]);

    // A grant written by something else than usher's code (another process, a restore) moves
    // the member too: Cai gets a second, live grant ending tomorrow.
    sqlx::query(
        "INSERT INTO grants (member_id, server_id, status, identity, libraries, permissions,
                             expires_at, created_at, updated_at)
         VALUES (?, ?, 'active', 'cai-plex', '[]', '{}', ?, ?, ?)",
    )
    .bind(cai)
    .bind(w.plex_id)
    .bind(now + DAY)
    .bind(now)
    .bind(now)
    .execute(&db(&w.app.state).await)
    .await
    .unwrap();
    assert_eq!(names(order(false).await), ["cai", "ana", "dee", "ben"]);
    sqlx::query("DELETE FROM grants WHERE identity = 'cai-plex'")
        .execute(&db(&w.app.state).await)
        .await
        .unwrap();
    assert_eq!(names(order(false).await), ["ana", "dee", "ben", "cai"]);

    // Three to a page: the total comes with a full page, and a short last page ends the list.
    let page = |offset: i64| async move {
        let (rows, total) = store
            .list_members(&MemberQuery {
                sort: MemberSort::Expires,
                limit: 3,
                offset,
                ..Default::default()
            })
            .await
            .unwrap();
        (rows.len(), total)
    };
    assert_eq!(page(0).await, (3, 4));
    assert_eq!(page(3).await, (1, 4));
    assert_eq!(page(6).await, (0, 4));
}

#[tokio::test]
async fn the_members_list_pages_searches_filters_and_sorts_a_few_hundred_members() {
    let w = world().await;
    seed_members(&w, 300).await;
    let store = &w.app.state.store;

    let (page1, total) = store.list_members(&MemberQuery::default()).await.unwrap();
    assert_eq!(total, 300);
    assert_eq!(page1.len(), 50);
    assert_eq!(page1[0].member.display_name, "user0000");
    let last = MemberQuery {
        offset: 250,
        ..Default::default()
    };
    let (page6, _) = store.list_members(&last).await.unwrap();
    assert_eq!(page6.last().unwrap().member.display_name, "user0299");
    let beyond = MemberQuery {
        offset: 1000,
        ..Default::default()
    };
    let (rows, total) = store.list_members(&beyond).await.unwrap();
    assert!(rows.is_empty());
    assert_eq!(total, 300, "past the last page the total is still known");

    let q = |f: fn(&mut MemberQuery)| {
        let mut q = MemberQuery {
            limit: 1000,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let count = |q: MemberQuery| async move { store.list_members(&q).await.unwrap().1 };
    assert_eq!(count(q(|q| q.search = "user012".into())).await, 10);
    assert_eq!(count(q(|q| q.search = "USER0123@EXAMPLE".into())).await, 1);
    assert_eq!(
        count(q(|q| q.search = "%".into())).await,
        0,
        "wildcards are literal"
    );
    assert_eq!(
        count(q(|q| q.origin = Some(MemberOrigin::Request))).await,
        100
    );
    assert_eq!(
        count(q(|q| q.status = Some(StatusFilter::Removed))).await,
        75
    );
    // Even members are on Plex: active and disabled ones; pending and removed are on Jellyfin.
    let mut on_server = q(|q| q.status = Some(StatusFilter::Pending));
    on_server.server_id = Some(w.jf_id);
    assert_eq!(count(on_server.clone()).await, 75);
    on_server.server_id = Some(w.plex_id);
    assert_eq!(count(on_server.clone()).await, 0);
    on_server.status = Some(StatusFilter::Disabled);
    assert_eq!(count(on_server.clone()).await, 75);
    on_server.status = None;
    assert_eq!(count(on_server).await, 150);
    let (desc, _) = store
        .list_members(&q(|q| {
            q.sort = MemberSort::Created;
            q.descending = true;
        }))
        .await
        .unwrap();
    assert_eq!(desc[0].member.display_name, "user0299");

    // The page: filters, paging links and search keep each other.
    let (status, body) = w
        .app
        .get_text(&format!(
            "/admin/members?server={}&status=active&origin=invite&sort=name&dir=desc&page=2",
            w.plex_id
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Active on Plex: i % 4 == 0; invite origin: i % 3 == 0 → i % 12 == 0 → 25 members, one page.
    assert!(body.contains("data-total=\"25\""), "total shown");
    assert!(body.contains("Page 2 of 1") || body.contains("No member matches"));
    let (_, body) = w
        .app
        .get_text("/admin/members?status=active&origin=invite&sort=name&dir=desc")
        .await;
    let first = body.find("user0288").unwrap();
    let second = body.find("user0276").unwrap();
    assert!(first < second, "sorted by name, descending");
    let (_, body) = w.app.get_text("/admin/members?page=2").await;
    assert!(
        body.contains("Page 2 of 6") && body.contains("user0050") && !body.contains("user0049<")
    );
    assert!(body.contains("page=3") && body.contains("page=1"));
    for junk in [
        "page=abc",
        "status=nope",
        "sort=evil;drop",
        "server=x",
        "page=-5",
    ] {
        let (status, _) = w.app.get_text(&format!("/admin/members?{junk}")).await;
        assert_eq!(status, StatusCode::OK, "{junk}");
    }
}

#[tokio::test]
async fn member_pages_need_an_admin_and_bad_ids_are_not_found() {
    let w = world().await;
    let member = jf_member(&w, "olga", "").await;
    let stranger = cookie_client();
    for path in [
        "/admin/members".to_string(),
        format!("/admin/members/{member}"),
    ] {
        let res = stranger.get(w.app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&res).starts_with("/login"));
    }
    let page = stranger
        .get(w.app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).unwrap();
    let g = only_grant(&w, member).await.grant.id;
    for path in [
        format!("/admin/members/{member}/grants/{g}/remove"),
        format!("/admin/members/{member}/expiry"),
        "/admin/members/sync".to_string(),
        format!("/admin/servers/{}/sync", w.jf_id),
        format!("/admin/servers/{}/expiry", w.jf_id),
    ] {
        let res = stranger
            .post(w.app.url(&path))
            .form(&[
                ("csrf", csrf.as_str()),
                ("confirm", "yes"),
                ("action", "clear"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&res).starts_with("/login"), "{path}");
    }
    assert!(w.jf.user_by_name("olga").is_some());
    for path in [
        "/admin/members/abc",
        "/admin/members/99999",
        "/admin/members/-1",
    ] {
        assert_eq!(
            w.app.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let res = w
        .app
        .post_form(&format!("/admin/members/99999/grants/{g}/disable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_member_page_shows_grants_history_and_no_secrets() {
    let w = world().await;
    let member = jf_member(&w, "pia", "30d").await;
    let (status, page) = w.app.get_text(&format!("/admin/members/{member}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Home Jellyfin") && page.contains("Movies"));
    assert!(page.contains("invite.redeemed") && page.contains("grant.provisioned"));
    assert!(page.contains("Extend by 30 days"));
    assert!(!page.contains("a good password"));
    assert!(!page.contains(&w.jf.api_key()));
    let (_, es) = {
        let res = w
            .app
            .client
            .get(w.app.url(&format!("/admin/members/{member}")))
            .header("accept-language", "es")
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    };
    assert!(es.contains("Ampliar 30 días"), "Spanish page");
}

#[tokio::test]
async fn member_list_expire_and_server_sync_work_from_the_binary() {
    let w = world().await;
    let member = jf_member(&w, "quinn", "").await;
    w.jf.add_user(SeedUser::member("rita", "pw"));
    let dir = w.app.data_dir();
    let env = vec![
        ("USHER_PLEX_TV_URL", w.plex.plex_tv_url()),
        ("USHER_PLEX_CLIENTS_URL", w.plex.clients_url()),
        ("USHER_PLEX_APP_URL", w.plex.app_url()),
    ];
    let clock = w.app.clock.clone();
    let run = move |args: Vec<String>| {
        let (dir, env, now) = (dir.clone(), env.clone(), clock.now());
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = crate::cli::usher_env(Some(now), &dir, &args, "", &env);
                (
                    out.status.success(),
                    String::from_utf8_lossy(&out.stdout).to_string(),
                    String::from_utf8_lossy(&out.stderr).to_string(),
                )
            })
            .await
            .unwrap()
        }
    };
    let args = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
    let id = member.to_string();

    let (ok, out, err) = run(args("member list --json")).await;
    assert!(ok, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["id"], member.get());
    assert_eq!(list[0]["name"], "quinn");
    assert_eq!(list[0]["grants"][0]["server"], "Home Jellyfin");
    assert_eq!(list[0]["grants"][0]["status"], "active");
    let (ok, out, _) = run(args("member list")).await;
    assert!(
        ok && out.starts_with("ID") && out.contains("Home Jellyfin: active"),
        "{out}"
    );

    let (ok, out, err) = run(args(&format!("member expire {id} --at 2099-12-31T18:00"))).await;
    assert!(ok, "{err}");
    assert!(out.contains("now expires 2099-12-31 18:00 UTC"), "{out}");
    let at = only_grant(&w, member).await.grant.expires_at.unwrap();
    assert_eq!(usher::clock::rfc3339(at), "2099-12-31T18:00:00Z");
    let (ok, out, _) = run(args(&format!("member expire {id} --at never"))).await;
    assert!(ok && out.contains("never expires"), "{out}");
    assert_eq!(only_grant(&w, member).await.grant.expires_at, None);
    let (ok, _, err) = run(args(&format!("member expire {id} --at soon"))).await;
    assert!(
        !ok && err.contains("--at") && err.contains("2026-12-31"),
        "{err}"
    );
    let (ok, _, err) = run(args("member expire 99999 --at never")).await;
    assert!(!ok && err.contains("no member has the id 99999"), "{err}");

    let (ok, out, err) = run(vec!["server".into(), "sync".into(), "Home Jellyfin".into()]).await;
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "syncing Home Jellyfin… 2 accounts, 1 imported, 0 gone"
    );
    let (ok, out, err) = run(args("server sync")).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("syncing Home Jellyfin… 2 accounts, 0 imported, 0 gone")
            && out.contains("syncing Home Plex… 0 accounts, 0 imported, 0 gone"),
        "{out}"
    );
    let (ok, _, err) = run(args("server sync Nope")).await;
    assert!(!ok && err.contains("no server named `Nope`"), "{err}");
}

/// The budget in DESIGN (admin member list with 10,000 members, search + paging, ≤ 50 ms server
/// time), measured on demand: `cargo nextest run -p usher ten_thousand --run-ignored only
/// --no-capture`.
#[tokio::test]
#[ignore = "a measurement: seeds 10,000 members"]
async fn the_members_page_answers_within_budget_with_ten_thousand_members() {
    let w = world().await;
    seed_members(&w, 10_000).await;
    let paths = [
        "/admin/members".to_string(),
        "/admin/members?q=user12".into(),
        "/admin/members?page=150".into(),
        format!("/admin/members?server={}&status=pending", w.jf_id),
        "/admin/members?origin=imported&sort=expires&dir=desc".into(),
        "/admin/members?status=failing&sort=created".into(),
    ];
    for path in paths {
        let mut best = std::time::Duration::MAX;
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let (status, _) = w.app.get_text(&path).await;
            assert_eq!(status, StatusCode::OK);
            best = best.min(started.elapsed());
        }
        eprintln!("{path:<60} {best:?}");
        assert!(best.as_millis() <= 50, "{path}: {best:?}");
    }
}
