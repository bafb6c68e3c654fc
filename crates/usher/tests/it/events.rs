use reqwest::StatusCode;
use usher::store::events::NewEvent;

use crate::helpers::*;

const DAY: i64 = 86_400;

async fn append(app: &TestApp, at: i64, actor: &str, action: &str, subject: &str, detail: &str) {
    app.state
        .store
        .append_event(
            NewEvent {
                actor,
                action,
                subject: Some(subject),
                detail: (!detail.is_empty()).then_some(detail),
            },
            at,
        )
        .await
        .unwrap();
}

/// The event ids a page of the log shows, in order.
fn shown(page: &str) -> Vec<i64> {
    page.split("data-event=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// The actions a page of the log shows, in order.
fn actions(page: &str) -> Vec<String> {
    page.split("data-action=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

async fn page(app: &TestApp, path: &str) -> String {
    let (status, body) = app.get_text(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

fn href(page: &str, rel: &str) -> String {
    let marker = format!("\" rel=\"{rel}\"");
    let end = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {rel} link"));
    let start = page[..end].rfind("href=\"").unwrap() + 6;
    page[start..end].replace("&amp;", "&")
}

#[tokio::test]
async fn the_events_page_filters_by_actor_action_member_server_and_date() {
    let w = world().await;
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let input = usher::invites::RedeemInput {
        username: "gina".into(),
        password: "a good password".into(),
        ..Default::default()
    };
    let member = usher::invites::redeem(&w.app.state, &code, &input)
        .await
        .unwrap()
        .member_id;
    let res = w
        .app
        .post_form(
            &format!("/admin/members/{member}/notes"),
            &[("notes", "my cousin")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    append(
        &w.app,
        START + 3 * DAY,
        "usher",
        "email.failed",
        "x@example.com",
        "",
    )
    .await;

    let all = page(&w.app, "/admin/events").await;
    for action in [
        "server.added",
        "invite.created",
        "invite.redeemed",
        "grant.provisioned",
        "member.notes_changed",
        "email.failed",
    ] {
        assert!(
            actions(&all).contains(&action.to_string()),
            "{action}: {all}"
        );
    }

    let by_actor = page(&w.app, "/admin/events?actor=OWN").await;
    assert!(actions(&by_actor).contains(&"member.notes_changed".to_string()));
    assert!(
        !actions(&by_actor).contains(&"invite.redeemed".to_string()),
        "redeemed by gina"
    );

    let by_action = page(&w.app, "/admin/events?action=member.notes_changed").await;
    assert_eq!(actions(&by_action), ["member.notes_changed"]);
    let family = actions(&page(&w.app, "/admin/events?action=invite.*").await);
    assert!(
        !family.is_empty() && family.iter().all(|a| a.starts_with("invite.")),
        "{family:?}"
    );

    for filter in [
        format!("member={member}"),
        format!("member=%23{member}"),
        "member=gin".into(),
    ] {
        let mine = actions(&page(&w.app, &format!("/admin/events?{filter}")).await);
        assert!(
            mine.contains(&"invite.redeemed".to_string()),
            "{filter}: {mine:?}"
        );
        assert!(mine.contains(&"grant.provisioned".to_string()));
        assert!(!mine.contains(&"server.added".to_string()), "{filter}");
    }

    let plex = actions(&page(&w.app, &format!("/admin/events?server={}", w.plex_id)).await);
    assert_eq!(plex, ["server.added"], "only what concerns Home Plex");
    let jf = actions(&page(&w.app, &format!("/admin/events?server={}", w.jf_id)).await);
    assert!(
        jf.contains(&"grant.provisioned".to_string()) && jf.contains(&"server.added".to_string())
    );

    let later = actions(&page(&w.app, "/admin/events?from=2026-11-25").await);
    assert_eq!(later, ["email.failed"]);
    let earlier = actions(&page(&w.app, "/admin/events?to=2026-11-24").await);
    assert!(!earlier.contains(&"email.failed".to_string()) && !earlier.is_empty());
    let day = actions(&page(&w.app, "/admin/events?from=2026-11-25&to=2026-11-25").await);
    assert_eq!(day, ["email.failed"], "the end date counts whole");

    let none = page(&w.app, "/admin/events?actor=nobody-at-all").await;
    assert!(shown(&none).is_empty());
    assert!(none.contains("No event matches these filters."));
}

#[tokio::test]
async fn paging_walks_from_the_newest_to_older_events_and_back() {
    let app = spawn_signed_in().await;
    for i in 0..120 {
        append(
            &app,
            START + i,
            "tester",
            "test.step",
            &format!("step {i}"),
            "",
        )
        .await;
    }
    let first = page(&app, "/admin/events?action=test.step").await;
    let ids = shown(&first);
    assert_eq!(ids.len(), 50);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert!(first.contains("step 119"));
    assert!(!first.contains("rel=\"prev\""), "nothing newer");

    let second = page(&app, &href(&first, "next")).await;
    let ids2 = shown(&second);
    assert_eq!(ids2.len(), 50);
    assert!(ids2[0] < *ids.last().unwrap());
    assert!(second.contains("step 69"));
    let third = page(&app, &href(&second, "next")).await;
    assert_eq!(shown(&third).len(), 20);
    assert!(!third.contains("rel=\"next\""), "nothing older");
    assert!(
        third.contains("action=test.step"),
        "filters stay on paging links"
    );

    let back = page(&app, &href(&third, "prev")).await;
    assert_eq!(shown(&back), ids2);
}

#[tokio::test]
async fn the_csv_export_quotes_fields_and_defuses_formulas() {
    let app = spawn_signed_in().await;
    append(
        &app,
        START,
        "=cmd|' /C calc'!A0",
        "test.csv",
        "a, \"quoted\" subject",
        "two\nlines",
    )
    .await;
    append(&app, START + 1, "+plus", "test.csv", "@mention", "-minus").await;
    append(&app, START + 2, "someone", "other.thing", "left out", "").await;

    let res = app.get("/admin/events.csv?action=test.csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"usher-events-2026-11-22"),
        "{disposition}"
    );
    let body = res.text().await.unwrap();
    let body = body
        .strip_prefix('\u{feff}')
        .expect("a BOM for spreadsheets");
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,at,actor,action,subject,detail,member_id,member,server_id,server"
    );
    assert!(
        lines[1].contains(",2026-11-22T00:00:01Z,'+plus,test.csv,'@mention,'-minus,,,,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(",2026-11-22T00:00:00Z,'=cmd|' /C calc'!A0,test.csv,\"a, \"\"quoted\"\" subject\",\"two\nlines\",,,,"),
        "{}",
        lines[2]
    );
    assert_eq!(lines.len(), 4, "two events and the end: {lines:?}");
    assert!(!body.contains("left out"), "filters apply to the export");

    // Without filters: everything, newest first, setup included.
    let all = app.get("/admin/events.csv").await.text().await.unwrap();
    assert!(all.contains("left out") && all.contains("admin.setup"));
}

#[tokio::test]
async fn a_large_log_exports_whole() {
    let app = spawn_signed_in().await;
    for i in 0..1234 {
        append(
            &app,
            START + i,
            "bulk",
            "test.bulk",
            &format!("row {i}"),
            "",
        )
        .await;
    }
    let body = app
        .get("/admin/events.csv?actor=bulk")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body.matches("\r\n").count(), 1235, "header and every row");
    assert!(body.contains(",row 0,") && body.contains(",row 1233,"));
}

#[tokio::test]
async fn bad_filters_get_a_clear_4xx() {
    let app = spawn_signed_in().await;
    for path in [
        "/admin/events?from=yesterday",
        "/admin/events?to=2026-02-30",
        "/admin/events?server=home",
        "/admin/events?action=DROP%20TABLE",
        "/admin/events?before=abc",
        "/admin/events?before=5&after=3",
        "/admin/events.csv?from=soon",
        // Whitespace is not a blank field: the API documents a day or nothing, and a control
        // character that trims away must not slip through as "no filter".
        "/admin/events.csv?from=&to=%0B",
        "/admin/events?from=%20",
        "/admin/events?server=%0B",
    ] {
        let (status, body) = app.get_text(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(!body.contains("panicked"));
    }
    let (_, body) = app.get_text("/admin/events?from=yesterday").await;
    assert!(body.contains("Dates look like 2026-11-22."), "{body}");
    // Two good days in the wrong order: each is well formed, together they are refused.
    let (status, _) = app
        .get_text("/admin/events?from=2026-11-25&to=2026-11-24")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_events_pages_are_for_admins_only() {
    let app = spawn_signed_in().await;
    let stranger = cookie_client();
    for (path, next) in [
        ("/admin/events", "/login?next=%2Fadmin%2Fevents"),
        (
            "/admin/events.csv?actor=x",
            "/login?next=%2Fadmin%2Fevents.csv%3Factor%3Dx",
        ),
    ] {
        let res = stranger.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&res), next);
    }
    let (_, dashboard) = app.get_text("/admin").await;
    assert!(dashboard.contains("href=\"/admin/events\""), "in the nav");
}

#[tokio::test]
async fn admin_changes_are_recorded_with_the_admin_as_actor() {
    let w = world().await;
    let res = w.app.login(ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = w
        .app
        .post_form("/admin/settings/general", &[("owner_name", "Ana")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = w
        .app
        .post_form(
            &format!("/admin/servers/{}/defaults", w.jf_id),
            &[("allow_downloads", "on"), ("max_sessions", "2")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = w
        .app
        .post_form(&format!("/admin/servers/{}/sync", w.jf_id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = w
        .app
        .post_form("/admin/settings/email/test", &[("to", "me@example.com")])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "email is not set up"
    );

    let log = w.app.state.store.recent_events(50).await.unwrap();
    let find = |action: &str| {
        log.iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action} in {log:?}"))
    };
    assert_eq!(find("settings.changed").actor, ADMIN);
    assert_eq!(find("server.defaults_changed").actor, ADMIN);
    assert_eq!(find("server.synced").actor, ADMIN);
    assert_eq!(find("admin.signed_in").actor, ADMIN);
    assert!(log.iter().all(|e| e.actor != "admin"), "{log:?}");
    let tested = find("settings.tested");
    assert_eq!(tested.actor, ADMIN);
    assert!(
        tested.detail.as_deref().unwrap().contains("not set up"),
        "{tested:?}"
    );
    let jf = actions(&page(&w.app, &format!("/admin/events?server={}", w.jf_id)).await);
    assert!(
        jf.contains(&"server.defaults_changed".to_string())
            && jf.contains(&"server.synced".to_string())
    );

    let res = w.app.post_form("/logout", &[]).await;
    assert_eq!(location(&res), "/login");
    let last = w.app.state.store.recent_events(1).await.unwrap().remove(0);
    assert_eq!(
        (last.actor.as_str(), last.action.as_str()),
        (ADMIN, "admin.signed_out")
    );
}

/// Browsers ask for gzip: the export must stream to the end through the whole middleware stack,
/// over several database batches, and decompress to every event.
#[tokio::test]
async fn the_csv_export_downloads_whole_when_the_browser_accepts_gzip() {
    use std::io::Read;
    let app = spawn_signed_in().await;
    for i in 0..1_200 {
        append(
            &app,
            START + i,
            "tester",
            "test.gzip",
            &format!("row {i}"),
            "",
        )
        .await;
    }
    let res = app
        .client
        .get(app.url("/admin/events.csv?action=test.gzip"))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let compressed = res.bytes().await.expect("the stream ends cleanly");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut text)
        .expect("a complete gzip stream");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 1_200, "header and every event");
    assert!(lines[1].contains("row 1199") && lines[1_200].contains(",row 0,"));
}

#[tokio::test]
async fn events_read_as_sentences_with_the_reader_as_you_and_times_in_the_owners_zone() {
    let app = spawn_signed_in().await;
    let now = app.state.clock.now();
    append(
        &app,
        now - 12 * 60,
        ADMIN,
        "request.approved",
        "Carol <carol@example.com>",
        "",
    )
    .await;
    append(
        &app,
        now - 3 * 3600,
        "Tom",
        "invite.redeemed",
        "JG7P4K2M9Q",
        "Demo Plex",
    )
    .await;
    append(
        &app,
        now - 3 * DAY,
        "ben",
        "request.declined",
        "Dan <dan@example.com>",
        "",
    )
    .await;
    let body = page(&app, "/admin/events").await;
    for sentence in [
        "You approved Carol’s request",
        "Tom joined Demo Plex through invite JG7P4K2M9Q",
        "ben declined Dan’s request",
        "12 minutes ago",
        "3 hours ago",
        "Times are in UTC.",
    ] {
        assert!(body.contains(sentence), "{sentence}: {body}");
    }
    assert!(
        !body.contains("<code>request.approved</code>"),
        "no raw action names"
    );
    // The dashboard says the same.
    let (_, dashboard) = app.get_text("/admin").await;
    assert!(
        dashboard.contains("You approved Carol’s request"),
        "{dashboard}"
    );
    // In Spanish.
    let res = app
        .post_form("/prefs", &[("lang", "es"), ("back", "/admin/events")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let body = page(&app, "/admin/events").await;
    assert!(
        body.contains("Solicitud de Carol aprobada por ti"),
        "{body}"
    );
    assert!(body.contains("hace 12 minutos"), "{body}");
}

#[tokio::test]
async fn the_what_filter_lists_families_by_name() {
    let app = spawn_signed_in().await;
    let body = page(&app, "/admin/events").await;
    for option in [
        "<option value=\"request.*\">Requests</option>",
        "<option value=\"grant.*\">Access on servers</option>",
        "<option value=\"admin.*\">Admins and sign-ins</option>",
    ] {
        assert!(body.contains(option), "{option}");
    }
    // A link to one exact action (from elsewhere) keeps it chosen.
    let body = page(&app, "/admin/events?action=request.approved").await;
    assert!(
        body.contains("<option value=\"request.approved\" selected>"),
        "{body}"
    );
}

#[tokio::test]
async fn a_bad_date_range_keeps_the_filters_and_says_what_is_wrong_beside_them() {
    let app = spawn_signed_in().await;
    let (status, body) = app
        .get_text("/admin/events?actor=ben&from=2026-11-25&to=2026-11-24")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("name=\"actor\" value=\"ben\""),
        "what was typed stays: {body}"
    );
    assert!(body.contains("value=\"2026-11-25\"") && body.contains("value=\"2026-11-24\""));
    assert!(
        body.contains("The end date must not be before the start date."),
        "{body}"
    );
    assert!(body.contains("name=\"to\" type=\"date\" value=\"2026-11-24\" aria-invalid=\"true\""));
    assert!(
        body.contains("<form method=\"get\" action=\"/admin/events\""),
        "the page, not an error page"
    );
}

#[tokio::test]
async fn the_owners_time_zone_is_a_setting_the_console_shows_and_reads_times_in() {
    let app = spawn_signed_in().await;
    let res = app
        .post_form("/admin/settings/general", &[("time_zone", "Mars/Olympus")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("That is not a time zone usher knows"),
        "{body}"
    );
    let res = app
        .post_form("/admin/settings/general", &[("time_zone", "Europe/Madrid")])
        .await;
    assert_eq!(location(&res), "/admin/settings/general?done=general");
    let (_, general) = app.get_text("/admin/settings/general").await;
    assert!(general.contains("value=\"Europe/Madrid\""), "{general}");
    assert!(
        general.contains("<option value=\"America/New_York\">"),
        "zones are suggested"
    );
    // 2026-12-31 18:00 UTC is 19:00 in Madrid.
    append(
        &app,
        1_798_740_000,
        "ben",
        "request.declined",
        "Dan <dan@example.com>",
        "",
    )
    .await;
    let body = page(&app, "/admin/events").await;
    assert!(body.contains("Times are in Europe/Madrid."), "{body}");
    assert!(body.contains("2026-12-31 19:00 CET"), "{body}");
    // A day in the filter is that day in Madrid: the event at 19:00 is on the 31st there.
    let body = page(&app, "/admin/events?from=2026-12-31&to=2026-12-31").await;
    assert!(body.contains("ben declined Dan’s request"), "{body}");
    let (_, api) = app.get_text("/admin/settings").await;
    assert!(api.contains("times in Europe/Madrid"), "{api}");
}
