//! The one place that knows every feature: it asks each for its routes and wraps them in the
//! middleware every response passes through. No feature imports this module.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::middleware;

use crate::state::AppState;
use crate::web::api::Endpoint;
use crate::web::visitor::{self, Visitor};
use crate::web::{RouteInfo, Routes, openapi};

/// Every route usher serves, with who may call it.
pub fn route_table() -> Vec<RouteInfo> {
    routes().into_parts().1
}

fn routes() -> Routes {
    let r = crate::home::routes(Routes::new());
    let r = crate::auth::routes(r);
    let r = crate::servers::routes(r);
    let r = crate::invites::routes(r);
    let r = crate::requests::routes(r);
    let r = crate::members::routes::routes(r);
    let r = crate::profiles::routes(r);
    let r = crate::onboarding::routes(r);
    let r = crate::settings::routes(r);
    let r = crate::audit::routes(r);
    let r = crate::api_keys::routes(r);
    let r = crate::telegram::routes(r);
    openapi(r)
}

/// Every API endpoint the features register, as the OpenAPI document lists them.
pub fn endpoints() -> Vec<Endpoint> {
    routes().endpoints().to_vec()
}

/// The OpenAPI document as committed in `docs/openapi.json`.
pub fn openapi_text() -> String {
    openapi::document_text(&endpoints())
}

/// The document and the docs page, made from the endpoints registered before them.
fn openapi(r: Routes) -> Routes {
    use crate::web::Access::Public;
    let endpoints: Arc<[Endpoint]> = r.endpoints().into();
    // Made on the first request rather than at start: building it takes several megabytes for a
    // moment, which the allocator would then keep for the life of an otherwise idle process.
    let text: Arc<OnceLock<Bytes>> = Arc::default();
    let listed = endpoints.clone();
    r.get("/api/v1/openapi.json", Public, move || {
        let text = text.clone();
        let listed = listed.clone();
        async move { openapi::serve(text.get_or_init(|| openapi::document_text(&listed).into())) }
    })
    .get(
        "/api/docs",
        Public,
        move |State(state): State<AppState>, visitor: Visitor| {
            let endpoints = endpoints.clone();
            async move { openapi::docs(&state, &visitor, &endpoints) }
        },
    )
}

pub fn router(state: AppState) -> Router {
    let (router, _) = routes().into_parts();
    router
        .fallback(crate::web::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            visitor::visitor,
        ))
        // Pages are compressed for each request: the fastest level costs a fraction of the
        // default and loses a few percent (assets come compressed at the best level already).
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::compression::CompressionLevel::Fastest),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::metrics::track,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::security_headers,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            crate::web::panic_response,
        ))
        .with_state(state)
}
