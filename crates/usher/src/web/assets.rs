//! Static assets are embedded in the binary and served under fingerprinted names, so browsers can
//! cache them for a year and still see a new version at once.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::web::AppState;

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/icon.svg"),
    ),
];

#[derive(Debug)]
pub struct Assets {
    /// logical name → served name (`app.css` → `app.3f2a9c1b.css`)
    names: HashMap<&'static str, String>,
    /// served name → (content type, bytes)
    files: HashMap<String, (&'static str, &'static [u8])>,
}

impl Assets {
    pub fn load() -> Self {
        let mut names = HashMap::new();
        let mut files = HashMap::new();
        for (name, content_type, bytes) in FILES {
            let hash = &crate::crypto::sha256_hex(bytes)[..10];
            let served = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            names.insert(*name, served.clone());
            files.insert(served, (*content_type, *bytes));
        }
        Assets { names, files }
    }

    /// The URL path of an asset, e.g. `/assets/app.3f2a9c1b.css`.
    pub fn url(&self, name: &str) -> String {
        match self.names.get(name) {
            Some(served) => format!("/assets/{served}"),
            None => format!("/assets/{name}"),
        }
    }
}

pub async fn serve(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match state.assets.files.get(&name) {
        Some((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
