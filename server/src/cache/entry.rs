//! One cached rendering and its compressed copies: how a response is kept, weighed and
//! compressed, and how it is served again (304 included).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;

use crate::assets::Encoding;

/// What an entry costs besides its bodies: key, header maps, bookkeeping (an estimate, on
/// the high side).
const ENTRY_OVERHEAD: usize = 1024;

/// The ETag suffix of a compressed copy: each encoding has its own validator.
fn etag_suffix(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Brotli => "-br",
        Encoding::Gzip => "-gz",
        Encoding::Identity => "",
    }
}

/// Whether a body of this type is worth compressing.
fn compressible(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("text/")
                || t.contains("json")
                || t.contains("xml")
                || t.contains("javascript")
        })
}

fn compress(encoding: Encoding, body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    match encoding {
        Encoding::Identity => None,
        Encoding::Brotli => {
            let mut out = Vec::with_capacity(body.len() / 4);
            // Quality 9: paid once per change, saved on every reader's download.
            let params = brotli::enc::BrotliEncoderParams {
                quality: 9,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
            Some(Bytes::from(out))
        }
        Encoding::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 3),
                flate2::Compression::best(),
            );
            enc.write_all(body).ok()?;
            enc.finish().ok().map(Bytes::from)
        }
    }
}

/// A rendered response, ready to serve again.
#[derive(Clone, Debug)]
pub(super) struct Cached {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    /// What the layers outside keep reading from a response (the matched route's label).
    pub(super) extensions: axum::http::Extensions,
    pub(super) body: Bytes,
    pub(super) etag: HeaderValue,
}

/// One rendering and its compressed copies.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) plain: Cached,
    pub(super) br: Option<Cached>,
    pub(super) gz: Option<Cached>,
    /// When its rendering began: what its age is counted from.
    pub(super) rendered: Instant,
    /// Whether a background rendering to replace it was started.
    pub(super) refreshing: AtomicBool,
}

impl Entry {
    /// Compresses `plain`, rendered from `rendered` on, both ways (blocking: run it on the
    /// blocking pool). When `previous` (the entry it replaces) holds the very same rendering,
    /// its copies are taken as they are: a page whose data did not change is not compressed
    /// again every [`MAX_AGE`](super::MAX_AGE).
    pub(super) fn make(plain: Cached, rendered: Instant, previous: Option<&Entry>) -> Entry {
        let same = previous.filter(|p| p.plain.etag == plain.etag && p.plain.body == plain.body);
        if let Some(previous) = same {
            return Entry {
                br: previous.br.clone(),
                gz: previous.gz.clone(),
                plain,
                rendered,
                refreshing: AtomicBool::new(false),
            };
        }
        let worth = compressible(&plain.headers) && plain.body.len() >= 256;
        let copy = |encoding| worth.then(|| compressed(&plain, encoding)).flatten();
        Entry {
            br: copy(Encoding::Brotli),
            gz: copy(Encoding::Gzip),
            plain,
            rendered,
            refreshing: AtomicBool::new(false),
        }
    }

    pub(super) fn variant(&self, encoding: Encoding) -> &Cached {
        let copy = match encoding {
            Encoding::Identity => None,
            Encoding::Brotli => self.br.as_ref(),
            Encoding::Gzip => self.gz.as_ref(),
        };
        copy.unwrap_or(&self.plain)
    }

    /// What the entry holds in memory, in bytes (what the cache's ceiling counts).
    pub(super) fn weight(&self) -> u32 {
        let size = |c: &Cached| {
            c.body.len()
                + c.headers
                    .iter()
                    .map(|(k, v)| k.as_str().len() + v.len() + 32)
                    .sum::<usize>()
        };
        let total = ENTRY_OVERHEAD
            + size(&self.plain)
            + self.br.as_ref().map_or(0, size)
            + self.gz.as_ref().map_or(0, size);
        u32::try_from(total).unwrap_or(u32::MAX)
    }
}

/// `plain` compressed with `encoding`, its headers and ETag adjusted.
fn compressed(plain: &Cached, encoding: Encoding) -> Option<Cached> {
    let body = compress(encoding, &plain.body)?;
    let mut headers = plain.headers.clone();
    if let Some(v) = encoding.header() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(v));
    }
    headers.remove(header::CONTENT_LENGTH);
    let tag = plain.etag.to_str().unwrap_or("\"0\"").trim_end_matches('"');
    let etag = HeaderValue::from_str(&format!("{tag}{}\"", etag_suffix(encoding)))
        .unwrap_or_else(|_| plain.etag.clone());
    headers.insert(header::ETAG, etag.clone());
    Some(Cached {
        status: plain.status,
        extensions: plain.extensions.clone(),
        headers,
        body,
        etag,
    })
}

/// The response for `cached`, given the request's method and (conditional) headers.
pub(super) fn serve(cached: &Cached, method: &Method, request: &HeaderMap) -> Response {
    let last_modified = cached.headers.get(header::LAST_MODIFIED);
    if crate::conditional::is_not_modified(request, &cached.etag, last_modified) {
        let mut r = crate::conditional::not_modified(&cached.headers);
        *r.extensions_mut() = cached.extensions.clone();
        return r;
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(cached.body.clone())
    };
    let mut r = Response::new(body);
    *r.extensions_mut() = cached.extensions.clone();
    *r.status_mut() = cached.status;
    *r.headers_mut() = cached.headers.clone();
    r
}
