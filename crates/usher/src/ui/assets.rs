//! Static assets are embedded in the binary and served under fingerprinted names, so browsers can
//! cache them for a year and still see a new version at once. They are gzipped once at start.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};

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
        "passkeys.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/passkeys.js"),
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
    /// served name → the file
    files: HashMap<String, Asset>,
}

#[derive(Debug)]
pub struct Asset {
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// Compressed once at start, as tightly as gzip goes, when that makes it smaller.
    pub gzip: Option<Vec<u8>>,
}

fn gzip_best(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).ok()?;
    let out = encoder.finish().ok()?;
    (out.len() < bytes.len()).then_some(out)
}

/// Whether `Accept-Encoding` allows gzip (and does not refuse it with `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
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
            files.insert(
                served,
                Asset {
                    content_type,
                    bytes,
                    gzip: gzip_best(bytes),
                },
            );
        }
        Assets { names, files }
    }

    /// The file served under `served` (a fingerprinted name).
    pub fn file(&self, served: &str) -> Option<&Asset> {
        self.files.get(served)
    }

    /// The URL path of an asset, e.g. `/assets/app.3f2a9c1b.css`.
    pub fn url(&self, name: &str) -> String {
        match self.names.get(name) {
            Some(served) => format!("/assets/{served}"),
            None => format!("/assets/{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn gzip_is_offered_only_when_the_browser_takes_it() {
        assert!(accepts_gzip(&accept("gzip, deflate, br, zstd")));
        assert!(accepts_gzip(&accept("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&accept("*")));
        assert!(!accepts_gzip(&accept("gzip;q=0, br")));
        assert!(!accepts_gzip(&accept("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn every_text_asset_is_precompressed_and_unpacks_to_itself() {
        use std::io::Read;
        let assets = Assets::load();
        for (name, _, bytes) in FILES {
            let served = assets.url(name).trim_start_matches("/assets/").to_string();
            let gzip = assets.files[&served].gzip.as_ref().expect("compressible");
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&gzip[..])
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(&out[..], *bytes, "{name}");
        }
    }
}
