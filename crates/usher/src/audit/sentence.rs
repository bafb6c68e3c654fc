//! Events as sentences in the viewer's language ("Tom joined through invite JG7P4K2M9Q",
//! "You approved Carol's request"), for the dashboard, a member's history and the events page.
//! Each action has a message `event-FAMILY-NAME` in every language; an action without one (an
//! older spelling, a future one) still reads as who, what and to whom.

use fluent_bundle::FluentValue;
use serde::Serialize;

use crate::store::events::AuditRow;
use crate::ui::i18n::I18n;

/// An event ready for a page.
#[derive(Debug, Clone, Serialize)]
pub struct Described {
    pub id: i64,
    pub at: i64,
    pub action: String,
    /// The family's filter value (`request.*`), for a link to its like.
    pub family: Option<String>,
    pub text: String,
    /// What the sentence does not already say (the request's note, the error's words).
    pub detail: Option<String>,
    pub member_id: Option<crate::domain::ids::MemberId>,
    pub member_name: Option<String>,
    pub server_id: Option<crate::domain::ids::ServerId>,
    pub server_name: Option<String>,
}

/// The families of actions, in the order the filter lists them, each with its name's key.
pub const FAMILIES: &[(&str, &str)] = &[
    ("request", "event-family-request"),
    ("invite", "event-family-invite"),
    ("member", "event-family-member"),
    ("grant", "event-family-grant"),
    ("server", "event-family-server"),
    ("profile", "event-family-profile"),
    ("onboarding", "event-family-onboarding"),
    ("notify", "event-family-notify"),
    ("telegram", "event-family-telegram"),
    ("settings", "event-family-settings"),
    ("api_key", "event-family-api_key"),
    ("admin", "event-family-admin"),
];

/// The message key of an action: `grant.expired_remove` → `event-grant-expired_remove`.
pub fn key(action: &str) -> String {
    format!("event-{}", action.replacen('.', "-", 1))
}

/// A person named in a subject, without the address beside it (`Carol <carol@…>` → `Carol`).
fn person(subject: &str) -> &str {
    match subject.rsplit_once(" <") {
        Some((name, rest)) if rest.ends_with('>') && !name.trim().is_empty() => name.trim(),
        _ => subject,
    }
}

/// The sentence for one event, as `viewer` reads it: their own actions say "You".
pub fn describe(i18n: &I18n, lang: &str, viewer: &str, row: &AuditRow) -> Described {
    let e = &row.event;
    let you = !viewer.is_empty() && e.actor == viewer;
    let actor = if you {
        i18n.text(lang, "event-you")
    } else if e.actor == "usher" {
        i18n.text(lang, "event-usher")
    } else {
        e.actor.clone()
    };
    let subject = e.subject.clone().unwrap_or_default();
    let who = person(&subject).to_string();
    let member = row.member_name.clone().unwrap_or_else(|| who.clone());
    let server = row.server_name.clone().unwrap_or_else(|| subject.clone());
    let detail = e.detail.clone().filter(|d| !d.trim().is_empty());
    let args: Vec<(&str, FluentValue)> = vec![
        ("actor", actor.clone().into()),
        ("you", if you { "yes" } else { "no" }.into()),
        ("subject", subject.clone().into()),
        ("who", who.into()),
        ("member", member.into()),
        ("server", server.into()),
        ("detail", detail.clone().unwrap_or_default().into()),
    ];
    let text = i18n
        .get(lang, &key(&e.action), &args)
        .unwrap_or_else(|| match &e.subject {
            Some(s) => format!("{actor} · {} · {s}", e.action),
            None => format!("{actor} · {}", e.action),
        });
    // A detail the sentence already carries is not said twice.
    let detail = detail.filter(|d| !text.contains(d.as_str()));
    Described {
        id: e.id,
        at: e.at,
        family: e.action.split_once('.').map(|(f, _)| format!("{f}.*")),
        action: e.action.clone(),
        text,
        detail,
        member_id: row.member_id,
        member_name: row.member_name.clone(),
        server_id: row.server_id,
        server_name: row.server_name.clone(),
    }
}

