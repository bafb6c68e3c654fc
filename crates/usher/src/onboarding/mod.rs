//! What people see after joining (and, optionally, must accept before): steps per server kind,
//! written by the owner in Markdown or taken from the translated defaults, with variables for
//! the server, owner, member and expiry. Markdown is rendered without any raw HTML and with only
//! safe link targets, so a step can never carry a script.

pub mod api;
pub mod cli;
pub mod routes;

use media::ServerKind;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};
use serde::Serialize;

use crate::domain::OnboardingKind;
use crate::state::AppState;
use crate::store::onboarding::StepRow;
use crate::ui::i18n::Language;

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::ADMIN;
    use crate::web::Access::Public;
    use routes::*;
    r.api(api::endpoints())
        .get("/admin/onboarding", ADMIN, show)
        .post("/admin/onboarding/{kind}", ADMIN, save)
        .post("/admin/onboarding/{kind}/reset", ADMIN, reset)
        .get("/guide", Public, guide)
}

pub const MAX_STEPS: usize = 20;
pub const MAX_TITLE: usize = 100;
pub const MAX_BODY: usize = 4000;

#[derive(Debug, thiserror::Error)]
pub enum StepsError {
    /// `key` is the sentence the editor shows.
    #[error("{key}")]
    Invalid { key: &'static str },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl crate::web::error::Failure for StepsError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            StepsError::Invalid { .. } => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            StepsError::Store(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            StepsError::Invalid { .. } => "invalid",
            StepsError::Store(_) => "internal",
        }
    }
    fn message_key(&self) -> &'static str {
        match self {
            StepsError::Invalid { key } => key,
            StepsError::Store(_) => "error-internal",
        }
    }
    fn field(&self) -> Option<&'static str> {
        matches!(self, StepsError::Invalid { .. }).then_some("steps")
    }
}

/// Steps as the owner wrote them, tidied: line ends made `\n`, ends trimmed, empty steps
/// dropped; refused when a step has no title, is too long, or there are too many.
pub fn checked_steps(steps: Vec<(String, String)>) -> Result<Vec<(String, String)>, StepsError> {
    let bad = |key| StepsError::Invalid { key };
    let mut out = Vec::new();
    for (title, body) in steps {
        let title = title.trim().to_string();
        let body = body.replace("\r\n", "\n").trim().to_string();
        if title.is_empty() && body.is_empty() {
            continue;
        }
        if title.is_empty() {
            return Err(bad("onb-need-title"));
        }
        if title.chars().count() > MAX_TITLE || body.chars().count() > MAX_BODY {
            return Err(bad("onb-too-long"));
        }
        out.push((title, body));
    }
    if out.len() > MAX_STEPS {
        return Err(bad("onb-too-many"));
    }
    Ok(out)
}

/// Replaces the owner's steps for `kind` in `lang` (an empty list goes back to the built-in
/// steps of that language); the other language keeps its own.
pub async fn save_steps(
    state: &AppState,
    kind: OnboardingKind,
    lang: Language,
    steps: Vec<(String, String)>,
    actor: &str,
) -> Result<(), StepsError> {
    let steps = checked_steps(steps)?;
    let action = if steps.is_empty() {
        "onboarding.reset"
    } else {
        "onboarding.changed"
    };
    state
        .store
        .replace_onboarding_steps(kind, lang.code(), &steps, state.clock.now())
        .await?;
    state
        .record_event(actor, action, Some(kind.as_str()), Some(lang.code()))
        .await?;
    Ok(())
}

/// A step ready for a page.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub title: String,
    /// Sanitised HTML.
    pub html: String,
}

/// Values the `{{…}}` variables stand for.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub server_name: String,
    /// Where friends open the server (its address for friends).
    pub server_url: String,
    pub owner_name: String,
    pub member_name: String,
    pub expires: String,
}

/// Markdown to HTML with raw HTML shown as text and links limited to http(s), mailto and paths.
pub fn render_markdown(source: &str) -> String {
    let parser = Parser::new_ext(source, Options::ENABLE_STRIKETHROUGH).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            dest_url, title, ..
        }) => {
            // Images would load from elsewhere (and CSP refuses them): show a link instead.
            Event::Start(Tag::Link {
                link_type: pulldown_cmark::LinkType::Inline,
                dest_url: safe_url(dest_url),
                title,
                id: CowStr::Borrowed(""),
            })
        }
        Event::End(pulldown_cmark::TagEnd::Image) => Event::End(pulldown_cmark::TagEnd::Link),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"))
        || lower.starts_with('#');
    if ok { url } else { CowStr::Borrowed("#") }
}

/// Replaces `{{name}}` variables in rendered HTML with escaped values.
pub fn apply_vars(html: &str, vars: &Vars) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut out = html.to_string();
    for (name, value) in [
        ("server_name", &vars.server_name),
        ("server_url", &vars.server_url),
        ("owner_name", &vars.owner_name),
        ("member_name", &vars.member_name),
        ("expires", &vars.expires),
    ] {
        for pattern in [format!("{{{{{name}}}}}"), format!("{{{{ {name} }}}}")] {
            out = out.replace(&pattern, &esc(value));
        }
    }
    out
}

