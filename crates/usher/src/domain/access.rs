//! What a grant gives on one server (libraries, permissions, an end) and the rules that hold
//! whichever path makes or changes one: every grant starts from its server's defaults
//! ([`crate::store::servers::ServerRow::defaults`]), and one
//! account holds at most one live grant per server, so when the same person is granted twice the
//! two combine into one that gives everything either gave.

use media::Permissions;

use crate::clock::Timestamp;

/// What the owner grants on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerChoice {
    pub server_id: super::ServerId,
    pub libraries: Vec<String>,
    pub permissions: Permissions,
}

/// What the owner asks for on one server of an invite or an approval (as the API takes it).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    pub server_id: super::ServerId,
    /// Sharing ids; `None` means where the grant starts (the server's pre-checked libraries, or
    /// on an approval the request profile's choice).
    #[serde(default)]
    pub libraries: Option<Vec<String>>,
    /// Changes to where the grant starts; `None` keeps them all.
    #[serde(default)]
    pub permissions: Option<PermissionChanges>,
}

/// What the owner grants on approving a request: per server, the libraries and permissions.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub servers: Vec<ServerChoice>,
    /// `30d`, or empty for forever.
    pub duration: String,
    /// The profile this selection came from; the member keeps it.
    pub profile_id: Option<super::ProfileId>,
}

/// Permissions a form, a command or an API call names; what it leaves out comes from where the
/// grant starts (the server's defaults, or the profile's choice). Filters are spelled either way
/// [`ContentFilter::parse`] reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionChanges {
    pub allow_downloads: Option<bool>,
    pub allow_live_tv: Option<bool>,
    pub allow_camera_upload: Option<bool>,
    /// `Some(None)` is unlimited; JSON `null` means the same.
    #[serde(default, deserialize_with = "present")]
    pub max_sessions: Option<Option<u32>>,
    pub plex_home: Option<bool>,
    pub filter_movies: Option<String>,
    pub filter_television: Option<String>,
    pub filter_music: Option<String>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

impl From<Permissions> for PermissionChanges {
    /// Every permission named, as a stored grant or profile has them.
    fn from(p: Permissions) -> Self {
        PermissionChanges {
            allow_downloads: Some(p.allow_downloads),
            allow_live_tv: Some(p.allow_live_tv),
            allow_camera_upload: Some(p.allow_camera_upload),
            max_sessions: Some(p.max_sessions),
            plex_home: Some(p.plex_home),
            filter_movies: Some(p.filter_movies),
            filter_television: Some(p.filter_television),
            filter_music: Some(p.filter_music),
        }
    }
}

/// Why permissions were refused, with the field to point at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionError {
    #[error("simultaneous streams is a number from 1 to 100")]
    MaxSessions,
    #[error("{1}")]
    Filter(&'static str, FilterError),
}

impl PermissionError {
    pub fn field(&self) -> &'static str {
        match self {
            PermissionError::MaxSessions => "max_sessions",
            PermissionError::Filter(field, _) => field,
        }
    }
}

impl PermissionChanges {
    /// `base` with these changes, checked: streams within 1–100, filters normalised to Plex's
    /// spelling. What only Plex has (Home users, filters) is dropped for other kinds.
    pub fn applied_to(
        &self,
        base: &Permissions,
        plex: bool,
    ) -> Result<Permissions, PermissionError> {
        let mut p = base.clone();
        let pick = |change: Option<bool>, current: bool| change.unwrap_or(current);
        p.allow_downloads = pick(self.allow_downloads, p.allow_downloads);
        p.allow_live_tv = pick(self.allow_live_tv, p.allow_live_tv);
        p.allow_camera_upload = pick(self.allow_camera_upload, p.allow_camera_upload);
        p.plex_home = pick(self.plex_home, p.plex_home);
        if let Some(max) = self.max_sessions {
            p.max_sessions = max;
        }
        if p.max_sessions.is_some_and(|n| !(1..=100).contains(&n)) {
            return Err(PermissionError::MaxSessions);
        }
        for (change, current) in [
            (&self.filter_movies, &mut p.filter_movies),
            (&self.filter_television, &mut p.filter_television),
            (&self.filter_music, &mut p.filter_music),
        ] {
            if let Some(c) = change {
                *current = c.clone();
            }
        }
        normalise_filters(&mut p).map_err(|(field, e)| PermissionError::Filter(field, e))?;
        if !plex {
            p.plex_home = false;
            p.filter_movies.clear();
            p.filter_television.clear();
            p.filter_music.clear();
        }
        Ok(p)
    }
}

