//! The Settings pages: who the owner is, the public address, the request form, the Telegram bot
//! and outgoing email. The settings themselves are [`crate::domain::settings`].

pub mod api;
pub mod change;
pub mod cli;
pub mod notifications;
pub mod routes;

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    let r = r.api(api::endpoints());
    use crate::web::{ADMIN, OWNER};
    use routes::*;
    let r = r
        .get("/admin/settings", ADMIN, show)
        .post("/admin/settings/general", ADMIN, general)
        .post("/admin/settings/requests", ADMIN, requests)
        .post("/admin/settings/telegram", OWNER, telegram)
        .post("/admin/settings/telegram/test", OWNER, telegram_test)
        .post("/admin/settings/email", OWNER, email)
        .post("/admin/settings/email/test", OWNER, email_test);
    notifications::routes(r)
}