/// Where a friend watches in a browser: Plex through its web app, the others at their address.
pub fn browser_url(kind: ServerKind, address: Option<&str>) -> Option<String> {
    match kind {
        ServerKind::Plex => Some("https://app.plex.tv/desktop".into()),
        ServerKind::Jellyfin
        | ServerKind::Emby
        | ServerKind::Audiobookshelf
        | ServerKind::Navidrome
        | ServerKind::Komga
        | ServerKind::Kavita
        | ServerKind::Romm => address.map(str::to_string),
    }
}

/// The official apps of a kind: (label key, store or download page).
pub fn app_links(kind: ServerKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        ServerKind::Plex => &[
            (
                "welcome-app-ios",
                "https://apps.apple.com/app/plex-watch-live-tv-and-movies/id383457673",
            ),
            (
                "welcome-app-android",
                "https://play.google.com/store/apps/details?id=com.plexapp.android",
            ),
            ("welcome-app-all", "https://www.plex.tv/apps-devices/"),
        ],
        ServerKind::Jellyfin => &[
            (
                "welcome-app-ios",
                "https://apps.apple.com/app/jellyfin-mobile/id1480192618",
            ),
            (
                "welcome-app-android",
                "https://play.google.com/store/apps/details?id=org.jellyfin.mobile",
            ),
            ("welcome-app-all", "https://jellyfin.org/downloads/clients/"),
        ],
        ServerKind::Emby => &[
            (
                "welcome-app-ios",
                "https://apps.apple.com/app/emby/id992180193",
            ),
            (
                "welcome-app-android",
                "https://play.google.com/store/apps/details?id=com.mb.android",
            ),
            ("welcome-app-all", "https://emby.media/download.html"),
        ],
        // The iPhone app is in a closed beta; the web player works in any phone's browser.
        ServerKind::Audiobookshelf => &[
            (
                "welcome-app-android",
                "https://play.google.com/store/apps/details?id=com.audiobookshelf.app",
            ),
            ("welcome-app-all", "https://www.audiobookshelf.org/"),
        ],
        // Navidrome has no app of its own: any Subsonic app plays from it, as its web player does.
        ServerKind::Navidrome => &[
            (
                "welcome-app-ios",
                "https://www.navidrome.org/apps/?platform=ios",
            ),
            (
                "welcome-app-android",
                "https://www.navidrome.org/apps/?platform=android",
            ),
            ("welcome-app-all", "https://www.navidrome.org/apps/"),
        ],
        // Komga is read in the browser; reading apps that connect to it are listed on its site.
        ServerKind::Komga => &[("welcome-app-all", "https://komga.org/")],
        // Kavita is read in the browser too; reading apps reach it through OPDS.
        ServerKind::Kavita => &[("welcome-app-all", "https://www.kavitareader.com/")],
        // RomM is played in the browser it serves; there is no app to install.
        ServerKind::Romm => &[],
    }
}