/// What one grant gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub libraries: Vec<String>,
    pub permissions: Permissions,
    /// `None`: no end.
    pub expires_at: Option<Timestamp>,
}

impl Terms {
    /// The access of two grants to one account, as one: every library of either, each
    /// permission either allows, the later end. Content filters protect rather than give, so a
    /// filter `self` (the access the account already has) holds stays; one it lacks is taken from
    /// `newer`.
    pub fn combined_with(&self, newer: &Terms) -> Terms {
        let mut libraries = self.libraries.clone();
        for l in &newer.libraries {
            if !libraries.contains(l) {
                libraries.push(l.clone());
            }
        }
        let (a, b) = (&self.permissions, &newer.permissions);
        let keep = |mine: &String, theirs: &String| {
            if mine.is_empty() {
                theirs.clone()
            } else {
                mine.clone()
            }
        };
        let permissions = Permissions {
            allow_downloads: a.allow_downloads || b.allow_downloads,
            allow_live_tv: a.allow_live_tv || b.allow_live_tv,
            allow_camera_upload: a.allow_camera_upload || b.allow_camera_upload,
            max_sessions: match (a.max_sessions, b.max_sessions) {
                (Some(x), Some(y)) => Some(x.max(y)),
                _ => None,
            },
            plex_home: a.plex_home,
            filter_movies: keep(&a.filter_movies, &b.filter_movies),
            filter_television: keep(&a.filter_television, &b.filter_television),
            filter_music: keep(&a.filter_music, &b.filter_music),
        };
        let expires_at = match (self.expires_at, newer.expires_at) {
            (Some(x), Some(y)) => Some(x.max(y)),
            _ => None,
        };
        Terms {
            libraries,
            permissions,
            expires_at,
        }
    }

    /// Whether any content filter is set.
    pub fn filtered(&self) -> bool {
        let p = &self.permissions;
        !(p.filter_movies.is_empty() && p.filter_television.is_empty() && p.filter_music.is_empty())
    }
}

/// A Plex content filter: rules joined by `|`, each `key=values` or `key!=values` with values
/// joined by commas. Keys: `contentRating` (also written `rating`) and `label`. Plex's own form
/// joins values with a literal `%2C`; both spellings are read, and Plex's is what is stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContentFilter(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("a filter rule reads key=values, for example rating=G,PG or label!=horror: `{0}`")]
    Shape(String),
    #[error("filters know rating (contentRating) and label, not `{0}`")]
    Key(String),
    #[error("a filter value cannot hold | = or control characters: `{0}`")]
    Value(String),
    #[error("a filter is at most {MAX_FILTER} characters")]
    TooLong,
}

/// Longest filter accepted, in characters.
pub const MAX_FILTER: usize = 500;

impl ContentFilter {
    /// Reads a filter in either spelling; blank is no filter.
    pub fn parse(raw: &str) -> Result<ContentFilter, FilterError> {
        let raw = raw.trim();
        if raw.chars().count() > MAX_FILTER {
            return Err(FilterError::TooLong);
        }
        let mut rules = Vec::new();
        for rule in raw.split('|').map(str::trim).filter(|r| !r.is_empty()) {
            let (key, values) = rule
                .split_once('=')
                .ok_or_else(|| FilterError::Shape(rule.to_string()))?;
            let (key, negated) = match key.trim().strip_suffix('!') {
                Some(k) => (k.trim(), true),
                None => (key.trim(), false),
            };
            let key = match key.to_ascii_lowercase().as_str() {
                "rating" | "contentrating" => "contentRating",
                "label" => "label",
                _ => return Err(FilterError::Key(key.to_string())),
            };
            let values: Vec<&str> = values
                .split(',')
                .flat_map(|v| v.split("%2C"))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                return Err(FilterError::Shape(rule.to_string()));
            }
            if let Some(bad) = values
                .iter()
                .find(|v| v.chars().any(|c| c.is_control() || c == '=' || c == '|'))
            {
                return Err(FilterError::Value(bad.to_string()));
            }
            let op = if negated { "!=" } else { "=" };
            rules.push(format!("{key}{op}{}", values.join("%2C")));
        }
        Ok(ContentFilter(rules.join("|")))
    }

    /// Plex's spelling, as its sharing API takes it.
    pub fn as_plex(&self) -> &str {
        &self.0
    }

    /// The spelling people type: `rating=G,PG | label!=horror`.
    pub fn human(&self) -> String {
        human_filter(&self.0)
    }
}

