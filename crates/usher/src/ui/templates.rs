//! Server-rendered pages: minijinja templates embedded in the binary, overridable by files in
//! `{data_dir}/templates/`. Undefined variables are errors, so a missing value is caught by tests
//! instead of rendering as an empty string.

use std::path::PathBuf;
use std::sync::Arc;

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};

use crate::ui::assets::Assets;
use crate::ui::i18n::I18n;

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// Every built-in template.
pub const TEMPLATES: &[(&str, &str)] = embedded![
    "base.html",
    "macros.html",
    "error.html",
    "setup.html",
    "login.html",
    "admin/dashboard.html",
    "admin/servers.html",
    "admin/server_new.html",
    "admin/server.html",
    "admin/plex_pick.html",
    "admin/plex_wait.html",
    "admin/invites.html",
    "admin/invite_new.html",
    "admin/invite.html",
    "admin/members.html",
    "admin/member.html",
    "join.html",
    "invite.html",
    "welcome.html",
    "plex_wait_public.html",
    "request.html",
    "request_sent.html",
    "admin/requests.html",
    "admin/settings.html",
    "admin/settings_index.html",
    "admin/onboarding.html",
    "guide.html",
    "api_docs.html",
    "admin/api_keys.html",
    "admin/profiles.html",
    "admin/profile.html",
    "admin/notifications.html",
    "admin/events.html",
    "admin/account.html",
    "admin/admins.html",
    "team_join.html",
    "login_code.html",
];

pub fn environment(
    i18n: Arc<I18n>,
    assets: Arc<Assets>,
    override_dir: Option<PathBuf>,
) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_formatter(escape_formatter);
    env.set_loader(move |name| {
        if let Some(dir) = &override_dir {
            // Only plain relative names: an override can never reach outside its folder.
            if !name.split('/').any(|p| p == ".." || p.is_empty()) {
                let path = dir.join(name);
                if let Ok(text) = std::fs::read_to_string(&path) {
                    return Ok(Some(text));
                }
            }
        }
        Ok(TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, src)| src.to_string()))
    });
    let i18n_for_when = i18n.clone();
    env.add_function(
        "t",
        move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, Error> {
            let lang = state
                .lookup("lang")
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "en".into());
            let mut args: Vec<(&str, fluent_bundle::FluentValue)> = Vec::new();
            for name in kwargs.args() {
                let value: Value = kwargs.get(name)?;
                let fv = match value.as_i64() {
                    Some(n) => fluent_bundle::FluentValue::from(n),
                    None => fluent_bundle::FluentValue::from(value.to_string()),
                };
                args.push((name, fv));
            }
            i18n.get(&lang, key, &args).ok_or_else(|| {
                Error::new(
                    ErrorKind::UndefinedError,
                    format!("no translation `{key}` in `{lang}`"),
                )
            })
        },
    );
    // Asset URLs are built from our own file names, so they need no escaping.
    env.add_function("asset", move |name: &str| {
        Value::from_safe_string(assets.url(name))
    });
    // A library's kind as a server reports it → its family's translation key.
    env.add_filter("library_kind", |kind: String| {
        format!(
            "lib-kind-{}",
            crate::domain::library::LibraryKind::from_reported(&kind).as_str()
        )
    });
    env.add_filter("datetime", |state: &State, ts: i64| {
        page_zone(state).human(ts)
    });
    env.add_filter("iso", crate::clock::rfc3339);
    // "12 minutes ago", "in 3 hours", or the date and time when further away than a day.
    let words = i18n_for_when;
    env.add_filter("when", move |state: &State, ts: i64| -> String {
        let now = state.lookup("now").and_then(|v| v.as_i64()).unwrap_or(ts);
        let lang = state
            .lookup("lang")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "en".into());
        let away = ts - now;
        let (key, n) = match away.abs() {
            0..=59 => ("time-just-now", 0),
            60..=3_599 => (
                if away < 0 {
                    "time-minutes-ago"
                } else {
                    "time-in-minutes"
                },
                away.abs() / 60,
            ),
            3_600..=86_399 => (
                if away < 0 {
                    "time-hours-ago"
                } else {
                    "time-in-hours"
                },
                away.abs() / 3_600,
            ),
            _ => return page_zone(state).human(ts),
        };
        words
            .get(&lang, key, &[("n", fluent_bundle::FluentValue::from(n))])
            .unwrap_or_else(|| page_zone(state).human(ts))
    });
    // A stored Plex content filter as people write it.
    env.add_filter("content_filter", |plex: String| {
        crate::domain::access::human_filter(&plex)
    });
    env
}

/// The time zone the page shows times in (`zone` in its context), UTC when it has none.
fn page_zone(state: &State) -> crate::clock::Zone {
    state
        .lookup("zone")
        .and_then(|v| v.downcast_object_ref::<crate::clock::Zone>().cloned())
        .unwrap_or_default()
}

/// HTML-escapes the five characters that matter (`& < > " '`) and nothing else, so URLs and
/// text stay readable in the page source; values marked safe are written as they are.
fn escape_formatter(
    out: &mut minijinja::Output,
    state: &mut State,
    value: &Value,
) -> Result<(), Error> {
    if matches!(state.auto_escape(), minijinja::AutoEscape::None) || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = if value.is_none() {
        String::new()
    } else {
        value.to_string()
    };
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    out.write_str(&escaped).map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_but_slashes_stay_readable() {
        let env = environment(Arc::new(I18n::load()), Arc::new(Assets::load()), None);
        let tmpl = env
            .template_from_named_str("check.html", "{{ v }}|{{ none_value }}|{{ n }}")
            .unwrap();
        let out = tmpl
            .render(minijinja::context! { v => "<a href=\"/x\">&'</a>", none_value => (), n => 3 })
            .unwrap();
        assert_eq!(out, "&lt;a href=&quot;/x&quot;&gt;&amp;&#39;&lt;/a&gt;||3");
    }
}

/// Row ids show in pages as their bare number (links, form values).
macro_rules! id_values {
    ($($id:ident),+) => {$(
        impl From<crate::domain::ids::$id> for Value {
            fn from(id: crate::domain::ids::$id) -> Self {
                Value::from(id.get())
            }
        }
    )+};
}

id_values!(
    ServerId, InviteId, MemberId, GrantId, RequestId, ProfileId, JobId, AdminId, StepId, ChannelId,
    ApiKeyId, DeliveryId
);
