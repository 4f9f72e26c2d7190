//! `GET /export/{leads,submissions}.{csv,ndjson}`: the streamed exports of `service::export`,
//! behind the same bearer tokens, viewer cache and rate limit as `/graphql`, or a signed download
//! link (`link=`, made by `POST /export/links`: `service::export::links`) in place of the token.

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use futures::StreamExt;

use crate::{
    AppState,
    error::AppError,
    graphql::guard::LEAD_USERS,
    service::{
        audit::Actor,
        export::{self, Dataset, Format, links},
        users::{self, Viewer},
    },
};

/// An error as JSON, in the shape of a GraphQL error (`message`, `extensions.code`).
fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn app_error(error: &AppError) -> Response {
    let status = match error {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadUserInput(_) => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    refusal(status, error.code(), error.message())
}

pub async fn leads_csv(state: State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    serve(state, headers, uri, Dataset::Leads, Format::Csv).await
}

pub async fn leads_ndjson(state: State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    serve(state, headers, uri, Dataset::Leads, Format::Ndjson).await
}

pub async fn submissions_csv(state: State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    serve(state, headers, uri, Dataset::Submissions, Format::Csv).await
}

pub async fn submissions_ndjson(state: State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    serve(state, headers, uri, Dataset::Submissions, Format::Ndjson).await
}

/// The caller of an export or of a link request: the bearer token's user, refused as the API
/// refuses (401 without a valid token, 403 for roles that do not read leads, 429 over the rate).
async fn bearer_viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, Box<Response>> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(viewer) = super::viewer_for(state, authorization).await else {
        return Err(Box::new(refusal(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "send an API token: Authorization: Bearer <token>",
        )));
    };
    allowed(state, viewer)
}

/// The roles and the rate limit, for a viewer however it was authenticated.
fn allowed(state: &AppState, viewer: Viewer) -> Result<Viewer, Box<Response>> {
    if !viewer.has_any(LEAD_USERS) {
        return Err(Box::new(refusal(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "your roles do not allow this operation",
        )));
    }
    if !state.limiter.allow(viewer.user_id) {
        crate::metrics::count("leadsync_rate_limited_total", &[], 1);
        let mut response = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests for this API token; slow down",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return Err(Box::new(response));
    }
    Ok(viewer)
}

/// The user of a signed download link (`link=`), checked again as a token's user is: a link that
/// does not verify is 403 (its message says why), a user who can no longer sign in (disabled, or
/// every token revoked) 401, roles that no longer export 403.
async fn link_viewer(
    state: &AppState,
    link: &str,
    path: &str,
    params: &[(String, String)],
) -> Result<Viewer, Box<Response>> {
    let user_id = state
        .export_links
        .verify(link, path, params, chrono::Utc::now())
        .map_err(|refused| {
            Box::new(refusal(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                refused.message(),
            ))
        })?;
    match users::viewer_by_id(&state.db, user_id).await {
        Ok(Some(viewer)) => allowed(state, viewer),
        Ok(None) => Err(Box::new(refusal(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "the user of this download link can no longer sign in",
        ))),
        Err(e) => Err(Box::new(app_error(&e))),
    }
}

async fn serve(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    dataset: Dataset,
    format: Format,
) -> Response {
    let mut params: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let mut links: Vec<String> = Vec::new();
    params.retain(|(key, value)| {
        let link = key == links::PARAMETER;
        if link {
            links.push(value.clone());
        }
        !link
    });
    // A link is the credential when there is one (a browser's download sends no header).
    let viewer = match links.as_slice() {
        [] => bearer_viewer(&state, &headers).await,
        [link] => link_viewer(&state, link, links::path_of(dataset, format), &params).await,
        _ => Err(Box::new(app_error(&AppError::bad_input(
            "link is given twice",
        )))),
    };
    let viewer = match viewer {
        Ok(viewer) => viewer,
        Err(response) => return *response,
    };
    let request = match export::parse(dataset, format, &params) {
        Ok(request) => request,
        Err(e) => return app_error(&e),
    };
    let started = match export::start(&state.db, request, Actor::User(viewer.user_id)).await {
        Ok(started) => started,
        Err(e) => return app_error(&e),
    };
    // An error item aborts the body: the chunked response is cut without its last chunk, which
    // clients report as an incomplete transfer (the error itself is logged by the service).
    let body = Body::from_stream(started.body.map(|chunk| {
        chunk
            .map(Bytes::from)
            .map_err(|e| std::io::Error::other(e.code()))
    }));
    let disposition = format!("attachment; filename=\"{}\"", started.filename);
    let mut response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, started.content_type),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The body of `POST /export/links`: an export's path and its query string (without `?`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    path: String,
    #[serde(default)]
    query: String,
}

/// The longest query a link is made for (a search term is at most 200 characters).
const MAX_LINK_QUERY: usize = 4096;

/// `POST /export/links` (bearer token, JSON `{"path": "/export/leads.csv", "query":
/// "source=MANUAL&bom=true"}`): a download link for that export with exactly that query, valid
/// for `links::VALID_FOR`: `{"url": "/export/leads.csv?source=MANUAL&bom=true&link=…",
/// "expiresAt": "…"}`. The query is checked as the export checks it, so a bad filter is refused
/// here (400) rather than when the link is used.
pub async fn create_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let viewer = match bearer_viewer(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(response) => return *response,
    };
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "send a JSON body (Content-Type: application/json): {\"path\": \"/export/leads.csv\", \"query\": \"...\"}",
        );
    }
    let request: LinkRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the body must be a JSON object {\"path\": \"/export/leads.csv\", \"query\": \"source=MANUAL\"} (query optional)",
            );
        }
    };
    let Some((dataset, format)) = links::export_at(&request.path) else {
        return app_error(&AppError::bad_input(format!(
            "path: {:?} is not an export (one of {})",
            request.path,
            links::paths().join(", ")
        )));
    };
    let query = request.query.strip_prefix('?').unwrap_or(&request.query);
    if query.len() > MAX_LINK_QUERY {
        return app_error(&AppError::bad_input(format!(
            "query: longer than {MAX_LINK_QUERY} bytes"
        )));
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    // The export's own checks (names, values, repeats; `link` is not one of its parameters).
    if let Err(e) = export::parse(dataset, format, &params) {
        return app_error(&e);
    }
    let expires = chrono::Utc::now()
        + chrono::TimeDelta::from_std(links::VALID_FOR).expect("a short duration");
    let path = links::path_of(dataset, format);
    let link = state
        .export_links
        .sign(viewer.user_id, path, &params, expires);
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in &params {
        serializer.append_pair(key, value);
    }
    serializer.append_pair(links::PARAMETER, &link);
    let body = serde_json::json!({
        "url": format!("{path}?{}", serializer.finish()),
        "expiresAt": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}
