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
    use crate::web::Access::Admin;
    use routes::*;
    let r = r
        .get("/admin/settings", Admin, show)
        .post("/admin/settings/general", Admin, general)
        .post("/admin/settings/requests", Admin, requests)
        .post("/admin/settings/telegram", Admin, telegram)
        .post("/admin/settings/telegram/test", Admin, telegram_test)
        .post("/admin/settings/email", Admin, email)
        .post("/admin/settings/email/test", Admin, email_test);
    notifications::routes(r)
}
