//! Translations: Fluent files for English and Spanish, chosen by the language switch (a cookie),
//! then `Accept-Language`, then English.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The languages usher speaks, in the order the switch shows them.
pub const LANGUAGES: &[(&str, &str)] = &[("en", "English"), ("es", "Español")];
pub const DEFAULT_LANG: &str = "en";

/// One Fluent file per feature and language; every language has the same files.
macro_rules! locale_files {
    ($($lang:literal => [$($file:literal),* $(,)?]),* $(,)?) => {
        &[$(($lang, &[$(include_str!(concat!("../../locales/", $lang, "/", $file))),*])),*]
    };
}

const SOURCES: &[(&str, &[&str])] = locale_files![
    "en" => ["main.ftl", "requests.ftl", "members.ftl", "notify.ftl", "onboarding.ftl", "api.ftl", "profiles.ftl", "admins.ftl", "events.ftl"],
    "es" => ["main.ftl", "requests.ftl", "members.ftl", "notify.ftl", "onboarding.ftl", "api.ftl", "profiles.ftl", "admins.ftl", "events.ftl"],
];

pub struct I18n {
    /// Each language's messages, parsed the first time a page needs them: a visitor who never
    /// asks for Spanish costs no memory for it (the parsed messages of one language are about
    /// half a megabyte).
    bundles: Vec<Bundle>,
}

/// A language's name, its files, and its messages once parsed.
type Bundle = (
    &'static str,
    &'static [&'static str],
    OnceLock<FluentBundle<FluentResource>>,
);

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("I18n").finish_non_exhaustive()
    }
}

impl I18n {
    pub fn load() -> Self {
        let i18n = I18n {
            bundles: SOURCES
                .iter()
                .map(|(lang, files)| (*lang, *files, OnceLock::new()))
                .collect(),
        };
        // The language every page falls back to is read at start, so a broken file stops
        // usher at once rather than on some visitor's page.
        i18n.bundle(DEFAULT_LANG);
        i18n
    }

    /// The messages of `lang`, or of the default language when usher does not speak it.
    fn bundle(&self, lang: &str) -> &FluentBundle<FluentResource> {
        let (lang, files, cell) = self
            .bundles
            .iter()
            .find(|(l, ..)| *l == lang)
            .or_else(|| self.bundles.iter().find(|(l, ..)| *l == DEFAULT_LANG))
            .expect("the default language is among the sources");
        cell.get_or_init(|| parse(lang, files))
    }

    /// Translates `key` into `lang`. `None` when the key does not exist there.
    pub fn get(&self, lang: &str, key: &str, args: &[(&str, FluentValue<'_>)]) -> Option<String> {
        let bundle = self.bundle(lang);
        let message = bundle.get_message(key)?;
        let pattern = message.value()?;
        let mut fargs = FluentArgs::new();
        for (name, value) in args {
            fargs.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, lang, ?errors, "translation had errors");
        }
        Some(text.into_owned())
    }

    /// Translates or falls back to the key itself (for messages built outside templates).
    pub fn text(&self, lang: &str, key: &str) -> String {
        self.get(lang, key, &[]).unwrap_or_else(|| key.to_string())
    }

    /// Every message key of a language, for completeness checks.
    pub fn keys(lang: &str) -> Vec<String> {
        let files = SOURCES
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, f)| *f)
            .unwrap_or_default();
        let mut keys = Vec::new();
        for source in files {
            let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
            keys.extend(resource.entries().filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            }));
        }
        keys
    }
}

/// Parses every file of `lang` into one bundle. The files are part of the binary, so a file
/// that does not parse or repeats a key is a build's mistake, caught by the tests.
fn parse(lang: &str, files: &[&str]) -> FluentBundle<FluentResource> {
    let id = lang.parse().expect("language ids in SOURCES are valid");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    bundle.set_use_isolating(false);
    for (i, source) in files.iter().enumerate() {
        let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(_, errs)| {
            panic!("locale file {i} of {lang} does not parse: {errs:?}")
        });
        bundle
            .add_resource(resource)
            .unwrap_or_else(|errs| panic!("locale file {i} of {lang} repeats keys: {errs:?}"));
    }
    bundle
}

/// Whether `lang` is one usher speaks.
pub fn supported(lang: &str) -> Option<&'static str> {
    LANGUAGES.iter().map(|(l, _)| *l).find(|l| *l == lang)
}

/// A language usher speaks, parsed from its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language(&'static str);

impl Language {
    /// A language usher speaks (`en`, `es`), or `None`.
    pub fn parse(code: &str) -> Option<Language> {
        supported(code.trim()).map(Language)
    }

    pub fn default_one() -> Language {
        Language(DEFAULT_LANG)
    }

    pub fn code(self) -> &'static str {
        self.0
    }
}

/// Picks the best supported language from an `Accept-Language` header, honouring q-values.
pub fn negotiate(accept_language: &str) -> Option<&'static str> {
    let mut best: Option<(&'static str, f32)> = None;
    for part in accept_language.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        if let Some(lang) = supported(primary)
            && q > 0.0
            && best.is_none_or(|(_, bq)| q > bq)
        {
            best = Some((lang, q));
        }
    }
    best.map(|(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_parses_and_speaks_its_own_words() {
        for (lang, files) in SOURCES {
            // A broken file panics here rather than on some visitor's page.
            assert!(parse(lang, files).has_message("language-label"), "{lang}");
        }
        let i18n = I18n::load();
        let parsed = |lang: &str| {
            i18n.bundles
                .iter()
                .any(|(l, _, cell)| *l == lang && cell.get().is_some())
        };
        assert!(
            parsed(DEFAULT_LANG) && !parsed("es"),
            "only the default at start"
        );
        // Read when first asked for, and the language asked for, not the fallback.
        assert_eq!(i18n.text("es", "language-label"), "Idioma");
        assert!(parsed("es"));
        assert_eq!(i18n.text("en", "language-label"), "Language");
        // A language usher does not speak falls back to the default one.
        assert_eq!(i18n.text("fr", "language-label"), "Language");
    }

    #[test]
    fn every_key_exists_in_every_language() {
        let en: std::collections::BTreeSet<_> = I18n::keys("en").into_iter().collect();
        for (lang, _) in LANGUAGES {
            let other: std::collections::BTreeSet<_> = I18n::keys(lang).into_iter().collect();
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang} has keys English lacks: {extra:?}");
        }
        assert!(en.len() > 20);
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(negotiate("es-ES,es;q=0.9,en;q=0.8"), Some("es"));
        assert_eq!(negotiate("fr-FR,en;q=0.5,es;q=0.7"), Some("es"));
        assert_eq!(negotiate("fr"), None);
        assert_eq!(negotiate("en;q=0, es;q=0.1"), Some("es"));
    }

    #[test]
    fn messages_take_arguments() {
        let i18n = I18n::load();
        let text = i18n
            .get("en", "login-locked", &[("minutes", FluentValue::from(15))])
            .unwrap();
        assert!(text.contains("15"), "{text}");
    }
}
