//! The owner's branding as friend pages carry it: the name in titles and the header, the accent
//! colour as a stylesheet whose address is the colour itself (so it is cached for ever and
//! changes when the colour does, with no inline style for the Content-Security-Policy to
//! refuse), and the logo at an address made from its fingerprint.

use minijinja::{Value, context};

use crate::domain::settings::{Accent, Branding, LogoRef};

/// Where a stored logo is served: `/brand/logo-0123456789abcdef.png`.
pub fn logo_path(logo: &LogoRef) -> String {
    format!("/brand/logo-{}.{}", logo.fingerprint, logo.kind.extension())
}

/// Where an accent's stylesheet is served: `/brand/accent-1f6feb.css`.
pub fn accent_path(accent: Accent) -> String {
    format!("/brand/accent-{}.css", accent.hex())
}

/// The stylesheet that puts the accent over usher's own, light and dark.
pub fn accent_css(accent: Accent) -> String {
    let hex = format!("#{}", accent.hex());
    let text = accent.text_on();
    let light_soft = accent.mixed([255, 255, 255], 0.14);
    let dark_soft = accent.mixed([15, 17, 21], 0.25);
    format!(
        ":root {{ --accent: {hex}; --accent-text: {text}; --accent-soft: {light_soft}; }}\n\
         @media (prefers-color-scheme: dark) {{ :root:not([data-theme=\"light\"]) {{ --accent-soft: {dark_soft}; }} }}\n\
         :root[data-theme=\"dark\"] {{ --accent-soft: {dark_soft}; }}\n"
    )
}

/// What `base.html` reads as `brand` on a friend page.
pub fn context(b: &Branding) -> Value {
    context! {
        name => b.name.trim(),
        accent_css => b.accent.map(accent_path),
        logo => b.logo.as_ref().map(logo_path),
    }
}

/// [`context`] for a page that has not read the settings already.
pub async fn load(store: &crate::store::Store) -> Result<Value, crate::store::StoreError> {
    Ok(context(&store.settings().await?.branding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accent_sheet_holds_only_the_parsed_colour() {
        let accent = Accent::parse("#1F3A93").unwrap();
        assert_eq!(accent_path(accent), "/brand/accent-1f3a93.css");
        let css = accent_css(accent);
        assert!(
            css.contains("--accent: #1f3a93; --accent-text: #ffffff;"),
            "{css}"
        );
    }
}
