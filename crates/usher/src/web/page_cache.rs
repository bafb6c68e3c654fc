//! Serving the public pages every visitor of a language and theme sees alike from
//! [`crate::ui::kept_pages`], made again only when the database changed.

use axum::response::{IntoResponse, Response};

use crate::clock::Timestamp;
use crate::state::AppState;
use crate::ui::kept_pages::TOKEN_MARK;
use crate::web::error::AppResult;
use crate::web::visitor::Visitor;

/// What a page handler made: a page to keep (rendered with [`TOKEN_MARK`] for the token), or
/// any other answer (a redirect, an error), passed on as it is.
pub enum Rendered {
    Keep {
        status: axum::http::StatusCode,
        html: String,
        /// When the page stops holding by itself (an invite's expiry).
        until: Option<Timestamp>,
    },
    Other(Response),
}

/// The visitor's page from the cache when it holds, else made by `render` and kept. `render`
/// gets the visitor with [`TOKEN_MARK`] for a token. Only pages that are the same for every
/// visitor of a language and theme go through here: `shared` is false for anyone signed in, or
/// for whatever else the handler must see for itself (a rate limit that applies).
pub async fn serve<F, Fut>(
    state: &AppState,
    visitor: &Visitor,
    headers: &axum::http::HeaderMap,
    shared: bool,
    render: F,
) -> AppResult<Response>
where
    F: FnOnce(Visitor) -> Fut,
    Fut: std::future::Future<Output = AppResult<Rendered>>,
{
    if !shared || visitor.admin.is_some() {
        return Ok(render(visitor.clone()).await?.into_response());
    }
    let key = crate::ui::kept_pages::PageKey {
        path: visitor.path.clone(),
        lang: visitor.lang,
        theme: visitor.theme.as_str(),
    };
    let gzip = crate::ui::assets::accepts_gzip(headers);
    // Read before the database is: a write while the page is made leaves it stale.
    let generation = state.store.generation();
    if let Some(kept) = state.pages.get(&key, generation, state.clock.now()) {
        return Ok(kept.respond(&visitor.csrf, gzip));
    }
    let marked = Visitor {
        csrf: TOKEN_MARK.to_string(),
        ..visitor.clone()
    };
    Ok(match render(marked).await? {
        Rendered::Other(res) => res,
        Rendered::Keep {
            status,
            html,
            until,
        } => state
            .pages
            .keep(key, status, &html, generation, until)
            .respond(&visitor.csrf, gzip),
    })
}

impl Rendered {
    /// A page that holds until the database changes.
    pub fn page(status: axum::http::StatusCode, html: axum::response::Html<String>) -> Self {
        Rendered::Keep {
            status,
            html: html.0,
            until: None,
        }
    }
}

/// A page not kept: sent as it was made.
impl IntoResponse for Rendered {
    fn into_response(self) -> Response {
        match self {
            Rendered::Keep { status, html, .. } => {
                (status, axum::response::Html(html)).into_response()
            }
            Rendered::Other(res) => res,
        }
    }
}
