//! How usher looks and speaks, wherever it is read: translations, the embedded static assets and
//! the template environment. Used by pages, emails and Telegram messages alike.

pub mod assets;
pub mod brand;
pub mod i18n;
pub mod kept_pages;
pub mod templates;
