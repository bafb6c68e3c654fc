//! Everything the admin pages do, the JSON API and the CLI do too. The test walks the route
//! table: every admin page route must be named below with the API endpoint(s) and the CLI
//! command that do the same, and those must exist (the API in the endpoint list the OpenAPI
//! document is made from, the CLI by asking the binary for the command's help). A route added to
//! the pages without its API endpoint and CLI command fails here until it has them, or until it
//! is put among the few page-only routes with the reason.

use std::collections::BTreeSet;

use usher::web::Access;

/// What a page route is elsewhere.
enum Elsewhere {
    /// The API endpoints ("METHOD path") and the CLI command (its words) that do the same.
    Same(&'static [&'static str], &'static str),
    /// A form page: what it sends is the page action named.
    FormFor(&'static str),
    /// Makes sense on the web only; the reason says why and what stands in for it.
    PageOnly(&'static str),
    /// Done from a terminal (the CLI command) but not through the API, for the reason given.
    CliOnly(&'static str, &'static str),
}

/// Why admin accounts are not in the API: a key belongs to no one, so "my password" means
/// nothing to it, and a key that could make admins would outlive any one of them.
const NOT_FOR_KEYS: &str = "admin accounts are people's: an API key is no one's account, and a key that made admins would be a way back in for whoever held it";

use Elsewhere::*;

const PARITY: &[(&str, Elsewhere)] = &[
    ("GET /admin", Same(&["GET /api/v1/stats"], "stats")),
    // Servers
    (
        "GET /admin/servers",
        Same(&["GET /api/v1/servers"], "server list"),
    ),
    (
        "POST /admin/servers",
        Same(&["POST /api/v1/servers"], "server add"),
    ),
    ("GET /admin/servers/new", FormFor("POST /admin/servers")),
    (
        "POST /admin/servers/plex/signin",
        // Plex's sign-in is a PIN approved in the owner's browser at plex.tv; the API and the
        // CLI take the Plex token it produces (`server add plex --token-stdin`).
        PageOnly("a browser sign-in at plex.tv; elsewhere the Plex token is given directly"),
    ),
    (
        "GET /admin/servers/plex/callback",
        PageOnly("where plex.tv sends the browser back after the sign-in above"),
    ),
    (
        "POST /admin/servers/plex/add",
        Same(&["POST /api/v1/servers"], "server add"),
    ),
    (
        "GET /admin/servers/{id}",
        Same(
            &[
                "GET /api/v1/servers/{id}",
                "GET /api/v1/servers/{id}/libraries",
            ],
            "server show",
        ),
    ),
    (
        "POST /admin/servers/{id}/test",
        Same(&["POST /api/v1/servers/{id}/test"], "server test"),
    ),
    (
        "POST /admin/servers/{id}/scan",
        Same(&["POST /api/v1/servers/{id}/scan"], "server rescan"),
    ),
    (
        "POST /admin/servers/{id}/edit",
        Same(&["PATCH /api/v1/servers/{id}"], "server edit"),
    ),
    (
        "POST /admin/servers/{id}/defaults",
        Same(&["PUT /api/v1/servers/{id}/defaults"], "server defaults"),
    ),
    (
        "POST /admin/servers/{id}/libraries",
        Same(&["PUT /api/v1/servers/{id}/libraries"], "server choose"),
    ),
    (
        "POST /admin/servers/{id}/remove",
        Same(&["DELETE /api/v1/servers/{id}"], "server remove"),
    ),
    (
        "POST /admin/servers/{id}/expiry",
        Same(&["PUT /api/v1/servers/{id}/expiry"], "server expiry"),
    ),
    (
        "POST /admin/servers/{id}/sync",
        Same(&["POST /api/v1/servers/{id}/sync"], "server sync"),
    ),
    // Invites
    (
        "GET /admin/invites",
        Same(&["GET /api/v1/invites"], "invite list"),
    ),
    (
        "POST /admin/invites",
        Same(&["POST /api/v1/invites"], "invite create"),
    ),
    ("GET /admin/invites/new", FormFor("POST /admin/invites")),
    (
        "GET /admin/invites.csv",
        Same(&["GET /api/v1/invites.csv"], "invite export"),
    ),
    (
        "GET /admin/invites/{code}",
        Same(&["GET /api/v1/invites/{code}/redemptions"], "invite show"),
    ),
    (
        "GET /admin/invites/{code}/qr.svg",
        Same(&["GET /api/v1/invites/{code}/qr.svg"], "invite qr"),
    ),
    (
        "POST /admin/invites/{code}/disable",
        Same(&["POST /api/v1/invites/{code}/disable"], "invite disable"),
    ),
    (
        "POST /admin/invites/{code}/enable",
        Same(&["POST /api/v1/invites/{code}/enable"], "invite enable"),
    ),
    (
        "POST /admin/invites/{code}/delete",
        Same(&["DELETE /api/v1/invites/{code}"], "invite delete"),
    ),
    // Requests
    (
        "GET /admin/requests",
        Same(&["GET /api/v1/requests"], "request list"),
    ),
    (
        "POST /admin/requests/{id}/approve",
        Same(&["POST /api/v1/requests/{id}/approve"], "request approve"),
    ),
    (
        "POST /admin/requests/{id}/decline",
        Same(&["POST /api/v1/requests/{id}/decline"], "request decline"),
    ),
    // Members
    (
        "GET /admin/members",
        Same(&["GET /api/v1/members"], "member list"),
    ),
    (
        "POST /admin/members/sync",
        Same(&["POST /api/v1/servers/sync"], "server sync"),
    ),
    (
        "GET /admin/members/{id}",
        Same(&["GET /api/v1/members/{id}"], "member show"),
    ),
    (
        "POST /admin/members/{id}/expiry",
        Same(&["POST /api/v1/members/{id}/expiry"], "member expire"),
    ),
    (
        "POST /admin/members/{id}/notes",
        Same(&["PUT /api/v1/members/{id}/notes"], "member notes"),
    ),
    (
        "POST /admin/members/{id}/grants/{grant}/access",
        Same(
            &["PUT /api/v1/members/{id}/grants/{grant}/access"],
            "member access",
        ),
    ),
    (
        "POST /admin/members/{id}/grants/{grant}/disable",
        Same(
            &["POST /api/v1/members/{id}/grants/{grant}/pause"],
            "member pause",
        ),
    ),
    (
        "POST /admin/members/{id}/grants/{grant}/enable",
        Same(
            &["POST /api/v1/members/{id}/grants/{grant}/resume"],
            "member resume",
        ),
    ),
    (
        "POST /admin/members/{id}/grants/{grant}/remove",
        Same(
            &["POST /api/v1/members/{id}/grants/{grant}/remove"],
            "member remove",
        ),
    ),
    // Profiles
    (
        "GET /admin/profiles",
        Same(&["GET /api/v1/profiles"], "profile list"),
    ),
    (
        "POST /admin/profiles",
        Same(&["POST /api/v1/profiles"], "profile save"),
    ),
    (
        "GET /admin/profiles/{id}",
        Same(&["GET /api/v1/profiles/{id}"], "profile show"),
    ),
    (
        "POST /admin/profiles/{id}",
        Same(
            &[
                "PUT /api/v1/profiles/{id}",
                "POST /api/v1/profiles/{id}/apply",
            ],
            "profile save",
        ),
    ),
    (
        "POST /admin/profiles/{id}/duplicate",
        Same(
            &["POST /api/v1/profiles/{id}/duplicate"],
            "profile duplicate",
        ),
    ),
    (
        "POST /admin/profiles/{id}/delete",
        Same(&["DELETE /api/v1/profiles/{id}"], "profile delete"),
    ),
    // Onboarding
    (
        "GET /admin/onboarding",
        Same(
            &["GET /api/v1/onboarding", "GET /api/v1/onboarding/{kind}"],
            "onboarding show",
        ),
    ),
    (
        "POST /admin/onboarding/{kind}",
        // The editor's Preview button posts here too and renders without saving; a script
        // renders its own Markdown.
        Same(&["PUT /api/v1/onboarding/{kind}"], "onboarding save"),
    ),
    (
        "POST /admin/onboarding/{kind}/reset",
        Same(
            &["POST /api/v1/onboarding/{kind}/reset"],
            "onboarding reset",
        ),
    ),
    // Settings
    (
        "GET /admin/settings",
        Same(&["GET /api/v1/settings"], "settings show"),
    ),
    (
        "GET /admin/settings/general",
        Same(&["GET /api/v1/settings"], "settings show"),
    ),
    (
        "GET /admin/settings/requests",
        Same(&["GET /api/v1/settings"], "settings show"),
    ),
    (
        "GET /admin/settings/telegram",
        Same(&["GET /api/v1/settings"], "settings show"),
    ),
    (
        "GET /admin/settings/email",
        Same(&["GET /api/v1/settings"], "settings show"),
    ),
    (
        "POST /admin/settings/general",
        Same(&["PATCH /api/v1/settings/general"], "settings set"),
    ),
    (
        "POST /admin/settings/requests",
        Same(&["PATCH /api/v1/settings/requests"], "settings set"),
    ),
    (
        "POST /admin/settings/telegram",
        Same(&["PATCH /api/v1/settings/telegram"], "settings set"),
    ),
    (
        "POST /admin/settings/telegram/test",
        Same(
            &["POST /api/v1/settings/telegram/test"],
            "settings test-telegram",
        ),
    ),
    (
        "POST /admin/settings/email",
        Same(&["PATCH /api/v1/settings/email"], "settings set"),
    ),
    (
        "POST /admin/settings/email/test",
        Same(&["POST /api/v1/settings/email/test"], "settings test-email"),
    ),
    (
        "GET /admin/settings/branding",
        Same(&["GET /api/v1/settings"], "settings show"),
    ),
    (
        "POST /admin/settings/branding",
        Same(&["PATCH /api/v1/settings/branding"], "settings set"),
    ),
    (
        "POST /admin/settings/branding/logo",
        Same(
            &[
                "PUT /api/v1/settings/branding/logo",
                "DELETE /api/v1/settings/branding/logo",
            ],
            "settings logo",
        ),
    ),
    // Notification channels
    (
        "GET /admin/settings/notifications",
        Same(
            &[
                "GET /api/v1/notifications",
                "GET /api/v1/notifications/{id}",
            ],
            "channel list",
        ),
    ),
    (
        "POST /admin/settings/notifications",
        Same(&["POST /api/v1/notifications"], "channel add"),
    ),
    (
        "POST /admin/settings/notifications/{id}",
        Same(&["PUT /api/v1/notifications/{id}"], "channel edit"),
    ),
    (
        "POST /admin/settings/notifications/{id}/test",
        Same(&["POST /api/v1/notifications/{id}/test"], "channel test"),
    ),
    (
        "POST /admin/settings/notifications/{id}/secret",
        Same(
            &["POST /api/v1/notifications/{id}/secret"],
            "channel secret",
        ),
    ),
    (
        "POST /admin/settings/notifications/{id}/delete",
        Same(&["DELETE /api/v1/notifications/{id}"], "channel remove"),
    ),
    // The audit log
    ("GET /admin/events", Same(&["GET /api/v1/events"], "events")),
    (
        "GET /admin/events.csv",
        Same(&["GET /api/v1/events.csv"], "events"),
    ),
    // API keys
    (
        "GET /admin/api-keys",
        Same(&["GET /api/v1/api-keys"], "api-key list"),
    ),
    (
        "POST /admin/api-keys",
        Same(&["POST /api/v1/api-keys"], "api-key create"),
    ),
    (
        "POST /admin/api-keys/{id}/revoke",
        Same(&["DELETE /api/v1/api-keys/{id}"], "api-key revoke"),
    ),
    // One's own account and the owner's other admins
    (
        "GET /admin/account",
        CliOnly("admin sessions", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/account/password",
        CliOnly("admin reset-password", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/account/sessions/{id}/end",
        CliOnly("admin sign-out", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/account/sessions/end-others",
        CliOnly("admin sign-out", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/account/two-factor/start",
        PageOnly("an app on the admin's own phone scans the code the page shows"),
    ),
    (
        "POST /admin/account/two-factor/confirm",
        PageOnly("checks a code from the app the page above enrolled"),
    ),
    (
        "POST /admin/account/two-factor/disable",
        CliOnly("admin reset-2fa", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/account/passkeys/options",
        PageOnly(
            "the admin's own browser or phone makes a passkey, answering the page's challenge",
        ),
    ),
    (
        "POST /admin/account/passkeys",
        PageOnly("keeps the passkey the browser made for the challenge above"),
    ),
    (
        "POST /admin/account/passkeys/{id}/rename",
        CliOnly("admin rename-passkey", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/account/passkeys/{id}/remove",
        CliOnly("admin remove-passkey", NOT_FOR_KEYS),
    ),
    ("GET /admin/admins", CliOnly("admin list", NOT_FOR_KEYS)),
    (
        "POST /admin/admins/invites",
        CliOnly("admin invite", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/admins/invites/{id}/revoke",
        CliOnly("admin revoke-invite", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/admins/{id}/role",
        CliOnly("admin role", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/admins/{id}/remove",
        CliOnly("admin remove", NOT_FOR_KEYS),
    ),
    (
        "POST /admin/admins/{id}/telegram",
        CliOnly("admin telegram", NOT_FOR_KEYS),
    ),
];

#[test]
fn every_admin_page_action_has_an_api_endpoint_and_a_cli_command() {
    let pages: BTreeSet<String> = usher::router::route_table()
        .into_iter()
        .filter(|r| matches!(r.access, Access::Admin(_)))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let named: BTreeSet<String> = PARITY.iter().map(|(p, _)| p.to_string()).collect();
    let missing: Vec<_> = pages.difference(&named).collect();
    assert!(
        missing.is_empty(),
        "admin routes with no API endpoint and CLI command named here: {missing:?}"
    );
    let stale: Vec<_> = named.difference(&pages).collect();
    assert!(
        stale.is_empty(),
        "named here but no longer routes: {stale:?}"
    );

    let api: BTreeSet<String> = usher::router::endpoints()
        .iter()
        .map(|e| format!("{} {}", e.method.to_uppercase(), e.path))
        .collect();
    let mut commands = BTreeSet::new();
    for (page, elsewhere) in PARITY {
        match elsewhere {
            Same(endpoints, command) => {
                for e in *endpoints {
                    assert!(api.contains(*e), "{page}: no API endpoint `{e}`");
                }
                commands.insert(*command);
            }
            FormFor(action) => assert!(
                PARITY
                    .iter()
                    .any(|(p, e)| p == action && matches!(e, Same(..))),
                "{page} is the form for `{action}`, which must be an action with an API and CLI"
            ),
            PageOnly(why) => assert!(!why.is_empty(), "{page}: say why it is page-only"),
            CliOnly(command, why) => {
                assert!(!why.is_empty(), "{page}: say why the API does not do it");
                commands.insert(*command);
            }
        }
    }
    for command in commands {
        let out = crate::helpers::usher_command(None)
            .args(command.split(' '))
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`usher {command}` is not a command: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
