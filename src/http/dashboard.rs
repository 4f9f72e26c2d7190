//! The browser pages: the dashboard at `/`, the console at `/console/`, and their files at
//! `/assets/{file}`, embedded in the binary. Both pages sign in with an API token (kept in the
//! browser's `sessionStorage`) and read everything through `/graphql` and `/graphql/ws`; the
//! server only hands out these files.
//!
//! Files are looked up by exact name in a fixed table, so no path reaches the file system. A debug
//! build started with `LEADSYNC_DEV_ASSETS=<dir>` (the `src/http` directory) reads the same
//! table's files from there on every request instead, so the pages can be edited without a
//! rebuild; release builds ignore it.

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
    /// Where the file lives under `src/http` (for `LEADSYNC_DEV_ASSETS`).
    path: &'static str,
}

/// An embedded file of `src/http/dashboard/{path}`.
macro_rules! asset {
    ($name:expr, $content_type:expr, $path:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("dashboard/", $path)),
            path: concat!("dashboard/", $path),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const MARKDOWN: &str = "text/markdown; charset=utf-8";
const SVG: &str = "image/svg+xml";

const INDEX: Asset = asset!("index.html", HTML, "index.html");
const CONSOLE: Asset = asset!("console.html", HTML, "console.html");

/// What `/assets/{file}` serves.
const ASSETS: &[Asset] = &[
    asset!("dashboard.css", CSS, "dashboard.css"),
    asset!("dashboard.js", JS, "dashboard.js"),
    asset!("favicon.svg", SVG, "favicon.svg"),
    asset!("chart.umd.min.js", JS, "vendor/chart.umd.min.js"),
    asset!(
        "chart.js.LICENSE.md",
        MARKDOWN,
        "vendor/chart.js.LICENSE.md"
    ),
    asset!("graphql-ws.min.js", JS, "vendor/graphql-ws.min.js"),
    asset!(
        "graphql-ws.LICENSE.md",
        MARKDOWN,
        "vendor/graphql-ws.LICENSE.md"
    ),
    asset!("console.css", CSS, "console.css"),
    asset!("console-app.js", JS, "console-app.js"),
    asset!("console-lib.js", JS, "console-lib.js"),
    asset!("console-strategies.js", JS, "console-strategies.js"),
    asset!("console-mappings.js", JS, "console-mappings.js"),
    asset!("console-profiles.js", JS, "console-profiles.js"),
    asset!("console-leads.js", JS, "console-leads.js"),
    asset!("console-submissions.js", JS, "console-submissions.js"),
    asset!("console-settings.js", JS, "console-settings.js"),
    asset!("console-users.js", JS, "console-users.js"),
    asset!("console-webhooks.js", JS, "console-webhooks.js"),
    asset!("preact.module.js", JS, "vendor/preact.module.js"),
    asset!(
        "preact-hooks.module.js",
        JS,
        "vendor/preact-hooks.module.js"
    ),
    asset!("preact.LICENSE.md", MARKDOWN, "vendor/preact.LICENSE.md"),
    asset!("htm.module.js", JS, "vendor/htm.module.js"),
    asset!("htm.LICENSE.md", MARKDOWN, "vendor/htm.LICENSE.md"),
];

/// The page may load only its own files and talk only to its own origin (HTTP and WebSocket).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Strong validators, one per file (the index first), computed once.
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    [&INDEX, &CONSOLE]
        .into_iter()
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
    if let Some(body) = dev_file(asset) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.remove(header::ETAG);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        return (headers, body).into_response();
    }
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    (headers, asset.body).into_response()
}

/// The file as it is on disk now, in a debug build started with `LEADSYNC_DEV_ASSETS`.
fn dev_file(asset: &Asset) -> Option<Vec<u8>> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let dir = std::env::var_os("LEADSYNC_DEV_ASSETS")?;
    std::fs::read(std::path::Path::new(&dir).join(asset.path)).ok()
}

/// `GET /`: the dashboard page. Revalidated on every load, so a new binary's page shows at once.
pub async fn index(request: HeaderMap) -> Response {
    page(&INDEX, &ETAGS[0], &request)
}

/// `GET /console/`: the console, one page that routes on the URL's fragment (`#/leads`, ...).
pub async fn console(request: HeaderMap) -> Response {
    page(&CONSOLE, &ETAGS[1], &request)
}

fn page(asset: &'static Asset, etag: &HeaderValue, request: &HeaderMap) -> Response {
    let mut response = serve(asset, etag, "no-cache", request);
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

/// `GET /favicon.ico`: browsers ask every page's server for it, linked or not (the OAuth callback
/// page, a bookmark); answering with the page's icon keeps their consoles free of 404s.
pub async fn favicon(request: HeaderMap) -> Response {
    asset(Path("favicon.svg".to_owned()), request).await
}

/// `GET /assets/{file}`: a file of the page, by exact name; 404 for any other name.
pub async fn asset(Path(file): Path<String>, request: HeaderMap) -> Response {
    match ASSETS.iter().position(|a| a.name == file) {
        Some(i) => serve(
            &ASSETS[i],
            &ETAGS[i + 2],
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