/// A stored (Plex-spelled) filter as people type it.
pub fn human_filter(plex: &str) -> String {
    plex.split('|')
        .filter(|r| !r.is_empty())
        .map(|r| r.replacen("contentRating", "rating", 1).replace("%2C", ","))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Checks and normalises the three Plex filters of `permissions`, naming the one that is wrong
/// (`filter_movies`, `filter_television` or `filter_music`).
pub fn normalise_filters(permissions: &mut Permissions) -> Result<(), (&'static str, FilterError)> {
    for (name, value) in [
        ("filter_movies", &mut permissions.filter_movies),
        ("filter_television", &mut permissions.filter_television),
        ("filter_music", &mut permissions.filter_music),
    ] {
        *value = ContentFilter::parse(value)
            .map_err(|e| (name, e))?
            .as_plex()
            .to_string();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(libraries: &[&str], expires_at: Option<Timestamp>) -> Terms {
        Terms {
            libraries: libraries.iter().map(|s| s.to_string()).collect(),
            permissions: Permissions::default(),
            expires_at,
        }
    }

    #[test]
    fn combined_access_gives_what_either_gave() {
        let mut old = terms(&["1", "2"], Some(100));
        old.permissions.filter_movies = "contentRating=G".into();
        old.permissions.allow_downloads = true;
        let mut new = terms(&["2", "3"], Some(50));
        new.permissions.allow_live_tv = true;
        new.permissions.filter_television = "label!=horror".into();
        let both = old.combined_with(&new);
        assert_eq!(both.libraries, ["1", "2", "3"]);
        assert_eq!(both.expires_at, Some(100));
        assert!(both.permissions.allow_downloads && both.permissions.allow_live_tv);
        assert_eq!(both.permissions.filter_movies, "contentRating=G", "kept");
        assert_eq!(both.permissions.filter_television, "label!=horror");
        assert_eq!(old.combined_with(&terms(&[], None)).expires_at, None);
        let mut limited = terms(&[], None);
        limited.permissions.max_sessions = Some(2);
        let mut more = limited.clone();
        more.permissions.max_sessions = Some(3);
        assert_eq!(
            limited.combined_with(&more).permissions.max_sessions,
            Some(3)
        );
        assert_eq!(
            limited
                .combined_with(&terms(&[], None))
                .permissions
                .max_sessions,
            None,
            "unlimited is the most"
        );
    }

    #[test]
    fn filters_read_both_spellings_and_refuse_nonsense() {
        let f = ContentFilter::parse(" rating = G, PG | label! = horror ").unwrap();
        assert_eq!(f.as_plex(), "contentRating=G%2CPG|label!=horror");
        assert_eq!(f.human(), "rating=G,PG | label!=horror");
        assert_eq!(ContentFilter::parse(f.as_plex()).unwrap(), f);
        assert_eq!(ContentFilter::parse("").unwrap().as_plex(), "");
        assert!(matches!(
            ContentFilter::parse("year=1999"),
            Err(FilterError::Key(_))
        ));
        assert!(matches!(
            ContentFilter::parse("rating"),
            Err(FilterError::Shape(_))
        ));
        assert!(matches!(
            ContentFilter::parse("label="),
            Err(FilterError::Shape(_))
        ));
        assert!(matches!(
            ContentFilter::parse("label=a\u{7}"),
            Err(FilterError::Value(_))
        ));
        assert!(matches!(
            ContentFilter::parse(&"label=x,".repeat(100)),
            Err(FilterError::TooLong)
        ));
    }
}
