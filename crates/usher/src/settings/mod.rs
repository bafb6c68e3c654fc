//! The Settings pages, one per section: who the owner is, the public address and time zone, the
//! request form, the Telegram bot and outgoing email. The settings themselves are [`crate::domain::settings`].

pub mod api;
pub mod brand;
pub mod change;
pub mod cli;
pub mod notifications;
pub mod routes;

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    let r = r.api(api::endpoints());
    use crate::web::{ADMIN, Access, OWNER};
    use routes::*;
    let r = r
        .get("/admin/settings", ADMIN, index)
        .get("/admin/settings/general", ADMIN, general_page)
        .post("/admin/settings/general", ADMIN, general)
        .get("/admin/settings/requests", ADMIN, requests_page)
        .post("/admin/settings/requests", ADMIN, requests)
        .get("/admin/settings/telegram", OWNER, telegram_page)
        .post("/admin/settings/telegram", OWNER, telegram)
        .post("/admin/settings/telegram/test", OWNER, telegram_test)
        .get("/admin/settings/branding", ADMIN, branding_page)
        .post("/admin/settings/branding", ADMIN, branding)
        .post("/admin/settings/branding/logo", ADMIN, logo)
        .get("/brand/{file}", Access::Public, brand::file)
        .get("/admin/settings/email", OWNER, email_page)
        .post("/admin/settings/email", OWNER, email)
        .post("/admin/settings/email/test", OWNER, email_test);
    notifications::routes(r)
}