/// Every event of a page, described.
pub fn describe_all(i18n: &I18n, lang: &str, viewer: &str, rows: &[AuditRow]) -> Vec<Described> {
    rows.iter()
        .map(|r| describe(i18n, lang, viewer, r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::LANGUAGES;

    /// Every action written anywhere in the source (`"family.name"` with a known family).
    fn actions_in_source() -> std::collections::BTreeSet<String> {
        fn walk(dir: &std::path::Path, found: &mut std::collections::BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for piece in text.split('"').skip(1).step_by(2) {
                        let Some((family, name)) = piece.split_once('.') else {
                            continue;
                        };
                        let known = FAMILIES.iter().any(|(f, _)| *f == family);
                        let word = !name.is_empty()
                            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                        if known && word && !matches!(name, "html" | "ftl" | "rs") {
                            found.insert(piece.to_string());
                        }
                    }
                }
            }
        }
        let mut found = std::collections::BTreeSet::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        found
    }

    #[test]
    fn every_recorded_action_reads_as_a_sentence_in_every_language() {
        let i18n = I18n::load();
        let actions = actions_in_source();
        assert!(actions.len() > 60, "{actions:?}");
        assert!(actions.contains("grant.expired_remove") && actions.contains("request.approved"));
        for (lang, _) in LANGUAGES {
            let missing: Vec<_> = actions
                .iter()
                .filter(|a| i18n.get(lang, &key(a), &[]).is_none())
                .collect();
            assert!(missing.is_empty(), "{lang} has no sentence for {missing:?}");
            for (_, family) in FAMILIES {
                assert!(i18n.get(lang, family, &[]).is_some(), "{lang}: {family}");
            }
        }
    }

    fn row(actor: &str, action: &str, subject: Option<&str>, detail: Option<&str>) -> AuditRow {
        AuditRow {
            event: crate::store::events::EventRow {
                id: 1,
                at: 0,
                actor: actor.into(),
                action: action.into(),
                subject: subject.map(Into::into),
                detail: detail.map(Into::into),
            },
            member_id: None,
            member_name: None,
            server_id: None,
            server_name: None,
        }
    }

    #[test]
    fn the_reader_is_you_and_details_are_not_said_twice() {
        let i18n = I18n::load();
        let approved = row(
            "ana",
            "request.approved",
            Some("Carol <carol@example.com>"),
            None,
        );
        assert_eq!(
            describe(&i18n, "en", "ana", &approved).text,
            "You approved Carol’s request"
        );
        assert_eq!(
            describe(&i18n, "en", "ben", &approved).text,
            "ana approved Carol’s request"
        );
        assert_eq!(
            describe(&i18n, "es", "ana", &approved).text,
            "Solicitud de Carol aprobada por ti"
        );
        let joined = row(
            "Tom",
            "invite.redeemed",
            Some("JG7P4K2M9Q"),
            Some("Demo Plex"),
        );
        let d = describe(&i18n, "en", "ana", &joined);
        assert_eq!(d.text, "Tom joined Demo Plex through invite JG7P4K2M9Q");
        assert_eq!(d.detail, None, "the servers are in the sentence");
        let asked = row(
            "Carol",
            "request.created",
            Some("carol@example.com"),
            Some("Hi!"),
        );
        let d = describe(&i18n, "en", "ana", &asked);
        assert_eq!(
            (d.text.as_str(), d.detail.as_deref()),
            ("Carol asked to join", Some("Hi!"))
        );
        // An action no language knows still says who did what.
        let odd = row("ana", "invite.teleported", Some("X"), None);
        assert_eq!(
            describe(&i18n, "en", "", &odd).text,
            "ana · invite.teleported · X"
        );
    }

    #[test]
    fn a_person_is_named_without_their_address() {
        assert_eq!(person("Carol <carol@example.com>"), "Carol");
        assert_eq!(person("carol@example.com"), "carol@example.com");
        assert_eq!(person(" <x@y>"), " <x@y>");
    }
}
