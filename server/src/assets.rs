//! The site's assets (wasm, JS glue, CSS), embedded in the binary at build time so `vigie`
//! runs from any directory. Each is served with a strong ETag (304 on a match) and, when the
//! browser accepts it, pre-compressed with brotli or gzip once and kept in memory.
//!
//! `LEPTOS_SITE_ROOT`, when set, serves `<root>/pkg` from disk instead (development).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{LazyLock, Mutex};

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "../target/site/pkg"]
struct Pkg;

/// The content coding a reader gets; also used by the page cache (crate::cache).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    pub(crate) fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }

    /// The best encoding the client accepts (`q=0` excludes one).
    pub(crate) fn negotiate(headers: &HeaderMap) -> Self {
        let accept = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let accepts = |name: &str| {
            accept.split(',').any(|part| {
                let mut it = part.split(';');
                let token = it.next().unwrap_or("").trim();
                let refused =
                    it.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                token.eq_ignore_ascii_case(name) && !refused
            })
        };
        if accepts("br") {
            Encoding::Brotli
        } else if accepts("gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }
}

struct Asset {
    bytes: Cow<'static, [u8]>,
    etag: String,
}

fn load(path: &str) -> Option<Asset> {
    // Pre-compressed siblings are bodies of their originals, never assets of their own.
    if path.split('/').any(|seg| seg == ".." || seg.is_empty())
        || path.ends_with(".br")
        || path.ends_with(".gz")
    {
        return None;
    }
    if let Ok(root) = std::env::var("LEPTOS_SITE_ROOT") {
        let bytes = std::fs::read(std::path::Path::new(&root).join("pkg").join(path)).ok()?;
        let etag = format!("\"{:x}-{}\"", fnv1a(&bytes), bytes.len());
        return Some(Asset {
            bytes: Cow::Owned(bytes),
            etag,
        });
    }
    let file = Pkg::get(path)?;
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    Some(Asset {
        bytes: file.data,
        etag,
    })
}

/// A quick content hash for development-mode ETags (embedded files use their SHA-256).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn compressible(path: &str) -> bool {
    [
        ".js", ".wasm", ".css", ".svg", ".json", ".txt", ".html", ".map",
    ]
    .iter()
    .any(|ext| path.ends_with(ext))
}

type Cache = HashMap<(String, String, Encoding), axum::body::Bytes>;
static COMPRESSED: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn compress(bytes: &[u8], encoding: Encoding) -> std::io::Result<Vec<u8>> {
    match encoding {
        Encoding::Brotli => {
            let mut out = Vec::with_capacity(bytes.len() / 3);
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
            Ok(out)
        }
        Encoding::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(bytes)?;
            enc.finish()
        }
        Encoding::Identity => Ok(bytes.to_vec()),
    }
}

/// The body of `path` in `encoding`: the copy `make build` pre-compressed next to it when
/// there is one, else compressed here once per content version.
async fn encoded(path: &str, asset: &Asset, encoding: Encoding) -> Option<axum::body::Bytes> {
    let ext = match encoding {
        Encoding::Brotli => "br",
        Encoding::Gzip => "gz",
        Encoding::Identity => return None,
    };
    if std::env::var_os("LEPTOS_SITE_ROOT").is_none() {
        if let Some(file) = Pkg::get(&format!("{path}.{ext}")) {
            return Some(axum::body::Bytes::from(file.data.into_owned()));
        }
    }
    let key = (path.to_owned(), asset.etag.clone(), encoding);
    if let Some(hit) = COMPRESSED.lock().ok()?.get(&key) {
        return Some(hit.clone());
    }
    let input = asset.bytes.to_vec();
    let out = tokio::task::spawn_blocking(move || compress(&input, encoding))
        .await
        .ok()?
        .ok()?;
    let out = axum::body::Bytes::from(out);
    COMPRESSED.lock().ok()?.insert(key, out.clone());
    Some(out)
}

/// Compresses every embedded asset that has no pre-compressed copy, ahead of the first visitor.
pub async fn warm() {
    for path in Pkg::iter().filter(|p| !p.ends_with(".br") && !p.ends_with(".gz")) {
        if let Some(asset) = load(&path).filter(|_| compressible(&path)) {
            for encoding in [Encoding::Brotli, Encoding::Gzip] {
                let _ = encoded(&path, &asset, encoding).await;
            }
        }
    }
}

/// `GET /pkg/{*path}`.
pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = load(&path) else {
        return (StatusCode::NOT_FOUND, "asset not found").into_response();
    };
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let etag = HeaderValue::from_str(&asset.etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let common = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, no-cache"),
        ),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if crate::conditional::none_match(headers.get(header::IF_NONE_MATCH), &etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let encoding = if compressible(&path) {
        Encoding::negotiate(&headers)
    } else {
        Encoding::Identity
    };
    let (body, encoding) = match encoding {
        Encoding::Identity => (
            axum::body::Bytes::from(asset.bytes.to_vec()),
            Encoding::Identity,
        ),
        enc => match encoded(&path, &asset, enc).await {
            Some(b) => (b, enc),
            None => (
                axum::body::Bytes::from(asset.bytes.to_vec()),
                Encoding::Identity,
            ),
        },
    };
    let mut response = (StatusCode::OK, common, Body::from(body)).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.essence_str()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(enc) = encoding.header() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    response
}