/// The built-in steps of a kind in a language: (title, markdown body).
pub fn default_steps(state: &AppState, kind: OnboardingKind, lang: &str) -> Vec<(String, String)> {
    let keys: &[&str] = match kind {
        OnboardingKind::Plex => &["onb-plex-accept", "onb-plex-app", "onb-plex-watch"],
        OnboardingKind::PlexHome => &["onb-plex-home", "onb-plex-app", "onb-plex-home-watch"],
        OnboardingKind::Jellyfin | OnboardingKind::Emby | OnboardingKind::Audiobookshelf => {
            &["onb-local-app", "onb-local-signin", "onb-local-tips"]
        }
        OnboardingKind::Navidrome => &["onb-subsonic-app", "onb-local-signin", "onb-local-tips"],
        OnboardingKind::Komga => &["onb-reader-app", "onb-email-signin", "onb-local-tips"],
        OnboardingKind::Kavita => &["onb-reader-app", "onb-local-signin", "onb-local-tips"],
        OnboardingKind::Romm => &["onb-web-play", "onb-web-signin", "onb-local-tips"],
        OnboardingKind::Before => &[],
    };
    let app = kind
        .server_kind()
        .unwrap_or(media::ServerKind::Plex)
        .display_name();
    keys.iter()
        .map(|k| {
            let args = [("app", app.to_string().into())];
            (
                state
                    .i18n
                    .get(lang, &format!("{k}-title"), &args)
                    .unwrap_or_default(),
                state
                    .i18n
                    .get(lang, &format!("{k}-body"), &args)
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// Of a kind's stored steps, those a visitor in `lang` reads: the ones written in `lang`, else
/// those from before languages were kept apart; none means the built-in steps of `lang`.
pub fn for_language(rows: Vec<StepRow>, lang: &str) -> Vec<StepRow> {
    let own = rows.iter().any(|r| r.lang == lang);
    rows.into_iter()
        .filter(|r| {
            if own {
                r.lang == lang
            } else {
                r.lang.is_empty()
            }
        })
        .collect()
}

/// The steps of a kind in a language as stored, or the built-in ones when the owner has not
/// written any for it.
pub async fn source_steps(
    state: &AppState,
    kind: OnboardingKind,
    lang: &str,
) -> Result<(Vec<(String, String)>, bool), crate::store::StoreError> {
    let rows = for_language(state.store.onboarding_steps(kind).await?, lang);
    if rows.is_empty() {
        Ok((default_steps(state, kind, lang), false))
    } else {
        Ok((rows.into_iter().map(|r| (r.title, r.body)).collect(), true))
    }
}

/// Rendered steps for a page, with the owner's extra links (request app, community) appended
/// to the after-joining lists.
pub async fn steps(
    state: &AppState,
    kind: OnboardingKind,
    lang: &str,
    vars: &Vars,
) -> Result<Vec<Step>, crate::store::StoreError> {
    let rows = state.store.onboarding_steps(kind).await?;
    let mut out = render_steps(state, kind, lang, vars, rows);
    if kind != OnboardingKind::Before {
        let settings = state.store.settings().await?;
        for (url, key) in [
            (&settings.request_app_url, "onb-request-app"),
            (&settings.community_url, "onb-community"),
        ] {
            if !url.is_empty() {
                let body = state
                    .i18n
                    .get(lang, &format!("{key}-body"), &[("url", url.clone().into())])
                    .unwrap_or_default();
                out.push(Step {
                    title: state.i18n.text(lang, &format!("{key}-title")),
                    html: render_markdown(&body),
                });
            }
        }
    }
    Ok(out)
}

/// Rendered steps from stored rows already read, or the defaults when there are none.
pub fn render_steps(
    state: &AppState,
    kind: OnboardingKind,
    lang: &str,
    vars: &Vars,
    rows: Vec<StepRow>,
) -> Vec<Step> {
    let rows = for_language(rows, lang);
    let source = if rows.is_empty() {
        default_steps(state, kind, lang)
    } else {
        rows.into_iter().map(|r| (r.title, r.body)).collect()
    };
    let mut vars = vars.clone();
    if vars.owner_name.trim().is_empty() {
        vars.owner_name = state.i18n.text(lang, "guide-owner-default");
    }
    source
        .iter()
        .map(|(title, body)| Step {
            title: apply_vars(&html_escape(title), &vars),
            html: apply_vars(&render_markdown(body), &vars),
        })
        .collect()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(lang: &str, title: &str) -> StepRow {
        StepRow {
            id: crate::domain::ids::StepId(0),
            kind: OnboardingKind::Plex,
            position: 0,
            title: title.into(),
            body: String::new(),
            created_at: 0,
            updated_at: 0,
            lang: lang.into(),
        }
    }

    #[test]
    fn a_language_reads_its_own_steps_else_the_ones_from_before_languages() {
        let titles = |rows: Vec<StepRow>| rows.into_iter().map(|r| r.title).collect::<Vec<_>>();
        let stored = vec![row("", "old"), row("es", "nuevo")];
        assert_eq!(titles(for_language(stored.clone(), "es")), ["nuevo"]);
        assert_eq!(titles(for_language(stored, "en")), ["old"]);
        assert!(
            for_language(vec![row("es", "nuevo")], "en").is_empty(),
            "built-in for en"
        );
    }

    #[test]
    fn markdown_never_lets_html_or_scripts_through() {
        let html =
            render_markdown("Hi <script>alert(1)</script> **bold** <img src=x onerror=alert(1)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;") && html.contains("<strong>bold</strong>"));
    }

    #[test]
    fn only_safe_link_targets_survive() {
        let html = render_markdown(
            "[a](javascript:alert(1)) [b](https://plex.tv/apps) [c](/guide) [d](data:text/html,x) ![e](http://x/y.png)",
        );
        assert!(
            !html.contains("javascript:") && !html.contains("data:"),
            "{html}"
        );
        assert!(
            html.contains(r#"href="https://plex.tv/apps""#) && html.contains(r#"href="/guide""#)
        );
        assert!(!html.contains("<img"));
    }

    #[test]
    fn variables_are_replaced_and_escaped() {
        let vars = Vars {
            server_name: "<Home>".into(),
            server_url: String::new(),
            owner_name: "Ana".into(),
            member_name: "Bo".into(),
            expires: "never".into(),
        };
        let html = apply_vars(
            &render_markdown(
                "Welcome {{member_name}} to {{ server_name }} by {{owner_name}}, until {{expires}}",
            ),
            &vars,
        );
        assert!(
            html.contains("Welcome Bo to &lt;Home&gt; by Ana, until never"),
            "{html}"
        );
    }
}
