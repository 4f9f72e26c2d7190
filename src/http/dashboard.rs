//! The dashboard: one HTML page at `/` and its assets at `/assets/{file}`, embedded in the
//! binary. The page signs in with an API token (kept in the browser's `sessionStorage`) and reads
//! everything through `/graphql` and `/graphql/ws`; the server only hands out these files.
//!
//! Files are looked up by exact name in a fixed table, so no path reaches the file system.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// An embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const MARKDOWN: &str = "text/markdown; charset=utf-8";
const SVG: &str = "image/svg+xml";

const INDEX: Asset = Asset {
    name: "index.html",
    content_type: HTML,
    body: include_bytes!("dashboard/index.html"),
};

/// What `/assets/{file}` serves.
const ASSETS: &[Asset] = &[
    Asset {
        name: "dashboard.css",
        content_type: CSS,
        body: include_bytes!("dashboard/dashboard.css"),
    },
    Asset {
        name: "dashboard.js",
        content_type: JS,
        body: include_bytes!("dashboard/dashboard.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: SVG,
        body: include_bytes!("dashboard/favicon.svg"),
    },
    Asset {
        name: "chart.umd.min.js",
        content_type: JS,
        body: include_bytes!("dashboard/vendor/chart.umd.min.js"),
    },
    Asset {
        name: "chart.js.LICENSE.md",
        content_type: MARKDOWN,
        body: include_bytes!("dashboard/vendor/chart.js.LICENSE.md"),
    },
    Asset {
        name: "graphql-ws.min.js",
        content_type: JS,
        body: include_bytes!("dashboard/vendor/graphql-ws.min.js"),
    },
    Asset {
        name: "graphql-ws.LICENSE.md",
        content_type: MARKDOWN,
        body: include_bytes!("dashboard/vendor/graphql-ws.LICENSE.md"),
    },
];

/// The page may load only its own files and talk only to its own origin (HTTP and WebSocket).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Strong validators, one per file (the index first), computed once.
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    std::iter::once(&INDEX)
        .chain(ASSETS)
        .map(|asset| {
            let digest = Sha256::digest(asset.body);
            HeaderValue::from_str(&format!("\"{}\"", &hex::encode(digest)[..20]))
                .expect("a hex ETag is a valid header value")
        })
        .collect()
});

fn serve(
    asset: &'static Asset,
    etag: &HeaderValue,
    cache: &'static str,
    request: &HeaderMap,
) -> Response {
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ETAG, etag.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    (headers, asset.body).into_response()
}

/// `GET /`: the dashboard page. Revalidated on every load, so a new binary's page shows at once.
pub async fn index(request: HeaderMap) -> Response {
    let mut response = serve(&INDEX, &ETAGS[0], "no-cache", &request);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    // A `?token=` sign-in link must not leak through the Referer header.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `GET /assets/{file}`: a file of the page, by exact name; 404 for any other name.
pub async fn asset(Path(file): Path<String>, request: HeaderMap) -> Response {
    match ASSETS.iter().position(|a| a.name == file) {
        Some(i) => serve(
            &ASSETS[i],
            &ETAGS[i + 1],
            "public, max-age=300, must-revalidate",
            &request,
        ),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response(),
    }
}
