//! Public pages kept rendered and compressed between views, so a friend opening an invite link
//! costs neither a database statement, nor a template, nor gzip (`web::page_cache` serves them).
//!
//! A page is kept with the database generation it was read at ([`Store::generation`]): any
//! write, by this process at once or by another within a tenth of a second, makes it stale, and
//! the next view renders it again. A page can also say until when it holds by itself (an
//! invite's expiry). Only what every visitor with the same language and theme sees is kept; the
//! visitor's CSRF token, the one thing that differs, is put in at each view, into the HTML and
//! into the gzip stream alike (the parts around it were compressed once, each ending on a byte
//! boundary, and the token goes between them as a stored block).
//!
//! [`Store::generation`]: crate::store::Store::generation

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::{Compress, Compression, FlushCompress};

use crate::clock::Timestamp;

/// Pages kept at most; past that the cache starts afresh (an invite per key, two languages,
/// three themes: a few hundred is every live invite of a large server).
const MAX_PAGES: usize = 512;

/// Stands where the visitor's CSRF token goes while a page is rendered for keeping: letters
/// and digits, which HTML escaping leaves alone, of a length no real token has.
pub const TOKEN_MARK: &str = "usherCsrfMark7f3a9c0e61b24d58";

/// What a kept page is found by: its path and what changes it per visitor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub path: String,
    pub lang: &'static str,
    pub theme: &'static str,
}

/// One page, rendered with [`TOKEN_MARK`] for the token.
#[derive(Debug)]
pub struct KeptPage {
    status: StatusCode,
    generation: u64,
    fresh_until: Option<Timestamp>,
    /// The HTML around each place a token goes.
    parts: Vec<Box<[u8]>>,
    /// Each part as raw deflate ending on a byte boundary; the last one ends the stream.
    deflated: Vec<Box<[u8]>>,
}

#[derive(Debug, Default)]
pub struct PageCache {
    pages: Mutex<HashMap<PageKey, Arc<KeptPage>>>,
}

impl PageCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PageKey, Arc<KeptPage>>> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The page kept for `key`, if it was read at `generation` and holds at `now`.
    pub fn get(&self, key: &PageKey, generation: u64, now: Timestamp) -> Option<Arc<KeptPage>> {
        let page = self.lock().get(key)?.clone();
        let holds = page.generation == generation && page.fresh_until.is_none_or(|t| now < t);
        holds.then_some(page)
    }

    /// Keeps `html`, rendered with [`TOKEN_MARK`] from what the database held at
    /// `generation` (read before rendering: a write meanwhile makes it stale at once).
    pub fn keep(
        &self,
        key: PageKey,
        status: StatusCode,
        html: &str,
        generation: u64,
        fresh_until: Option<Timestamp>,
    ) -> Arc<KeptPage> {
        let page = Arc::new(KeptPage::new(status, html, generation, fresh_until));
        let mut pages = self.lock();
        if pages.len() >= MAX_PAGES {
            pages.clear();
        }
        pages.insert(key, page.clone());
        page
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Raw deflate of `data` at the fastest level, flushed to a byte boundary (or ended).
fn deflate(data: &[u8], last: bool) -> Box<[u8]> {
    let mut c = Compress::new(Compression::fast(), false);
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        let consumed = c.total_in() as usize;
        out.reserve(1024);
        let status = c
            .compress_vec(&data[consumed..], &mut out, flush)
            .expect("deflate into memory");
        let done = c.total_in() as usize == data.len()
            && (if last {
                status == flate2::Status::StreamEnd
            } else {
                out.capacity() > out.len()
            });
        if done {
            return out.into_boxed_slice();
        }
    }
}

impl KeptPage {
    fn new(
        status: StatusCode,
        html: &str,
        generation: u64,
        fresh_until: Option<Timestamp>,
    ) -> Self {
        let parts: Vec<Box<[u8]>> = html
            .split(TOKEN_MARK)
            .map(|p| p.as_bytes().into())
            .collect();
        let last = parts.len() - 1;
        let deflated = parts
            .iter()
            .enumerate()
            .map(|(i, p)| deflate(p, i == last))
            .collect();
        KeptPage {
            status,
            generation,
            fresh_until,
            parts,
            deflated,
        }
    }

    /// The page for a visitor whose CSRF token is `token`, gzipped when the browser takes it.
    pub fn respond(&self, token: &str, gzip: bool) -> Response {
        let body = if gzip {
            self.gzip(token.as_bytes())
        } else {
            self.html(token.as_bytes())
        };
        let mut res = (self.status, body).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if gzip {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        res
    }

    fn html(&self, token: &[u8]) -> Vec<u8> {
        let size = self.parts.iter().map(|p| p.len()).sum::<usize>()
            + token.len() * (self.parts.len() - 1);
        let mut out = Vec::with_capacity(size);
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(token);
            }
            out.extend_from_slice(part);
        }
        out
    }

    /// A gzip member: the header, the parts' deflate with the token between them as stored
    /// blocks, then the CRC-32 and length of the whole HTML.
    fn gzip(&self, token: &[u8]) -> Vec<u8> {
        assert!(
            token.len() <= u16::MAX as usize,
            "a token fits a stored block"
        );
        let size = 18
            + self.deflated.iter().map(|d| d.len()).sum::<usize>()
            + (token.len() + 5) * (self.deflated.len() - 1);
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let mut crc = crc32fast::Hasher::new();
        let mut total = 0usize;
        for (i, (part, deflated)) in self.parts.iter().zip(&self.deflated).enumerate() {
            if i > 0 {
                // A stored block, not the last: BFINAL 0, BTYPE 00, padded to the byte.
                let len = token.len() as u16;
                out.push(0);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&(!len).to_le_bytes());
                out.extend_from_slice(token);
                crc.update(token);
                total += token.len();
            }
            out.extend_from_slice(deflated);
            crc.update(part);
            total += part.len();
        }
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> String {
        let mut out = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut out)
            .expect("a valid gzip stream, CRC and length checked");
        out
    }

    #[test]
    fn the_token_goes_into_the_html_and_the_gzip_stream_alike() {
        let html = format!(
            "<!doctype html><form><input name=csrf value=\"{TOKEN_MARK}\"></form>{}<form><input value=\"{TOKEN_MARK}\"></form><p>end</p>",
            "Join Demo Plex. ".repeat(400)
        );
        let page = KeptPage::new(StatusCode::OK, &html, 1, None);
        let want = html.replace(TOKEN_MARK, "tok123");
        assert_eq!(String::from_utf8(page.html(b"tok123")).unwrap(), want);
        let gz = page.gzip(b"tok123");
        assert_eq!(gunzip(&gz), want);
        assert!(gz.len() < want.len() / 5, "still compressed: {}", gz.len());
        // Another visitor, another token, the same compressed parts.
        assert_eq!(
            gunzip(&page.gzip(b"other")),
            html.replace(TOKEN_MARK, "other")
        );
        // A page with no form at all.
        let plain = KeptPage::new(StatusCode::OK, "<p>no forms</p>", 1, None);
        assert_eq!(gunzip(&plain.gzip(b"x")), "<p>no forms</p>");
    }

    #[test]
    fn a_kept_page_holds_while_nothing_was_written_and_until_its_own_end() {
        let cache = PageCache::default();
        let key = PageKey {
            path: "/i/ABC".into(),
            lang: "en",
            theme: "auto",
        };
        cache.keep(key.clone(), StatusCode::OK, "<p>x</p>", 7, Some(100));
        assert!(cache.get(&key, 7, 99).is_some());
        assert!(cache.get(&key, 8, 99).is_none(), "a write since");
        assert!(cache.get(&key, 7, 100).is_none(), "its time is up");
        let other = PageKey {
            lang: "es",
            ..key.clone()
        };
        assert!(cache.get(&other, 7, 1).is_none());
    }
}
